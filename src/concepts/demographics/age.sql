-- @table One row per hospital admission: the patient's age in years at admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column admittime: Admission time (shifted, as every MIMIC-IV time).
-- @column anchor_age: The patient's age in their anchor year (mimiciv_hosp.patients).
-- @column anchor_year: The shifted year in which the patient was anchor_age years old.
-- @column age: Age at admission in years: anchor_age plus the calendar years between anchor_year and the admission year.
--
-- Definition: MIMIC-IV de-identifies dates by shifting each patient's timeline; the
-- only age it keeps is anchor_age, the age in the (shifted) anchor_year. The age at an
-- admission is anchor_age + (year of admittime - anchor_year), counting calendar years
-- as PhysioNet's documentation describes (Johnson et al., MIMIC-IV, Sci Data 2023).
-- Patients older than 89 have anchor_age 91 (HIPAA), so ages above 89 are not exact.
SELECT
    adm.subject_id,
    adm.hadm_id,
    adm.admittime,
    pat.anchor_age,
    pat.anchor_year,
    pat.anchor_age + (year(adm.admittime) - pat.anchor_year) AS age
FROM mimiciv_hosp.admissions AS adm
JOIN mimiciv_hosp.patients AS pat USING (subject_id)
