-- @table One row per period of invasive or non-invasive mechanical ventilation of an ICU stay, as documented by the nurses' ventilation procedure entries.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column starttime: Start of the period.
-- @column endtime: End of the period.
-- @column ventilation_status: InvasiveVent (through an endotracheal tube or tracheostomy) or NonInvasiveVent (mask: CPAP, BiPAP).
--
-- Definition: MIMIC-IV procedureevents 225792 Invasive Ventilation and 225794
-- Non-invasive Ventilation, each a documented interval; overlapping or touching intervals
-- of one status (gaps up to 1 hour) are merged into one period. Used for the respiratory
-- component of SOFA (Vincent 1996: PaO2/FiO2 < 200 or < 100 counts only with
-- respiratory support).
-- Differences from mimic-code's table: mimic-code classifies each charted oxygen device and
-- ventilator mode (chartevents) into six statuses, including Tracheostomy, HFNC and
-- SupplementalOxygen; m4 uses the documented ventilation intervals, which the demo also
-- has, and has the two ventilated statuses only.
WITH events AS (
    SELECT
        pe.stay_id,
        pe.starttime,
        pe.endtime,
        CASE pe.itemid WHEN 225792 THEN 'InvasiveVent' ELSE 'NonInvasiveVent' END AS ventilation_status
    FROM mimiciv_icu.procedureevents AS pe
    WHERE pe.itemid IN (225792, 225794)
      AND pe.starttime IS NOT NULL AND pe.endtime > pe.starttime
      AND coalesce(pe.statusdescription, '') <> 'Rewritten'
),
flagged AS (
    SELECT
        e.*,
        CASE WHEN e.starttime <= max(e.endtime) OVER (
                PARTITION BY e.stay_id, e.ventilation_status ORDER BY e.starttime, e.endtime
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + INTERVAL 1 HOUR
            THEN 0 ELSE 1 END AS new_period
    FROM events AS e
),
numbered AS (
    SELECT
        f.*,
        sum(f.new_period) OVER (
            PARTITION BY f.stay_id, f.ventilation_status ORDER BY f.starttime, f.endtime
            ROWS UNBOUNDED PRECEDING) AS period
    FROM flagged AS f
)
SELECT stay_id, min(starttime) AS starttime, max(endtime) AS endtime, ventilation_status
FROM numbered
GROUP BY stay_id, ventilation_status, period
