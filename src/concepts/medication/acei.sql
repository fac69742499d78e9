-- @table One row per prescription (mimiciv_hosp.prescriptions) of an angiotensin-converting-enzyme inhibitor.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column acei: The drug as prescribed (prescriptions.drug).
-- @column starttime: Prescription start (shifted).
-- @column stoptime: Prescription stop (shifted).
--
-- Definition: the ACE inhibitors of WHO ATC group C09A/C09B, matched case-insensitively as
-- generic names in prescriptions.drug: benazepril, captopril, enalapril, fosinopril, lisinopril, moexipril, perindopril, quinapril, ramipril, trandolapril.
WITH names(stem) AS (
    VALUES ('benazepril'), ('captopril'), ('enalapril'), ('fosinopril'), ('lisinopril'), ('moexipril'), ('perindopril'), ('quinapril'), ('ramipril'), ('trandolapril')
)
SELECT
    rx.subject_id,
    rx.hadm_id,
    rx.drug AS acei,
    rx.starttime,
    rx.stoptime
FROM mimiciv_hosp.prescriptions AS rx
WHERE EXISTS (SELECT 1 FROM names WHERE contains(lower(rx.drug), names.stem))
