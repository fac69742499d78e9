-- @table One row per ICU stay and urine output charting: the volume, the 6/12/24-hour totals and the rates in mL/kg/h over those windows.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Time of the charting.
-- @column weight: Body weight applying at charttime, kg.
-- @column uo: Urine output charted at charttime, mL.
-- @column urineoutput_6hr: Urine output in [charttime - 6 h, charttime], mL.
-- @column urineoutput_12hr: Urine output in [charttime - 12 h, charttime], mL.
-- @column urineoutput_24hr: Urine output in [charttime - 24 h, charttime], mL.
-- @column uo_mlkghr_6hr: Rate over 6 h, mL/kg/h (when 6 h are covered).
-- @column uo_mlkghr_12hr: Rate over 12 h, mL/kg/h (when 12 h are covered).
-- @column uo_mlkghr_24hr: Rate over 24 h, mL/kg/h (when 24 h are covered).
-- @column uo_tm_6hr: Hours of collection covered by the 6-hour window.
-- @column uo_tm_12hr: Hours covered by the 12-hour window.
-- @column uo_tm_24hr: Hours covered by the 24-hour window.
--
-- Definition: the same windows as mimiciv_derived.kdigo_uo (KDIGO 2012), with the
-- charted volume of each row.
SELECT
    k.stay_id,
    k.charttime,
    k.weight,
    u.urineoutput AS uo,
    k.urineoutput_6hr,
    k.urineoutput_12hr,
    k.urineoutput_24hr,
    k.uo_rt_6hr AS uo_mlkghr_6hr,
    k.uo_rt_12hr AS uo_mlkghr_12hr,
    k.uo_rt_24hr AS uo_mlkghr_24hr,
    k.uo_tm_6hr,
    k.uo_tm_12hr,
    k.uo_tm_24hr
FROM mimiciv_derived.kdigo_uo AS k
JOIN mimiciv_derived.urine_output AS u ON u.stay_id = k.stay_id AND u.charttime = k.charttime
