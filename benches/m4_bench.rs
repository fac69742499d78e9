//! End-to-end benchmark of the server as a client sees it: time from process
//! start to the `initialize` response, `tools/call` round trips for a trivial
//! query and for a 1,000-row result (request written to reply read), and the
//! server's peak memory.
//!
//! Run: `cargo bench --bench m4_bench` (uses the real demo when
//! `M4_TEST_DEMO_DIR` is set, else the synthetic data set). `cargo bench`'s
//! profile inherits `release`; to be sure of reusing the compiled DuckDB, build
//! with `cargo build --release --bench m4_bench` and run the printed
//! `target/release/deps/m4_bench-*` executable with `--bench`. It reports figures;
//! it asserts none, because this machine's timing is noisy.
//!
//! `M4_BENCH_BINARY=path/to/other/m4` serves from another build (an older
//! commit's, for a before and after on the same machine and data); the data set
//! is always built by this one. `M4_BENCH_WIRING=sockets` connects the server's
//! stdin and stdout with a Unix socket pair each, as Node clients (Claude
//! Desktop, Claude Code, Cursor, VS Code) do, instead of with pipes, as Python's
//! `subprocess` does.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use common::{McpChild, Wiring};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn report(name: &str, samples: &mut [Duration]) {
    let median = percentile(samples, 0.5);
    let p99 = percentile(samples, 0.99);
    println!(
        "{name:<36} n={:<5} median={:>9.3} ms  p99={:>9.3} ms",
        samples.len(),
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run only under bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let dataset = common::build_bench_data_set(data.path(), &[]);
    // The build that serves: this one, or `M4_BENCH_BINARY`'s.
    let binary = std::env::var_os("M4_BENCH_BINARY").map(std::path::PathBuf::from);
    if let Some(binary) = &binary {
        println!("served by {}", binary.display());
    }
    let wiring = match std::env::var("M4_BENCH_WIRING").as_deref() {
        Err(_) | Ok("pipes") => Wiring::Pipes,
        #[cfg(unix)]
        Ok("sockets") => Wiring::Sockets,
        Ok(other) => panic!("M4_BENCH_WIRING is `pipes` or `sockets`, not `{other}`"),
    };
    println!("stdio wiring: {wiring:?}");
    let server_command = |envs: &[(&str, &str)]| {
        let mut command = match &binary {
            Some(binary) => common::m4_command_of(binary, data.path()),
            None => common::m4_command(data.path()),
        };
        command.arg("serve").envs(envs.iter().copied());
        command
    };

    let mut startup = Vec::new();
    let mut first_answer = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let mut server = McpChild::spawn_wired(server_command(&[("M4_DATASET", dataset)]), wiring);
        server.initialize();
        startup.push(started.elapsed());
        // The data set opens beside the handshake; the first call waits for it.
        server.call_tool("execute_query", json!({"sql_query": "select 1"}));
        first_answer.push(started.elapsed());
        server.close();
    }
    report("start → initialize response", &mut startup);
    report("start → first tools/call answered", &mut first_answer);

    // The 1,000-row call must not be cut by the default caps, which are sized for a
    // conversation (see README): raise them for the round trips.
    let command = server_command(&[
        ("M4_DATASET", dataset),
        ("M4_MAX_ROWS", "1000"),
        ("M4_MAX_BYTES", "1000000"),
    ]);
    let mut client = Client::start(command, wiring);
    client.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "m4-bench", "version": "0"}
        }),
    );
    client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());

    // The floor under every call: MCP's own round trip, no tool and no query.
    let mut pings: Vec<Duration> = (0..1000)
        .map(|_| client.request("ping", json!({})).1)
        .collect();
    report("ping (MCP round trip, no tool)", &mut pings);
    let call = |client: &mut Client, sql: &str, n: usize| {
        (0..n)
            .map(|_| {
                // All the rows: a call gets 100 unless it asks (`max_rows`).
                let (reply, elapsed) = client.request(
                    "tools/call",
                    json!({"name": "execute_query", "arguments": {"sql_query": sql, "max_rows": 1000}}),
                );
                let result = &reply["result"];
                assert!(!common::is_tool_error(result), "{result}");
                assert_eq!(result["structuredContent"]["truncated"], false, "{result}");
                elapsed
            })
            .collect::<Vec<_>>()
    };
    call(&mut client, "select 1", 50); // warm-up
    report(
        "tools/call select 1",
        &mut call(&mut client, "select 1", 1000),
    );
    let rows_sql = "select * from mimiciv_hosp.labevents limit 1000";
    report(
        "tools/call 1,000 labevents rows",
        &mut call(&mut client, rows_sql, 200),
    );
    if let Some(kib) = peak_rss_kib(client.child.id()) {
        println!(
            "{:<36} {:.1} MiB",
            "server peak RSS (VmHWM)",
            kib as f64 / 1024.0
        );
    }
    client.close();
}

/// A client that reads the server's replies on its own thread, as an editor's or
/// a chat app's event loop does, so the figures hold no hand-off between threads
/// on the client's side (the tests' `McpChild` reads on a second thread, for its
/// time-outs).
struct Client {
    child: Child,
    stdin: Box<dyn Write + Send>,
    stdout: BufReader<Box<dyn Read + Send>>,
    next_id: u64,
    line: String,
}

impl Client {
    fn start(mut command: Command, wiring: Wiring) -> Client {
        command.stderr(Stdio::null());
        let (child, stdin, stdout) = wiring.spawn(command);
        Client {
            stdin,
            stdout: BufReader::with_capacity(1 << 20, stdout),
            child,
            next_id: 1,
            line: String::new(),
        }
    }

    /// Writes one message line, already serialised (so a timed request pays only the write).
    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("write to m4");
        self.stdin.flush().expect("flush to m4");
    }

    /// Sends a request and reads its reply; the clock runs from the request
    /// written to the reply's last byte read, and parsing the reply comes after.
    fn request(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> (serde_json::Value, Duration) {
        let id = self.next_id;
        self.next_id += 1;
        let message =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.line.clear();
        let started = Instant::now();
        self.send(&message);
        let read = self.stdout.read_line(&mut self.line).expect("read from m4");
        let elapsed = started.elapsed();
        assert!(read > 0, "m4 closed its output");
        let reply: serde_json::Value = serde_json::from_str(&self.line).expect("a JSON reply");
        assert_eq!(reply["id"], id, "{}", self.line);
        (reply, elapsed)
    }

    fn close(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}
