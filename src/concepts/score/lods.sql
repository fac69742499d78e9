-- @table One row per ICU stay: the Logistic Organ Dysfunction System (LODS) of the first 24 hours in the ICU, the points of its six organ systems and the in-hospital mortality it predicts.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column lods: LODS (0-22), the sum of the organ points (a missing organ counts 0).
-- @column lods_prob: Predicted in-hospital mortality: 1 / (1 + exp(-(-3.4043 + 0.4173 x LODS))).
-- @column neurologic: Points for the lowest GCS (0-5): 14-15 0, 9-13 1, 6-8 3, 3-5 5.
-- @column cardiovascular: Points for heart rate and systolic blood pressure (0-5): 5 for heart rate < 30 or systolic < 40 mmHg; 3 for systolic 40-69 or >= 270; 1 for systolic 70-89 or 240-269, or heart rate >= 140.
-- @column renal: Points for urea nitrogen, creatinine and urine output (0-5): 5 for BUN >= 56 mg/dL or urine < 500 mL/day; 3 for BUN 28-55, creatinine >= 1.6 mg/dL, urine 500-749 or >= 10000 mL/day; 1 for BUN 17-27 or creatinine 1.2-1.59.
-- @column pulmonary: Points for oxygenation (0-3): 0 without ventilation or CPAP on the first day; on ventilation or CPAP, 1 for a lowest PaO2/FiO2 >= 150 mmHg and 3 below; NULL when ventilated without an arterial gas.
-- @column hematologic: Points for white cells and platelets (0-3): 3 for white cells < 1.0 K/uL; 1 for white cells 1.0-2.4 or >= 50 K/uL, or platelets < 50 K/uL.
-- @column hepatic: Points for the liver (0-1): 1 for total bilirubin >= 2.0 mg/dL or a prothrombin time more than 3 s above the standard (taken as 12 s).
--
-- Definition: Le Gall JR, Klar J, Lemeshow S, Saulnier F, Alberti C, Artigas A, Teres D.
-- The Logistic Organ Dysfunction system. A new way to assess organ dysfunction in the
-- intensive care unit. JAMA 1996;276:802-10 (the levels and points of its six organ
-- systems, and its equation for hospital mortality, logit = -3.4043 + 0.4173 x LODS).
-- Worst values of the first day: vital signs from first_day_vitalsign, GCS from
-- first_day_gcs, labs from first_day_lab (6 hours before to 24 hours after ICU
-- admission), urine output from first_day_urine_output, PaO2/FiO2 from arterial gases
-- (specimen ART.) in the first_day_bg window taken during invasive or non-invasive
-- ventilation (mimiciv_derived.ventilation; non-invasive covers CPAP and BiPAP masks).
-- Urea is given in the definition in mmol/L (6, 10, 20) and is read here as BUN in
-- mg/dL (17, 28, 56). The definition's "prothrombin < 25 % of standard" cannot be read
-- from MIMIC's prothrombin time in seconds and is not used.
-- Differences from mimic-code's table: mimic-code scores the renal system only when BUN,
-- creatinine and urine output are all present (here the worst of those present), gives a
-- point for any BUN >= 7.5 mg/dL (here from 17, urea 6 mmol/L), reads "< 25 %" as a
-- prothrombin time under 3 s, takes CPAP from charted oxygen devices, takes the gases of
-- the whole ICU stay (here those of the first day), and has no mortality column
-- (lods_prob is ours).
WITH supported AS (
    SELECT DISTINCT icu.stay_id
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.ventilation AS v
      ON v.stay_id = icu.stay_id
     AND v.starttime <= icu.intime + INTERVAL 1 DAY AND v.endtime >= icu.intime
),
supported_pf AS (
    SELECT icu.stay_id, min(bg.pao2fio2ratio) AS pao2fio2_vent_min
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.bg AS bg
      ON bg.subject_id = icu.subject_id AND bg.specimen = 'ART.'
     AND bg.charttime >= icu.intime - INTERVAL 6 HOUR AND bg.charttime <= icu.intime + INTERVAL 1 DAY
    JOIN mimiciv_derived.ventilation AS v
      ON v.stay_id = icu.stay_id AND bg.charttime BETWEEN v.starttime AND v.endtime
    GROUP BY icu.stay_id
),
inputs AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id,
        g.gcs_min,
        v.heart_rate_min, v.heart_rate_max, v.sbp_min, v.sbp_max,
        l.bun_max, l.creatinine_max, uo.urineoutput,
        s.stay_id IS NOT NULL AS ventilated, pf.pao2fio2_vent_min,
        l.wbc_min, l.wbc_max, l.platelets_min,
        l.bilirubin_total_max, l.pt_max
    FROM mimiciv_icu.icustays AS icu
    LEFT JOIN mimiciv_derived.first_day_gcs AS g ON g.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_vitalsign AS v ON v.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_lab AS l ON l.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_urine_output AS uo ON uo.stay_id = icu.stay_id
    LEFT JOIN supported AS s ON s.stay_id = icu.stay_id
    LEFT JOIN supported_pf AS pf ON pf.stay_id = icu.stay_id
),
organs AS (
    SELECT
        subject_id, hadm_id, stay_id,
        CASE WHEN gcs_min IS NULL THEN NULL WHEN gcs_min <= 5 THEN 5 WHEN gcs_min <= 8 THEN 3
             WHEN gcs_min <= 13 THEN 1 ELSE 0 END AS neurologic,
        CASE WHEN heart_rate_min IS NULL AND heart_rate_max IS NULL AND sbp_min IS NULL AND sbp_max IS NULL THEN NULL
             WHEN heart_rate_min < 30 OR sbp_min < 40 THEN 5
             WHEN sbp_min < 70 OR sbp_max >= 270 THEN 3
             WHEN sbp_min < 90 OR sbp_max >= 240 OR heart_rate_max >= 140 THEN 1
             ELSE 0 END AS cardiovascular,
        CASE WHEN bun_max IS NULL AND creatinine_max IS NULL AND urineoutput IS NULL THEN NULL
             WHEN bun_max >= 56 OR urineoutput < 500 THEN 5
             WHEN bun_max >= 28 OR creatinine_max >= 1.6 OR urineoutput < 750 OR urineoutput >= 10000 THEN 3
             WHEN bun_max >= 17 OR creatinine_max >= 1.2 THEN 1
             ELSE 0 END AS renal,
        CASE WHEN NOT ventilated THEN 0 WHEN pao2fio2_vent_min IS NULL THEN NULL
             WHEN pao2fio2_vent_min < 150 THEN 3 ELSE 1 END AS pulmonary,
        CASE WHEN wbc_min IS NULL AND wbc_max IS NULL AND platelets_min IS NULL THEN NULL
             WHEN wbc_min < 1 THEN 3
             WHEN wbc_min < 2.5 OR wbc_max >= 50 OR platelets_min < 50 THEN 1
             ELSE 0 END AS hematologic,
        CASE WHEN bilirubin_total_max IS NULL AND pt_max IS NULL THEN NULL
             WHEN bilirubin_total_max >= 2 OR pt_max > 12 + 3 THEN 1
             ELSE 0 END AS hepatic
    FROM inputs
),
total AS (
    SELECT
        organs.*,
        coalesce(neurologic, 0) + coalesce(cardiovascular, 0) + coalesce(renal, 0)
            + coalesce(pulmonary, 0) + coalesce(hematologic, 0) + coalesce(hepatic, 0) AS lods
    FROM organs
)
SELECT
    subject_id, hadm_id, stay_id,
    lods,
    1 / (1 + exp(-(-3.4043 + 0.4173 * lods))) AS lods_prob,
    neurologic, cardiovascular, renal, pulmonary, hematologic, hepatic
FROM total
