//! Safety against whatever SQL an LLM (or a prompt-injected note) sends: nothing
//! writes, reads files, attaches databases, loads extensions or changes
//! settings; legitimate clinical queries are never refused for their words.

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{McpChild, is_tool_error, run_m4, synthetic_data_dir, tool_text};

fn file_digest(path: &Path) -> String {
    hex::encode(Sha256::digest(
        std::fs::read(path).expect("read database file"),
    ))
}

/// Statements that must be refused, whether by the statement check or by the engine.
const FORBIDDEN: &[&str] = &[
    "DROP TABLE mimiciv_hosp.patients",
    "DELETE FROM mimiciv_hosp.patients",
    "INSERT INTO mimiciv_hosp.patients (subject_id) VALUES (1)",
    "UPDATE mimiciv_hosp.patients SET gender = 'X'",
    "CREATE TABLE stolen AS SELECT * FROM mimiciv_hosp.patients",
    "CREATE TEMP TABLE scratch AS SELECT 1",
    "CREATE VIEW v AS SELECT 1",
    "ALTER TABLE mimiciv_hosp.patients ADD COLUMN x INTEGER",
    "COPY mimiciv_hosp.patients TO '/tmp/m4-safety-leak.csv'",
    "COPY (SELECT * FROM mimiciv_hosp.patients) TO '/tmp/m4-safety-leak.csv' (HEADER)",
    "EXPORT DATABASE '/tmp/m4-safety-export'",
    "ATTACH '/tmp/m4-safety-other.duckdb' AS other",
    "ATTACH ':memory:' AS scratch",
    "DETACH mimiciv",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET memory_limit = '100GB'",
    "SET lock_configuration = false",
    "RESET memory_limit",
    "PRAGMA enable_profiling",
    "CHECKPOINT",
    "VACUUM",
    "BEGIN TRANSACTION",
    "CALL pragma_version()",
    "EXPLAIN ANALYZE SELECT 1",
    "SELECT * FROM force_checkpoint()",
    "SELECT * FROM checkpoint()",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT 1; DROP TABLE mimiciv_hosp.patients",
    "SELECT 1; SELECT 2",
    "SELECT 1 /* ; */ ; DELETE FROM mimiciv_hosp.patients",
    "/* a comment */ DROP TABLE mimiciv_hosp.patients",
    "-- SELECT\nDROP TABLE mimiciv_hosp.patients",
    "WITH doomed AS (SELECT 1) DELETE FROM mimiciv_hosp.patients",
    "",
    "   ;  ",
];

/// Queries that must run, although naive keyword filters block them.
const ALLOWED: &[&str] = &[
    "SELECT 1 AS administration_type",
    "SELECT 'DROP TABLE mimiciv_hosp.patients; --' AS note",
    "SELECT count(*) AS n FROM mimiciv_hosp.patients -- DROP TABLE mimiciv_hosp.patients",
    "/* DELETE everything */ SELECT gender, count(*) FROM mimiciv_hosp.patients GROUP BY gender",
    "select subject_id as update_time, hadm_id as created_at, 0 as delete_flag from mimiciv_hosp.admissions limit 3",
    "WITH stays AS (SELECT * FROM mimiciv_icu.icustays) SELECT count(*) FROM stays",
    "VALUES (1, 'a'), (2, 'b')",
    "FROM mimiciv_hosp.patients LIMIT 2",
    "DESCRIBE mimiciv_hosp.patients",
    "SHOW TABLES",
    "SUMMARIZE mimiciv_hosp.patients",
    "SELECT 1;",
    "SELECT 1; -- trailing comment",
    "select insurance, count(*) from mimiciv_hosp.admissions where insurance <> 'set' group by 1",
];

#[test]
fn forbidden_statements_are_refused_and_nothing_changes() {
    let data = synthetic_data_dir();
    let database = data.join("synthetic.duckdb");
    let before = file_digest(&database);
    let mut server = McpChild::spawn(data, &[]);
    server.initialize();
    for sql in FORBIDDEN {
        let result = server.call_tool("execute_query", json!({"sql_query": sql}));
        assert!(is_tool_error(&result), "not refused: {sql:?} → {result}");
        let text = tool_text(&result);
        assert!(
            !text.contains("root:"),
            "file contents leaked for {sql:?}: {text}"
        );
        if text.starts_with("Query rejected") {
            assert_eq!(
                text.lines().count(),
                1,
                "a rejection is one line: {sql:?} → {text}"
            );
        } else {
            // Refused by the engine itself: DuckDB's message, and m4's why. With
            // external access off, DuckDB does not read a quoted path as a file
            // at all: it looks for a table of that name.
            let unknown_table =
                *sql == "SELECT * FROM '/etc/passwd'" && text.contains("does not exist");
            assert!(
                unknown_table || text.contains("m4 serves the data read-only"),
                "{sql:?} → {text}"
            );
        }
    }
    // The data is intact and nothing was written anywhere.
    let count = server.call_tool(
        "execute_query",
        json!({"sql_query": "select count(*) from mimiciv_hosp.patients"}),
    );
    assert!(!is_tool_error(&count), "{count}");
    drop(server);
    assert_eq!(file_digest(&database), before, "the database file changed");
    for leaked in [
        "/tmp/m4-safety-leak.csv",
        "/tmp/m4-safety-export",
        "/tmp/m4-safety-other.duckdb",
    ] {
        assert!(!Path::new(leaked).exists(), "{leaked} was written");
    }
}

#[test]
fn rejections_say_what_is_allowed() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "INSERT INTO mimiciv_hosp.patients (subject_id) VALUES (1)"}),
    );
    let text = tool_text(&result);
    assert!(text.starts_with("Query rejected:"), "{text}");
    assert!(text.contains("`INSERT`"), "{text}");
    assert!(text.contains("SELECT"), "{text}");
    let result = server.call_tool("execute_query", json!({"sql_query": "SELECT 1; SELECT 2"}));
    assert!(tool_text(&result).contains("2 statements"), "{result}");
}

#[test]
fn legitimate_queries_are_never_refused_for_their_words() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    for sql in ALLOWED {
        let result = server.call_tool("execute_query", json!({"sql_query": sql}));
        assert!(!is_tool_error(&result), "refused: {sql:?} → {result}");
    }
}

/// S3: a sort bigger than memory spills only up to `M4_MAX_TEMP_SIZE`, says
/// so, and leaves no spill file behind in the data folder.
#[test]
fn a_runaway_sort_stops_at_the_temp_cap_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        synthetic_data_dir().join("synthetic.duckdb"),
        dir.path().join("synthetic.duckdb"),
    )
    .expect("copy the synthetic database");
    let (ok, stdout, stderr) = run_m4(
        dir.path(),
        &[
            "query",
            "SELECT range AS r, md5(range::VARCHAR) AS h FROM range(20000000) ORDER BY h",
        ],
        &[
            ("M4_MEMORY_LIMIT", "64MB"),
            ("M4_MAX_TEMP_SIZE", "32MB"),
            ("M4_THREADS", "1"),
        ],
    );
    assert!(!ok, "the sort ran to the end: {stdout}");
    assert!(stderr.contains("M4_MAX_TEMP_SIZE"), "{stderr}");
    let left: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|path| !path.ends_with("synthetic.duckdb"))
        .filter(|path| path.is_file())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
