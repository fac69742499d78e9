-- @table One row per specimen with a complete blood count: haematocrit, haemoglobin, red cell indices, platelets and white cells.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column hematocrit: Haematocrit, % (itemid 51221).
-- @column hemoglobin: Haemoglobin, g/dL (itemid 51222).
-- @column mch: Mean corpuscular haemoglobin, pg (itemid 51248).
-- @column mchc: Mean corpuscular haemoglobin concentration, g/dL (itemid 51249).
-- @column mcv: Mean corpuscular volume, fL (itemid 51250).
-- @column platelet: Platelet count, K/uL (itemid 51265).
-- @column rbc: Red blood cells, m/uL (itemid 51279).
-- @column rdw: Red cell distribution width, % (itemid 51277).
-- @column rdwsd: Red cell distribution width, standard deviation, fL (itemid 52159).
-- @column wbc: White blood cells, K/uL (itemid 51301).
--
-- Definition: a pivot of MIMIC-IV haematology item ids by specimen; positive values only.
SELECT
    any_value(subject_id) AS subject_id,
    any_value(hadm_id) AS hadm_id,
    max(charttime) AS charttime,
    specimen_id,
    max(valuenum) FILTER (WHERE itemid = 51221) AS hematocrit,
    max(valuenum) FILTER (WHERE itemid = 51222) AS hemoglobin,
    max(valuenum) FILTER (WHERE itemid = 51248) AS mch,
    max(valuenum) FILTER (WHERE itemid = 51249) AS mchc,
    max(valuenum) FILTER (WHERE itemid = 51250) AS mcv,
    max(valuenum) FILTER (WHERE itemid = 51265) AS platelet,
    max(valuenum) FILTER (WHERE itemid = 51279) AS rbc,
    max(valuenum) FILTER (WHERE itemid = 51277) AS rdw,
    max(valuenum) FILTER (WHERE itemid = 52159) AS rdwsd,
    max(valuenum) FILTER (WHERE itemid = 51301) AS wbc
FROM mimiciv_hosp.labevents
WHERE itemid IN (51221, 51222, 51248, 51249, 51250, 51265, 51279, 51277, 52159, 51301)
  AND valuenum > 0
GROUP BY specimen_id
