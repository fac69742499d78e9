//! The command line: parses sub-commands and hands each to the module that owns it.
//!
//! This is the edge of the program: errors become `anyhow` here, and this is the
//! only module (with `client_config` and `auth::check`) that writes to stdout.
//! `m4` with no sub-command serves MCP over stdio, as Claude Desktop launches it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Settings};
use crate::{auth, client_config, datasets, server};

/// m4: ask MIMIC-IV questions from an LLM desktop client (MCP over stdio, DuckDB inside).
#[derive(Debug, Parser)]
#[command(name = "m4", version, about, long_about = None)]
pub struct Cli {
    /// Folder of data-set databases (default: `data/` in the m4 project).
    #[arg(long, global = true, env = config::M4_DATA_DIR)]
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
    /// Serve MCP over stdio (what an MCP client launches; the default).
    Serve,
    /// Download or load a data set and build its DuckDB database.
    Init {
        /// mimic-iv-demo, mimic-iv or synthetic.
        dataset: String,
        /// Load from this folder (PhysioNet's hosp/ and icu/ layout) instead of downloading.
        #[arg(long)]
        src: Option<PathBuf>,
    },
    /// Show each data set: initialised or not, location, size, tables and rows.
    Status,
    /// Run one read-only SQL query and print the result (the MCP tool's code path).
    Query {
        /// The SQL, e.g. "select count(*) from mimiciv_hosp.admissions".
        sql: String,
    },
    /// Add m4 to an MCP client's configuration (Claude Desktop, ...).
    Config(client_config::ConfigArgs),
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
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::from_env()?;
    // `m4 config` records the data folder only when one was chosen (flag or `M4_DATA_DIR`).
    let chosen_data_dir = cli.data_dir.clone();
    if let Some(dir) = cli.data_dir {
        settings.data_dir = dir;
    }
    if cli.dataset.is_some() {
        settings.dataset = cli.dataset;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Init { dataset, src } => {
            let spec = datasets::find(&dataset)?;
            init_logging("info");
            let report = datasets::init(&settings.data_dir, spec, &datasets::InitOptions { src })?;
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
        Command::Auth {
            command: AuthCommand::Check,
        } => {
            let passed = auth::check(&mut std::io::stdout().lock())?;
            anyhow::ensure!(passed, "one or more OAuth2 checks failed (see above)");
            Ok(())
        }
        Command::Auth {
            command: AuthCommand::Login,
        } => {
            init_logging("warn");
            Ok(auth::login::sign_in(&mut std::io::stdout().lock())?)
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    init_logging("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let outcome = runtime.block_on(server::serve_stdio(settings));
    // A query still running when the client hung up is read-only work nobody
    // will read: do not wait for it to finish or time out.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    outcome
}

fn run_query(settings: &Settings, sql: &str) -> anyhow::Result<()> {
    init_logging("warn");
    let opened = server::open_dataset(settings)?;
    if opened.spec.synthetic {
        eprintln!(
            "note: data set `synthetic` is SYNTHETIC data generated by m4, not real patients"
        );
    }
    let run = opened.database.begin()?;
    let checked = run.check(sql)?;
    let result = run.run(&checked, &[], &settings.limits)?;
    let rendered =
        crate::format::render(&result, settings.limits.max_rows, settings.limits.max_bytes);
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
