-- @table One row per ICU stay: body weight on the first ICU day, the admission weight, and the range of weights of the first day.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column weight: Mean weight applying during the first day, kg.
-- @column weight_admit: Admission weight, kg (the first weight of type admit).
-- @column weight_min: Lowest weight applying during the first day, kg.
-- @column weight_max: Highest weight applying during the first day, kg.
--
-- Definition: weights from mimiciv_derived.weight_durations whose period overlaps
-- [intime, intime + 24 h].
SELECT
    icu.subject_id,
    icu.stay_id,
    avg(w.weight) AS weight,
    arg_min(w.weight, w.starttime) FILTER (WHERE w.weight_type = 'admit') AS weight_admit,
    min(w.weight) AS weight_min,
    max(w.weight) AS weight_max
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.weight_durations AS w
  ON w.stay_id = icu.stay_id
 AND w.starttime < icu.intime + INTERVAL 1 DAY
 AND w.endtime > icu.intime
GROUP BY icu.subject_id, icu.stay_id
