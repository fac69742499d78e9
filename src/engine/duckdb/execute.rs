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

use std::fmt;

use duckdb::arrow::array::{
    Array, AsArray, BooleanArray, LargeStringArray, StringArray, StringViewArray,
};
use duckdb::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use duckdb::types::Value as DuckValue;
use duckdb::{Connection, params_from_iter};

use crate::engine::{
    CheckedQuery, Limits, Param, QueryError, QueryResult, ResultBuilder, ResultColumn,
};

/// Runs `query` on `connection` and collects at most `limits` of its rows.
pub(super) fn collect(
    connection: &Connection,
    query: &CheckedQuery,
    limits: &Limits,
    max_temp_size: u64,
) -> Result<QueryResult, QueryError> {
    pull(connection, query, limits, Instant::now()).map_err(|e| sql_error(e, max_temp_size))
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
            cap: crate::format::decimal_size(max_temp_size),
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

fn pull(
    connection: &Connection,
    query: &CheckedQuery,
    limits: &Limits,
    started: Instant,
) -> Result<QueryResult, duckdb::Error> {
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
    let mut builder = ResultBuilder::new(columns, limits);
    'batches: for batch in stream {
        let batch = batch?;
        let readers = batch
            .columns()
            .iter()
            .map(|array| Reader::new(array.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))?;
        for row in 0..batch.num_rows() {
            if !builder.begin_row() {
                break 'batches;
            }
            for reader in &readers {
                reader.write(row, &mut builder);
            }
            if !builder.end_row() {
                break 'batches;
            }
        }
    }
    Ok(builder.finish(started.elapsed()))
}

/// One column of an Arrow batch, read by its type: the common types straight
/// from their buffers, the rest through Arrow's display.
enum Reader<'a> {
    /// A column of nulls (a NullArray has no validity bitmap to ask).
    Null,
    Bool(&'a BooleanArray),
    Int(&'a dyn Array, Ints<'a>),
    UInt(&'a dyn Array, UInts<'a>),
    Float32(&'a dyn Array, &'a [f32]),
    Float64(&'a dyn Array, &'a [f64]),
    Decimal(&'a dyn Array, &'a [i128], u8, i8),
    Text(&'a StringArray),
    LargeText(&'a LargeStringArray),
    TextView(&'a StringViewArray),
    /// Days since 1970; Arrow's display for years outside 0..=9999.
    Date(&'a dyn Array, &'a [i32], ArrayFormatter<'a>),
    /// A timestamp without time zone, in units per second; Arrow's display for
    /// years outside 0..=9999.
    Timestamp(&'a dyn Array, &'a [i64], i64, ArrayFormatter<'a>),
    Other(&'a dyn Array, ArrayFormatter<'a>),
}

enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

enum UInts<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> Reader<'a> {
    fn new(array: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Reader<'a>, ArrowError> {
        Ok(match array.data_type() {
            DataType::Null => Reader::Null,
            DataType::Boolean => Reader::Bool(array.as_boolean()),
            DataType::Int8 => {
                Reader::Int(array, Ints::I8(array.as_primitive::<Int8Type>().values()))
            }
            DataType::Int16 => {
                Reader::Int(array, Ints::I16(array.as_primitive::<Int16Type>().values()))
            }
            DataType::Int32 => {
                Reader::Int(array, Ints::I32(array.as_primitive::<Int32Type>().values()))
            }
            DataType::Int64 => {
                Reader::Int(array, Ints::I64(array.as_primitive::<Int64Type>().values()))
            }
            DataType::UInt8 => {
                Reader::UInt(array, UInts::U8(array.as_primitive::<UInt8Type>().values()))
            }
            DataType::UInt16 => Reader::UInt(
                array,
                UInts::U16(array.as_primitive::<UInt16Type>().values()),
            ),
            DataType::UInt32 => Reader::UInt(
                array,
                UInts::U32(array.as_primitive::<UInt32Type>().values()),
            ),
            DataType::UInt64 => Reader::UInt(
                array,
                UInts::U64(array.as_primitive::<UInt64Type>().values()),
            ),
            DataType::Float32 => {
                Reader::Float32(array, array.as_primitive::<Float32Type>().values())
            }
            DataType::Float64 => {
                Reader::Float64(array, array.as_primitive::<Float64Type>().values())
            }
            DataType::Decimal128(precision, scale) => Reader::Decimal(
                array,
                array.as_primitive::<Decimal128Type>().values(),
                *precision,
                *scale,
            ),
            DataType::Utf8 => Reader::Text(array.as_string::<i32>()),
            DataType::LargeUtf8 => Reader::LargeText(array.as_string::<i64>()),
            DataType::Utf8View => Reader::TextView(array.as_string_view()),
            DataType::Date32 => Reader::Date(
                array,
                array.as_primitive::<Date32Type>().values(),
                ArrayFormatter::try_new(array, options)?,
            ),
            DataType::Timestamp(unit, None) => {
                let (values, per_second) = match unit {
                    TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().values(), 1),
                    TimeUnit::Millisecond => (
                        array.as_primitive::<TimestampMillisecondType>().values(),
                        1_000,
                    ),
                    TimeUnit::Microsecond => (
                        array.as_primitive::<TimestampMicrosecondType>().values(),
                        1_000_000,
                    ),
                    TimeUnit::Nanosecond => (
                        array.as_primitive::<TimestampNanosecondType>().values(),
                        1_000_000_000,
                    ),
                };
                Reader::Timestamp(
                    array,
                    values,
                    per_second,
                    ArrayFormatter::try_new(array, options)?,
                )
            }
            _ => Reader::Other(array, ArrayFormatter::try_new(array, options)?),
        })
    }

    fn write(&self, row: usize, out: &mut ResultBuilder) {
        let null = |array: &dyn Array| array.is_null(row);
        match self {
            Reader::Null => out.null(),
            Reader::Bool(array) if array.is_null(row) => out.null(),
            Reader::Bool(array) => out.bool(array.value(row)),
            Reader::Int(array, _)
            | Reader::UInt(array, _)
            | Reader::Float32(array, _)
            | Reader::Float64(array, _)
            | Reader::Decimal(array, ..)
            | Reader::Date(array, ..)
            | Reader::Timestamp(array, ..)
            | Reader::Other(array, _)
                if null(*array) =>
            {
                out.null()
            }
            Reader::Int(_, values) => out.int(match values {
                Ints::I8(v) => v[row].into(),
                Ints::I16(v) => v[row].into(),
                Ints::I32(v) => v[row].into(),
                Ints::I64(v) => v[row],
            }),
            Reader::UInt(_, values) => out.uint(match values {
                UInts::U8(v) => v[row].into(),
                UInts::U16(v) => v[row].into(),
                UInts::U32(v) => v[row].into(),
                UInts::U64(v) => v[row],
            }),
            Reader::Float32(_, values) => out.float32(values[row]),
            Reader::Float64(_, values) => out.float(values[row]),
            Reader::Decimal(_, values, precision, scale) => {
                out.decimal(values[row], *precision, *scale)
            }
            Reader::Text(array) if array.is_null(row) => out.null(),
            Reader::Text(array) => out.text(array.value(row)),
            Reader::LargeText(array) if array.is_null(row) => out.null(),
            Reader::LargeText(array) => out.text(array.value(row)),
            Reader::TextView(array) if array.is_null(row) => out.null(),
            Reader::TextView(array) => out.text(array.value(row)),
            Reader::Date(_, days, formatter) => match Civil::date(days[row].into()) {
                civil if civil.in_range() => out.text(civil.write(&mut [0; 32])),
                _ => out.display(formatter.value(row)),
            },
            Reader::Timestamp(_, values, per_second, formatter) => {
                match Civil::timestamp(values[row], *per_second) {
                    civil if civil.in_range() => out.text(civil.write(&mut [0; 32])),
                    _ => out.display(formatter.value(row)),
                }
            }
            Reader::Other(_, formatter) => out.display(formatter.value(row)),
        }
    }
}

/// A calendar date, and a time of day when it is a timestamp, written as
/// DuckDB writes them (`2180-07-23`, `2180-07-23 14:05:06`, `… 14:05:06.250`):
/// fractional seconds only when there are some, in 3, 6 or 9 digits.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    /// Seconds into the day and nanoseconds, for a timestamp.
    time: Option<(u32, u32)>,
}

impl Civil {
    fn date(days: i64) -> Civil {
        let (year, month, day) = crate::civil::from_days(days);
        Civil {
            year,
            month,
            day,
            time: None,
        }
    }

    fn timestamp(value: i64, per_second: i64) -> Civil {
        let seconds = value.div_euclid(per_second);
        let nanos = (value.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
        let mut civil = Civil::date(seconds.div_euclid(86_400));
        civil.time = Some((seconds.rem_euclid(86_400) as u32, nanos));
        civil
    }

    /// Whether the year has four digits (the others are left to Arrow's display).
    fn in_range(&self) -> bool {
        (0..=9999).contains(&self.year)
    }
}

impl Civil {
    /// Writes the value into `buffer` digit by digit (the formatting machinery
    /// costs more than the digits on a 1000-row result) and returns it.
    fn write<'b>(&self, buffer: &'b mut [u8; 32]) -> &'b str {
        fn digits(buffer: &mut [u8; 32], at: &mut usize, value: u32, width: u32) {
            let mut divisor = 10u32.pow(width - 1);
            for _ in 0..width {
                buffer[*at] = b'0' + (value / divisor % 10) as u8;
                divisor /= 10;
                *at += 1;
            }
        }
        fn byte(buffer: &mut [u8; 32], at: &mut usize, b: u8) {
            buffer[*at] = b;
            *at += 1;
        }
        let mut at = 0;
        // `in_range` holds, so the year has four digits.
        digits(buffer, &mut at, self.year as u32, 4);
        byte(buffer, &mut at, b'-');
        digits(buffer, &mut at, self.month, 2);
        byte(buffer, &mut at, b'-');
        digits(buffer, &mut at, self.day, 2);
        if let Some((seconds, nanos)) = self.time {
            byte(buffer, &mut at, b' ');
            digits(buffer, &mut at, seconds / 3600, 2);
            byte(buffer, &mut at, b':');
            digits(buffer, &mut at, seconds / 60 % 60, 2);
            byte(buffer, &mut at, b':');
            digits(buffer, &mut at, seconds % 60, 2);
            if nanos != 0 {
                byte(buffer, &mut at, b'.');
                if nanos % 1_000_000 == 0 {
                    digits(buffer, &mut at, nanos / 1_000_000, 3);
                } else if nanos % 1_000 == 0 {
                    digits(buffer, &mut at, nanos / 1_000, 6);
                } else {
                    digits(buffer, &mut at, nanos, 9);
                }
            }
        }
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&buffer[..at]).unwrap_or_default()
    }
}

impl fmt::Display for Civil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write(&mut [0; 32]))
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

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::arrow::array::{Date32Array, TimestampMicrosecondArray, TimestampNanosecondArray};
    use proptest::prelude::*;

    fn options() -> FormatOptions<'static> {
        FormatOptions::default()
            .with_null("NULL")
            .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    }

    #[test]
    fn fractions_appear_only_when_there_are_some() {
        assert_eq!(
            Civil::timestamp(0, 1_000_000).to_string(),
            "1970-01-01 00:00:00"
        );
        assert_eq!(
            Civil::timestamp(250_000, 1_000_000).to_string(),
            "1970-01-01 00:00:00.250"
        );
        assert_eq!(
            Civil::timestamp(-1, 1_000_000).to_string(),
            "1969-12-31 23:59:59.999999"
        );
        assert_eq!(Civil::date(-719_528).to_string(), "0000-01-01");
    }

    proptest! {
        /// The fast path writes what Arrow's (chrono's) display writes.
        #[test]
        fn dates_and_timestamps_match_arrows_display(
            micros in -62_167_219_200_000_000_i64..253_402_300_799_999_999,
            nanos in -9_000_000_000_000_000_000_i64..9_000_000_000_000_000_000,
            days in -719_528_i32..2_932_896,
        ) {
            let options = options();
            // Whole seconds and milliseconds too, whose fractions are written shorter.
            for micros in [micros, micros - micros % 1_000, micros - micros % 1_000_000] {
                let micro_array = TimestampMicrosecondArray::from(vec![micros]);
                let arrow = ArrayFormatter::try_new(&micro_array, &options).unwrap().value(0).to_string();
                prop_assert_eq!(Civil::timestamp(micros, 1_000_000).to_string(), arrow);
            }
            let nano_array = TimestampNanosecondArray::from(vec![nanos]);
            let arrow = ArrayFormatter::try_new(&nano_array, &options).unwrap().value(0).to_string();
            prop_assert_eq!(Civil::timestamp(nanos, 1_000_000_000).to_string(), arrow);
            let date_array = Date32Array::from(vec![days]);
            let arrow = ArrayFormatter::try_new(&date_array, &options).unwrap().value(0).to_string();
            prop_assert_eq!(Civil::date(days.into()).to_string(), arrow);
        }
    }
}
