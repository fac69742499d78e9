-- @table One row per ICU stay: the first and last heart rate charting times, a measure of when the patient was actually in the ICU (the administrative intime and outtime can be off by hours).
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column intime_hr: First heart rate charting of the stay; the stay's intime when none was charted.
-- @column outtime_hr: Last heart rate charting of the stay; the stay's outtime when none was charted.
--
-- Definition: heart rate (chartevents 220045) is charted at least hourly for every ICU
-- patient, so its first and last charting bracket the stay; only chartings within
-- [intime - 12 h, outtime + 12 h] count.
-- Differences from mimic-code's table: a stay without a charted heart rate (or a data set
-- without chartevents, such as the demo) falls back to intime and outtime instead of NULL,
-- so that hourly tables (icustay_hourly, sofa) exist for every stay.
WITH hr AS (
    SELECT icu.stay_id, min(ce.charttime) AS first_hr, max(ce.charttime) AS last_hr
    FROM mimiciv_icu.chartevents AS ce
    JOIN mimiciv_icu.icustays AS icu
      ON icu.stay_id = ce.stay_id
     AND ce.charttime >= icu.intime - INTERVAL 12 HOUR
     AND ce.charttime <= icu.outtime + INTERVAL 12 HOUR
    WHERE ce.itemid = 220045 AND ce.valuenum > 0
    GROUP BY icu.stay_id
)
SELECT
    icu.subject_id,
    icu.hadm_id,
    icu.stay_id,
    coalesce(hr.first_hr, icu.intime) AS intime_hr,
    coalesce(hr.last_hr, icu.outtime) AS outtime_hr
FROM mimiciv_icu.icustays AS icu
LEFT JOIN hr ON hr.stay_id = icu.stay_id
