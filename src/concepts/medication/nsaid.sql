-- @table One row per prescription (mimiciv_hosp.prescriptions) of a non-steroidal anti-inflammatory drug.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column hadm_id: Hospital admission (links to mimiciv_hosp.admissions).
-- @column nsaid: The drug as prescribed (prescriptions.drug).
-- @column starttime: Prescription start (shifted).
-- @column stoptime: Prescription stop (shifted).
--
-- Definition: the NSAIDs of WHO ATC group M01A, with aspirin (B01AC06/N02BA01) and ophthalmic NSAIDs, as mimic-code's table; ketorolac is an addition of m4's, matched case-insensitively as
-- generic names in prescriptions.drug: aspirin, bromfenac, celecoxib, diclofenac, diflunisal, etodolac, fenoprofen, flurbiprofen, ibuprofen, indomethacin, ketoprofen, ketorolac, mefenamic acid, meloxicam, nabumetone, naproxen, nepafenac, oxaprozin, piroxicam, sulindac, tolmetin.
WITH names(stem) AS (
    VALUES ('aspirin'), ('bromfenac'), ('celecoxib'), ('diclofenac'), ('diflunisal'), ('etodolac'), ('fenoprofen'), ('flurbiprofen'), ('ibuprofen'), ('indomethacin'), ('ketoprofen'), ('ketorolac'), ('mefenamic acid'), ('meloxicam'), ('nabumetone'), ('naproxen'), ('nepafenac'), ('oxaprozin'), ('piroxicam'), ('sulindac'), ('tolmetin')
)
SELECT
    rx.subject_id,
    rx.hadm_id,
    rx.drug AS nsaid,
    rx.starttime,
    rx.stoptime
FROM mimiciv_hosp.prescriptions AS rx
WHERE EXISTS (SELECT 1 FROM names WHERE contains(lower(rx.drug), names.stem))
