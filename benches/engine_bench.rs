//! Where a `tools/call` spends its time inside the server, with no MCP around it:
//! the DuckDB engine opened as `m4 serve` opens it, then, for `select 1` and for
//! 1,000 × 16-column `labevents` rows, the statement check, the checked query run
//! into a result, and that result rendered, serialised as rmcp writes a reply
//! and freed.
//! `m4_bench` measures the same calls as a client sees them; the difference is
//! the transport and the call's own wrapper.
//!
//! The first lines are DuckDB's own cost per statement, the floor under a
//! checked query.
//!
//! Run: `cargo build --release --bench engine_bench`, then the printed
//! `target/release/deps/engine_bench-*` executable with `--bench` (the real demo
//! when `M4_TEST_DEMO_DIR` is set, else the synthetic data set). It reports
//! figures and asserts none, because this machine's timing is noisy.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use m4::engine::duckdb::{DuckDbEngine, Options};
use m4::engine::{Engine, Limits};

/// The median of `rounds` runs of `work`, after a warm-up of a tenth as many.
fn median(rounds: usize, mut work: impl FnMut()) -> Duration {
    for _ in 0..rounds / 10 {
        work();
    }
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn report(name: &str, elapsed: Duration) {
    println!("{name:<60} median={:>9.3} ms", elapsed.as_secs_f64() * 1e3);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let data = tempfile::tempdir().expect("tempdir");
    let dataset = common::build_bench_data_set(data.path(), &["--no-derived"]);
    let engine = DuckDbEngine::open(
        &data.path().join(format!("{dataset}.duckdb")),
        &Options {
            memory_limit: 2 << 30,
            max_temp_size: 0,
            threads,
            spill_dir: data.path().join("spill"),
        },
    )
    .expect("open the data set as m4 serve does");
    duckdb_floor(threads);
    let limits = Limits {
        max_rows: 1000,
        max_bytes: 1_000_000,
        timeout: Duration::from_secs(30),
    };
    for (name, sql, rounds) in [
        ("select 1", "select 1", 2000),
        (
            "1,000 labevents rows",
            "select * from mimiciv_hosp.labevents limit 1000",
            300,
        ),
    ] {
        report(
            &format!("{name}: check"),
            median(rounds, || {
                engine.begin().expect("session").check(sql).expect("check");
            }),
        );
        report(
            &format!("{name}: check + run"),
            median(rounds, || {
                let mut session = engine.begin().expect("session");
                let query = session.check(sql).expect("check");
                session.run(&query, &limits).expect("run");
            }),
        );
        let mut session = engine.begin().expect("session");
        let query = session.check(sql).expect("check");
        let result = session.run(&query, &limits).expect("run");
        // `render` takes the result, so each round renders a copy: the copy's own
        // cost (made and freed) is the line before, to subtract.
        report(
            &format!("{name}: copy of the result (to subtract)"),
            median(rounds, || drop(result.clone())),
        );
        report(
            &format!("{name}: copy + render + serialise the reply"),
            median(rounds, || {
                let rendered = m4::format::render(result.clone(), 1000, 1_000_000);
                let mut reply =
                    rmcp::model::CallToolResult::success(vec![rmcp::model::ContentBlock::text(
                        rendered.text,
                    )]);
                reply.structured_content = Some(rendered.structured);
                let bytes = serde_json::to_vec(&reply).expect("serialise");
                assert!(bytes.len() > 100);
            }),
        );
    }
}

/// What DuckDB itself charges per statement, with no m4 around it, on an
/// in-memory instance with the engine's thread count. A checked `select 1` runs
/// three statements (the check's `EXECUTE`, the query's `PREPARE` and its
/// `EXECUTE`, each planned, optimised and run by DuckDB 2.0), so these lines are
/// the floor under `select 1: check + run`.
fn duckdb_floor(threads: usize) {
    let connection = duckdb::Connection::open_in_memory().expect("in-memory DuckDB");
    connection
        .execute_batch(&format!("SET threads = {threads}"))
        .expect("set threads");
    report(
        "DuckDB alone: a prepared `SELECT ?::VARCHAR` run again",
        median(2000, || {
            let text: String = connection
                .prepare_cached("SELECT ?::VARCHAR")
                .and_then(|mut statement| statement.query_row(["select 1"], |row| row.get(0)))
                .expect("one statement");
            assert_eq!(text, "select 1");
        }),
    );
    report(
        "DuckDB alone: prepare `select 1`",
        median(2000, || {
            connection.prepare("select 1").expect("prepare");
        }),
    );
    report(
        "DuckDB alone: prepare `select 1` and stream its row",
        median(2000, || {
            let mut statement = connection.prepare("select 1").expect("prepare");
            let rows: usize = statement
                .stream_arrow([])
                .expect("stream")
                .map(|batch| batch.expect("a batch").num_rows())
                .sum();
            assert_eq!(rows, 1);
        }),
    );
}
