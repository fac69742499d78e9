//! Load on the team server: 50 concurrent sessions, each a distinct user, 20 tool
//! calls each, against `m4 serve --http` on the MIMIC-IV demo (`M4_BENCH_DATA_DIR`,
//! a data folder with `mimic-iv-demo` initialised) or, without it, the synthetic data
//! set built in a temporary folder. Once with OAuth2 on (tokens minted with the
//! fixture keys, the key set served from a loopback thread) and once with it off, so
//! the cost of authentication per request is visible. Prints p50/p99 latency per
//! call, errors, and the server's peak memory (VmHWM, Linux).
//!
//! Run: `cargo bench --bench http_bench` (with `CARGO_TARGET_DIR` as in the README);
//! `M4_BENCH_SESSIONS` and `M4_BENCH_CALLS` change 50 and 20. It asserts nothing
//! but that every call answered: timings on shared machines are noisy.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use m4::auth::testkeys;
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Serves the fixture key set at `http://127.0.0.1:<port>/jwks` until the process ends.
fn serve_jwks() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let body = testkeys::jwks(&["rsa-a", "ec-a"]);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || answer(stream, &body));
        }
    });
    format!("http://127.0.0.1:{port}/jwks")
}

fn answer(mut stream: TcpStream, body: &str) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &Path, auth: Option<&str>) -> Server {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_m4"));
    command
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .env("M4_DATA_DIR", data_dir)
        .env("M4_AUDIT_LOG", "off")
        .env("M4_LOG_LEVEL", "warn")
        .env("M4_HTTP_MAX_IN_FLIGHT", "1000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(jwks) = auth {
        command
            .env("M4_OAUTH2_ENABLED", "true")
            .env("M4_OAUTH2_ISSUER_URL", ISSUER)
            .env("M4_OAUTH2_AUDIENCE", testkeys::AUDIENCE)
            .env("M4_OAUTH2_JWKS_URL", jwks)
            .env("M4_OAUTH2_RATE_LIMIT_REQUESTS", "1000000");
    }
    let child = command.spawn().expect("start m4 serve --http");
    let server = Server { child, url };
    let deadline = Instant::now() + Duration::from_secs(120);
    while ureq::get(format!("{}/healthz", server.url)).call().is_err() {
        assert!(Instant::now() < deadline, "no /healthz within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn token_for(user: usize) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut claims = testkeys::claims(ISSUER, testkeys::AUDIENCE, now);
    claims["sub"] = json!(format!("researcher-{user}"));
    let key = if user.is_multiple_of(2) {
        "rsa-a"
    } else {
        "ec-a"
    };
    testkeys::sign(&testkeys::header(key), &claims, key)
}

/// The calls a session makes, in turn: a mix of the tools a researcher uses.
fn call_body(i: usize) -> Value {
    let (name, arguments) = match i % 4 {
        0 => (
            "execute_query",
            json!({"sql_query": "select gender, count(*) as n from mimiciv_hosp.patients group by gender"}),
        ),
        1 => ("get_icu_stays", json!({"limit": 5})),
        2 => (
            "get_table_info",
            json!({"table_name": "mimiciv_hosp.admissions", "show_sample": false}),
        ),
        // Not search_items: it scans the event tables (about 2 s on the demo) and
        // would measure DuckDB, not the server.
        _ => ("get_race_distribution", json!({"limit": 5})),
    };
    json!({"jsonrpc": "2.0", "id": i + 10, "method": "tools/call",
           "params": {"name": name, "arguments": arguments}})
}

/// Runs `sessions` x `calls`; returns each call's latency and the number of errors.
fn load(server: &Server, sessions: usize, calls: usize, auth: bool) -> (Vec<Duration>, usize) {
    let barrier = Arc::new(Barrier::new(sessions));
    let threads: Vec<_> = (0..sessions)
        .map(|user| {
            let barrier = Arc::clone(&barrier);
            let url = format!("{}/mcp", server.url);
            let token = auth.then(|| token_for(user));
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(120)))
                    .build()
                    .into();
                let post = |body: &Value| {
                    let mut request = agent
                        .post(&url)
                        .header("Accept", "application/json, text/event-stream")
                        .header("Content-Type", "application/json")
                        .header("MCP-Protocol-Version", "2025-11-25");
                    if let Some(token) = &token {
                        request = request.header("Authorization", format!("Bearer {token}"));
                    }
                    request.send(body.to_string())
                };
                let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "m4-bench", "version": "1"}}});
                let _ = post(&init);
                barrier.wait();
                let mut latencies = Vec::with_capacity(calls);
                let mut errors = 0;
                for i in 0..calls {
                    let started = Instant::now();
                    let ok = match post(&call_body(i)) {
                        Ok(mut response) if response.status() == 200 => response
                            .body_mut()
                            .read_to_string()
                            .is_ok_and(|text| !text.contains("\"isError\":true")),
                        _ => false,
                    };
                    latencies.push(started.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for thread in threads {
        let (latencies, e) = thread.join().expect("session thread");
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    (all, errors)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// The server's peak resident memory in MB (Linux), if known.
fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn data_dir(_temp: &mut Option<tempfile::TempDir>) -> (PathBuf, &'static str) {
    if let Ok(dir) = std::env::var("M4_BENCH_DATA_DIR") {
        return (PathBuf::from(dir), "mimic-iv-demo (M4_BENCH_DATA_DIR)");
    }
    let temp = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_m4"))
        .args(["init", "synthetic"])
        .env("M4_DATA_DIR", temp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("m4 init synthetic");
    assert!(status.success(), "m4 init synthetic failed");
    let path = temp.path().to_path_buf();
    *_temp = Some(temp);
    (path, "synthetic (set M4_BENCH_DATA_DIR for the demo)")
}

fn main() {
    let sessions: usize = std::env::var("M4_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let calls: usize = std::env::var("M4_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut temp = None;
    let (data, label) = data_dir(&mut temp);
    let jwks = serve_jwks();
    println!("http_bench: {sessions} sessions x {calls} calls, distinct users, data set {label}");
    for auth in [true, false] {
        let server = start(&data, auth.then_some(jwks.as_str()));
        // One warm-up call: the data set opens on the first.
        let _ = load(&server, 1, 1, auth);
        let started = Instant::now();
        let (latencies, errors) = load(&server, sessions, calls, auth);
        let wall = started.elapsed();
        println!(
            "  auth {:3}: {} calls, {errors} errors, p50 {:.1} ms, p99 {:.1} ms, {:.0} calls/s, peak memory {}",
            if auth { "on" } else { "off" },
            latencies.len(),
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.len() as f64 / wall.as_secs_f64(),
            peak_mb(server.child.id()).map_or("unknown".into(), |mb| format!("{mb:.0} MB")),
        );
        assert_eq!(errors, 0, "every call must answer");
    }
}
