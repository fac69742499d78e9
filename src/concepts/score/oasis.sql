-- @table One row per ICU stay: the Oxford Acute Severity of Illness Score (OASIS) of the first ICU day, its components and points, and the in-hospital mortality it predicts.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column oasis: OASIS (0-82), the sum of the component points (a missing component counts 0).
-- @column oasis_prob: Predicted in-hospital mortality: 1 / (1 + exp(-(-6.1746 + 0.1275 x oasis))).
-- @column age: Age at admission, years.
-- @column age_score: Points for age.
-- @column preiculos: Hours from hospital admission to ICU admission.
-- @column preiculos_score: Points for pre-ICU length of stay.
-- @column gcs: Lowest first-day GCS.
-- @column gcs_score: Points for GCS.
-- @column heartrate: The first-day heart rate (min or max) that scores worst, beats/min.
-- @column heart_rate_score: Points for heart rate.
-- @column meanbp: The first-day mean blood pressure that scores worst, mmHg.
-- @column meanbp_score: Points for mean blood pressure.
-- @column resprate: The first-day respiratory rate that scores worst, breaths/min.
-- @column resp_rate_score: Points for respiratory rate.
-- @column temp: The first-day temperature that scores worst, degrees C.
-- @column temp_score: Points for temperature.
-- @column urineoutput: First-day urine output, mL.
-- @column urineoutput_score: Points for urine output.
-- @column mechvent: 1 if mechanically ventilated on the first day (mimiciv_derived.ventilation, invasive).
-- @column mechvent_score: Points for ventilation.
-- @column electivesurgery: 1 if the admission was elective and the patient was under a surgical service before ICU admission.
-- @column electivesurgery_score: Points for elective surgery (0 if elective surgery, else 6).
--
-- Definition: Johnson AEW, Kramer AA, Clifford GD. A new severity of illness scale using
-- a subset of Acute Physiology And Chronic Health Evaluation data elements shows
-- comparable predictive accuracy. Crit Care Med 2013;41:1711-8 (points per component as
-- in its table 2, and the logistic model for mortality). First-day values from
-- first_day_vitalsign, first_day_gcs and first_day_urine_output; heart rate, blood
-- pressure, respiratory rate and temperature score the worse of their minimum and maximum.
WITH inputs AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id,
        age.age,
        date_diff('second', adm.admittime, icu.intime) / 3600.0 AS preiculos,
        g.gcs_min AS gcs,
        v.heart_rate_min, v.heart_rate_max, v.mbp_min, v.mbp_max,
        v.resp_rate_min, v.resp_rate_max, v.temperature_min, v.temperature_max,
        uo.urineoutput,
        CASE WHEN EXISTS (
            SELECT 1 FROM mimiciv_derived.ventilation AS vent
            WHERE vent.stay_id = icu.stay_id AND vent.ventilation_status = 'InvasiveVent'
              AND vent.starttime <= icu.intime + INTERVAL 1 DAY AND vent.endtime >= icu.intime
        ) THEN 1 ELSE 0 END AS mechvent,
        CASE WHEN adm.admission_type = 'ELECTIVE' AND EXISTS (
            SELECT 1 FROM mimiciv_hosp.services AS sv
            WHERE sv.hadm_id = icu.hadm_id AND sv.transfertime < icu.intime + INTERVAL 1 DAY
              AND (sv.curr_service LIKE '%SURG' OR sv.curr_service = 'ORTHO')
        ) THEN 1 ELSE 0 END AS electivesurgery
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_hosp.admissions AS adm ON adm.hadm_id = icu.hadm_id
    LEFT JOIN mimiciv_derived.age AS age ON age.hadm_id = icu.hadm_id
    LEFT JOIN mimiciv_derived.first_day_gcs AS g ON g.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_vitalsign AS v ON v.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_urine_output AS uo ON uo.stay_id = icu.stay_id
),
-- Points for each value; NULL without a value. Vital signs score the worse of min and max.
points AS (
    SELECT
        inputs.*,
        CASE WHEN age IS NULL THEN NULL WHEN age < 24 THEN 0 WHEN age <= 53 THEN 3
             WHEN age <= 77 THEN 6 WHEN age <= 89 THEN 9 ELSE 7 END AS age_score,
        CASE WHEN preiculos IS NULL THEN NULL WHEN preiculos < 0.17 THEN 5 WHEN preiculos < 4.95 THEN 3
             WHEN preiculos < 24 THEN 0 WHEN preiculos <= 311.8 THEN 2 ELSE 1 END AS preiculos_score,
        CASE WHEN gcs IS NULL THEN NULL WHEN gcs <= 7 THEN 10 WHEN gcs <= 13 THEN 4
             WHEN gcs = 14 THEN 3 ELSE 0 END AS gcs_score,
        CASE WHEN heart_rate_min < 33 THEN 4 WHEN heart_rate_min <= 88 THEN 0 WHEN heart_rate_min <= 106 THEN 1 WHEN heart_rate_min <= 125 THEN 3 WHEN heart_rate_min IS NOT NULL THEN 6 END AS hr_min_points,
        CASE WHEN heart_rate_max < 33 THEN 4 WHEN heart_rate_max <= 88 THEN 0 WHEN heart_rate_max <= 106 THEN 1 WHEN heart_rate_max <= 125 THEN 3 WHEN heart_rate_max IS NOT NULL THEN 6 END AS hr_max_points,
        CASE WHEN mbp_min < 20.65 THEN 4 WHEN mbp_min < 51 THEN 3 WHEN mbp_min < 61.33 THEN 2 WHEN mbp_min <= 143.44 THEN 0 WHEN mbp_min IS NOT NULL THEN 3 END AS mbp_min_points,
        CASE WHEN mbp_max < 20.65 THEN 4 WHEN mbp_max < 51 THEN 3 WHEN mbp_max < 61.33 THEN 2 WHEN mbp_max <= 143.44 THEN 0 WHEN mbp_max IS NOT NULL THEN 3 END AS mbp_max_points,
        CASE WHEN resp_rate_min < 6 THEN 10 WHEN resp_rate_min <= 12 THEN 1 WHEN resp_rate_min <= 22 THEN 0 WHEN resp_rate_min <= 30 THEN 1 WHEN resp_rate_min <= 44 THEN 6 WHEN resp_rate_min IS NOT NULL THEN 9 END AS rr_min_points,
        CASE WHEN resp_rate_max < 6 THEN 10 WHEN resp_rate_max <= 12 THEN 1 WHEN resp_rate_max <= 22 THEN 0 WHEN resp_rate_max <= 30 THEN 1 WHEN resp_rate_max <= 44 THEN 6 WHEN resp_rate_max IS NOT NULL THEN 9 END AS rr_max_points,
        CASE WHEN temperature_min < 33.22 THEN 3 WHEN temperature_min < 35.94 THEN 4 WHEN temperature_min < 36.4 THEN 2 WHEN temperature_min < 36.89 THEN 0 WHEN temperature_min <= 39.88 THEN 2 WHEN temperature_min IS NOT NULL THEN 6 END AS temp_min_points,
        CASE WHEN temperature_max < 33.22 THEN 3 WHEN temperature_max < 35.94 THEN 4 WHEN temperature_max < 36.4 THEN 2 WHEN temperature_max < 36.89 THEN 0 WHEN temperature_max <= 39.88 THEN 2 WHEN temperature_max IS NOT NULL THEN 6 END AS temp_max_points,
        CASE WHEN urineoutput IS NULL THEN NULL WHEN urineoutput < 671.09 THEN 10 WHEN urineoutput < 1427 THEN 5
             WHEN urineoutput < 2544.15 THEN 1 WHEN urineoutput <= 6896.8 THEN 0 ELSE 8 END AS urineoutput_score,
        CASE WHEN mechvent = 1 THEN 9 ELSE 0 END AS mechvent_score,
        CASE WHEN electivesurgery = 1 THEN 0 ELSE 6 END AS electivesurgery_score
    FROM inputs
),
worst AS (
    SELECT
        points.*,
        greatest(hr_min_points, hr_max_points) AS heart_rate_score,
        CASE WHEN coalesce(hr_max_points, -1) > coalesce(hr_min_points, -1) THEN heart_rate_max ELSE heart_rate_min END AS heartrate,
        greatest(mbp_min_points, mbp_max_points) AS meanbp_score,
        CASE WHEN coalesce(mbp_max_points, -1) > coalesce(mbp_min_points, -1) THEN mbp_max ELSE mbp_min END AS meanbp,
        greatest(rr_min_points, rr_max_points) AS resp_rate_score,
        CASE WHEN coalesce(rr_max_points, -1) > coalesce(rr_min_points, -1) THEN resp_rate_max ELSE resp_rate_min END AS resprate,
        greatest(temp_min_points, temp_max_points) AS temp_score,
        CASE WHEN coalesce(temp_max_points, -1) > coalesce(temp_min_points, -1) THEN temperature_max ELSE temperature_min END AS temp
    FROM points
),
total AS (
    SELECT
        worst.*,
        coalesce(age_score, 0) + coalesce(preiculos_score, 0) + coalesce(gcs_score, 0)
            + coalesce(heart_rate_score, 0) + coalesce(meanbp_score, 0) + coalesce(resp_rate_score, 0)
            + coalesce(temp_score, 0) + coalesce(urineoutput_score, 0) + mechvent_score
            + electivesurgery_score AS oasis
    FROM worst
)
SELECT
    subject_id, hadm_id, stay_id,
    oasis,
    1 / (1 + exp(-(-6.1746 + 0.1275 * oasis))) AS oasis_prob,
    age, age_score,
    preiculos, preiculos_score,
    gcs, gcs_score,
    heartrate, heart_rate_score,
    meanbp, meanbp_score,
    resprate, resp_rate_score,
    temp, temp_score,
    urineoutput, urineoutput_score,
    mechvent, mechvent_score,
    electivesurgery, electivesurgery_score
FROM total
