-- @table One row per neuromuscular blocker infusion record in mimiciv_icu.inputevents: cisatracurium, vecuronium or rocuronium.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column orderid: The order the record belongs to.
-- @column drug_rate: Infusion rate as charted (rateuom, usually mcg/kg/min).
-- @column drug_amount: Amount given over the record, as charted (usually mg).
-- @column starttime: Start of the record (shifted).
-- @column endtime: End of the record (shifted).
--
-- Definition: MIMIC-IV inputevents items 221555 (Cisatracurium), 222062 (Vecuronium) and
-- 229233 (Rocuronium), continuous infusions only (a charted rate). Rocuronium is an
-- addition of m4's: mimic-code's table has the first two.
SELECT
    stay_id,
    orderid,
    rate AS drug_rate,
    amount AS drug_amount,
    starttime,
    endtime
FROM mimiciv_icu.inputevents
WHERE itemid IN (221555, 222062, 229233) AND rate IS NOT NULL
