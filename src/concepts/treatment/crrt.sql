-- @table One row per ICU stay and charting time of continuous renal replacement therapy (CRRT) settings: the mode, flows, pressures and the state of the circuit.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column charttime: Charting time.
-- @column crrt_mode: CRRT mode (chartevents 227290: CVVH, CVVHD, CVVHDF, SCUF).
-- @column access_pressure: Access pressure, mmHg (224149).
-- @column blood_flow: Blood flow, mL/min (224144).
-- @column citrate: Citrate (ACD-A) rate, mL/h (228004).
-- @column current_goal: Current fluid removal goal, mL (225183).
-- @column dialysate_fluid: Dialysate fluid (225977).
-- @column dialysate_rate: Dialysate rate, mL/h (224154).
-- @column effluent_pressure: Effluent pressure, mmHg (224151).
-- @column filter_pressure: Filter pressure, mmHg (224150).
-- @column heparin_concentration: Heparin concentration, units/mL (225958).
-- @column heparin_dose: Heparin dose, units per hour (224145).
-- @column hourly_patient_fluid_removal: Hourly patient fluid removal, mL (224191).
-- @column prefilter_replacement_rate: Pre-filter (PBP) replacement rate, mL/h (228005).
-- @column postfilter_replacement_rate: Post-filter replacement rate, mL/h (228006).
-- @column replacement_fluid: Replacement fluid (225976).
-- @column replacement_rate: Replacement rate, mL/h (224153).
-- @column return_pressure: Return pressure, mmHg (224152).
-- @column ultrafiltrate_output: Ultrafiltrate output, mL (226457).
-- @column system_active: 1 if the circuit was charted active (System Integrity 224146), 0 if charted otherwise.
-- @column clots: 1 if clots were charted in the circuit.
-- @column clots_increasing: 1 if increasing clots were charted.
-- @column clotted: 1 if the circuit was charted clotted.
--
-- Definition: MIMIC-IV chartevents items of category Dialysis (mimiciv_icu.d_items) that
-- document CRRT, pivoted by stay and time. Used for KDIGO 2012 stage 3 (initiation of
-- renal replacement therapy) and SOFA's renal component.
SELECT
    ce.stay_id,
    ce.charttime,
    max(ce.value) FILTER (WHERE ce.itemid = 227290) AS crrt_mode,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224149) AS access_pressure,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224144) AS blood_flow,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 228004) AS citrate,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 225183) AS current_goal,
    max(ce.value) FILTER (WHERE ce.itemid = 225977) AS dialysate_fluid,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224154) AS dialysate_rate,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224151) AS effluent_pressure,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224150) AS filter_pressure,
    max(ce.value) FILTER (WHERE ce.itemid = 225958) AS heparin_concentration,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224145) AS heparin_dose,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224191) AS hourly_patient_fluid_removal,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 228005) AS prefilter_replacement_rate,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 228006) AS postfilter_replacement_rate,
    max(ce.value) FILTER (WHERE ce.itemid = 225976) AS replacement_fluid,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224153) AS replacement_rate,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 224152) AS return_pressure,
    max(ce.valuenum) FILTER (WHERE ce.itemid = 226457) AS ultrafiltrate_output,
    max(CASE WHEN contains(ce.value, 'Active') THEN 1 ELSE 0 END) FILTER (WHERE ce.itemid = 224146) AS system_active,
    max(CASE WHEN contains(ce.value, 'Clots Present') THEN 1 ELSE 0 END) FILTER (WHERE ce.itemid = 224146) AS clots,
    max(CASE WHEN contains(ce.value, 'Clots Increasing') THEN 1 ELSE 0 END) FILTER (WHERE ce.itemid = 224146) AS clots_increasing,
    max(CASE WHEN contains(ce.value, 'Clotted') THEN 1 ELSE 0 END) FILTER (WHERE ce.itemid = 224146) AS clotted
FROM mimiciv_icu.chartevents AS ce
WHERE ce.itemid IN (227290, 224149, 224144, 228004, 225183, 225977, 224154, 224151, 224150,
                    225958, 224145, 224191, 228005, 228006, 225976, 224153, 224152, 226457, 224146)
GROUP BY ce.stay_id, ce.charttime
