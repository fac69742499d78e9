-- @table One row per ICU stay and charting time of oxygen therapy: the flows and up to four oxygen delivery devices charted at that time.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column o2_flow: Oxygen flow, L/min (223834).
-- @column o2_flow_additional: Flow of an additional cannula, L/min (227287).
-- @column o2_delivery_device_1: First oxygen delivery device charted (226732: Nasal cannula, Face tent, Endotracheal tube, High flow nasal cannula, ...), alphabetically.
-- @column o2_delivery_device_2: Second device charted at the same time, if any.
-- @column o2_delivery_device_3: Third device, if any.
-- @column o2_delivery_device_4: Fourth device, if any.
--
-- Definition: MIMIC-IV chartevents 226732 O2 Delivery Device(s), which may hold several
-- devices at one time, with the charted oxygen flows.
-- Differences from mimic-code's table: devices are ordered alphabetically (mimic-code
-- keeps the charting order, which the data do not record reliably).
WITH devices AS (
    SELECT ce.subject_id, ce.stay_id, ce.charttime,
           list(DISTINCT ce.value ORDER BY ce.value) AS devices
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid = 226732 AND ce.value IS NOT NULL
    GROUP BY ce.subject_id, ce.stay_id, ce.charttime
),
flows AS (
    SELECT ce.subject_id, ce.stay_id, ce.charttime,
           max(ce.valuenum) FILTER (WHERE ce.itemid = 223834) AS o2_flow,
           max(ce.valuenum) FILTER (WHERE ce.itemid = 227287) AS o2_flow_additional
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid IN (223834, 227287)
    GROUP BY ce.subject_id, ce.stay_id, ce.charttime
)
SELECT
    coalesce(d.subject_id, f.subject_id) AS subject_id,
    coalesce(d.stay_id, f.stay_id) AS stay_id,
    coalesce(d.charttime, f.charttime) AS charttime,
    f.o2_flow,
    f.o2_flow_additional,
    d.devices[1] AS o2_delivery_device_1,
    d.devices[2] AS o2_delivery_device_2,
    d.devices[3] AS o2_delivery_device_3,
    d.devices[4] AS o2_delivery_device_4
FROM devices AS d
FULL OUTER JOIN flows AS f
  ON f.stay_id = d.stay_id AND f.charttime = d.charttime
