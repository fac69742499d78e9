-- @table One row per ICU stay: the systemic inflammatory response syndrome (SIRS) criteria met on the first ICU day, and their count.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column sirs: Number of SIRS criteria met (0-4); a criterion without data counts 0.
-- @column temp_score: 1 if temperature < 36 or > 38 degrees C; NULL without a temperature.
-- @column heart_rate_score: 1 if heart rate > 90/min; NULL without data.
-- @column resp_score: 1 if respiratory rate > 20/min or PaCO2 < 32 mmHg; NULL without data.
-- @column wbc_score: 1 if WBC < 4 or > 12 K/uL or bands > 10 %; NULL without data.
--
-- Definition: Bone RC, et al. Definitions for sepsis and organ failure and guidelines
-- for the use of innovative therapies in sepsis. Chest 1992;101:1644-55 (ACCP/SCCM
-- consensus), on the first day's worst values (first_day_vitalsign, first_day_lab,
-- first_day_bg_art).
SELECT
    icu.subject_id,
    icu.hadm_id,
    icu.stay_id,
    coalesce(temp_score, 0) + coalesce(heart_rate_score, 0) + coalesce(resp_score, 0)
        + coalesce(wbc_score, 0) AS sirs,
    temp_score,
    heart_rate_score,
    resp_score,
    wbc_score
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.first_day_vitalsign AS v ON v.stay_id = icu.stay_id
LEFT JOIN mimiciv_derived.first_day_lab AS l ON l.stay_id = icu.stay_id
LEFT JOIN mimiciv_derived.first_day_bg_art AS bg ON bg.stay_id = icu.stay_id,
LATERAL (
    SELECT
        CASE
            WHEN v.temperature_min < 36 OR v.temperature_max > 38 THEN 1
            WHEN v.temperature_min IS NULL THEN NULL
            ELSE 0
        END AS temp_score,
        CASE
            WHEN v.heart_rate_max > 90 THEN 1
            WHEN v.heart_rate_max IS NULL THEN NULL
            ELSE 0
        END AS heart_rate_score,
        CASE
            WHEN v.resp_rate_max > 20 OR bg.pco2_min < 32 THEN 1
            WHEN v.resp_rate_max IS NULL AND bg.pco2_min IS NULL THEN NULL
            ELSE 0
        END AS resp_score,
        CASE
            WHEN l.wbc_min < 4 OR l.wbc_max > 12 OR l.bands_max > 10 THEN 1
            WHEN coalesce(l.wbc_min, l.wbc_max, l.bands_max) IS NULL THEN NULL
            ELSE 0
        END AS wbc_score
) AS s
