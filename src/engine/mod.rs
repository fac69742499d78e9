//! Engines: what serves a data set's SQL: a read-only DuckDB file ([`duckdb`]),
//! or MIMIC-IV where PhysioNet hosts it on Google BigQuery ([`bigquery`]). Everything above this module talks to the
//! [`Engine`] and [`Session`] traits and the engine-neutral types here, and never
//! names an engine's own types or dialect.
//!
//! # The interface
//! - [`Engine`]: the catalog (list tables, resolve a typed name, describe a table),
//!   m4's own convenience queries ([`ToolQuery`], written by each engine in its own
//!   dialect with bound parameters), and [`Engine::begin`] for a query session.
//! - [`Session`]: one query's life. [`Session::check`] decides whether request
//!   text is exactly one read-only query and returns a [`CheckedQuery`];
//!   [`Session::run`] runs a checked query within [`Limits`] (rows, bytes, time)
//!   and can be stopped from elsewhere through its [`Canceller`].
//!
//! # Trust boundary
//! A [`CheckedQuery`] can only be made inside this module (by a check, or by an
//! engine writing its own SQL), and it carries the [`EngineId`] of the engine that
//! made it: an engine refuses to run a query checked by another, so text DuckDB
//! checked can never reach BigQuery's executor, or one data set's check vouch for
//! another's.
//!
//! Results are built through [`ResultBuilder`] (typed cells in, the Markdown table
//! lines and JSON rows out, within the row and byte caps), so every engine's
//! results read the same; the notes around them are `format`'s.
//!
//! This module does not word results for people (see `format`), does not know
//! about MCP, and does not read the environment. The DuckDB engine takes the
//! item search's DuckDB SQL from `concepts`, where the dictionary knowledge lives.

pub mod bigquery;
mod cancel;
mod catalog;
mod checked;
pub mod duckdb;
mod result;

use std::fmt;
use std::time::Duration;

pub use crate::concepts::ItemMatch;
pub use cancel::{Canceller, StopReason};
pub use catalog::{ColumnInfo, TableInfo, TableSummary, resolve_table};
pub use checked::{CheckedQuery, EngineId, Param};
pub use result::{
    MAX_CELL_CHARS, QueryResult, ResultBuilder, ResultColumn, ScanCost, Truncation, push_escaped,
    push_row,
};

/// Bounds every query runs within, whatever the engine.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Rows returned before the result is cut short.
    pub max_rows: usize,
    /// Bytes of rendered cells before the result is cut short.
    pub max_bytes: usize,
    /// Time a query may run before it is stopped.
    pub timeout: Duration,
}

/// m4's own queries behind the convenience tools. Each engine writes them in its
/// dialect with the values bound, never pasted.
#[derive(Debug, Clone, Copy)]
pub enum ToolQuery<'a> {
    /// ICU stays, for one patient or all.
    IcuStays { patient_id: Option<i64>, limit: u32 },
    /// Lab results with their labels, for one patient or all, one test or all.
    LabResults {
        patient_id: Option<i64>,
        item: Option<LabItem<'a>>,
        limit: u32,
    },
    /// Admissions and distinct patients per race.
    RaceDistribution { limit: u32 },
    /// The first rows of a table the catalog resolved.
    SampleRows { table: &'a TableSummary, limit: u32 },
}

impl ToolQuery<'_> {
    /// The values every engine binds for this query, in order (`$1`… on DuckDB,
    /// `@p1`… on BigQuery); only the SQL text differs between engines.
    pub fn params(&self) -> Vec<Param> {
        match *self {
            ToolQuery::IcuStays { patient_id, limit } => {
                vec![Param::Int(patient_id), Param::Int(Some(limit.into()))]
            }
            ToolQuery::LabResults {
                patient_id,
                item,
                limit,
            } => {
                let (itemid, label) = match item {
                    None => (None, None),
                    Some(LabItem::Id(id)) => (Some(id), None),
                    Some(LabItem::Label(text)) => (None, Some(text.to_string())),
                };
                vec![
                    Param::Int(patient_id),
                    Param::Int(itemid),
                    Param::Text(label),
                    Param::Int(Some(limit.into())),
                ]
            }
            ToolQuery::RaceDistribution { limit } | ToolQuery::SampleRows { limit, .. } => {
                vec![Param::Int(Some(limit.into()))]
            }
        }
    }
}

/// A lab test, by id or by part of its label.
#[derive(Debug, Clone, Copy)]
pub enum LabItem<'a> {
    Id(i64),
    Label(&'a str),
}

/// A data set's engine. `Send + Sync`: one is shared by all calls.
pub trait Engine: Send + Sync + fmt::Debug {
    /// The engine's identity, carried by every query it checks.
    fn id(&self) -> EngineId;

    /// The SQL dialect, as the model should be told (`DuckDB`).
    fn dialect(&self) -> &'static str;

    /// Every data table, schema-qualified, in name order.
    fn tables(&self) -> Result<Vec<TableSummary>, QueryError>;

    /// The columns of a table the catalog resolved.
    fn table_info(&self, table: &TableSummary) -> Result<TableInfo, QueryError>;

    /// Resolves a typed table name (`mimiciv_hosp.patients`, `hosp.patients`, a
    /// bare `patients`; any case, quotes allowed) or explains with the closest names.
    fn resolve_table(&self, name: &str) -> Result<TableSummary, QueryError> {
        resolve_table(&self.tables()?, name)
    }

    /// m4's own SQL for a convenience tool, with its values bound.
    fn tool_query(&self, query: ToolQuery<'_>) -> Result<CheckedQuery, QueryError>;

    /// A session for one query.
    fn begin(&self) -> Result<Box<dyn Session>, QueryError>;

    /// Dictionary entries (items, lab tests, ICD and HCPCS codes) whose label
    /// matches `query` or its expanded abbreviations, best first, at most `limit`.
    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<ItemMatch>, QueryError>;
}

/// One query's life on an engine: check, then run, stoppable from elsewhere.
pub trait Session: Send {
    /// A handle that stops this session's query from another thread or task.
    fn canceller(&self) -> Canceller;

    /// Checks that `sql` (request text) is exactly one read-only query.
    fn check(&mut self, sql: &str) -> Result<CheckedQuery, QueryError>;

    /// Runs `query` and collects at most `limits` of its result. Callers use
    /// [`Session::run`], which also enforces the time limit.
    fn execute(
        self: Box<Self>,
        query: &CheckedQuery,
        limits: &Limits,
    ) -> Result<QueryResult, QueryError>;

    /// Runs `query` within `limits`, the time limit included: past it, the
    /// canceller fires and the query ends with [`QueryError::Timeout`].
    fn run(
        self: Box<Self>,
        query: &CheckedQuery,
        limits: &Limits,
    ) -> Result<QueryResult, QueryError> {
        let canceller = self.canceller();
        let armed = cancel::arm_deadline(limits.timeout, &canceller);
        let outcome = self.execute(query, limits);
        // Disarm before judging the outcome, so the deadline cannot fire late.
        drop(armed);
        match (outcome, canceller.reason()) {
            (Err(_), Some(StopReason::TimedOut)) => Err(QueryError::Timeout {
                seconds: limits.timeout.as_secs(),
            }),
            (Err(_), Some(StopReason::Cancelled)) => Err(QueryError::Cancelled),
            (outcome, _) => outcome,
        }
    }
}

/// Why a query, or opening an engine, failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The data set's database could not be opened.
    #[error("could not open the database `{path}` read-only: {message}\n\nhint: {hint}")]
    Open {
        path: String,
        message: String,
        hint: String,
    },
    /// The text is not a single read-only query; the user (or model) can fix it.
    #[error(
        "Query rejected: {reason}. Only one read-only query is allowed: SELECT, WITH ... SELECT, VALUES, FROM ..., DESCRIBE, SHOW or SUMMARIZE."
    )]
    Rejected { reason: String },
    /// The engine refused or failed the query; its message names what is wrong.
    #[error("{message}")]
    Sql { message: String },
    /// The query needed more temporary disk than the cap allows.
    #[error(
        "Query stopped: it needed more than {cap} of temporary disk space (the cap set by M4_MAX_TEMP_SIZE). Narrow it (filter on subject_id/hadm_id/stay_id, aggregate before sorting or joining, add LIMIT), or ask the user to raise M4_MAX_TEMP_SIZE."
    )]
    TempSpace { cap: String },
    /// The query ran past the time limit and was stopped.
    #[error(
        "Query timed out after {seconds} s and was stopped. Narrow it (filter on subject_id/hadm_id, add LIMIT, aggregate) or ask for a longer M4_QUERY_TIMEOUT."
    )]
    Timeout { seconds: u64 },
    /// The client cancelled the request.
    #[error("Query cancelled by the client.")]
    Cancelled,
    /// Not a single read-only query, as the engine itself decided (BigQuery's
    /// dry run); `allowed` says what the engine runs.
    #[error("Query rejected: {reason}. {allowed}")]
    Refused {
        reason: String,
        allowed: &'static str,
    },
    /// The engine estimates that the query would process more than the cost cap.
    #[error(
        "Query refused before running: BigQuery estimates it would process {estimate}, over m4's cap of {cap} per query (M4_BIGQUERY_MAX_BYTES_BILLED). Select fewer columns (BigQuery bills every column read, over the whole table, whatever the WHERE or LIMIT), or ask the user to raise M4_BIGQUERY_MAX_BYTES_BILLED (e.g. to {suggested})."
    )]
    CostCap {
        estimate: String,
        cap: String,
        suggested: String,
    },
    /// The remote service refused the call for a reason the user fixes
    /// (credentials, billing project, data access); the message says what to do.
    #[error("{message}")]
    Access { message: String },
    /// A table name that is not in the catalog.
    #[error("Table `{name}` not found.{suggestion} Use get_database_schema to list the tables.")]
    UnknownTable { name: String, suggestion: String },
    /// Something inside m4 or the engine that the query's author cannot fix.
    #[error("internal error: {message}")]
    Internal { message: String },
}

/// Who can act on an error: decided for every variant, so a new one forces a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The query's author (the model) can fix it: answer with the whole message.
    User,
    /// The user's set-up (a missing or broken data set): answer what to do, log the details.
    Setup,
    /// A fault inside m4 or the engine: log it in full, answer without internals.
    Internal,
}

impl QueryError {
    /// Who can act on this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            QueryError::Rejected { .. }
            | QueryError::Sql { .. }
            | QueryError::TempSpace { .. }
            | QueryError::Timeout { .. }
            | QueryError::Cancelled
            | QueryError::Refused { .. }
            | QueryError::CostCap { .. }
            // Says what the user must fix and holds no local path or internals.
            | QueryError::Access { .. }
            | QueryError::UnknownTable { .. } => Disposition::User,
            QueryError::Open { .. } => Disposition::Setup,
            QueryError::Internal { .. } => Disposition::Internal,
        }
    }
}
