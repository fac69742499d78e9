-- @table One row per ICU stay: the lowest and highest of each blood gas (any specimen type) value from 6 hours before to 24 hours after ICU admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column lactate_min: Lowest lactate, mmol/L.
-- @column lactate_max: Highest lactate, mmol/L.
-- @column ph_min: Lowest pH.
-- @column ph_max: Highest pH.
-- @column so2_min: Lowest sample oxygen saturation, %.
-- @column so2_max: Highest sample oxygen saturation, %.
-- @column po2_min: Lowest PaO2, mmHg.
-- @column po2_max: Highest PaO2, mmHg.
-- @column pco2_min: Lowest PaCO2, mmHg.
-- @column pco2_max: Highest PaCO2, mmHg.
-- @column aado2_min: Lowest a-a gradient (laboratory), mmHg.
-- @column aado2_max: Highest a-a gradient (laboratory), mmHg.
-- @column aado2_calc_min: Lowest a-a gradient (computed), mmHg.
-- @column aado2_calc_max: Highest a-a gradient (computed), mmHg.
-- @column pao2fio2ratio_min: Lowest PaO2/FiO2, mmHg.
-- @column pao2fio2ratio_max: Highest PaO2/FiO2, mmHg.
-- @column baseexcess_min: Lowest base excess, mEq/L.
-- @column baseexcess_max: Highest base excess, mEq/L.
-- @column bicarbonate_min: Lowest bicarbonate, mEq/L.
-- @column bicarbonate_max: Highest bicarbonate, mEq/L.
-- @column totalco2_min: Lowest total CO2, mEq/L.
-- @column totalco2_max: Highest total CO2, mEq/L.
-- @column hematocrit_min: Lowest haematocrit, %.
-- @column hematocrit_max: Highest haematocrit, %.
-- @column hemoglobin_min: Lowest haemoglobin, g/dL.
-- @column hemoglobin_max: Highest haemoglobin, g/dL.
-- @column carboxyhemoglobin_min: Lowest carboxyhaemoglobin, %.
-- @column carboxyhemoglobin_max: Highest carboxyhaemoglobin, %.
-- @column methemoglobin_min: Lowest methaemoglobin, %.
-- @column methemoglobin_max: Highest methaemoglobin, %.
-- @column temperature_min: Lowest temperature, degrees C.
-- @column temperature_max: Highest temperature, degrees C.
-- @column chloride_min: Lowest chloride, mEq/L.
-- @column chloride_max: Highest chloride, mEq/L.
-- @column calcium_min: Lowest ionised calcium, mmol/L.
-- @column calcium_max: Highest ionised calcium, mmol/L.
-- @column glucose_min: Lowest glucose, mg/dL.
-- @column glucose_max: Highest glucose, mg/dL.
-- @column potassium_min: Lowest Potassium, mEq/L.
-- @column potassium_max: Highest Potassium, mEq/L.
-- @column sodium_min: Lowest sodium, mEq/L.
-- @column sodium_max: Highest sodium, mEq/L.
--
-- Definition: mimiciv_derived.bg over [ICU intime - 6 h, intime + 24 h] (the first-day window
-- of APACHE III and SAPS II, Knaus 1991 and Le Gall 1993, widened by 6 hours); gases are
-- matched to the stay by patient and time.
SELECT
    icu.subject_id,
    icu.stay_id,
    min(bg.lactate) AS lactate_min,
    max(bg.lactate) AS lactate_max,
    min(bg.ph) AS ph_min,
    max(bg.ph) AS ph_max,
    min(bg.so2) AS so2_min,
    max(bg.so2) AS so2_max,
    min(bg.po2) AS po2_min,
    max(bg.po2) AS po2_max,
    min(bg.pco2) AS pco2_min,
    max(bg.pco2) AS pco2_max,
    min(bg.aado2) AS aado2_min,
    max(bg.aado2) AS aado2_max,
    min(bg.aado2_calc) AS aado2_calc_min,
    max(bg.aado2_calc) AS aado2_calc_max,
    min(bg.pao2fio2ratio) AS pao2fio2ratio_min,
    max(bg.pao2fio2ratio) AS pao2fio2ratio_max,
    min(bg.baseexcess) AS baseexcess_min,
    max(bg.baseexcess) AS baseexcess_max,
    min(bg.bicarbonate) AS bicarbonate_min,
    max(bg.bicarbonate) AS bicarbonate_max,
    min(bg.totalco2) AS totalco2_min,
    max(bg.totalco2) AS totalco2_max,
    min(bg.hematocrit) AS hematocrit_min,
    max(bg.hematocrit) AS hematocrit_max,
    min(bg.hemoglobin) AS hemoglobin_min,
    max(bg.hemoglobin) AS hemoglobin_max,
    min(bg.carboxyhemoglobin) AS carboxyhemoglobin_min,
    max(bg.carboxyhemoglobin) AS carboxyhemoglobin_max,
    min(bg.methemoglobin) AS methemoglobin_min,
    max(bg.methemoglobin) AS methemoglobin_max,
    min(bg.temperature) AS temperature_min,
    max(bg.temperature) AS temperature_max,
    min(bg.chloride) AS chloride_min,
    max(bg.chloride) AS chloride_max,
    min(bg.calcium) AS calcium_min,
    max(bg.calcium) AS calcium_max,
    min(bg.glucose) AS glucose_min,
    max(bg.glucose) AS glucose_max,
    min(bg.potassium) AS potassium_min,
    max(bg.potassium) AS potassium_max,
    min(bg.sodium) AS sodium_min,
    max(bg.sodium) AS sodium_max
FROM mimiciv_icu.icustays AS icu
LEFT JOIN mimiciv_derived.bg AS bg
  ON bg.subject_id = icu.subject_id
 AND bg.charttime >= icu.intime - INTERVAL 6 HOUR
 AND bg.charttime <= icu.intime + INTERVAL 1 DAY
GROUP BY icu.subject_id, icu.stay_id
