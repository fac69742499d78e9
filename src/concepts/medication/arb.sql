-- @table One row per prescription (mimiciv_hosp.prescriptions) of an angiotensin II receptor blocker.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column arb: The drug as prescribed (prescriptions.drug).
-- @column starttime: Prescription start (shifted).
-- @column stoptime: Prescription stop (shifted).
--
-- Definition: the angiotensin II receptor blockers of WHO ATC group C09C/C09D, matched case-insensitively as
-- generic names in prescriptions.drug: azilsartan, candesartan, eprosartan, irbesartan, losartan, olmesartan, telmisartan, valsartan.
WITH names(stem) AS (
    VALUES ('azilsartan'), ('candesartan'), ('eprosartan'), ('irbesartan'), ('losartan'), ('olmesartan'), ('telmisartan'), ('valsartan')
)
SELECT
    rx.subject_id,
    rx.hadm_id,
    rx.drug AS arb,
    rx.starttime,
    rx.stoptime
FROM mimiciv_hosp.prescriptions AS rx
WHERE EXISTS (SELECT 1 FROM names WHERE contains(lower(rx.drug), names.stem))
