-- @table One row per ICU stay and period over which a body weight applies: each charted weight holds from its charting until the next one (the first from ICU admission, the last until ICU discharge).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column starttime: Start of the period.
-- @column endtime: End of the period.
-- @column weight: Body weight, kg.
-- @column weight_type: admit (admission weight, chartevents 226512, or the weight recorded on an infusion when none was charted) or daily (chartevents 224639).
--
-- Definition: MIMIC-IV charted weights (chartevents 226512 Admission Weight (Kg), 224639
-- Daily Weight), values between 1 and 500 kg; several at one time are averaged. Weight
-- is used to express urine output per kg (KDIGO 2012) and infusion rates per kg.
-- Differences from mimic-code's table: a stay without any charted weight takes the
-- patientweight recorded with its first infusion (mimiciv_icu.inputevents), so that the
-- demo, which lacks chartevents, still has weights; mimic-code uses chartevents only.
WITH charted AS (
    SELECT ce.stay_id, ce.charttime,
           avg(ce.valuenum) AS weight,
           CASE WHEN bool_or(ce.itemid = 226512) THEN 'admit' ELSE 'daily' END AS weight_type
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid IN (226512, 224639) AND ce.valuenum > 1 AND ce.valuenum < 500
    GROUP BY ce.stay_id, ce.charttime
),
infusion AS (
    SELECT inp.stay_id, min(inp.starttime) AS charttime,
           arg_min(inp.patientweight, inp.starttime) AS weight, 'admit' AS weight_type
    FROM mimiciv_icu.inputevents AS inp
    WHERE inp.patientweight > 1 AND inp.patientweight < 500
      AND inp.stay_id NOT IN (SELECT stay_id FROM charted)
    GROUP BY inp.stay_id
),
weights AS (
    SELECT * FROM charted
    UNION ALL
    SELECT * FROM infusion
),
ordered AS (
    SELECT
        w.*,
        row_number() OVER (PARTITION BY w.stay_id ORDER BY w.charttime) AS seq,
        lead(w.charttime) OVER (PARTITION BY w.stay_id ORDER BY w.charttime) AS next_time
    FROM weights AS w
)
SELECT
    o.stay_id,
    CASE WHEN o.seq = 1 THEN least(icu.intime, o.charttime) ELSE o.charttime END AS starttime,
    coalesce(o.next_time, greatest(icu.outtime, o.charttime)) AS endtime,
    o.weight,
    o.weight_type
FROM ordered AS o
JOIN mimiciv_icu.icustays AS icu ON icu.stay_id = o.stay_id
