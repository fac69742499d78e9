-- @table One row per ICU stay: the MELD and MELD-Na scores of the first ICU day.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column meld_initial: MELD (Kamath 2001 as adopted by UNOS): 10 x (0.957 ln(creatinine) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643), rounded to one decimal before x 10, capped at 40.
-- @column meld: MELD-Na: meld_initial + 1.32 x (137 - Na) - 0.033 x meld_initial x (137 - Na) when meld_initial > 11, sodium bounded to 125-137 mEq/L; else meld_initial.
-- @column rrt: 1 if renal replacement therapy was documented on the first day (creatinine then counts as 4.0).
-- @column creatinine_max: Highest first-day creatinine, mg/dL.
-- @column bilirubin_total_max: Highest first-day total bilirubin, mg/dL.
-- @column inr_max: Highest first-day INR.
-- @column sodium_min: Lowest first-day sodium, mEq/L.
--
-- Definition: Kamath PS, et al. A model to predict survival in patients with end-stage
-- liver disease. Hepatology 2001;33:464-70, with the UNOS conventions (values below 1.0
-- set to 1.0; creatinine capped at 4.0, and 4.0 under dialysis), and MELD-Na of Kim WR,
-- et al. N Engl J Med 2008;359:1018-26 as adopted by OPTN in 2016. Missing values count
-- as normal (1.0, or sodium 137). Labs from mimiciv_derived.first_day_lab.
WITH inputs AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id,
        coalesce(r.dialysis_present, 0) AS rrt,
        l.creatinine_max, l.bilirubin_total_max, l.inr_max, l.sodium_min
    FROM mimiciv_icu.icustays AS icu
    LEFT JOIN mimiciv_derived.first_day_lab AS l ON l.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_rrt AS r ON r.stay_id = icu.stay_id
),
bounded AS (
    SELECT
        *,
        CASE WHEN rrt = 1 THEN 4.0 ELSE least(greatest(coalesce(creatinine_max, 1.0), 1.0), 4.0) END AS cr,
        greatest(coalesce(bilirubin_total_max, 1.0), 1.0) AS bili,
        greatest(coalesce(inr_max, 1.0), 1.0) AS inr,
        137 - least(greatest(coalesce(sodium_min, 137), 125), 137) AS na_deficit
    FROM inputs
),
initial AS (
    SELECT
        *,
        least(10 * round(0.957 * ln(cr) + 0.378 * ln(bili) + 1.120 * ln(inr) + 0.643, 1), 40) AS meld_initial
    FROM bounded
)
SELECT
    subject_id,
    hadm_id,
    stay_id,
    meld_initial,
    CASE WHEN meld_initial > 11
        THEN meld_initial + 1.32 * na_deficit - 0.033 * meld_initial * na_deficit
        ELSE meld_initial
    END AS meld,
    rrt,
    creatinine_max,
    bilirubin_total_max,
    inr_max,
    sodium_min
FROM initial
