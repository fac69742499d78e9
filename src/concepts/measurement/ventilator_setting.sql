-- @table One row per ICU stay and charting time of a ventilator setting or measurement: rates, volumes, pressures, FiO2 and the mode.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column respiratory_rate_set: Set respiratory rate, breaths/min (224688).
-- @column respiratory_rate_total: Total respiratory rate, breaths/min (224690).
-- @column respiratory_rate_spontaneous: Spontaneous respiratory rate, breaths/min (224689).
-- @column minute_volume: Minute volume, L/min (224687).
-- @column tidal_volume_set: Set tidal volume, mL (224684).
-- @column tidal_volume_observed: Observed tidal volume, mL (224685).
-- @column tidal_volume_spontaneous: Spontaneous tidal volume, mL (224686).
-- @column plateau_pressure: Plateau pressure, cmH2O (224696).
-- @column peep: PEEP, cmH2O (220339 set, or 224700 total).
-- @column fio2: Inspired O2 fraction, % (223835; fractions 0.2-1 scaled to %).
-- @column flow_rate: Flow rate, L/min (224691).
-- @column ventilator_mode: Ventilator mode (223849: CMV/ASSIST/AutoFlow, CPAP/PSV, ...).
-- @column ventilator_mode_hamilton: Ventilator mode on Hamilton ventilators (229314).
-- @column ventilator_type: Ventilator type (223848).
--
-- Definition: a pivot of MIMIC-IV chartevents respiratory items by stay and time.
SELECT
    ce.subject_id,
    ce.stay_id,
    ce.charttime,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224688) AS respiratory_rate_set,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224690) AS respiratory_rate_total,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224689) AS respiratory_rate_spontaneous,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224687) AS minute_volume,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224684) AS tidal_volume_set,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224685) AS tidal_volume_observed,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224686) AS tidal_volume_spontaneous,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224696) AS plateau_pressure,
    max(ce.valuenum) FILTER (WHERE ce.itemid IN (220339, 224700)) AS peep,
    max(CASE
        WHEN ce.itemid <> 223835 THEN NULL
        WHEN ce.valuenum > 0.2 AND ce.valuenum <= 1 THEN ce.valuenum * 100
        WHEN ce.valuenum >= 20 AND ce.valuenum <= 100 THEN ce.valuenum
    END) AS fio2,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224691) AS flow_rate,
    max(ce.value) FILTER (WHERE ce.itemid = 223849) AS ventilator_mode,
    max(ce.value) FILTER (WHERE ce.itemid = 229314) AS ventilator_mode_hamilton,
    max(ce.value) FILTER (WHERE ce.itemid = 223848) AS ventilator_type
FROM mimiciv_icu.chartevents AS ce
WHERE ce.stay_id IS NOT NULL
  AND ce.itemid IN (224688, 224690, 224689, 224687, 224684, 224685, 224686, 224696, 220339,
                    224700, 223835, 224691, 223849, 229314, 223848)
GROUP BY ce.subject_id, ce.stay_id, ce.charttime
