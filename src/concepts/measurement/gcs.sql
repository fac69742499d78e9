-- @table One row per ICU stay and charting time of a Glasgow Coma Scale component: the components and the total, with a verbal score imputed as normal when the patient is intubated.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column gcs: Total GCS (3-15); 15 when the patient is intubated and sedated-unable, see gcs_unable.
-- @column gcs_motor: Best motor response (1-6; 223901), carried forward up to 6 h when not charted at this time.
-- @column gcs_verbal: Best verbal response (1-5; 223900), 0 when intubated ("No Response-ETT"), carried forward up to 6 h.
-- @column gcs_eyes: Eye opening (1-4; 220739), carried forward up to 6 h.
-- @column gcs_unable: 1 when the verbal response could not be assessed because of an endotracheal tube.
--
-- Definition: Teasdale G, Jennett B. Assessment of coma and impaired consciousness.
-- Lancet 1974;2:81-4 (total = eyes + verbal + motor, 3-15). A component missing at a
-- charting time takes the same stay's previous value if charted within 6 hours. When
-- the verbal response is "No Response-ETT" the patient cannot speak because of the tube;
-- following the convention of the severity scores (Vincent 1996 for SOFA), the total is
-- then taken as 15 (normal), flagged by gcs_unable, rather than scoring the tube as 1.
WITH components AS (
    SELECT
        ce.subject_id, ce.stay_id, ce.charttime,
        max(ce.valuenum) FILTER (WHERE ce.itemid = 223901) AS motor,
        max(CASE WHEN ce.value = 'No Response-ETT' THEN 0 ELSE ce.valuenum END) FILTER (WHERE ce.itemid = 223900) AS verbal,
        max(ce.valuenum) FILTER (WHERE ce.itemid = 220739) AS eyes
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid IN (223901, 223900, 220739) AND ce.stay_id IS NOT NULL
    GROUP BY ce.subject_id, ce.stay_id, ce.charttime
),
-- A component missing at a charting takes the latest value of the previous 6 hours.
filled AS (
    SELECT
        c.subject_id, c.stay_id, c.charttime,
        coalesce(c.motor, last_value(c.motor IGNORE NULLS) OVER recent) AS gcs_motor,
        coalesce(c.verbal, last_value(c.verbal IGNORE NULLS) OVER recent) AS gcs_verbal,
        coalesce(c.eyes, last_value(c.eyes IGNORE NULLS) OVER recent) AS gcs_eyes
    FROM components AS c
    WINDOW recent AS (
        PARTITION BY c.stay_id ORDER BY c.charttime
        RANGE BETWEEN INTERVAL 6 HOUR PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW
    )
)
SELECT
    subject_id,
    stay_id,
    charttime,
    CASE
        WHEN gcs_verbal = 0 THEN 15
        WHEN gcs_motor IS NULL AND gcs_verbal IS NULL AND gcs_eyes IS NULL THEN NULL
        ELSE coalesce(gcs_motor, 6) + coalesce(gcs_verbal, 5) + coalesce(gcs_eyes, 4)
    END AS gcs,
    gcs_motor,
    gcs_verbal,
    gcs_eyes,
    CASE WHEN gcs_verbal = 0 THEN 1 ELSE 0 END AS gcs_unable
FROM filled
