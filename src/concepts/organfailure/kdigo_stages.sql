-- @table One row per ICU stay and time a creatinine, a urine output or a CRRT setting was charted: the KDIGO acute kidney injury stage by each criterion, the overall stage, and the stage smoothed over the preceding 6 hours.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Time of the creatinine, urine output or CRRT charting.
-- @column creat_low_past_7day: Lowest creatinine of the previous 7 days, mg/dL.
-- @column creat_low_past_48hr: Lowest creatinine of the previous 48 hours, mg/dL.
-- @column creat: Creatinine at charttime, mg/dL.
-- @column aki_stage_creat: KDIGO stage by creatinine (0-3).
-- @column uo_rt_6hr: Urine output rate over 6 h, mL/kg/h.
-- @column uo_rt_12hr: Urine output rate over 12 h, mL/kg/h.
-- @column uo_rt_24hr: Urine output rate over 24 h, mL/kg/h.
-- @column aki_stage_uo: KDIGO stage by urine output (0-3); 0 in the first 6 hours of the stay, when no rate can be judged.
-- @column aki_stage_crrt: 3 if renal replacement therapy (CRRT or intermittent dialysis) was documented running at charttime, else NULL.
-- @column aki_stage: The highest of the three stages at charttime (0-3).
-- @column aki_stage_smoothed: The highest aki_stage of the stay over [charttime - 6 h, charttime].
--
-- Definition: KDIGO Clinical Practice Guideline for Acute Kidney Injury, Kidney Int Suppl
-- 2012;2:1-138, table 2. Creatinine: stage 1 a rise >= 0.3 mg/dL within 48 h or to
-- 1.5-1.9 x the 7-day low; stage 2 2.0-2.9 x; stage 3 >= 3.0 x, or >= 4.0 mg/dL reached
-- by an acute rise (one of the stage 1 rises), or initiation of renal replacement (CRRT).
-- Urine output: stage 1 < 0.5 mL/kg/h for 6 h; stage 2 < 0.5 for 12 h; stage 3 < 0.3 for
-- 24 h or anuria for 12 h.
-- Differences from mimic-code's table: the >= 4.0 mg/dL rule requires one of KDIGO's
-- stage 1 rises (mimic-code: the 48-hour low at most 3.7 mg/dL, or a 1.5 x rise), and
-- the smoothing is over the same ICU stay (mimic-code partitions by patient), and renal
-- replacement is any documented dialysis (mimiciv_derived.rrt, KDIGO's "initiation of
-- RRT"; the demo has it from procedureevents) where mimic-code uses charted CRRT only.
-- Stays without any creatinine, urine output or dialysis have no row.
WITH cr AS (
    SELECT
        stay_id, charttime, creat_low_past_7day, creat_low_past_48hr, creat,
        CASE
            WHEN creat >= 3.0 * creat_low_past_7day THEN 3
            WHEN creat >= 4.0
                AND (creat >= creat_low_past_48hr + 0.3 OR creat >= 1.5 * creat_low_past_7day) THEN 3
            WHEN creat >= 2.0 * creat_low_past_7day THEN 2
            WHEN creat >= creat_low_past_48hr + 0.3 THEN 1
            WHEN creat >= 1.5 * creat_low_past_7day THEN 1
            ELSE 0
        END AS aki_stage_creat
    FROM mimiciv_derived.kdigo_creatinine
),
uo AS (
    SELECT
        uo.stay_id, uo.charttime, uo.uo_rt_6hr, uo.uo_rt_12hr, uo.uo_rt_24hr,
        CASE
            WHEN uo.uo_rt_6hr IS NULL THEN NULL
            WHEN uo.charttime <= icu.intime + INTERVAL 6 HOUR THEN 0
            WHEN uo.uo_tm_24hr >= 24 AND uo.uo_rt_24hr < 0.3 THEN 3
            WHEN uo.uo_tm_12hr >= 12 AND uo.uo_rt_12hr = 0 THEN 3
            WHEN uo.uo_tm_12hr >= 12 AND uo.uo_rt_12hr < 0.5 THEN 2
            WHEN uo.uo_tm_6hr >= 6 AND uo.uo_rt_6hr < 0.5 THEN 1
            ELSE 0
        END AS aki_stage_uo
    FROM mimiciv_derived.kdigo_uo AS uo
    JOIN mimiciv_icu.icustays AS icu ON icu.stay_id = uo.stay_id
),
rrt AS (
    SELECT DISTINCT stay_id, charttime, 3 AS aki_stage_crrt
    FROM mimiciv_derived.rrt AS rrt
    WHERE dialysis_active = 1
),
times AS (
    SELECT stay_id, charttime FROM cr
    UNION
    SELECT stay_id, charttime FROM uo
    UNION
    SELECT stay_id, charttime FROM rrt
),
staged AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id, t.charttime,
        cr.creat_low_past_7day, cr.creat_low_past_48hr, cr.creat, cr.aki_stage_creat,
        uo.uo_rt_6hr, uo.uo_rt_12hr, uo.uo_rt_24hr, uo.aki_stage_uo,
        rrt.aki_stage_crrt,
        greatest(coalesce(cr.aki_stage_creat, 0), coalesce(uo.aki_stage_uo, 0), coalesce(rrt.aki_stage_crrt, 0)) AS aki_stage
    FROM times AS t
    JOIN mimiciv_icu.icustays AS icu ON icu.stay_id = t.stay_id
    LEFT JOIN cr ON cr.stay_id = t.stay_id AND cr.charttime = t.charttime
    LEFT JOIN uo ON uo.stay_id = t.stay_id AND uo.charttime = t.charttime
    LEFT JOIN rrt ON rrt.stay_id = t.stay_id AND rrt.charttime = t.charttime
)
SELECT
    *,
    max(aki_stage) OVER (
        PARTITION BY stay_id ORDER BY charttime
        RANGE BETWEEN INTERVAL 6 HOUR PRECEDING AND CURRENT ROW
    ) AS aki_stage_smoothed
FROM staged
