-- @table One row per specimen with a white cell differential: absolute counts (K/uL) and percentages of each white cell type.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen_id: The specimen (labevents.specimen_id).
-- @column wbc: White blood cells, K/uL (itemids 51300, 51301, 51755).
-- @column basophils_abs: Absolute basophils, K/uL (itemid 52069, or imputed from % and WBC).
-- @column eosinophils_abs: Absolute eosinophils, K/uL (52073, or 51199 in #/uL / 1000, or imputed).
-- @column lymphocytes_abs: Absolute lymphocytes, K/uL (51133, or 52769 in #/uL / 1000, or imputed).
-- @column monocytes_abs: Absolute monocytes, K/uL (52074, or 51253 in #/uL / 1000, or imputed).
-- @column neutrophils_abs: Absolute neutrophils, K/uL (52075, or imputed).
-- @column basophils: Basophils, % of white cells (51146).
-- @column eosinophils: Eosinophils, % (51200).
-- @column lymphocytes: Lymphocytes, % (51244, 51245).
-- @column monocytes: Monocytes, % (51254).
-- @column neutrophils: Neutrophils, % (51256).
-- @column atypical_lymphocytes: Atypical lymphocytes, % (51143).
-- @column bands: Band forms, % (51144).
-- @column immature_granulocytes: Immature granulocytes, % (52135).
-- @column metamyelocytes: Metamyelocytes, % (51251).
-- @column nrbc: Nucleated red cells, per 100 white cells (51257).
--
-- Definition: a pivot of MIMIC-IV haematology item ids by specimen (non-negative values).
-- Where an absolute count is missing but the percentage and a positive WBC are present,
-- it is imputed as percentage x WBC / 100 (rounded to 4 decimals), when the specimen has
-- at least one positive percentage of the five main types.
WITH counts AS (
    SELECT
        any_value(subject_id) AS subject_id,
        any_value(hadm_id) AS hadm_id,
        max(charttime) AS charttime,
        specimen_id,
        max(valuenum) FILTER (WHERE itemid IN (51300, 51301, 51755)) AS wbc,
        max(valuenum) FILTER (WHERE itemid = 52069) AS basophils_abs,
        max(CASE WHEN itemid = 52073 THEN valuenum WHEN itemid = 51199 THEN valuenum / 1000.0 END) AS eosinophils_abs,
        max(CASE WHEN itemid = 51133 THEN valuenum WHEN itemid = 52769 THEN valuenum / 1000.0 END) AS lymphocytes_abs,
        max(CASE WHEN itemid = 52074 THEN valuenum WHEN itemid = 51253 THEN valuenum / 1000.0 END) AS monocytes_abs,
        max(valuenum) FILTER (WHERE itemid = 52075) AS neutrophils_abs,
        max(valuenum) FILTER (WHERE itemid = 51146) AS basophils,
        max(valuenum) FILTER (WHERE itemid = 51200) AS eosinophils,
        max(valuenum) FILTER (WHERE itemid IN (51244, 51245)) AS lymphocytes,
        max(valuenum) FILTER (WHERE itemid = 51254) AS monocytes,
        max(valuenum) FILTER (WHERE itemid = 51256) AS neutrophils,
        max(valuenum) FILTER (WHERE itemid = 51143) AS atypical_lymphocytes,
        max(valuenum) FILTER (WHERE itemid = 51144) AS bands,
        max(valuenum) FILTER (WHERE itemid = 52135) AS immature_granulocytes,
        max(valuenum) FILTER (WHERE itemid = 51251) AS metamyelocytes,
        max(valuenum) FILTER (WHERE itemid = 51257) AS nrbc,
        coalesce(sum(valuenum) FILTER (WHERE itemid IN (51146, 51200, 51244, 51245, 51254, 51256)), 0) > 0
            AS has_percentages
    FROM mimiciv_hosp.labevents
    WHERE itemid IN (51146, 52069, 51199, 51200, 52073, 51244, 51245, 51133, 52769, 51253,
                     51254, 52074, 51256, 52075, 51143, 51144, 52135, 51251, 51257, 51300,
                     51301, 51755)
      AND valuenum >= 0
    GROUP BY specimen_id
)
SELECT
    subject_id,
    hadm_id,
    charttime,
    specimen_id,
    wbc,
    round(coalesce(basophils_abs, CASE WHEN wbc > 0 AND has_percentages THEN basophils * wbc / 100 END), 4) AS basophils_abs,
    round(coalesce(eosinophils_abs, CASE WHEN wbc > 0 AND has_percentages THEN eosinophils * wbc / 100 END), 4) AS eosinophils_abs,
    round(coalesce(lymphocytes_abs, CASE WHEN wbc > 0 AND has_percentages THEN lymphocytes * wbc / 100 END), 4) AS lymphocytes_abs,
    round(coalesce(monocytes_abs, CASE WHEN wbc > 0 AND has_percentages THEN monocytes * wbc / 100 END), 4) AS monocytes_abs,
    round(coalesce(neutrophils_abs, CASE WHEN wbc > 0 AND has_percentages THEN neutrophils * wbc / 100 END), 4) AS neutrophils_abs,
    basophils,
    eosinophils,
    lymphocytes,
    monocytes,
    neutrophils,
    atypical_lymphocytes,
    bands,
    immature_granulocytes,
    metamyelocytes,
    nrbc
FROM counts
