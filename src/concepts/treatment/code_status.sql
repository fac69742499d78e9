-- @table One row per ICU stay and charting of the code status: full code, or the limitations of treatment (DNR, DNI, comfort measures) in force.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column fullcode: 1 if charted Full code.
-- @column dnr: 1 if do-not-resuscitate (DNR, DNAR) is charted.
-- @column dni: 1 if do-not-intubate is charted.
-- @column dncpr: 1 if do-not-attempt CPR is charted (as DNR: MIMIC-IV does not distinguish them).
-- @column cmo: 1 if comfort measures only is charted.
--
-- Definition: MIMIC-IV chartevents 223758 Code Status, classified by its text.
SELECT
    ce.subject_id,
    ce.hadm_id,
    ce.stay_id,
    ce.charttime,
    max(CASE WHEN lower(ce.value) LIKE 'full code%' THEN 1 ELSE 0 END) AS fullcode,
    max(CASE WHEN regexp_matches(lower(ce.value), 'dnr|dnar|do not resuscitate') THEN 1 ELSE 0 END) AS dnr,
    max(CASE WHEN regexp_matches(lower(ce.value), 'dni|do not intubate') THEN 1 ELSE 0 END) AS dni,
    max(CASE WHEN regexp_matches(lower(ce.value), 'dnr|dnar|do not resuscitate') THEN 1 ELSE 0 END) AS dncpr,
    max(CASE WHEN regexp_matches(lower(ce.value), 'comfort|cmo') THEN 1 ELSE 0 END) AS cmo
FROM mimiciv_icu.chartevents AS ce
WHERE ce.itemid = 223758 AND ce.value IS NOT NULL
GROUP BY ce.subject_id, ce.hadm_id, ce.stay_id, ce.charttime
