//! Engine-neutral query results: columns, cells (text for people, JSON for
//! programs) and why a result stopped short.

use std::time::Duration;

/// Longest text kept in one cell; the rest is replaced by a visible marker.
pub const MAX_CELL_CHARS: usize = 500;

/// One column of a result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResultColumn {
    pub name: String,
    /// The engine's SQL name for the column's type (`BIGINT`, `TIMESTAMP`, `DECIMAL(10,2)`).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// One value, as shown to people and as JSON for programs.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Text for the table; `NULL` for a null.
    pub text: String,
    /// JSON for structured content where it is not the text itself: numbers
    /// stay numbers where JSON can hold them exactly, null stays null. `None`:
    /// the JSON is [`Cell::text`] as a string (kept once, not twice).
    pub json: Option<serde_json::Value>,
}

impl Cell {
    /// The cell's JSON, consuming it.
    pub fn into_json(self) -> serde_json::Value {
        self.json
            .unwrap_or_else(|| serde_json::Value::String(self.text))
    }
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

/// Shortens text past [`MAX_CELL_CHARS`] with a marker that says how much was cut.
pub fn shorten(text: String) -> (String, bool) {
    let Some((cut, _)) = text.char_indices().nth(MAX_CELL_CHARS) else {
        return (text, false);
    };
    let omitted = text[cut..].chars().count();
    (format!("{}…[+{omitted} chars]", &text[..cut]), true)
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
