-- @table One row per ICU stay: the patient's height, the mean of the heights charted during the stay.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column height: Height, cm (mean of mimiciv_derived.height for the stay; NULL if none charted).
--
-- Definition: adult height does not change during a stay, so every charted height of the
-- stay counts, not only the first day's.
SELECT icu.subject_id, icu.stay_id, round(avg(h.height), 2) AS height
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.height AS h ON h.stay_id = icu.stay_id
GROUP BY icu.subject_id, icu.stay_id
