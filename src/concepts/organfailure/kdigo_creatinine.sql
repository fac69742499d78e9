-- @table One row per ICU stay and time a serum creatinine was measured (from 7 days before ICU admission to ICU discharge): the value and the lowest values of the previous 48 hours and 7 days, the inputs of the KDIGO creatinine criteria.
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Time of the measurement.
-- @column creat: Serum creatinine, mg/dL (itemid 50912; the mean when several share a time).
-- @column creat_low_past_48hr: Lowest creatinine in the 48 h before charttime (this measurement excluded), mg/dL.
-- @column creat_low_past_7day: Lowest creatinine in the 7 days before charttime (this measurement excluded), mg/dL.
--
-- Definition: KDIGO Clinical Practice Guideline for Acute Kidney Injury, Kidney Int Suppl
-- 2012;2:1-138: AKI is a rise of >= 0.3 mg/dL within 48 hours or to >= 1.5 times baseline
-- within the prior 7 days; the lowest values over those windows are the reference.
-- Measurements are those of the patient (any admission) between ICU intime - 7 days and
-- outtime; values above 150 mg/dL are discarded as errors.
-- Differences from mimic-code's table: stays without any creatinine have no row here
-- (mimic-code gives them one row of NULLs).
WITH cr AS (
    SELECT icu.hadm_id, icu.stay_id, lab.charttime, avg(lab.valuenum) AS creat
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_hosp.labevents AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.itemid = 50912
     AND lab.valuenum IS NOT NULL
     AND lab.valuenum <= 150
     AND lab.charttime >= icu.intime - INTERVAL 7 DAY
     AND lab.charttime <= icu.outtime
    GROUP BY icu.hadm_id, icu.stay_id, lab.charttime
)
SELECT
    hadm_id,
    stay_id,
    charttime,
    creat,
    min(creat) OVER (
        PARTITION BY stay_id ORDER BY charttime
        RANGE BETWEEN INTERVAL 48 HOUR PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW
    ) AS creat_low_past_48hr,
    min(creat) OVER (
        PARTITION BY stay_id ORDER BY charttime
        RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW
    ) AS creat_low_past_7day
FROM cr
