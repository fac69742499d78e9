//! `search_items` on BigQuery: the five MIMIC-IV dictionaries searched in one
//! GoogleSQL query, with the same terms (`concepts::expand_query`: the query and
//! its spelled-out abbreviations) and the same ranking as on DuckDB: exact labels,
//! then labels starting with the phrase, containing it at a word start, then
//! containing its words in any order. The terms are one bound parameter.
//!
//! Unlike DuckDB, no usage counts: they would mean scanning the event tables
//! (`chartevents` alone is billed by the gigabyte) on every search, so rows are
//! unknown and ties are broken by label.

use crate::engine::{ItemMatch, Param};

/// The search, in canonical names (rewritten by the engine); `@p1` is the terms,
/// each as `position:term`, joined by `|` (terms hold only `a-z`, `0-9` and
/// spaces), `@p2` the limit. (Positions travel in the text because the emulator
/// the tests use mistranslates `WITH OFFSET` inside a CTE.)
pub(super) const SEARCH_SQL: &str = "\
WITH items AS (
    SELECT SPLIT(item, ':') AS parts FROM UNNEST(SPLIT(@p1, '|')) AS item WHERE item <> ''
),
terms AS (
    SELECT CAST(parts[OFFSET(0)] AS INT64) AS pos, parts[OFFSET(1)] AS term FROM items
),
dictionary AS (
    SELECT 'mimiciv_icu.d_items' AS dictionary, CAST(itemid AS STRING) AS id,
           CAST(NULL AS INT64) AS icd_version, label, category, unitname AS unit,
           CONCAT('mimiciv_icu.', linksto) AS recorded_in
    FROM mimiciv_icu.d_items
    UNION ALL
    SELECT 'mimiciv_hosp.d_labitems', CAST(itemid AS STRING), CAST(NULL AS INT64), label,
           ARRAY_TO_STRING([fluid, category], ' / '), CAST(NULL AS STRING), 'mimiciv_hosp.labevents'
    FROM mimiciv_hosp.d_labitems
    UNION ALL
    SELECT 'mimiciv_hosp.d_icd_diagnoses', icd_code, CAST(icd_version AS INT64), long_title,
           CONCAT('ICD-', CAST(icd_version AS STRING), ' diagnosis'), CAST(NULL AS STRING), 'mimiciv_hosp.diagnoses_icd'
    FROM mimiciv_hosp.d_icd_diagnoses
    UNION ALL
    SELECT 'mimiciv_hosp.d_icd_procedures', icd_code, CAST(icd_version AS INT64), long_title,
           CONCAT('ICD-', CAST(icd_version AS STRING), ' procedure'), CAST(NULL AS STRING), 'mimiciv_hosp.procedures_icd'
    FROM mimiciv_hosp.d_icd_procedures
    UNION ALL
    SELECT 'mimiciv_hosp.d_hcpcs', code, CAST(NULL AS INT64), COALESCE(long_description, short_description),
           'HCPCS/CPT', CAST(NULL AS STRING), 'mimiciv_hosp.hcpcsevents'
    FROM mimiciv_hosp.d_hcpcs
),
normalised AS (
    SELECT *, CONCAT(' ', TRIM(REGEXP_REPLACE(LOWER(label), r'[^a-z0-9]+', ' ')), ' ') AS words
    FROM dictionary
    WHERE label IS NOT NULL
),
word_hits AS (
    SELECT n.dictionary, n.id, n.icd_version, t.term, t.pos,
           LOGICAL_AND(STRPOS(n.words, CONCAT(' ', w)) > 0) AS all_words
    FROM normalised AS n
    CROSS JOIN terms AS t
    CROSS JOIN UNNEST(SPLIT(t.term, ' ')) AS w
    WHERE w <> ''
    GROUP BY n.dictionary, n.id, n.icd_version, t.term, t.pos
),
matched AS (
    SELECT n.dictionary, n.id, n.icd_version, n.label, n.category, n.unit, n.recorded_in, h.term, h.pos,
           CASE
               WHEN n.words = CONCAT(' ', h.term, ' ') THEN 0
               WHEN STARTS_WITH(n.words, CONCAT(' ', h.term)) THEN 1
               WHEN STRPOS(n.words, CONCAT(' ', h.term)) > 0 THEN 2
               ELSE 3
           END AS rank
    FROM normalised AS n
    JOIN word_hits AS h
      ON h.dictionary = n.dictionary AND h.id = n.id
     AND COALESCE(h.icd_version, -1) = COALESCE(n.icd_version, -1)
    WHERE h.all_words
),
best AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY dictionary, id, COALESCE(icd_version, -1) ORDER BY rank, pos) AS nth
    FROM matched
)
SELECT dictionary, id, icd_version, label, category, unit, recorded_in, term, rank
FROM best
WHERE nth = 1
ORDER BY rank, pos, label, dictionary, id
LIMIT @p2";

/// The bound values for a search of `query` (no terms: `None`).
pub(super) fn params(query: &str, limit: usize) -> Option<Vec<Param>> {
    let terms = crate::concepts::expand_query(query);
    if terms.is_empty() {
        return None;
    }
    Some(vec![
        Param::Text(Some(
            terms
                .iter()
                .enumerate()
                .map(|(k, term)| format!("{k}:{term}"))
                .collect::<Vec<_>>()
                .join("|"),
        )),
        Param::Int(Some(limit.clamp(1, 500) as i64)),
    ])
}

/// The matches from the search's result rows (JSON cells in the SELECT's order).
pub(super) fn matches(rows: Vec<Vec<serde_json::Value>>) -> Vec<ItemMatch> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    rows.into_iter()
        .filter_map(|row| {
            Some(ItemMatch {
                dictionary: text(row.first()?)?,
                id: text(row.get(1)?)?,
                icd_version: row.get(2)?.as_i64().and_then(|v| i16::try_from(v).ok()),
                label: text(row.get(3)?)?,
                category: row.get(4).and_then(text).filter(|c| !c.is_empty()),
                unit: row.get(5).and_then(text),
                recorded_in: text(row.get(6)?)?,
                rows: None,
                term: text(row.get(7)?).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_travel_as_one_bound_parameter() {
        let bound = params("HR", 20).unwrap();
        assert_eq!(bound[0], Param::Text(Some("0:hr|1:heart rate".into())));
        assert_eq!(bound[1], Param::Int(Some(20)));
        assert!(params("  ,, ", 5).is_none());
        // Whatever is typed, only letters, digits, spaces and the separator reach SQL.
        let Param::Text(Some(terms)) = &params("x'); DROP TABLE y; --", 5).unwrap()[0] else {
            panic!("text")
        };
        assert!(
            terms
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " |:".contains(c)),
            "{terms}"
        );
    }
}
