-- @table One row per antibiotic prescription (mimiciv_derived.antibiotic): whether a culture was taken close enough to it to count as a suspicion of infection, and when the suspicion began.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay during which the antibiotic started; NULL outside the ICU.
-- @column hadm_id: Hospital admission of the antibiotic.
-- @column ab_id: Number of the antibiotic within the patient, in time order (1 = first).
-- @column antibiotic: The drug as prescribed.
-- @column antibiotic_time: Start of the antibiotic.
-- @column suspected_infection: 1 if a culture was drawn in the 72 h before or the 24 h after the antibiotic started, else 0.
-- @column suspected_infection_time: Onset of the suspicion: the culture time when the culture came first, else the antibiotic time; NULL when not suspected.
-- @column culture_time: Time of the culture used (its charttime, or its chartdate when only the date is known).
-- @column specimen: Specimen type of the culture used (microbiologyevents.spec_type_desc).
-- @column positive_culture: 1 if the culture grew an organism, 0 if not; NULL when no culture was used.
--
-- Definition: Seymour CW, et al. Assessment of clinical criteria for sepsis (Sepsis-3).
-- JAMA 2016;315:762-74, and Singer M, et al. JAMA 2016;315:801-10: suspected infection is
-- a body-fluid culture and an antibiotic given close together: if the culture came first,
-- the antibiotic within 72 h; if the antibiotic came first, the culture within 24 h. The
-- onset is the time of whichever came first. A culture drawn before the antibiotic is
-- preferred (the earliest such culture), else the earliest culture after it. Cultures
-- known only by date (no charttime) are compared by calendar date (antibiotic date within
-- 3 days after or 1 day before the culture date).
-- A culture is one microbiology specimen (micro_specimen_id); positive means an organism
-- name other than an empty or CANCELLED entry. Differences from mimic-code's table: an
-- antibiotic started at the very time of a culture counts (as antibiotic first; mimic-
-- code's strict comparisons miss the tie), and mimic-code additionally treats two
-- organism item ids as negative, where m4 uses the organism name only.
WITH abx AS (
    SELECT
        subject_id, hadm_id, stay_id, antibiotic, starttime AS antibiotic_time,
        CAST(starttime AS DATE) AS antibiotic_date,
        row_number() OVER (
            PARTITION BY subject_id ORDER BY starttime, stoptime, antibiotic, hadm_id, stay_id
        ) AS ab_id
    FROM mimiciv_derived.antibiotic
    WHERE starttime IS NOT NULL
),
cultures AS (
    SELECT
        micro_specimen_id,
        any_value(subject_id) AS subject_id,
        CAST(max(chartdate) AS DATE) AS chartdate,
        max(charttime) AS charttime,
        any_value(spec_type_desc) AS spec_type_desc,
        max(CASE WHEN coalesce(org_name, '') NOT IN ('', 'CANCELLED') THEN 1 ELSE 0 END) AS positiveculture
    FROM mimiciv_hosp.microbiologyevents
    GROUP BY micro_specimen_id
),
pairs AS (
    SELECT
        abx.subject_id, abx.ab_id,
        coalesce(c.charttime, CAST(c.chartdate AS TIMESTAMP)) AS culture_time,
        c.spec_type_desc, c.positiveculture, c.micro_specimen_id,
        CASE
            WHEN c.charttime IS NOT NULL THEN abx.antibiotic_time > c.charttime
            ELSE abx.antibiotic_date >= c.chartdate
        END AS culture_first
    FROM abx
    JOIN cultures AS c
      ON c.subject_id = abx.subject_id
     AND (
        (c.charttime IS NOT NULL
            AND abx.antibiotic_time > c.charttime
            AND abx.antibiotic_time <= c.charttime + INTERVAL 72 HOUR)
        OR (c.charttime IS NOT NULL
            AND abx.antibiotic_time <= c.charttime
            AND abx.antibiotic_time >= c.charttime - INTERVAL 24 HOUR)
        OR (c.charttime IS NULL
            AND abx.antibiotic_date BETWEEN c.chartdate - INTERVAL 1 DAY AND c.chartdate + INTERVAL 3 DAY)
     )
),
chosen AS (
    SELECT *
    FROM pairs
    QUALIFY row_number() OVER (
        PARTITION BY subject_id, ab_id
        ORDER BY culture_first DESC, culture_time, positiveculture DESC, micro_specimen_id
    ) = 1
)
SELECT
    abx.subject_id,
    abx.stay_id,
    abx.hadm_id,
    abx.ab_id,
    abx.antibiotic,
    abx.antibiotic_time,
    CASE WHEN chosen.ab_id IS NULL THEN 0 ELSE 1 END AS suspected_infection,
    CASE
        WHEN chosen.ab_id IS NULL THEN NULL
        WHEN chosen.culture_first THEN chosen.culture_time
        ELSE abx.antibiotic_time
    END AS suspected_infection_time,
    chosen.culture_time,
    chosen.spec_type_desc AS specimen,
    chosen.positiveculture AS positive_culture
FROM abx
LEFT JOIN chosen ON chosen.subject_id = abx.subject_id AND chosen.ab_id = abx.ab_id
