-- @table One row per ICU stay: demographics, hospital and ICU length of stay, and the stay's order within the patient's admissions and the admission's ICU stays.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column gender: Administrative sex, F or M.
-- @column dod: Date of death (in hospital or up to one year after discharge, from state records), shifted; NULL if not known to have died.
-- @column admittime: Hospital admission time.
-- @column dischtime: Hospital discharge time.
-- @column los_hospital: Hospital length of stay in days (calendar days between admittime and dischtime).
-- @column admission_age: Age in years at hospital admission (see mimiciv_derived.age).
-- @column race: Race as recorded at admission.
-- @column hospital_expire_flag: 1 if the patient died during this hospital admission.
-- @column hospstay_seq: Order of this admission among the patient's admissions (1 = first).
-- @column first_hosp_stay: True for the patient's first hospital admission.
-- @column icu_intime: ICU admission time.
-- @column icu_outtime: ICU discharge time.
-- @column los_icu: ICU length of stay in days (whole hours / 24, two decimals).
-- @column icustay_seq: Order of this ICU stay within the hospital admission (1 = first).
-- @column first_icu_stay: True for the first ICU stay of the hospital admission.
--
-- Definition: counts and sequences over mimiciv_icu.icustays, mimiciv_hosp.admissions and
-- mimiciv_hosp.patients; age as in mimiciv_derived.age. No clinical reference needed.
SELECT
    icu.subject_id,
    icu.hadm_id,
    icu.stay_id,
    pat.gender,
    pat.dod,
    adm.admittime,
    adm.dischtime,
    date_diff('day', adm.admittime, adm.dischtime) AS los_hospital,
    pat.anchor_age + (year(adm.admittime) - pat.anchor_year) AS admission_age,
    adm.race,
    adm.hospital_expire_flag,
    dense_rank() OVER (PARTITION BY adm.subject_id ORDER BY adm.admittime) AS hospstay_seq,
    dense_rank() OVER (PARTITION BY adm.subject_id ORDER BY adm.admittime) = 1 AS first_hosp_stay,
    icu.intime AS icu_intime,
    icu.outtime AS icu_outtime,
    round(date_diff('hour', icu.intime, icu.outtime) / 24.0, 2) AS los_icu,
    dense_rank() OVER (PARTITION BY icu.hadm_id ORDER BY icu.intime) AS icustay_seq,
    dense_rank() OVER (PARTITION BY icu.hadm_id ORDER BY icu.intime) = 1 AS first_icu_stay
FROM mimiciv_icu.icustays AS icu
JOIN mimiciv_hosp.admissions AS adm ON adm.hadm_id = icu.hadm_id
JOIN mimiciv_hosp.patients AS pat ON pat.subject_id = icu.subject_id
