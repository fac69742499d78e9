//! Engine-neutral catalog types, and resolving a table name someone typed to a
//! real table from the engine's list — never by pasting it into SQL.

use std::fmt;

use super::QueryError;

/// A table and its size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSummary {
    pub schema: String,
    pub table: String,
    /// Rows as the engine's storage reports them (exact for tables m4 loaded).
    pub rows: i64,
    /// What a row is, in a sentence, when the data set documents it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
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
    /// What the column holds (units, links), when the data set documents it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
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

/// Resolves `name` against `tables`: `schema.table`, PhysioNet's folder-style
/// `hosp.patients`, or a bare name that only one schema has; any case, quotes allowed.
pub fn resolve_table(tables: &[TableSummary], name: &str) -> Result<TableSummary, QueryError> {
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
            description: None,
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
            let found = resolve_table(&catalog(), typed).unwrap();
            assert_eq!(found.qualified_name(), "mimiciv_hosp.patients", "{typed}");
        }
    }

    #[test]
    fn unknown_table_gets_the_closest_real_names() {
        let error = resolve_table(&catalog(), "patient")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("Did you mean `mimiciv_hosp.patients`"),
            "{error}"
        );
        let error = resolve_table(&catalog(), "icu.icustay")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`mimiciv_icu.icustays`"), "{error}");
    }

    #[test]
    fn unknown_table_with_nothing_close_says_where_to_look() {
        let error = resolve_table(&catalog(), "zzzzzzzz")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("Did you mean"), "{error}");
        assert!(error.contains("get_database_schema"), "{error}");
    }
}
