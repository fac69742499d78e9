-- @table One row per ICU stay: the lowest, highest and mean of each vital sign charted in the first 24 hours after ICU admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column heart_rate_min: Lowest heart rate, beats/min.
-- @column heart_rate_max: Highest heart rate, beats/min.
-- @column heart_rate_mean: Mean heart rate, beats/min.
-- @column sbp_min: Lowest systolic blood pressure, mmHg.
-- @column sbp_max: Highest systolic blood pressure, mmHg.
-- @column sbp_mean: Mean systolic blood pressure, mmHg.
-- @column dbp_min: Lowest diastolic blood pressure, mmHg.
-- @column dbp_max: Highest diastolic blood pressure, mmHg.
-- @column dbp_mean: Mean diastolic blood pressure, mmHg.
-- @column mbp_min: Lowest mean blood pressure, mmHg.
-- @column mbp_max: Highest mean blood pressure, mmHg.
-- @column mbp_mean: Mean mean blood pressure, mmHg.
-- @column resp_rate_min: Lowest respiratory rate, breaths/min.
-- @column resp_rate_max: Highest respiratory rate, breaths/min.
-- @column resp_rate_mean: Mean respiratory rate, breaths/min.
-- @column temperature_min: Lowest temperature, degrees C.
-- @column temperature_max: Highest temperature, degrees C.
-- @column temperature_mean: Mean temperature, degrees C.
-- @column spo2_min: Lowest spO2, %.
-- @column spo2_max: Highest spO2, %.
-- @column spo2_mean: Mean spO2, %.
-- @column glucose_min: Lowest bedside glucose, mg/dL.
-- @column glucose_max: Highest bedside glucose, mg/dL.
-- @column glucose_mean: Mean bedside glucose, mg/dL.
--
-- Definition: mimiciv_derived.vitalsign over [ICU intime - 6 h, intime + 24 h], the first-day
-- window of the severity scores (Knaus 1991, Le Gall 1993) widened by 6 hours as mimic-code
-- does, so that values charted on arrival before the stay's intime count.
SELECT
    icu.subject_id,
    icu.stay_id,
    min(v.heart_rate) AS heart_rate_min,
    max(v.heart_rate) AS heart_rate_max,
    avg(v.heart_rate) AS heart_rate_mean,
    min(v.sbp) AS sbp_min,
    max(v.sbp) AS sbp_max,
    avg(v.sbp) AS sbp_mean,
    min(v.dbp) AS dbp_min,
    max(v.dbp) AS dbp_max,
    avg(v.dbp) AS dbp_mean,
    min(v.mbp) AS mbp_min,
    max(v.mbp) AS mbp_max,
    avg(v.mbp) AS mbp_mean,
    min(v.resp_rate) AS resp_rate_min,
    max(v.resp_rate) AS resp_rate_max,
    avg(v.resp_rate) AS resp_rate_mean,
    min(v.temperature) AS temperature_min,
    max(v.temperature) AS temperature_max,
    avg(v.temperature) AS temperature_mean,
    min(v.spo2) AS spo2_min,
    max(v.spo2) AS spo2_max,
    avg(v.spo2) AS spo2_mean,
    min(v.glucose) AS glucose_min,
    max(v.glucose) AS glucose_max,
    avg(v.glucose) AS glucose_mean
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.vitalsign AS v
  ON v.stay_id = icu.stay_id
 AND v.charttime >= icu.intime - INTERVAL 6 HOUR
 AND v.charttime <= icu.intime + INTERVAL 1 DAY
GROUP BY icu.subject_id, icu.stay_id
