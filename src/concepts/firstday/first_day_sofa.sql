-- @table One row per ICU stay: the SOFA score of the first ICU day, each organ scored on its worst value from 6 hours before to 24 hours after ICU admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column sofa: First-day SOFA score (0-24), the sum of the six organ scores (a missing organ counts 0).
-- @column respiration: Respiratory score (0-4).
-- @column coagulation: Coagulation score (0-4).
-- @column liver: Liver score (0-4).
-- @column cardiovascular: Cardiovascular score (0-4).
-- @column cns: Central nervous system score (0-4).
-- @column renal: Renal score (0-4).
-- @column pao2fio2ratio_novent: Lowest arterial PaO2/FiO2 while not ventilated, mmHg.
-- @column pao2fio2ratio_vent: Lowest arterial PaO2/FiO2 while ventilated, mmHg.
-- @column rate_epinephrine: Highest epinephrine rate, mcg/kg/min.
-- @column rate_norepinephrine: Highest norepinephrine rate, mcg/kg/min.
-- @column rate_dopamine: Highest dopamine rate, mcg/kg/min.
-- @column rate_dobutamine: Highest dobutamine rate, mcg/kg/min.
-- @column meanbp_min: Lowest mean blood pressure, mmHg.
-- @column gcs_min: Lowest GCS.
-- @column uo_24hr: Urine output of the first 24 hours, mL (mimiciv_derived.first_day_urine_output).
-- @column bilirubin_max: Highest total bilirubin, mg/dL.
-- @column creatinine_max: Highest creatinine, mg/dL.
-- @column platelet_min: Lowest platelet count, K/uL.
--
-- Definition: SOFA (Vincent JL, et al. Intensive Care Med 1996;22:707-10) with the
-- thresholds of mimiciv_derived.sofa, on the worst values of the hours -6 to 23 of
-- mimiciv_derived.sofa (the first day, widened by 6 hours before admission as the other
-- first-day tables), and the first day's total urine output.
-- Differences from mimic-code's table: computed from the hourly SOFA grid rather than
-- from separate first-day tables; the windows agree.
WITH day1 AS (
    SELECT
        stay_id,
        min(pao2fio2ratio_novent) AS pao2fio2ratio_novent,
        min(pao2fio2ratio_vent) AS pao2fio2ratio_vent,
        max(rate_epinephrine) AS rate_epinephrine,
        max(rate_norepinephrine) AS rate_norepinephrine,
        max(rate_dopamine) AS rate_dopamine,
        max(rate_dobutamine) AS rate_dobutamine,
        min(meanbp_min) AS meanbp_min,
        min(gcs_min) AS gcs_min,
        max(bilirubin_max) AS bilirubin_max,
        max(creatinine_max) AS creatinine_max,
        min(platelet_min) AS platelet_min,
        max(respiration) AS respiration,
        max(coagulation) AS coagulation,
        max(liver) AS liver,
        max(cardiovascular) AS cardiovascular,
        max(cns) AS cns,
        max(renal) AS renal_labs
    FROM mimiciv_derived.sofa
    WHERE hr BETWEEN -6 AND 23
    GROUP BY stay_id
),
scored AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id,
        coalesce(d.respiration, 0) AS respiration,
        coalesce(d.coagulation, 0) AS coagulation,
        coalesce(d.liver, 0) AS liver,
        coalesce(d.cardiovascular, 0) AS cardiovascular,
        coalesce(d.cns, 0) AS cns,
        greatest(
            CASE
                WHEN d.creatinine_max >= 5 THEN 4
                WHEN d.creatinine_max >= 3.5 THEN 3
                WHEN d.creatinine_max >= 2 THEN 2
                WHEN d.creatinine_max >= 1.2 THEN 1
                ELSE 0
            END,
            CASE
                WHEN uo.urineoutput < 200 THEN 4
                WHEN uo.urineoutput < 500 THEN 3
                ELSE 0
            END
        ) AS renal,
        d.pao2fio2ratio_novent, d.pao2fio2ratio_vent,
        d.rate_epinephrine, d.rate_norepinephrine, d.rate_dopamine, d.rate_dobutamine,
        d.meanbp_min, d.gcs_min, uo.urineoutput AS uo_24hr,
        d.bilirubin_max, d.creatinine_max, d.platelet_min
    FROM mimiciv_icu.icustays AS icu
    LEFT JOIN day1 AS d ON d.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_urine_output AS uo ON uo.stay_id = icu.stay_id
)
SELECT
    subject_id, hadm_id, stay_id,
    respiration + coagulation + liver + cardiovascular + cns + renal AS sofa,
    respiration, coagulation, liver, cardiovascular, cns, renal,
    pao2fio2ratio_novent, pao2fio2ratio_vent,
    rate_epinephrine, rate_norepinephrine, rate_dopamine, rate_dobutamine,
    meanbp_min, gcs_min, uo_24hr, bilirubin_max, creatinine_max, platelet_min
FROM scored
