-- @table One row per patient and charting time of the heart rhythm: the rhythm and any ectopic beats.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column charttime: Charting time.
-- @column heart_rhythm: Heart rhythm (220048: SR (Sinus Rhythm), AF (Atrial Fibrillation), ST (Sinus Tachycardia), ...).
-- @column ectopy_type: Type of ectopy (224650: PVC's, PAC's, ...).
-- @column ectopy_frequency: Frequency of that ectopy (224651: Rare, Occasional, Frequent, Runs Vtach).
-- @column ectopy_type_secondary: A second type of ectopy (226479).
-- @column ectopy_frequency_secondary: Its frequency (226480).
--
-- Definition: a pivot of MIMIC-IV chartevents rhythm items by patient and time.
SELECT
    ce.subject_id,
    ce.charttime,
    max(ce.value) FILTER (WHERE ce.itemid = 220048) AS heart_rhythm,
    max(ce.value) FILTER (WHERE ce.itemid = 224650) AS ectopy_type,
    max(ce.value) FILTER (WHERE ce.itemid = 224651) AS ectopy_frequency,
    max(ce.value) FILTER (WHERE ce.itemid = 226479) AS ectopy_type_secondary,
    max(ce.value) FILTER (WHERE ce.itemid = 226480) AS ectopy_frequency_secondary
FROM mimiciv_icu.chartevents AS ce
WHERE ce.itemid IN (220048, 224650, 224651, 226479, 226480)
GROUP BY ce.subject_id, ce.charttime
