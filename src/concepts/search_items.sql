-- search_items: dictionary entries whose label matches one search term.
-- Parameters (bound, never spliced): $1 the term, normalised by search.rs (lower case,
-- every run of characters other than letters and digits replaced by one space, trimmed).
-- A label matches when every word of the term begins a word of the label; the rank
-- orders exact labels (0), labels starting with the phrase (1), labels containing the
-- phrase at a word start (2), and labels containing the words in any order (3).
-- Usage counts come from m4_meta.item_usage, computed when the database was built.
WITH dictionary AS (
    SELECT 'mimiciv_icu.d_items' AS dictionary, CAST(itemid AS VARCHAR) AS id,
           CAST(NULL AS SMALLINT) AS icd_version, label, category, unitname AS unit,
           'mimiciv_icu.' || linksto AS recorded_in
    FROM mimiciv_icu.d_items
    UNION ALL
    SELECT 'mimiciv_hosp.d_labitems', CAST(itemid AS VARCHAR), NULL, label,
           concat_ws(' / ', fluid, category), NULL, 'mimiciv_hosp.labevents'
    FROM mimiciv_hosp.d_labitems
    UNION ALL
    SELECT 'mimiciv_hosp.d_icd_diagnoses', icd_code, icd_version, long_title,
           'ICD-' || icd_version || ' diagnosis', NULL, 'mimiciv_hosp.diagnoses_icd'
    FROM mimiciv_hosp.d_icd_diagnoses
    UNION ALL
    SELECT 'mimiciv_hosp.d_icd_procedures', icd_code, icd_version, long_title,
           'ICD-' || icd_version || ' procedure', NULL, 'mimiciv_hosp.procedures_icd'
    FROM mimiciv_hosp.d_icd_procedures
    UNION ALL
    SELECT 'mimiciv_hosp.d_hcpcs', code, NULL, coalesce(long_description, short_description),
           'HCPCS/CPT', NULL, 'mimiciv_hosp.hcpcsevents'
    FROM mimiciv_hosp.d_hcpcs
),
normalised AS (
    SELECT *, ' ' || trim(regexp_replace(lower(label), '[^a-z0-9]+', ' ', 'g')) || ' ' AS words
    FROM dictionary
    WHERE label IS NOT NULL
      -- A cheap necessary condition before the regular expression, which costs most
      -- of the search on the ICD dictionaries: every word of the term occurs in the
      -- lower-cased label as it is (normalising keeps letters and digits in place).
      AND list_bool_and(list_transform(
          list_filter(string_split($1, ' '), lambda w: w <> ''),
          lambda w: contains(lower(label), w)))
),
matched AS (
    SELECT
        n.*,
        CASE
            WHEN n.words = ' ' || $1 || ' ' THEN 0
            WHEN starts_with(n.words, ' ' || $1 || ' ') OR starts_with(n.words, ' ' || $1) THEN 1
            WHEN contains(n.words, ' ' || $1) THEN 2
            ELSE 3
        END AS rank
    FROM normalised AS n
    WHERE list_bool_and(list_transform(
        list_filter(string_split($1, ' '), lambda w: w <> ''),
        lambda w: contains(n.words, ' ' || w)))
)
SELECT
    m.dictionary,
    m.id,
    m.icd_version,
    m.label,
    m.category,
    coalesce(m.unit, u.unit) AS unit,
    m.recorded_in,
    u.row_count,
    m.rank
FROM matched AS m
LEFT JOIN m4_meta.item_usage AS u
  ON u.recorded_in = m.recorded_in AND u.id = m.id
 AND u.icd_version IS NOT DISTINCT FROM m.icd_version
ORDER BY m.rank, coalesce(u.row_count, 0) DESC, m.label
LIMIT $2
