//! Running a checked query within limits and collecting a bounded result.
//!
//! Rows are pulled from DuckDB's streaming result chunk by chunk and the pull
//! stops at the row cap (plus one row, to know there was more) or the byte cap,
//! so a `SELECT *` over a hundred-million-row table costs one chunk, not the
//! table. A watchdog thread interrupts DuckDB when the time limit passes; the
//! caller can interrupt it too (a client's cancellation) through
//! [`super::Database`]'s connection handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use duckdb::arrow::array::{Array, ArrayRef};
use duckdb::arrow::datatypes::DataType;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use duckdb::{Connection, InterruptHandle, params_from_iter};

use super::{CheckedQuery, Database, QueryError};
use crate::config::QueryLimits;

/// Longest text kept in one cell; the rest is replaced by a visible marker.
pub const MAX_CELL_CHARS: usize = 500;

/// One column of a result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResultColumn {
    pub name: String,
    /// DuckDB's SQL name for the column's type (`BIGINT`, `TIMESTAMP`, `DECIMAL(10,2)`).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// One value, as shown to people and as JSON for programs.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Text for the table; `NULL` for a null.
    pub text: String,
    /// JSON for structured content: numbers stay numbers where JSON can hold
    /// them exactly, null stays null, everything else is its text.
    pub json: serde_json::Value,
}

/// Why a result stops short of the query's full answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// More rows than the row cap.
    Rows,
    /// The rows read so far reached the byte cap.
    Bytes,
}

/// A bounded query result.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Cell>>,
    pub truncated: Option<Truncation>,
    /// Whether some long cells were shortened.
    pub cells_shortened: bool,
    pub elapsed: Duration,
}

/// A connection ready to run one query, with a handle to interrupt it from elsewhere.
pub struct QueryRun {
    connection: Connection,
    interrupt: Arc<InterruptHandle>,
    cancelled: Arc<AtomicBool>,
}

impl Database {
    /// Prepares a connection for one query; take [`QueryRun::canceller`] first
    /// if something else (a client's cancellation) may need to stop it.
    pub fn begin(&self) -> Result<QueryRun, QueryError> {
        let connection = self.connect()?;
        let interrupt = connection.interrupt_handle();
        Ok(QueryRun {
            connection,
            interrupt,
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// Stops a running query from another thread or task.
#[derive(Clone)]
pub struct Canceller {
    interrupt: Arc<InterruptHandle>,
    cancelled: Arc<AtomicBool>,
}

impl Canceller {
    /// Interrupts the query; it ends with [`QueryError::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.interrupt.interrupt();
    }
}

impl QueryRun {
    /// A handle that cancels this run.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            interrupt: Arc::clone(&self.interrupt),
            cancelled: Arc::clone(&self.cancelled),
        }
    }

    /// Checks that `sql` is exactly one read-only query, on this run's own
    /// connection (so a tool call opens one connection, not two).
    pub fn check(&self, sql: &str) -> Result<CheckedQuery, QueryError> {
        super::check::check_with(&self.connection, sql)
    }

    /// Runs the query; consumes the connection.
    pub fn run(
        self,
        query: &CheckedQuery,
        params: &[duckdb::types::Value],
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        let started = Instant::now();
        let timed_out = Arc::new(AtomicBool::new(false));
        let (done, watchdog) = start_watchdog(
            limits.timeout,
            Arc::clone(&self.interrupt),
            Arc::clone(&timed_out),
        );
        let outcome = collect(&self.connection, query, params, limits);
        // Stop the watchdog before judging the outcome, so it cannot fire late.
        drop(done);
        let _ = watchdog.join();
        let classify = |error: duckdb::Error| {
            if self.cancelled.load(Ordering::SeqCst) {
                QueryError::Cancelled
            } else if timed_out.load(Ordering::SeqCst) {
                QueryError::Timeout {
                    seconds: limits.timeout.as_secs(),
                }
            } else {
                sql_error(error)
            }
        };
        let (columns, rows, truncated, cells_shortened) = outcome.map_err(classify)?;
        Ok(QueryResult {
            columns,
            rows,
            truncated,
            cells_shortened,
            elapsed: started.elapsed(),
        })
    }
}

/// DuckDB's message, plus why, when the engine's lock-down refused the query.
fn sql_error(error: duckdb::Error) -> QueryError {
    let mut message = error.to_string();
    if message.contains("disabled by configuration")
        || message.contains("read-only mode")
        || message.contains("configuration has been locked")
        || message.contains("extension")
    {
        message.push_str(
            "\nm4 serves the data read-only, with file access, extensions and settings locked: only queries over the loaded tables can run (do not INSTALL or LOAD anything).",
        );
    }
    QueryError::Sql { message }
}

/// A thread that interrupts DuckDB when `timeout` passes, unless the returned
/// sender is dropped first.
fn start_watchdog(
    timeout: Duration,
    interrupt: Arc<InterruptHandle>,
    timed_out: Arc<AtomicBool>,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
            timed_out.store(true, Ordering::SeqCst);
            interrupt.interrupt();
        }
    });
    (done_tx, handle)
}

type Collected = (Vec<ResultColumn>, Vec<Vec<Cell>>, Option<Truncation>, bool);

fn collect(
    connection: &Connection,
    query: &CheckedQuery,
    params: &[duckdb::types::Value],
    limits: &QueryLimits,
) -> Result<Collected, duckdb::Error> {
    let mut statement = connection.prepare(query.sql())?;
    let stream = statement.stream_arrow(params_from_iter(params.iter()))?;
    let schema = stream.get_schema();
    let columns: Vec<ResultColumn> = schema
        .fields()
        .iter()
        .map(|field| ResultColumn {
            name: field.name().clone(),
            type_name: sql_type_name(field.data_type()),
        })
        .collect();
    let options = FormatOptions::default()
        .with_null("NULL")
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:z"));
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    let mut shortened = false;
    for batch in stream {
        let batch = batch?;
        let arrays: Vec<ArrayRef> = batch.columns().to_vec();
        let formatters = arrays
            .iter()
            .map(|array| ArrayFormatter::try_new(array.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))?;
        for row_index in 0..batch.num_rows() {
            if rows.len() == limits.max_rows {
                return Ok((columns, rows, Some(Truncation::Rows), shortened));
            }
            let mut row = Vec::with_capacity(arrays.len());
            let mut row_bytes = 0;
            for (array, formatter) in arrays.iter().zip(&formatters) {
                let (cell, was_shortened) = make_cell(array.as_ref(), formatter, row_index);
                shortened |= was_shortened;
                row_bytes += cell.text.len() + 3;
                row.push(cell);
            }
            if bytes + row_bytes > limits.max_bytes && !rows.is_empty() {
                return Ok((columns, rows, Some(Truncation::Bytes), shortened));
            }
            bytes += row_bytes;
            rows.push(row);
        }
    }
    Ok((columns, rows, None, shortened))
}

fn make_cell(array: &dyn Array, formatter: &ArrayFormatter<'_>, row: usize) -> (Cell, bool) {
    // A NullArray has no validity bitmap, so `is_null` alone says false for it.
    if array.is_null(row) || matches!(array.data_type(), DataType::Null) {
        return (
            Cell {
                text: "NULL".to_string(),
                json: serde_json::Value::Null,
            },
            false,
        );
    }
    let full = formatter.value(row).to_string();
    let json = json_number(array.data_type(), &full);
    let (text, shortened) = shorten(full);
    let json = json.unwrap_or_else(|| serde_json::Value::String(text.clone()));
    (Cell { text, json }, shortened)
}

/// Numbers that JSON holds exactly stay numbers; decimals and 128-bit integers
/// stay text so that no digit is lost on the way.
fn json_number(data_type: &DataType, text: &str) -> Option<serde_json::Value> {
    match data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            text.parse::<i64>().ok().map(Into::into)
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            text.parse::<u64>().ok().map(Into::into)
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number),
        DataType::Boolean => text.parse::<bool>().ok().map(Into::into),
        _ => None,
    }
}

/// Shortens text past [`MAX_CELL_CHARS`] with a marker that says how much was cut.
pub fn shorten(text: String) -> (String, bool) {
    let Some((cut, _)) = text.char_indices().nth(MAX_CELL_CHARS) else {
        return (text, false);
    };
    let omitted = text[cut..].chars().count();
    (format!("{}…[+{omitted} chars]", &text[..cut]), true)
}

/// DuckDB's SQL name for the Arrow type DuckDB produced.
pub fn sql_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "NULL".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => "UTINYINT".into(),
        DataType::UInt16 => "USMALLINT".into(),
        DataType::UInt32 => "UINTEGER".into(),
        DataType::UInt64 => "UBIGINT".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BLOB".into(),
        DataType::FixedSizeBinary(16) => "HUGEINT".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Time32(_) | DataType::Time64(_) => "TIME".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL".into(),
        DataType::List(field) | DataType::LargeList(field) => {
            format!("{}[]", sql_type_name(field.data_type()))
        }
        DataType::FixedSizeList(field, n) => format!("{}[{n}]", sql_type_name(field.data_type())),
        DataType::Struct(_) => "STRUCT".into(),
        DataType::Map(_, _) => "MAP".into(),
        DataType::Dictionary(_, value) => sql_type_name(value),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(shorten("abc".to_string()), ("abc".to_string(), false));
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_a_marker() {
        let text = "é".repeat(MAX_CELL_CHARS + 7);
        let (short, cut) = shorten(text);
        assert!(cut);
        assert!(short.ends_with("…[+7 chars]"), "{short}");
        assert_eq!(short.chars().filter(|c| *c == 'é').count(), MAX_CELL_CHARS);
    }
}
