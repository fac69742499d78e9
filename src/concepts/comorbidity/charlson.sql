-- @table One row per hospital admission: the Charlson comorbidity categories found in its ICD-9/ICD-10 diagnoses, an age score, and the age-adjusted Charlson Comorbidity Index.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column age_score: Age points: 0 under 50, 1 for 50-59, 2 for 60-69, 3 for 70-79, 4 for 80 and over.
-- @column myocardial_infarct: 1 if a myocardial infarction code is present (weight 1).
-- @column congestive_heart_failure: 1 if a congestive heart failure code is present (weight 1).
-- @column peripheral_vascular_disease: 1 if a peripheral vascular disease code is present (weight 1).
-- @column cerebrovascular_disease: 1 if a cerebrovascular disease code is present (weight 1).
-- @column dementia: 1 if a dementia code is present (weight 1).
-- @column chronic_pulmonary_disease: 1 if a chronic pulmonary disease code is present (weight 1).
-- @column rheumatic_disease: 1 if a rheumatic (connective tissue) disease code is present (weight 1).
-- @column peptic_ulcer_disease: 1 if a peptic ulcer disease code is present (weight 1).
-- @column mild_liver_disease: 1 if a mild liver disease code is present (weight 1; not counted when severe liver disease is).
-- @column diabetes_without_cc: 1 if diabetes without chronic complication is coded (weight 1; not counted when diabetes with complication is).
-- @column diabetes_with_cc: 1 if diabetes with chronic complication is coded (weight 2).
-- @column paraplegia: 1 if hemiplegia or paraplegia is coded (weight 2).
-- @column renal_disease: 1 if moderate or severe renal disease is coded (weight 2).
-- @column malignant_cancer: 1 if a malignancy (lymphoma and leukaemia included, skin cancer other than melanoma excluded) is coded (weight 2; not counted when metastatic tumour is).
-- @column severe_liver_disease: 1 if moderate or severe liver disease is coded (weight 3).
-- @column metastatic_solid_tumor: 1 if a metastatic solid tumour is coded (weight 6).
-- @column aids: 1 if AIDS/HIV is coded (weight 6).
-- @column charlson_comorbidity_index: age_score plus the weighted categories, each hierarchy pair counted once at its higher weight.
--
-- Definition: Charlson et al., J Chronic Dis 1987 (categories and weights) with the age
-- adjustment of Charlson et al., J Clin Epidemiol 1994; the ICD-9-CM ("enhanced") and
-- ICD-10 code lists of Quan et al., Med Care 2005;43:1130-9, matched as code prefixes.
-- A category counts when any diagnosis of the admission (mimiciv_hosp.diagnoses_icd, all
-- seq_num) starts with one of its codes; the 2011 re-weighting (Quan 2011) is not used,
-- as in mimic-code's table. An admission with no diagnoses has every category 0.
WITH codes(category, icd_version, prefix) AS (
    VALUES
    -- ICD-9: myocardial_infarct
    ('myocardial_infarct', 9, '410'), ('myocardial_infarct', 9, '412'),
    -- ICD-9: congestive_heart_failure
    ('congestive_heart_failure', 9, '39891'), ('congestive_heart_failure', 9, '40201'), ('congestive_heart_failure', 9, '40211'), ('congestive_heart_failure', 9, '40291'), ('congestive_heart_failure', 9, '40401'), ('congestive_heart_failure', 9, '40403'), ('congestive_heart_failure', 9, '40411'), ('congestive_heart_failure', 9, '40413'),
    ('congestive_heart_failure', 9, '40491'), ('congestive_heart_failure', 9, '40493'), ('congestive_heart_failure', 9, '4254'), ('congestive_heart_failure', 9, '4255'), ('congestive_heart_failure', 9, '4256'), ('congestive_heart_failure', 9, '4257'), ('congestive_heart_failure', 9, '4258'), ('congestive_heart_failure', 9, '4259'),
    ('congestive_heart_failure', 9, '428'),
    -- ICD-9: peripheral_vascular_disease
    ('peripheral_vascular_disease', 9, '0930'), ('peripheral_vascular_disease', 9, '4373'), ('peripheral_vascular_disease', 9, '440'), ('peripheral_vascular_disease', 9, '441'), ('peripheral_vascular_disease', 9, '4431'), ('peripheral_vascular_disease', 9, '4432'), ('peripheral_vascular_disease', 9, '4433'), ('peripheral_vascular_disease', 9, '4434'),
    ('peripheral_vascular_disease', 9, '4435'), ('peripheral_vascular_disease', 9, '4436'), ('peripheral_vascular_disease', 9, '4437'), ('peripheral_vascular_disease', 9, '4438'), ('peripheral_vascular_disease', 9, '4439'), ('peripheral_vascular_disease', 9, '4471'), ('peripheral_vascular_disease', 9, '5571'), ('peripheral_vascular_disease', 9, '5579'),
    ('peripheral_vascular_disease', 9, 'V434'),
    -- ICD-9: cerebrovascular_disease
    ('cerebrovascular_disease', 9, '36234'), ('cerebrovascular_disease', 9, '430'), ('cerebrovascular_disease', 9, '431'), ('cerebrovascular_disease', 9, '432'), ('cerebrovascular_disease', 9, '433'), ('cerebrovascular_disease', 9, '434'), ('cerebrovascular_disease', 9, '435'), ('cerebrovascular_disease', 9, '436'),
    ('cerebrovascular_disease', 9, '437'), ('cerebrovascular_disease', 9, '438'),
    -- ICD-9: dementia
    ('dementia', 9, '290'), ('dementia', 9, '2941'), ('dementia', 9, '3312'),
    -- ICD-9: chronic_pulmonary_disease
    ('chronic_pulmonary_disease', 9, '4168'), ('chronic_pulmonary_disease', 9, '4169'), ('chronic_pulmonary_disease', 9, '490'), ('chronic_pulmonary_disease', 9, '491'), ('chronic_pulmonary_disease', 9, '492'), ('chronic_pulmonary_disease', 9, '493'), ('chronic_pulmonary_disease', 9, '494'), ('chronic_pulmonary_disease', 9, '495'),
    ('chronic_pulmonary_disease', 9, '496'), ('chronic_pulmonary_disease', 9, '497'), ('chronic_pulmonary_disease', 9, '498'), ('chronic_pulmonary_disease', 9, '499'), ('chronic_pulmonary_disease', 9, '500'), ('chronic_pulmonary_disease', 9, '501'), ('chronic_pulmonary_disease', 9, '502'), ('chronic_pulmonary_disease', 9, '503'),
    ('chronic_pulmonary_disease', 9, '504'), ('chronic_pulmonary_disease', 9, '505'), ('chronic_pulmonary_disease', 9, '5064'), ('chronic_pulmonary_disease', 9, '5081'), ('chronic_pulmonary_disease', 9, '5088'),
    -- ICD-9: rheumatic_disease
    ('rheumatic_disease', 9, '4465'), ('rheumatic_disease', 9, '7100'), ('rheumatic_disease', 9, '7101'), ('rheumatic_disease', 9, '7102'), ('rheumatic_disease', 9, '7103'), ('rheumatic_disease', 9, '7104'), ('rheumatic_disease', 9, '7140'), ('rheumatic_disease', 9, '7141'),
    ('rheumatic_disease', 9, '7142'), ('rheumatic_disease', 9, '7148'), ('rheumatic_disease', 9, '725'),
    -- ICD-9: peptic_ulcer_disease
    ('peptic_ulcer_disease', 9, '531'), ('peptic_ulcer_disease', 9, '532'), ('peptic_ulcer_disease', 9, '533'), ('peptic_ulcer_disease', 9, '534'),
    -- ICD-9: mild_liver_disease
    ('mild_liver_disease', 9, '07022'), ('mild_liver_disease', 9, '07023'), ('mild_liver_disease', 9, '07032'), ('mild_liver_disease', 9, '07033'), ('mild_liver_disease', 9, '07044'), ('mild_liver_disease', 9, '07054'), ('mild_liver_disease', 9, '0706'), ('mild_liver_disease', 9, '0709'),
    ('mild_liver_disease', 9, '570'), ('mild_liver_disease', 9, '571'), ('mild_liver_disease', 9, '5733'), ('mild_liver_disease', 9, '5734'), ('mild_liver_disease', 9, '5738'), ('mild_liver_disease', 9, '5739'), ('mild_liver_disease', 9, 'V427'),
    -- ICD-9: diabetes_without_cc
    ('diabetes_without_cc', 9, '2500'), ('diabetes_without_cc', 9, '2501'), ('diabetes_without_cc', 9, '2502'), ('diabetes_without_cc', 9, '2503'), ('diabetes_without_cc', 9, '2508'), ('diabetes_without_cc', 9, '2509'),
    -- ICD-9: diabetes_with_cc
    ('diabetes_with_cc', 9, '2504'), ('diabetes_with_cc', 9, '2505'), ('diabetes_with_cc', 9, '2506'), ('diabetes_with_cc', 9, '2507'),
    -- ICD-9: paraplegia
    ('paraplegia', 9, '3341'), ('paraplegia', 9, '342'), ('paraplegia', 9, '343'), ('paraplegia', 9, '3440'), ('paraplegia', 9, '3441'), ('paraplegia', 9, '3442'), ('paraplegia', 9, '3443'), ('paraplegia', 9, '3444'),
    ('paraplegia', 9, '3445'), ('paraplegia', 9, '3446'), ('paraplegia', 9, '3449'),
    -- ICD-9: renal_disease
    ('renal_disease', 9, '40301'), ('renal_disease', 9, '40311'), ('renal_disease', 9, '40391'), ('renal_disease', 9, '40402'), ('renal_disease', 9, '40403'), ('renal_disease', 9, '40412'), ('renal_disease', 9, '40413'), ('renal_disease', 9, '40492'),
    ('renal_disease', 9, '40493'), ('renal_disease', 9, '582'), ('renal_disease', 9, '5830'), ('renal_disease', 9, '5831'), ('renal_disease', 9, '5832'), ('renal_disease', 9, '5833'), ('renal_disease', 9, '5834'), ('renal_disease', 9, '5835'),
    ('renal_disease', 9, '5836'), ('renal_disease', 9, '5837'), ('renal_disease', 9, '585'), ('renal_disease', 9, '586'), ('renal_disease', 9, '5880'), ('renal_disease', 9, 'V420'), ('renal_disease', 9, 'V451'), ('renal_disease', 9, 'V56'),
    -- ICD-9: malignant_cancer
    ('malignant_cancer', 9, '140'), ('malignant_cancer', 9, '141'), ('malignant_cancer', 9, '142'), ('malignant_cancer', 9, '143'), ('malignant_cancer', 9, '144'), ('malignant_cancer', 9, '145'), ('malignant_cancer', 9, '146'), ('malignant_cancer', 9, '147'),
    ('malignant_cancer', 9, '148'), ('malignant_cancer', 9, '149'), ('malignant_cancer', 9, '150'), ('malignant_cancer', 9, '151'), ('malignant_cancer', 9, '152'), ('malignant_cancer', 9, '153'), ('malignant_cancer', 9, '154'), ('malignant_cancer', 9, '155'),
    ('malignant_cancer', 9, '156'), ('malignant_cancer', 9, '157'), ('malignant_cancer', 9, '158'), ('malignant_cancer', 9, '159'), ('malignant_cancer', 9, '160'), ('malignant_cancer', 9, '161'), ('malignant_cancer', 9, '162'), ('malignant_cancer', 9, '163'),
    ('malignant_cancer', 9, '164'), ('malignant_cancer', 9, '165'), ('malignant_cancer', 9, '166'), ('malignant_cancer', 9, '167'), ('malignant_cancer', 9, '168'), ('malignant_cancer', 9, '169'), ('malignant_cancer', 9, '170'), ('malignant_cancer', 9, '171'),
    ('malignant_cancer', 9, '172'), ('malignant_cancer', 9, '174'), ('malignant_cancer', 9, '175'), ('malignant_cancer', 9, '176'), ('malignant_cancer', 9, '177'), ('malignant_cancer', 9, '178'), ('malignant_cancer', 9, '179'), ('malignant_cancer', 9, '180'),
    ('malignant_cancer', 9, '181'), ('malignant_cancer', 9, '182'), ('malignant_cancer', 9, '183'), ('malignant_cancer', 9, '184'), ('malignant_cancer', 9, '185'), ('malignant_cancer', 9, '186'), ('malignant_cancer', 9, '187'), ('malignant_cancer', 9, '188'),
    ('malignant_cancer', 9, '189'), ('malignant_cancer', 9, '190'), ('malignant_cancer', 9, '191'), ('malignant_cancer', 9, '192'), ('malignant_cancer', 9, '193'), ('malignant_cancer', 9, '194'), ('malignant_cancer', 9, '1950'), ('malignant_cancer', 9, '1951'),
    ('malignant_cancer', 9, '1952'), ('malignant_cancer', 9, '1953'), ('malignant_cancer', 9, '1954'), ('malignant_cancer', 9, '1955'), ('malignant_cancer', 9, '1956'), ('malignant_cancer', 9, '1957'), ('malignant_cancer', 9, '1958'), ('malignant_cancer', 9, '200'),
    ('malignant_cancer', 9, '201'), ('malignant_cancer', 9, '202'), ('malignant_cancer', 9, '203'), ('malignant_cancer', 9, '204'), ('malignant_cancer', 9, '205'), ('malignant_cancer', 9, '206'), ('malignant_cancer', 9, '207'), ('malignant_cancer', 9, '208'),
    ('malignant_cancer', 9, '2386'),
    -- ICD-9: severe_liver_disease
    ('severe_liver_disease', 9, '4560'), ('severe_liver_disease', 9, '4561'), ('severe_liver_disease', 9, '4562'), ('severe_liver_disease', 9, '5722'), ('severe_liver_disease', 9, '5723'), ('severe_liver_disease', 9, '5724'), ('severe_liver_disease', 9, '5725'), ('severe_liver_disease', 9, '5726'),
    ('severe_liver_disease', 9, '5727'), ('severe_liver_disease', 9, '5728'),
    -- ICD-9: metastatic_solid_tumor
    ('metastatic_solid_tumor', 9, '196'), ('metastatic_solid_tumor', 9, '197'), ('metastatic_solid_tumor', 9, '198'), ('metastatic_solid_tumor', 9, '199'),
    -- ICD-9: aids
    ('aids', 9, '042'), ('aids', 9, '043'), ('aids', 9, '044'),
    -- ICD-10: myocardial_infarct
    ('myocardial_infarct', 10, 'I21'), ('myocardial_infarct', 10, 'I22'), ('myocardial_infarct', 10, 'I252'),
    -- ICD-10: congestive_heart_failure
    ('congestive_heart_failure', 10, 'I099'), ('congestive_heart_failure', 10, 'I110'), ('congestive_heart_failure', 10, 'I130'), ('congestive_heart_failure', 10, 'I132'), ('congestive_heart_failure', 10, 'I255'), ('congestive_heart_failure', 10, 'I420'), ('congestive_heart_failure', 10, 'I425'), ('congestive_heart_failure', 10, 'I426'),
    ('congestive_heart_failure', 10, 'I427'), ('congestive_heart_failure', 10, 'I428'), ('congestive_heart_failure', 10, 'I429'), ('congestive_heart_failure', 10, 'I43'), ('congestive_heart_failure', 10, 'I50'), ('congestive_heart_failure', 10, 'P290'),
    -- ICD-10: peripheral_vascular_disease
    ('peripheral_vascular_disease', 10, 'I70'), ('peripheral_vascular_disease', 10, 'I71'), ('peripheral_vascular_disease', 10, 'I731'), ('peripheral_vascular_disease', 10, 'I738'), ('peripheral_vascular_disease', 10, 'I739'), ('peripheral_vascular_disease', 10, 'I771'), ('peripheral_vascular_disease', 10, 'I790'), ('peripheral_vascular_disease', 10, 'I792'),
    ('peripheral_vascular_disease', 10, 'K551'), ('peripheral_vascular_disease', 10, 'K558'), ('peripheral_vascular_disease', 10, 'K559'), ('peripheral_vascular_disease', 10, 'Z958'), ('peripheral_vascular_disease', 10, 'Z959'),
    -- ICD-10: cerebrovascular_disease
    ('cerebrovascular_disease', 10, 'G45'), ('cerebrovascular_disease', 10, 'G46'), ('cerebrovascular_disease', 10, 'H340'), ('cerebrovascular_disease', 10, 'I60'), ('cerebrovascular_disease', 10, 'I61'), ('cerebrovascular_disease', 10, 'I62'), ('cerebrovascular_disease', 10, 'I63'), ('cerebrovascular_disease', 10, 'I64'),
    ('cerebrovascular_disease', 10, 'I65'), ('cerebrovascular_disease', 10, 'I66'), ('cerebrovascular_disease', 10, 'I67'), ('cerebrovascular_disease', 10, 'I68'), ('cerebrovascular_disease', 10, 'I69'),
    -- ICD-10: dementia
    ('dementia', 10, 'F00'), ('dementia', 10, 'F01'), ('dementia', 10, 'F02'), ('dementia', 10, 'F03'), ('dementia', 10, 'F051'), ('dementia', 10, 'G30'), ('dementia', 10, 'G311'),
    -- ICD-10: chronic_pulmonary_disease
    ('chronic_pulmonary_disease', 10, 'I278'), ('chronic_pulmonary_disease', 10, 'I279'), ('chronic_pulmonary_disease', 10, 'J40'), ('chronic_pulmonary_disease', 10, 'J41'), ('chronic_pulmonary_disease', 10, 'J42'), ('chronic_pulmonary_disease', 10, 'J43'), ('chronic_pulmonary_disease', 10, 'J44'), ('chronic_pulmonary_disease', 10, 'J45'),
    ('chronic_pulmonary_disease', 10, 'J46'), ('chronic_pulmonary_disease', 10, 'J47'), ('chronic_pulmonary_disease', 10, 'J60'), ('chronic_pulmonary_disease', 10, 'J61'), ('chronic_pulmonary_disease', 10, 'J62'), ('chronic_pulmonary_disease', 10, 'J63'), ('chronic_pulmonary_disease', 10, 'J64'), ('chronic_pulmonary_disease', 10, 'J65'),
    ('chronic_pulmonary_disease', 10, 'J66'), ('chronic_pulmonary_disease', 10, 'J67'), ('chronic_pulmonary_disease', 10, 'J684'), ('chronic_pulmonary_disease', 10, 'J701'), ('chronic_pulmonary_disease', 10, 'J703'),
    -- ICD-10: rheumatic_disease
    ('rheumatic_disease', 10, 'M05'), ('rheumatic_disease', 10, 'M06'), ('rheumatic_disease', 10, 'M315'), ('rheumatic_disease', 10, 'M32'), ('rheumatic_disease', 10, 'M33'), ('rheumatic_disease', 10, 'M34'), ('rheumatic_disease', 10, 'M351'), ('rheumatic_disease', 10, 'M353'),
    ('rheumatic_disease', 10, 'M360'),
    -- ICD-10: peptic_ulcer_disease
    ('peptic_ulcer_disease', 10, 'K25'), ('peptic_ulcer_disease', 10, 'K26'), ('peptic_ulcer_disease', 10, 'K27'), ('peptic_ulcer_disease', 10, 'K28'),
    -- ICD-10: mild_liver_disease
    ('mild_liver_disease', 10, 'B18'), ('mild_liver_disease', 10, 'K700'), ('mild_liver_disease', 10, 'K701'), ('mild_liver_disease', 10, 'K702'), ('mild_liver_disease', 10, 'K703'), ('mild_liver_disease', 10, 'K709'), ('mild_liver_disease', 10, 'K713'), ('mild_liver_disease', 10, 'K714'),
    ('mild_liver_disease', 10, 'K715'), ('mild_liver_disease', 10, 'K717'), ('mild_liver_disease', 10, 'K73'), ('mild_liver_disease', 10, 'K74'), ('mild_liver_disease', 10, 'K760'), ('mild_liver_disease', 10, 'K762'), ('mild_liver_disease', 10, 'K763'), ('mild_liver_disease', 10, 'K764'),
    ('mild_liver_disease', 10, 'K768'), ('mild_liver_disease', 10, 'K769'), ('mild_liver_disease', 10, 'Z944'),
    -- ICD-10: diabetes_without_cc
    ('diabetes_without_cc', 10, 'E100'), ('diabetes_without_cc', 10, 'E101'), ('diabetes_without_cc', 10, 'E106'), ('diabetes_without_cc', 10, 'E108'), ('diabetes_without_cc', 10, 'E109'), ('diabetes_without_cc', 10, 'E110'), ('diabetes_without_cc', 10, 'E111'), ('diabetes_without_cc', 10, 'E116'),
    ('diabetes_without_cc', 10, 'E118'), ('diabetes_without_cc', 10, 'E119'), ('diabetes_without_cc', 10, 'E120'), ('diabetes_without_cc', 10, 'E121'), ('diabetes_without_cc', 10, 'E126'), ('diabetes_without_cc', 10, 'E128'), ('diabetes_without_cc', 10, 'E129'), ('diabetes_without_cc', 10, 'E130'),
    ('diabetes_without_cc', 10, 'E131'), ('diabetes_without_cc', 10, 'E136'), ('diabetes_without_cc', 10, 'E138'), ('diabetes_without_cc', 10, 'E139'), ('diabetes_without_cc', 10, 'E140'), ('diabetes_without_cc', 10, 'E141'), ('diabetes_without_cc', 10, 'E146'), ('diabetes_without_cc', 10, 'E148'),
    ('diabetes_without_cc', 10, 'E149'),
    -- ICD-10: diabetes_with_cc
    ('diabetes_with_cc', 10, 'E102'), ('diabetes_with_cc', 10, 'E103'), ('diabetes_with_cc', 10, 'E104'), ('diabetes_with_cc', 10, 'E105'), ('diabetes_with_cc', 10, 'E107'), ('diabetes_with_cc', 10, 'E112'), ('diabetes_with_cc', 10, 'E113'), ('diabetes_with_cc', 10, 'E114'),
    ('diabetes_with_cc', 10, 'E115'), ('diabetes_with_cc', 10, 'E117'), ('diabetes_with_cc', 10, 'E122'), ('diabetes_with_cc', 10, 'E123'), ('diabetes_with_cc', 10, 'E124'), ('diabetes_with_cc', 10, 'E125'), ('diabetes_with_cc', 10, 'E127'), ('diabetes_with_cc', 10, 'E132'),
    ('diabetes_with_cc', 10, 'E133'), ('diabetes_with_cc', 10, 'E134'), ('diabetes_with_cc', 10, 'E135'), ('diabetes_with_cc', 10, 'E137'), ('diabetes_with_cc', 10, 'E142'), ('diabetes_with_cc', 10, 'E143'), ('diabetes_with_cc', 10, 'E144'), ('diabetes_with_cc', 10, 'E145'),
    ('diabetes_with_cc', 10, 'E147'),
    -- ICD-10: paraplegia
    ('paraplegia', 10, 'G041'), ('paraplegia', 10, 'G114'), ('paraplegia', 10, 'G801'), ('paraplegia', 10, 'G802'), ('paraplegia', 10, 'G81'), ('paraplegia', 10, 'G82'), ('paraplegia', 10, 'G830'), ('paraplegia', 10, 'G831'),
    ('paraplegia', 10, 'G832'), ('paraplegia', 10, 'G833'), ('paraplegia', 10, 'G834'), ('paraplegia', 10, 'G839'),
    -- ICD-10: renal_disease
    ('renal_disease', 10, 'I120'), ('renal_disease', 10, 'I131'), ('renal_disease', 10, 'N032'), ('renal_disease', 10, 'N033'), ('renal_disease', 10, 'N034'), ('renal_disease', 10, 'N035'), ('renal_disease', 10, 'N036'), ('renal_disease', 10, 'N037'),
    ('renal_disease', 10, 'N052'), ('renal_disease', 10, 'N053'), ('renal_disease', 10, 'N054'), ('renal_disease', 10, 'N055'), ('renal_disease', 10, 'N056'), ('renal_disease', 10, 'N057'), ('renal_disease', 10, 'N18'), ('renal_disease', 10, 'N19'),
    ('renal_disease', 10, 'N250'), ('renal_disease', 10, 'Z490'), ('renal_disease', 10, 'Z491'), ('renal_disease', 10, 'Z492'), ('renal_disease', 10, 'Z940'), ('renal_disease', 10, 'Z992'),
    -- ICD-10: malignant_cancer
    ('malignant_cancer', 10, 'C00'), ('malignant_cancer', 10, 'C01'), ('malignant_cancer', 10, 'C02'), ('malignant_cancer', 10, 'C03'), ('malignant_cancer', 10, 'C04'), ('malignant_cancer', 10, 'C05'), ('malignant_cancer', 10, 'C06'), ('malignant_cancer', 10, 'C07'),
    ('malignant_cancer', 10, 'C08'), ('malignant_cancer', 10, 'C09'), ('malignant_cancer', 10, 'C10'), ('malignant_cancer', 10, 'C11'), ('malignant_cancer', 10, 'C12'), ('malignant_cancer', 10, 'C13'), ('malignant_cancer', 10, 'C14'), ('malignant_cancer', 10, 'C15'),
    ('malignant_cancer', 10, 'C16'), ('malignant_cancer', 10, 'C17'), ('malignant_cancer', 10, 'C18'), ('malignant_cancer', 10, 'C19'), ('malignant_cancer', 10, 'C20'), ('malignant_cancer', 10, 'C21'), ('malignant_cancer', 10, 'C22'), ('malignant_cancer', 10, 'C23'),
    ('malignant_cancer', 10, 'C24'), ('malignant_cancer', 10, 'C25'), ('malignant_cancer', 10, 'C26'), ('malignant_cancer', 10, 'C30'), ('malignant_cancer', 10, 'C31'), ('malignant_cancer', 10, 'C32'), ('malignant_cancer', 10, 'C33'), ('malignant_cancer', 10, 'C34'),
    ('malignant_cancer', 10, 'C37'), ('malignant_cancer', 10, 'C38'), ('malignant_cancer', 10, 'C39'), ('malignant_cancer', 10, 'C40'), ('malignant_cancer', 10, 'C41'), ('malignant_cancer', 10, 'C43'), ('malignant_cancer', 10, 'C45'), ('malignant_cancer', 10, 'C46'),
    ('malignant_cancer', 10, 'C47'), ('malignant_cancer', 10, 'C48'), ('malignant_cancer', 10, 'C49'), ('malignant_cancer', 10, 'C50'), ('malignant_cancer', 10, 'C51'), ('malignant_cancer', 10, 'C52'), ('malignant_cancer', 10, 'C53'), ('malignant_cancer', 10, 'C54'),
    ('malignant_cancer', 10, 'C55'), ('malignant_cancer', 10, 'C56'), ('malignant_cancer', 10, 'C57'), ('malignant_cancer', 10, 'C58'), ('malignant_cancer', 10, 'C60'), ('malignant_cancer', 10, 'C61'), ('malignant_cancer', 10, 'C62'), ('malignant_cancer', 10, 'C63'),
    ('malignant_cancer', 10, 'C64'), ('malignant_cancer', 10, 'C65'), ('malignant_cancer', 10, 'C66'), ('malignant_cancer', 10, 'C67'), ('malignant_cancer', 10, 'C68'), ('malignant_cancer', 10, 'C69'), ('malignant_cancer', 10, 'C70'), ('malignant_cancer', 10, 'C71'),
    ('malignant_cancer', 10, 'C72'), ('malignant_cancer', 10, 'C73'), ('malignant_cancer', 10, 'C74'), ('malignant_cancer', 10, 'C75'), ('malignant_cancer', 10, 'C76'), ('malignant_cancer', 10, 'C81'), ('malignant_cancer', 10, 'C82'), ('malignant_cancer', 10, 'C83'),
    ('malignant_cancer', 10, 'C84'), ('malignant_cancer', 10, 'C85'), ('malignant_cancer', 10, 'C88'), ('malignant_cancer', 10, 'C90'), ('malignant_cancer', 10, 'C91'), ('malignant_cancer', 10, 'C92'), ('malignant_cancer', 10, 'C93'), ('malignant_cancer', 10, 'C94'),
    ('malignant_cancer', 10, 'C95'), ('malignant_cancer', 10, 'C96'), ('malignant_cancer', 10, 'C97'),
    -- ICD-10: severe_liver_disease
    ('severe_liver_disease', 10, 'I850'), ('severe_liver_disease', 10, 'I859'), ('severe_liver_disease', 10, 'I864'), ('severe_liver_disease', 10, 'I982'), ('severe_liver_disease', 10, 'K704'), ('severe_liver_disease', 10, 'K711'), ('severe_liver_disease', 10, 'K721'), ('severe_liver_disease', 10, 'K729'),
    ('severe_liver_disease', 10, 'K765'), ('severe_liver_disease', 10, 'K766'), ('severe_liver_disease', 10, 'K767'),
    -- ICD-10: metastatic_solid_tumor
    ('metastatic_solid_tumor', 10, 'C77'), ('metastatic_solid_tumor', 10, 'C78'), ('metastatic_solid_tumor', 10, 'C79'), ('metastatic_solid_tumor', 10, 'C80'),
    -- ICD-10: aids
    ('aids', 10, 'B20'), ('aids', 10, 'B21'), ('aids', 10, 'B22'), ('aids', 10, 'B24')),
-- Each diagnosis as its 3-, 4- and 5-character prefixes, matched by equality.
diagnosis_prefixes AS (
    SELECT dx.hadm_id, dx.icd_version, left(dx.icd_code, n.len) AS prefix
    FROM mimiciv_hosp.diagnoses_icd AS dx
    CROSS JOIN (VALUES (3), (4), (5)) AS n(len)
    WHERE length(dx.icd_code) >= n.len
),
found AS (
    SELECT DISTINCT dp.hadm_id, codes.category
    FROM diagnosis_prefixes AS dp
    JOIN codes ON codes.icd_version = dp.icd_version AND codes.prefix = dp.prefix
),
flags AS (
    SELECT
        adm.subject_id,
        adm.hadm_id,
        coalesce(max(CASE WHEN found.category = 'myocardial_infarct' THEN 1 END), 0) AS myocardial_infarct,
        coalesce(max(CASE WHEN found.category = 'congestive_heart_failure' THEN 1 END), 0) AS congestive_heart_failure,
        coalesce(max(CASE WHEN found.category = 'peripheral_vascular_disease' THEN 1 END), 0) AS peripheral_vascular_disease,
        coalesce(max(CASE WHEN found.category = 'cerebrovascular_disease' THEN 1 END), 0) AS cerebrovascular_disease,
        coalesce(max(CASE WHEN found.category = 'dementia' THEN 1 END), 0) AS dementia,
        coalesce(max(CASE WHEN found.category = 'chronic_pulmonary_disease' THEN 1 END), 0) AS chronic_pulmonary_disease,
        coalesce(max(CASE WHEN found.category = 'rheumatic_disease' THEN 1 END), 0) AS rheumatic_disease,
        coalesce(max(CASE WHEN found.category = 'peptic_ulcer_disease' THEN 1 END), 0) AS peptic_ulcer_disease,
        coalesce(max(CASE WHEN found.category = 'mild_liver_disease' THEN 1 END), 0) AS mild_liver_disease,
        coalesce(max(CASE WHEN found.category = 'diabetes_without_cc' THEN 1 END), 0) AS diabetes_without_cc,
        coalesce(max(CASE WHEN found.category = 'diabetes_with_cc' THEN 1 END), 0) AS diabetes_with_cc,
        coalesce(max(CASE WHEN found.category = 'paraplegia' THEN 1 END), 0) AS paraplegia,
        coalesce(max(CASE WHEN found.category = 'renal_disease' THEN 1 END), 0) AS renal_disease,
        coalesce(max(CASE WHEN found.category = 'malignant_cancer' THEN 1 END), 0) AS malignant_cancer,
        coalesce(max(CASE WHEN found.category = 'severe_liver_disease' THEN 1 END), 0) AS severe_liver_disease,
        coalesce(max(CASE WHEN found.category = 'metastatic_solid_tumor' THEN 1 END), 0) AS metastatic_solid_tumor,
        coalesce(max(CASE WHEN found.category = 'aids' THEN 1 END), 0) AS aids
    FROM mimiciv_hosp.admissions AS adm
    LEFT JOIN found ON found.hadm_id = adm.hadm_id
    GROUP BY adm.subject_id, adm.hadm_id
)
SELECT
    flags.subject_id,
    flags.hadm_id,
    CASE
        WHEN age.age < 50 THEN 0
        WHEN age.age < 60 THEN 1
        WHEN age.age < 70 THEN 2
        WHEN age.age < 80 THEN 3
        WHEN age.age >= 80 THEN 4
    END AS age_score,
    myocardial_infarct,
    congestive_heart_failure,
    peripheral_vascular_disease,
    cerebrovascular_disease,
    dementia,
    chronic_pulmonary_disease,
    rheumatic_disease,
    peptic_ulcer_disease,
    mild_liver_disease,
    diabetes_without_cc,
    diabetes_with_cc,
    paraplegia,
    renal_disease,
    malignant_cancer,
    severe_liver_disease,
    metastatic_solid_tumor,
    aids,
    age_score
        + myocardial_infarct + congestive_heart_failure + peripheral_vascular_disease
        + cerebrovascular_disease + dementia + chronic_pulmonary_disease
        + rheumatic_disease + peptic_ulcer_disease
        + greatest(mild_liver_disease, 3 * severe_liver_disease)
        + greatest(diabetes_without_cc, 2 * diabetes_with_cc)
        + greatest(2 * malignant_cancer, 6 * metastatic_solid_tumor)
        + 2 * paraplegia + 2 * renal_disease + 6 * aids
        AS charlson_comorbidity_index
FROM flags
LEFT JOIN mimiciv_derived.age AS age ON age.hadm_id = flags.hadm_id
