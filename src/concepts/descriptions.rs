//! Descriptions of the raw MIMIC-IV tables and columns, in m4's own words, stored in
//! the database with `COMMENT ON` so that the catalog tools can show them.
//!
//! The text lives in `descriptions/hosp.md` and `descriptions/icu.md`: a `## table`
//! heading, a paragraph describing a row, then one `- column: description` line per
//! column. The derived tables' descriptions come from their SQL headers instead.

use duckdb::Connection;

use super::{ConceptError, db_error, quote_literal};

const HOSP: &str = include_str!("descriptions/hosp.md");
const ICU: &str = include_str!("descriptions/icu.md");

/// One described table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDescription {
    /// `mimiciv_hosp.admissions`.
    pub table: String,
    pub description: String,
    /// `(column, description)` in the file's order.
    pub columns: Vec<(String, String)>,
}

/// Every raw table's description, parsed from the bundled files.
pub fn raw_tables() -> Vec<TableDescription> {
    let mut out = parse("mimiciv_hosp", HOSP);
    out.extend(parse("mimiciv_icu", ICU));
    out
}

fn parse(schema: &str, text: &str) -> Vec<TableDescription> {
    let mut out: Vec<TableDescription> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix("## ") {
            out.push(TableDescription {
                table: format!("{schema}.{}", name.trim()),
                description: String::new(),
                columns: Vec::new(),
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        if let Some(item) = line.strip_prefix("- ") {
            if let Some((column, text)) = item.split_once(':') {
                current.columns.push((
                    column.trim().trim_matches('`').to_string(),
                    text.trim().to_string(),
                ));
            }
        } else if !line.trim().is_empty() && current.columns.is_empty() {
            if !current.description.is_empty() {
                current.description.push(' ');
            }
            current.description.push_str(line.trim());
        }
    }
    out
}

/// `COMMENT ON` each present raw table and its columns.
pub fn describe_sources(conn: &Connection, present: &[String]) -> Result<(), ConceptError> {
    let mut sql = String::new();
    for table in raw_tables() {
        if !present.contains(&table.table) {
            continue;
        }
        sql.push_str(&format!(
            "COMMENT ON TABLE {} IS {};\n",
            table.table,
            quote_literal(&table.description)
        ));
        for (column, text) in &table.columns {
            sql.push_str(&format!(
                "COMMENT ON COLUMN {}.\"{column}\" IS {};\n",
                table.table,
                quote_literal(text)
            ));
        }
    }
    conn.execute_batch(&sql)
        .map_err(db_error("store the tables' descriptions"))
}
