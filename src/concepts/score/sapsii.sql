-- @table One row per ICU stay: the Simplified Acute Physiology Score II (SAPS II) of the first 24 hours in the ICU, its component points and the in-hospital mortality it predicts.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column starttime: Start of the scoring window (ICU intime).
-- @column endtime: End of the scoring window (intime + 24 h).
-- @column sapsii: SAPS II (0-163), the sum of the points (a missing component counts 0).
-- @column sapsii_prob: Predicted in-hospital mortality: logit = -7.7631 + 0.0737 x SAPS II + 0.9971 x ln(SAPS II + 1).
-- @column age_score: Points for age (0-18).
-- @column hr_score: Points for the worst heart rate (0-11).
-- @column sysbp_score: Points for the worst systolic blood pressure (0-13).
-- @column temp_score: Points for the highest temperature (0 or 3).
-- @column pao2fio2_score: Points for the lowest PaO2/FiO2 while ventilated (6-11); NULL when not ventilated.
-- @column uo_score: Points for the 24-hour urine output (0-11).
-- @column bun_score: Points for the highest urea nitrogen (0-10).
-- @column wbc_score: Points for the worst white cell count (0-12).
-- @column potassium_score: Points for the worst potassium (0 or 3).
-- @column sodium_score: Points for the worst sodium (0-5).
-- @column bicarbonate_score: Points for the lowest bicarbonate (0-6).
-- @column bilirubin_score: Points for the highest bilirubin (0-9).
-- @column gcs_score: Points for the lowest GCS (0-26).
-- @column comorbidity_score: Points for chronic disease: metastatic cancer 9, haematological malignancy 10, AIDS 17 (the highest applies).
-- @column admissiontype_score: Points for the type of admission: scheduled surgical 0, medical 6, unscheduled surgical 8.
--
-- Definition: Le Gall JR, Lemeshow S, Saulnier F. A new Simplified Acute Physiology
-- Score (SAPS II) based on a European/North American multicenter study. JAMA
-- 1993;270:2957-63 (points of its table 3 and its mortality equation). The window is the
-- first 24 hours of the stay; vital signs from first_day_vitalsign, GCS from
-- first_day_gcs, labs from first_day_lab, PaO2/FiO2 from arterial gases during
-- ventilation (mimiciv_derived.ventilation), chronic diseases from the admission's ICD
-- codes (metastases ICD-9 196-199 / ICD-10 C77-C80; haematological malignancy 200-208 /
-- C81-C96; AIDS 042-044 / B20-B24), surgery from a surgical service (mimiciv_hosp.services)
-- during the first day, scheduled when the admission was elective.
-- Differences from mimic-code's table: the first-day tables' window (6 hours before to 24
-- hours after ICU admission) is used for vitals and labs, as for the other first-day scores.
WITH vent_pf AS (
    SELECT icu.stay_id, min(bg.pao2fio2ratio) AS pao2fio2_vent_min
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.bg AS bg
      ON bg.subject_id = icu.subject_id AND bg.specimen = 'ART.'
     AND bg.charttime >= icu.intime AND bg.charttime <= icu.intime + INTERVAL 1 DAY
    JOIN mimiciv_derived.ventilation AS v
      ON v.stay_id = icu.stay_id AND bg.charttime BETWEEN v.starttime AND v.endtime
    GROUP BY icu.stay_id
),
chronic AS (
    SELECT
        hadm_id,
        max(CASE WHEN (icd_version = 9 AND left(icd_code, 3) BETWEEN '196' AND '199')
                   OR (icd_version = 10 AND left(icd_code, 3) BETWEEN 'C77' AND 'C80') THEN 1 ELSE 0 END) AS metastatic,
        max(CASE WHEN (icd_version = 9 AND left(icd_code, 3) BETWEEN '200' AND '208')
                   OR (icd_version = 10 AND left(icd_code, 3) BETWEEN 'C81' AND 'C96') THEN 1 ELSE 0 END) AS haematological,
        max(CASE WHEN (icd_version = 9 AND left(icd_code, 3) BETWEEN '042' AND '044')
                   OR (icd_version = 10 AND left(icd_code, 3) BETWEEN 'B20' AND 'B24') THEN 1 ELSE 0 END) AS aids
    FROM mimiciv_hosp.diagnoses_icd
    GROUP BY hadm_id
),
inputs AS (
    SELECT
        icu.subject_id, icu.hadm_id, icu.stay_id, icu.intime,
        age.age,
        v.heart_rate_min, v.heart_rate_max, v.sbp_min, v.sbp_max, v.temperature_max,
        pf.pao2fio2_vent_min,
        uo.urineoutput,
        l.bun_max, l.wbc_min, l.wbc_max, l.potassium_min, l.potassium_max,
        l.sodium_min, l.sodium_max, l.bicarbonate_min, l.bilirubin_total_max,
        g.gcs_min,
        c.metastatic, c.haematological, c.aids,
        EXISTS (
            SELECT 1 FROM mimiciv_hosp.services AS sv
            WHERE sv.hadm_id = icu.hadm_id AND sv.transfertime < icu.intime + INTERVAL 1 DAY
              AND (sv.curr_service LIKE '%SURG' OR sv.curr_service = 'ORTHO')
        ) AS surgical,
        adm.admission_type = 'ELECTIVE' AS scheduled
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_hosp.admissions AS adm ON adm.hadm_id = icu.hadm_id
    LEFT JOIN mimiciv_derived.age AS age ON age.hadm_id = icu.hadm_id
    LEFT JOIN mimiciv_derived.first_day_vitalsign AS v ON v.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_lab AS l ON l.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_gcs AS g ON g.stay_id = icu.stay_id
    LEFT JOIN mimiciv_derived.first_day_urine_output AS uo ON uo.stay_id = icu.stay_id
    LEFT JOIN vent_pf AS pf ON pf.stay_id = icu.stay_id
    LEFT JOIN chronic AS c ON c.hadm_id = icu.hadm_id
),
points AS (
    SELECT
        subject_id, hadm_id, stay_id, intime,
        CASE WHEN age IS NULL THEN NULL WHEN age < 40 THEN 0 WHEN age < 60 THEN 7 WHEN age < 70 THEN 12
             WHEN age < 75 THEN 15 WHEN age < 80 THEN 16 ELSE 18 END AS age_score,
        CASE WHEN heart_rate_min < 40 THEN 11 WHEN heart_rate_max >= 160 THEN 7 WHEN heart_rate_max >= 120 THEN 4
             WHEN heart_rate_min < 70 THEN 2 WHEN heart_rate_min IS NOT NULL THEN 0 END AS hr_score,
        CASE WHEN sbp_min < 70 THEN 13 WHEN sbp_min < 100 THEN 5 WHEN sbp_max >= 200 THEN 2
             WHEN sbp_min IS NOT NULL THEN 0 END AS sysbp_score,
        CASE WHEN temperature_max >= 39 THEN 3 WHEN temperature_max IS NOT NULL THEN 0 END AS temp_score,
        CASE WHEN pao2fio2_vent_min < 100 THEN 11 WHEN pao2fio2_vent_min < 200 THEN 9
             WHEN pao2fio2_vent_min IS NOT NULL THEN 6 END AS pao2fio2_score,
        CASE WHEN urineoutput < 500 THEN 11 WHEN urineoutput < 1000 THEN 4
             WHEN urineoutput IS NOT NULL THEN 0 END AS uo_score,
        CASE WHEN bun_max >= 84 THEN 10 WHEN bun_max >= 28 THEN 6 WHEN bun_max IS NOT NULL THEN 0 END AS bun_score,
        CASE WHEN wbc_min < 1 THEN 12 WHEN wbc_max >= 20 THEN 3 WHEN wbc_min IS NOT NULL THEN 0 END AS wbc_score,
        CASE WHEN potassium_min < 3 OR potassium_max >= 5 THEN 3 WHEN potassium_min IS NOT NULL THEN 0 END AS potassium_score,
        CASE WHEN sodium_min < 125 THEN 5 WHEN sodium_max >= 145 THEN 1 WHEN sodium_min IS NOT NULL THEN 0 END AS sodium_score,
        CASE WHEN bicarbonate_min < 15 THEN 6 WHEN bicarbonate_min < 20 THEN 3
             WHEN bicarbonate_min IS NOT NULL THEN 0 END AS bicarbonate_score,
        CASE WHEN bilirubin_total_max >= 6 THEN 9 WHEN bilirubin_total_max >= 4 THEN 4
             WHEN bilirubin_total_max IS NOT NULL THEN 0 END AS bilirubin_score,
        CASE WHEN gcs_min < 6 THEN 26 WHEN gcs_min < 9 THEN 13 WHEN gcs_min < 11 THEN 7 WHEN gcs_min < 14 THEN 5
             WHEN gcs_min IS NOT NULL THEN 0 END AS gcs_score,
        CASE WHEN aids = 1 THEN 17 WHEN haematological = 1 THEN 10 WHEN metastatic = 1 THEN 9 ELSE 0 END AS comorbidity_score,
        CASE WHEN surgical AND scheduled THEN 0 WHEN surgical THEN 8 ELSE 6 END AS admissiontype_score
    FROM inputs
),
total AS (
    SELECT
        points.*,
        coalesce(age_score, 0) + coalesce(hr_score, 0) + coalesce(sysbp_score, 0) + coalesce(temp_score, 0)
            + coalesce(pao2fio2_score, 0) + coalesce(uo_score, 0) + coalesce(bun_score, 0)
            + coalesce(wbc_score, 0) + coalesce(potassium_score, 0) + coalesce(sodium_score, 0)
            + coalesce(bicarbonate_score, 0) + coalesce(bilirubin_score, 0) + coalesce(gcs_score, 0)
            + comorbidity_score + admissiontype_score AS sapsii
    FROM points
)
SELECT
    subject_id, hadm_id, stay_id,
    intime AS starttime,
    intime + INTERVAL 1 DAY AS endtime,
    sapsii,
    1 / (1 + exp(-(-7.7631 + 0.0737 * sapsii + 0.9971 * ln(sapsii + 1)))) AS sapsii_prob,
    age_score, hr_score, sysbp_score, temp_score, pao2fio2_score, uo_score, bun_score, wbc_score,
    potassium_score, sodium_score, bicarbonate_score, bilirubin_score, gcs_score,
    comorbidity_score, admissiontype_score
FROM total
