//! A minimal reader for PhysioNet's csv.gz files, so tests can compute expected
//! answers straight from the source files, independently of m4's loader.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Rows of `path` (a .csv.gz) as header → value maps.
pub fn read_csv_gz(path: &Path) -> Vec<HashMap<String, String>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records = parse(&text);
    let mut records = records.into_iter();
    let header = records.next().expect("header line");
    records
        .map(|fields| header.iter().cloned().zip(fields).collect())
        .collect()
}

/// RFC 4180 parsing: quoted fields may hold commas, doubled quotes and newlines.
fn parse(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) => in_quotes = true,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}
