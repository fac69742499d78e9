//! Engine-neutral query results, and the builder every engine feeds them through.
//!
//! An engine names its columns ([`ResultBuilder::new`]), then hands over each row's
//! values one cell at a time, typed: [`ResultBuilder::null`], [`bool`](ResultBuilder::bool),
//! [`int`](ResultBuilder::int), [`uint`](ResultBuilder::uint), [`int128`](ResultBuilder::int128),
//! [`float`](ResultBuilder::float), [`decimal`](ResultBuilder::decimal),
//! [`text`](ResultBuilder::text), and [`display`](ResultBuilder::display) for anything
//! else (dates, times, lists), between [`ResultBuilder::begin_row`] and
//! [`ResultBuilder::end_row`]. The builder writes each value once, in one pass: into
//! the lines of a Markdown table (one growing buffer, no `String` per cell) and into
//! the JSON rows of the structured copy (numbers stay numbers where JSON holds them
//! exactly, null stays null). It enforces the row and byte caps, shortens long text
//! with a visible marker, and says why a result stopped short.
//!
//! This module decides how a value is written; it runs no queries, and the notes
//! around a table (truncation, shortened cells) are `format`'s.

use std::fmt::{self, Write as _};
use std::time::Duration;

use serde_json::Value;

use super::Limits;

/// Longest text kept in one cell; the rest is replaced by a visible marker.
pub const MAX_CELL_CHARS: usize = 500;

/// Significant digits that a JSON number read as a double keeps exactly: a decimal
/// with at most this precision is a number in JSON, a longer one stays text.
const EXACT_DECIMAL_DIGITS: u8 = 15;

/// Rows written before the builder reserves room for the rest, from their size.
const ROWS_BEFORE_RESERVING: usize = 8;
/// Row slots reserved at most ahead of time (a generous cap may never be reached).
const RESERVED_ROWS_AT_MOST: usize = 4096;

/// One column of a result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResultColumn {
    pub name: String,
    /// The engine's SQL name for the column's type (`BIGINT`, `TIMESTAMP`, `DECIMAL(10,2)`).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// Why a result stops short of the query's full answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// More rows than the row cap.
    Rows,
    /// The rows read so far reached the byte cap.
    Bytes,
}

/// A bounded query result, already written for both readers.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub columns: Vec<ResultColumn>,
    /// The Markdown table: a header line, the `---` line and one line per row,
    /// cells escaped (`|` → `\|`, line breaks → `\n`); empty when there are no columns.
    pub table: String,
    /// The rows as JSON arrays in column order.
    pub rows: Vec<Value>,
    pub truncated: Option<Truncation>,
    /// Whether some long cells were shortened.
    pub cells_shortened: bool,
    pub elapsed: Duration,
    /// What the query cost, on an engine that bills by bytes scanned (BigQuery); `None` locally.
    pub cost: Option<ScanCost>,
}

/// Bytes an engine that bills by scan processed and billed for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ScanCost {
    pub bytes_processed: u64,
    pub bytes_billed: u64,
    /// Whether the engine's result cache answered (nothing billed).
    pub cache_hit: bool,
}

impl QueryResult {
    /// Rows in the result.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }
}

/// Collects a [`QueryResult`] from typed cells; see the module's documentation.
///
/// Each row is `begin_row`, one call per column, `end_row`. When `begin_row` or
/// `end_row` answers `false` the result is full and the engine stops reading.
#[derive(Debug)]
pub struct ResultBuilder {
    columns: Vec<ResultColumn>,
    max_rows: usize,
    max_bytes: usize,
    table: String,
    /// Where the rows' lines start in `table` (after the header), for the byte cap.
    body_start: usize,
    /// Where the current row's line starts in `table`, to take it back.
    row_start: usize,
    rows: Vec<Value>,
    row: Vec<Value>,
    /// Reused for values written by their `Display`, so they need no allocation.
    scratch: String,
    truncated: Option<Truncation>,
    shortened: bool,
}

impl ResultBuilder {
    /// A builder for `columns`, bounded by `limits`' rows and bytes.
    pub fn new(columns: Vec<ResultColumn>, limits: &Limits) -> ResultBuilder {
        let mut table = String::with_capacity(4096);
        if !columns.is_empty() {
            push_row(&mut table, columns.iter().map(|c| c.name.as_str()));
            push_row(&mut table, columns.iter().map(|_| "---"));
        }
        let body_start = table.len();
        ResultBuilder {
            row: Vec::with_capacity(columns.len()),
            columns,
            max_rows: limits.max_rows,
            max_bytes: limits.max_bytes,
            table,
            body_start,
            row_start: body_start,
            rows: Vec::new(),
            scratch: String::new(),
            truncated: None,
            shortened: false,
        }
    }

    /// Starts a row; `false` when the row cap is already reached (the result is
    /// then truncated by rows, and the row must not be written).
    pub fn begin_row(&mut self) -> bool {
        if self.truncated.is_some() {
            return false;
        }
        if self.rows.len() >= self.max_rows {
            self.truncated = Some(Truncation::Rows);
            return false;
        }
        self.row_start = self.table.len();
        self.table.push('|');
        self.row.clear();
        true
    }

    /// Ends the row; `false` when it took the table past the byte cap: the row is
    /// then dropped (unless it is the first, which is kept whole) and the result
    /// is truncated by bytes.
    pub fn end_row(&mut self) -> bool {
        self.table.push('\n');
        let row = Value::Array(std::mem::replace(
            &mut self.row,
            Vec::with_capacity(self.columns.len()),
        ));
        if self.table.len() - self.body_start > self.max_bytes && !self.rows.is_empty() {
            self.table.truncate(self.row_start);
            self.truncated = Some(Truncation::Bytes);
            return false;
        }
        self.rows.push(row);
        if self.rows.len() == ROWS_BEFORE_RESERVING {
            // Room for the rows still to come at this size, within the byte cap:
            // one allocation instead of a copy at every doubling.
            let per_row = (self.table.len() - self.body_start) / ROWS_BEFORE_RESERVING;
            let expected = per_row.saturating_mul(self.max_rows).min(self.max_bytes);
            self.table
                .reserve(expected.saturating_sub(self.table.len()) + per_row);
            self.rows
                .reserve(self.max_rows.min(RESERVED_ROWS_AT_MOST) - self.rows.len());
        }
        true
    }

    /// Rows taken so far.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Records that the source holds rows past those taken, for an engine that
    /// knows without reading one more (a page token): once the row cap is
    /// reached, the result is truncated by rows.
    pub fn more_rows_follow(&mut self) {
        if self.truncated.is_none() && self.rows.len() >= self.max_rows {
            self.truncated = Some(Truncation::Rows);
        }
    }

    /// A composite value already in JSON (a BigQuery ARRAY or STRUCT): its compact
    /// JSON text in the table, the value itself in JSON; past [`MAX_CELL_CHARS`]
    /// it is shortened text in both, as any long text.
    pub fn json(&mut self, value: Value) {
        let text = value.to_string();
        if cut_point(&text).is_some() {
            return self.text(&text);
        }
        self.table.push(' ');
        push_escaped(&mut self.table, &text);
        self.table.push_str(" |");
        self.row.push(value);
    }

    /// A null: `NULL` in the table, `null` in JSON.
    pub fn null(&mut self) {
        self.cell_raw("NULL");
        self.row.push(Value::Null);
    }

    pub fn bool(&mut self, value: bool) {
        self.cell_raw(if value { "true" } else { "false" });
        self.row.push(Value::Bool(value));
    }

    pub fn int(&mut self, value: i64) {
        self.cell_raw(itoa::Buffer::new().format(value));
        self.row.push(Value::from(value));
    }

    pub fn uint(&mut self, value: u64) {
        self.cell_raw(itoa::Buffer::new().format(value));
        self.row.push(Value::from(value));
    }

    /// A 128-bit integer (a `HUGEINT`, a `sum` over integers): a JSON number
    /// when it fits 64 bits, its digits as text when not.
    pub fn int128(&mut self, value: i128) {
        let mut digits = itoa::Buffer::new();
        let text = digits.format(value);
        self.cell_raw(text);
        self.row.push(match i64::try_from(value) {
            Ok(small) => Value::from(small),
            Err(_) => Value::String(text.to_string()),
        });
    }

    /// A double: shortest round-trip digits in both; NaN and infinities are text in JSON.
    pub fn float(&mut self, value: f64) {
        self.cell_raw(ryu::Buffer::new().format(value));
        self.row.push(match serde_json::Number::from_f64(value) {
            Some(number) => Value::Number(number),
            None => Value::String(ryu::Buffer::new().format(value).to_string()),
        });
    }

    /// A single-precision float, by its own shortest digits (`0.1`, not `0.100000001`).
    pub fn float32(&mut self, value: f32) {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format(value);
        self.cell_raw(text);
        self.row.push(
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(text.to_string()), Value::Number),
        );
    }

    /// An exact decimal, `unscaled / 10^scale`, of `precision` digits: written
    /// with its scale's digits in the table (`12.50`); a JSON number when a double
    /// holds it exactly, its digits as text when not.
    pub fn decimal(&mut self, unscaled: i128, precision: u8, scale: i8) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        write_decimal(&mut scratch, unscaled, scale);
        self.cell_raw(&scratch);
        self.row.push(if scale <= 0 {
            match i64::try_from(unscaled) {
                Ok(_) if scale == 0 => Value::from(unscaled as i64),
                _ => Value::String(scratch.clone()),
            }
        } else if precision <= EXACT_DECIMAL_DIGITS {
            scratch
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(scratch.clone()), Value::Number)
        } else {
            Value::String(scratch.clone())
        });
        self.scratch = scratch;
    }

    /// Text: escaped in the table, a JSON string; past [`MAX_CELL_CHARS`] both
    /// are shortened with a marker saying how much was cut.
    pub fn text(&mut self, value: &str) {
        self.table.push(' ');
        match cut_point(value) {
            None => {
                push_escaped(&mut self.table, value);
                self.row.push(Value::String(value.to_string()));
            }
            Some(cut) => {
                self.shortened = true;
                let omitted = value[cut..].chars().count();
                let mut short = String::with_capacity(cut + 24);
                short.push_str(&value[..cut]);
                let _ = write!(short, "…[+{omitted} chars]");
                push_escaped(&mut self.table, &short);
                self.row.push(Value::String(short));
            }
        }
        self.table.push_str(" |");
    }

    /// Any other value by its `Display` (dates, times, intervals, lists): text in both.
    pub fn display(&mut self, value: impl fmt::Display) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let _ = write!(scratch, "{value}");
        self.text(&scratch);
        self.scratch = scratch;
    }

    /// Writes a cell's text that needs no escaping and is never long.
    fn cell_raw(&mut self, text: &str) {
        self.table.push(' ');
        self.table.push_str(text);
        self.table.push_str(" |");
    }

    /// The result, with how long it took to collect.
    pub fn finish(self, elapsed: Duration) -> QueryResult {
        QueryResult {
            columns: self.columns,
            table: self.table,
            rows: self.rows,
            truncated: self.truncated,
            cells_shortened: self.shortened,
            elapsed,
            cost: None,
        }
    }
}

/// Where text past [`MAX_CELL_CHARS`] characters is cut, if it is that long.
fn cut_point(text: &str) -> Option<usize> {
    // Fewer bytes than the limit means fewer characters too: no need to count.
    if text.len() <= MAX_CELL_CHARS {
        return None;
    }
    text.char_indices().nth(MAX_CELL_CHARS).map(|(at, _)| at)
}

/// `unscaled / 10^scale` with exactly `scale` digits after the point.
fn write_decimal(out: &mut String, unscaled: i128, scale: i8) {
    let mut digits = itoa::Buffer::new();
    let all = digits.format(unscaled.unsigned_abs());
    if unscaled < 0 {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(all);
        for _ in 0..(-(scale as i16)) {
            out.push('0');
        }
        return;
    }
    let scale = scale as usize;
    if all.len() <= scale {
        out.push_str("0.");
        for _ in all.len()..scale {
            out.push('0');
        }
        out.push_str(all);
    } else {
        let (whole, fraction) = all.split_at(all.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    }
}

/// A Markdown table cell's text: pipes and line breaks inside a value would break
/// the table, so `|` becomes `\|`, a newline `\n`, and a carriage return goes.
pub fn push_escaped(out: &mut String, cell: &str) {
    // Bytes, not chars: these three are ASCII, and a byte scan is what a
    // 16,000-cell result can afford per cell.
    if !cell.bytes().any(|b| matches!(b, b'|' | b'\n' | b'\r')) {
        out.push_str(cell);
        return;
    }
    for c in cell.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
}

/// One Markdown table line of `cells`, escaped.
pub fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        push_escaped(out, cell);
        out.push_str(" |");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(max_rows: usize, max_bytes: usize) -> Limits {
        Limits {
            max_rows,
            max_bytes,
            timeout: Duration::from_secs(1),
        }
    }

    fn column(name: &str) -> ResultColumn {
        ResultColumn {
            name: name.into(),
            type_name: "VARCHAR".into(),
        }
    }

    fn texts(values: &[&str], limits: &Limits) -> QueryResult {
        let mut builder = ResultBuilder::new(vec![column("value")], limits);
        for value in values {
            if !builder.begin_row() {
                break;
            }
            builder.text(value);
            if !builder.end_row() {
                break;
            }
        }
        builder.finish(Duration::ZERO)
    }

    #[test]
    fn short_text_is_kept_whole() {
        let result = texts(&["abc"], &limits(10, 1000));
        assert_eq!(result.table, "| value |\n| --- |\n| abc |\n");
        assert_eq!(result.rows[0][0], "abc");
        assert!(!result.cells_shortened);
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_a_marker() {
        let text = "é".repeat(MAX_CELL_CHARS + 7);
        let result = texts(&[&text], &limits(10, 100_000));
        assert!(result.cells_shortened);
        let json = result.rows[0][0].as_str().expect("text");
        assert!(json.ends_with("…[+7 chars]"), "{json}");
        assert_eq!(json.chars().filter(|c| *c == 'é').count(), MAX_CELL_CHARS);
        assert!(result.table.contains("…[+7 chars] |"));
    }

    #[test]
    fn exactly_the_limit_is_not_cut() {
        let text = "é".repeat(MAX_CELL_CHARS);
        assert!(!texts(&[&text], &limits(10, 100_000)).cells_shortened);
    }

    #[test]
    fn pipes_and_newlines_are_escaped_in_the_table_only() {
        let result = texts(&["a|b\r\nc"], &limits(10, 1000));
        assert!(result.table.contains("| a\\|b\\nc |"), "{}", result.table);
        assert_eq!(result.rows[0][0], "a|b\r\nc");
    }

    #[test]
    fn the_row_cap_stops_before_the_extra_row() {
        let result = texts(&["a", "b", "c"], &limits(2, 1000));
        assert_eq!(result.row_count(), 2);
        assert_eq!(result.truncated, Some(Truncation::Rows));
        assert_eq!(result.table.lines().count(), 4);
    }

    #[test]
    fn the_byte_cap_takes_back_the_row_that_crossed_it() {
        let result = texts(&["aaaa", "bbbb", "cccc"], &limits(10, 20));
        assert_eq!(result.row_count(), 2);
        assert_eq!(result.truncated, Some(Truncation::Bytes));
        assert!(!result.table.contains("cccc"), "{}", result.table);
        assert!(result.table.ends_with("| bbbb |\n"), "{}", result.table);
        // The first row is kept even when it alone is over the cap.
        let one = texts(&["a long first row"], &limits(10, 3));
        assert_eq!(one.row_count(), 1);
    }

    #[test]
    fn numbers_stay_numbers_where_json_holds_them() {
        let mut builder = ResultBuilder::new(
            [
                "i", "u", "h", "big", "f", "nan", "d", "wide", "neg", "tiny", "t",
            ]
            .iter()
            .map(|n| column(n))
            .collect(),
            &limits(10, 10_000),
        );
        assert!(builder.begin_row());
        builder.int(-9_007_199_254_740_993);
        builder.uint(u64::MAX);
        builder.int128(6);
        builder.int128(i128::MAX);
        builder.float(1.0);
        builder.float(f64::NAN);
        builder.decimal(1_234_567, 10, 2);
        builder.decimal(12_345_678_901_234_567_890, 38, 2);
        builder.decimal(-5, 4, 2);
        builder.float32(0.1);
        builder.bool(true);
        assert!(builder.end_row());
        let result = builder.finish(Duration::ZERO);
        let row = &result.rows[0];
        assert_eq!(row[0], serde_json::json!(-9_007_199_254_740_993_i64));
        assert_eq!(row[1], serde_json::json!(u64::MAX));
        assert_eq!(row[2], serde_json::json!(6));
        assert_eq!(row[3], "170141183460469231731687303715884105727");
        assert_eq!(row[4], serde_json::json!(1.0));
        assert_eq!(row[5], "NaN");
        assert_eq!(row[6], serde_json::json!(12345.67));
        assert_eq!(row[7], "123456789012345678.90");
        assert_eq!(row[8], serde_json::json!(-0.05));
        assert_eq!(row[9], serde_json::json!(0.1));
        assert_eq!(row[10], true);
        assert!(
            result.table.contains(
                "| -9007199254740993 | 18446744073709551615 | 6 | 170141183460469231731687303715884105727 | 1.0 | NaN | 12345.67 | 123456789012345678.90 | -0.05 | 0.1 | true |"
            ),
            "{}",
            result.table
        );
    }

    #[test]
    fn decimals_keep_their_scale_in_the_table() {
        for (unscaled, scale, text) in [
            (1250, 2, "12.50"),
            (5, 3, "0.005"),
            (-1, 1, "-0.1"),
            (0, 2, "0.00"),
            (7, 0, "7"),
            (7, -2, "700"),
        ] {
            let mut out = String::new();
            write_decimal(&mut out, unscaled, scale);
            assert_eq!(out, text, "{unscaled} scale {scale}");
        }
    }

    #[test]
    fn null_is_null_in_json_and_visible_in_text() {
        let mut builder = ResultBuilder::new(vec![column("n")], &limits(10, 1000));
        builder.begin_row();
        builder.null();
        builder.end_row();
        let result = builder.finish(Duration::ZERO);
        assert!(result.table.contains("| NULL |"));
        assert!(result.rows[0][0].is_null());
    }

    proptest! {
        #[test]
        fn any_text_renders_one_table_line_per_row(values in proptest::collection::vec(".*", 0..20)) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let result = texts(&values, &limits(100, 1_000_000));
            prop_assert_eq!(result.table.lines().count(), values.len() + 2);
            prop_assert_eq!(result.row_count(), values.len());
            for (row, value) in result.rows.iter().zip(&values) {
                if value.chars().count() <= MAX_CELL_CHARS {
                    prop_assert_eq!(row[0].as_str(), Some(*value));
                }
            }
        }
    }
}
