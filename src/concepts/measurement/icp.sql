-- @table One row per ICU stay and charting time of an intracranial pressure.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column icp: Intracranial pressure, mmHg (220765; values 0-100 kept).
--
-- Definition: MIMIC-IV chartevents 220765 Intra Cranial Pressure, averaged per time.
SELECT ce.subject_id, ce.stay_id, ce.charttime, avg(ce.valuenum) AS icp
FROM mimiciv_icu.chartevents AS ce
WHERE ce.itemid = 220765 AND ce.valuenum > 0 AND ce.valuenum < 100
GROUP BY ce.subject_id, ce.stay_id, ce.charttime
