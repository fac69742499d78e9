-- @table One row per systemic antibacterial prescription (mimiciv_hosp.prescriptions), with the ICU stay it started in, if any.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column stay_id: ICU stay during which the prescription started; NULL outside the ICU.
-- @column antibiotic: The drug as prescribed (prescriptions.drug).
-- @column route: Route of administration (prescriptions.route).
-- @column starttime: Prescription start (shifted).
-- @column stoptime: Prescription stop (shifted).
--
-- Definition: antibacterials for systemic use (WHO ATC group J01, with oral vancomycin
-- and metronidazole, A07AA/P01AB), matched case-insensitively in prescriptions.drug by
-- generic name stem, the class lists below. Topical, ophthalmic and otic preparations are
-- left out (routes OU, OS, OD, AU, AS, AD, TP or naming eye/ear; drugs naming cream, gel,
-- ointment for the eye, or a desensitisation protocol), as are base solutions
-- (drug_type BASE). This is the antibiotic exposure used by Seymour CW, et al., JAMA
-- 2016;315:762-74 to define suspicion of infection.
-- Differences from mimic-code's table: m4 lists antibacterials only (mimic-code also
-- counts some antifungals, e.g. amphotericin and anidulafungin, and topical mupirocin),
-- and matches by generic stem rather than a brand-name list.
WITH stems(stem) AS (
    VALUES
    -- aminoglycosides
    ('amikacin'), ('gentamicin'), ('tobramycin'), ('streptomycin'), ('neomycin'), ('kanamycin'),
    -- penicillins and beta-lactamase inhibitor combinations
    ('penicillin'), ('amoxicillin'), ('ampicillin'), ('nafcillin'), ('oxacillin'), ('dicloxacillin'),
    ('piperacillin'), ('ticarcillin'), ('methicillin'), ('unasyn'), ('zosyn'), ('augmentin'),
    -- cephalosporins
    ('cefazolin'), ('cephalexin'), ('keflex'), ('cefadroxil'), ('cefuroxime'), ('cefoxitin'), ('cefotetan'),
    ('cefaclor'), ('cefprozil'), ('ceftriaxone'), ('cefotaxime'), ('ceftazidime'), ('cefepime'),
    ('cefpodoxime'), ('cefdinir'), ('cefixime'), ('ceftaroline'), ('ceftolozane'), ('cefiderocol'),
    ('ceftibuten'), ('cefditoren'),
    -- carbapenems and monobactams
    ('meropenem'), ('imipenem'), ('ertapenem'), ('doripenem'), ('aztreonam'),
    -- glycopeptides, lipopeptides, oxazolidinones
    ('vancomycin'), ('telavancin'), ('dalbavancin'), ('oritavancin'), ('daptomycin'), ('linezolid'), ('tedizolid'),
    -- macrolides and lincosamides
    ('azithromycin'), ('clarithromycin'), ('erythromycin'), ('clindamycin'),
    -- tetracyclines
    ('doxycycline'), ('minocycline'), ('tetracycline'), ('tigecycline'),
    -- quinolones
    ('cipro'), ('levofloxacin'), ('moxifloxacin'), ('ofloxacin'), ('norfloxacin'), ('gemifloxacin'),
    -- sulfonamides and trimethoprim
    ('sulfamethoxazole'), ('trimethoprim'), ('bactrim'), ('sulfadiazine'),
    -- others
    ('metronidazole'), ('nitrofurantoin'), ('fosfomycin'), ('rifampin'), ('colistin'), ('polymyxin b'),
    ('chloramphenicol'), ('quinupristin')
),
candidates AS (
    SELECT rx.*
    FROM mimiciv_hosp.prescriptions AS rx
    WHERE coalesce(rx.drug_type, '') <> 'BASE'
      AND coalesce(rx.route, '') NOT IN ('OU', 'OS', 'OD', 'AU', 'AS', 'AD', 'TP')
      AND NOT contains(lower(coalesce(rx.route, '')), 'ear')
      AND NOT contains(lower(coalesce(rx.route, '')), 'eye')
      AND NOT regexp_matches(lower(rx.drug), 'cream|gel|ophth oint|desensitization')
      AND EXISTS (SELECT 1 FROM stems WHERE contains(lower(rx.drug), stems.stem))
)
SELECT
    c.subject_id,
    c.hadm_id,
    icu.stay_id,
    c.drug AS antibiotic,
    c.route,
    c.starttime,
    c.stoptime
FROM candidates AS c
LEFT JOIN mimiciv_icu.icustays AS icu
  ON icu.hadm_id = c.hadm_id AND c.starttime >= icu.intime AND c.starttime < icu.outtime
