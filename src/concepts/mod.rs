//! Derived clinical concepts: the `mimiciv_derived` schema that published MIMIC-IV
//! studies refer to by name (`mimiciv_derived.kdigo_stages`, `.sofa`, `.sepsis3`, ...),
//! and the descriptions that make the raw schema explain itself.
//!
//! Each concept is one DuckDB `SELECT` in `src/concepts/<family>/<name>.sql`, written
//! by m4 from the published clinical definition cited in the file's header. Table and
//! column names are those of mimic-code's MIMIC-IV concepts and PhysioNet's BigQuery
//! `mimiciv_derived`, so a researcher's existing SQL runs unchanged. The [`catalogue`]
//! declares each concept's raw sources and the concepts it reads; the build order and
//! "which concepts can this data set build" are computed from those declarations.
//!
//! This module opens no database and reads no files: it is handed a read-write
//! connection by `datasets` (the only module that opens one) and runs SQL on it.
//!
//! # Files
//! - `catalogue`: every concept, its family, sources and dependencies.
//! - `<family>/<name>.sql`: one concept each; the header's `-- @table` and
//!   `-- @column` lines are its descriptions (stored with `COMMENT ON`).
//! - `descriptions`: the raw tables' and columns' descriptions.
//! - `search`: `search_items`, finding item ids and codes by meaning.
//! - `resources`: the MIMIC-IV primer and one text per concept, for MCP resources.

mod catalogue;
pub mod descriptions;
pub mod resources;
pub mod search;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use duckdb::Connection;

use crate::datasets::{schema, thousands};

pub use catalogue::catalogue;
pub use search::{ItemMatch, expand_query, search_items};

/// The schema every concept is built into.
pub const SCHEMA: &str = "mimiciv_derived";

/// A concept's family: the folder its SQL lives in, as in mimic-code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Demographics,
    Comorbidity,
    Measurement,
    Medication,
    Treatment,
    FirstDay,
    OrganFailure,
    Score,
    Sepsis,
}

impl Family {
    /// The folder under `src/concepts/`.
    pub fn folder(self) -> &'static str {
        match self {
            Family::Demographics => "demographics",
            Family::Comorbidity => "comorbidity",
            Family::Measurement => "measurement",
            Family::Medication => "medication",
            Family::Treatment => "treatment",
            Family::FirstDay => "firstday",
            Family::OrganFailure => "organfailure",
            Family::Score => "score",
            Family::Sepsis => "sepsis",
        }
    }
}

/// One derived table.
#[derive(Debug)]
pub struct Concept {
    /// Table name in `mimiciv_derived`.
    pub name: &'static str,
    pub family: Family,
    /// The `SELECT` that computes it (the file's text, header comment included).
    pub sql: &'static str,
    /// Raw tables it cannot be built without (`mimiciv_hosp.labevents`).
    pub sources: &'static [&'static str],
    /// Raw tables it reads when present; an empty stand-in takes their place otherwise
    /// (`bg` takes SpO2 and FiO2 from `chartevents` when the data set has it).
    pub optional_sources: &'static [&'static str],
    /// Concepts it cannot be built without.
    pub depends: &'static [&'static str],
    /// Concepts it reads when they were built; an empty stand-in otherwise.
    pub optional_depends: &'static [&'static str],
}

impl Concept {
    /// `mimiciv_derived.<name>`.
    pub fn qualified_name(&self) -> String {
        format!("{SCHEMA}.{}", self.name)
    }

    /// The file the SQL came from, relative to `src/concepts/`.
    pub fn file(&self) -> String {
        format!("{}/{}.sql", self.family.folder(), self.name)
    }

    /// The `-- @table` line of the header.
    pub fn description(&self) -> &'static str {
        header_tags(self.sql, "@table")
            .next()
            .map(|(_, text)| text)
            .unwrap_or("")
    }

    /// `(column, description)` from the header's `-- @column name: text` lines.
    pub fn column_descriptions(&self) -> Vec<(&'static str, &'static str)> {
        header_tags(self.sql, "@column").collect()
    }

    /// The header comment as plain text (definition, citation, differences).
    pub fn header(&self) -> String {
        self.sql
            .lines()
            .take_while(|l| l.trim_start().starts_with("--"))
            .map(|l| {
                l.trim_start()
                    .trim_start_matches("--")
                    .strip_prefix(' ')
                    .unwrap_or_else(|| l.trim_start().trim_start_matches("--"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Lines `-- <tag> name: text` (for `@column`) or `-- <tag> text` (for `@table`).
fn header_tags(
    sql: &'static str,
    tag: &'static str,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    sql.lines()
        .take_while(|l| l.trim_start().starts_with("--"))
        .filter_map(move |line| {
            let rest = line.trim_start().trim_start_matches("--").trim_start();
            let rest = rest.strip_prefix(tag)?.trim();
            if tag == "@table" {
                return Some(("", rest));
            }
            let (name, text) = rest.split_once(':')?;
            Some((name.trim(), text.trim()))
        })
}

/// What can go wrong before any concept is built.
#[derive(Debug, thiserror::Error)]
pub enum ConceptError {
    /// The catalogue names a dependency that is not in it, or has a cycle.
    #[error(
        "the concept catalogue is inconsistent: {problem}\n\nhint: this is a bug in m4; report it with the m4 version"
    )]
    Catalogue { problem: String },
    /// A statement that is not a concept (schema, metadata, comments) failed.
    #[error(
        "could not {action}: {reason}\n\nhint: check free disk space, then rerun `m4 init NAME --derived-only`"
    )]
    Database { action: String, reason: String },
}

fn db_error(action: impl Into<String>) -> impl FnOnce(duckdb::Error) -> ConceptError {
    let action = action.into();
    move |e| ConceptError::Database {
        action,
        reason: e.to_string(),
    }
}

/// Every concept, dependencies before the concepts that read them (stable:
/// catalogue order where the dependencies allow it).
pub fn build_order() -> Result<Vec<&'static Concept>, ConceptError> {
    let all = catalogue();
    let by_name: BTreeMap<&str, &Concept> = all.iter().map(|c| (c.name, c)).collect();
    if by_name.len() != all.len() {
        return Err(ConceptError::Catalogue {
            problem: "two concepts share a name".into(),
        });
    }
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(all.len());
    while order.len() < all.len() {
        let before = order.len();
        for concept in all {
            if placed.contains(concept.name) {
                continue;
            }
            let mut ready = true;
            for dep in concept.depends.iter().chain(concept.optional_depends) {
                if !by_name.contains_key(dep) {
                    return Err(ConceptError::Catalogue {
                        problem: format!("`{}` depends on unknown concept `{dep}`", concept.name),
                    });
                }
                ready &= placed.contains(dep);
            }
            if ready {
                placed.insert(concept.name);
                order.push(concept);
            }
        }
        if order.len() == before {
            let stuck: Vec<&str> = all
                .iter()
                .filter(|c| !placed.contains(c.name))
                .map(|c| c.name)
                .collect();
            return Err(ConceptError::Catalogue {
                problem: format!("dependency cycle among {}", stuck.join(", ")),
            });
        }
    }
    Ok(order)
}

/// Why a concept cannot be built on a data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// These raw tables are absent.
    MissingSources(Vec<String>),
    /// These concepts it reads were not built.
    MissingConcepts(Vec<String>),
}

/// The concepts a data set with `present` raw tables can build, in build order, and
/// the others with the reason. Computed from the catalogue's declarations only.
pub fn plan(present: &[String]) -> Result<Vec<(&'static Concept, Option<Skip>)>, ConceptError> {
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    let mut buildable: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for concept in build_order()? {
        let missing: Vec<String> = concept
            .sources
            .iter()
            .filter(|s| !present.contains(**s))
            .map(|s| s.to_string())
            .collect();
        let skip = if !missing.is_empty() {
            Some(Skip::MissingSources(missing))
        } else {
            let unbuilt: Vec<String> = concept
                .depends
                .iter()
                .filter(|d| !buildable.contains(**d))
                .map(|d| d.to_string())
                .collect();
            (!unbuilt.is_empty()).then_some(Skip::MissingConcepts(unbuilt))
        };
        if skip.is_none() {
            buildable.insert(concept.name);
        }
        out.push((concept, skip));
    }
    Ok(out)
}

/// One concept as built.
#[derive(Debug, Clone)]
pub struct BuiltConcept {
    pub name: &'static str,
    pub rows: u64,
    /// Optional sources or concepts that were absent and stood in for by empty tables.
    pub without: Vec<String>,
}

/// What [`build`] did, for the init report and `m4_meta.derived`.
#[derive(Debug, Clone, Default)]
pub struct DerivedSummary {
    pub built: Vec<BuiltConcept>,
    /// Concepts not built, with the raw tables (or concepts) they lacked.
    pub skipped: Vec<(&'static str, Skip)>,
    /// Concepts whose SQL failed (a bug): name and DuckDB's message.
    pub failed: Vec<(&'static str, String)>,
    pub elapsed: Duration,
}

impl DerivedSummary {
    /// The root cause of a skip: the raw tables missing, following concept chains.
    fn root_missing(&self, skip: &Skip) -> BTreeSet<String> {
        match skip {
            Skip::MissingSources(tables) => tables.iter().cloned().collect(),
            Skip::MissingConcepts(names) => {
                let mut out = BTreeSet::new();
                for name in names {
                    if let Some((_, inner)) = self.skipped.iter().find(|(n, _)| *n == name.as_str())
                    {
                        out.extend(self.root_missing(inner));
                    } else {
                        out.insert(format!("{SCHEMA}.{name} (failed)"));
                    }
                }
                out
            }
        }
    }
}

impl fmt::Display for DerivedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: u64 = self.built.iter().map(|b| b.rows).sum();
        write!(
            f,
            "derived: {} of {} concepts built in `{SCHEMA}` ({} rows, {:.1} s)",
            self.built.len(),
            self.built.len() + self.skipped.len() + self.failed.len(),
            thousands(rows),
            self.elapsed.as_secs_f64()
        )?;
        let mut by_cause: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (name, skip) in &self.skipped {
            let cause: Vec<String> = self.root_missing(skip).into_iter().collect();
            by_cause.entry(cause.join("`, `")).or_default().push(*name);
        }
        for (cause, names) in by_cause {
            write!(
                f,
                "\nskipped concepts (need `{cause}`): {}",
                names.join(", ")
            )?;
        }
        for (name, reason) in &self.failed {
            write!(
                f,
                "\nfailed concept: `{SCHEMA}.{name}`: {reason} (a bug in m4; the other concepts are usable)"
            )?;
        }
        Ok(())
    }
}

/// Builds every concept the `present` raw tables allow into `mimiciv_derived`
/// (dropping any earlier one), stores their descriptions, and records the outcome in
/// `m4_meta.derived`. A concept whose SQL fails is reported in the summary, and the
/// concepts that need it are skipped; the others are still built.
pub fn build(
    conn: &Connection,
    present: &[String],
    log: &mut dyn FnMut(&str),
) -> Result<DerivedSummary, ConceptError> {
    let started = Instant::now();
    let plan = plan(present)?;
    conn.execute_batch(&format!(
        "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; \
         CREATE SCHEMA IF NOT EXISTS m4_meta;"
    ))
    .map_err(db_error(format!("create schema `{SCHEMA}`")))?;
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    let mut summary = DerivedSummary::default();
    let mut built: BTreeSet<&str> = BTreeSet::new();
    for (concept, skip) in plan {
        let skip = skip.or_else(|| {
            // A dependency the plan counted on may have failed.
            let failed: Vec<String> = concept
                .depends
                .iter()
                .filter(|d| !built.contains(**d))
                .map(|d| d.to_string())
                .collect();
            (!failed.is_empty()).then_some(Skip::MissingConcepts(failed))
        });
        if let Some(skip) = skip {
            summary.skipped.push((concept.name, skip));
            continue;
        }
        let (sql, without) = resolve(concept, &|name| {
            present.contains(name)
                || name
                    .strip_prefix("mimiciv_derived.")
                    .is_some_and(|n| built.contains(n))
        });
        let step = Instant::now();
        let create = format!("CREATE TABLE {} AS\n{sql}\n", concept.qualified_name());
        match conn.execute_batch(&create) {
            Ok(()) => {
                let rows: i64 = conn
                    .query_row(
                        &format!("SELECT count(*) FROM {}", concept.qualified_name()),
                        [],
                        |r| r.get(0),
                    )
                    .map_err(db_error(format!("count `{}`", concept.qualified_name())))?;
                log(&format!(
                    "built {}: {} rows ({:.1} s){}",
                    concept.qualified_name(),
                    thousands(rows as u64),
                    step.elapsed().as_secs_f64(),
                    if without.is_empty() {
                        String::new()
                    } else {
                        format!(", without {}", without.join(", "))
                    }
                ));
                built.insert(concept.name);
                summary.built.push(BuiltConcept {
                    name: concept.name,
                    rows: rows as u64,
                    without,
                });
            }
            Err(e) => {
                tracing::error!(concept = concept.name, error = %e, "derived concept failed");
                log(&format!("FAILED {}: {e}", concept.qualified_name()));
                summary.failed.push((concept.name, e.to_string()));
            }
        }
    }
    describe_derived(conn, &summary)?;
    write_meta(conn, &summary)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The concept's SQL with every optional source or concept that `available` denies
/// replaced by an empty relation of the same columns, and the names replaced.
fn resolve(concept: &Concept, available: &dyn Fn(&str) -> bool) -> (String, Vec<String>) {
    let mut sql = body(concept.sql);
    let mut without = Vec::new();
    let optional = concept
        .optional_sources
        .iter()
        .map(|s| s.to_string())
        .chain(
            concept
                .optional_depends
                .iter()
                .map(|d| format!("{SCHEMA}.{d}")),
        );
    for name in optional {
        if !available(&name) {
            sql = replace_relation(&sql, &name, &empty_relation(&name, 0));
            without.push(name);
        }
    }
    (sql, without)
}

/// The SQL without its `--` comments (so that a substituted name inside a comment
/// cannot turn the rest of a multi-line stand-in into code) and a trailing `;`.
/// m4's SQL files hold no `--` inside string literals.
fn body(sql: &str) -> String {
    let code: Vec<&str> = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .filter(|line| !line.trim().is_empty())
        .collect();
    code.join("\n").trim_end().trim_end_matches(';').to_string()
}

/// An empty relation with the columns and types of raw table or concept `name`, as
/// a parenthesised subquery.
fn empty_relation(name: &str, depth: usize) -> String {
    if let Some((schema_name, table)) = name.split_once('.') {
        if let Some(t) = schema::tables()
            .iter()
            .find(|t| t.schema() == schema_name && t.name == table)
        {
            let columns: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("CAST(NULL AS {}) AS \"{}\"", c.sql_type, c.name))
                .collect();
            return format!("(SELECT {} WHERE false)", columns.join(", "));
        }
        if schema_name == SCHEMA
            && depth < 16
            && let Some(c) = catalogue().iter().find(|c| c.name == table)
        {
            let mut sql = body(c.sql);
            for input in relations_read(c) {
                sql = replace_relation(&sql, &input, &empty_relation(&input, depth + 1));
            }
            return format!("(SELECT * FROM (\n{sql}\n) AS m4_empty WHERE false)");
        }
    }
    // Unreachable for a consistent catalogue (a unit test checks every name).
    format!(
        "(SELECT NULL AS unknown_relation_{} WHERE false)",
        name.replace('.', "_")
    )
}

/// Every raw table and concept a concept reads, qualified.
fn relations_read(concept: &Concept) -> Vec<String> {
    concept
        .sources
        .iter()
        .chain(concept.optional_sources)
        .map(|s| s.to_string())
        .chain(
            concept
                .depends
                .iter()
                .chain(concept.optional_depends)
                .map(|d| format!("{SCHEMA}.{d}")),
        )
        .collect()
}

/// Replaces whole-word occurrences of the qualified name `name` in `sql`.
fn replace_relation(sql: &str, name: &str, with: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(name) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        let after = &rest[at + name.len()..];
        let after_ok = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..at]);
        if before_ok && after_ok {
            out.push_str(with);
        } else {
            out.push_str(name);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Every qualified `mimiciv_*.name` the SQL text mentions outside comments.
pub fn referenced_relations(sql: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in sql.lines() {
        let code = line.split("--").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("mimiciv_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            if name.contains('.') {
                out.insert(name.trim_end_matches('.').to_string());
            }
            rest = &tail[end..];
        }
    }
    out
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Stores the raw tables' descriptions and counts item usage (`m4_meta.item_usage`);
/// run on every build, with or without the derived concepts.
pub fn index_sources(conn: &Connection, present: &[String]) -> Result<(), ConceptError> {
    descriptions::describe_sources(conn, present)?;
    search::build_item_usage(conn)
}

/// Whether the qualified table `schema.table` exists.
fn table_exists(conn: &Connection, qualified: &str) -> Result<bool, ConceptError> {
    let (schema_name, table) = qualified.split_once('.').unwrap_or(("main", qualified));
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
            [schema_name, table],
            |r| r.get(0),
        )
        .map_err(db_error("list tables"))?;
    Ok(n > 0)
}

/// `COMMENT ON` every built concept and its described columns.
fn describe_derived(conn: &Connection, summary: &DerivedSummary) -> Result<(), ConceptError> {
    let mut sql = String::new();
    for built in &summary.built {
        let Some(concept) = catalogue().iter().find(|c| c.name == built.name) else {
            continue;
        };
        sql.push_str(&format!(
            "COMMENT ON TABLE {} IS {};\n",
            concept.qualified_name(),
            quote_literal(concept.description())
        ));
        let columns: BTreeSet<String> = table_columns(conn, SCHEMA, concept.name)?
            .into_iter()
            .collect();
        for (column, text) in concept.column_descriptions() {
            if columns.contains(column) {
                sql.push_str(&format!(
                    "COMMENT ON COLUMN {}.\"{column}\" IS {};\n",
                    concept.qualified_name(),
                    quote_literal(text)
                ));
            }
        }
    }
    conn.execute_batch(&sql)
        .map_err(db_error("store the derived tables' descriptions"))
}

/// Column names of `schema.table`, in table order.
pub(crate) fn table_columns(
    conn: &Connection,
    schema_name: &str,
    table: &str,
) -> Result<Vec<String>, ConceptError> {
    let mut stmt = conn
        .prepare(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? \
             ORDER BY column_index",
        )
        .map_err(db_error("list columns"))?;
    let names = stmt
        .query_map([schema_name, table], |r| r.get::<_, String>(0))
        .map_err(db_error("list columns"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_error("list columns"))?;
    Ok(names)
}

/// `m4_meta.derived`: one row per catalogue concept (built, rows, why not).
fn write_meta(conn: &Connection, summary: &DerivedSummary) -> Result<(), ConceptError> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS m4_meta.derived; \
         CREATE TABLE m4_meta.derived (table_name VARCHAR, family VARCHAR, built BOOLEAN, \
         row_count BIGINT, note VARCHAR);",
    )
    .map_err(db_error("create `m4_meta.derived`"))?;
    let mut insert = conn
        .prepare("INSERT INTO m4_meta.derived VALUES (?, ?, ?, ?, ?)")
        .map_err(db_error("write `m4_meta.derived`"))?;
    for concept in catalogue() {
        let built = summary.built.iter().find(|b| b.name == concept.name);
        let note = if let Some(b) = built {
            if b.without.is_empty() {
                None
            } else {
                Some(format!("built without {}", b.without.join(", ")))
            }
        } else if let Some((_, skip)) = summary.skipped.iter().find(|(n, _)| *n == concept.name) {
            let cause: Vec<String> = summary.root_missing(skip).into_iter().collect();
            Some(format!("skipped: needs {}", cause.join(", ")))
        } else {
            summary
                .failed
                .iter()
                .find(|(n, _)| *n == concept.name)
                .map(|(_, e)| format!("failed: {e}"))
        };
        insert
            .execute(duckdb::params![
                concept.name,
                concept.family.folder(),
                built.is_some(),
                built.map(|b| b.rows as i64),
                note
            ])
            .map_err(db_error("write `m4_meta.derived`"))?;
    }
    Ok(())
}
