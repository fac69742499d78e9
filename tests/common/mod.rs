//! Shared test harness: runs the real `m4` binary as a client would, with a clean
//! environment, and speaks MCP (newline-delimited JSON-RPC) over its stdio.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
#[cfg(unix)]
use std::os::fd::OwnedFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use duckdb::{AccessMode, Config, Connection};
use serde_json::{Value, json};

/// How long a test waits for one response before failing instead of hanging.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// The `m4` binary with an environment cleared of anything the developer's shell
/// might leak (M4_*, RUST_LOG), pointed at `data_dir`.
pub fn m4_command(data_dir: &Path) -> Command {
    m4_command_of(Path::new(env!("CARGO_BIN_EXE_m4")), data_dir)
}

/// [`m4_command`] for another build of m4 (a benchmark's before and after).
pub fn m4_command_of(binary: &Path, data_dir: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear();
    for keep in ["PATH", "HOME", "TMPDIR", "LANG"] {
        if let Ok(value) = std::env::var(keep) {
            cmd.env(keep, value);
        }
    }
    cmd.env("M4_DATA_DIR", data_dir);
    cmd
}

/// Runs `m4 args...` to completion and returns (status success, stdout, stderr).
pub fn run_m4(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let output = m4_command(data_dir)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("failed to run the m4 binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A data folder in which `m4 init` built a data set, with what `init` printed.
pub struct BuiltDataSet {
    _dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub init: Output,
}

/// Runs `m4 init <args>` in a new temporary data folder and checks it succeeded.
pub fn build_data_set(dataset: &str, extra_args: &[&str]) -> BuiltDataSet {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_path_buf();
    let init = m4_command(&data_dir)
        .args(["init", dataset])
        .args(extra_args)
        .stdin(Stdio::null())
        .output()
        .expect("failed to run the m4 binary");
    assert!(
        init.status.success(),
        "m4 init {dataset} {extra_args:?} failed:\n{}",
        String::from_utf8_lossy(&init.stderr)
    );
    BuiltDataSet {
        database: data_dir.join(format!("{dataset}.duckdb")),
        data_dir,
        _dir: dir,
        init,
    }
}

/// The synthetic data set, built once per test binary and shared by every test.
pub fn synthetic() -> &'static BuiltDataSet {
    static BUILT: OnceLock<BuiltDataSet> = OnceLock::new();
    BUILT.get_or_init(|| build_data_set("synthetic", &[]))
}

/// The data folder of [`synthetic`].
pub fn synthetic_data_dir() -> &'static Path {
    &synthetic().data_dir
}

/// Builds a benchmark's data set in `data_dir`: the real demo when
/// `M4_TEST_DEMO_DIR` names it, else the synthetic set; `extra_args` go to
/// `m4 init`. Returns the data set's name, and prints it.
pub fn build_bench_data_set(data_dir: &Path, extra_args: &[&str]) -> &'static str {
    let demo = std::env::var("M4_TEST_DEMO_DIR").ok();
    let (dataset, mut args) = match &demo {
        Some(src) => ("mimic-iv-demo", vec!["init", "mimic-iv-demo", "--src", src]),
        None => ("synthetic", vec!["init", "synthetic"]),
    };
    args.extend_from_slice(extra_args);
    let (ok, _, err) = run_m4(data_dir, &args, &[]);
    assert!(ok, "could not build the {dataset} data set:\n{err}");
    println!("data set: {dataset}");
    dataset
}

/// The real MIMIC-IV demo folder from `M4_TEST_DEMO_DIR`, or `None` (with a
/// visible SKIPPED line) when it is not configured. Under CI a missing folder fails.
pub fn demo_source_dir(test: &str) -> Option<PathBuf> {
    match std::env::var("M4_TEST_DEMO_DIR") {
        Ok(dir) if Path::new(&dir).join("hosp").is_dir() => Some(PathBuf::from(dir)),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: M4_TEST_DEMO_DIR is {other:?}, but CI must run the real-demo tests"
            );
            // Straight to the stderr handle: libtest captures `eprintln!`, and a
            // skip must be visible in a normal run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: set M4_TEST_DEMO_DIR to the MIMIC-IV demo v2.2 folder to run it"
            );
            None
        }
    }
}

/// The real demo loaded with `m4 init mimic-iv-demo --src`, once per test
/// binary, and its source folder; `None` when the demo is not configured.
pub fn demo(test: &str) -> Option<(&'static BuiltDataSet, PathBuf)> {
    static BUILT: OnceLock<BuiltDataSet> = OnceLock::new();
    let src = demo_source_dir(test)?;
    let built =
        BUILT.get_or_init(|| build_data_set("mimic-iv-demo", &["--src", &src.to_string_lossy()]));
    Some((built, src))
}

/// The data folder of [`demo`].
pub fn demo_data_dir(test: &str) -> Option<&'static Path> {
    demo(test).map(|(built, _)| built.data_dir.as_path())
}

/// How a client connects the server's stdin and stdout.
#[derive(Debug, Clone, Copy)]
pub enum Wiring {
    /// Anonymous pipes (Python's `subprocess`, shells).
    Pipes,
    /// A Unix socket pair for each (Node's `child_process`: Claude Desktop,
    /// Claude Code, Cursor, VS Code).
    #[cfg(unix)]
    Sockets,
}

/// A started server and this side's ends: what to write requests to, what to read replies from.
pub type Spawned = (Child, Box<dyn Write + Send>, Box<dyn Read + Send>);

impl Wiring {
    /// Starts `command` with its stdin and stdout connected this way.
    pub fn spawn(self, mut command: Command) -> Spawned {
        let spawned: Spawned = match self {
            Wiring::Pipes => {
                let mut child = command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("failed to start m4 serve");
                let stdin = child.stdin.take().expect("stdin");
                let stdout = child.stdout.take().expect("stdout");
                (child, Box::new(stdin), Box::new(stdout))
            }
            #[cfg(unix)]
            Wiring::Sockets => {
                let (ours_in, theirs_in) = UnixStream::pair().expect("socket pair");
                let (ours_out, theirs_out) = UnixStream::pair().expect("socket pair");
                let child = command
                    .stdin(Stdio::from(OwnedFd::from(theirs_in)))
                    .stdout(Stdio::from(OwnedFd::from(theirs_out)))
                    .spawn()
                    .expect("failed to start m4 serve");
                (child, Box::new(ours_in), Box::new(ours_out))
            }
        };
        // The command holds the child's ends of the sockets until it is dropped:
        // while this process holds the child's stdout, the reader never sees it end.
        drop(command);
        spawned
    }
}

/// A running `m4 serve` child and a line-oriented JSON-RPC client for it.
pub struct McpChild {
    child: Child,
    stdin: Option<Box<dyn Write + Send>>,
    lines: Receiver<String>,
    next_id: u64,
    stderr_path: PathBuf,
    _stderr_dir: tempfile::TempDir,
}

impl McpChild {
    /// Starts `m4 serve` on `data_dir` with extra environment variables.
    pub fn spawn(data_dir: &Path, envs: &[(&str, &str)]) -> McpChild {
        let mut cmd = m4_command(data_dir);
        cmd.arg("serve").envs(envs.iter().copied());
        McpChild::spawn_command(cmd)
    }

    /// Starts an already prepared command (its stdio is taken over here), its
    /// stdin and stdout connected with pipes, as Python's `subprocess` does.
    pub fn spawn_command(cmd: Command) -> McpChild {
        McpChild::spawn_wired(cmd, Wiring::Pipes)
    }

    /// Starts an already prepared command with its stdin and stdout connected as `wiring` says.
    pub fn spawn_wired(mut cmd: Command, wiring: Wiring) -> McpChild {
        let stderr_dir = tempfile::tempdir().expect("tempdir");
        let stderr_path = stderr_dir.path().join("stderr.log");
        let stderr_file = std::fs::File::create(&stderr_path).expect("stderr log");
        cmd.stderr(stderr_file);
        let (child, stdin, stdout) = wiring.spawn(cmd);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        McpChild {
            stdin: Some(stdin),
            child,
            lines: rx,
            next_id: 1,
            stderr_path,
            _stderr_dir: stderr_dir,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server logged to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Writes one raw line to the server's stdin.
    pub fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        writeln!(stdin, "{line}").expect("write to m4 stdin");
        stdin.flush().expect("flush m4 stdin");
    }

    /// Sends a notification (no id, no response).
    pub fn notify(&mut self, method: &str, params: Value) {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(&msg.to_string());
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&msg.to_string());
        id
    }

    /// Waits for the response with `id`, skipping notifications and other messages.
    pub fn wait_response(&mut self, id: u64) -> Value {
        let deadline = std::time::Instant::now() + RESPONSE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|e| {
                panic!(
                    "no response to request {id} ({e}); stderr:\n{}",
                    self.stderr()
                )
            });
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            if msg.get("id") == Some(&json!(id)) {
                return msg;
            }
        }
    }

    /// Waits for the next message of any kind, or `None` after `timeout`.
    pub fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        Some(serde_json::from_str(&line).expect("stdout line is not JSON"))
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.wait_response(id)
    }

    /// The MCP handshake; returns the `initialize` result.
    pub fn initialize(&mut self) -> Value {
        let response = self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "m4-tests", "version": "0"}
            }),
        );
        self.notify("notifications/initialized", json!({}));
        response
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("initialize failed: {response}"))
    }

    /// `tools/list` → the tools array.
    pub fn list_tools(&mut self) -> Vec<Value> {
        let response = self.request("tools/list", json!({}));
        response["result"]["tools"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("tools/list failed: {response}"))
    }

    /// `tools/call` → the call's result object (`content`, `isError`, `structuredContent`).
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        response
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("tools/call {name} got a protocol error: {response}"))
    }

    /// Closes stdin and waits for the process to exit; returns whether it exited 0.
    pub fn close(mut self) -> bool {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + RESPONSE_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait m4") {
                return status.success();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "m4 did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for McpChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a tool result's first content block.
pub fn tool_text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("tool result has no text content: {result}"))
        .to_string()
}

/// Whether a tool result is an error result.
pub fn is_tool_error(result: &Value) -> bool {
    result["isError"].as_bool().unwrap_or(false)
}

/// A built database, opened read-only as a check beside the server would.
pub fn open_read_only(path: &Path) -> Connection {
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)
        .expect("config");
    Connection::open_with_flags(path, config).expect("database opens read-only")
}

/// The one integer `sql` answers.
pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
}
