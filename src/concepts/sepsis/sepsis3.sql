-- @table One row per ICU stay with a suspected infection during the stay: whether it met Sepsis-3 (SOFA of 2 or more around the suspicion), with the suspicion's and the SOFA's times and scores.
-- @column subject_id: Patient (links to mimiciv_hosp.patients).
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column antibiotic_time: Start of the antibiotic of the first suspected infection of the stay.
-- @column culture_time: Time of its culture.
-- @column suspected_infection_time: Onset of the suspected infection (mimiciv_derived.suspicion_of_infection).
-- @column sofa_time: End of the first hour in [suspicion - 48 h, suspicion + 24 h] with a 24-hour SOFA of 2 or more; if none, of the hour with the highest SOFA in that window.
-- @column sofa_score: The 24-hour SOFA at sofa_time.
-- @column respiration: Respiratory score at sofa_time.
-- @column coagulation: Coagulation score at sofa_time.
-- @column liver: Liver score at sofa_time.
-- @column cardiovascular: Cardiovascular score at sofa_time.
-- @column cns: CNS score at sofa_time.
-- @column renal: Renal score at sofa_time.
-- @column sepsis3: True if sofa_score >= 2, i.e. the stay met the Sepsis-3 definition.
--
-- Definition: Singer M, et al. The Third International Consensus Definitions for Sepsis
-- and Septic Shock (Sepsis-3). JAMA 2016;315:801-10: sepsis is suspected infection with
-- an acute rise in SOFA of 2 points or more, the baseline assumed 0 when not known; and
-- Seymour CW, et al. JAMA 2016;315:762-74 for the window: SOFA from 48 hours before to
-- 24 hours after the onset of suspected infection. The first suspected infection whose
-- antibiotic started during the ICU stay is used.
-- Differences from mimic-code's table: a stay whose suspicion window has no SOFA >= 2
-- reports its highest SOFA in the window (mimic-code reports the first hour).
WITH suspicion AS (
    SELECT *
    FROM mimiciv_derived.suspicion_of_infection
    WHERE suspected_infection = 1 AND stay_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY stay_id ORDER BY suspected_infection_time, antibiotic_time) = 1
),
candidates AS (
    SELECT
        s.subject_id, s.stay_id, s.antibiotic_time, s.culture_time, s.suspected_infection_time,
        so.endtime AS sofa_time, so.sofa_24hours AS sofa_score,
        so.respiration_24hours AS respiration, so.coagulation_24hours AS coagulation,
        so.liver_24hours AS liver, so.cardiovascular_24hours AS cardiovascular,
        so.cns_24hours AS cns, so.renal_24hours AS renal
    FROM suspicion AS s
    LEFT JOIN mimiciv_derived.sofa AS so
      ON so.stay_id = s.stay_id
     AND so.endtime >= s.suspected_infection_time - INTERVAL 48 HOUR
     AND so.endtime <= s.suspected_infection_time + INTERVAL 24 HOUR
)
SELECT *, coalesce(sofa_score >= 2, false) AS sepsis3
FROM candidates
QUALIFY row_number() OVER (
    PARTITION BY stay_id
    ORDER BY coalesce(sofa_score >= 2, false) DESC,
             CASE WHEN sofa_score >= 2 THEN epoch(sofa_time) ELSE -coalesce(sofa_score, 0) END,
             sofa_time
) = 1
