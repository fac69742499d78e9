//! Running one checked query on a DuckDB connection and collecting a bounded
//! result.
//!
//! Rows are pulled from DuckDB's streaming Arrow result chunk by chunk and the
//! pull stops at the row cap (plus one row, to know there was more) or the byte
//! cap, so a `SELECT *` over a hundred-million-row table costs one chunk, not the
//! table. Stopping a running query (time limit, client cancellation) is the
//! session's canceller, which interrupts DuckDB; the error that follows is
//! classified by `Session::run`.

use std::time::Instant;

use duckdb::arrow::array::{Array, ArrayRef};
use duckdb::arrow::datatypes::DataType;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use duckdb::types::Value as DuckValue;
use duckdb::{Connection, params_from_iter};

use crate::engine::{
    Cell, CheckedQuery, Limits, Param, QueryError, QueryResult, ResultColumn, Truncation, shorten,
};

/// Runs `query` on `connection` and collects at most `limits` of its rows.
pub(super) fn collect(
    connection: &Connection,
    query: &CheckedQuery,
    limits: &Limits,
    max_temp_size: u64,
) -> Result<QueryResult, QueryError> {
    let started = Instant::now();
    let (columns, rows, truncated, cells_shortened) =
        pull(connection, query, limits).map_err(|e| sql_error(e, max_temp_size))?;
    Ok(QueryResult {
        columns,
        rows,
        truncated,
        cells_shortened,
        elapsed: started.elapsed(),
        cost: None,
    })
}

fn bind(param: &Param) -> DuckValue {
    match param {
        Param::Int(Some(n)) => DuckValue::BigInt(*n),
        Param::Text(Some(text)) => DuckValue::Text(text.clone()),
        Param::Int(None) | Param::Text(None) => DuckValue::Null,
    }
}

/// DuckDB's message, plus why, when the engine's lock-down refused the query.
fn sql_error(error: duckdb::Error, max_temp_size: u64) -> QueryError {
    let mut message = error.to_string();
    if message.contains("failed to offload data block") && max_temp_size > 0 {
        return QueryError::TempSpace {
            cap: human_bytes(max_temp_size),
        };
    }
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

/// `2.0 GB` for a message.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

type Collected = (Vec<ResultColumn>, Vec<Vec<Cell>>, Option<Truncation>, bool);

fn pull(
    connection: &Connection,
    query: &CheckedQuery,
    limits: &Limits,
) -> Result<Collected, duckdb::Error> {
    let mut statement = connection.prepare(query.sql())?;
    let stream = statement.stream_arrow(params_from_iter(query.params().iter().map(bind)))?;
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
                json: Some(serde_json::Value::Null),
            },
            false,
        );
    }
    let full = formatter.value(row).to_string();
    let json = json_number(array.data_type(), &full);
    let (text, shortened) = shorten(full);
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
        // `sum()` over integers is a 128-bit integer (a scale-0 decimal or a
        // HUGEINT on the way out): a number when it fits 64 bits, text when not.
        DataType::Decimal128(_, 0) | DataType::Decimal256(_, 0) | DataType::FixedSizeBinary(16) => {
            text.parse::<i64>().ok().map(Into::into)
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
