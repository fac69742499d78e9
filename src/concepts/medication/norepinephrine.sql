-- @table One row per norepinephrine infusion record in mimiciv_icu.inputevents (a rate over [starttime, endtime)), the rate in mcg/kg/min.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column linkorderid: Groups the records of one continuous order (a rate change starts a new record with the same linkorderid).
-- @column vaso_rate: Infusion rate, mcg/kg/min.
-- @column vaso_amount: Amount given over the record, as charted (amountuom, usually mg).
-- @column starttime: Start of the record (shifted).
-- @column endtime: End of the record (shifted).
--
-- Definition: MIMIC-IV inputevents item(s) 221906 (mimiciv_icu.d_items: Norepinephrine).
-- Rates charted per kg are kept in mcg/kg/min (mg/kg/min x 1000); rates charted without
-- weight (mcg/min) are divided by the record's patientweight. mimic-code's table converts
-- mg/kg/min only; in MIMIC-IV v2.2 nearly every record is already in mcg/kg/min.
SELECT
    stay_id,
    linkorderid,
    CASE rateuom
        WHEN 'mcg/kg/min' THEN rate
        WHEN 'mg/kg/min' THEN rate * 1000
        WHEN 'mcg/min' THEN rate / nullif(patientweight, 0)
        WHEN 'mg/min' THEN rate * 1000 / nullif(patientweight, 0)
        ELSE rate
    END AS vaso_rate,
    amount AS vaso_amount,
    starttime,
    endtime
FROM mimiciv_icu.inputevents
WHERE itemid IN (221906)
