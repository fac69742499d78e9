-- @table One row per invasive line documented in an ICU stay (arterial line, central lines, PICC, dialysis catheter, PA catheter, ...), with its site and the time it was in place.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column line_type: The kind of line (the d_items label, e.g. Arterial Line, PICC Line, Multi Lumen).
-- @column line_site: Where it was placed (procedureevents.location, e.g. Left Radial).
-- @column starttime: Insertion, or the first documentation (shifted).
-- @column endtime: Removal, or the last documentation (shifted).
--
-- Definition: MIMIC-IV procedureevents whose item is in the d_items category
-- "Access Lines - Invasive"; no clinical reference needed.
-- Differences from mimic-code's table: the line type is the d_items label rather than a
-- shortened name.
SELECT
    pe.stay_id,
    di.label AS line_type,
    pe.location AS line_site,
    pe.starttime,
    pe.endtime
FROM mimiciv_icu.procedureevents AS pe
JOIN mimiciv_icu.d_items AS di ON di.itemid = pe.itemid
WHERE di.category = 'Access Lines - Invasive'
  AND coalesce(pe.statusdescription, '') <> 'Rewritten'
