//! Every tool through the real `m4` binary against a real BigQuery REST
//! emulator — bqemulator 1.4.0 (PyPI), started offline by `tests/bqemu/launch.py`
//! and seeded by `tests/bqemu/seed.py` with the demo m4 built, under project
//! `physionet-data` and the 3.1 dataset names — asking the same questions of the
//! local demo and comparing the answers.
//!
//! Needs `M4_TEST_BQEMU` (the Python of a venv with `bqemulator==1.4.0` and
//! numpy; `.ci/run` installs one) and the demo (`M4_TEST_DEMO_DIR`); without them
//! the tests print SKIPPED, and under CI they fail instead.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, McpChild, is_tool_error, run_m4, tool_text};

/// A running, seeded emulator, kept for the whole test binary. It exits when
/// its standard input closes, i.e. when this process ends.
pub struct Emulator {
    pub port: u16,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
    _gcs: tempfile::TempDir,
}

fn emulator_python(test: &str) -> Option<PathBuf> {
    match std::env::var("M4_TEST_BQEMU") {
        Ok(python) if PathBuf::from(&python).is_file() => Some(PathBuf::from(python)),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: M4_TEST_BQEMU is {other:?}, but CI must run the BigQuery emulator tests"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: set M4_TEST_BQEMU to a Python with bqemulator==1.4.0 and numpy (see .ci/run) to run it"
            );
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bqemu")
        .join(name)
}

/// The emulator seeded with the demo, and the demo's data folder; `None` when skipped.
pub fn emulator(test: &str) -> Option<(&'static Emulator, &'static std::path::Path)> {
    static STARTED: OnceLock<Emulator> = OnceLock::new();
    let python = emulator_python(test)?;
    let (demo, _) = common::demo(test)?;
    let emulator = STARTED.get_or_init(|| start(&python, &demo.database));
    Some((emulator, demo.data_dir.as_path()))
}

fn start(python: &PathBuf, database: &std::path::Path) -> Emulator {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let gcs = tempfile::tempdir().expect("tempdir");
    let log = std::fs::File::create(gcs.path().join("bqemu.log")).expect("log file");
    let mut child = Command::new(python)
        .arg(script("launch.py"))
        .arg(port.to_string())
        .env("BQEMU_GCS_LOCAL_ROOT", gcs.path())
        .stdin(Stdio::piped())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the emulator");
    let stdin = child.stdin.take().expect("emulator stdin");
    let ready = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ureq::get(&ready).call().is_ok() {
            break;
        }
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let log = std::fs::read_to_string(gcs.path().join("bqemu.log")).unwrap_or_default();
            panic!("the emulator did not become ready on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let seeded = Command::new(python)
        .arg(script("seed.py"))
        .arg(port.to_string())
        .arg(database)
        .arg(gcs.path())
        .output()
        .expect("run the seeder");
    assert!(
        seeded.status.success(),
        "seeding failed:\n{}{}",
        String::from_utf8_lossy(&seeded.stdout),
        String::from_utf8_lossy(&seeded.stderr)
    );
    Emulator {
        port,
        _child: Mutex::new(child),
        _stdin: Mutex::new(stdin),
        _gcs: gcs,
    }
}

impl Emulator {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points m4 at the emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("M4_BIGQUERY_PROJECT", "m4-test".to_string()),
            ("M4_BIGQUERY_API_URL", self.url()),
            ("M4_BIGQUERY_CREDENTIALS", "none".to_string()),
        ]
    }
}

/// The same server twice: on the local demo, and on BigQuery (the emulator).
fn servers(test: &str, extra: &[(&str, &str)]) -> Option<(McpChild, McpChild, &'static Emulator)> {
    let (emulator, demo_dir) = emulator(test)?;
    let env = emulator.env();
    let mut remote: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    remote.push(("M4_DATASET", "mimic-iv-bigquery"));
    remote.extend_from_slice(extra);
    let mut local = vec![("M4_DATASET", "mimic-iv-demo")];
    local.extend_from_slice(extra);
    let mut bq = McpChild::spawn(demo_dir, &remote);
    bq.initialize();
    let mut duck = McpChild::spawn(demo_dir, &local);
    duck.initialize();
    Some((duck, bq, emulator))
}

/// Whether two JSON cells agree: equal, or numbers within a relative 1e-9
/// (sums and averages may add up in another order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

fn assert_same_rows(what: &str, duck: &Value, bq: &Value) {
    assert!(
        !is_tool_error(duck),
        "{what} on DuckDB: {}",
        tool_text(duck)
    );
    assert!(!is_tool_error(bq), "{what} on BigQuery: {}", tool_text(bq));
    let (d, b) = (&duck["structuredContent"], &bq["structuredContent"]);
    assert!(d["columns"].is_array(), "{what}: no columns on DuckDB: {d}");
    assert_eq!(d["columns"], b["columns"], "{what}: columns");
    assert!(
        same(&d["rows"], &b["rows"]),
        "{what}: rows differ\nDuckDB:   {}\nBigQuery: {}",
        d["rows"],
        b["rows"]
    );
    assert_eq!(d["truncated"], b["truncated"], "{what}: truncated");
}

#[test]
fn every_tool_answers_on_bigquery_as_on_the_local_demo() {
    let Some((mut duck, mut bq, _)) =
        servers("every_tool_answers_on_bigquery_as_on_the_local_demo", &[])
    else {
        return;
    };
    // The schema: the same tables with the same row counts, under the same names.
    let tables = |v: &Value| -> Vec<(String, i64)> {
        let mut t: Vec<(String, i64)> = v["structuredContent"]["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    format!(
                        "{}.{}",
                        t["schema"].as_str().unwrap(),
                        t["table"].as_str().unwrap()
                    ),
                    t["rows"].as_i64().unwrap(),
                )
            })
            .collect();
        t.sort();
        t
    };
    let d = duck.call_tool("get_database_schema", json!({}));
    let b = bq.call_tool("get_database_schema", json!({}));
    assert!(!is_tool_error(&b), "{}", tool_text(&b));
    assert_eq!(tables(&d), tables(&b));
    assert!(
        tables(&b)
            .iter()
            .any(|(n, r)| n == "mimiciv_hosp.admissions" && *r == 275)
    );
    assert!(tool_text(&b).contains("GoogleSQL"), "{}", tool_text(&b));

    // Table info: the same columns (GoogleSQL type names) and three sample rows.
    let d = duck.call_tool("get_table_info", json!({"table_name": "icustays"}));
    let b = bq.call_tool("get_table_info", json!({"table_name": "icustays"}));
    assert!(!is_tool_error(&b), "{}", tool_text(&b));
    let columns = |v: &Value| -> Vec<Value> {
        v["structuredContent"]["table"]["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].clone())
            .collect()
    };
    assert_eq!(columns(&d), columns(&b));
    let types: Vec<Value> = b["structuredContent"]["table"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].clone())
        .collect();
    assert!(
        types.contains(&json!("INT64")) && types.contains(&json!("DATETIME")),
        "{types:?}"
    );
    assert_eq!(b["structuredContent"]["sample"]["row_count"], json!(3));
    assert!(
        b["structuredContent"]["table"]["columns"][2]["description"].is_string(),
        "descriptions come from tables.get"
    );

    // The convenience tools, with and without their filters.
    for (tool, args) in [
        ("get_icu_stays", json!({"patient_id": 10001217})),
        ("get_icu_stays", json!({"limit": 25})),
        (
            "get_lab_results",
            json!({"lab_item": "creatinine", "limit": 30}),
        ),
        (
            "get_lab_results",
            json!({"lab_item": 50912, "patient_id": 10000032}),
        ),
        (
            "get_lab_results",
            json!({"patient_id": 10000032, "limit": 15}),
        ),
        ("get_race_distribution", json!({"limit": 50})),
    ] {
        let d = duck.call_tool(tool, args.clone());
        let b = bq.call_tool(tool, args.clone());
        assert_same_rows(&format!("{tool}({args})"), &d, &b);
    }

    // execute_query: the same questions, written in the dialect both share.
    for sql in [
        "SELECT gender, COUNT(*) AS n FROM mimiciv_hosp.patients GROUP BY gender ORDER BY gender",
        "SELECT first_careunit, COUNT(*) AS stays, AVG(los) AS mean_los FROM mimiciv_icu.icustays GROUP BY first_careunit ORDER BY first_careunit",
        "SELECT a.subject_id, COUNT(DISTINCT a.hadm_id) AS admissions, COUNT(i.stay_id) AS stays FROM mimiciv_hosp.admissions a LEFT JOIN mimiciv_icu.icustays i ON i.hadm_id = a.hadm_id GROUP BY a.subject_id ORDER BY admissions DESC, a.subject_id LIMIT 10",
        "SELECT COUNT(*) AS n, COUNT(DISTINCT stay_id) AS stays FROM mimiciv_derived.sepsis3",
        "SELECT hadm_id, admittime, dischtime, hospital_expire_flag FROM mimiciv_hosp.admissions ORDER BY hadm_id LIMIT 20",
    ] {
        let d = duck.call_tool("execute_query", json!({"sql_query": sql}));
        let b = bq.call_tool("execute_query", json!({"sql_query": sql}));
        assert_same_rows(sql, &d, &b);
        assert_eq!(
            b["structuredContent"]["bytes_processed"],
            json!(0),
            "the emulator reports 0 bytes"
        );
    }

    // list_datasets knows the data set and its dialect.
    let list = bq.call_tool("list_datasets", json!({}));
    let entry = list["structuredContent"]["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == json!("mimic-iv-bigquery"))
        .cloned()
        .expect("mimic-iv-bigquery listed");
    assert_eq!(entry["dialect"], json!("GoogleSQL"));
    assert_eq!(entry["default"], json!(true));
    assert_eq!(entry["initialised"], json!(true));
}

#[test]
fn writes_scripts_and_bad_sql_are_refused_by_bigquerys_dry_run() {
    let Some((_, mut bq, _)) = servers(
        "writes_scripts_and_bad_sql_are_refused_by_bigquerys_dry_run",
        &[],
    ) else {
        return;
    };
    for (sql, needle) in [
        (
            "DELETE FROM mimiciv_hosp.patients WHERE TRUE",
            "statement type DELETE",
        ),
        (
            "UPDATE mimiciv_hosp.patients SET gender = 'X' WHERE TRUE",
            "statement type UPDATE",
        ),
        (
            "INSERT INTO mimiciv_hosp.patients (subject_id) VALUES (1)",
            "statement type INSERT",
        ),
        (
            "CREATE TABLE mimiciv_hosp.copy AS SELECT * FROM mimiciv_hosp.patients",
            "CREATE_TABLE_AS_SELECT",
        ),
        (
            "DROP TABLE mimiciv_hosp.patients",
            "statement type DROP_TABLE",
        ),
        ("SELECT 1; SELECT 2", "script"),
        (
            "CREATE TEMP FUNCTION f(x INT64) AS (x + 1); SELECT f(1)",
            "script",
        ),
        ("DECLARE x INT64 DEFAULT 1; SELECT x", "script"),
        ("SELECT nope FROM mimiciv_hosp.patients", "nope"),
        ("SELECT * FROM mimiciv_hosp.no_such_table", "no_such_table"),
    ] {
        let result = bq.call_tool("execute_query", json!({"sql_query": sql}));
        assert!(is_tool_error(&result), "{sql} ran: {}", tool_text(&result));
        assert!(
            tool_text(&result).contains(needle),
            "{sql}: {}",
            tool_text(&result)
        );
    }
    // Nothing was written: the patients are all there.
    let count = bq.call_tool(
        "execute_query",
        json!({"sql_query": "SELECT COUNT(*) AS n FROM mimiciv_hosp.patients WHERE gender IN ('F', 'M')"}),
    );
    assert_eq!(
        count["structuredContent"]["rows"],
        json!([[100]]),
        "{}",
        tool_text(&count)
    );
    // Names inside literals and comments are not rewritten (the emulator would fail on them).
    let literal = bq.call_tool(
        "execute_query",
        json!({"sql_query": "SELECT 'mimiciv_hosp.patients' AS t, COUNT(*) AS n FROM mimiciv_hosp.patients -- mimiciv_icu.x"}),
    );
    assert_eq!(
        literal["structuredContent"]["rows"],
        json!([["mimiciv_hosp.patients", 100]]),
        "{}",
        tool_text(&literal)
    );
}

#[test]
fn results_on_bigquery_stop_at_the_row_and_byte_caps_and_keep_every_type() {
    let Some((mut duck, mut bq, _)) = servers(
        "results_on_bigquery_stop_at_the_row_and_byte_caps_and_keep_every_type",
        &[("M4_MAX_ROWS", "7")],
    ) else {
        return;
    };
    let sql = "SELECT labevent_id, subject_id, itemid, valuenum FROM mimiciv_hosp.labevents ORDER BY labevent_id";
    let d = duck.call_tool("execute_query", json!({"sql_query": sql}));
    let b = bq.call_tool("execute_query", json!({"sql_query": sql}));
    assert_same_rows("row cap", &d, &b);
    assert_eq!(b["structuredContent"]["row_count"], json!(7));
    assert_eq!(b["structuredContent"]["truncated_by"], json!("rows"));
    assert!(tool_text(&b).contains("row limit 7"), "{}", tool_text(&b));

    let types = bq.call_tool(
        "execute_query",
        json!({"sql_query": "SELECT 1 AS i, 1.5 AS f, NUMERIC '1.25' AS n, BIGNUMERIC '12345678901234567890.5' AS bn, TRUE AS b, 'x' AS s, b'ab' AS y, DATE '2150-01-02' AS d, DATETIME '2150-01-02 03:04:05' AS dt, TIME '03:04:05' AS t, TIMESTAMP '2150-01-02 03:04:05+00' AS ts, [1, 2] AS a, STRUCT(1 AS x, 'y' AS z) AS st, JSON '{\"a\":1}' AS j, CAST(NULL AS INT64) AS nl"}),
    );
    assert!(!is_tool_error(&types), "{}", tool_text(&types));
    let s = &types["structuredContent"];
    assert_eq!(
        s["rows"],
        json!([[1, 1.5, "1.250000000", "12345678901234567890.5000000000", true, "x", "YWI=", "2150-01-02",
            "2150-01-02 03:04:05", "03:04:05", "2150-01-02 03:04:05+00:00", [1, 2], {"x": 1, "z": "y"}, "{\"a\":1}", null]])
    );
    let names: Vec<&str> = s["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "INT64",
            "FLOAT64",
            "NUMERIC",
            "BIGNUMERIC",
            "BOOL",
            "STRING",
            "BYTES",
            "DATE",
            "DATETIME",
            "TIME",
            "TIMESTAMP",
            "ARRAY<INT64>",
            "STRUCT<x INT64, z STRING>",
            "JSON",
            "INT64"
        ]
    );

    let (emulator, demo_dir) = emulator("bytes").expect("started above");
    let env = emulator.env();
    let mut remote: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    remote.push(("M4_DATASET", "mimic-iv-bigquery"));
    remote.push(("M4_MAX_BYTES", "2000"));
    let mut small = McpChild::spawn(demo_dir, &remote);
    small.initialize();
    let b = small.call_tool("execute_query", json!({"sql_query": sql}));
    assert_eq!(
        b["structuredContent"]["truncated_by"],
        json!("bytes"),
        "{}",
        tool_text(&b)
    );
}

#[test]
fn init_status_and_config_know_the_bigquery_data_set() {
    let Some((emulator, demo_dir)) = emulator("init_status_and_config_know_the_bigquery_data_set")
    else {
        return;
    };
    let env = emulator.env();
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ok, out, err) = run_m4(demo_dir, &["init", "mimic-iv-bigquery"], &envs);
    assert!(ok, "{out}{err}");
    for needle in [
        "ok   credentials",
        "ok   MIMIC-IV datasets: mimiciv_hosp = physionet-data.mimiciv_3_1_hosp (22 tables)",
        "ok   billing project: `m4-test` can run queries",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    // A version the emulator does not hold: what to fix, and a failing exit.
    let mut wrong = envs.clone();
    wrong.push(("M4_BIGQUERY_VERSION", "2.2"));
    let (ok, out, err) = run_m4(demo_dir, &["init", "mimic-iv-bigquery"], &wrong);
    assert!(!ok);
    assert!(
        out.contains("FAIL MIMIC-IV datasets") && out.contains("M4_BIGQUERY_VERSION"),
        "{out}{err}"
    );
    // Without a billing project.
    let no_project: Vec<(&str, &str)> = envs
        .iter()
        .copied()
        .filter(|(k, _)| *k != "M4_BIGQUERY_PROJECT")
        .collect();
    let (ok, out, _) = run_m4(demo_dir, &["init", "mimic-iv-bigquery"], &no_project);
    assert!(
        !ok && out.contains("FAIL billing project: M4_BIGQUERY_PROJECT is not set"),
        "{out}"
    );

    let (ok, out, _) = run_m4(demo_dir, &["status"], &envs);
    assert!(
        ok && out.contains("mimic-iv-bigquery: served from BigQuery")
            && out.contains("billing project: m4-test"),
        "{out}"
    );

    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("claude.json");
    let (ok, out, err) = run_m4(
        demo_dir,
        &[
            "--dataset",
            "mimic-iv-bigquery",
            "config",
            "claude",
            "--config-file",
            file.to_str().unwrap(),
        ],
        &envs,
    );
    assert!(ok, "{out}{err}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let entry_env = &written["mcpServers"]["m4"]["env"];
    assert_eq!(entry_env["M4_DATASET"], json!("mimic-iv-bigquery"));
    assert_eq!(entry_env["M4_BIGQUERY_PROJECT"], json!("m4-test"));
}

#[test]
fn search_items_finds_the_same_codes_on_bigquery() {
    let Some((mut duck, mut bq, _)) = servers("search_items_finds_the_same_codes_on_bigquery", &[])
    else {
        return;
    };
    for (query, id) in [
        ("hr", "220045"),
        ("heart rate", "220045"),
        ("creatinine", "50912"),
        ("map", "220052"),
    ] {
        let ids = |v: &Value| -> Vec<String> {
            v["structuredContent"]["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| i["id"].as_str().unwrap_or("").to_string())
                .collect()
        };
        let b = bq.call_tool("search_items", json!({"query": query, "limit": 10}));
        assert!(!is_tool_error(&b), "{query}: {}", tool_text(&b));
        let d = duck.call_tool("search_items", json!({"query": query, "limit": 10}));
        assert!(ids(&b).contains(&id.to_string()), "{query}: {:?}", ids(&b));
        assert!(
            ids(&d).contains(&id.to_string()),
            "{query} on DuckDB: {:?}",
            ids(&d)
        );
        // Usage counts are not computed on BigQuery (they would scan the event tables).
        assert!(b["structuredContent"]["items"][0]["rows"].is_null());
    }
}
