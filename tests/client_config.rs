//! `m4 config <client>`: the real binary writing and printing MCP client entries
//! on temporary files, as a user would run it after building m4.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::run_m4;

fn m4_binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_m4"))
        .canonicalize()
        .expect("canonical m4 path")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("config file");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}):\n{text}", path.display()))
}

fn backup_of(path: &Path) -> PathBuf {
    let mut backup = path.as_os_str().to_owned();
    backup.push(".bak");
    PathBuf::from(backup)
}

/// Runs `m4 config claude --config-file <file> <extra...>`.
fn config_claude(data_dir: &Path, file: &Path, extra: &[&str]) -> (bool, String, String) {
    let file = file.to_string_lossy().into_owned();
    let mut args = vec!["config", "claude", "--config-file", file.as_str()];
    args.extend_from_slice(extra);
    run_m4(data_dir, &args, &[])
}

#[test]
fn config_claude_creates_a_fresh_file_with_the_absolute_binary_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Claude").join("claude_desktop_config.json");

    let (ok, out, err) = config_claude(dir.path(), &file, &[]);

    assert!(ok, "stderr:\n{err}");
    assert!(out.contains("Added"), "stdout:\n{out}");
    let config = read_json(&file);
    let entry = &config["mcpServers"]["m4"];
    assert_eq!(entry["command"], json!(m4_binary().to_string_lossy()));
    assert!(Path::new(entry["command"].as_str().unwrap()).is_absolute());
    assert_eq!(entry["args"], json!(["serve"]));
    // The test harness sets M4_DATA_DIR, and a desktop app would not inherit it.
    assert_eq!(
        entry["env"]["M4_DATA_DIR"],
        json!(dir.path().canonicalize().unwrap().to_string_lossy())
    );
    assert!(!backup_of(&file).exists(), "no backup for a new file");
}

#[test]
fn config_claude_keeps_other_servers_and_settings_and_backs_up_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let original = r#"{
  "globalShortcut": "Alt+Space",
  "mcpServers": {
    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me"]},
    "m4": {"command": "/old/place/m4", "args": ["serve"]}
  }
}"#;
    std::fs::write(&file, original).unwrap();

    let (ok, out, err) = config_claude(dir.path(), &file, &["--dataset", "mimic-iv-demo"]);

    assert!(ok, "stderr:\n{err}");
    assert!(out.contains("Updated"), "stdout:\n{out}");
    let before: Value = serde_json::from_str(original).unwrap();
    let after = read_json(&file);
    assert_eq!(after["globalShortcut"], before["globalShortcut"]);
    assert_eq!(
        after["mcpServers"]["filesystem"],
        before["mcpServers"]["filesystem"]
    );
    assert_eq!(after["mcpServers"].as_object().unwrap().len(), 2, "{after}");
    assert_eq!(
        after["mcpServers"]["m4"]["env"]["M4_DATASET"],
        "mimic-iv-demo"
    );
    assert_eq!(
        std::fs::read_to_string(backup_of(&file)).unwrap(),
        original,
        "the backup holds the file as it was"
    );
}

#[test]
fn config_claude_keeps_the_rest_of_the_users_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    // Laid out as Claude Desktop writes it (two-space JSON), keys in the user's
    // order, which is not sorted at any level.
    let head = r#"{
  "mcpServers": {
    "zotero": {
      "command": "uvx",
      "env": {
        "ZOTERO_LOCAL": "true",
        "API_KEY": "k"
      },
      "args": [
        "zotero-mcp"
      ]
    },
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/Users/me"
      ]
    }"#;
    let tail = r#"
  },
  "globalShortcut": "Alt+Space",
  "darkMode": true,
  "windowBounds": {
    "y": 10,
    "x": 20
  }
}
"#;
    std::fs::write(&file, format!("{head}{tail}")).unwrap();

    let (ok, _, err) = config_claude(dir.path(), &file, &[]);

    assert!(ok, "stderr:\n{err}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(head), "{after}");
    assert!(after.ends_with(tail), "{after}");
    let added = &after[head.len()..after.len() - tail.len()];
    assert!(
        added.starts_with(",\n    \"m4\": {\n      \"command\": "),
        "{added}"
    );
    assert_eq!(
        read_json(&file)["mcpServers"]["m4"]["args"],
        json!(["serve"])
    );
}

#[test]
fn config_claude_twice_changes_nothing_the_second_time_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(&file, r#"{"mcpServers": {"other": {"command": "x"}}}"#).unwrap();

    let (ok, _, err) = config_claude(dir.path(), &file, &[]);
    assert!(ok, "stderr:\n{err}");
    let after_first = std::fs::read(&file).unwrap();
    let backup_after_first = std::fs::read(backup_of(&file)).unwrap();

    let (ok, out, err) = config_claude(dir.path(), &file, &[]);

    assert!(ok, "stderr:\n{err}");
    assert!(out.contains("nothing changed"), "stdout:\n{out}");
    assert_eq!(std::fs::read(&file).unwrap(), after_first);
    assert_eq!(
        std::fs::read(backup_of(&file)).unwrap(),
        backup_after_first,
        "an unchanged run must not overwrite the backup of the original"
    );
}

#[test]
fn config_claude_leaves_a_malformed_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let broken = "{\"mcpServers\": {\"other\": {\"command\": \"x\"},}\n";
    std::fs::write(&file, broken).unwrap();

    let (ok, _, err) = config_claude(dir.path(), &file, &[]);

    assert!(!ok, "a malformed file must be an error");
    assert!(err.contains("is not valid JSON"), "stderr:\n{err}");
    assert!(err.contains("claude_desktop_config.json"), "stderr:\n{err}");
    assert!(err.contains("hint:"), "stderr:\n{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
    assert!(!backup_of(&file).exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[cfg(target_os = "linux")]
#[test]
fn config_claude_writes_claude_desktops_linux_location() {
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("xdg");
    let home_str = home.path().to_string_lossy().into_owned();
    let xdg_str = xdg.to_string_lossy().into_owned();

    let (ok, out, err) = run_m4(
        home.path(),
        &["config", "claude"],
        &[("HOME", &home_str), ("XDG_CONFIG_HOME", &xdg_str)],
    );

    assert!(ok, "stderr:\n{err}");
    let file = xdg.join("Claude").join("claude_desktop_config.json");
    assert!(out.contains(&*file.to_string_lossy()), "stdout:\n{out}");
    assert_eq!(
        read_json(&file)["mcpServers"]["m4"]["command"],
        json!(m4_binary().to_string_lossy())
    );
}

#[test]
fn config_print_shows_each_clients_shape_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let home_str = home.path().to_string_lossy().into_owned();
    let env = [
        ("HOME", home_str.as_str()),
        ("XDG_CONFIG_HOME", home_str.as_str()),
        ("APPDATA", home_str.as_str()),
    ];
    let binary = m4_binary().to_string_lossy().into_owned();
    let print = |client: &str| {
        let (ok, out, err) = run_m4(home.path(), &["config", client, "--print"], &env);
        assert!(ok, "m4 config {client} --print failed:\n{err}");
        out
    };

    for (client, servers_key) in [
        ("claude", "mcpServers"),
        ("cursor", "mcpServers"),
        ("vscode", "servers"),
    ] {
        let out = print(client);
        let snippet: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{client} snippet is not JSON ({e}):\n{out}"));
        let entry = &snippet[servers_key]["m4"];
        assert_eq!(entry["command"], json!(binary), "{client}: {snippet}");
        assert_eq!(entry["args"], json!(["serve"]), "{client}: {snippet}");
        assert_eq!(snippet.as_object().unwrap().len(), 1, "{client}: {snippet}");
    }
    let vscode: Value = serde_json::from_str(&print("vscode")).unwrap();
    assert_eq!(vscode["servers"]["m4"]["type"], "stdio");

    let command = print("claude-code");
    assert!(
        command.starts_with("claude mcp add m4 --transport stdio"),
        "{command}"
    );
    assert!(
        command.trim_end().ends_with(&format!("-- {binary} serve")),
        "{command}"
    );
    assert!(command.contains("--env M4_DATA_DIR="), "{command}");

    let written: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(written.is_empty(), "--print wrote files: {written:?}");
}

#[test]
fn config_only_prints_for_clients_whose_files_m4_does_not_edit() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run_m4(dir.path(), &["config", "cursor"], &[]);
    assert!(!ok);
    assert!(err.contains("m4 config cursor --print"), "stderr:\n{err}");

    let (ok, _, err) = run_m4(dir.path(), &["config", "vscodee", "--print"], &[]);
    assert!(!ok);
    assert!(err.contains("did you mean `vscode`"), "stderr:\n{err}");
}

#[test]
fn config_oauth2_flags_become_m4_oauth2_variables_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");

    let (ok, _, err) = config_claude(
        dir.path(),
        &file,
        &[
            "--name",
            "m4-oauth2",
            "--enable-oauth2",
            "--oauth2-issuer",
            "https://hospital.okta.com/oauth2/default",
            "--oauth2-audience",
            "m4-api",
            "--oauth2-scopes",
            "read:mimic-data",
            "--oauth2-jwks-url",
            "https://hospital.okta.com/oauth2/default/v1/keys",
        ],
    );

    assert!(ok, "stderr:\n{err}");
    assert!(!err.contains("warning"), "no token, no warning:\n{err}");
    let env = &read_json(&file)["mcpServers"]["m4-oauth2"]["env"];
    assert_eq!(env["M4_OAUTH2_ENABLED"], "true");
    assert_eq!(
        env["M4_OAUTH2_ISSUER_URL"],
        "https://hospital.okta.com/oauth2/default"
    );
    assert_eq!(env["M4_OAUTH2_AUDIENCE"], "m4-api");
    assert_eq!(env["M4_OAUTH2_REQUIRED_SCOPES"], "read:mimic-data");
    assert_eq!(
        env["M4_OAUTH2_JWKS_URL"],
        "https://hospital.okta.com/oauth2/default/v1/keys"
    );
    assert!(env.get("M4_OAUTH2_TOKEN").is_none(), "{env}");
}

#[test]
fn config_enable_oauth2_points_at_m4_auth_login_not_a_pasted_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let oauth = [
        "--enable-oauth2",
        "--oauth2-issuer",
        "https://hospital.okta.com/oauth2/default",
        "--oauth2-audience",
        "m4-api",
    ];
    let mut with_client = oauth.to_vec();
    with_client.extend(["--oauth2-client-id", "m4-cli"]);

    let (ok, _, err) = config_claude(dir.path(), &file, &with_client);

    assert!(ok, "stderr:\n{err}");
    let env = &read_json(&file)["mcpServers"]["m4"]["env"];
    assert_eq!(env["M4_OAUTH2_CLIENT_ID"], "m4-cli");
    assert!(env.get("M4_OAUTH2_TOKEN").is_none(), "{env}");
    assert!(env.get("M4_OAUTH2_CLIENT_SECRET").is_none(), "{env}");
    let next = err
        .lines()
        .skip_while(|l| !l.starts_with("next: sign in once"))
        .nth(1)
        .unwrap_or_else(|| panic!("no sign-in hint:\n{err}"));
    assert!(
        next.ends_with(" auth login")
            && next.contains("M4_OAUTH2_CLIENT_ID='m4-cli'")
            && next.contains("M4_OAUTH2_ISSUER_URL='https://hospital.okta.com/oauth2/default'"),
        "{next}"
    );
    assert!(
        !err.contains("--oauth2-token"),
        "no pasted token suggested:\n{err}"
    );
    assert!(!err.contains("warning"), "no token, no warning:\n{err}");

    // Without a client id: the same hint, and how to name the client in the entry.
    let (ok, out, err) = config_claude(dir.path(), &file, &[&oauth[..], &["--print"]].concat());
    assert!(ok, "stderr:\n{err}");
    assert!(!out.contains("M4_OAUTH2_TOKEN"), "{out}");
    assert!(
        err.contains("m4 auth login") || err.contains(" auth login"),
        "{err}"
    );
    assert!(err.contains("pass `--oauth2-client-id ID`"), "{err}");
}

#[test]
fn config_enable_oauth2_without_issuer_or_audience_names_the_missing_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");

    let (ok, _, err) = config_claude(
        dir.path(),
        &file,
        &[
            "--enable-oauth2",
            "--oauth2-issuer",
            "https://auth.example.org/",
        ],
    );
    assert!(!ok);
    assert!(err.contains("`--oauth2-audience`"), "stderr:\n{err}");

    let (ok, _, err) = config_claude(
        dir.path(),
        &file,
        &["--enable-oauth2", "--oauth2-audience", "m4-api"],
    );
    assert!(!ok);
    assert!(err.contains("`--oauth2-issuer`"), "stderr:\n{err}");
    assert!(!file.exists(), "nothing written on error");
}

#[test]
fn config_writes_a_token_only_when_passed_and_warns_where_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl";

    let (ok, _, err) = config_claude(
        dir.path(),
        &file,
        &[
            "--enable-oauth2",
            "--oauth2-issuer",
            "https://auth.example.org/",
            "--oauth2-audience",
            "m4-api",
            "--oauth2-token",
            token,
        ],
    );

    assert!(ok, "stderr:\n{err}");
    assert_eq!(
        read_json(&file)["mcpServers"]["m4"]["env"]["M4_OAUTH2_TOKEN"],
        token
    );
    assert!(err.contains("warning"), "stderr:\n{err}");
    assert!(err.contains("plain text"), "stderr:\n{err}");
    assert!(
        err.contains(&*file.canonicalize().unwrap().to_string_lossy()),
        "stderr:\n{err}"
    );
    assert!(
        !err.contains(token),
        "the warning must not echo the token:\n{err}"
    );
}

/// Every `M4_*` name declared in src/config.rs, the one place they are defined.
fn known_m4_variables() -> BTreeSet<String> {
    let source = include_str!("../src/config.rs");
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub const M4_"))
        .filter_map(|rest| rest.split('"').nth(1))
        .map(str::to_string)
        .collect()
}

#[test]
fn example_claude_desktop_config_uses_only_known_m4_variables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("claude_desktop_config.example.json");
    let example = read_json(&path);
    let known = known_m4_variables();
    assert!(known.contains("M4_OAUTH2_ISSUER_URL"), "{known:?}");

    let servers = example["mcpServers"]
        .as_object()
        .expect("mcpServers object");
    let mut oauth_entries = 0;
    let mut open_entries = 0;
    for (name, entry) in servers {
        assert!(
            Path::new(entry["command"].as_str().unwrap_or("")).is_absolute(),
            "`{name}` must use an absolute command path"
        );
        let env = entry["env"].as_object().cloned().unwrap_or_default();
        for key in env.keys() {
            assert!(
                known.contains(key),
                "`{name}` uses unknown variable `{key}`"
            );
        }
        if env.get("M4_OAUTH2_ENABLED") == Some(&json!("true")) {
            assert!(env.contains_key("M4_OAUTH2_ISSUER_URL"), "`{name}`");
            assert!(env.contains_key("M4_OAUTH2_AUDIENCE"), "`{name}`");
            oauth_entries += 1;
        } else {
            open_entries += 1;
        }
    }
    assert!(open_entries >= 1 && oauth_entries >= 1, "{example}");
}
