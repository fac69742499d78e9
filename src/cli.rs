//! The command line: parses sub-commands and hands each to the module that owns it.
//!
//! This is the edge of the program: errors become `anyhow` here, and this is the
//! only module (with `client_config` and `auth::check`) that writes to stdout.
//! `m4` with no sub-command serves MCP over stdio, as Claude Desktop launches it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::auth::config::AuthConfig;
use crate::config::{self, Settings};
use crate::datasets::Store;
use crate::{auth, client_config, datasets, doctor, server};

/// m4: ask MIMIC-IV questions from an LLM desktop client (MCP over stdio, DuckDB inside).
#[derive(Debug, Parser)]
#[command(name = "m4", about, long_about = None, disable_version_flag = true)]
pub struct Cli {
    /// Print the version, the DuckDB version and the enabled engines.
    #[arg(short = 'V', long)]
    pub version: bool,

    /// Folder of data-set databases (default: `m4` in your user data folder; see `m4 doctor`).
    // Empty is allowed here (a bundle's empty field) and read as unset in `run`.
    #[arg(long, global = true, env = config::M4_DATA_DIR,
          value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from))]
    pub data_dir: Option<PathBuf>,

    /// Data set to use: mimic-iv-demo, mimic-iv, synthetic or mimic-iv-bigquery (default: the best one initialised).
    #[arg(long, global = true, env = config::M4_DATASET)]
    pub dataset: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// m4's sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (what an MCP client launches; the default), or over HTTP with `--http`.
    Serve {
        /// Serve MCP's streamable HTTP transport at `/mcp` on this address instead
        /// (default `M4_HTTP_ADDR`, else 127.0.0.1:8000): the team server. Any
        /// address but loopback needs OAuth2 (`M4_OAUTH2_*`) and `M4_HTTP_PUBLIC_URL`.
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        http: Option<String>,
    },
    /// Download or load a data set and build its DuckDB database.
    Init {
        /// mimic-iv-demo, mimic-iv, synthetic, or mimic-iv-bigquery (checks BigQuery access; builds nothing).
        dataset: String,
        /// Load from this folder (PhysioNet's hosp/ and icu/ layout) instead of downloading.
        #[arg(long)]
        src: Option<PathBuf>,
        /// Skip building the `mimiciv_derived` concepts (SOFA, KDIGO, Sepsis-3, ...).
        #[arg(long, conflicts_with = "derived_only")]
        no_derived: bool,
        /// Rebuild only the `mimiciv_derived` concepts in the existing database.
        #[arg(long)]
        derived_only: bool,
        /// synthetic only: generate F times the default size (100 patients), e.g. 0.5 or 100.
        #[arg(
            long,
            value_name = "F",
            conflicts_with = "derived_only",
            allow_negative_numbers = true
        )]
        scale: Option<datasets::Scale>,
    },
    /// Show each data set: initialised or not, location, size, tables and rows.
    Status,
    /// Run one read-only SQL query and print the result (the MCP tool's code path).
    Query {
        /// The SQL, e.g. "select count(*) from mimiciv_hosp.admissions".
        sql: String,
    },
    /// Add m4 to an MCP client's configuration (Claude Desktop, ...).
    Config(Box<client_config::ConfigArgs>),
    /// Check this install: binary, data sets, MCP client entries, OAuth2, free disk.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// OAuth2 diagnostics.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
}

/// `m4 auth` sub-commands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Print the OAuth2 configuration in force, provider reachability and the token's checks.
    Check,
    /// Sign in (the device flow where the provider offers it, else the browser); the sign-in is stored.
    Login {
        /// Sign in in a web browser (authorization code with PKCE, back to m4 on
        /// 127.0.0.1); the default when the provider has no device flow.
        #[arg(long, conflicts_with = "device")]
        browser: bool,
        /// Sign in with the device flow (a URL and a code to enter, works over SSH).
        #[arg(long)]
        device: bool,
        /// With the browser: print the URL only, do not try to open a browser.
        #[arg(long, conflicts_with = "device")]
        no_open: bool,
        /// With the browser: how long to wait for the sign-in to come back, in seconds.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = auth::browser::DEFAULT_WAIT_SECS,
            conflicts_with = "device"
        )]
        timeout: u64,
    },
    /// Revoke the stored sign-in at the provider (where it allows) and delete it.
    Logout,
    /// Say who is signed in, until when, and where the secret is kept.
    Status,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.version {
        println!("{}", doctor::version_text());
        return Ok(());
    }
    // The one place m4 reads its environment; everything below gets typed values.
    let environment = |name: &str| std::env::var(name).ok();
    let mut settings = Settings::from_lookup(environment)?;
    // clap reads `M4_DATA_DIR`/`M4_DATASET` itself: an unfilled `${...}` is unset there too.
    let cli_data_dir = config::unless_unfilled(config::M4_DATA_DIR, cli.data_dir);
    let cli_dataset = config::unless_unfilled(config::M4_DATASET, cli.dataset);
    // `m4 config` records the data folder only when one was chosen (flag or `M4_DATA_DIR`).
    let chosen_data_dir = cli_data_dir.clone();
    if let Some(dir) = cli_data_dir {
        settings.data_dir = dir;
    }
    if cli_dataset.is_some() {
        settings.dataset = cli_dataset;
    }
    match cli.command.unwrap_or(Command::Serve { http: None }) {
        Command::Serve { http: None } => serve(server::Config {
            auth: AuthConfig::from_lookup(environment)?,
            settings,
        }),
        Command::Serve { http: Some(addr) } => {
            let http = config::http::HttpSettings::from_lookup(Some(&addr), environment)?;
            // The audience defaults to the public URL: the resource the tokens are for.
            let public_url = http.public_url.clone();
            let auth_lookup = |name: &str| match environment(name) {
                Some(v) if !v.trim().is_empty() => Some(v),
                _ if name == config::M4_OAUTH2_AUDIENCE => Some(public_url.clone()),
                other => other,
            };
            serve_http(
                server::Config {
                    auth: AuthConfig::from_lookup(auth_lookup)?,
                    settings,
                },
                http,
            )
        }
        Command::Init {
            dataset,
            src,
            no_derived,
            derived_only,
            scale,
        } => {
            let spec = datasets::find(&dataset)?;
            if scale.is_some() && spec.source != datasets::Source::Generated {
                anyhow::bail!(
                    "`--scale` applies only to the synthetic data set, not `{dataset}`\n\nhint: run `m4 init synthetic --scale F`, or drop `--scale`"
                );
            }
            init_logging("info");
            if spec.remote() {
                return check_bigquery(&settings);
            }
            let options = datasets::InitOptions {
                src,
                base_url: settings.demo_url.clone(),
                download_idle: settings.download_idle,
                no_derived,
                derived_only,
                scale: scale.unwrap_or_default(),
            };
            let report = datasets::init(&settings.data_dir, spec, &options)?;
            eprintln!("{report}");
            Ok(())
        }
        Command::Status => {
            let mut out = std::io::stdout().lock();
            for (i, status) in datasets::status(&settings.data_dir).iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "{status}")?;
                if status.spec.remote() {
                    write!(out, "{}", bigquery_summary(&settings.bigquery))?;
                }
            }
            Ok(())
        }
        Command::Query { sql } => run_query(&settings, &sql),
        Command::Config(mut args) => {
            if let Some(spec) = settings
                .dataset
                .as_deref()
                .and_then(|d| datasets::find(d.trim()).ok())
                && spec.remote()
            {
                args.bigquery = bigquery_entry(&environment);
                if !args
                    .bigquery
                    .iter()
                    .any(|(k, _)| k == config::M4_BIGQUERY_PROJECT)
                {
                    eprintln!(
                        "warning: M4_BIGQUERY_PROJECT is not set, so the entry names no billing project; run `M4_BIGQUERY_PROJECT=your-project m4 config ... --dataset {}` (or add it to the entry's env)",
                        spec.name
                    );
                }
            }
            args.dataset = settings.dataset;
            args.data_dir = chosen_data_dir;
            client_config::run(&args)
        }
        Command::Doctor { json } => doctor::run(&settings, &environment, json),
        Command::Auth {
            command: AuthCommand::Check,
        } => {
            let passed = auth::check::check_with(&mut std::io::stdout().lock(), environment)?;
            anyhow::ensure!(passed, "one or more OAuth2 checks failed (see above)");
            Ok(())
        }
        Command::Auth {
            command:
                AuthCommand::Login {
                    browser,
                    device,
                    no_open,
                    timeout,
                },
        } => {
            init_logging("warn");
            let options = auth::login::LoginOptions {
                flow: match (browser, device) {
                    (true, _) => auth::login::Flow::Browser,
                    (_, true) => auth::login::Flow::Device,
                    _ => auth::login::Flow::Auto,
                },
                open_browser: !no_open,
                wait: std::time::Duration::from_secs(timeout.max(1)),
            };
            Ok(auth::login::sign_in(
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
                &options,
                environment,
            )?)
        }
        Command::Auth {
            command: AuthCommand::Logout,
        } => {
            init_logging("warn");
            Ok(auth::account::sign_out(
                &mut std::io::stdout().lock(),
                environment,
            )?)
        }
        Command::Auth {
            command: AuthCommand::Status,
        } => {
            init_logging("warn");
            Ok(auth::account::status(
                &mut std::io::stdout().lock(),
                environment,
            )?)
        }
    }
}

fn serve(config: server::Config) -> anyhow::Result<()> {
    init_logging("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let (reader, writer, modes) = {
        let _inside = runtime.enter();
        server::stdio::open()
    };
    let outcome = runtime.block_on(server::serve(config, (reader, writer)));
    // A query still running when the client hung up is read-only work nobody
    // will read: do not wait for it to finish or time out.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    // Only with the transport gone: a pipe made blocking under the event loop
    // could stall a write on a runtime thread.
    drop(modes);
    Ok(outcome?)
}

fn serve_http(config: server::Config, http: config::http::HttpSettings) -> anyhow::Result<()> {
    // rmcp logs each stateless request's service start and end at `info`.
    init_logging("info,rmcp=warn");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let outcome = runtime.block_on(server::http::serve(config, http));
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    Ok(outcome?)
}

/// `m4 query`: the data set chosen as a call would choose it, opened through
/// the data sets' store (not the MCP server), the SQL checked and run by its engine.
fn run_query(settings: &Settings, sql: &str) -> anyhow::Result<()> {
    init_logging("warn");
    let store = Store::new(settings);
    let spec = store.choose(None)?;
    if spec.synthetic {
        eprintln!(
            "note: data set `synthetic` is SYNTHETIC data generated by m4, not real patients"
        );
    }
    let engine = store.engine(spec)?;
    let mut session = engine.begin()?;
    let checked = session.check(sql)?;
    let result = session.run(&checked, store.limits())?;
    let rendered = crate::format::render(result, settings.max_rows, settings.max_bytes);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", rendered.text)?;
    Ok(())
}

/// `m4 init mimic-iv-bigquery`: checks access and says what to fix; downloads nothing.
fn check_bigquery(settings: &Settings) -> anyhow::Result<()> {
    let options = datasets::bigquery_options(&settings.bigquery, settings.query_timeout);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "mimic-iv-bigquery: MIMIC-IV {} on BigQuery, nothing to download; checking access",
        settings.bigquery.version
    )?;
    write!(out, "{}", bigquery_summary(&settings.bigquery))?;
    let report = crate::engine::bigquery::check_access(&options);
    write!(out, "{report}")?;
    anyhow::ensure!(
        report.ok(),
        "BigQuery access is not ready (see the FAIL lines above for what to fix)"
    );
    writeln!(
        out,
        "ready: serve it with `m4 --dataset mimic-iv-bigquery` or `m4 config claude --dataset mimic-iv-bigquery`"
    )?;
    Ok(())
}

/// The BigQuery settings in force, for `m4 status` and `m4 init`.
fn bigquery_summary(b: &config::BigQuerySettings) -> String {
    let datasets: Vec<String> = b
        .datasets
        .iter()
        .map(|(canonical, d)| format!("{canonical} = {}.{d}", b.data_project))
        .collect();
    format!(
        "  billing project: {}\n  datasets ({}): {}\n  cost cap per query: {} (M4_BIGQUERY_MAX_BYTES_BILLED)\n{}",
        b.project
            .as_deref()
            .unwrap_or("not set (set M4_BIGQUERY_PROJECT to your Google Cloud project)"),
        b.version,
        datasets.join(", "),
        crate::format::decimal_size(b.max_bytes_billed),
        b.api_url
            .as_deref()
            .map(|u| format!("  API URL: {u}\n"))
            .unwrap_or_default()
    )
}

/// The `M4_BIGQUERY_*` variables set in the environment, for a client entry.
fn bigquery_entry(environment: &impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    // From the one list of variables m4 reads, so a new BigQuery setting reaches
    // client entries without a second list to keep.
    doctor::KNOWN_VARIABLES
        .iter()
        .filter(|name| name.starts_with("M4_BIGQUERY_"))
        .filter_map(|name| {
            environment(name)
                .filter(|v| !v.trim().is_empty() && !config::is_unfilled(v))
                .map(|v| (name.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Logs go to stderr: stdout belongs to the MCP protocol. `RUST_LOG` wins over
/// `M4_LOG_LEVEL`, which wins over the command's default level.
fn init_logging(default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var(config::M4_LOG_LEVEL).ok())
        .unwrap_or_else(|| default_level.to_string());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .try_init();
}
