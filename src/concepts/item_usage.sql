-- m4_meta.item_usage: how many rows of each event table use each item id or code, and
-- the unit most often recorded with it. Computed once when the database is built, so
-- that search_items answers without scanning the event tables; an event table the data
-- set lacks is replaced by an empty one (its items then have no count).
SELECT 'mimiciv_hosp.labevents' AS recorded_in, CAST(itemid AS VARCHAR) AS id,
       CAST(NULL AS SMALLINT) AS icd_version, count(*) AS row_count, mode(valueuom) AS unit
FROM mimiciv_hosp.labevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.chartevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(valueuom)
FROM mimiciv_icu.chartevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.inputevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(amountuom)
FROM mimiciv_icu.inputevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.ingredientevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(amountuom)
FROM mimiciv_icu.ingredientevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.outputevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(valueuom)
FROM mimiciv_icu.outputevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.procedureevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(valueuom)
FROM mimiciv_icu.procedureevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_icu.datetimeevents', CAST(itemid AS VARCHAR), NULL, count(*), mode(valueuom)
FROM mimiciv_icu.datetimeevents GROUP BY itemid
UNION ALL
SELECT 'mimiciv_hosp.diagnoses_icd', icd_code, icd_version, count(*), NULL
FROM mimiciv_hosp.diagnoses_icd GROUP BY icd_code, icd_version
UNION ALL
SELECT 'mimiciv_hosp.procedures_icd', icd_code, icd_version, count(*), NULL
FROM mimiciv_hosp.procedures_icd GROUP BY icd_code, icd_version
UNION ALL
SELECT 'mimiciv_hosp.hcpcsevents', hcpcs_cd, NULL, count(*), NULL
FROM mimiciv_hosp.hcpcsevents GROUP BY hcpcs_cd
