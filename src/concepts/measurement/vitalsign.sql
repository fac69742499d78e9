-- @table One row per ICU stay and charting time with a vital sign: heart rate, blood pressures (arterial line or cuff), respiratory rate, temperature, SpO2 and bedside glucose.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column heart_rate: Heart rate, beats/min (220045).
-- @column sbp: Systolic blood pressure, mmHg, invasive or non-invasive (220050, 220179, 225309).
-- @column dbp: Diastolic blood pressure, mmHg (220051, 220180, 225310).
-- @column mbp: Mean blood pressure, mmHg (220052, 220181, 225312).
-- @column sbp_ni: Non-invasive (cuff) systolic pressure, mmHg (220179).
-- @column dbp_ni: Non-invasive diastolic pressure, mmHg (220180).
-- @column mbp_ni: Non-invasive mean pressure, mmHg (220181).
-- @column resp_rate: Respiratory rate, breaths/min (220210, 224690).
-- @column temperature: Temperature, degrees C (223762, or 223761 in F converted), two decimals.
-- @column temperature_site: Where the temperature was taken (224642).
-- @column spo2: Pulse oximetry oxygen saturation, % (220277).
-- @column glucose: Bedside glucose, mg/dL (225664 finger stick, 220621 serum, 226537 whole blood).
--
-- Definition: MIMIC-IV chartevents vital-sign items (mimiciv_icu.d_items), averaged when
-- several share a charting time, keeping physiologically possible values only (heart rate
-- 0-300, systolic 0-400, diastolic and mean 0-300, respiratory rate 0-70, temperature
-- 10-50 C or 70-120 F, SpO2 0-100, glucose > 0).
SELECT
    ce.subject_id,
    ce.stay_id,
    ce.charttime,
    avg(ce.valuenum) FILTER (WHERE ce.itemid = 220045 AND ce.valuenum > 0 AND ce.valuenum < 300) AS heart_rate,
    avg(ce.valuenum) FILTER (WHERE ce.itemid IN (220050, 220179, 225309) AND ce.valuenum > 0 AND ce.valuenum < 400) AS sbp,
    avg(ce.valuenum) FILTER (WHERE ce.itemid IN (220051, 220180, 225310) AND ce.valuenum > 0 AND ce.valuenum < 300) AS dbp,
    avg(ce.valuenum) FILTER (WHERE ce.itemid IN (220052, 220181, 225312) AND ce.valuenum > 0 AND ce.valuenum < 300) AS mbp,
    avg(ce.valuenum) FILTER (WHERE ce.itemid = 220179 AND ce.valuenum > 0 AND ce.valuenum < 400) AS sbp_ni,
    avg(ce.valuenum) FILTER (WHERE ce.itemid = 220180 AND ce.valuenum > 0 AND ce.valuenum < 300) AS dbp_ni,
    avg(ce.valuenum) FILTER (WHERE ce.itemid = 220181 AND ce.valuenum > 0 AND ce.valuenum < 300) AS mbp_ni,
    avg(ce.valuenum) FILTER (WHERE ce.itemid IN (220210, 224690) AND ce.valuenum > 0 AND ce.valuenum < 70) AS resp_rate,
    round(avg(CASE
        WHEN ce.itemid = 223761 AND ce.valuenum > 70 AND ce.valuenum < 120 THEN (ce.valuenum - 32) / 1.8
        WHEN ce.itemid = 223762 AND ce.valuenum > 10 AND ce.valuenum < 50 THEN ce.valuenum
    END), 2) AS temperature,
    max(ce.value) FILTER (WHERE ce.itemid = 224642) AS temperature_site,
    avg(ce.valuenum) FILTER (WHERE ce.itemid = 220277 AND ce.valuenum > 0 AND ce.valuenum <= 100) AS spo2,
    avg(ce.valuenum) FILTER (WHERE ce.itemid IN (225664, 220621, 226537) AND ce.valuenum > 0) AS glucose
FROM mimiciv_icu.chartevents AS ce
WHERE ce.stay_id IS NOT NULL
  AND ce.itemid IN (220045, 220050, 220179, 225309, 220051, 220180, 225310, 220052, 220181,
                    225312, 220210, 224690, 223761, 223762, 224642, 220277, 225664, 220621, 226537)
GROUP BY ce.subject_id, ce.stay_id, ce.charttime
