-- @table One row per specimen with a C-reactive protein measured in mg/L.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column crp: C-reactive protein, mg/L (itemid 50889; values in other units are left out).
--
-- Definition: MIMIC-IV laboratory item 50889 by specimen, positive values in mg/L only.
-- High-sensitivity CRP (itemid 51652) is a different assay and is not included.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) AS crp
FROM mimiciv_hosp.labevents
WHERE itemid = 50889 AND valueuom = 'mg/L' AND valuenum > 0
GROUP BY specimen_id
