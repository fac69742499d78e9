-- @table One row per ICU stay: the lowest Glasgow Coma Scale of the first 24 hours after ICU admission, with the components charted with it.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column gcs_min: Lowest total GCS in [intime - 6 h, intime + 24 h].
-- @column gcs_motor: Motor response of that charting.
-- @column gcs_verbal: Verbal response of that charting (0 when intubated).
-- @column gcs_eyes: Eye opening of that charting.
-- @column gcs_unable: 1 when that charting could not assess the verbal response (intubated).
--
-- Definition: the worst GCS (Teasdale 1974) of the first day, as used by SOFA (Vincent
-- 1996) and APACHE III; the earliest charting wins a tie.
SELECT
    icu.subject_id,
    icu.stay_id,
    g.gcs AS gcs_min,
    g.gcs_motor,
    g.gcs_verbal,
    g.gcs_eyes,
    g.gcs_unable
FROM mimiciv_icu.icustays AS icu
LEFT JOIN (
    SELECT g.*, icu.stay_id AS icu_stay
    FROM mimiciv_derived.gcs AS g
    JOIN mimiciv_icu.icustays AS icu
      ON icu.stay_id = g.stay_id
     AND g.charttime >= icu.intime - INTERVAL 6 HOUR
     AND g.charttime <= icu.intime + INTERVAL 1 DAY
    WHERE g.gcs IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY g.stay_id ORDER BY g.gcs, g.charttime) = 1
) AS g ON g.icu_stay = icu.stay_id
