//! BigQuery's `f`/`v` rows → m4's [`ResultBuilder`], the one place BigQuery values
//! are turned into result cells (so a change in how results are built is made here).
//!
//! Every GoogleSQL type keeps its meaning: integers and finite floats stay JSON
//! numbers, NUMERIC/BIGNUMERIC stay exact text, DATETIME is shown as DuckDB shows
//! a TIMESTAMP (`2150-01-02 03:04:05`), TIMESTAMP (asked for as integer
//! microseconds) is shown in UTC with its offset, ARRAY and STRUCT become JSON
//! arrays and objects. This module does no I/O.

use serde::Deserialize;
use serde_json::{Map, Value};

use std::time::Duration;

use crate::engine::{Limits, QueryResult, ResultBuilder, ResultColumn};

/// One field of a BigQuery table or result schema.
#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Field {
    fn repeated(&self) -> bool {
        self.mode.as_deref() == Some("REPEATED")
    }

    /// The GoogleSQL name of the field's type (`INT64`, `ARRAY<STRING>`, `STRUCT<a INT64>`).
    pub fn type_name(&self) -> String {
        let scalar = self.scalar_type_name();
        if self.repeated() {
            format!("ARRAY<{scalar}>")
        } else {
            scalar
        }
    }

    fn scalar_type_name(&self) -> String {
        match self.kind.to_ascii_uppercase().as_str() {
            "INTEGER" | "INT64" => "INT64".into(),
            "FLOAT" | "FLOAT64" => "FLOAT64".into(),
            "BOOLEAN" | "BOOL" => "BOOL".into(),
            "RECORD" | "STRUCT" => format!(
                "STRUCT<{}>",
                self.fields
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.type_name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        }
    }

    /// Whether the column may hold NULL.
    pub fn nullable(&self) -> bool {
        !matches!(self.mode.as_deref(), Some("REQUIRED"))
    }
}

/// Result columns for a schema.
pub fn columns(fields: &[Field]) -> Vec<ResultColumn> {
    fields
        .iter()
        .map(|f| ResultColumn {
            name: f.name.clone(),
            type_name: f.type_name(),
        })
        .collect()
}

/// Rows collected so far within the caps, and why collection stopped.
#[derive(Debug)]
pub struct Collector {
    fields: Vec<Field>,
    builder: ResultBuilder,
}

impl Collector {
    /// A collector for rows of `fields`, bounded by `limits`' rows and bytes.
    pub fn new(fields: &[Field], limits: &Limits) -> Collector {
        Collector {
            fields: fields.to_vec(),
            builder: ResultBuilder::new(columns(fields), limits),
        }
    }

    /// Rows taken so far.
    pub fn rows(&self) -> usize {
        self.builder.row_count()
    }

    /// Adds the rows of one page; false once a cap is reached (read no further).
    pub fn add_page(&mut self, rows: &[Value]) -> bool {
        for row in rows {
            if !self.builder.begin_row() {
                return false;
            }
            let values = row.get("f").and_then(Value::as_array);
            for (k, field) in self.fields.iter().enumerate() {
                let value = values
                    .and_then(|v| v.get(k))
                    .and_then(|cell| cell.get("v"))
                    .unwrap_or(&Value::Null);
                write_cell(&mut self.builder, field, value);
            }
            if !self.builder.end_row() {
                return false;
            }
        }
        true
    }

    /// Records that more rows follow the ones taken (a page token remains): the
    /// result is truncated by rows once the row cap is reached.
    pub fn more_rows_follow(&mut self) {
        self.builder.more_rows_follow();
    }

    /// The result, with how long it took to collect.
    pub fn finish(self, elapsed: Duration) -> QueryResult {
        self.builder.finish(elapsed)
    }
}

/// Writes one value of `field` into the row being built.
fn write_cell(builder: &mut ResultBuilder, field: &Field, value: &Value) {
    if value.is_null() {
        return builder.null();
    }
    if field.repeated() {
        return builder.json(to_json(field, value));
    }
    let raw = value.as_str();
    match field.kind.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT64" => match raw.and_then(|s| s.parse::<i64>().ok()) {
            Some(n) => builder.int(n),
            None => builder.text(&text_of_raw(value)),
        },
        "FLOAT" | "FLOAT64" => match raw.and_then(|s| s.parse::<f64>().ok()) {
            Some(x) => builder.float(x),
            None => builder.text(&text_of_raw(value)),
        },
        "BOOLEAN" | "BOOL" => match raw.map(str::to_ascii_lowercase).as_deref() {
            Some("true") => builder.bool(true),
            Some("false") => builder.bool(false),
            _ => builder.text(&text_of_raw(value)),
        },
        "RECORD" | "STRUCT" => builder.json(to_json(field, value)),
        _ => match to_json(field, value) {
            Value::String(text) => builder.text(&text),
            other => builder.text(&other.to_string()),
        },
    }
}

fn text_of_raw(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON for one non-null value of `field`.
fn to_json(field: &Field, value: &Value) -> Value {
    if field.repeated() {
        let element = Field {
            mode: Some("NULLABLE".into()),
            ..field.clone()
        };
        return Value::Array(
            value
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            let v = item.get("v").unwrap_or(&Value::Null);
                            if v.is_null() {
                                Value::Null
                            } else {
                                to_json(&element, v)
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        );
    }
    let raw = value.as_str();
    match field.kind.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT64" => match raw.and_then(|s| s.parse::<i64>().ok()) {
            Some(n) => Value::from(n),
            None => text_of(value),
        },
        "FLOAT" | "FLOAT64" => raw
            .and_then(|s| s.parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| text_of(value), Value::Number),
        "BOOLEAN" | "BOOL" => match raw.map(str::to_ascii_lowercase).as_deref() {
            Some("true") => Value::Bool(true),
            Some("false") => Value::Bool(false),
            _ => text_of(value),
        },
        "DATETIME" => {
            Value::String(raw.map_or_else(|| value.to_string(), |s| s.replacen('T', " ", 1)))
        }
        "TIMESTAMP" => Value::String(raw.map_or_else(|| value.to_string(), timestamp_text)),
        "RECORD" | "STRUCT" => {
            let values = value.get("f").and_then(Value::as_array);
            let mut object = Map::new();
            for (k, sub) in field.fields.iter().enumerate() {
                let v = values
                    .and_then(|v| v.get(k))
                    .and_then(|c| c.get("v"))
                    .unwrap_or(&Value::Null);
                let json = if v.is_null() {
                    Value::Null
                } else {
                    to_json(sub, v)
                };
                object.insert(sub.name.clone(), json);
            }
            Value::Object(object)
        }
        // NUMERIC, BIGNUMERIC (exact text), STRING, BYTES (base64), DATE, TIME,
        // JSON (its text), INTERVAL, GEOGRAPHY, RANGE: as BigQuery wrote them.
        _ => text_of(value),
    }
}

fn text_of(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.clone()),
        other => Value::String(other.to_string()),
    }
}

/// A TIMESTAMP given as integer microseconds since the epoch (or, from a server
/// that ignores `useInt64Timestamp`, float seconds) in UTC: `2150-01-02 03:04:05+00`.
pub fn timestamp_text(raw: &str) -> String {
    let micros = match raw.parse::<i64>() {
        Ok(n) => n,
        Err(_) => match raw.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() => (seconds * 1e6).round() as i64,
            _ => return raw.to_string(),
        },
    };
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = crate::civil::from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push_str("+00:00");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Truncation;
    use serde_json::json;

    fn field(kind: &str) -> Field {
        Field {
            name: "c".into(),
            kind: kind.into(),
            mode: Some("NULLABLE".into()),
            fields: Vec::new(),
            description: None,
        }
    }

    /// One value of `field` through the collector: its table text and its JSON.
    fn cell_of(field: &Field, value: Value) -> (String, Value) {
        let limits = Limits {
            max_rows: 10,
            max_bytes: 100_000,
            timeout: Duration::from_secs(1),
        };
        let mut rows = Collector::new(std::slice::from_ref(field), &limits);
        assert!(rows.add_page(&[json!({"f": [{"v": value}]})]));
        let result = rows.finish(Duration::ZERO);
        let line = result.table.lines().nth(2).unwrap().to_string();
        let text = line
            .strip_prefix("| ")
            .and_then(|l| l.strip_suffix(" |"))
            .unwrap()
            .to_string();
        (text, result.rows[0][0].clone())
    }

    fn one(kind: &str, value: Value) -> (String, Value) {
        cell_of(&field(kind), value)
    }

    #[test]
    fn every_scalar_type_keeps_its_meaning() {
        assert_eq!(
            one("INTEGER", json!("9007199254740993")),
            ("9007199254740993".into(), json!(9007199254740993_i64))
        );
        assert_eq!(one("FLOAT", json!("1.5")), ("1.5".into(), json!(1.5)));
        assert_eq!(one("FLOAT64", json!("100")).0, "100.0");
        assert_eq!(one("FLOAT", json!("NaN")), ("NaN".into(), json!("NaN")));
        assert_eq!(
            one("NUMERIC", json!("1.250000000")),
            ("1.250000000".into(), json!("1.250000000"))
        );
        assert_eq!(
            one("BIGNUMERIC", json!("123456789012345678901234567890.5")).0,
            "123456789012345678901234567890.5"
        );
        assert_eq!(one("BOOLEAN", json!("true")).1, json!(true));
        assert_eq!(one("STRING", json!("x")).0, "x");
        assert_eq!(one("BYTES", json!("AAE=")).0, "AAE=");
        assert_eq!(one("DATE", json!("2150-01-02")).0, "2150-01-02");
        assert_eq!(
            one("DATETIME", json!("2150-01-02T03:04:05.5")).0,
            "2150-01-02 03:04:05.5"
        );
        assert_eq!(one("TIME", json!("03:04:05")).0, "03:04:05");
        assert_eq!(
            one("TIMESTAMP", json!("5680379045000000")).0,
            "2150-01-02 03:04:05+00:00"
        );
        assert_eq!(
            one("TIMESTAMP", json!("-1")).0,
            "1969-12-31 23:59:59.999999+00:00"
        );
        assert_eq!(
            one("TIMESTAMP", json!("5.680379045E9")).0,
            "2150-01-02 03:04:05+00:00"
        );
        assert_eq!(one("JSON", json!("{\"a\":1}")).0, "{\"a\":1}");
        assert_eq!(one("STRING", Value::Null), ("NULL".into(), Value::Null));
    }

    #[test]
    fn arrays_and_structs_become_json() {
        let mut list = field("INTEGER");
        list.mode = Some("REPEATED".into());
        assert_eq!(list.type_name(), "ARRAY<INT64>");
        let (text, json) = cell_of(&list, json!([{"v": "1"}, {"v": null}, {"v": "3"}]));
        assert_eq!(json, json!([1, null, 3]));
        assert_eq!(text, "[1,null,3]");
        let mut record = field("RECORD");
        record.fields = vec![field("STRING"), {
            let mut f = field("TIMESTAMP");
            f.name = "t".into();
            f
        }];
        record.fields[0].name = "s".into();
        assert_eq!(record.type_name(), "STRUCT<s STRING, t TIMESTAMP>");
        let (_, json) = cell_of(&record, json!({"f": [{"v": "a"}, {"v": "0"}]}));
        assert_eq!(json, json!({"s": "a", "t": "1970-01-01 00:00:00+00:00"}));
    }

    #[test]
    fn collection_stops_at_the_row_and_byte_caps() {
        let fields = vec![field("STRING")];
        let page: Vec<Value> = (0..5)
            .map(|i| json!({"f": [{"v": format!("row{i}")}]}))
            .collect();
        let limits = |max_rows, max_bytes| Limits {
            max_rows,
            max_bytes,
            timeout: Duration::from_secs(1),
        };
        let mut rows = Collector::new(&fields, &limits(3, 1000));
        assert!(!rows.add_page(&page));
        let result = rows.finish(Duration::ZERO);
        assert_eq!(
            (result.row_count(), result.truncated),
            (3, Some(Truncation::Rows))
        );
        let mut bytes = Collector::new(&fields, &limits(100, 18));
        assert!(!bytes.add_page(&page));
        let result = bytes.finish(Duration::ZERO);
        assert_eq!(
            (result.row_count(), result.truncated),
            (2, Some(Truncation::Bytes))
        );
        let mut exact = Collector::new(&fields, &limits(5, 1000));
        assert!(exact.add_page(&page));
        exact.more_rows_follow();
        assert_eq!(
            exact.finish(Duration::ZERO).truncated,
            Some(Truncation::Rows)
        );
    }
}
