//! Writing m4's entry into MCP clients' configuration files (`m4 config <client>`).
//!
//! Owns: the server entry (absolute path of this binary, `serve`, and the `M4_*`
//! variables chosen by flags), merging it into Claude Desktop's
//! `claude_desktop_config.json` without disturbing anything else in the file (backup
//! first, atomic replace, idempotent), and printing the equivalent snippet for Claude
//! Code, Cursor and VS Code. Does not own what the variables mean (`config`, `auth`)
//! nor start the server.
//!
//! CONTRACT used by `cli`: [`ConfigArgs`] (clap arguments) and [`run`]. `cli` fills
//! [`ConfigArgs::dataset`] and [`ConfigArgs::data_dir`] from the global
//! `--dataset`/`--data-dir` flags (or their `M4_*` variables), because those flags
//! belong to every sub-command.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::{config, datasets};

/// Arguments of `m4 config <client>`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The MCP client: claude (Claude Desktop), claude-code, cursor or vscode.
    pub client: String,
    /// Print the entry instead of writing the client's configuration file
    /// (the only mode for claude-code, cursor and vscode).
    #[arg(long)]
    pub print: bool,
    /// Name of the server entry in the client's configuration.
    #[arg(long, value_name = "NAME", default_value = "m4")]
    pub name: String,
    /// Write this file instead of the client's usual one (claude only).
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Turn OAuth2 access-token authentication on in the entry (needs issuer and audience).
    #[arg(long)]
    pub enable_oauth2: bool,
    /// Your identity provider's issuer URL (`M4_OAUTH2_ISSUER_URL`).
    #[arg(long, value_name = "URL")]
    pub oauth2_issuer: Option<String>,
    /// The audience m4's tokens are issued for (`M4_OAUTH2_AUDIENCE`).
    #[arg(long, value_name = "AUD")]
    pub oauth2_audience: Option<String>,
    /// Scopes every token must grant, space- or comma-separated (`M4_OAUTH2_REQUIRED_SCOPES`).
    #[arg(long, value_name = "SCOPES")]
    pub oauth2_scopes: Option<String>,
    /// Key set URL, when discovery from the issuer is not wanted (`M4_OAUTH2_JWKS_URL`).
    #[arg(long, value_name = "URL")]
    pub oauth2_jwks_url: Option<String>,
    /// The access token itself. Stored in plain text in the client's file: prefer
    /// short-lived tokens, and never commit that file.
    #[arg(long, value_name = "TOKEN")]
    pub oauth2_token: Option<String>,
    /// Data set for the entry's `M4_DATASET` (from the global `--dataset`).
    #[arg(skip)]
    pub dataset: Option<String>,
    /// Data folder for the entry's `M4_DATA_DIR` (from the global `--data-dir`).
    #[arg(skip)]
    pub data_dir: Option<PathBuf>,
}

/// The MCP clients m4 knows how to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Claude Desktop: m4 writes its `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Claude Code: a `claude mcp add` command line.
    ClaudeCode,
    /// Cursor: `~/.cursor/mcp.json`.
    Cursor,
    /// VS Code: `.vscode/mcp.json`.
    VsCode,
}

const CLIENT_NAMES: [&str; 4] = ["claude", "claude-code", "cursor", "vscode"];

impl Client {
    /// Parses the `<client>` argument (a few common spellings are accepted).
    pub fn from_name(name: &str) -> Result<Client, ClientConfigError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "claude" | "claude-desktop" | "claude_desktop" => Ok(Client::ClaudeDesktop),
            "claude-code" | "claude_code" | "claudecode" => Ok(Client::ClaudeCode),
            "cursor" => Ok(Client::Cursor),
            "vscode" | "vs-code" | "code" => Ok(Client::VsCode),
            _ => {
                let closest = CLIENT_NAMES
                    .iter()
                    .min_by_key(|candidate| strsim::levenshtein(candidate, name))
                    .copied()
                    .unwrap_or("claude");
                Err(ClientConfigError::UnknownClient {
                    name: name.to_string(),
                    closest,
                })
            }
        }
    }

    fn cli_name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
        }
    }

    /// The object that maps server names to entries: VS Code calls it `servers`.
    pub fn servers_key(self) -> &'static str {
        match self {
            Client::VsCode => "servers",
            _ => "mcpServers",
        }
    }
}

/// What can go wrong while configuring a client.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    #[error(
        "unknown MCP client `{name}`\n\nhint: did you mean `{closest}`? m4 knows: claude (Claude Desktop), claude-code, cursor, vscode"
    )]
    UnknownClient { name: String, closest: &'static str },
    #[error(
        "`m4 config {client}` only prints the entry; m4 does not edit {client}'s files\n\nhint: run `m4 config {client} --print` and {target}"
    )]
    PrintOnly {
        client: &'static str,
        target: &'static str,
    },
    #[error("`--config-file` only applies to `m4 config claude`\n\nhint: drop `--config-file`")]
    ConfigFileNotForClient,
    #[error("`--enable-oauth2` needs `{flag}`\n\nhint: {hint}")]
    MissingOAuthFlag {
        flag: &'static str,
        hint: &'static str,
    },
    #[error(
        "`{flag}` is given but `--enable-oauth2` is not\n\nhint: add `--enable-oauth2`, or drop `{flag}`"
    )]
    OAuthFlagWithoutEnable { flag: &'static str },
    #[error("`{flag}` is set to `{value}`, which is not an http(s) URL\n\nhint: {hint}")]
    InvalidUrl {
        flag: &'static str,
        value: String,
        hint: &'static str,
    },
    #[error("the entry name is empty\n\nhint: pass `--name m4` or another non-empty name")]
    EmptyName,
    #[error(transparent)]
    Dataset(#[from] datasets::DatasetError),
    #[error(
        "could not find your user configuration folder for Claude Desktop\n\nhint: pass `--config-file PATH` to name the file"
    )]
    NoConfigDir,
    // The causes below are part of each message (not `#[source]`): `main` prints the
    // cause chain after the message, which would put them after the hint.
    #[error(
        "could not find the path of the running m4 binary ({0})\n\nhint: run m4 by its full path"
    )]
    CurrentExe(std::io::Error),
    #[error(
        "could not find the current directory to make `{path}` absolute ({cause})\n\nhint: pass an absolute path"
    )]
    CurrentDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "could not read `{path}` ({cause})\n\nhint: check that the file is readable, or pass `--config-file PATH`"
    )]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "`{path}` {problem}; m4 left it untouched\n\nhint: fix the file (Claude Desktop cannot read it either), or move it aside and run `m4 config claude` again"
    )]
    Malformed { path: PathBuf, problem: MergeError },
    #[error(
        "could not back up `{path}` to `{backup}` ({cause}); m4 left the file untouched\n\nhint: check that the folder is writable"
    )]
    Backup {
        path: PathBuf,
        backup: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "could not write `{path}` ({cause}); the old file was not changed\n\nhint: check that the folder is writable"
    )]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Why an existing configuration file cannot take m4's entry.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("is not valid JSON ({0})")]
    Syntax(serde_json::Error),
    #[error("has `{key}` that is not a JSON object")]
    NotAnObject { key: String },
}

/// One MCP server entry: how a client starts m4 over stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// Absolute path of the m4 binary: desktop apps do not inherit the shell's `PATH`.
    pub command: String,
    pub args: Vec<String>,
    /// `M4_*` variables, sorted so that output is stable from run to run.
    pub env: BTreeMap<String, String>,
}

impl ServerEntry {
    /// The entry as `client` writes it.
    pub fn to_json(&self, client: Client) -> Value {
        let mut entry = Map::new();
        if matches!(client, Client::VsCode | Client::ClaudeCode) {
            entry.insert("type".into(), json!("stdio"));
        }
        entry.insert("command".into(), json!(self.command));
        entry.insert("args".into(), json!(self.args));
        if !self.env.is_empty() {
            entry.insert("env".into(), json!(self.env));
        }
        Value::Object(entry)
    }

    /// `claude mcp add ...` for Claude Code, quoted for a POSIX shell. The name comes
    /// first: `--env` takes several values and would swallow a name after it.
    pub fn claude_code_command(&self, name: &str) -> String {
        let mut words = vec![
            "claude".to_string(),
            "mcp".into(),
            "add".into(),
            shell_quote(name),
            "--transport".into(),
            "stdio".into(),
            "--scope".into(),
            "user".into(),
        ];
        for (key, value) in &self.env {
            words.push("--env".into());
            words.push(shell_quote(&format!("{key}={value}")));
        }
        words.push("--".into());
        words.push(shell_quote(&self.command));
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        words.join(" ")
    }
}

/// Quotes `word` for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The `env` block the flags ask for, checked.
pub fn entry_env(args: &ConfigArgs) -> Result<BTreeMap<String, String>, ClientConfigError> {
    let mut env = BTreeMap::new();
    if let Some(dataset) = args.dataset.as_deref().filter(|d| !d.trim().is_empty()) {
        let spec = datasets::find(dataset.trim())?;
        env.insert(config::M4_DATASET.to_string(), spec.name.to_string());
    }
    if let Some(dir) = args
        .data_dir
        .as_deref()
        .filter(|d| !d.as_os_str().is_empty())
    {
        env.insert(
            config::M4_DATA_DIR.to_string(),
            absolute(dir)?.to_string_lossy().into_owned(),
        );
    }

    let oauth_flags: [(&'static str, &Option<String>); 5] = [
        ("--oauth2-issuer", &args.oauth2_issuer),
        ("--oauth2-audience", &args.oauth2_audience),
        ("--oauth2-scopes", &args.oauth2_scopes),
        ("--oauth2-jwks-url", &args.oauth2_jwks_url),
        ("--oauth2-token", &args.oauth2_token),
    ];
    if !args.enable_oauth2 {
        if let Some((flag, _)) = oauth_flags.iter().find(|(_, v)| v.is_some()) {
            return Err(ClientConfigError::OAuthFlagWithoutEnable { flag });
        }
        return Ok(env);
    }

    let issuer = non_empty(&args.oauth2_issuer).ok_or(ClientConfigError::MissingOAuthFlag {
        flag: "--oauth2-issuer",
        hint: "pass your identity provider's issuer URL, e.g. `--oauth2-issuer https://your-domain.okta.com/oauth2/default`",
    })?;
    check_url(
        "--oauth2-issuer",
        issuer,
        "use the issuer exactly as your provider's discovery document states it, e.g. `https://your-tenant.auth0.com/`",
    )?;
    let audience = non_empty(&args.oauth2_audience).ok_or(ClientConfigError::MissingOAuthFlag {
        flag: "--oauth2-audience",
        hint: "pass the audience (API identifier) m4's tokens are issued for, e.g. `--oauth2-audience m4-api`",
    })?;
    env.insert(config::M4_OAUTH2_ENABLED.to_string(), "true".to_string());
    env.insert(config::M4_OAUTH2_ISSUER_URL.to_string(), issuer.to_string());
    env.insert(config::M4_OAUTH2_AUDIENCE.to_string(), audience.to_string());
    if let Some(scopes) = non_empty(&args.oauth2_scopes) {
        env.insert(
            config::M4_OAUTH2_REQUIRED_SCOPES.to_string(),
            scopes.to_string(),
        );
    }
    if let Some(jwks) = non_empty(&args.oauth2_jwks_url) {
        check_url(
            "--oauth2-jwks-url",
            jwks,
            "pass the `jwks_uri` from your provider's discovery document, or drop the flag to discover it",
        )?;
        env.insert(config::M4_OAUTH2_JWKS_URL.to_string(), jwks.to_string());
    }
    if let Some(token) = non_empty(&args.oauth2_token) {
        env.insert(config::M4_OAUTH2_TOKEN.to_string(), token.to_string());
    }
    Ok(env)
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn check_url(flag: &'static str, value: &str, hint: &'static str) -> Result<(), ClientConfigError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(ClientConfigError::InvalidUrl {
            flag,
            value: value.to_string(),
            hint,
        }),
    }
}

fn absolute(path: &Path) -> Result<PathBuf, ClientConfigError> {
    if let Ok(canonical) = path.canonicalize() {
        return Ok(strip_verbatim(canonical));
    }
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|cause| ClientConfigError::CurrentDir {
        path: path.to_path_buf(),
        cause,
    })?;
    Ok(cwd.join(path))
}

/// Windows' canonical paths start with `\\?\`, which some clients do not accept.
fn strip_verbatim(path: PathBuf) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path,
    }
}

/// Absolute, symlink-free path of the running m4 binary.
pub fn current_binary() -> Result<PathBuf, ClientConfigError> {
    let exe = std::env::current_exe().map_err(ClientConfigError::CurrentExe)?;
    Ok(exe.canonicalize().map(strip_verbatim).unwrap_or(exe))
}

/// Claude Desktop's configuration file at the platform's usual place: `~/Library/Application
/// Support/Claude` on macOS, `%APPDATA%\Claude` on Windows, `$XDG_CONFIG_HOME/Claude`
/// (default `~/.config/Claude`) on Linux — exactly what `dirs::config_dir` gives.
pub fn claude_desktop_config_path() -> Result<PathBuf, ClientConfigError> {
    dirs::config_dir()
        .map(|dir| dir.join("Claude").join("claude_desktop_config.json"))
        .ok_or(ClientConfigError::NoConfigDir)
}

/// What merging did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The file already holds exactly this entry.
    Unchanged,
    /// A new entry; the file's new text.
    Added(String),
    /// An entry of that name was replaced; the file's new text.
    Updated(String),
}

/// Puts `entry` under `servers_key.name` in the JSON text `existing` (absent or blank:
/// a new file), keeping every other key and server. Pure: the caller does the I/O.
pub fn merge_entry(
    existing: Option<&str>,
    servers_key: &str,
    name: &str,
    entry: &Value,
) -> Result<Merge, MergeError> {
    let mut root = match existing.map(str::trim) {
        None | Some("") => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text).map_err(MergeError::Syntax)? {
            Value::Object(map) => map,
            _ => {
                return Err(MergeError::NotAnObject {
                    key: "(top level)".to_string(),
                });
            }
        },
    };
    let servers = root
        .entry(servers_key.to_string())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| MergeError::NotAnObject {
            key: servers_key.to_string(),
        })?;
    let previous = servers.insert(name.to_string(), entry.clone());
    if previous.as_ref() == Some(entry) {
        return Ok(Merge::Unchanged);
    }
    let text = pretty(&Value::Object(root));
    Ok(match previous {
        None => Merge::Added(text),
        Some(_) => Merge::Updated(text),
    })
}

fn pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// What `m4 config claude` did to the file.
#[derive(Debug)]
pub struct WriteReport {
    pub path: PathBuf,
    pub merge: Merge,
    /// The previous file's copy, when there was one and it changed.
    pub backup: Option<PathBuf>,
}

impl fmt::Display for WriteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.merge {
            Merge::Unchanged => write!(
                f,
                "`{path}` already has this entry; nothing changed (no backup written)."
            )?,
            Merge::Added(_) => write!(f, "Added the entry to `{path}`.")?,
            Merge::Updated(_) => write!(f, "Updated the entry in `{path}`.")?,
        }
        if let Some(backup) = &self.backup {
            write!(f, "\nThe previous file is saved as `{}`.", backup.display())?;
        }
        if !matches!(self.merge, Merge::Unchanged) {
            write!(f, "\nRestart Claude Desktop (quit it fully) to load m4.")?;
        }
        Ok(())
    }
}

/// Merges `entry` into the JSON file at `path`: a backup of the old file first, then
/// an atomic replace, so a crash never leaves a half-written file; nothing is written
/// when the entry is already there.
pub fn write_entry(
    path: &Path,
    servers_key: &str,
    name: &str,
    entry: &Value,
) -> Result<WriteReport, ClientConfigError> {
    // Write through a symlink (dotfile managers) instead of replacing it.
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(cause) => return Err(ClientConfigError::Read { path, cause }),
    };
    let merge = merge_entry(existing.as_deref(), servers_key, name, entry).map_err(|problem| {
        ClientConfigError::Malformed {
            path: path.clone(),
            problem,
        }
    })?;
    let text = match &merge {
        Merge::Unchanged => {
            return Ok(WriteReport {
                path,
                merge,
                backup: None,
            });
        }
        Merge::Added(text) | Merge::Updated(text) => text.clone(),
    };
    let write_err = |cause| ClientConfigError::Write {
        path: path.clone(),
        cause,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(write_err)?;

    let backup = match existing {
        Some(_) => {
            let mut backup = path.clone().into_os_string();
            backup.push(".bak");
            let backup = PathBuf::from(backup);
            std::fs::copy(&path, &backup).map_err(|cause| ClientConfigError::Backup {
                path: path.clone(),
                backup: backup.clone(),
                cause,
            })?;
            Some(backup)
        }
        None => None,
    };

    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(write_err)?;
    temp.write_all(text.as_bytes()).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    if let Ok(meta) = std::fs::metadata(&path) {
        // Keep the user's permissions; a new file keeps tempfile's owner-only mode,
        // which suits a file that may hold a token.
        std::fs::set_permissions(temp.path(), meta.permissions()).map_err(write_err)?;
    }
    temp.persist(&path).map_err(|err| write_err(err.error))?;
    Ok(WriteReport {
        path,
        merge,
        backup,
    })
}

/// Runs `m4 config`.
pub fn run(args: &ConfigArgs) -> anyhow::Result<()> {
    let client = Client::from_name(&args.client)?;
    let name = args.name.trim();
    if name.is_empty() {
        return Err(ClientConfigError::EmptyName.into());
    }
    if client != Client::ClaudeDesktop {
        if args.config_file.is_some() {
            return Err(ClientConfigError::ConfigFileNotForClient.into());
        }
        if !args.print {
            return Err(ClientConfigError::PrintOnly {
                client: client.cli_name(),
                target: print_target(client),
            }
            .into());
        }
    }
    let entry = ServerEntry {
        command: current_binary()?.to_string_lossy().into_owned(),
        args: vec!["serve".to_string()],
        env: entry_env(args)?,
    };
    let has_token = entry.env.contains_key(config::M4_OAUTH2_TOKEN);
    let mut out = std::io::stdout().lock();

    if args.print {
        let snippet = match client {
            Client::ClaudeCode => entry.claude_code_command(name),
            _ => {
                let mut servers = Map::new();
                servers.insert(name.to_string(), entry.to_json(client));
                pretty(&json!({ client.servers_key(): servers }))
                    .trim_end()
                    .to_string()
            }
        };
        writeln!(out, "{snippet}")?;
        eprintln!("note: {}", print_target(client));
        if has_token {
            eprintln!(
                "warning: the output above contains your access token in plain text; wherever you paste it, \
                 keep that file private and never commit it. Prefer short-lived tokens."
            );
        }
        return Ok(());
    }

    let path = match &args.config_file {
        Some(path) => path.clone(),
        None => claude_desktop_config_path()?,
    };
    let report = write_entry(&path, client.servers_key(), name, &entry.to_json(client))?;
    writeln!(out, "{report}")?;
    if has_token {
        eprintln!(
            "warning: your access token is stored in plain text in `{}`{}. Keep the file private, never \
             commit or share it, and prefer short-lived tokens (re-run this command with a new one when it \
             expires). The command line you typed may also be in your shell's history.",
            report.path.display(),
            match &report.backup {
                Some(backup) => format!(" (and may be in `{}`)", backup.display()),
                None => String::new(),
            }
        );
    }
    Ok(())
}

fn print_target(client: Client) -> &'static str {
    match client {
        Client::ClaudeDesktop => {
            "merge the output into `mcpServers` of Claude Desktop's `claude_desktop_config.json` (or run `m4 config claude` to do it)"
        }
        Client::ClaudeCode => {
            "run the printed command where Claude Code is installed (for one project only, use `--scope project`, which writes its `.mcp.json`)"
        }
        Client::Cursor => {
            "merge the output into `mcpServers` of `~/.cursor/mcp.json` (all projects) or `.cursor/mcp.json` (one project)"
        }
        Client::VsCode => "merge the output into `servers` of your workspace's `.vscode/mcp.json`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Value {
        json!({"command": "/opt/m4/bin/m4", "args": ["serve"]})
    }

    fn parse(merge: &Merge) -> Value {
        match merge {
            Merge::Added(text) | Merge::Updated(text) => serde_json::from_str(text).unwrap(),
            Merge::Unchanged => panic!("expected a change"),
        }
    }

    fn args() -> ConfigArgs {
        ConfigArgs {
            client: "claude".into(),
            print: false,
            name: "m4".into(),
            config_file: None,
            enable_oauth2: false,
            oauth2_issuer: None,
            oauth2_audience: None,
            oauth2_scopes: None,
            oauth2_jwks_url: None,
            oauth2_token: None,
            dataset: None,
            data_dir: None,
        }
    }

    #[test]
    fn merge_into_absent_or_blank_file_creates_servers_object() {
        for existing in [None, Some(""), Some("  \n")] {
            let merged = merge_entry(existing, "mcpServers", "m4", &entry()).unwrap();
            assert!(matches!(merged, Merge::Added(_)));
            assert_eq!(parse(&merged), json!({"mcpServers": {"m4": entry()}}));
        }
    }

    #[test]
    fn merge_keeps_other_servers_and_top_level_keys() {
        let existing = r#"{"globalShortcut": "Ctrl+Space",
            "mcpServers": {"other": {"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}}}}"#;
        let merged = merge_entry(Some(existing), "mcpServers", "m4", &entry()).unwrap();
        let value = parse(&merged);
        assert_eq!(value["globalShortcut"], "Ctrl+Space");
        assert_eq!(
            value["mcpServers"]["other"],
            json!({"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}})
        );
        assert_eq!(value["mcpServers"]["m4"], entry());
    }

    #[test]
    fn merge_of_same_entry_is_unchanged_and_a_different_one_is_an_update() {
        let first = merge_entry(None, "mcpServers", "m4", &entry()).unwrap();
        let Merge::Added(text) = first else {
            panic!("expected Added")
        };
        assert_eq!(
            merge_entry(Some(&text), "mcpServers", "m4", &entry()).unwrap(),
            Merge::Unchanged
        );
        let other = json!({"command": "/elsewhere/m4", "args": ["serve"]});
        let updated = merge_entry(Some(&text), "mcpServers", "m4", &other).unwrap();
        assert!(matches!(updated, Merge::Updated(_)));
        assert_eq!(parse(&updated)["mcpServers"]["m4"], other);
    }

    #[test]
    fn merge_uses_the_clients_servers_key() {
        let merged = merge_entry(Some(r#"{"inputs": []}"#), "servers", "m4", &entry()).unwrap();
        assert_eq!(
            parse(&merged),
            json!({"inputs": [], "servers": {"m4": entry()}})
        );
    }

    #[test]
    fn merge_rejects_malformed_json_and_non_objects() {
        assert!(matches!(
            merge_entry(Some("{\"mcpServers\": {"), "mcpServers", "m4", &entry()),
            Err(MergeError::Syntax(_))
        ));
        assert!(matches!(
            merge_entry(Some("[1, 2]"), "mcpServers", "m4", &entry()),
            Err(MergeError::NotAnObject { .. })
        ));
        let err =
            merge_entry(Some(r#"{"mcpServers": []}"#), "mcpServers", "m4", &entry()).unwrap_err();
        assert!(err.to_string().contains("`mcpServers`"), "{err}");
    }

    #[test]
    fn oauth2_flags_become_m4_variables() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_issuer = Some("https://example.okta.com/oauth2/default".into());
        a.oauth2_audience = Some("m4-api".into());
        a.oauth2_scopes = Some("read:mimic-data".into());
        a.oauth2_jwks_url = Some("https://example.okta.com/oauth2/default/v1/keys".into());
        let env = entry_env(&a).unwrap();
        assert_eq!(env[config::M4_OAUTH2_ENABLED], "true");
        assert_eq!(
            env[config::M4_OAUTH2_ISSUER_URL],
            "https://example.okta.com/oauth2/default"
        );
        assert_eq!(env[config::M4_OAUTH2_AUDIENCE], "m4-api");
        assert_eq!(env[config::M4_OAUTH2_REQUIRED_SCOPES], "read:mimic-data");
        assert!(env.contains_key(config::M4_OAUTH2_JWKS_URL));
        assert!(!env.contains_key(config::M4_OAUTH2_TOKEN));
    }

    #[test]
    fn oauth2_without_issuer_or_audience_names_the_missing_flag() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_audience = Some("m4-api".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`--oauth2-issuer`"), "{err}");
        a.oauth2_audience = None;
        a.oauth2_issuer = Some("https://issuer.example".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`--oauth2-audience`"), "{err}");
    }

    #[test]
    fn oauth2_flag_without_enable_is_an_error() {
        let mut a = args();
        a.oauth2_token = Some("eyJ...".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(
            err.contains("`--oauth2-token`") && err.contains("--enable-oauth2"),
            "{err}"
        );
    }

    #[test]
    fn issuer_must_be_an_http_url() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_issuer = Some("example.okta.com".into());
        a.oauth2_audience = Some("m4-api".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`example.okta.com`"), "{err}");
    }

    #[test]
    fn unknown_dataset_is_rejected_and_relative_data_dir_made_absolute() {
        let mut a = args();
        a.dataset = Some("mimic-v".into());
        assert!(entry_env(&a).is_err());
        a.dataset = Some("synthetic".into());
        a.data_dir = Some(PathBuf::from("some/relative/dir"));
        let env = entry_env(&a).unwrap();
        assert_eq!(env[config::M4_DATASET], "synthetic");
        assert!(Path::new(&env[config::M4_DATA_DIR]).is_absolute());
    }

    #[test]
    fn client_names_parse_and_typos_get_a_suggestion() {
        assert_eq!(Client::from_name("claude").unwrap(), Client::ClaudeDesktop);
        assert_eq!(Client::from_name("VSCode").unwrap(), Client::VsCode);
        let err = Client::from_name("cursr").unwrap_err().to_string();
        assert!(err.contains("did you mean `cursor`"), "{err}");
    }

    fn any_server() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        (
            "[a-z/ ]{1,12}",
            proptest::collection::vec("\\PC{0,8}", 0..3),
            proptest::option::of(proptest::collection::btree_map(
                "[A-Z_]{1,8}",
                "\\PC{0,8}",
                0..3,
            )),
        )
            .prop_map(|(command, args, env)| match env {
                Some(env) => json!({"command": command, "args": args, "env": env}),
                None => json!({"command": command, "args": args}),
            })
    }

    proptest::proptest! {
        #[test]
        fn merge_keeps_every_other_server_and_is_idempotent(
            servers in proptest::collection::btree_map("\\PC{1,10}", any_server(), 0..6),
            extra in proptest::option::of("\\PC{0,10}"),
        ) {
            let mut root = Map::new();
            root.insert("mcpServers".into(), json!(servers));
            if let Some(extra) = &extra {
                root.insert("globalShortcut".into(), json!(extra));
            }
            let existing = serde_json::to_string(&Value::Object(root.clone())).unwrap();

            let merged = merge_entry(Some(&existing), "mcpServers", "m4", &entry()).unwrap();

            let text = match &merged {
                Merge::Unchanged => {
                    proptest::prop_assert_eq!(servers.get("m4"), Some(&entry()));
                    existing.clone()
                }
                Merge::Added(text) | Merge::Updated(text) => text.clone(),
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            for (name, server) in servers.iter().filter(|(name, _)| name.as_str() != "m4") {
                proptest::prop_assert_eq!(&value["mcpServers"][name], server);
            }
            proptest::prop_assert_eq!(&value["mcpServers"]["m4"], &entry());
            proptest::prop_assert_eq!(value.get("globalShortcut"), root.get("globalShortcut"));
            proptest::prop_assert_eq!(
                merge_entry(Some(&text), "mcpServers", "m4", &entry()).unwrap(),
                Merge::Unchanged
            );
        }
    }

    #[test]
    fn claude_code_command_quotes_what_the_shell_would_split() {
        let entry = ServerEntry {
            command: "/Users/Jane Doe/m4/target/release/m4".into(),
            args: vec!["serve".into()],
            env: BTreeMap::from([("M4_DATASET".to_string(), "mimic-iv-demo".to_string())]),
        };
        assert_eq!(
            entry.claude_code_command("m4"),
            "claude mcp add m4 --transport stdio --scope user --env M4_DATASET=mimic-iv-demo \
             -- '/Users/Jane Doe/m4/target/release/m4' serve"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
