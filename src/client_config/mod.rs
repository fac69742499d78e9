//! Writing m4's entry into MCP clients' configuration files (`m4 config <client>`).
//!
//! Owns: the server entry (absolute path of this binary, `serve`, and the `M4_*`
//! variables chosen by flags), merging it into Claude Desktop's
//! `claude_desktop_config.json` without disturbing anything else in the file (backup
//! first, atomic replace, idempotent, the user's key order and layout kept), and
//! printing the equivalent snippet for Claude Code, Cursor and VS Code. Does not own
//! what the variables mean (`config`, `auth`) nor start the server.
//!
//! `cli` uses [`ConfigArgs`] (clap arguments) and [`run`]; it fills
//! [`ConfigArgs::dataset`] and [`ConfigArgs::data_dir`] from the global
//! `--dataset`/`--data-dir` flags (or their `M4_*` variables), because those flags
//! belong to every sub-command.
//!
//! # Files
//! - `args`: the flags, the client they name, and the `env` block they ask for.
//! - `entry`: one server entry in each client's shape, and the paths it holds.
//! - `merge`: the entry into a file's JSON text, keeping the rest as it was.
//! - `write`: the file on disk: its usual place, backup, atomic replace.
//! - `remote`: the `url` entry for a team server (`--http URL`).

mod args;
mod entry;
mod merge;
mod remote;
mod write;

use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{Map, json};

pub use args::{Client, ConfigArgs, entry_env};
pub use entry::{ServerEntry, current_binary, shell_quote};
use merge::pretty;
pub use merge::{Merge, MergeError, merge_entry};
pub use write::{WriteReport, claude_desktop_config_path, write_entry};

use crate::{config, datasets};

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
    #[error(
        "Claude Desktop adds a server on the network as a connector, not in its configuration file\n\nhint: in Claude Desktop open Settings → Connectors → Add custom connector and enter `{url}`; it signs you in with your organisation's account"
    )]
    DesktopConnector { url: String },
    #[error(
        "`{flag}` does not go with `--http`: the team server's operator configures OAuth2 and the data set, and your client signs in by itself\n\nhint: drop `{flag}`"
    )]
    NotWithHttp { flag: &'static str },
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

/// Runs `m4 config`.
pub fn run(args: &ConfigArgs) -> anyhow::Result<()> {
    let client = Client::from_name(&args.client)?;
    let name = args.name.trim();
    if name.is_empty() {
        return Err(ClientConfigError::EmptyName.into());
    }
    if let Some(url) = &args.http {
        return run_remote(args, client, name, url);
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
        if args.enable_oauth2 && !has_token {
            eprintln!("{}", sign_in_hint(&entry));
        }
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
    if args.enable_oauth2 && !has_token {
        eprintln!("{}", sign_in_hint(&entry));
    }
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

/// `m4 config <client> --http URL`: the entry for a team server.
fn run_remote(args: &ConfigArgs, client: Client, name: &str, url: &str) -> anyhow::Result<()> {
    let flags = [
        (args.enable_oauth2, "--enable-oauth2"),
        (args.oauth2_issuer.is_some(), "--oauth2-issuer"),
        (args.oauth2_audience.is_some(), "--oauth2-audience"),
        (args.oauth2_scopes.is_some(), "--oauth2-scopes"),
        (args.oauth2_jwks_url.is_some(), "--oauth2-jwks-url"),
        (args.oauth2_client_id.is_some(), "--oauth2-client-id"),
        (args.oauth2_token.is_some(), "--oauth2-token"),
        (args.config_file.is_some(), "--config-file"),
    ];
    if let Some((_, flag)) = flags.iter().find(|(given, _)| *given) {
        return Err(ClientConfigError::NotWithHttp { flag }.into());
    }
    let endpoint = remote::endpoint(url)?;
    let snippet = remote::snippet(client, name, &endpoint)?;
    if !args.print {
        return Err(ClientConfigError::PrintOnly {
            client: client.cli_name(),
            target: print_target(client),
        }
        .into());
    }
    writeln!(std::io::stdout().lock(), "{snippet}")?;
    eprintln!("note: {}", print_target(client));
    eprintln!(
        "note: the client signs you in when it first connects (your browser opens on your organisation's sign-in page)"
    );
    Ok(())
}

/// What to do after writing an OAuth2 entry without a token: sign in once with
/// `m4 auth login`, with the entry's own `M4_OAUTH2_*` settings.
fn sign_in_hint(entry: &ServerEntry) -> String {
    let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    let mut command: Vec<String> = entry
        .env
        .iter()
        .filter(|(name, _)| name.starts_with("M4_OAUTH2_"))
        .map(|(name, value)| format!("{name}={}", quote(value)))
        .collect();
    let client_id = entry.env.contains_key(config::M4_OAUTH2_CLIENT_ID);
    if !client_id {
        command.push(format!(
            "{}=<public client id>",
            config::M4_OAUTH2_CLIENT_ID
        ));
    }
    command.push(format!("{} auth login", quote(&entry.command)));
    let mut hint = format!(
        "next: sign in once from a terminal (the entry holds no token; `m4 serve` uses the stored sign-in and refreshes it):\n  {}",
        command.join(" ")
    );
    if !client_id {
        hint.push_str(&format!(
            "\nhint: pass `--oauth2-client-id ID` with the public client id (no secret) your IT team registered for m4, so that the entry names it too (`{}`)",
            config::M4_OAUTH2_CLIENT_ID
        ));
    }
    hint
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
