//! Query results → a compact text table for the model and structured content
//! for programs, with a note when a result was cut short.
//!
//! The table is Markdown: models read it well, it does not repeat column names
//! per row the way JSON objects would, and Claude Desktop renders it. This module
//! runs no queries.

use serde_json::json;

use crate::engine::{Cell, QueryResult, ScanCost, Truncation};

/// A rendered result.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Markdown table plus notes.
    pub text: String,
    /// `{columns, rows, row_count, truncated, truncated_by}`; rows are arrays in
    /// column order, so keys are not repeated per row.
    pub structured: serde_json::Value,
}

/// Renders `result`, consuming it (cells move into the structured copy);
/// `max_rows` and `max_bytes` are named in truncation notes.
pub fn render(result: QueryResult, max_rows: usize, max_bytes: usize) -> Rendered {
    let cells: usize = result
        .rows
        .iter()
        .map(|row| row.iter().map(|c| c.text.len() + 3).sum::<usize>())
        .sum();
    let mut text = String::with_capacity(cells + 64 * (result.columns.len() + 1) + 256);
    if result.columns.is_empty() {
        text.push_str("(the statement returned no columns)\n");
    } else {
        push_row(&mut text, result.columns.iter().map(|c| c.name.as_str()));
        push_row(&mut text, result.columns.iter().map(|_| "---"));
        for row in &result.rows {
            push_row(&mut text, row.iter().map(|cell| cell.text.as_str()));
        }
    }
    let count = result.rows.len();
    text.push('\n');
    match result.truncated {
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
    if result.cells_shortened {
        text.push_str(
            "Some long text values were shortened (marked …[+N chars]); select substr(column, \
             start, length) to read a part in full.\n",
        );
    }
    if let Some(cost) = &result.cost {
        text.push_str(&cost_line(cost));
    }
    let mut structured = json!({
        "columns": result.columns,
        "rows": result.rows.into_iter()
            .map(|row| row.into_iter().map(Cell::into_json).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        "row_count": count,
        "truncated": result.truncated.is_some(),
        "truncated_by": match result.truncated {
            None => serde_json::Value::Null,
            Some(Truncation::Rows) => json!("rows"),
            Some(Truncation::Bytes) => json!("bytes"),
        },
        "elapsed_ms": result.elapsed.as_secs_f64() * 1000.0,
    });
    if let Some(cost) = result.cost {
        structured["bytes_processed"] = json!(cost.bytes_processed);
        structured["bytes_billed"] = json!(cost.bytes_billed);
        structured["cache_hit"] = json!(cost.cache_hit);
    }
    Rendered { text, structured }
}

/// One Markdown table row; pipes and line breaks inside a value would break
/// the table, so they are escaped.
pub fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        if !cell.contains(['|', '\n', '\r']) {
            out.push_str(cell);
            out.push_str(" |");
            continue;
        }
        for c in cell.chars() {
            match c {
                '|' => out.push_str("\\|"),
                '\n' => out.push_str("\\n"),
                '\r' => {}
                c => out.push(c),
            }
        }
        out.push_str(" |");
    }
    out.push('\n');
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

/// `12.3 GB` (powers of 1000, as BigQuery bills).
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
    use crate::engine::ResultColumn;
    use proptest::prelude::*;
    use std::time::Duration;

    fn result(cells: Vec<Option<String>>, truncated: Option<Truncation>) -> QueryResult {
        QueryResult {
            columns: vec![ResultColumn {
                name: "value".into(),
                type_name: "VARCHAR".into(),
            }],
            rows: cells
                .into_iter()
                .map(|cell| {
                    vec![match cell {
                        Some(text) => Cell { json: None, text },
                        None => Cell {
                            text: "NULL".into(),
                            json: Some(serde_json::Value::Null),
                        },
                    }]
                })
                .collect(),
            truncated,
            cost: None,
            cells_shortened: false,
            elapsed: Duration::from_millis(1),
        }
    }

    #[test]
    fn pipes_and_newlines_do_not_break_the_table() {
        let rendered = render(result(vec![Some("a|b\nc".into())], None), 10, 1000);
        assert!(rendered.text.contains("| a\\|b\\nc |"), "{}", rendered.text);
        assert_eq!(rendered.structured["rows"][0][0], "a|b\nc");
    }

    #[test]
    fn truncation_is_said_in_text_and_structure() {
        let rendered = render(
            result(vec![Some("x".into())], Some(Truncation::Rows)),
            1,
            1000,
        );
        assert!(rendered.text.contains("Result truncated"));
        assert!(rendered.text.contains("Aggregate in SQL"));
        assert_eq!(rendered.structured["truncated"], true);
        assert_eq!(rendered.structured["truncated_by"], "rows");
    }

    #[test]
    fn null_is_null_in_json_and_visible_in_text() {
        let rendered = render(result(vec![None], None), 10, 1000);
        assert!(rendered.text.contains("| NULL |"));
        assert!(rendered.structured["rows"][0][0].is_null());
    }

    proptest! {
        #[test]
        fn any_text_renders_one_table_line_per_row(values in proptest::collection::vec(proptest::option::of(".*"), 0..20)) {
            let rows = values.len();
            let rendered = render(result(values, None), 100, 1_000_000);
            let table_lines = rendered.text.lines().filter(|l| l.starts_with('|')).count();
            prop_assert_eq!(table_lines, rows + 2);
            prop_assert_eq!(rendered.structured["row_count"].as_u64(), Some(rows as u64));
        }
    }
}
