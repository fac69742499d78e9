-- @table One row per ICU stay: the lowest and highest value of each common laboratory test from 6 hours before to 24 hours after ICU admission.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column hematocrit_min: Lowest haematocrit, % (mimiciv_derived.complete_blood_count.hematocrit).
-- @column hematocrit_max: Highest haematocrit, % (mimiciv_derived.complete_blood_count.hematocrit).
-- @column hemoglobin_min: Lowest haemoglobin, g/dL (mimiciv_derived.complete_blood_count.hemoglobin).
-- @column hemoglobin_max: Highest haemoglobin, g/dL (mimiciv_derived.complete_blood_count.hemoglobin).
-- @column platelets_min: Lowest platelet count, K/uL (mimiciv_derived.complete_blood_count.platelet).
-- @column platelets_max: Highest platelet count, K/uL (mimiciv_derived.complete_blood_count.platelet).
-- @column wbc_min: Lowest white blood cells, K/uL (mimiciv_derived.complete_blood_count.wbc).
-- @column wbc_max: Highest white blood cells, K/uL (mimiciv_derived.complete_blood_count.wbc).
-- @column albumin_min: Lowest albumin, g/dL (mimiciv_derived.chemistry.albumin).
-- @column albumin_max: Highest albumin, g/dL (mimiciv_derived.chemistry.albumin).
-- @column globulin_min: Lowest globulin, g/dL (mimiciv_derived.chemistry.globulin).
-- @column globulin_max: Highest globulin, g/dL (mimiciv_derived.chemistry.globulin).
-- @column total_protein_min: Lowest total protein, g/dL (mimiciv_derived.chemistry.total_protein).
-- @column total_protein_max: Highest total protein, g/dL (mimiciv_derived.chemistry.total_protein).
-- @column aniongap_min: Lowest anion gap, mEq/L (mimiciv_derived.chemistry.aniongap).
-- @column aniongap_max: Highest anion gap, mEq/L (mimiciv_derived.chemistry.aniongap).
-- @column bicarbonate_min: Lowest bicarbonate, mEq/L (mimiciv_derived.chemistry.bicarbonate).
-- @column bicarbonate_max: Highest bicarbonate, mEq/L (mimiciv_derived.chemistry.bicarbonate).
-- @column bun_min: Lowest urea nitrogen, mg/dL (mimiciv_derived.chemistry.bun).
-- @column bun_max: Highest urea nitrogen, mg/dL (mimiciv_derived.chemistry.bun).
-- @column calcium_min: Lowest total calcium, mg/dL (mimiciv_derived.chemistry.calcium).
-- @column calcium_max: Highest total calcium, mg/dL (mimiciv_derived.chemistry.calcium).
-- @column chloride_min: Lowest chloride, mEq/L (mimiciv_derived.chemistry.chloride).
-- @column chloride_max: Highest chloride, mEq/L (mimiciv_derived.chemistry.chloride).
-- @column creatinine_min: Lowest creatinine, mg/dL (mimiciv_derived.chemistry.creatinine).
-- @column creatinine_max: Highest creatinine, mg/dL (mimiciv_derived.chemistry.creatinine).
-- @column glucose_min: Lowest glucose, mg/dL (mimiciv_derived.chemistry.glucose).
-- @column glucose_max: Highest glucose, mg/dL (mimiciv_derived.chemistry.glucose).
-- @column sodium_min: Lowest sodium, mEq/L (mimiciv_derived.chemistry.sodium).
-- @column sodium_max: Highest sodium, mEq/L (mimiciv_derived.chemistry.sodium).
-- @column potassium_min: Lowest potassium, mEq/L (mimiciv_derived.chemistry.potassium).
-- @column potassium_max: Highest potassium, mEq/L (mimiciv_derived.chemistry.potassium).
-- @column abs_basophils_min: Lowest absolute basophils, K/uL (mimiciv_derived.blood_differential.basophils_abs).
-- @column abs_basophils_max: Highest absolute basophils, K/uL (mimiciv_derived.blood_differential.basophils_abs).
-- @column abs_eosinophils_min: Lowest absolute eosinophils, K/uL (mimiciv_derived.blood_differential.eosinophils_abs).
-- @column abs_eosinophils_max: Highest absolute eosinophils, K/uL (mimiciv_derived.blood_differential.eosinophils_abs).
-- @column abs_lymphocytes_min: Lowest absolute lymphocytes, K/uL (mimiciv_derived.blood_differential.lymphocytes_abs).
-- @column abs_lymphocytes_max: Highest absolute lymphocytes, K/uL (mimiciv_derived.blood_differential.lymphocytes_abs).
-- @column abs_monocytes_min: Lowest absolute monocytes, K/uL (mimiciv_derived.blood_differential.monocytes_abs).
-- @column abs_monocytes_max: Highest absolute monocytes, K/uL (mimiciv_derived.blood_differential.monocytes_abs).
-- @column abs_neutrophils_min: Lowest absolute neutrophils, K/uL (mimiciv_derived.blood_differential.neutrophils_abs).
-- @column abs_neutrophils_max: Highest absolute neutrophils, K/uL (mimiciv_derived.blood_differential.neutrophils_abs).
-- @column atyps_min: Lowest atypical lymphocytes, % (mimiciv_derived.blood_differential.atypical_lymphocytes).
-- @column atyps_max: Highest atypical lymphocytes, % (mimiciv_derived.blood_differential.atypical_lymphocytes).
-- @column bands_min: Lowest bands, % (mimiciv_derived.blood_differential.bands).
-- @column bands_max: Highest bands, % (mimiciv_derived.blood_differential.bands).
-- @column imm_granulocytes_min: Lowest immature granulocytes, % (mimiciv_derived.blood_differential.immature_granulocytes).
-- @column imm_granulocytes_max: Highest immature granulocytes, % (mimiciv_derived.blood_differential.immature_granulocytes).
-- @column metas_min: Lowest metamyelocytes, % (mimiciv_derived.blood_differential.metamyelocytes).
-- @column metas_max: Highest metamyelocytes, % (mimiciv_derived.blood_differential.metamyelocytes).
-- @column nrbc_min: Lowest nucleated red cells, per 100 white cells (mimiciv_derived.blood_differential.nrbc).
-- @column nrbc_max: Highest nucleated red cells, per 100 white cells (mimiciv_derived.blood_differential.nrbc).
-- @column d_dimer_min: Lowest d-dimer, ng/mL (mimiciv_derived.coagulation.d_dimer).
-- @column d_dimer_max: Highest d-dimer, ng/mL (mimiciv_derived.coagulation.d_dimer).
-- @column fibrinogen_min: Lowest fibrinogen, mg/dL (mimiciv_derived.coagulation.fibrinogen).
-- @column fibrinogen_max: Highest fibrinogen, mg/dL (mimiciv_derived.coagulation.fibrinogen).
-- @column thrombin_min: Lowest thrombin time, s (mimiciv_derived.coagulation.thrombin).
-- @column thrombin_max: Highest thrombin time, s (mimiciv_derived.coagulation.thrombin).
-- @column inr_min: Lowest iNR (mimiciv_derived.coagulation.inr).
-- @column inr_max: Highest iNR (mimiciv_derived.coagulation.inr).
-- @column pt_min: Lowest prothrombin time, s (mimiciv_derived.coagulation.pt).
-- @column pt_max: Highest prothrombin time, s (mimiciv_derived.coagulation.pt).
-- @column ptt_min: Lowest partial thromboplastin time, s (mimiciv_derived.coagulation.ptt).
-- @column ptt_max: Highest partial thromboplastin time, s (mimiciv_derived.coagulation.ptt).
-- @column alt_min: Lowest aLT, IU/L (mimiciv_derived.enzyme.alt).
-- @column alt_max: Highest aLT, IU/L (mimiciv_derived.enzyme.alt).
-- @column alp_min: Lowest alkaline phosphatase, IU/L (mimiciv_derived.enzyme.alp).
-- @column alp_max: Highest alkaline phosphatase, IU/L (mimiciv_derived.enzyme.alp).
-- @column ast_min: Lowest aST, IU/L (mimiciv_derived.enzyme.ast).
-- @column ast_max: Highest aST, IU/L (mimiciv_derived.enzyme.ast).
-- @column amylase_min: Lowest amylase, IU/L (mimiciv_derived.enzyme.amylase).
-- @column amylase_max: Highest amylase, IU/L (mimiciv_derived.enzyme.amylase).
-- @column bilirubin_total_min: Lowest total bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_total).
-- @column bilirubin_total_max: Highest total bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_total).
-- @column bilirubin_direct_min: Lowest direct bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_direct).
-- @column bilirubin_direct_max: Highest direct bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_direct).
-- @column bilirubin_indirect_min: Lowest indirect bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_indirect).
-- @column bilirubin_indirect_max: Highest indirect bilirubin, mg/dL (mimiciv_derived.enzyme.bilirubin_indirect).
-- @column ck_cpk_min: Lowest creatine kinase, IU/L (mimiciv_derived.enzyme.ck_cpk).
-- @column ck_cpk_max: Highest creatine kinase, IU/L (mimiciv_derived.enzyme.ck_cpk).
-- @column ck_mb_min: Lowest cK-MB, ng/mL (mimiciv_derived.enzyme.ck_mb).
-- @column ck_mb_max: Highest cK-MB, ng/mL (mimiciv_derived.enzyme.ck_mb).
-- @column ggt_min: Lowest gGT, IU/L (mimiciv_derived.enzyme.ggt).
-- @column ggt_max: Highest gGT, IU/L (mimiciv_derived.enzyme.ggt).
-- @column ld_ldh_min: Lowest lDH, IU/L (mimiciv_derived.enzyme.ld_ldh).
-- @column ld_ldh_max: Highest lDH, IU/L (mimiciv_derived.enzyme.ld_ldh).
--
-- Definition: the first-day window [ICU intime - 6 h, intime + 24 h], the window used by
-- the first-day severity scores (APACHE III, SAPS II: Knaus 1991, Le Gall 1993), widened
-- by 6 hours because laboratory results drawn just before transfer to the ICU are the
-- admission values. Specimens are matched to the stay by patient and time (any admission).
-- Lab tables are per specimen (mimiciv_derived.chemistry, ...); a stay with no specimen
-- in the window has NULLs.
WITH cbc AS (
    SELECT icu.stay_id,
        min(lab.hematocrit) AS hematocrit_min, max(lab.hematocrit) AS hematocrit_max,
        min(lab.hemoglobin) AS hemoglobin_min, max(lab.hemoglobin) AS hemoglobin_max,
        min(lab.platelet) AS platelets_min, max(lab.platelet) AS platelets_max,
        min(lab.wbc) AS wbc_min, max(lab.wbc) AS wbc_max
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.complete_blood_count AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.charttime >= icu.intime - INTERVAL 6 HOUR
     AND lab.charttime <= icu.intime + INTERVAL 1 DAY
    GROUP BY icu.stay_id
),
chem AS (
    SELECT icu.stay_id,
        min(lab.albumin) AS albumin_min, max(lab.albumin) AS albumin_max,
        min(lab.globulin) AS globulin_min, max(lab.globulin) AS globulin_max,
        min(lab.total_protein) AS total_protein_min, max(lab.total_protein) AS total_protein_max,
        min(lab.aniongap) AS aniongap_min, max(lab.aniongap) AS aniongap_max,
        min(lab.bicarbonate) AS bicarbonate_min, max(lab.bicarbonate) AS bicarbonate_max,
        min(lab.bun) AS bun_min, max(lab.bun) AS bun_max,
        min(lab.calcium) AS calcium_min, max(lab.calcium) AS calcium_max,
        min(lab.chloride) AS chloride_min, max(lab.chloride) AS chloride_max,
        min(lab.creatinine) AS creatinine_min, max(lab.creatinine) AS creatinine_max,
        min(lab.glucose) AS glucose_min, max(lab.glucose) AS glucose_max,
        min(lab.sodium) AS sodium_min, max(lab.sodium) AS sodium_max,
        min(lab.potassium) AS potassium_min, max(lab.potassium) AS potassium_max
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.chemistry AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.charttime >= icu.intime - INTERVAL 6 HOUR
     AND lab.charttime <= icu.intime + INTERVAL 1 DAY
    GROUP BY icu.stay_id
),
diff AS (
    SELECT icu.stay_id,
        min(lab.basophils_abs) AS abs_basophils_min, max(lab.basophils_abs) AS abs_basophils_max,
        min(lab.eosinophils_abs) AS abs_eosinophils_min, max(lab.eosinophils_abs) AS abs_eosinophils_max,
        min(lab.lymphocytes_abs) AS abs_lymphocytes_min, max(lab.lymphocytes_abs) AS abs_lymphocytes_max,
        min(lab.monocytes_abs) AS abs_monocytes_min, max(lab.monocytes_abs) AS abs_monocytes_max,
        min(lab.neutrophils_abs) AS abs_neutrophils_min, max(lab.neutrophils_abs) AS abs_neutrophils_max,
        min(lab.atypical_lymphocytes) AS atyps_min, max(lab.atypical_lymphocytes) AS atyps_max,
        min(lab.bands) AS bands_min, max(lab.bands) AS bands_max,
        min(lab.immature_granulocytes) AS imm_granulocytes_min, max(lab.immature_granulocytes) AS imm_granulocytes_max,
        min(lab.metamyelocytes) AS metas_min, max(lab.metamyelocytes) AS metas_max,
        min(lab.nrbc) AS nrbc_min, max(lab.nrbc) AS nrbc_max
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.blood_differential AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.charttime >= icu.intime - INTERVAL 6 HOUR
     AND lab.charttime <= icu.intime + INTERVAL 1 DAY
    GROUP BY icu.stay_id
),
coag AS (
    SELECT icu.stay_id,
        min(lab.d_dimer) AS d_dimer_min, max(lab.d_dimer) AS d_dimer_max,
        min(lab.fibrinogen) AS fibrinogen_min, max(lab.fibrinogen) AS fibrinogen_max,
        min(lab.thrombin) AS thrombin_min, max(lab.thrombin) AS thrombin_max,
        min(lab.inr) AS inr_min, max(lab.inr) AS inr_max,
        min(lab.pt) AS pt_min, max(lab.pt) AS pt_max,
        min(lab.ptt) AS ptt_min, max(lab.ptt) AS ptt_max
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.coagulation AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.charttime >= icu.intime - INTERVAL 6 HOUR
     AND lab.charttime <= icu.intime + INTERVAL 1 DAY
    GROUP BY icu.stay_id
),
enz AS (
    SELECT icu.stay_id,
        min(lab.alt) AS alt_min, max(lab.alt) AS alt_max,
        min(lab.alp) AS alp_min, max(lab.alp) AS alp_max,
        min(lab.ast) AS ast_min, max(lab.ast) AS ast_max,
        min(lab.amylase) AS amylase_min, max(lab.amylase) AS amylase_max,
        min(lab.bilirubin_total) AS bilirubin_total_min, max(lab.bilirubin_total) AS bilirubin_total_max,
        min(lab.bilirubin_direct) AS bilirubin_direct_min, max(lab.bilirubin_direct) AS bilirubin_direct_max,
        min(lab.bilirubin_indirect) AS bilirubin_indirect_min, max(lab.bilirubin_indirect) AS bilirubin_indirect_max,
        min(lab.ck_cpk) AS ck_cpk_min, max(lab.ck_cpk) AS ck_cpk_max,
        min(lab.ck_mb) AS ck_mb_min, max(lab.ck_mb) AS ck_mb_max,
        min(lab.ggt) AS ggt_min, max(lab.ggt) AS ggt_max,
        min(lab.ld_ldh) AS ld_ldh_min, max(lab.ld_ldh) AS ld_ldh_max
    FROM mimiciv_icu.icustays AS icu
    JOIN mimiciv_derived.enzyme AS lab
      ON lab.subject_id = icu.subject_id
     AND lab.charttime >= icu.intime - INTERVAL 6 HOUR
     AND lab.charttime <= icu.intime + INTERVAL 1 DAY
    GROUP BY icu.stay_id
)
SELECT
    icu.subject_id,
    icu.stay_id,
    cbc.hematocrit_min,
    cbc.hematocrit_max,
    cbc.hemoglobin_min,
    cbc.hemoglobin_max,
    cbc.platelets_min,
    cbc.platelets_max,
    cbc.wbc_min,
    cbc.wbc_max,
    chem.albumin_min,
    chem.albumin_max,
    chem.globulin_min,
    chem.globulin_max,
    chem.total_protein_min,
    chem.total_protein_max,
    chem.aniongap_min,
    chem.aniongap_max,
    chem.bicarbonate_min,
    chem.bicarbonate_max,
    chem.bun_min,
    chem.bun_max,
    chem.calcium_min,
    chem.calcium_max,
    chem.chloride_min,
    chem.chloride_max,
    chem.creatinine_min,
    chem.creatinine_max,
    chem.glucose_min,
    chem.glucose_max,
    chem.sodium_min,
    chem.sodium_max,
    chem.potassium_min,
    chem.potassium_max,
    diff.abs_basophils_min,
    diff.abs_basophils_max,
    diff.abs_eosinophils_min,
    diff.abs_eosinophils_max,
    diff.abs_lymphocytes_min,
    diff.abs_lymphocytes_max,
    diff.abs_monocytes_min,
    diff.abs_monocytes_max,
    diff.abs_neutrophils_min,
    diff.abs_neutrophils_max,
    diff.atyps_min,
    diff.atyps_max,
    diff.bands_min,
    diff.bands_max,
    diff.imm_granulocytes_min,
    diff.imm_granulocytes_max,
    diff.metas_min,
    diff.metas_max,
    diff.nrbc_min,
    diff.nrbc_max,
    coag.d_dimer_min,
    coag.d_dimer_max,
    coag.fibrinogen_min,
    coag.fibrinogen_max,
    coag.thrombin_min,
    coag.thrombin_max,
    coag.inr_min,
    coag.inr_max,
    coag.pt_min,
    coag.pt_max,
    coag.ptt_min,
    coag.ptt_max,
    enz.alt_min,
    enz.alt_max,
    enz.alp_min,
    enz.alp_max,
    enz.ast_min,
    enz.ast_max,
    enz.amylase_min,
    enz.amylase_max,
    enz.bilirubin_total_min,
    enz.bilirubin_total_max,
    enz.bilirubin_direct_min,
    enz.bilirubin_direct_max,
    enz.bilirubin_indirect_min,
    enz.bilirubin_indirect_max,
    enz.ck_cpk_min,
    enz.ck_cpk_max,
    enz.ck_mb_min,
    enz.ck_mb_max,
    enz.ggt_min,
    enz.ggt_max,
    enz.ld_ldh_min,
    enz.ld_ldh_max
FROM mimiciv_icu.icustays AS icu
LEFT JOIN cbc ON cbc.stay_id = icu.stay_id
LEFT JOIN chem ON chem.stay_id = icu.stay_id
LEFT JOIN diff ON diff.stay_id = icu.stay_id
LEFT JOIN coag ON coag.stay_id = icu.stay_id
LEFT JOIN enz ON enz.stay_id = icu.stay_id
