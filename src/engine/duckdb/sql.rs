//! The convenience tools' SQL in DuckDB's dialect. Values are bound parameters
//! (`$1`), typed so that an absent filter is a typed NULL; table names come from
//! the catalog and are quoted, never typed text.

use crate::engine::{Param, ToolQuery};

const ICU_STAYS: &str = "\
SELECT subject_id, hadm_id, stay_id, first_careunit, last_careunit, intime, outtime, los
FROM mimiciv_icu.icustays
WHERE $1::BIGINT IS NULL OR subject_id = $1::BIGINT
ORDER BY subject_id, intime
LIMIT $2";

const LAB_RESULTS: &str = "\
SELECT l.subject_id, l.hadm_id, l.charttime, l.itemid, d.label, d.fluid, l.value, l.valuenum,
       l.valueuom, l.ref_range_lower, l.ref_range_upper, l.flag
FROM mimiciv_hosp.labevents AS l
JOIN mimiciv_hosp.d_labitems AS d ON d.itemid = l.itemid
WHERE ($1::BIGINT IS NULL OR l.subject_id = $1::BIGINT)
  AND ($2::BIGINT IS NULL OR l.itemid = $2::BIGINT)
  AND ($3::VARCHAR IS NULL OR d.label ILIKE '%' || $3::VARCHAR || '%')
ORDER BY l.subject_id, l.charttime, l.itemid
LIMIT $4";

const RACE_DISTRIBUTION: &str = "\
SELECT race, count(*) AS admissions, count(DISTINCT subject_id) AS patients
FROM mimiciv_hosp.admissions
GROUP BY race
ORDER BY admissions DESC, race
LIMIT $1";

/// The SQL and bound values for `query`.
pub(super) fn tool_query(query: ToolQuery<'_>) -> (String, Vec<Param>) {
    let sql = match query {
        ToolQuery::IcuStays { .. } => ICU_STAYS.to_string(),
        ToolQuery::LabResults { .. } => LAB_RESULTS.to_string(),
        ToolQuery::RaceDistribution { .. } => RACE_DISTRIBUTION.to_string(),
        ToolQuery::SampleRows { table, .. } => format!(
            "SELECT * FROM {}.{} LIMIT $1",
            quote_identifier(&table.schema),
            quote_identifier(&table.table)
        ),
    };
    (sql, query.params())
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TableSummary;

    #[test]
    fn a_catalog_name_is_quoted_not_pasted() {
        let table = TableSummary {
            schema: "s".into(),
            table: "t\"; DROP TABLE x; --".into(),
            rows: 0,
            description: None,
        };
        let (sql, _) = tool_query(ToolQuery::SampleRows {
            table: &table,
            limit: 3,
        });
        assert_eq!(
            sql,
            "SELECT * FROM \"s\".\"t\"\"; DROP TABLE x; --\" LIMIT $1"
        );
    }
}
