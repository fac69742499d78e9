//! The catalog: which tables a data set has, their columns, and resolving a
//! table name someone typed to a real table — never by pasting it into SQL.

use std::fmt;

use super::{CheckedQuery, Database, QueryError};

/// Schemas that hold m4's own bookkeeping, not MIMIC data.
const HIDDEN_SCHEMAS: &[&str] = &["m4_meta"];

/// A table and its size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSummary {
    pub schema: String,
    pub table: String,
    /// Rows as DuckDB's storage reports them (exact for tables m4 loaded).
    pub rows: i64,
}

impl TableSummary {
    /// `schema.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// One column of a table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub nullable: bool,
}

/// A table's columns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableInfo {
    #[serde(flatten)]
    pub summary: TableSummary,
    pub columns: Vec<ColumnInfo>,
}

impl fmt::Display for TableSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

impl Database {
    /// Every data table, schema-qualified, in name order.
    pub fn tables(&self) -> Result<Vec<TableSummary>, QueryError> {
        let connection = self.connect()?;
        let mut statement = connection
            .prepare(
                "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() \
                 WHERE NOT internal AND database_name = current_database() \
                 ORDER BY schema_name, table_name",
            )
            .map_err(internal)?;
        let rows = statement
            .query_map([], |row| {
                Ok(TableSummary {
                    schema: row.get(0)?,
                    table: row.get(1)?,
                    rows: row.get(2)?,
                })
            })
            .map_err(internal)?;
        let mut tables = Vec::new();
        for table in rows {
            let table = table.map_err(internal)?;
            if !HIDDEN_SCHEMAS.contains(&table.schema.as_str()) {
                tables.push(table);
            }
        }
        Ok(tables)
    }

    /// Resolves `name` (`mimiciv_hosp.patients`, `hosp.patients`, or a bare
    /// `patients` when only one schema has it; any case, quotes allowed) to a
    /// real table, or explains with the closest real names.
    pub fn resolve_table(&self, name: &str) -> Result<TableSummary, QueryError> {
        let tables = self.tables()?;
        resolve_in(&tables, name)
    }

    /// The columns of a resolved table.
    pub fn table_info(&self, table: &TableSummary) -> Result<TableInfo, QueryError> {
        let connection = self.connect()?;
        let mut statement = connection
            .prepare(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() \
                 WHERE database_name = current_database() AND schema_name = ? AND table_name = ? \
                 ORDER BY column_index",
            )
            .map_err(internal)?;
        let rows = statement
            .query_map([&table.schema, &table.table], |row| {
                Ok(ColumnInfo {
                    name: row.get(0)?,
                    type_name: row.get(1)?,
                    nullable: row.get(2)?,
                })
            })
            .map_err(internal)?;
        let columns = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        Ok(TableInfo {
            summary: table.clone(),
            columns,
        })
    }
}

impl CheckedQuery {
    /// `SELECT * FROM <table> LIMIT n` for a table that came from the catalog;
    /// identifiers are quoted, so no typed text reaches the SQL.
    pub fn sample_rows(table: &TableSummary, limit: u32) -> CheckedQuery {
        CheckedQuery::from_catalog(format!(
            "SELECT * FROM {}.{} LIMIT {limit}",
            quote_identifier(&table.schema),
            quote_identifier(&table.table)
        ))
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn internal(error: duckdb::Error) -> QueryError {
    QueryError::Internal {
        message: format!("catalog query failed: {error}"),
    }
}

fn resolve_in(tables: &[TableSummary], name: &str) -> Result<TableSummary, QueryError> {
    let wanted: String = name
        .trim()
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
        .collect::<String>()
        .to_lowercase();
    let (schema, table) = match wanted.rsplit_once('.') {
        Some((schema, table)) => (Some(schema.to_string()), table.to_string()),
        None => (None, wanted.clone()),
    };
    let candidates: Vec<&TableSummary> = tables
        .iter()
        .filter(|t| t.table.to_lowercase() == table)
        .filter(|t| match &schema {
            None => true,
            // `hosp.patients` is how PhysioNet's folders name it.
            Some(s) => {
                let actual = t.schema.to_lowercase();
                actual == *s || actual == format!("mimiciv_{s}")
            }
        })
        .collect();
    if let [only] = candidates.as_slice() {
        return Ok((*only).clone());
    }
    let suggestion = if candidates.len() > 1 {
        format!(
            " It exists in several schemas: {}.",
            candidates
                .iter()
                .map(|t| format!("`{}`", t.qualified_name()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        suggest(tables, &wanted, &table)
    };
    Err(QueryError::UnknownTable {
        name: name.trim().to_string(),
        suggestion,
    })
}

/// "Did you mean" from the real names: closest by edit distance on the bare
/// and on the qualified name, or names that contain what was typed.
fn suggest(tables: &[TableSummary], wanted: &str, bare: &str) -> String {
    let mut scored: Vec<(usize, String)> = tables
        .iter()
        .map(|t| {
            let qualified = t.qualified_name().to_lowercase();
            let distance = strsim::levenshtein(bare, &t.table.to_lowercase())
                .min(strsim::levenshtein(wanted, &qualified));
            let contains = !bare.is_empty() && t.table.to_lowercase().contains(bare);
            (if contains { 0 } else { distance }, t.qualified_name())
        })
        .filter(|(distance, _)| *distance <= (bare.chars().count() / 3).max(2))
        .collect();
    scored.sort();
    let names: Vec<String> = scored
        .into_iter()
        .take(3)
        .map(|(_, name)| format!("`{name}`"))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" Did you mean {}?", names.join(" or "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<TableSummary> {
        [
            ("mimiciv_hosp", "patients"),
            ("mimiciv_hosp", "admissions"),
            ("mimiciv_hosp", "labevents"),
            ("mimiciv_icu", "icustays"),
            ("mimiciv_icu", "d_items"),
            ("mimiciv_hosp", "d_labitems"),
        ]
        .into_iter()
        .map(|(schema, table)| TableSummary {
            schema: schema.into(),
            table: table.into(),
            rows: 1,
        })
        .collect()
    }

    #[test]
    fn resolves_qualified_bare_short_schema_and_any_case() {
        for typed in [
            "mimiciv_hosp.patients",
            "patients",
            "hosp.patients",
            "\"MIMICIV_HOSP\".\"PATIENTS\"",
        ] {
            let found = resolve_in(&catalog(), typed).unwrap();
            assert_eq!(found.qualified_name(), "mimiciv_hosp.patients", "{typed}");
        }
    }

    #[test]
    fn unknown_table_gets_the_closest_real_names() {
        let error = resolve_in(&catalog(), "patient").unwrap_err().to_string();
        assert!(
            error.contains("Did you mean `mimiciv_hosp.patients`"),
            "{error}"
        );
        let error = resolve_in(&catalog(), "icu.icustay")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`mimiciv_icu.icustays`"), "{error}");
    }

    #[test]
    fn unknown_table_with_nothing_close_says_where_to_look() {
        let error = resolve_in(&catalog(), "zzzzzzzz").unwrap_err().to_string();
        assert!(!error.contains("Did you mean"), "{error}");
        assert!(error.contains("get_database_schema"), "{error}");
    }
}
