-- @table One row per ICU stay and hour, from 24 hours before the first heart rate charting to the last: the grid on which hourly scores (sofa) are computed.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column hr: Hour number; hour 0 starts at intime_hr truncated to the hour, negative hours precede it.
-- @column starttime: Start of the hour.
-- @column endtime: End of the hour (starttime + 1 hour).
--
-- Definition: hours counted from date_trunc('hour', intime_hr) of mimiciv_derived.icustay_times,
-- from hr = -24 to the hour containing outtime_hr.
-- Differences from mimic-code's table: a starttime column is added, and the hour's
-- interval is [starttime, endtime) on whole clock hours.
SELECT
    t.stay_id,
    h.hr,
    date_trunc('hour', t.intime_hr) + h.hr * INTERVAL 1 HOUR AS starttime,
    date_trunc('hour', t.intime_hr) + (h.hr + 1) * INTERVAL 1 HOUR AS endtime
FROM mimiciv_derived.icustay_times AS t,
     LATERAL (
        SELECT unnest(range(-24, CAST(floor(date_diff('second', date_trunc('hour', t.intime_hr), t.outtime_hr) / 3600) AS BIGINT) + 1)) AS hr
     ) AS h
