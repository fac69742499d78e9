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

    /// Data set to use: mimic-iv-demo, mimic-iv or synthetic (default: the best one initialised).
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
        /// mimic-iv-demo, mimic-iv or synthetic.
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
    /// Sign in with the device flow (prints a URL and a code); the sign-in is stored.
    Login,
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
        } => {
            let spec = datasets::find(&dataset)?;
            init_logging("info");
            let options = datasets::InitOptions {
                src,
                base_url: settings.demo_url.clone(),
                download_idle: settings.download_idle,
                no_derived,
                derived_only,
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
            }
            Ok(())
        }
        Command::Query { sql } => run_query(&settings, &sql),
        Command::Config(mut args) => {
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
            command: AuthCommand::Login,
        } => {
            init_logging("warn");
            Ok(auth::login::sign_in(
                &mut std::io::stdout().lock(),
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
    let outcome = runtime.block_on(server::serve(config, rmcp::transport::stdio()));
    // A query still running when the client hung up is read-only work nobody
    // will read: do not wait for it to finish or time out.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
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
