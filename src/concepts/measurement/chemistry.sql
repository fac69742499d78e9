-- @table One row per blood chemistry specimen (mimiciv_hosp.labevents grouped by specimen_id): the basic metabolic panel and proteins, one column per test.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column albumin: Albumin, g/dL (itemid 50862).
-- @column globulin: Globulin, g/dL (itemid 50930).
-- @column total_protein: Total protein, g/dL (itemid 50976).
-- @column aniongap: Anion gap, mEq/L (itemid 50868; may be zero or negative).
-- @column bicarbonate: Bicarbonate, mEq/L (itemid 50882).
-- @column bun: Urea nitrogen, mg/dL (itemid 51006).
-- @column calcium: Total calcium, mg/dL (itemid 50893).
-- @column chloride: Chloride, mEq/L (itemid 50902).
-- @column creatinine: Creatinine, mg/dL (itemid 50912).
-- @column glucose: Glucose, mg/dL (itemid 50931).
-- @column sodium: Sodium, mEq/L (itemid 50983).
-- @column potassium: Potassium, mEq/L (itemid 50971).
--
-- Definition: a pivot of MIMIC-IV laboratory item ids (mimiciv_hosp.d_labitems) by
-- specimen. Values must be positive (the anion gap excepted) and below a physiological
-- ceiling (albumin and globulin 10 g/dL, total protein 20 g/dL, BUN 300 mg/dL,
-- creatinine 150 mg/dL, sodium 200 mEq/L, potassium 30 mEq/L); others are discarded as
-- entry errors, the ceilings mimic-code's table applies.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) FILTER (WHERE itemid = 50862 AND valuenum <= 10) AS albumin,
    max(valuenum) FILTER (WHERE itemid = 50930 AND valuenum <= 10) AS globulin,
    max(valuenum) FILTER (WHERE itemid = 50976 AND valuenum <= 20) AS total_protein,
    max(valuenum) FILTER (WHERE itemid = 50868) AS aniongap,
    max(valuenum) FILTER (WHERE itemid = 50882) AS bicarbonate,
    max(valuenum) FILTER (WHERE itemid = 51006 AND valuenum <= 300) AS bun,
    max(valuenum) FILTER (WHERE itemid = 50893) AS calcium,
    max(valuenum) FILTER (WHERE itemid = 50902) AS chloride,
    max(valuenum) FILTER (WHERE itemid = 50912 AND valuenum <= 150) AS creatinine,
    max(valuenum) FILTER (WHERE itemid = 50931) AS glucose,
    max(valuenum) FILTER (WHERE itemid = 50983 AND valuenum <= 200) AS sodium,
    max(valuenum) FILTER (WHERE itemid = 50971 AND valuenum <= 30) AS potassium
FROM mimiciv_hosp.labevents
WHERE itemid IN (50862, 50930, 50976, 50868, 50882, 51006, 50893, 50902, 50912, 50931, 50983, 50971)
  AND valuenum IS NOT NULL
  AND (valuenum > 0 OR itemid = 50868)
GROUP BY specimen_id
