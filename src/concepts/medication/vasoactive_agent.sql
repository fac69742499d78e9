-- @table One row per ICU stay and interval during which the set of vasoactive infusion rates is constant: the rate of each agent over [starttime, endtime).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column starttime: Start of the interval.
-- @column endtime: End of the interval (the next time any agent starts, stops or changes rate).
-- @column dopamine: Dopamine, mcg/kg/min (NULL when not running).
-- @column epinephrine: Epinephrine, mcg/kg/min.
-- @column norepinephrine: Norepinephrine, mcg/kg/min.
-- @column phenylephrine: Phenylephrine, mcg/kg/min.
-- @column vasopressin: Vasopressin, units/hour.
-- @column dobutamine: Dobutamine, mcg/kg/min.
-- @column milrinone: Milrinone, mcg/kg/min.
--
-- Definition: every start and end time of the seven agents' records cuts a stay into
-- intervals; each agent's rate in an interval is the sum of its records covering the
-- whole interval (two concurrent bags of one drug add up).
-- Differences from mimic-code's table: concurrent records of one drug are summed (mimic-
-- code joins them, giving one row per combination), and intervals during which no agent
-- runs are left out.
WITH records AS (
    SELECT 'dopamine' AS agent, stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.dopamine
    UNION ALL SELECT 'epinephrine', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.epinephrine
    UNION ALL SELECT 'norepinephrine', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.norepinephrine
    UNION ALL SELECT 'phenylephrine', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.phenylephrine
    UNION ALL SELECT 'vasopressin', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.vasopressin
    UNION ALL SELECT 'dobutamine', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.dobutamine
    UNION ALL SELECT 'milrinone', stay_id, starttime, endtime, vaso_rate FROM mimiciv_derived.milrinone
),
cuts AS (
    SELECT DISTINCT stay_id, t AS cut
    FROM records, unnest([starttime, endtime]) AS u(t)
    WHERE t IS NOT NULL
),
intervals AS (
    SELECT stay_id, cut AS starttime, lead(cut) OVER (PARTITION BY stay_id ORDER BY cut) AS endtime
    FROM cuts
)
SELECT
    i.stay_id,
    i.starttime,
    i.endtime,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'dopamine') AS dopamine,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'epinephrine') AS epinephrine,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'norepinephrine') AS norepinephrine,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'phenylephrine') AS phenylephrine,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'vasopressin') AS vasopressin,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'dobutamine') AS dobutamine,
    sum(r.vaso_rate) FILTER (WHERE r.agent = 'milrinone') AS milrinone
FROM intervals AS i
JOIN records AS r
  ON r.stay_id = i.stay_id AND r.starttime <= i.starttime AND r.endtime >= i.endtime
WHERE i.endtime IS NOT NULL
GROUP BY i.stay_id, i.starttime, i.endtime
