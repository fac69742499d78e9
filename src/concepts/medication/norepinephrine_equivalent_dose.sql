-- @table One row per vasoactive interval (mimiciv_derived.vasoactive_agent) with a vasopressor running: the total vasopressor dose as a norepinephrine-equivalent dose.
-- @column stay_id: ICU stay (links to mimiciv_icu.icustays).
-- @column starttime: Start of the interval.
-- @column endtime: End of the interval.
-- @column norepinephrine_equivalent_dose: Norepinephrine-equivalent dose, mcg/kg/min, rounded to 4 decimals.
--
-- Definition: Goradia S, et al. Vasopressor dose equivalence: a scoping review and
-- suggested formula. J Crit Care 2021;61:233-40. NEE = norepinephrine + epinephrine
-- + phenylephrine / 10 + dopamine / 100 + vasopressin (units/min) x 2.5, all in mcg/kg/min;
-- vasopressin is stored in units/hour, hence x 2.5 / 60. Angiotensin II and metaraminol
-- (also in Goradia's formula) are not included, as in mimic-code. Inotropes without a
-- vasopressor effect in the formula (dobutamine, milrinone) do not count.
SELECT
    stay_id,
    starttime,
    endtime,
    round(
        coalesce(norepinephrine, 0)
        + coalesce(epinephrine, 0)
        + coalesce(phenylephrine / 10, 0)
        + coalesce(dopamine / 100, 0)
        + coalesce(vasopressin * 2.5 / 60, 0),
        4
    ) AS norepinephrine_equivalent_dose
FROM mimiciv_derived.vasoactive_agent
WHERE coalesce(norepinephrine, epinephrine, phenylephrine, dopamine, vasopressin) IS NOT NULL
