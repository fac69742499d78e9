-- @table One row per specimen with a liver or muscle enzyme or bilirubin: ALT, ALP, AST, amylase, bilirubins, CK, CK-MB, GGT and LDH.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column alt: Alanine aminotransferase, IU/L (itemid 50861).
-- @column alp: Alkaline phosphatase, IU/L (itemid 50863).
-- @column ast: Aspartate aminotransferase, IU/L (itemid 50878).
-- @column amylase: Amylase, IU/L (itemid 50867).
-- @column bilirubin_total: Total bilirubin, mg/dL (itemid 50885).
-- @column bilirubin_direct: Direct bilirubin, mg/dL (itemid 50883).
-- @column bilirubin_indirect: Indirect bilirubin, mg/dL (itemid 50884).
-- @column ck_cpk: Creatine kinase, IU/L (itemid 50910).
-- @column ck_mb: Creatine kinase MB isoenzyme, ng/mL (itemid 50911).
-- @column ggt: Gamma-glutamyl transferase, IU/L (itemid 50927).
-- @column ld_ldh: Lactate dehydrogenase, IU/L (itemid 50954).
--
-- Definition: a pivot of MIMIC-IV chemistry item ids by specimen; positive values only.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) FILTER (WHERE itemid = 50861) AS alt,
    max(valuenum) FILTER (WHERE itemid = 50863) AS alp,
    max(valuenum) FILTER (WHERE itemid = 50878) AS ast,
    max(valuenum) FILTER (WHERE itemid = 50867) AS amylase,
    max(valuenum) FILTER (WHERE itemid = 50885) AS bilirubin_total,
    max(valuenum) FILTER (WHERE itemid = 50883) AS bilirubin_direct,
    max(valuenum) FILTER (WHERE itemid = 50884) AS bilirubin_indirect,
    max(valuenum) FILTER (WHERE itemid = 50910) AS ck_cpk,
    max(valuenum) FILTER (WHERE itemid = 50911) AS ck_mb,
    max(valuenum) FILTER (WHERE itemid = 50927) AS ggt,
    max(valuenum) FILTER (WHERE itemid = 50954) AS ld_ldh
FROM mimiciv_hosp.labevents
WHERE itemid IN (50861, 50863, 50878, 50867, 50885, 50883, 50884, 50910, 50911, 50927, 50954)
  AND valuenum > 0
GROUP BY specimen_id
