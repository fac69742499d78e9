-- @table One row per vasopressin infusion record in mimiciv_icu.inputevents (a rate over [starttime, endtime)), the rate in units/hour.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column linkorderid: Groups the records of one continuous order (a rate change starts a new record with the same linkorderid).
-- @column vaso_rate: Infusion rate, units/hour.
-- @column vaso_amount: Amount given over the record, as charted (amountuom, units).
-- @column starttime: Start of the record (shifted).
-- @column endtime: End of the record (shifted).
--
-- Definition: MIMIC-IV inputevents item(s) 222315 (mimiciv_icu.d_items: Vasopressin).
-- Rates charted in units/min are converted to units/hour (x 60).
SELECT
    stay_id,
    linkorderid,
    CASE rateuom WHEN 'units/min' THEN rate * 60 ELSE rate END AS vaso_rate,
    amount AS vaso_amount,
    starttime,
    endtime
FROM mimiciv_icu.inputevents
WHERE itemid IN (222315)
