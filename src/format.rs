//! Query results → a compact text table for the model and structured content
//! for programs, with a note when a result was cut short.
//!
//! The table is Markdown: models read it well, it does not repeat column names
//! per row the way JSON objects would, and Claude Desktop renders it. Its lines
//! and the JSON rows arrive already written by the engine's `ResultBuilder`;
//! this module adds the notes and the structured envelope, and runs no queries.

use serde_json::{Value, json};

use crate::engine::{QueryResult, ScanCost, Truncation};

pub use crate::engine::push_row;

/// A rendered result.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Markdown table plus notes: what the model reads.
    pub text: String,
    /// `{columns, types, rows, row_count, truncated, truncated_by?, elapsed_ms}`:
    /// the same rows for programs. `columns` and `types` give each column's name
    /// and SQL type once; `rows` are arrays in column order (no key repeated per
    /// row), numbers stay numbers where JSON holds them exactly and null stays
    /// null; `truncated_by` (`rows` or `bytes`) is there only when `truncated` is true.
    pub structured: Value,
}

/// Renders `result`, consuming it (its table and rows move into the output);
/// `max_rows` and `max_bytes` are named in truncation notes.
pub fn render(result: QueryResult, max_rows: usize, max_bytes: usize) -> Rendered {
    let QueryResult {
        columns,
        table: mut text,
        rows,
        truncated,
        cells_shortened,
        elapsed,
        cost,
    } = result;
    let count = rows.len();
    text.reserve(400);
    if columns.is_empty() {
        text.push_str("(the statement returned no columns)\n");
    }
    text.push('\n');
    match truncated {
        None => text.push_str(&format!(
            "{count} row{}\n",
            if count == 1 { "" } else { "s" }
        )),
        Some(Truncation::Rows) => text.push_str(&format!(
            "Result truncated: showing the first {count} rows (row limit {max_rows}); the query \
             returns more. Aggregate in SQL (COUNT, GROUP BY, AVG) or filter with WHERE to get \
             the answer instead of the raw rows.\n"
        )),
        Some(Truncation::Bytes) => text.push_str(&format!(
            "Result truncated: showing the first {count} rows, which reach the size limit of \
             {max_bytes} bytes; the query returns more. Select fewer columns, aggregate in SQL, \
             or filter with WHERE.\n"
        )),
    }
    if cells_shortened {
        text.push_str(
            "Some long text values were shortened (marked …[+N chars]); select substr(column, \
             start, length) to read a part in full.\n",
        );
    }
    if let Some(cost) = &cost {
        text.push_str(&cost_line(cost));
    }
    // Built by hand: `json!` would copy the rows through `to_value`.
    let mut structured = serde_json::Map::with_capacity(7);
    let (names, types): (Vec<Value>, Vec<Value>) = columns
        .into_iter()
        .map(|c| (Value::String(c.name), Value::String(c.type_name)))
        .unzip();
    structured.insert("columns".into(), Value::Array(names));
    structured.insert("types".into(), Value::Array(types));
    structured.insert("rows".into(), Value::Array(rows));
    structured.insert("row_count".into(), json!(count));
    structured.insert("truncated".into(), json!(truncated.is_some()));
    match truncated {
        None => {}
        Some(Truncation::Rows) => {
            structured.insert("truncated_by".into(), json!("rows"));
        }
        Some(Truncation::Bytes) => {
            structured.insert("truncated_by".into(), json!("bytes"));
        }
    }
    // Microseconds are all a reader can use; more digits only cost bytes.
    let elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    structured.insert("elapsed_ms".into(), json!(elapsed_ms));
    if let Some(cost) = cost {
        structured.insert("bytes_processed".into(), json!(cost.bytes_processed));
        structured.insert("bytes_billed".into(), json!(cost.bytes_billed));
        structured.insert("cache_hit".into(), json!(cost.cache_hit));
    }
    Rendered {
        text,
        structured: Value::Object(structured),
    }
}

/// One line on what a billed-by-scan query cost.
fn cost_line(cost: &ScanCost) -> String {
    if cost.cache_hit {
        return "Answered from BigQuery's result cache: nothing processed or billed.\n".to_string();
    }
    format!(
        "BigQuery processed {} and billed {}.\n",
        decimal_size(cost.bytes_processed),
        decimal_size(cost.bytes_billed)
    )
}

/// `12.3 GB` (powers of 1000, as BigQuery bills and as the temp-space cap is named).
pub fn decimal_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Limits, ResultBuilder, ResultColumn};
    use std::time::Duration;

    fn result(cells: Vec<Option<&str>>, max_rows: usize) -> QueryResult {
        let limits = Limits {
            max_rows,
            max_bytes: 1_000_000,
            timeout: Duration::from_secs(1),
        };
        let mut builder = ResultBuilder::new(
            vec![ResultColumn {
                name: "value".into(),
                type_name: "VARCHAR".into(),
            }],
            &limits,
        );
        for cell in cells {
            if !builder.begin_row() {
                break;
            }
            match cell {
                Some(text) => builder.text(text),
                None => builder.null(),
            }
            builder.end_row();
        }
        builder.finish(Duration::from_millis(1))
    }

    #[test]
    fn pipes_and_newlines_do_not_break_the_table() {
        let rendered = render(result(vec![Some("a|b\nc")], 10), 10, 1000);
        assert!(rendered.text.contains("| a\\|b\\nc |"), "{}", rendered.text);
        assert_eq!(rendered.structured["rows"][0][0], "a|b\nc");
    }

    #[test]
    fn truncation_is_said_in_text_and_structure() {
        let rendered = render(result(vec![Some("x"), Some("y")], 1), 1, 1000);
        assert!(rendered.text.contains("Result truncated"));
        assert!(rendered.text.contains("Aggregate in SQL"));
        assert_eq!(rendered.structured["truncated"], true);
        assert_eq!(rendered.structured["truncated_by"], "rows");
        assert_eq!(rendered.structured["row_count"], 1);
    }

    #[test]
    fn columns_are_named_once_and_rows_are_arrays() {
        let rendered = render(result(vec![None, Some("z")], 10), 10, 1000);
        assert!(
            rendered
                .text
                .starts_with("| value |\n| --- |\n| NULL |\n| z |\n")
        );
        assert_eq!(rendered.structured["columns"], json!(["value"]));
        assert_eq!(rendered.structured["types"], json!(["VARCHAR"]));
        assert!(rendered.structured.get("truncated_by").is_none());
        assert_eq!(rendered.structured["rows"], json!([[null], ["z"]]));
        assert!(rendered.text.ends_with("\n2 rows\n"), "{}", rendered.text);
    }
}
