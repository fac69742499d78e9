-- @table One row per ICU stay and charting time with urine output: the volume recorded, mL.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Time the output was charted (the end of the collection period).
-- @column urineoutput: Urine volume, mL, summed over the stay's urine items charted at this time (GU irrigant instilled is subtracted).
--
-- Definition: MIMIC-IV outputevents urine items (mimiciv_icu.d_items, category Output):
-- 226559 Foley, 226560 Void, 226561 Condom Cath, 226584 Ileoconduit, 226563 Suprapubic,
-- 226564 R Nephrostomy, 226565 L Nephrostomy, 226567 Straight Cath, 226557 R Ureteral
-- Stent, 226558 L Ureteral Stent, 227489 GU Irrigant/Urine Volume Out, minus 227488 GU
-- Irrigant Volume In (irrigant instilled into the bladder is not urine).
SELECT
    stay_id,
    charttime,
    sum(CASE WHEN itemid = 227488 THEN -abs(value) ELSE value END) AS urineoutput
FROM mimiciv_icu.outputevents
WHERE itemid IN (226559, 226560, 226561, 226584, 226563, 226564, 226565, 226567, 226557,
                 226558, 227488, 227489)
GROUP BY stay_id, charttime
