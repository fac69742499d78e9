-- @table One row per adult hospital admission: an estimate of the patient's baseline (pre-illness) serum creatinine.
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column gender: Administrative sex, F or M.
-- @column age: Age at admission in years (mimiciv_derived.age).
-- @column scr_min: Lowest creatinine of the admission, mg/dL (mimiciv_derived.chemistry).
-- @column ckd: 1 if chronic kidney disease is coded for the admission (ICD-9 585.x, ICD-10 N18.x).
-- @column mdrd_est: Creatinine, mg/dL, that gives an eGFR of 75 mL/min/1.73 m2 by the MDRD equation for this age and sex.
-- @column scr_baseline: Baseline creatinine, mg/dL: scr_min when it is at most 1.1 or the patient has CKD, else mdrd_est.
--
-- Definition: KDIGO Clinical Practice Guideline for Acute Kidney Injury, Kidney Int Suppl
-- 2012;2:1-138 (section 2.4: when no baseline is known, back-estimate it assuming an eGFR
-- of 75 mL/min/1.73 m2), with the 4-variable MDRD equation of Levey AS, et al., Ann
-- Intern Med 1999: eGFR = 186 x Scr^-1.154 x age^-0.203 x 0.742 (if female); race is not
-- used. A measured minimum is trusted when normal (<= 1.1 mg/dL) or when CKD makes the
-- assumption of a normal eGFR wrong. Adults (age >= 18) only.
WITH lowest AS (
    SELECT hadm_id, min(creatinine) AS scr_min
    FROM mimiciv_derived.chemistry
    WHERE hadm_id IS NOT NULL
    GROUP BY hadm_id
),
ckd AS (
    SELECT DISTINCT hadm_id
    FROM mimiciv_hosp.diagnoses_icd
    WHERE (icd_version = 9 AND starts_with(icd_code, '585'))
       OR (icd_version = 10 AND starts_with(icd_code, 'N18'))
),
estimate AS (
    SELECT
        age.hadm_id,
        pat.gender,
        age.age,
        -- Solve 75 = 186 * scr^-1.154 * age^-0.203 * (0.742 if female) for scr.
        pow(75.0 / (186.0 * pow(age.age, -0.203) * CASE WHEN pat.gender = 'F' THEN 0.742 ELSE 1 END),
            -1 / 1.154) AS mdrd_est
    FROM mimiciv_derived.age AS age
    JOIN mimiciv_hosp.patients AS pat USING (subject_id)
    WHERE age.age >= 18
)
SELECT
    e.hadm_id,
    e.gender,
    e.age,
    lowest.scr_min,
    CASE WHEN ckd.hadm_id IS NULL THEN 0 ELSE 1 END AS ckd,
    e.mdrd_est,
    CASE
        WHEN lowest.scr_min <= 1.1 THEN lowest.scr_min
        WHEN ckd.hadm_id IS NOT NULL THEN lowest.scr_min
        ELSE e.mdrd_est
    END AS scr_baseline
FROM estimate AS e
LEFT JOIN lowest ON lowest.hadm_id = e.hadm_id
LEFT JOIN ckd ON ckd.hadm_id = e.hadm_id
