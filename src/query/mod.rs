//! Query execution and safety: opening a data set's DuckDB file so that nothing
//! can write, read other files or change settings; deciding with DuckDB's own
//! parser whether a text is one read-only query; and running it within row,
//! byte, time and memory limits.
//!
//! Safety is layered. The engine is the wall: the database is opened read-only,
//! with external access off, extension auto-install/auto-load off and the
//! configuration locked, so even a statement that slipped past the check could
//! neither read a file nor write nor change a setting. The statement check is the
//! courtesy in front of it: it turns anything but a single query into a one-line
//! explanation of what is allowed, before DuckDB runs any of it.
//!
//! This module does not format results for people (see `format`) and does not
//! know about MCP.

mod catalog;
mod check;
mod database;
mod execute;

pub use catalog::{ColumnInfo, TableInfo, TableSummary};
pub use check::CheckedQuery;
pub use database::Database;
pub use execute::{Canceller, Cell, QueryResult, QueryRun, ResultColumn, Truncation};

/// Why a query, or opening a database, failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The database file could not be opened.
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
    /// DuckDB refused or failed the query; its message names what is wrong.
    #[error("{message}")]
    Sql { message: String },
    /// The query ran past the time limit and was interrupted.
    #[error(
        "Query timed out after {seconds} s and was stopped. Narrow it (filter on subject_id/hadm_id, add LIMIT, aggregate) or ask for a longer M4_QUERY_TIMEOUT."
    )]
    Timeout { seconds: u64 },
    /// The client cancelled the request.
    #[error("Query cancelled by the client.")]
    Cancelled,
    /// A table name that is not in the catalog.
    #[error("Table `{name}` not found.{suggestion} Use get_database_schema to list the tables.")]
    UnknownTable { name: String, suggestion: String },
    /// Something inside m4 or DuckDB that the query's author cannot fix.
    #[error("internal error: {message}")]
    Internal { message: String },
}

impl QueryError {
    /// Whether the error was caused by the query's author (answered, not logged as an error).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, QueryError::Internal { .. } | QueryError::Open { .. })
    }
}
