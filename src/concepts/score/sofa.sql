-- @table One row per ICU stay and hour (mimiciv_derived.icustay_hourly): the worst values of the hour, the six SOFA organ scores of the hour, and the rolling 24-hour SOFA (each organ's worst score over the last 24 hours, summed).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column hr: Hour number (see mimiciv_derived.icustay_hourly; negative hours precede ICU admission).
-- @column starttime: Start of the hour.
-- @column endtime: End of the hour.
-- @column pao2fio2ratio_novent: Lowest arterial PaO2/FiO2 of the hour while not ventilated, mmHg.
-- @column pao2fio2ratio_vent: Lowest arterial PaO2/FiO2 of the hour while ventilated, mmHg.
-- @column rate_epinephrine: Highest epinephrine rate of the hour, mcg/kg/min.
-- @column rate_norepinephrine: Highest norepinephrine rate of the hour, mcg/kg/min.
-- @column rate_dopamine: Highest dopamine rate of the hour, mcg/kg/min.
-- @column rate_dobutamine: Highest dobutamine rate of the hour, mcg/kg/min.
-- @column meanbp_min: Lowest mean blood pressure of the hour, mmHg.
-- @column gcs_min: Lowest Glasgow Coma Scale of the hour.
-- @column uo_24hr: Lowest 24-hour urine output (mL) charted in the hour, when a full 24 hours of output is covered.
-- @column bilirubin_max: Highest total bilirubin of the hour, mg/dL.
-- @column creatinine_max: Highest creatinine of the hour, mg/dL.
-- @column platelet_min: Lowest platelet count of the hour, K/uL.
-- @column respiration: Respiratory SOFA score of the hour (0-4; NULL without data).
-- @column coagulation: Coagulation SOFA score of the hour (0-4).
-- @column liver: Liver SOFA score of the hour (0-4).
-- @column cardiovascular: Cardiovascular SOFA score of the hour (0-4).
-- @column cns: Central nervous system SOFA score of the hour (0-4).
-- @column renal: Renal SOFA score of the hour (0-4).
-- @column respiration_24hours: Worst respiratory score over the 24 hours ending with this hour (0 without data).
-- @column coagulation_24hours: Worst coagulation score over the last 24 hours.
-- @column liver_24hours: Worst liver score over the last 24 hours.
-- @column cardiovascular_24hours: Worst cardiovascular score over the last 24 hours.
-- @column cns_24hours: Worst CNS score over the last 24 hours.
-- @column renal_24hours: Worst renal score over the last 24 hours.
-- @column sofa_24hours: SOFA score over the last 24 hours: the sum of the six *_24hours scores (0-24).
--
-- Definition: Vincent JL, et al. The SOFA (Sepsis-related Organ Failure Assessment) score
-- to describe organ dysfunction/failure. Intensive Care Med 1996;22:707-10.
-- Respiration, PaO2/FiO2 (mmHg): < 400 1, < 300 2, < 200 with respiratory support 3,
-- < 100 with support 4 (support: a period of mimiciv_derived.ventilation).
-- Coagulation, platelets (K/uL): < 150 1, < 100 2, < 50 3, < 20 4.
-- Liver, bilirubin (mg/dL): 1.2-1.9 1, 2.0-5.9 2, 6.0-11.9 3, >= 12 4.
-- Cardiovascular: MAP < 70 mmHg 1; dopamine <= 5 or any dobutamine 2; dopamine > 5,
-- epinephrine <= 0.1 or norepinephrine <= 0.1 3; dopamine > 15, epinephrine > 0.1 or
-- norepinephrine > 0.1 4 (mcg/kg/min).
-- CNS, GCS: 13-14 1, 10-12 2, 6-9 3, < 6 4.
-- Renal: creatinine (mg/dL) 1.2-1.9 1, 2.0-3.4 2, 3.5-4.9 or urine < 500 mL/day 3,
-- >= 5.0 or urine < 200 mL/day 4.
-- A missing organ counts 0 in the 24-hour sum, as in mimic-code's table: on a data set
-- without chartevents (the demo) MAP and GCS are unknown, so the cardiovascular score rests
-- on vasopressors alone and the CNS score is 0.
-- Labs and blood gases are matched to the stay by patient and time; vital signs, GCS,
-- urine output and infusions by stay.
WITH grid AS (
    SELECT t.stay_id, icu.subject_id, date_trunc('hour', t.intime_hr) AS hour0,
           max(h.hr) AS last_hr
    FROM mimiciv_derived.icustay_times AS t
    JOIN mimiciv_icu.icustays AS icu ON icu.stay_id = t.stay_id
    JOIN mimiciv_derived.icustay_hourly AS h ON h.stay_id = t.stay_id
    GROUP BY t.stay_id, icu.subject_id, date_trunc('hour', t.intime_hr)
),
pf AS (
    SELECT
        g.stay_id,
        CAST(floor(date_diff('second', g.hour0, bg.charttime) / 3600) AS BIGINT) AS hr,
        min(bg.pao2fio2ratio) FILTER (WHERE vent.stay_id IS NULL) AS pao2fio2ratio_novent,
        min(bg.pao2fio2ratio) FILTER (WHERE vent.stay_id IS NOT NULL) AS pao2fio2ratio_vent
    FROM grid AS g
    JOIN mimiciv_derived.bg AS bg
      ON bg.subject_id = g.subject_id
     AND bg.specimen = 'ART.'
     AND bg.pao2fio2ratio IS NOT NULL
     AND bg.charttime >= g.hour0 - INTERVAL 24 HOUR
     AND bg.charttime < g.hour0 + (g.last_hr + 1) * INTERVAL 1 HOUR
    LEFT JOIN mimiciv_derived.ventilation AS vent
      ON vent.stay_id = g.stay_id AND bg.charttime >= vent.starttime AND bg.charttime <= vent.endtime
    GROUP BY 1, 2
),
labs AS (
    SELECT stay_id, hr, max(bilirubin) AS bilirubin_max, max(creatinine) AS creatinine_max,
           min(platelet) AS platelet_min
    FROM (
        SELECT g.stay_id, g.hour0, g.last_hr, e.charttime, e.bilirubin_total AS bilirubin,
               NULL::DOUBLE AS creatinine, NULL::DOUBLE AS platelet
        FROM grid AS g JOIN mimiciv_derived.enzyme AS e ON e.subject_id = g.subject_id
        WHERE e.bilirubin_total IS NOT NULL
        UNION ALL
        SELECT g.stay_id, g.hour0, g.last_hr, c.charttime, NULL, c.creatinine, NULL
        FROM grid AS g JOIN mimiciv_derived.chemistry AS c ON c.subject_id = g.subject_id
        WHERE c.creatinine IS NOT NULL
        UNION ALL
        SELECT g.stay_id, g.hour0, g.last_hr, b.charttime, NULL, NULL, b.platelet
        FROM grid AS g JOIN mimiciv_derived.complete_blood_count AS b ON b.subject_id = g.subject_id
        WHERE b.platelet IS NOT NULL
    ) AS l,
    LATERAL (SELECT CAST(floor(date_diff('second', l.hour0, l.charttime) / 3600) AS BIGINT) AS hr) AS x
    WHERE x.hr BETWEEN -24 AND l.last_hr
    GROUP BY stay_id, hr
),
vitals AS (
    SELECT g.stay_id, CAST(floor(date_diff('second', g.hour0, v.charttime) / 3600) AS BIGINT) AS hr,
           min(v.mbp) AS meanbp_min
    FROM grid AS g JOIN mimiciv_derived.vitalsign AS v ON v.stay_id = g.stay_id
    WHERE v.mbp IS NOT NULL
    GROUP BY 1, 2
),
coma AS (
    SELECT g.stay_id, CAST(floor(date_diff('second', g.hour0, s.charttime) / 3600) AS BIGINT) AS hr,
           min(s.gcs) AS gcs_min
    FROM grid AS g JOIN mimiciv_derived.gcs AS s ON s.stay_id = g.stay_id
    WHERE s.gcs IS NOT NULL
    GROUP BY 1, 2
),
urine AS (
    SELECT g.stay_id, CAST(floor(date_diff('second', g.hour0, u.charttime) / 3600) AS BIGINT) AS hr,
           min(u.urineoutput_24hr) AS uo_24hr
    FROM grid AS g JOIN mimiciv_derived.kdigo_uo AS u ON u.stay_id = g.stay_id
    WHERE u.uo_tm_24hr >= 24
    GROUP BY 1, 2
),
pressors AS (
    SELECT va.stay_id, h.hr,
           max(va.epinephrine) AS rate_epinephrine, max(va.norepinephrine) AS rate_norepinephrine,
           max(va.dopamine) AS rate_dopamine, max(va.dobutamine) AS rate_dobutamine
    FROM mimiciv_derived.vasoactive_agent AS va
    JOIN grid AS g ON g.stay_id = va.stay_id,
    LATERAL (
        SELECT unnest(range(
            CAST(floor(date_diff('second', g.hour0, va.starttime) / 3600) AS BIGINT),
            CAST(floor((date_diff('second', g.hour0, va.endtime) - 1) / 3600) AS BIGINT) + 1
        )) AS hr
    ) AS h
    GROUP BY 1, 2
),
hourly AS (
    SELECT
        ih.stay_id, ih.hr, ih.starttime, ih.endtime,
        pf.pao2fio2ratio_novent, pf.pao2fio2ratio_vent,
        p.rate_epinephrine, p.rate_norepinephrine, p.rate_dopamine, p.rate_dobutamine,
        v.meanbp_min, c.gcs_min, u.uo_24hr,
        l.bilirubin_max, l.creatinine_max, l.platelet_min
    FROM mimiciv_derived.icustay_hourly AS ih
    LEFT JOIN pf ON pf.stay_id = ih.stay_id AND pf.hr = ih.hr
    LEFT JOIN pressors AS p ON p.stay_id = ih.stay_id AND p.hr = ih.hr
    LEFT JOIN vitals AS v ON v.stay_id = ih.stay_id AND v.hr = ih.hr
    LEFT JOIN coma AS c ON c.stay_id = ih.stay_id AND c.hr = ih.hr
    LEFT JOIN urine AS u ON u.stay_id = ih.stay_id AND u.hr = ih.hr
    LEFT JOIN labs AS l ON l.stay_id = ih.stay_id AND l.hr = ih.hr
),
scored AS (
    SELECT
        hourly.*,
        CASE
            WHEN pao2fio2ratio_vent < 100 THEN 4
            WHEN pao2fio2ratio_vent < 200 THEN 3
            WHEN pao2fio2ratio_novent < 300 OR pao2fio2ratio_vent < 300 THEN 2
            WHEN pao2fio2ratio_novent < 400 OR pao2fio2ratio_vent < 400 THEN 1
            WHEN pao2fio2ratio_novent IS NULL AND pao2fio2ratio_vent IS NULL THEN NULL
            ELSE 0
        END AS respiration,
        CASE
            WHEN platelet_min < 20 THEN 4
            WHEN platelet_min < 50 THEN 3
            WHEN platelet_min < 100 THEN 2
            WHEN platelet_min < 150 THEN 1
            WHEN platelet_min IS NULL THEN NULL
            ELSE 0
        END AS coagulation,
        CASE
            WHEN bilirubin_max >= 12 THEN 4
            WHEN bilirubin_max >= 6 THEN 3
            WHEN bilirubin_max >= 2 THEN 2
            WHEN bilirubin_max >= 1.2 THEN 1
            WHEN bilirubin_max IS NULL THEN NULL
            ELSE 0
        END AS liver,
        CASE
            WHEN rate_dopamine > 15 OR rate_epinephrine > 0.1 OR rate_norepinephrine > 0.1 THEN 4
            WHEN rate_dopamine > 5 OR rate_epinephrine > 0 OR rate_norepinephrine > 0 THEN 3
            WHEN rate_dopamine > 0 OR rate_dobutamine > 0 THEN 2
            WHEN meanbp_min < 70 THEN 1
            WHEN coalesce(meanbp_min, rate_dopamine, rate_dobutamine, rate_epinephrine, rate_norepinephrine) IS NULL THEN NULL
            ELSE 0
        END AS cardiovascular,
        CASE
            WHEN gcs_min < 6 THEN 4
            WHEN gcs_min < 10 THEN 3
            WHEN gcs_min < 13 THEN 2
            WHEN gcs_min < 15 THEN 1
            WHEN gcs_min IS NULL THEN NULL
            ELSE 0
        END AS cns,
        CASE
            WHEN creatinine_max >= 5 OR uo_24hr < 200 THEN 4
            WHEN creatinine_max >= 3.5 OR uo_24hr < 500 THEN 3
            WHEN creatinine_max >= 2 THEN 2
            WHEN creatinine_max >= 1.2 THEN 1
            WHEN creatinine_max IS NULL AND uo_24hr IS NULL THEN NULL
            ELSE 0
        END AS renal
    FROM hourly
),
rolling AS (
    SELECT
        scored.*,
        coalesce(max(respiration) OVER day, 0) AS respiration_24hours,
        coalesce(max(coagulation) OVER day, 0) AS coagulation_24hours,
        coalesce(max(liver) OVER day, 0) AS liver_24hours,
        coalesce(max(cardiovascular) OVER day, 0) AS cardiovascular_24hours,
        coalesce(max(cns) OVER day, 0) AS cns_24hours,
        coalesce(max(renal) OVER day, 0) AS renal_24hours
    FROM scored
    WINDOW day AS (PARTITION BY stay_id ORDER BY hr ROWS BETWEEN 23 PRECEDING AND CURRENT ROW)
)
SELECT
    *,
    respiration_24hours + coagulation_24hours + liver_24hours + cardiovascular_24hours
        + cns_24hours + renal_24hours AS sofa_24hours
FROM rolling
