-- @table One row per blood gas specimen (mimiciv_hosp.labevents, "Blood Gas" items): gases, oximetry, electrolytes and the PaO2/FiO2 ratio, with the closest charted SpO2 and FiO2 when chartevents is present.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission, NULL for outpatient specimens.
-- @column charttime: Time the specimen was drawn (shifted).
-- @column specimen: Specimen type as recorded (itemid 52033: ART., VEN., MIX., CENTRAL VENOUS).
-- @column so2: Oxygen saturation measured in the sample, % (50817).
-- @column po2: Partial pressure of oxygen, mmHg (50821).
-- @column pco2: Partial pressure of carbon dioxide, mmHg (50818).
-- @column fio2_chartevents: FiO2 charted at the bedside (chartevents 223835) in the 4 h before the sample, %; NULL without chartevents.
-- @column fio2: FiO2 recorded with the sample, % (50816; fractions 0.21-1 scaled to %).
-- @column aado2: Alveolar-arterial gradient as reported by the laboratory, mmHg (50801).
-- @column aado2_calc: Alveolar-arterial gradient computed as FiO2 x (760 - 47) - PaCO2 / 0.8 - PaO2, mmHg.
-- @column pao2fio2ratio: PaO2 / FiO2 (FiO2 as a fraction), mmHg; from the sample's FiO2, else the charted one.
-- @column ph: pH (50820).
-- @column baseexcess: Base excess, mEq/L (50802).
-- @column bicarbonate: Bicarbonate, mEq/L (50803).
-- @column totalco2: Total CO2, mEq/L (50804).
-- @column hematocrit: Haematocrit, % (50810).
-- @column hemoglobin: Haemoglobin, g/dL (50811).
-- @column carboxyhemoglobin: Carboxyhaemoglobin, % (50805).
-- @column methemoglobin: Methaemoglobin, % (50814).
-- @column chloride: Chloride, mEq/L (50806).
-- @column calcium: Free (ionised) calcium, mmol/L (50808).
-- @column temperature: Temperature recorded with the sample, degrees C (50825).
-- @column potassium: Potassium, mEq/L (50822).
-- @column sodium: Sodium, mEq/L (50824).
-- @column lactate: Lactate, mmol/L (50813).
-- @column glucose: Glucose, mg/dL (50809).
-- @column spo2: Pulse oximetry SpO2 (chartevents 220277) in the 2 h before the sample, %; NULL without chartevents.
--
-- Definition: a pivot of MIMIC-IV blood gas item ids by specimen. FiO2 is stored either
-- as a percentage or a fraction; values 20-100 are taken as %, 0.2-1 as fractions.
-- The alveolar gas equation (sea-level barometric pressure 760 mmHg, water vapour
-- 47 mmHg, respiratory quotient 0.8) gives aado2_calc.
-- Differences from mimic-code's table: every blood gas specimen is kept (mimic-code keeps
-- only specimens with a PaO2), and spo2 is an extra column at the end; where chartevents
-- is absent (the demo) the charted SpO2/FiO2 columns are NULL rather than the table missing.
WITH gas AS (
    SELECT
        any_value(subject_id) AS subject_id,
        any_value(hadm_id) AS hadm_id,
        max(charttime) AS charttime,
        specimen_id,
        max(value) FILTER (WHERE itemid = 52033) AS specimen,
        max(valuenum) FILTER (WHERE itemid = 50801) AS aado2,
        max(valuenum) FILTER (WHERE itemid = 50802) AS baseexcess,
        max(valuenum) FILTER (WHERE itemid = 50803) AS bicarbonate,
        max(valuenum) FILTER (WHERE itemid = 50804) AS totalco2,
        max(valuenum) FILTER (WHERE itemid = 50805) AS carboxyhemoglobin,
        max(valuenum) FILTER (WHERE itemid = 50806) AS chloride,
        max(valuenum) FILTER (WHERE itemid = 50808) AS calcium,
        max(valuenum) FILTER (WHERE itemid = 50809 AND valuenum <= 10000) AS glucose,
        max(valuenum) FILTER (WHERE itemid = 50810 AND valuenum <= 100) AS hematocrit,
        max(valuenum) FILTER (WHERE itemid = 50811) AS hemoglobin,
        max(valuenum) FILTER (WHERE itemid = 50813 AND valuenum <= 10000) AS lactate,
        max(valuenum) FILTER (WHERE itemid = 50814) AS methemoglobin,
        max(CASE
            WHEN itemid <> 50816 THEN NULL
            WHEN valuenum > 20 AND valuenum <= 100 THEN valuenum
            WHEN valuenum > 0.2 AND valuenum <= 1 THEN valuenum * 100
        END) AS fio2,
        max(valuenum) FILTER (WHERE itemid = 50817 AND valuenum <= 100) AS so2,
        max(valuenum) FILTER (WHERE itemid = 50818) AS pco2,
        max(valuenum) FILTER (WHERE itemid = 50820) AS ph,
        max(valuenum) FILTER (WHERE itemid = 50821) AS po2,
        max(valuenum) FILTER (WHERE itemid = 50822) AS potassium,
        max(valuenum) FILTER (WHERE itemid = 50824) AS sodium,
        max(valuenum) FILTER (WHERE itemid = 50825) AS temperature
    FROM mimiciv_hosp.labevents
    WHERE itemid IN (52033, 50801, 50802, 50803, 50804, 50805, 50806, 50808, 50809, 50810,
                     50811, 50813, 50814, 50816, 50817, 50818, 50820, 50821, 50822, 50824, 50825)
    GROUP BY specimen_id
),
charted_spo2 AS (
    SELECT ce.subject_id, ce.charttime, avg(ce.valuenum) AS spo2
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid = 220277 AND ce.valuenum > 0 AND ce.valuenum <= 100
    GROUP BY ce.subject_id, ce.charttime
),
charted_fio2 AS (
    SELECT ce.subject_id, ce.charttime,
        max(CASE
            WHEN ce.valuenum >= 20 AND ce.valuenum <= 100 THEN ce.valuenum
            WHEN ce.valuenum > 0.2 AND ce.valuenum <= 1 THEN ce.valuenum * 100
        END) AS fio2
    FROM mimiciv_icu.chartevents AS ce
    WHERE ce.itemid = 223835 AND ce.valuenum > 0
    GROUP BY ce.subject_id, ce.charttime
    HAVING max(CASE
            WHEN ce.valuenum >= 20 AND ce.valuenum <= 100 THEN ce.valuenum
            WHEN ce.valuenum > 0.2 AND ce.valuenum <= 1 THEN ce.valuenum * 100
        END) IS NOT NULL
),
-- The latest charted value at or before the sample (ASOF), kept when close enough.
with_charted AS (
    SELECT
        gas.*,
        CASE WHEN s.charttime >= gas.charttime - INTERVAL 2 HOUR THEN s.spo2 END AS spo2,
        CASE WHEN f.charttime >= gas.charttime - INTERVAL 4 HOUR THEN f.fio2 END AS fio2_chartevents
    FROM gas
    ASOF LEFT JOIN charted_spo2 AS s ON s.subject_id = gas.subject_id AND s.charttime <= gas.charttime
    ASOF LEFT JOIN charted_fio2 AS f ON f.subject_id = gas.subject_id AND f.charttime <= gas.charttime
)
SELECT
    subject_id,
    hadm_id,
    charttime,
    specimen,
    so2,
    po2,
    pco2,
    fio2_chartevents,
    fio2,
    aado2,
    CASE WHEN po2 IS NOT NULL AND pco2 IS NOT NULL AND coalesce(fio2, fio2_chartevents) IS NOT NULL
        THEN coalesce(fio2, fio2_chartevents) / 100 * (760 - 47) - pco2 / 0.8 - po2
    END AS aado2_calc,
    CASE WHEN po2 IS NOT NULL AND coalesce(fio2, fio2_chartevents) > 0
        THEN 100 * po2 / coalesce(fio2, fio2_chartevents)
    END AS pao2fio2ratio,
    ph,
    baseexcess,
    bicarbonate,
    totalco2,
    hematocrit,
    hemoglobin,
    carboxyhemoglobin,
    methemoglobin,
    chloride,
    calcium,
    temperature,
    potassium,
    sodium,
    lactate,
    glucose,
    spo2
FROM with_charted
