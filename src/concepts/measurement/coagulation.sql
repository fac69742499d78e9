-- @table One row per specimen with a coagulation test: D-dimer, fibrinogen, thrombin time, INR, PT and PTT.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column d_dimer: D-dimer, ng/mL (itemid 51196).
-- @column fibrinogen: Fibrinogen, mg/dL (itemid 51214).
-- @column thrombin: Thrombin time, seconds (itemid 51297).
-- @column inr: International normalised ratio, INR(PT) (itemid 51237).
-- @column pt: Prothrombin time, seconds (itemid 51274).
-- @column ptt: Partial thromboplastin time, seconds (itemid 51275).
--
-- Definition: a pivot of MIMIC-IV laboratory item ids by specimen; positive values only.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) FILTER (WHERE itemid = 51196) AS d_dimer,
    max(valuenum) FILTER (WHERE itemid = 51214) AS fibrinogen,
    max(valuenum) FILTER (WHERE itemid = 51297) AS thrombin,
    max(valuenum) FILTER (WHERE itemid = 51237) AS inr,
    max(valuenum) FILTER (WHERE itemid = 51274) AS pt,
    max(valuenum) FILTER (WHERE itemid = 51275) AS ptt
FROM mimiciv_hosp.labevents
WHERE itemid IN (51196, 51214, 51297, 51237, 51274, 51275) AND valuenum > 0
GROUP BY specimen_id
