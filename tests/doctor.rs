//! `m4 doctor`: the real binary checking client configuration files in a home folder
//! of its own (HOME and XDG_CONFIG_HOME point at a temporary folder; Unix only, since
//! Windows takes these folders from APPDATA).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::m4_command;

fn this_binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_m4")).canonicalize().unwrap()
}

/// A home folder with its own configuration and data folders.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where `dirs::config_dir` puts Claude Desktop's file for this home.
    fn claude_desktop_file(&self) -> PathBuf {
        let config = if cfg!(target_os = "macos") {
            self.path().join("Library").join("Application Support")
        } else {
            self.path().join("config")
        };
        config.join("Claude").join("claude_desktop_config.json")
    }

    fn write(&self, path: &Path, value: &Value) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    }

    /// `m4` with this home, its data folder and this folder as the working directory.
    fn command(&self) -> Command {
        let mut cmd = m4_command(&self.path().join("data"));
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data-home"))
            .current_dir(self.path());
        cmd
    }

    fn doctor(&self, json: bool) -> (Option<i32>, String, String) {
        let mut cmd = self.command();
        cmd.arg("doctor");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs a printed fix in a shell with the same environment as `doctor`.
    fn run_fix(&self, fix: &str) {
        let mut cmd = Command::new("sh");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data-home"))
            .env("M4_DATA_DIR", self.path().join("data"))
            .current_dir(self.path())
            .args(["-c", fix]);
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "the printed fix `{fix}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn doctor_finds_a_claude_desktop_entry_whose_binary_moved_and_its_fix_works() {
    let home = Home::new();
    let moved = home.path().join("Downloads").join("m4-old").join("m4");
    home.write(
        &home.claude_desktop_file(),
        &json!({
            "globalShortcut": "Alt+Space",
            "mcpServers": {
                "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]},
                "m4": {"command": moved, "args": ["serve"], "env": {"M4_DATASET": "synthetic"}}
            }
        }),
    );

    let (code, out, err) = home.doctor(false);
    assert_ne!(
        code,
        Some(0),
        "a broken entry must fail the doctor:\n{out}\n{err}"
    );
    assert!(
        out.contains("Claude Desktop entry \"m4\"")
            && out.contains(&format!("runs `{}`, which does not exist", moved.display())),
        "the moved binary is not reported:\n{out}"
    );
    let fix = out
        .lines()
        .skip_while(|l| !l.contains("which does not exist"))
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("fix: "))
        .unwrap_or_else(|| panic!("no fix line after the problem:\n{out}"))
        .to_string();
    assert!(
        fix.starts_with(&this_binary().display().to_string()) && fix.contains("config claude"),
        "the fix should be this binary's `config claude`: {fix}"
    );
    assert!(
        fix.contains("--dataset synthetic"),
        "the fix keeps the entry's data set: {fix}"
    );
    assert!(
        !out.contains("filesystem"),
        "other servers are not m4's business:\n{out}"
    );

    home.run_fix(&fix);

    let (code, out, err) = home.doctor(false);
    assert!(
        out.contains("[ok, runs this binary]"),
        "after the fix the entry runs this binary:\n{out}"
    );
    assert_eq!(
        code,
        Some(0),
        "no problem left (warnings only):\n{out}\n{err}"
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(home.claude_desktop_file()).unwrap())
            .unwrap();
    assert_eq!(
        config["globalShortcut"], "Alt+Space",
        "the fix kept the rest of the file"
    );
    assert_eq!(config["mcpServers"]["m4"]["env"]["M4_DATASET"], "synthetic");
}

#[test]
fn doctor_json_lists_the_entry_and_the_problem_with_its_fix() {
    let home = Home::new();
    home.write(
        &home.claude_desktop_file(),
        &json!({"mcpServers": {"m4": {"command": "/nowhere/m4", "args": ["serve"]}}}),
    );
    let (code, out, _) = home.doctor(true);
    assert_ne!(code, Some(0));
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    assert_eq!(report["binary"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["binary"]["engines"], json!(["duckdb", "bigquery"]));
    assert_eq!(
        report["binary"]["path"],
        json!(this_binary().display().to_string())
    );
    let desktop = report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"] == "Claude Desktop")
        .expect("Claude Desktop is checked");
    assert_eq!(desktop["entries"][0]["command"], "/nowhere/m4");
    assert_eq!(desktop["entries"][0]["ok"], false);
    let problem = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "problem")
        .expect("a problem");
    assert!(
        problem["fix"].as_str().unwrap().contains("config claude"),
        "{problem}"
    );
    assert_eq!(report["datasets"].as_array().unwrap().len(), 4);
    assert!(
        report["data_dir"]["free_bytes"]
            .as_u64()
            .is_some_and(|b| b > 0)
    );
    assert_eq!(report["oauth2"]["enabled"], false);
}

#[test]
fn doctor_checks_an_entrys_env_as_the_server_would_parse_it() {
    let home = Home::new();
    let me = this_binary();
    // Cursor (user-wide), with everything wrong in the env.
    home.write(
        &home.path().join(".cursor").join("mcp.json"),
        &json!({"mcpServers": {"mimic": {"command": me, "args": ["serve"], "env": {
            "M4_DATA_DIR": "${user_config.data_dir}",
            "M4_MAX_ROWS": "lots",
            "M4_DATSET": "mimic-iv-demo",
            "M4_OAUTH2_TOKEN": "secret-token-value"
        }}}}),
    );
    // Claude Code, local scope under a project, with OAuth2 on and a provider that is down,
    // and a data set that is not initialised.
    home.write(
        &home.path().join(".claude.json"),
        &json!({"projects": {"/some/project": {"mcpServers": {"m4": {
        "type": "stdio", "command": me, "args": ["serve"], "env": {
            "M4_DATASET": "mimic-iv-demo",
            "M4_DATA_DIR": home.path().join("data"),
            "M4_OAUTH2_ENABLED": "true",
            "M4_OAUTH2_ISSUER_URL": "http://127.0.0.1:9/",
            "M4_OAUTH2_AUDIENCE": "m4-api"
        }}}}}}),
    );
    let (code, out, err) = home.doctor(false);
    assert_ne!(code, Some(0), "{out}\n{err}");
    for expected in [
        "Cursor entry \"mimic\"",
        "sets `M4_DATA_DIR` to `${user_config.data_dir}`, an unfilled placeholder",
        "`M4_MAX_ROWS` is set to `lots`",
        "sets `M4_DATSET`, which m4 does not read",
        "did you mean `M4_DATASET`?",
        "Claude Code entry \"m4\"",
        "uses data set `mimic-iv-demo`, which is not initialised",
        "init mimic-iv-demo",
        "OAuth2 provider `http://127.0.0.1:9/` is not reachable",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    assert!(
        !out.contains("secret-token-value"),
        "the token leaked:\n{out}"
    );
    let (_, json_out, _) = home.doctor(true);
    assert!(
        !json_out.contains("secret-token-value"),
        "the token leaked in JSON"
    );
    assert!(json_out.contains("[redacted]"));
}
