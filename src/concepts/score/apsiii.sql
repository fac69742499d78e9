-- @table One row per ICU stay: the Acute Physiology Score III (APS III, the physiology part of APACHE III) of the first 24 hours in the ICU, its component points and the in-hospital mortality it predicts.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column apsiii: APS III (0-252), the sum of the points (a missing component counts 0).
-- @column apsiii_prob: Predicted in-hospital mortality: 1 / (1 + exp(-(-4.4360 + 0.04726 x APS III))) (Johnson's calibration for MIMIC).
-- @column hr_score: Points for heart rate (0-17), the worse of the first-day lowest and highest.
-- @column mbp_score: Points for mean blood pressure (0-23), the worse of lowest and highest.
-- @column temp_score: Points for temperature (0-20), the worse of lowest and highest.
-- @column resp_rate_score: Points for respiratory rate (0-18), the worse of lowest and highest; 6-12 breaths/min score 0 when invasively ventilated on the first day.
-- @column pao2_aado2_score: Points for oxygenation (0-15), the worst arterial gas: A-aDO2 when intubated with FiO2 >= 50 %, PaO2 otherwise.
-- @column hematocrit_score: Points for haematocrit (0 or 3), the worse of lowest and highest.
-- @column wbc_score: Points for white cell count (0-19), the worse of lowest and highest.
-- @column creatinine_score: Points for creatinine (0-10): 10 for creatinine >= 1.5 mg/dL with acute renal failure, else the worse of lowest and highest (0-7).
-- @column uo_score: Points for the 24-hour urine output (0-15).
-- @column bun_score: Points for the highest urea nitrogen (0-12).
-- @column sodium_score: Points for sodium (0-4), the worse of lowest and highest.
-- @column albumin_score: Points for albumin (0-11), the worse of lowest and highest.
-- @column bilirubin_score: Points for the highest total bilirubin (0-16).
-- @column glucose_score: Points for glucose (0-9), the worse of lowest and highest (laboratory and bedside).
-- @column acidbase_score: Points for acid-base status (0-12), the worst pH / PaCO2 pair of one arterial gas.
-- @column gcs_score: Points for the neurological grid of eyes, verbal and motor response at the lowest GCS (0-48); 0 when the verbal response could not be assessed (intubated).
--
-- Definition: Knaus WA, Wagner DP, Draper EA, Zimmerman JE, Bergner M, Bastos PG, et al.
-- The APACHE III prognostic system. Risk prediction of hospital mortality for critically
-- ill hospitalized adults. Chest 1991;100:1619-36 (the weights of the acute physiology
-- score, its acid-base grid and its neurological grid). The mortality equation is the
-- one mimic-code reports for MIMIC (Johnson AEW, Mortality prediction and acuity
-- assessment in critical care, DPhil thesis, University of Oxford, 2015); APACHE III's
-- own equation also needs the diagnosis and the chronic health points, which this table
-- does not have.
-- Window and sources: vital signs from first_day_vitalsign (the first 24 hours), labs from
-- first_day_lab (6 hours before to 24 hours after ICU admission), bedside glucose from
-- first_day_vitalsign, GCS from first_day_gcs, urine output from first_day_urine_output,
-- arterial gases (specimen ART.) from bg in the first_day_bg window; intubation is
-- invasive ventilation in mimiciv_derived.ventilation at the time of the gas (an absent
-- FiO2 counts as room air). Acute renal failure is creatinine >= 1.5 mg/dL with urine
-- output < 410 mL in the 24 hours and no chronic dialysis (the admission coded with
-- end-stage renal disease or dialysis dependence: ICD-9 585.6, V45.11; ICD-10 N18.6, Z99.2).
-- A "worst" value scores the higher of the points of the lowest and the highest value.
-- Differences from mimic-code's table: mimic-code takes the value furthest from a fixed
-- reference (heart rate 75, mean pressure 90, ...) rather than the one that scores
-- higher; gives 0 for any respiratory rate below 14 when ventilated (the definition
-- exempts 6-12); scores PaO2 only when the patient is not ventilated (a ventilated patient
-- on FiO2 < 50 % gets no oxygenation points there, here PaO2 is scored, as the definition
-- says); proxies chronic dialysis by chronic kidney disease stages 4-5 as well; takes the
-- gases of the whole ICU stay (here those of the first day, from 6 hours before ICU
-- admission); and scores GCS components missing from the lowest charting as NULL (here
-- they count as normal, as in first_day_gcs).
WITH gas AS (
    SELECT
        icu.stay_id,
        bg.po2, bg.pco2, bg.ph,
        coalesce(bg.fio2, bg.fio2_chartevents, 21) AS fio2,
        coalesce(bg.aado2, bg.aado2_calc) AS aado2,
        EXISTS (
            SELECT 1 FROM mimiciv_derived.ventilation AS v
            WHERE v.stay_id = icu.stay_id AND v.ventilation_status = 'InvasiveVent'
              AND bg.charttime BETWEEN v.starttime AND v.endtime
        ) AS intubated
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.bg AS bg
      ON bg.subject_id = icu.subject_id AND bg.specimen = 'ART.'
     AND bg.charttime >= icu.intime - INTERVAL 6 HOUR AND bg.charttime <= icu.intime + INTERVAL 1 DAY
),
gas_points AS (
    SELECT
        stay_id,
        CASE
            WHEN intubated AND fio2 >= 50 THEN
                CASE WHEN aado2 IS NULL THEN NULL WHEN aado2 < 100 THEN 0 WHEN aado2 < 250 THEN 7
                     WHEN aado2 < 350 THEN 9 WHEN aado2 < 500 THEN 11 ELSE 14 END
            WHEN po2 IS NULL THEN NULL WHEN po2 < 50 THEN 15 WHEN po2 < 70 THEN 5 WHEN po2 < 80 THEN 2 ELSE 0
        END AS oxygenation_points,
        CASE
            WHEN ph IS NULL OR pco2 IS NULL THEN NULL
            WHEN ph < 7.20 THEN CASE WHEN pco2 < 50 THEN 12 ELSE 4 END
            WHEN ph < 7.30 THEN CASE WHEN pco2 < 30 THEN 9 WHEN pco2 < 40 THEN 6 WHEN pco2 < 50 THEN 3 ELSE 2 END
            WHEN ph < 7.35 THEN CASE WHEN pco2 < 30 THEN 9 WHEN pco2 < 45 THEN 0 ELSE 1 END
            WHEN ph < 7.45 THEN CASE WHEN pco2 < 30 THEN 5 WHEN pco2 < 45 THEN 0 ELSE 1 END
            WHEN ph < 7.50 THEN CASE WHEN pco2 < 30 THEN 5 WHEN pco2 < 35 THEN 0 WHEN pco2 < 45 THEN 2 ELSE 12 END
            WHEN ph < 7.60 THEN CASE WHEN pco2 < 40 THEN 3 ELSE 12 END
            ELSE CASE WHEN pco2 < 25 THEN 0 WHEN pco2 < 40 THEN 3 ELSE 12 END
        END AS acidbase_points
    FROM gas
),
gases AS (
    SELECT stay_id, max(oxygenation_points) AS pao2_aado2_score, max(acidbase_points) AS acidbase_score
    FROM gas_points
    GROUP BY stay_id
),
chronic_dialysis AS (
    SELECT DISTINCT hadm_id
    FROM mimiciv_hosp.diagnoses_icd
    WHERE (icd_version = 9 AND icd_code IN ('5856', 'V4511'))
       OR (icd_version = 10 AND icd_code IN ('N186', 'Z992'))
),
inputs AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id,
        v.heart_rate_min, v.heart_rate_max, v.mbp_min, v.mbp_max,
        v.temperature_min, v.temperature_max, v.resp_rate_min, v.resp_rate_max,
        l.hematocrit_min, l.hematocrit_max, l.wbc_min, l.wbc_max,
        l.creatinine_min, l.creatinine_max, l.bun_max, l.sodium_min, l.sodium_max,
        l.albumin_min, l.albumin_max, l.bilirubin_total_max,
        least(l.glucose_min, v.glucose_min) AS glucose_min,
        greatest(l.glucose_max, v.glucose_max) AS glucose_max,
        uo.urineoutput,
        g.gcs_unable,
        CASE WHEN g.gcs_eyes IS NULL AND g.gcs_verbal IS NULL AND g.gcs_motor IS NULL THEN NULL
             ELSE coalesce(g.gcs_eyes, 4) END AS eyes,
        coalesce(g.gcs_verbal, 5) AS verbal,
        coalesce(g.gcs_motor, 6) AS motor,
        gases.pao2_aado2_score, gases.acidbase_score,
        EXISTS (
            SELECT 1 FROM mimiciv_derived.ventilation AS vent
            WHERE vent.stay_id = icu.stay_id AND vent.ventilation_status = 'InvasiveVent'
              AND vent.starttime <= icu.intime + INTERVAL 1 DAY AND vent.endtime >= icu.intime
        ) AS ventilated,
        coalesce(l.creatinine_max >= 1.5 AND uo.urineoutput < 410 AND cd.hadm_id IS NULL, false) AS arf
    FROM mimiciv_icu.icustays AS icu
    LEFT JOIN mimiciv_derived.first_day_vitalsign AS v ON v.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_lab AS l ON l.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_gcs AS g ON g.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_urine_output AS uo ON uo.stay_id = icu.stay_id
    LEFT JOIN gases ON gases.stay_id = icu.stay_id
    LEFT JOIN chronic_dialysis AS cd ON cd.hadm_id = icu.hadm_id
),
-- Points of the lowest and the highest value; NULL without a value.
points AS (
    SELECT
        inputs.*,
        CASE WHEN heart_rate_min < 40 THEN 8 WHEN heart_rate_min < 50 THEN 5 WHEN heart_rate_min < 100 THEN 0 WHEN heart_rate_min < 110 THEN 1 WHEN heart_rate_min < 120 THEN 5 WHEN heart_rate_min < 140 THEN 7 WHEN heart_rate_min < 155 THEN 13 WHEN heart_rate_min IS NOT NULL THEN 17 END AS hr_lo,
        CASE WHEN heart_rate_max < 40 THEN 8 WHEN heart_rate_max < 50 THEN 5 WHEN heart_rate_max < 100 THEN 0 WHEN heart_rate_max < 110 THEN 1 WHEN heart_rate_max < 120 THEN 5 WHEN heart_rate_max < 140 THEN 7 WHEN heart_rate_max < 155 THEN 13 WHEN heart_rate_max IS NOT NULL THEN 17 END AS hr_hi,
        CASE WHEN mbp_min < 40 THEN 23 WHEN mbp_min < 60 THEN 15 WHEN mbp_min < 70 THEN 7 WHEN mbp_min < 80 THEN 6 WHEN mbp_min < 100 THEN 0 WHEN mbp_min < 120 THEN 4 WHEN mbp_min < 130 THEN 7 WHEN mbp_min < 140 THEN 9 WHEN mbp_min IS NOT NULL THEN 10 END AS mbp_lo,
        CASE WHEN mbp_max < 40 THEN 23 WHEN mbp_max < 60 THEN 15 WHEN mbp_max < 70 THEN 7 WHEN mbp_max < 80 THEN 6 WHEN mbp_max < 100 THEN 0 WHEN mbp_max < 120 THEN 4 WHEN mbp_max < 130 THEN 7 WHEN mbp_max < 140 THEN 9 WHEN mbp_max IS NOT NULL THEN 10 END AS mbp_hi,
        CASE WHEN temperature_min < 33 THEN 20 WHEN temperature_min < 33.5 THEN 16 WHEN temperature_min < 34 THEN 13 WHEN temperature_min < 35 THEN 8 WHEN temperature_min < 36 THEN 2 WHEN temperature_min < 40 THEN 0 WHEN temperature_min IS NOT NULL THEN 4 END AS temp_lo,
        CASE WHEN temperature_max < 33 THEN 20 WHEN temperature_max < 33.5 THEN 16 WHEN temperature_max < 34 THEN 13 WHEN temperature_max < 35 THEN 8 WHEN temperature_max < 36 THEN 2 WHEN temperature_max < 40 THEN 0 WHEN temperature_max IS NOT NULL THEN 4 END AS temp_hi,
        CASE WHEN ventilated AND resp_rate_min >= 6 AND resp_rate_min < 13 THEN 0 WHEN resp_rate_min < 6 THEN 17 WHEN resp_rate_min < 12 THEN 8 WHEN resp_rate_min < 14 THEN 7 WHEN resp_rate_min < 25 THEN 0 WHEN resp_rate_min < 35 THEN 6 WHEN resp_rate_min < 40 THEN 9 WHEN resp_rate_min < 50 THEN 11 WHEN resp_rate_min IS NOT NULL THEN 18 END AS rr_lo,
        CASE WHEN ventilated AND resp_rate_max >= 6 AND resp_rate_max < 13 THEN 0 WHEN resp_rate_max < 6 THEN 17 WHEN resp_rate_max < 12 THEN 8 WHEN resp_rate_max < 14 THEN 7 WHEN resp_rate_max < 25 THEN 0 WHEN resp_rate_max < 35 THEN 6 WHEN resp_rate_max < 40 THEN 9 WHEN resp_rate_max < 50 THEN 11 WHEN resp_rate_max IS NOT NULL THEN 18 END AS rr_hi,
        CASE WHEN hematocrit_min < 41 THEN 3 WHEN hematocrit_min < 50 THEN 0 WHEN hematocrit_min IS NOT NULL THEN 3 END AS hct_lo,
        CASE WHEN hematocrit_max < 41 THEN 3 WHEN hematocrit_max < 50 THEN 0 WHEN hematocrit_max IS NOT NULL THEN 3 END AS hct_hi,
        CASE WHEN wbc_min < 1 THEN 19 WHEN wbc_min < 3 THEN 5 WHEN wbc_min < 20 THEN 0 WHEN wbc_min < 25 THEN 1 WHEN wbc_min IS NOT NULL THEN 5 END AS wbc_lo,
        CASE WHEN wbc_max < 1 THEN 19 WHEN wbc_max < 3 THEN 5 WHEN wbc_max < 20 THEN 0 WHEN wbc_max < 25 THEN 1 WHEN wbc_max IS NOT NULL THEN 5 END AS wbc_hi,
        CASE WHEN creatinine_min < 0.5 THEN 3 WHEN creatinine_min < 1.5 THEN 0 WHEN creatinine_min < 1.95 THEN 4 WHEN creatinine_min IS NOT NULL THEN 7 END AS creat_lo,
        CASE WHEN creatinine_max < 0.5 THEN 3 WHEN creatinine_max < 1.5 THEN 0 WHEN creatinine_max < 1.95 THEN 4 WHEN creatinine_max IS NOT NULL THEN 7 END AS creat_hi,
        CASE WHEN sodium_min < 120 THEN 3 WHEN sodium_min < 135 THEN 2 WHEN sodium_min < 155 THEN 0 WHEN sodium_min IS NOT NULL THEN 4 END AS sodium_lo,
        CASE WHEN sodium_max < 120 THEN 3 WHEN sodium_max < 135 THEN 2 WHEN sodium_max < 155 THEN 0 WHEN sodium_max IS NOT NULL THEN 4 END AS sodium_hi,
        CASE WHEN albumin_min < 2 THEN 11 WHEN albumin_min < 2.5 THEN 6 WHEN albumin_min < 4.5 THEN 0 WHEN albumin_min IS NOT NULL THEN 4 END AS albumin_lo,
        CASE WHEN albumin_max < 2 THEN 11 WHEN albumin_max < 2.5 THEN 6 WHEN albumin_max < 4.5 THEN 0 WHEN albumin_max IS NOT NULL THEN 4 END AS albumin_hi,
        CASE WHEN glucose_min < 40 THEN 8 WHEN glucose_min < 60 THEN 9 WHEN glucose_min < 200 THEN 0 WHEN glucose_min < 350 THEN 3 WHEN glucose_min IS NOT NULL THEN 5 END AS glucose_lo,
        CASE WHEN glucose_max < 40 THEN 8 WHEN glucose_max < 60 THEN 9 WHEN glucose_max < 200 THEN 0 WHEN glucose_max < 350 THEN 3 WHEN glucose_max IS NOT NULL THEN 5 END AS glucose_hi
    FROM inputs
),
scores AS (
    SELECT
        subject_id, hadm_id, stay_id,
        greatest(hr_lo, hr_hi) AS hr_score,
        greatest(mbp_lo, mbp_hi) AS mbp_score,
        greatest(temp_lo, temp_hi) AS temp_score,
        greatest(rr_lo, rr_hi) AS resp_rate_score,
        pao2_aado2_score,
        greatest(hct_lo, hct_hi) AS hematocrit_score,
        greatest(wbc_lo, wbc_hi) AS wbc_score,
        CASE WHEN arf THEN 10 ELSE greatest(creat_lo, creat_hi) END AS creatinine_score,
        CASE WHEN urineoutput IS NULL THEN NULL WHEN urineoutput < 400 THEN 15 WHEN urineoutput < 600 THEN 8
             WHEN urineoutput < 900 THEN 7 WHEN urineoutput < 1500 THEN 5 WHEN urineoutput < 2000 THEN 4
             WHEN urineoutput < 4000 THEN 0 ELSE 1 END AS uo_score,
        CASE WHEN bun_max IS NULL THEN NULL WHEN bun_max < 17 THEN 0 WHEN bun_max < 20 THEN 2 WHEN bun_max < 40 THEN 7
             WHEN bun_max < 80 THEN 11 ELSE 12 END AS bun_score,
        greatest(sodium_lo, sodium_hi) AS sodium_score,
        greatest(albumin_lo, albumin_hi) AS albumin_score,
        CASE WHEN bilirubin_total_max IS NULL THEN NULL WHEN bilirubin_total_max < 2 THEN 0 WHEN bilirubin_total_max < 3 THEN 5
             WHEN bilirubin_total_max < 5 THEN 6 WHEN bilirubin_total_max < 8 THEN 8 ELSE 16 END AS bilirubin_score,
        greatest(glucose_lo, glucose_hi) AS glucose_score,
        acidbase_score,
        -- The neurological grid; combinations the definition calls clinically unlikely
        -- (eyes closed with a verbal response above "inappropriate", or with obeying or
        -- localising motor responses and some verbal response) have no weight: NULL.
        CASE
            WHEN gcs_unable = 1 THEN 0
            WHEN eyes IS NULL THEN NULL
            WHEN eyes = 1 THEN
                CASE WHEN verbal = 1 AND motor >= 5 THEN 16 WHEN verbal = 1 AND motor >= 3 THEN 33 WHEN verbal = 1 THEN 48
                     WHEN verbal <= 3 AND motor >= 5 THEN NULL WHEN verbal <= 3 AND motor >= 3 THEN 24 WHEN verbal <= 3 THEN 29
                     ELSE NULL END
            ELSE
                CASE WHEN verbal = 5 AND motor = 6 THEN 0 WHEN verbal = 5 THEN 3
                     WHEN verbal = 4 AND motor = 6 THEN 3 WHEN verbal = 4 AND motor = 5 THEN 8 WHEN verbal = 4 THEN 13
                     WHEN verbal >= 2 AND motor = 6 THEN 10 WHEN verbal >= 2 AND motor = 5 THEN 13
                     WHEN verbal >= 2 AND motor >= 3 THEN 24 WHEN verbal >= 2 THEN 29
                     WHEN motor >= 5 THEN 15 WHEN motor >= 3 THEN 24 ELSE 29 END
        END AS gcs_score
    FROM points
),
total AS (
    SELECT
        scores.*,
        coalesce(hr_score, 0) + coalesce(mbp_score, 0) + coalesce(temp_score, 0) + coalesce(resp_rate_score, 0)
            + coalesce(pao2_aado2_score, 0) + coalesce(hematocrit_score, 0) + coalesce(wbc_score, 0)
            + coalesce(creatinine_score, 0) + coalesce(uo_score, 0) + coalesce(bun_score, 0)
            + coalesce(sodium_score, 0) + coalesce(albumin_score, 0) + coalesce(bilirubin_score, 0)
            + coalesce(glucose_score, 0) + coalesce(acidbase_score, 0) + coalesce(gcs_score, 0) AS apsiii
    FROM scores
)
SELECT
    subject_id, hadm_id, stay_id,
    apsiii,
    1 / (1 + exp(-(-4.4360 + 0.04726 * apsiii))) AS apsiii_prob,
    hr_score, mbp_score, temp_score, resp_rate_score, pao2_aado2_score, hematocrit_score, wbc_score,
    creatinine_score, uo_score, bun_score, sodium_score, albumin_score, bilirubin_score, glucose_score,
    acidbase_score, gcs_score
FROM total
