//! The convenience tools' SQL in GoogleSQL, with named parameters (`@p1`, …, in
//! the order of [`Param`]s) and m4's canonical table names, which the engine
//! rewrites like any query. Table previews are not SQL at all: they are read with
//! the free `tabledata.list` call, marked here so that only m4's own queries
//! (which carry parameters; checked request text never does) can ask for one.

use crate::engine::{Param, ToolQuery};

const ICU_STAYS: &str = "\
SELECT subject_id, hadm_id, stay_id, first_careunit, last_careunit, intime, outtime, los
FROM mimiciv_icu.icustays
WHERE @p1 IS NULL OR subject_id = @p1
ORDER BY subject_id, intime
LIMIT @p2";

const LAB_RESULTS: &str = "\
SELECT l.subject_id, l.hadm_id, l.charttime, l.itemid, d.label, d.fluid, l.value, l.valuenum,
       l.valueuom, l.ref_range_lower, l.ref_range_upper, l.flag
FROM mimiciv_hosp.labevents AS l
JOIN mimiciv_hosp.d_labitems AS d ON d.itemid = l.itemid
WHERE (@p1 IS NULL OR l.subject_id = @p1)
  AND (@p2 IS NULL OR l.itemid = @p2)
  AND (@p3 IS NULL OR LOWER(d.label) LIKE CONCAT('%', LOWER(@p3), '%'))
ORDER BY l.subject_id, l.charttime, l.itemid
LIMIT @p4";

const RACE_DISTRIBUTION: &str = "\
SELECT race, COUNT(*) AS admissions, COUNT(DISTINCT subject_id) AS patients
FROM mimiciv_hosp.admissions
GROUP BY race
ORDER BY admissions DESC, race
LIMIT @p1";

/// First line of a table preview's text (never run as SQL).
pub(super) const PREVIEW_MARK: &str = "-- m4 table preview (tabledata.list)\n";

/// The canonical-name SQL and bound values for `query` (a table preview's text
/// starts with [`PREVIEW_MARK`]).
pub(super) fn tool_query(query: ToolQuery<'_>) -> (String, Vec<Param>) {
    let sql = match query {
        ToolQuery::IcuStays { .. } => ICU_STAYS.to_string(),
        ToolQuery::LabResults { .. } => LAB_RESULTS.to_string(),
        ToolQuery::RaceDistribution { .. } => RACE_DISTRIBUTION.to_string(),
        ToolQuery::SampleRows { table, .. } => format!(
            "{PREVIEW_MARK}SELECT * FROM `{}.{}` LIMIT @p1",
            table.schema.replace('`', ""),
            table.table.replace('`', "")
        ),
    };
    (sql, query.params())
}

/// For m4's own preview text: the `(schema, table)` it names.
pub(super) fn preview_target(sql: &str) -> Option<(&str, &str)> {
    let rest = sql
        .strip_prefix(PREVIEW_MARK)?
        .strip_prefix("SELECT * FROM `")?;
    let (name, _) = rest.split_once('`')?;
    name.split_once('.')
}

/// BigQuery's `queryParameters` for positional [`Param`]s named `p1`, `p2`, ….
pub(super) fn parameters(params: &[Param]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = params
        .iter()
        .enumerate()
        .map(|(k, param)| {
            let (kind, value) = match param {
                Param::Int(v) => ("INT64", v.map(|n| serde_json::Value::String(n.to_string()))),
                Param::Text(v) => ("STRING", v.clone().map(serde_json::Value::String)),
            };
            serde_json::json!({
                "name": format!("p{}", k + 1),
                "parameterType": {"type": kind},
                "parameterValue": {"value": value},
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TableSummary;
    use serde_json::json;

    #[test]
    fn parameters_are_named_typed_and_nulls_stay_typed() {
        let p = parameters(&[Param::Int(None), Param::Text(Some("cr".into()))]);
        assert_eq!(
            p,
            json!([
                {"name": "p1", "parameterType": {"type": "INT64"}, "parameterValue": {"value": null}},
                {"name": "p2", "parameterType": {"type": "STRING"}, "parameterValue": {"value": "cr"}},
            ])
        );
    }

    #[test]
    fn a_preview_names_its_table_and_nothing_else_parses_as_one() {
        let table = TableSummary {
            schema: "mimiciv_hosp".into(),
            table: "patients".into(),
            rows: 0,
            description: None,
        };
        let (sql, params) = tool_query(ToolQuery::SampleRows {
            table: &table,
            limit: 3,
        });
        assert_eq!(params.len(), 1);
        assert_eq!(preview_target(&sql), Some(("mimiciv_hosp", "patients")));
        assert_eq!(
            preview_target("SELECT * FROM `mimiciv_hosp.patients`"),
            None
        );
    }
}
