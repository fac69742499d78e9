-- @table One row per ICU stay: the total urine output of the first 24 hours after ICU admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column urineoutput: Urine output, mL, charted in [intime, intime + 24 h]; NULL if none was charted.
--
-- Definition: sum of mimiciv_derived.urine_output over the first ICU day.
SELECT
    icu.subject_id,
    icu.stay_id,
    sum(uo.urineoutput) AS urineoutput
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.urine_output AS uo
  ON uo.stay_id = icu.stay_id
 AND uo.charttime >= icu.intime
 AND uo.charttime <= icu.intime + INTERVAL 1 DAY
GROUP BY icu.subject_id, icu.stay_id
