-- @table One row per ICU stay: whether the patient had renal replacement therapy on the first ICU day.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column dialysis_present: 1 if dialysis was documented in [intime - 6 h, intime + 24 h], else 0.
-- @column dialysis_active: 1 if it was documented running in that window, else 0.
-- @column dialysis_type: The forms documented, comma-separated; NULL if none.
--
-- Definition: mimiciv_derived.rrt over the first-day window of the severity scores
-- (Knaus 1991, Le Gall 1993), widened by 6 hours before ICU admission. A dialysis
-- documented as starting before the window and ending after it also counts.
WITH windowed AS (
    SELECT icu.stay_id, r.charttime, r.dialysis_present, r.dialysis_active, r.dialysis_type,
           lead(r.charttime) OVER (PARTITION BY r.stay_id ORDER BY r.charttime) AS next_time
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.rrt AS r ON r.stay_id = icu.stay_id
)
SELECT
    icu.subject_id,
    icu.stay_id,
    coalesce(max(w.dialysis_present), 0) AS dialysis_present,
    coalesce(max(w.dialysis_active), 0) AS dialysis_active,
    string_agg(DISTINCT w.dialysis_type, ', ' ORDER BY w.dialysis_type) AS dialysis_type
FROM mimiciv_icu.icustays AS icu
LEFT JOIN windowed AS w
  ON w.stay_id = icu.stay_id
 AND w.charttime <= icu.intime + INTERVAL 1 DAY
 AND (w.charttime >= icu.intime - INTERVAL 6 HOUR
      OR (w.dialysis_active = 1 AND w.next_time >= icu.intime - INTERVAL 6 HOUR))
GROUP BY icu.subject_id, icu.stay_id
