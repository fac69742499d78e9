//! The audit log of the team server: one JSON line per tool call, saying who
//! (`sub`, client id) ran what (tool, data set, the SQL's SHA-256 or, by
//! `M4_AUDIT_SQL=full`, the SQL), what came back (rows, bytes), how long it took
//! and how it ended.
//!
//! Owns the line's shape and writing it: appended to a file (each line written
//! whole and flushed before the call is answered) or to stderr. It never receives
//! a token or a secret, only the [`Principal`](crate::auth::Principal)'s names, and
//! it does not decide which calls are audited (the server records every call).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::http::AuditTarget;

/// The audit file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not open the audit log `{}` for appending: {source}\n\nhint: create its folder and let m4's user write there, set `M4_AUDIT_LOG` to another file, or to `stderr`",
    path.display()
)]
pub struct AuditError {
    path: PathBuf,
    source: std::io::Error,
}

enum Sink {
    Stderr,
    File(File),
}

/// Where audit lines go. `Send + Sync`: one per server, one short lock per line.
pub struct AuditLog {
    sink: Mutex<Sink>,
    full_sql: bool,
}

/// How a call ended, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Refused by OAuth2 (token, scope, rate limit).
    Refused,
    /// The caller's mistake: bad SQL, a refused statement, an unknown table, a bad argument.
    Rejected,
    Timeout,
    Cancelled,
    /// Turned away: the calls-in-flight limit was reached.
    Busy,
    /// The data set or m4 failed.
    Failed,
}

/// One call, as the server hands it to [`AuditLog::record`].
pub struct Record<'a> {
    pub sub: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub tool: &'a str,
    pub dataset: Option<&'a str>,
    /// The request's SQL (`execute_query`), if any.
    pub sql: Option<&'a str>,
    pub rows: Option<usize>,
    pub bytes: Option<usize>,
    pub duration_ms: f64,
    pub outcome: Outcome,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    sub: Option<&'a str>,
    client_id: Option<&'a str>,
    tool: &'a str,
    dataset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql: Option<&'a str>,
    rows: Option<usize>,
    bytes: Option<usize>,
    duration_ms: f64,
    outcome: Outcome,
}

impl AuditLog {
    /// Opens the log `target` names; `Ok(None)` when it is off.
    pub fn open(target: &AuditTarget, full_sql: bool) -> Result<Option<AuditLog>, AuditError> {
        let sink = match target {
            AuditTarget::Off => return Ok(None),
            AuditTarget::Stderr => Sink::Stderr,
            AuditTarget::File(path) => Sink::File(open_append(path)?),
        };
        Ok(Some(AuditLog {
            sink: Mutex::new(sink),
            full_sql,
        }))
    }

    /// Writes one line for `record`. A failed write is logged, never fails the call.
    pub fn record(&self, record: &Record<'_>) {
        let line = self.line(record, unix_millis());
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let written = match &mut *sink {
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(line.as_bytes()).and_then(|()| err.flush())
            }
            // One `write_all` of the whole line on an append-mode file: lines from
            // this process never interleave, and each is on disk before the answer.
            Sink::File(file) => file.write_all(line.as_bytes()).and_then(|()| file.flush()),
        };
        if let Err(error) = written {
            tracing::error!(%error, "could not write the audit log line");
        }
    }

    fn line(&self, record: &Record<'_>, now_ms: u128) -> String {
        let line = Line {
            time: rfc3339_millis(now_ms),
            sub: record.sub,
            client_id: record.client_id,
            tool: record.tool,
            dataset: record.dataset,
            sql_sha256: record
                .sql
                .filter(|_| !self.full_sql)
                .map(|sql| hex::encode(Sha256::digest(sql.as_bytes()))),
            sql: record.sql.filter(|_| self.full_sql),
            rows: record.rows,
            bytes: record.bytes,
            duration_ms: (record.duration_ms * 10.0).round() / 10.0,
            outcome: record.outcome,
        };
        let mut text = serde_json::to_string(&line).unwrap_or_else(|e| {
            format!(r#"{{"audit_error":"could not serialise the line: {e}"}}"#)
        });
        text.push('\n');
        text
    }
}

fn open_append(path: &Path) -> Result<File, AuditError> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Who queried what is itself sensitive: owner and group only.
        options.mode(0o640);
    }
    options.open(path).map_err(|source| AuditError {
        path: path.to_path_buf(),
        source,
    })
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// `2026-12-01T11:02:19.123Z` for Unix milliseconds `ms`.
fn rfc3339_millis(ms: u128) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::civil::from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sql: Option<&str>) -> Record<'_> {
        Record {
            sub: Some("alice"),
            client_id: Some("claude-code"),
            tool: "execute_query",
            dataset: Some("mimic-iv-demo"),
            sql,
            rows: Some(3),
            bytes: Some(120),
            duration_ms: 12.345,
            outcome: Outcome::Ok,
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_796_122_939_123),
            "2026-12-01T11:02:19.123Z"
        );
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_line_holds_the_sql_hash_unless_full_sql_is_asked_for() {
        let sql = "select count(*) from mimiciv_hosp.patients";
        let hashed = AuditLog {
            sink: Mutex::new(Sink::Stderr),
            full_sql: false,
        };
        let line: serde_json::Value =
            serde_json::from_str(&hashed.line(&record(Some(sql)), 0)).unwrap();
        assert_eq!(
            line["sql_sha256"],
            hex::encode(Sha256::digest(sql.as_bytes()))
        );
        assert!(line.get("sql").is_none(), "{line}");
        assert_eq!(line["sub"], "alice");
        assert_eq!(line["client_id"], "claude-code");
        assert_eq!(line["rows"], 3);
        assert_eq!(line["bytes"], 120);
        assert_eq!(line["duration_ms"], 12.3);
        assert_eq!(line["outcome"], "ok");
        let full = AuditLog {
            sink: Mutex::new(Sink::Stderr),
            full_sql: true,
        };
        let line: serde_json::Value =
            serde_json::from_str(&full.line(&record(Some(sql)), 0)).unwrap();
        assert_eq!(line["sql"], sql);
        assert!(line.get("sql_sha256").is_none());
    }

    #[test]
    fn lines_are_appended_to_the_file_one_per_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        let log = AuditLog::open(&AuditTarget::File(path.clone()), false)
            .unwrap()
            .unwrap();
        log.record(&record(None));
        log.record(&record(Some("select 1")));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        for line in &lines[1..] {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    #[test]
    fn an_unwritable_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("audit.jsonl");
        let error = AuditLog::open(&AuditTarget::File(path), false)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("M4_AUDIT_LOG") && error.contains("hint:"),
            "{error}"
        );
    }
}
