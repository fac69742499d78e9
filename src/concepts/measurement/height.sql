-- @table One row per ICU stay and charting time of a body height, in centimetres.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column height: Height, cm (226730 in cm, or 226707 in inches x 2.54), rounded to 2 decimals.
--
-- Definition: MIMIC-IV chartevents items 226730 Height (cm) and 226707 Height (inches);
-- values outside 120-230 cm (adults) are discarded as entry errors.
-- Differences from mimic-code's table: a single adult plausibility range is applied;
-- mimic-code uses separate ranges for neonates, which MIMIC-IV does not contain.
SELECT subject_id, stay_id, charttime, round(avg(height_cm), 2) AS height
FROM (
    SELECT ce.subject_id, ce.stay_id, ce.charttime,
           CASE WHEN ce.itemid = 226707 THEN ce.valuenum * 2.54 ELSE ce.valuenum END AS height_cm
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid IN (226730, 226707) AND ce.valuenum > 0 AND ce.stay_id IS NOT NULL
) AS h
WHERE height_cm BETWEEN 120 AND 230
GROUP BY subject_id, stay_id, charttime
