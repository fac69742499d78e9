//! SHA-256 checksums: parsing PhysioNet's `SHA256SUMS.txt` and hashing files.
//!
//! Owns the format and the hashing; deciding what to do on a mismatch belongs to the
//! callers (`download`, `load`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Relative path (`hosp/patients.csv.gz`) → lower-case hex SHA-256.
pub type Checksums = BTreeMap<String, String>;

/// Parses `sha256sum` output: `<64 hex> <path>` per line, the path optionally
/// preceded by `*` (binary mode) or `./`. Blank lines are skipped; a line that
/// does not fit is returned as the error so the caller can name it.
pub fn parse(text: &str) -> Result<Checksums, String> {
    let mut sums = Checksums::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((hash, path)) = line.split_once(char::is_whitespace) else {
            return Err(line.to_string());
        };
        let path = path.trim_start();
        let path = path.strip_prefix('*').unwrap_or(path);
        let path = path.strip_prefix("./").unwrap_or(path);
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) || path.is_empty() {
            return Err(line.to_string());
        }
        sums.insert(path.to_string(), hash.to_ascii_lowercase());
    }
    Ok(sums)
}

/// The lower-case hex SHA-256 of a file, streamed (files can be tens of GB).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "910b9f160ffdf1e08ea673585393f347c773ccc87d66875c627584a903ae8493";

    #[test]
    fn parses_physionet_lines_and_binary_marker() {
        let text = format!(
            "{A} hosp/admissions.csv.gz\n\n{} *./icu/x.csv.gz\n",
            A.to_uppercase()
        );
        let sums = parse(&text).expect("valid");
        assert_eq!(
            sums.get("hosp/admissions.csv.gz").map(String::as_str),
            Some(A)
        );
        assert_eq!(sums.get("icu/x.csv.gz").map(String::as_str), Some(A));
        assert_eq!(sums.len(), 2);
    }

    #[test]
    fn rejects_a_line_without_a_valid_hash() {
        assert_eq!(
            parse("not-a-hash hosp/a.csv.gz"),
            Err("not-a-hash hosp/a.csv.gz".to_string())
        );
        assert!(parse(A).is_err());
    }

    #[test]
    fn parses_the_pinned_demo_list() {
        let sums = parse(crate::datasets::registry::DEMO_SHA256SUMS).expect("pinned list parses");
        assert_eq!(
            sums.get("hosp/admissions.csv.gz").map(String::as_str),
            Some(A)
        );
        assert!(sums.contains_key("icu/chartevents.csv.gz"));
    }

    #[test]
    fn hashes_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").expect("write");
        assert_eq!(
            sha256_file(&path).expect("hash"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
