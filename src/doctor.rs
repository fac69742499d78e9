//! `m4 doctor` and `m4 --version`: one report a researcher can run when "it doesn't
//! work in Claude", as text or JSON.
//!
//! Owns the checks and the report: this binary and its version; every data set (present,
//! size, readable, how many derived concepts it has); every known MCP client
//! configuration file with an m4 entry (whether its command exists, is this binary, and
//! whether its env parses the way the server would parse it); the OAuth2 configuration
//! and the provider's reachability; free disk for the data folder. Each problem carries
//! the command that fixes it.
//!
//! It only reads: it never writes a file, starts a server or changes a setting, and it
//! never prints a token or a client secret. It reuses m4's own parsers (`config`,
//! `auth::config`, `datasets::status`) so that what it says is what the server does.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::auth::config::AuthConfig;
use crate::client_config::shell_quote;
use crate::config::{self, Settings};
use crate::datasets::human_size;
use crate::{auth, client_config, concepts, datasets};

/// The query engines compiled into this binary.
pub const ENGINES: &[&str] = &["duckdb", "bigquery"];

/// The Python package (PyPI) that installs m4 with no Rust: `uv tool install m4-duckdb`.
pub const PYPI_NAME: &str = "m4-duckdb";

/// Free space below which the data folder gets a warning: the demo needs ~100 MB, the
/// full MIMIC-IV tens of gigabytes, so under 2 GB only the small sets fit.
const LOW_DISK_BYTES: u64 = 2_000_000_000;

/// Every `M4_*` variable m4 reads, to catch a misspelt one in a client's entry.
pub const KNOWN_VARIABLES: &[&str] = &[
    config::M4_DATA_DIR,
    config::M4_DATASET,
    config::M4_LOG_LEVEL,
    config::M4_MAX_ROWS,
    config::M4_MAX_BYTES,
    config::M4_QUERY_TIMEOUT,
    config::M4_MEMORY_LIMIT,
    config::M4_OAUTH2_ENABLED,
    config::M4_OAUTH2_ISSUER_URL,
    config::M4_OAUTH2_AUDIENCE,
    config::M4_OAUTH2_REQUIRED_SCOPES,
    config::M4_OAUTH2_JWKS_URL,
    config::M4_OAUTH2_JWKS_CACHE_TTL,
    config::M4_OAUTH2_CLIENT_ID,
    config::M4_OAUTH2_CLIENT_SECRET,
    config::M4_OAUTH2_VALIDATE_EXP,
    config::M4_OAUTH2_VALIDATE_AUD,
    config::M4_OAUTH2_VALIDATE_ISS,
    config::M4_OAUTH2_RATE_LIMIT_ENABLED,
    config::M4_OAUTH2_RATE_LIMIT_REQUESTS,
    config::M4_OAUTH2_RATE_LIMIT_WINDOW,
    config::M4_OAUTH2_LEEWAY,
    config::M4_OAUTH2_CREDENTIAL_STORE,
    config::M4_OAUTH2_TOKEN,
    config::M4_MIMIC_DEMO_URL,
    config::M4_BIGQUERY_PROJECT,
    config::M4_BIGQUERY_DATA_PROJECT,
    config::M4_BIGQUERY_VERSION,
    config::M4_BIGQUERY_DATASETS,
    config::M4_BIGQUERY_LOCATION,
    config::M4_BIGQUERY_MAX_BYTES_BILLED,
    config::M4_BIGQUERY_API_URL,
    config::M4_BIGQUERY_CREDENTIALS,
    config::http::M4_HTTP_ADDR,
    config::http::M4_HTTP_PUBLIC_URL,
    config::http::M4_HTTP_MAX_IN_FLIGHT,
    config::http::M4_HTTP_MAX_BODY,
    config::http::M4_HTTP_REQUEST_TIMEOUT,
    config::http::M4_HTTP_ALLOWED_HOSTS,
    config::http::M4_HTTP_ALLOWED_ORIGINS,
    config::http::M4_AUDIT_LOG,
    config::http::M4_AUDIT_SQL,
];

/// Values never shown, in text or JSON.
const SECRET_VARIABLES: &[&str] = &[config::M4_OAUTH2_TOKEN, config::M4_OAUTH2_CLIENT_SECRET];

/// The DuckDB library's version, asked of DuckDB itself (`SELECT version()`).
pub fn duckdb_version() -> Option<String> {
    let conn = duckdb::Connection::open_in_memory().ok()?;
    conn.query_row("SELECT version()", [], |row| row.get::<_, String>(0))
        .ok()
}

/// What `m4 --version` prints: m4's version, DuckDB's, and the enabled engines.
pub fn version_text() -> String {
    format!(
        "m4 {}\nDuckDB {}\nengines: {}",
        env!("CARGO_PKG_VERSION"),
        duckdb_version().unwrap_or_else(|| "unknown".to_string()),
        ENGINES.join(", ")
    )
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// m4 will not work this way.
    Problem,
    /// It may work, but probably not as meant.
    Warning,
}

/// One finding, with the command (or the edit) that fixes it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// What it is about: `binary`, `data folder`, `data set mimic-iv-demo`,
    /// `Claude Desktop entry "m4"`, `OAuth2`.
    pub subject: String,
    pub message: String,
    pub fix: String,
}

/// This binary.
#[derive(Debug, Serialize)]
pub struct BinaryReport {
    pub path: Option<PathBuf>,
    pub version: &'static str,
    pub duckdb: Option<String>,
    pub engines: &'static [&'static str],
}

/// The data folder in force for this shell (flag, `M4_DATA_DIR` or the default).
#[derive(Debug, Serialize)]
pub struct DataDirReport {
    pub path: PathBuf,
    pub exists: bool,
    pub free_bytes: Option<u64>,
}

/// One data set in the data folder.
#[derive(Debug, Serialize)]
pub struct DatasetReport {
    pub name: &'static str,
    pub database: PathBuf,
    pub present: bool,
    pub size_bytes: Option<u64>,
    pub readable: bool,
    pub synthetic: bool,
    /// Tables the source lacked when the database was built.
    pub missing_tables: Vec<String>,
    /// Its `mimiciv_derived` concepts, when it could be read.
    pub derived_concepts: Option<DerivedReport>,
    pub error: Option<String>,
}

/// The `mimiciv_derived` concepts of one data set, from its `m4_meta.derived`.
#[derive(Debug, Serialize)]
pub struct DerivedReport {
    /// Concepts built.
    pub built: usize,
    /// Concepts this m4 knows.
    pub known: usize,
    /// Concepts skipped because the source lacked their tables.
    pub skipped: usize,
    /// Concepts this m4 knows that the last build did not make or record: all of them
    /// after `--no-derived`, the newer ones for a database built by an older m4.
    pub not_built_by_this_version: Vec<String>,
    /// Concepts whose SQL failed in the last build.
    pub failed: Vec<String>,
}

/// One MCP client configuration file m4 knows about.
#[derive(Debug, Serialize)]
pub struct ClientFileReport {
    /// `Claude Desktop`, `Claude Code`, `Cursor`, `VS Code`.
    pub client: &'static str,
    pub path: PathBuf,
    pub exists: bool,
    /// Why the file could not be read or parsed.
    pub error: Option<String>,
    pub entries: Vec<EntryReport>,
}

/// One m4 entry in a client's file.
#[derive(Debug, Serialize)]
pub struct EntryReport {
    pub name: String,
    pub command: String,
    pub args: Vec<String>,
    /// The entry's variables, secrets shown as `[redacted]`.
    pub env: BTreeMap<String, String>,
    /// The command resolved to a file (on `PATH` for a bare name), if it exists.
    pub resolved: Option<PathBuf>,
    pub is_this_binary: bool,
    /// Whether the entry has no problem (warnings allowed).
    pub ok: bool,
}

/// The OAuth2 settings of this shell's environment.
#[derive(Debug, Serialize)]
pub struct OAuthReport {
    pub enabled: bool,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// `None` when off or not configured well enough to try.
    pub provider_reachable: Option<bool>,
    pub error: Option<String>,
}

/// Everything `m4 doctor` found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub binary: BinaryReport,
    pub data_dir: DataDirReport,
    pub datasets: Vec<DatasetReport>,
    pub clients: Vec<ClientFileReport>,
    pub oauth2: OAuthReport,
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings are problems (not warnings).
    pub fn problems(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .count()
    }
}

/// Runs `m4 doctor`: prints the report, and fails when it found a problem.
pub fn run(
    settings: &Settings,
    environment: &dyn Fn(&str) -> Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let report = diagnose(settings, environment);
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(out, "{report}")?;
    }
    let problems = report.problems();
    anyhow::ensure!(
        problems == 0,
        "m4 doctor found {problems} problem{}; each is listed above with the command that fixes it",
        if problems == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Checks everything; `env` is this shell's environment (for OAuth2).
pub fn diagnose(settings: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Report {
    let mut findings = Vec::new();
    let this = client_config::current_binary().ok();
    let binary = BinaryReport {
        path: this.clone(),
        version: env!("CARGO_PKG_VERSION"),
        duckdb: duckdb_version(),
        engines: ENGINES,
    };
    if binary.duckdb.is_none() {
        findings.push(Finding {
            severity: Severity::Problem,
            subject: "binary".into(),
            message: "DuckDB could not open an in-memory database".into(),
            fix: format!("reinstall m4 (`uv tool install --force {PYPI_NAME}`)"),
        });
    }
    let me = this
        .as_deref()
        .map(|p| shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "m4".to_string());

    let data_dir = check_data_dir(&settings.data_dir, &mut findings);
    let datasets = check_datasets(&settings.data_dir, &me, &mut findings);
    let clients = check_clients(this.as_deref(), &me, &mut findings);
    if clients.iter().all(|c| c.entries.is_empty()) {
        findings.push(Finding {
            severity: Severity::Warning,
            subject: "MCP clients".into(),
            message: "no MCP client configuration has an m4 entry".into(),
            fix: format!(
                "{me} config claude (Claude Desktop), or `{me} config claude-code --print` and the others"
            ),
        });
    }
    let oauth2 = check_oauth(env, "OAuth2 (this shell)", &mut findings);
    Report {
        binary,
        data_dir,
        datasets,
        clients,
        oauth2,
        findings,
    }
}

fn check_data_dir(dir: &Path, findings: &mut Vec<Finding>) -> DataDirReport {
    let exists = dir.is_dir();
    let free_bytes = nearest_existing(dir).and_then(|p| fs4::available_space(p).ok());
    if dir.exists() && !exists {
        findings.push(Finding {
            severity: Severity::Problem,
            subject: "data folder".into(),
            message: format!("`{}` exists but is not a folder", dir.display()),
            fix: "move the file aside, or set `M4_DATA_DIR` / `--data-dir` to a folder".into(),
        });
    }
    if exists && std::fs::metadata(dir).is_ok_and(|m| m.permissions().readonly()) {
        findings.push(Finding {
            severity: Severity::Problem,
            subject: "data folder".into(),
            message: format!(
                "`{}` is read-only: m4 cannot build data sets there",
                dir.display()
            ),
            fix: format!(
                "make it writable (`chmod u+w {}`)",
                shell_quote(&dir.to_string_lossy())
            ),
        });
    }
    if let Some(free) = free_bytes.filter(|free| *free < LOW_DISK_BYTES) {
        findings.push(Finding {
            severity: Severity::Warning,
            subject: "data folder".into(),
            message: format!(
                "only {} free for `{}`: the demo fits, the full MIMIC-IV (tens of GB) does not",
                human_size(free),
                dir.display()
            ),
            fix: "free some space, or use another disk with `--data-dir DIR` / `M4_DATA_DIR`"
                .into(),
        });
    }
    DataDirReport {
        path: dir.to_path_buf(),
        exists,
        free_bytes,
    }
}

fn nearest_existing(path: &Path) -> Option<&Path> {
    path.ancestors().find(|p| p.exists())
}

fn check_datasets(dir: &Path, me: &str, findings: &mut Vec<Finding>) -> Vec<DatasetReport> {
    let reports: Vec<DatasetReport> = datasets::status(dir)
        .into_iter()
        .map(|status| {
            let readable = status.info.is_some();
            if status.initialised && !readable {
                findings.push(Finding {
                    severity: Severity::Problem,
                    subject: format!("data set {}", status.spec.name),
                    message: format!(
                        "`{}` exists but cannot be read ({})",
                        status.database.display(),
                        status.error.as_deref().unwrap_or("unknown error")
                    ),
                    fix: format!(
                        "if no `m4 init` is running, rebuild it: {}",
                        init_command(me, None, status.spec)
                    ),
                });
            }
            let derived_concepts = status
                .info
                .as_ref()
                .map(|info| check_derived(status.spec, info.derived.as_deref(), me, findings));
            DatasetReport {
                name: status.spec.name,
                present: status.initialised,
                size_bytes: status.size_bytes,
                readable,
                synthetic: status.spec.synthetic
                    || status.info.as_ref().is_some_and(|i| i.synthetic),
                missing_tables: status
                    .info
                    .as_ref()
                    .map(|i| i.missing().map(|t| t.name.clone()).collect())
                    .unwrap_or_default(),
                derived_concepts,
                error: status.error,
                database: status.database,
            }
        })
        .collect();
    if !reports.iter().any(|d| d.present) {
        findings.push(Finding {
            severity: Severity::Warning,
            subject: "data sets".into(),
            message: format!(
                "no data set is initialised in `{}`: m4 will build the SYNTHETIC set on first use",
                dir.display()
            ),
            fix: format!("{me} init mimic-iv-demo (100 real de-identified patients, open access)"),
        });
    }
    reports
}

/// How many derived concepts a readable data set has, with a warning (and the
/// `--derived-only` command) when it has none, lacks some this m4 knows, or some failed.
fn check_derived(
    spec: &datasets::DatasetSpec,
    recorded: Option<&[datasets::DerivedInfo]>,
    me: &str,
    findings: &mut Vec<Finding>,
) -> DerivedReport {
    let known = concepts::catalogue();
    let recorded = recorded.unwrap_or_default();
    let note_starts = |name: &str, prefix: &str| {
        recorded
            .iter()
            .find(|d| d.name == name)
            .and_then(|d| d.note.as_deref())
            .is_some_and(|n| n.starts_with(prefix))
    };
    let report = DerivedReport {
        built: known
            .iter()
            .filter(|c| recorded.iter().any(|d| d.name == c.name && d.built))
            .count(),
        known: known.len(),
        skipped: known
            .iter()
            .filter(|c| note_starts(c.name, "skipped"))
            .count(),
        not_built_by_this_version: known
            .iter()
            .filter(|c| !recorded.iter().any(|d| d.name == c.name))
            .map(|c| c.name.to_string())
            .collect(),
        failed: known
            .iter()
            .filter(|c| note_starts(c.name, "failed"))
            .map(|c| c.name.to_string())
            .collect(),
    };
    let subject = format!("data set {}", spec.name);
    let fix = format!("{me} init {} --derived-only", spec.name);
    if recorded.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            subject,
            message: format!(
                "no derived concepts: `{}` (sofa, sepsis3, kdigo_stages, ...) was not built (`--no-derived`?)",
                concepts::SCHEMA
            ),
            fix,
        });
    } else if !report.not_built_by_this_version.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            subject,
            message: format!(
                "built by an older m4: {} derived concept(s) this version knows are missing ({})",
                report.not_built_by_this_version.len(),
                report.not_built_by_this_version.join(", ")
            ),
            fix,
        });
    } else if !report.failed.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            subject,
            message: format!(
                "derived concept(s) failed in the last build: {}",
                report.failed.join(", ")
            ),
            fix: format!("{fix} (if it fails again, report it with `{me} --version`)"),
        });
    }
    report
}

fn init_command(me: &str, data_dir: Option<&str>, spec: &datasets::DatasetSpec) -> String {
    let dir = data_dir
        .map(|d| format!(" --data-dir {}", shell_quote(d)))
        .unwrap_or_default();
    let src = match spec.source {
        datasets::Source::Credentialed { .. } => " --src DIR",
        _ => "",
    };
    format!("{me}{dir} init {}{src}", spec.name)
}

/// Where a client keeps its MCP servers.
struct ClientFile {
    client: &'static str,
    kind: client_config::Client,
    path: PathBuf,
    /// JSON pointers (`/mcpServers`) of the server maps inside the file.
    servers_at: Vec<String>,
}

/// Every configuration file m4 knows for the four clients, user-wide and in the
/// current folder (a project's own files).
fn client_files() -> Vec<ClientFile> {
    use client_config::Client;
    let mut files = Vec::new();
    let home = dirs::home_dir();
    let cwd = std::env::current_dir().ok();
    let at = |p: &str| vec![p.to_string()];
    if let Ok(path) = client_config::claude_desktop_config_path() {
        files.push(ClientFile {
            client: "Claude Desktop",
            kind: Client::ClaudeDesktop,
            path,
            servers_at: at("/mcpServers"),
        });
    }
    if let Some(home) = &home {
        // User scope at the top, local scope per project (`claude mcp add --scope user|local`).
        files.push(ClientFile {
            client: "Claude Code",
            kind: Client::ClaudeCode,
            path: home.join(".claude.json"),
            servers_at: vec!["/mcpServers".into(), "/projects/*/mcpServers".into()],
        });
        files.push(ClientFile {
            client: "Cursor",
            kind: Client::Cursor,
            path: home.join(".cursor").join("mcp.json"),
            servers_at: at("/mcpServers"),
        });
    }
    if let Some(config) = dirs::config_dir() {
        files.push(ClientFile {
            client: "VS Code",
            kind: Client::VsCode,
            path: config.join("Code").join("User").join("mcp.json"),
            servers_at: at("/servers"),
        });
    }
    if let Some(cwd) = cwd.filter(|cwd| Some(cwd) != home.as_ref()) {
        files.push(ClientFile {
            client: "Claude Code",
            kind: Client::ClaudeCode,
            path: cwd.join(".mcp.json"),
            servers_at: at("/mcpServers"),
        });
        files.push(ClientFile {
            client: "Cursor",
            kind: Client::Cursor,
            path: cwd.join(".cursor").join("mcp.json"),
            servers_at: at("/mcpServers"),
        });
        files.push(ClientFile {
            client: "VS Code",
            kind: Client::VsCode,
            path: cwd.join(".vscode").join("mcp.json"),
            servers_at: at("/servers"),
        });
    }
    files
}

fn check_clients(
    this: Option<&Path>,
    me: &str,
    findings: &mut Vec<Finding>,
) -> Vec<ClientFileReport> {
    client_files()
        .into_iter()
        .map(|file| check_client_file(file, this, me, findings))
        .collect()
}

fn check_client_file(
    file: ClientFile,
    this: Option<&Path>,
    me: &str,
    findings: &mut Vec<Finding>,
) -> ClientFileReport {
    let mut report = ClientFileReport {
        client: file.client,
        path: file.path.clone(),
        exists: file.path.exists(),
        error: None,
        entries: Vec::new(),
    };
    if !report.exists {
        return report;
    }
    let root = match std::fs::read_to_string(&file.path)
        .map_err(|e| e.to_string())
        .and_then(|text| parse_json_with_comments(&text))
    {
        Ok(root) => root,
        Err(error) => {
            findings.push(Finding {
                // VS Code and Cursor accept more than JSON (trailing commas): only a warning there.
                severity: match file.kind {
                    client_config::Client::ClaudeDesktop => Severity::Problem,
                    _ => Severity::Warning,
                },
                subject: format!("{} file", file.client),
                message: format!("`{}` could not be read as JSON ({error})", file.path.display()),
                fix: "fix the file by hand (the client cannot read it either), or move it aside and add m4 again".into(),
            });
            report.error = Some(error);
            return report;
        }
    };
    for pointer in &file.servers_at {
        for servers in select(&root, pointer) {
            let Some(servers) = servers.as_object() else {
                continue;
            };
            for (name, entry) in servers {
                if is_m4_entry(name, entry) {
                    let entry = check_entry(&file, name, entry, this, me, findings);
                    report.entries.push(entry);
                }
            }
        }
    }
    report
}

/// The values at a JSON pointer where `*` matches every key of an object.
fn select<'a>(root: &'a Value, pointer: &str) -> Vec<&'a Value> {
    let mut current = vec![root];
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        current = current
            .into_iter()
            .flat_map(|value| match (part, value.as_object()) {
                ("*", Some(map)) => map.values().collect::<Vec<_>>(),
                (key, Some(map)) => map.get(key).into_iter().collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    current
}

/// An entry is m4's when it is named `m4` or runs a binary named `m4` (or m4's PyPI package).
fn is_m4_entry(name: &str, entry: &Value) -> bool {
    let command = entry["command"].as_str().unwrap_or_default();
    let stem = Path::new(command)
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase());
    name == "m4"
        || stem.as_deref().is_some_and(is_m4_program)
        || strings(&entry["args"])
            .iter()
            .any(|a| a.starts_with(PYPI_NAME))
}

/// `m4` itself, or the wheel's `m4-duckdb` launcher that starts it.
fn is_m4_program(stem: &str) -> bool {
    stem.eq_ignore_ascii_case("m4") || stem.eq_ignore_ascii_case(PYPI_NAME)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check_entry(
    file: &ClientFile,
    name: &str,
    entry: &Value,
    this: Option<&Path>,
    me: &str,
    findings: &mut Vec<Finding>,
) -> EntryReport {
    let subject = format!(
        "{} entry \"{name}\" in `{}`",
        file.client,
        file.path.display()
    );
    let before = findings.len();
    let command = entry["command"].as_str().unwrap_or_default().to_string();
    let args = strings(&entry["args"]);
    let env: BTreeMap<String, String> = entry["env"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let value = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let fix = fix_command(file, name, &env, me);
    let mut push = |severity, message: String, fix: String| {
        findings.push(Finding {
            severity,
            subject: subject.clone(),
            message,
            fix,
        })
    };

    // The command.
    let bare = !command.contains('/') && !command.contains('\\');
    let resolved = if command.is_empty() {
        push(Severity::Problem, "has no `command`".into(), fix.clone());
        None
    } else if bare {
        let found = find_on_path(&command);
        let gui = file.kind != client_config::Client::ClaudeCode;
        match (&found, gui) {
            (None, _) => push(
                Severity::Problem,
                format!("runs `{command}`, which is not on this shell's PATH"),
                fix.clone(),
            ),
            (Some(_), true) => push(
                Severity::Warning,
                format!(
                    "runs `{command}` by name: desktop apps do not see your shell's PATH (macOS apps least of all)"
                ),
                fix.clone(),
            ),
            (Some(_), false) => {}
        }
        found
    } else {
        let path = PathBuf::from(&command);
        if !path.is_absolute() {
            push(
                Severity::Problem,
                format!(
                    "runs `{command}`, a relative path: the client starts m4 from a folder of its own"
                ),
                fix.clone(),
            );
            None
        } else if !path.is_file() {
            push(
                Severity::Problem,
                format!("runs `{command}`, which does not exist (moved or deleted?)"),
                fix.clone(),
            );
            None
        } else {
            if !is_executable(&path) {
                push(
                    Severity::Problem,
                    format!("runs `{command}`, which is not executable"),
                    format!("chmod +x {}, or: {fix}", shell_quote(&command)),
                );
            }
            Some(path)
        }
    };
    // The wheel's `m4-duckdb` launcher runs the `m4` beside it: compare that one.
    let canonical = resolved
        .as_ref()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| match p.file_stem() {
            Some(stem) if stem.eq_ignore_ascii_case(PYPI_NAME) => {
                p.with_file_name(if cfg!(windows) { "m4.exe" } else { "m4" })
            }
            _ => p,
        });
    let is_this_binary = match (&canonical, this) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    let runs_m4 = resolved
        .as_ref()
        .and_then(|p| p.file_stem())
        .is_some_and(|s| is_m4_program(&s.to_string_lossy()));
    if let Some(path) = &canonical {
        let text = path.to_string_lossy();
        if text.contains("archive-v")
            || text.contains("/uv/cache/")
            || text.contains("\\uv\\cache\\")
        {
            push(
                Severity::Warning,
                format!(
                    "runs `{text}` in uv's cache, which `uv cache clean` or an upgrade deletes"
                ),
                format!("uv tool install {PYPI_NAME}, then: m4 config claude"),
            );
        } else if runs_m4 && !is_this_binary {
            push(
                Severity::Warning,
                format!(
                    "runs another m4 binary, `{}` (this one is {me})",
                    path.display()
                ),
                format!("to use this one instead: {fix}"),
            );
        }
    }

    // The arguments: m4 serves with `serve` or with no sub-command.
    if runs_m4 {
        const OTHERS: [&str; 6] = ["init", "status", "query", "config", "doctor", "auth"];
        if let Some(other) = args.iter().find(|a| OTHERS.contains(&a.as_str())) {
            push(
                Severity::Problem,
                format!("passes `{other}`: the client needs `serve` (m4's MCP server)"),
                fix.clone(),
            );
        }
    }

    // The environment, parsed as the server would parse it.
    for (key, value) in &env {
        if config::is_unfilled(value) {
            push(
                Severity::Problem,
                format!("sets `{key}` to `{value}`, an unfilled placeholder (m4 ignores it)"),
                format!("give `{key}` a value in the entry, or remove it"),
            );
        } else if key.starts_with("M4_") && !KNOWN_VARIABLES.contains(&key.as_str()) {
            let closest = KNOWN_VARIABLES
                .iter()
                .min_by_key(|k| strsim::levenshtein(k, key))
                .copied()
                .unwrap_or(config::M4_DATA_DIR);
            push(
                Severity::Warning,
                format!("sets `{key}`, which m4 does not read"),
                format!("did you mean `{closest}`? rename it in the entry"),
            );
        }
    }
    let filled = |name: &str| env.get(name).filter(|v| !config::is_unfilled(v)).cloned();
    match Settings::from_lookup(filled) {
        Err(e) => push(
            Severity::Problem,
            e.to_string(),
            format!("edit `{}` in the entry", e.variable),
        ),
        Ok(entry_settings) => check_entry_data(&entry_settings, &env, me, &mut push),
    }
    match AuthConfig::from_lookup(filled) {
        Err(e) => push(
            Severity::Problem,
            format!("its OAuth2 settings are not valid: {e}"),
            format!("fix the `M4_OAUTH2_*` variables in the entry, or: {fix}"),
        ),
        Ok(Some(auth)) => {
            if let Err(e) = reach_provider(&auth) {
                push(
                    Severity::Problem,
                    format!("OAuth2 provider `{}` is not reachable from here ({e})", auth.issuer),
                    "check the issuer URL and the network; `m4 auth check` (with the entry's variables) shows each step".into(),
                );
            }
        }
        Ok(None) => {}
    }

    let env: BTreeMap<String, String> = env
        .into_iter()
        .map(|(k, v)| {
            let shown = if SECRET_VARIABLES.contains(&k.as_str()) {
                "[redacted]".to_string()
            } else {
                v
            };
            (k, shown)
        })
        .collect();
    let ok = !findings[before..]
        .iter()
        .any(|f| f.severity == Severity::Problem);
    EntryReport {
        name: name.to_string(),
        command,
        args,
        env,
        resolved,
        is_this_binary,
        ok,
    }
}

fn check_entry_data(
    settings: &Settings,
    env: &BTreeMap<String, String>,
    me: &str,
    push: &mut impl FnMut(Severity, String, String),
) {
    let dir = &settings.data_dir;
    let dir_text = dir.to_string_lossy();
    if env.contains_key(config::M4_DATA_DIR) && !dir.is_absolute() {
        push(
            Severity::Problem,
            format!(
                "sets `M4_DATA_DIR` to `{dir_text}`, a relative path: the client starts m4 from a folder of its own"
            ),
            format!("use an absolute path: {me} --data-dir /full/path/to/data config claude"),
        );
        return;
    }
    let Some(name) = settings.dataset.as_deref() else {
        return;
    };
    let spec = match datasets::find(name.trim()) {
        Ok(spec) => spec,
        Err(e) => {
            push(
                Severity::Problem,
                format!("sets `M4_DATASET` to `{name}`: {e}"),
                "set `M4_DATASET` to mimic-iv-demo, mimic-iv, synthetic or mimic-iv-bigquery"
                    .into(),
            );
            return;
        }
    };
    if spec.remote() {
        if settings.bigquery.project.is_none() {
            push(
                Severity::Problem,
                format!(
                    "uses data set `{}` but sets no `M4_BIGQUERY_PROJECT` (the Google Cloud project queries are billed to)",
                    spec.name
                ),
                format!(
                    "M4_BIGQUERY_PROJECT=your-project {me} config claude --dataset {}",
                    spec.name
                ),
            );
        }
        return;
    }
    let database = datasets::database_path(dir, spec);
    if !spec.synthetic && !database.exists() {
        push(
            Severity::Problem,
            format!(
                "uses data set `{}`, which is not initialised in `{dir_text}`",
                spec.name
            ),
            init_command(me, Some(&dir_text), spec),
        );
    }
}

fn reach_provider(settings: &AuthConfig) -> Result<(), String> {
    let agent = auth::discovery::http_agent();
    match &settings.jwks_url {
        Some(url) => auth::discovery::http_get(&agent, url).map(|_| ()),
        None => auth::discovery::discover(&agent, &settings.issuer)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

fn check_oauth(
    env: &dyn Fn(&str) -> Option<String>,
    subject: &str,
    findings: &mut Vec<Finding>,
) -> OAuthReport {
    match AuthConfig::from_lookup(env) {
        Ok(None) => OAuthReport {
            enabled: false,
            issuer: None,
            audience: None,
            provider_reachable: None,
            error: None,
        },
        Err(e) => {
            findings.push(Finding {
                severity: Severity::Problem,
                subject: subject.into(),
                message: e.to_string(),
                fix: "fix the `M4_OAUTH2_*` variables in this shell; `m4 auth check` explains each"
                    .into(),
            });
            OAuthReport {
                enabled: true,
                issuer: None,
                audience: None,
                provider_reachable: None,
                error: Some(e.to_string()),
            }
        }
        Ok(Some(auth)) => {
            let reached = reach_provider(&auth);
            if let Err(e) = &reached {
                findings.push(Finding {
                    severity: Severity::Problem,
                    subject: subject.into(),
                    message: format!("provider `{}` is not reachable ({e})", auth.issuer),
                    fix: "check the issuer URL and the network; `m4 auth check` shows each step"
                        .into(),
                });
            }
            OAuthReport {
                enabled: true,
                issuer: Some(auth.issuer.clone()),
                audience: Some(auth.audience.clone()),
                provider_reachable: Some(reached.is_ok()),
                error: reached.err(),
            }
        }
    }
}

/// The command that writes a fresh entry of this name for this client, keeping the
/// entry's data set, data folder and OAuth2 settings (never printing a token).
fn fix_command(file: &ClientFile, name: &str, env: &BTreeMap<String, String>, me: &str) -> String {
    use client_config::Client;
    let usable = |key: &str| {
        env.get(key)
            .filter(|v| !v.trim().is_empty() && !config::is_unfilled(v))
    };
    let mut flags = String::new();
    if name != "m4" {
        let _ = write!(flags, " --name {}", shell_quote(name));
    }
    if let Some(dataset) = usable(config::M4_DATASET).filter(|d| datasets::find(d.trim()).is_ok()) {
        let _ = write!(flags, " --dataset {}", shell_quote(dataset.trim()));
    }
    if let Some(dir) = usable(config::M4_DATA_DIR) {
        let _ = write!(flags, " --data-dir {}", shell_quote(dir));
    }
    if usable(config::M4_OAUTH2_ENABLED)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    {
        flags.push_str(" --enable-oauth2");
        for (key, flag) in [
            (config::M4_OAUTH2_ISSUER_URL, "--oauth2-issuer"),
            (config::M4_OAUTH2_AUDIENCE, "--oauth2-audience"),
            (config::M4_OAUTH2_REQUIRED_SCOPES, "--oauth2-scopes"),
            (config::M4_OAUTH2_JWKS_URL, "--oauth2-jwks-url"),
        ] {
            if let Some(value) = usable(key) {
                let _ = write!(flags, " {flag} {}", shell_quote(value));
            }
        }
        if usable(config::M4_OAUTH2_TOKEN).is_some() {
            flags.push_str(" --oauth2-token \"$TOKEN\"");
        }
    }
    let handled = [
        config::M4_DATASET,
        config::M4_DATA_DIR,
        config::M4_OAUTH2_ENABLED,
        config::M4_OAUTH2_ISSUER_URL,
        config::M4_OAUTH2_AUDIENCE,
        config::M4_OAUTH2_REQUIRED_SCOPES,
        config::M4_OAUTH2_JWKS_URL,
        config::M4_OAUTH2_TOKEN,
    ];
    let others: Vec<&str> = env
        .keys()
        .map(String::as_str)
        .filter(|k| !handled.contains(k))
        .collect();
    let readd = if others.is_empty() {
        String::new()
    } else {
        format!(" (then add {} back to the entry)", others.join(", "))
    };
    let path = shell_quote(&file.path.to_string_lossy());
    match file.kind {
        Client::ClaudeDesktop => {
            let file_flag = match client_config::claude_desktop_config_path() {
                Ok(usual) if usual == file.path => String::new(),
                _ => format!(" --config-file {path}"),
            };
            format!("{me}{flags} config claude{file_flag}{readd}")
        }
        Client::ClaudeCode => format!(
            "claude mcp remove {}; then run the command that `{me}{flags} config claude-code --print` prints{readd}",
            shell_quote(name)
        ),
        Client::Cursor => format!(
            "{me}{flags} config cursor --print, and replace the entry in {path} with its output{readd}"
        ),
        Client::VsCode => format!(
            "{me}{flags} config vscode --print, and replace the entry in {path} with its output{readd}"
        ),
    }
}

fn find_on_path(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: Vec<String> = if cfg!(windows) {
        vec![command.to_string(), format!("{command}.exe")]
    } else {
        vec![command.to_string()]
    };
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file() && is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Parses JSON that may hold `//` and `/* */` comments (VS Code's and Cursor's files).
fn parse_json_with_comments(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(first) => serde_json::from_str(&strip_comments(text)).map_err(|_| first.to_string()),
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for next in chars.by_ref() {
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.binary;
        writeln!(f, "Binary")?;
        writeln!(
            f,
            "  {}  m4 {}, DuckDB {}, engines: {}",
            b.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(path unknown)".into()),
            b.version,
            b.duckdb.as_deref().unwrap_or("unknown"),
            b.engines.join(", ")
        )?;

        writeln!(f, "\nData folder")?;
        let d = &self.data_dir;
        writeln!(
            f,
            "  {}  {}{}",
            d.path.display(),
            if d.exists {
                "exists"
            } else {
                "not created yet (m4 creates it on first use)"
            },
            d.free_bytes
                .map(|free| format!(", {} free", human_size(free)))
                .unwrap_or_default()
        )?;

        writeln!(f, "\nData sets")?;
        for ds in &self.datasets {
            let state = if ds.name == "mimic-iv-bigquery" {
                "served from BigQuery (nothing local; `m4 init mimic-iv-bigquery` checks access)"
                    .to_string()
            } else if !ds.present {
                "not initialised".to_string()
            } else if ds.readable {
                format!(
                    "{}, readable{}{}",
                    human_size(ds.size_bytes.unwrap_or(0)),
                    if ds.missing_tables.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", {} table(s) missing from its source",
                            ds.missing_tables.len()
                        )
                    },
                    ds.derived_concepts
                        .as_ref()
                        .map(|d| {
                            let skipped = if d.skipped > 0 {
                                format!(" ({} skipped: source tables missing)", d.skipped)
                            } else {
                                String::new()
                            };
                            format!(", {} of {} derived concepts{skipped}", d.built, d.known)
                        })
                        .unwrap_or_default()
                )
            } else {
                "present but NOT readable".to_string()
            };
            let synthetic = if ds.synthetic { " (SYNTHETIC)" } else { "" };
            writeln!(f, "  {:<14} {state}{synthetic}", ds.name)?;
        }

        writeln!(f, "\nMCP clients")?;
        for c in &self.clients {
            let state = match (&c.error, c.exists, c.entries.len()) {
                (Some(_), _, _) => "cannot be read".to_string(),
                (None, false, _) => "no file".to_string(),
                (None, true, 0) => "no m4 entry".to_string(),
                (None, true, n) => format!("{n} m4 entr{}", if n == 1 { "y" } else { "ies" }),
            };
            writeln!(f, "  {:<14} {}  {state}", c.client, c.path.display())?;
            for e in &c.entries {
                let verdict = if !e.ok {
                    "PROBLEM"
                } else if e.is_this_binary {
                    "ok, runs this binary"
                } else {
                    "ok"
                };
                writeln!(
                    f,
                    "    \"{}\": {} {}  [{verdict}]",
                    e.name,
                    e.command,
                    e.args.join(" ")
                )?;
            }
        }

        writeln!(f, "\nOAuth2 (this shell's environment)")?;
        let o = &self.oauth2;
        if !o.enabled {
            writeln!(f, "  off")?;
        } else {
            writeln!(
                f,
                "  on: issuer {}, audience {}, provider {}",
                o.issuer.as_deref().unwrap_or("?"),
                o.audience.as_deref().unwrap_or("?"),
                match o.provider_reachable {
                    Some(true) => "reachable",
                    Some(false) => "NOT reachable",
                    None => "not checked",
                }
            )?;
        }

        if self.findings.is_empty() {
            return writeln!(f, "\nNo problems found.");
        }
        writeln!(f)?;
        for finding in &self.findings {
            let label = match finding.severity {
                Severity::Problem => "PROBLEM",
                Severity::Warning => "warning",
            };
            writeln!(f, "{label}: {}: {}", finding.subject, finding.message)?;
            writeln!(f, "  fix: {}", finding.fix)?;
        }
        let warnings = self.findings.len() - self.problems();
        writeln!(
            f,
            "\n{} problem(s), {warnings} warning(s).",
            self.problems()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(skip: &[&str], note: &[(&str, &str)]) -> Vec<datasets::DerivedInfo> {
        concepts::catalogue()
            .iter()
            .filter(|c| !skip.contains(&c.name))
            .map(|c| {
                let note = note.iter().find(|(n, _)| *n == c.name).map(|(_, t)| t);
                datasets::DerivedInfo {
                    name: c.name.to_string(),
                    built: note.is_none(),
                    note: note.map(|t| t.to_string()),
                }
            })
            .collect()
    }

    #[test]
    fn derived_concepts_are_counted_and_an_older_build_or_a_failure_is_named() {
        let spec = datasets::find("mimic-iv-demo").expect("demo spec");
        let known = concepts::catalogue().len();

        let mut findings = Vec::new();
        let all = recorded(
            &[],
            &[("vitalsign", "skipped: needs mimiciv_icu.chartevents")],
        );
        let report = check_derived(spec, Some(&all), "m4", &mut findings);
        assert_eq!(
            (report.built, report.known, report.skipped),
            (known - 1, known, 1)
        );
        assert!(findings.is_empty(), "{findings:?}");

        let older = recorded(&["apsiii", "lods"], &[]);
        let report = check_derived(spec, Some(&older), "m4", &mut findings);
        assert_eq!(report.not_built_by_this_version, ["apsiii", "lods"]);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("older m4"), "{findings:?}");
        assert!(findings[0].message.contains("apsiii, lods"), "{findings:?}");
        assert_eq!(findings[0].fix, "m4 init mimic-iv-demo --derived-only");

        findings.clear();
        let failed = recorded(&[], &[("sofa", "failed: Binder Error")]);
        let report = check_derived(spec, Some(&failed), "m4", &mut findings);
        assert_eq!(report.failed, ["sofa"]);
        assert!(findings[0].message.contains("failed"), "{findings:?}");

        findings.clear();
        let report = check_derived(spec, None, "m4", &mut findings);
        assert_eq!(
            (report.built, report.not_built_by_this_version.len()),
            (0, known)
        );
        assert!(
            findings[0].message.contains("no derived concepts"),
            "{findings:?}"
        );
    }
}
