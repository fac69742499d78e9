-- @table One row per ICU stay and urine output charting: urine output over the preceding 6, 12 and 24 hours, the hours those sums cover, and the rates in mL/kg/h that the KDIGO urine criteria compare.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Time of the urine output charting.
-- @column weight: Body weight applying at charttime, kg (mimiciv_derived.weight_durations).
-- @column urineoutput_6hr: Urine output charted in [charttime - 6 h, charttime], mL.
-- @column urineoutput_12hr: Urine output charted in [charttime - 12 h, charttime], mL.
-- @column urineoutput_24hr: Urine output charted in [charttime - 24 h, charttime], mL.
-- @column uo_rt_6hr: urineoutput_6hr / weight / uo_tm_6hr, mL/kg/h; NULL unless at least 6 h are covered.
-- @column uo_rt_12hr: urineoutput_12hr / weight / uo_tm_12hr, mL/kg/h; NULL unless at least 12 h are covered.
-- @column uo_rt_24hr: urineoutput_24hr / weight / uo_tm_24hr, mL/kg/h; NULL unless at least 24 h are covered.
-- @column uo_tm_6hr: Hours of collection covered by urineoutput_6hr (each charting covers the time since the previous one).
-- @column uo_tm_12hr: Hours of collection covered by urineoutput_12hr.
-- @column uo_tm_24hr: Hours of collection covered by urineoutput_24hr.
--
-- Definition: KDIGO Clinical Practice Guideline for Acute Kidney Injury, Kidney Int Suppl
-- 2012;2:1-138: urine output < 0.5 mL/kg/h for 6-12 h (stage 1), for >= 12 h (stage 2),
-- < 0.3 mL/kg/h for >= 24 h or anuria for >= 12 h (stage 3). Each charted volume is
-- taken to have been collected since the stay's previous charting (the first charting:
-- one hour). The windows are [charttime - 6 h, charttime] (12 h, 24 h), both ends included.
-- Differences from mimic-code's table: uo_rt_6hr is given whenever 6 h or more are
-- covered (mimic-code: only between 6 and 12 h).
WITH uo AS (
    SELECT
        u.stay_id,
        u.charttime,
        u.urineoutput,
        coalesce(date_diff('second', lag(u.charttime) OVER (PARTITION BY u.stay_id ORDER BY u.charttime), u.charttime) / 3600.0, 1) AS hours
    FROM mimiciv_derived.urine_output AS u
    JOIN mimiciv_icu.icustays AS icu ON icu.stay_id = u.stay_id
),
windows AS (
    SELECT
        stay_id,
        charttime,
        sum(urineoutput) OVER w6 AS urineoutput_6hr,
        sum(urineoutput) OVER w12 AS urineoutput_12hr,
        sum(urineoutput) OVER w24 AS urineoutput_24hr,
        round(sum(hours) OVER w6, 6) AS uo_tm_6hr,
        round(sum(hours) OVER w12, 6) AS uo_tm_12hr,
        round(sum(hours) OVER w24, 6) AS uo_tm_24hr
    FROM uo
    WINDOW
        w6 AS (PARTITION BY stay_id ORDER BY charttime RANGE BETWEEN INTERVAL 6 HOUR PRECEDING AND CURRENT ROW),
        w12 AS (PARTITION BY stay_id ORDER BY charttime RANGE BETWEEN INTERVAL 12 HOUR PRECEDING AND CURRENT ROW),
        w24 AS (PARTITION BY stay_id ORDER BY charttime RANGE BETWEEN INTERVAL 24 HOUR PRECEDING AND CURRENT ROW)
)
SELECT
    w.stay_id,
    w.charttime,
    wd.weight,
    w.urineoutput_6hr,
    w.urineoutput_12hr,
    w.urineoutput_24hr,
    CASE WHEN w.uo_tm_6hr >= 6 THEN round(w.urineoutput_6hr / wd.weight / w.uo_tm_6hr, 4) END AS uo_rt_6hr,
    CASE WHEN w.uo_tm_12hr >= 12 THEN round(w.urineoutput_12hr / wd.weight / w.uo_tm_12hr, 4) END AS uo_rt_12hr,
    CASE WHEN w.uo_tm_24hr >= 24 THEN round(w.urineoutput_24hr / wd.weight / w.uo_tm_24hr, 4) END AS uo_rt_24hr,
    w.uo_tm_6hr,
    w.uo_tm_12hr,
    w.uo_tm_24hr
FROM windows AS w
LEFT JOIN mimiciv_derived.weight_durations AS wd
  ON wd.stay_id = w.stay_id AND w.charttime >= wd.starttime AND w.charttime < wd.endtime
