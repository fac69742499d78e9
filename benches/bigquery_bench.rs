//! The per-call overhead m4 adds on top of a BigQuery REST server, measured
//! against the bqemulator emulator on loopback (not BigQuery: its own time is
//! DuckDB's, and jobs run synchronously).
//!
//! Three figures for one small GROUP BY over a 100-row table:
//! - `emulator: jobs.query` — the single call a naive client makes;
//! - `emulator: m4's 4 calls` — the calls m4 makes, sent directly (dry run,
//!   jobs.insert with a job id, getQueryResults, jobs.get);
//! - `m4 execute_query` — a `tools/call` through `m4 serve` over stdio, everything
//!   included (MCP, name rewriting, the calls, rows, rendering).
//!
//! m4's own overhead is the third minus the second; the second minus the first is
//! what the dry run and job bookkeeping cost on this server.
//!
//! Run: `M4_TEST_BQEMU=$HOME/.cache/m4-bqemu-venv/bin/python cargo bench --bench bigquery_bench`
//! (see `.ci/run` for the venv). Skips with a note without `M4_TEST_BQEMU`. Reports
//! figures; asserts none.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::McpChild;

const SQL: &str = "SELECT gender, COUNT(*) AS n FROM `physionet-data.mimiciv_3_1_hosp.patients` GROUP BY gender ORDER BY gender";
const ROUNDS: usize = 60;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn report(name: &str, samples: &mut [Duration]) -> Duration {
    let m = median(samples);
    let p90 = samples[(samples.len() * 9) / 10];
    println!(
        "{name:<28} n={:<4} median={:>8.2} ms  p90={:>8.2} ms",
        samples.len(),
        m.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3
    );
    m
}

fn post(url: &str, body: &Value) -> Value {
    ureq::post(url)
        .send_json(body)
        .expect("emulator call")
        .body_mut()
        .read_json()
        .expect("emulator JSON")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Ok(python) = std::env::var("M4_TEST_BQEMU") else {
        println!(
            "SKIPPED bigquery_bench: set M4_TEST_BQEMU to a Python with bqemulator==1.4.0 (see .ci/run)"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bqemu/launch.py");
    let mut emulator = Command::new(&python)
        .arg(launcher)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let root = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{root}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "the emulator did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let api = format!("{root}/bigquery/v2");
    post(
        &format!("{api}/projects/physionet-data/datasets"),
        &json!({"datasetReference": {"projectId": "physionet-data", "datasetId": "mimiciv_3_1_hosp"}, "location": "US"}),
    );
    post(
        &format!("{api}/projects/physionet-data/datasets/mimiciv_3_1_hosp/tables"),
        &json!({"tableReference": {"projectId": "physionet-data", "datasetId": "mimiciv_3_1_hosp", "tableId": "patients"},
            "schema": {"fields": [{"name": "subject_id", "type": "INT64"}, {"name": "gender", "type": "STRING"}, {"name": "anchor_age", "type": "INT64"}]}}),
    );
    let rows: Vec<Value> = (0..100)
        .map(|i| json!({"json": {"subject_id": 10_000_000 + i, "gender": if i % 2 == 0 { "F" } else { "M" }, "anchor_age": 20 + i % 60}}))
        .collect();
    post(
        &format!(
            "{api}/projects/physionet-data/datasets/mimiciv_3_1_hosp/tables/patients/insertAll"
        ),
        &json!({"rows": rows}),
    );

    let data = tempfile::tempdir().expect("tempdir");
    let mut server = McpChild::spawn(
        data.path(),
        &[
            ("M4_DATASET", "mimic-iv-bigquery"),
            ("M4_BIGQUERY_PROJECT", "m4-bench"),
            ("M4_BIGQUERY_API_URL", root.as_str()),
            ("M4_BIGQUERY_CREDENTIALS", "none"),
        ],
    );
    server.initialize();
    let mut single = Vec::new();
    let mut four = Vec::new();
    let mut through_m4 = Vec::new();
    for round in 0..ROUNDS + 5 {
        let started = Instant::now();
        let answer = post(
            &format!("{api}/projects/m4-bench/queries"),
            &json!({"query": SQL, "useLegacySql": false, "formatOptions": {"useInt64Timestamp": true}}),
        );
        let t_single = started.elapsed();
        assert_eq!(answer["rows"].as_array().map(Vec::len), Some(2));

        let started = Instant::now();
        let query = json!({"query": SQL, "useLegacySql": false, "useQueryCache": true});
        post(
            &format!("{api}/projects/m4-bench/jobs"),
            &json!({"jobReference": {"projectId": "m4-bench", "location": "US"}, "configuration": {"dryRun": true, "query": query}}),
        );
        let id = format!("bench_{round}");
        let mut config = json!({"query": query, "labels": {"app": "m4"}, "jobTimeoutMs": "30000"});
        config["query"]["maximumBytesBilled"] = json!("50000000000");
        post(
            &format!("{api}/projects/m4-bench/jobs"),
            &json!({"jobReference": {"projectId": "m4-bench", "jobId": id, "location": "US"}, "configuration": config}),
        );
        let page: Value = ureq::get(&format!(
            "{api}/projects/m4-bench/queries/{id}?location=US&maxResults=1001&timeoutMs=2000&formatOptions.useInt64Timestamp=true"
        ))
        .call()
        .expect("results")
        .body_mut()
        .read_json()
        .expect("results JSON");
        assert_eq!(page["rows"].as_array().map(Vec::len), Some(2));
        ureq::get(&format!("{api}/projects/m4-bench/jobs/{id}?location=US"))
            .call()
            .expect("jobs.get");
        let t_four = started.elapsed();

        let started = Instant::now();
        let result = server.call_tool("execute_query", json!({"sql_query": "SELECT gender, COUNT(*) AS n FROM mimiciv_hosp.patients GROUP BY gender ORDER BY gender"}));
        let t_m4 = started.elapsed();
        assert_eq!(
            result["structuredContent"]["row_count"],
            json!(2),
            "{result}"
        );
        if round >= 5 {
            single.push(t_single);
            four.push(t_four);
            through_m4.push(t_m4);
        }
    }
    println!(
        "bigquery_bench against bqemulator 1.4.0 on loopback ({ROUNDS} rounds after 5 warm-up):"
    );
    let one = report("emulator: jobs.query", &mut single);
    let direct = report("emulator: m4's 4 calls", &mut four);
    let m4 = report("m4 execute_query", &mut through_m4);
    println!(
        "m4's overhead over its own calls: {:.2} ms per call; dry run and job bookkeeping over one jobs.query: {:.2} ms",
        (m4.as_secs_f64() - direct.as_secs_f64()) * 1e3,
        (direct.as_secs_f64() - one.as_secs_f64()) * 1e3
    );
    drop(server);
    let _ = emulator.kill();
    let _ = emulator.wait();
}
