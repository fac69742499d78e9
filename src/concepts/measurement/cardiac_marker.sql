-- @table One row per specimen with a cardiac marker: troponin T, CK-MB and NT-proBNP.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column troponin_t: Troponin T, ng/mL (itemid 51003).
-- @column ck_mb: Creatine kinase MB isoenzyme, ng/mL (itemid 50911).
-- @column ntprobnp: NT-proBNP, pg/mL (itemid 50963).
--
-- Definition: a pivot of MIMIC-IV laboratory item ids by specimen; positive values only.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) FILTER (WHERE itemid = 51003) AS troponin_t,
    max(valuenum) FILTER (WHERE itemid = 50911) AS ck_mb,
    max(valuenum) FILTER (WHERE itemid = 50963) AS ntprobnp
FROM mimiciv_hosp.labevents
WHERE itemid IN (51003, 50911, 50963) AND valuenum > 0
GROUP BY specimen_id
