//! m4 as an installed program: `--version`, the per-user data folder, unfilled bundle
//! placeholders (`${user_config.x}`), `m4 config claude` from an installed copy reached
//! through a symlink (what `uv tool install` and a venv give), and the packaging files
//! (bundle manifest, MCP registry entry, Python package) agreeing with the crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{McpChild, m4_command, synthetic_data_dir};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("failed to run m4");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `m4` with a home folder of its own and no `M4_DATA_DIR`.
#[cfg(unix)]
fn m4_at_home(home: &Path) -> Command {
    let mut cmd = m4_command(home);
    cmd.env_remove("M4_DATA_DIR")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data-home"))
        .env("XDG_CONFIG_HOME", home.join("config-home"));
    cmd
}

/// Where `dirs::data_dir` points for a home folder set up by [`m4_at_home`].
#[cfg(unix)]
fn user_data_dir(home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library").join("Application Support")
    } else {
        home.join("data-home")
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[test]
fn version_names_m4_duckdb_and_the_engines() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--version", "-V"] {
        let (ok, out, err) = output(m4_command(dir.path()).arg(flag));
        assert!(ok, "stderr:\n{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.first(),
            Some(&format!("m4 {VERSION}").as_str()),
            "{out}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("DuckDB v")),
            "no DuckDB version:\n{out}"
        );
        assert!(lines.contains(&"engines: duckdb, bigquery"), "{out}");
    }
}

#[cfg(unix)] // HOME and XDG_* decide the user folders
#[test]
fn default_data_folder_is_per_user_not_the_build_checkout() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = output(m4_at_home(home.path()).arg("status"));
    assert!(ok, "stderr:\n{err}");
    let expected = user_data_dir(home.path())
        .join("m4")
        .join("synthetic.duckdb");
    assert!(
        out.contains(&expected.display().to_string()),
        "status should place data sets in {}:\n{out}",
        expected.display()
    );
    assert!(
        !out.contains(&root().join("data").display().to_string()),
        "status still points at the checkout:\n{out}"
    );
}

#[cfg(unix)] // HOME and XDG_* decide the user folders
#[test]
fn unfilled_data_dir_placeholder_is_unset_with_one_warning_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = output(
        m4_at_home(home.path())
            .arg("status")
            .env("M4_DATA_DIR", "${user_config.data_dir}"),
    );
    assert!(ok, "stderr:\n{err}");
    let expected = user_data_dir(home.path()).join("m4");
    assert!(
        out.contains(&expected.display().to_string()),
        "the default folder should be used:\n{out}"
    );
    assert!(!out.contains("${user_config"), "{out}");
    assert_eq!(
        err.matches("warning: `M4_DATA_DIR`").count(),
        1,
        "exactly one warning naming M4_DATA_DIR:\n{err}"
    );
    assert!(err.contains("placeholder"), "{err}");
    assert!(!home.path().join("${user_config.data_dir}").exists());
}

#[test]
fn unfilled_dataset_and_oauth_placeholders_are_unset() {
    let (ok, out, err) = output(
        m4_command(synthetic_data_dir())
            .args(["query", "select count(*) as n from mimiciv_hosp.patients"])
            .env("M4_DATASET", "${user_config.dataset}")
            .env("M4_OAUTH2_ENABLED", "${user_config.oauth2_enabled}")
            .env("M4_OAUTH2_TOKEN", "${user_config.oauth2_token}"),
    );
    assert!(ok, "the query should run on the default data set:\n{err}");
    assert!(out.contains("| n |"), "{out}");
    assert!(err.contains("`M4_DATASET`"), "{err}");
}

#[cfg(unix)] // HOME and XDG_* decide the user folders
#[test]
fn empty_dataset_and_data_dir_from_a_bundle_field_are_unset() {
    // A bundle field with an empty default reaches m4 as an empty variable.
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = output(
        m4_at_home(home.path())
            .arg("status")
            .env("M4_DATA_DIR", "")
            .env("M4_DATASET", ""),
    );
    assert!(ok, "empty variables must not be errors:\n{err}");
    assert!(
        out.contains(&user_data_dir(home.path()).join("m4").display().to_string()),
        "{out}"
    );
    let (ok, _, err) = output(
        m4_command(synthetic_data_dir())
            .args(["query", "select 1"])
            .env("M4_DATASET", ""),
    );
    assert!(ok, "an empty M4_DATASET means the default data set:\n{err}");
}

#[test]
fn settings_and_auth_parsers_treat_placeholders_as_unset() {
    use m4::config::{self, Settings};
    let lookup = |name: &str| match name {
        config::M4_MAX_ROWS => Some("${user_config.max_rows}".to_string()),
        config::M4_DATA_DIR => Some("/srv/m4 ${HOME}".to_string()),
        config::M4_OAUTH2_ENABLED => Some("${user_config.oauth2_enabled}".to_string()),
        _ => None,
    };
    let settings = Settings::from_lookup(lookup).expect("placeholders are not errors");
    assert_eq!(settings.max_rows, config::DEFAULT_MAX_ROWS);
    assert_eq!(settings.data_dir, config::default_data_dir());
    let auth = m4::auth::config::AuthConfig::from_lookup(lookup).expect("not an error");
    assert!(auth.is_none(), "an unfilled M4_OAUTH2_ENABLED means off");
}

#[cfg(unix)]
#[test]
fn config_claude_from_an_installed_copy_writes_that_copy_not_the_symlink() {
    // What a venv or `uv tool install` gives: the binary copied into an environment's
    // bin folder, and (uv) a symlink to it in ~/.local/bin.
    let dir = tempfile::tempdir().unwrap();
    let venv_bin = dir.path().join("venv").join("bin");
    let user_bin = dir.path().join("local").join("bin");
    std::fs::create_dir_all(&venv_bin).unwrap();
    std::fs::create_dir_all(&user_bin).unwrap();
    let installed = venv_bin.join("m4");
    std::fs::copy(env!("CARGO_BIN_EXE_m4"), &installed).unwrap();
    std::os::unix::fs::symlink(&installed, user_bin.join("m4")).unwrap();

    for (how, program) in [
        ("copy", installed.clone()),
        ("symlink", user_bin.join("m4")),
    ] {
        let file = dir.path().join(format!("claude-{how}.json"));
        let mut cmd = Command::new(&program);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .args(["config", "claude", "--config-file"])
            .arg(&file);
        let (ok, _, err) = output(&mut cmd);
        assert!(ok, "{how}: {err}");
        let command = read_json(&file)["mcpServers"]["m4"]["command"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            PathBuf::from(&command),
            installed.canonicalize().unwrap(),
            "run through the {how}, the entry must name the installed binary"
        );
    }
}

#[test]
fn bundle_manifest_registry_entry_and_python_package_match_the_crate() {
    let manifest = read_json(&root().join("packaging/manifest.json"));
    assert_eq!(
        manifest["version"], VERSION,
        "packaging/manifest.json version"
    );
    assert_eq!(manifest["manifest_version"], "0.3");
    assert_eq!(manifest["server"]["type"], "binary");
    let mcp = &manifest["server"]["mcp_config"];
    assert_eq!(
        mcp["command"], "/bin/sh",
        "macOS drops the exec bit: start via sh"
    );
    assert_eq!(
        mcp["platform_overrides"]["win32"]["command"],
        "${__dirname}/server/m4.exe"
    );
    for (key, _) in mcp["env"].as_object().unwrap() {
        assert!(
            m4::doctor::KNOWN_VARIABLES.contains(&key.as_str()),
            "the bundle passes `{key}`, which m4 does not read"
        );
    }
    for (key, field) in manifest["user_config"].as_object().unwrap() {
        let used = mcp["env"]
            .as_object()
            .unwrap()
            .values()
            .any(|v| v.as_str() == Some(&format!("${{user_config.{key}}}")));
        assert!(used, "user_config.{key} reaches m4 through no variable");
        if key.contains("token") {
            assert_eq!(field["sensitive"], true, "{key} must be sensitive");
        }
    }

    let server = read_json(&root().join("server.json"));
    assert_eq!(server["version"], VERSION, "server.json version");
    assert!(server["description"].as_str().unwrap().len() <= 100);
    let name = server["name"].as_str().unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("mcp-name: {name}")),
        "README.md needs the registry's `mcp-name: {name}` line"
    );
    let pyproject = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    let mut bundles = 0;
    for package in server["packages"].as_array().unwrap() {
        let id = package["identifier"].as_str().unwrap();
        match package["registryType"].as_str().unwrap() {
            "pypi" => {
                assert_eq!(id, m4::doctor::PYPI_NAME);
                assert!(
                    pyproject.contains(&format!("name = \"{id}\"")),
                    "pyproject.toml name"
                );
                assert_eq!(package["version"], VERSION);
            }
            "mcpb" => {
                bundles += 1;
                let file = id.rsplit('/').next().unwrap();
                assert!(
                    file.starts_with(&format!("m4-{VERSION}-")) && file.ends_with(".mcpb"),
                    "{id} is not named as packaging/pack.mjs names bundles"
                );
                assert!(id.contains(&format!("/v{VERSION}/")), "{id}: release tag");
                assert_eq!(package["fileSha256"].as_str().unwrap().len(), 64);
            }
            other => panic!("unexpected registry type {other}"),
        }
    }
    assert_eq!(
        bundles, 4,
        "one bundle each: darwin-universal, win32-x64, linux-x64, linux-arm64"
    );
}

#[test]
fn bundle_manifest_lists_exactly_the_tools_the_server_serves() {
    let manifest = read_json(&root().join("packaging/manifest.json"));
    let mut listed: Vec<String> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let mut served: Vec<String> = server
        .list_tools()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    served.sort();
    assert_eq!(
        listed, served,
        "packaging/manifest.json `tools` (shown in Claude Desktop before install) must match tools/list"
    );
}
