//! The MCP server: the tool handler, data-set selection per call, the auth check
//! in front of every tool, and serving over stdio.
//!
//! Tools never build SQL from request text and never touch DuckDB directly: they
//! hand checked queries (or m4's own fixed SQL with bound values) to `query`,
//! and results to `format`. Every tool call goes through [`M4Server::call`], so
//! authorisation, logging, cancellation and error mapping happen in one place.

mod errors;
mod tools;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock};
use tokio_util::sync::CancellationToken;

use crate::auth::{Authenticator, Principal};
use crate::config::{QueryLimits, Settings};
use crate::datasets::{self, DatasetSpec};
use crate::query::{Canceller, CheckedQuery, Database, QueryError, QueryResult, QueryRun};

pub use errors::ToolError;

/// Order in which an unnamed data set is chosen: the most complete real data first.
const PREFERENCE: [&str; 3] = ["mimic-iv", "mimic-iv-demo", "synthetic"];

/// The server's state, shared by all calls.
#[derive(Clone)]
pub struct M4Server {
    state: Arc<State>,
    /// Built once: building it generates every tool's JSON schema.
    tool_router: Arc<ToolRouter<M4Server>>,
}

struct State {
    settings: Settings,
    auth: Option<Arc<Authenticator>>,
    default_dataset: &'static DatasetSpec,
    /// Databases opened so far; building synthetic data on first use also happens
    /// under this lock, so concurrent first calls build it once.
    open: Mutex<HashMap<&'static str, Arc<Database>>>,
}

/// What a tool hands back on success.
pub struct ToolOutput {
    pub text: String,
    pub structured: Option<serde_json::Value>,
    /// Rows returned, for the log line.
    pub rows: usize,
    pub truncated: bool,
}

/// A data set's database, opened for a call.
pub struct OpenedDataset {
    pub spec: &'static DatasetSpec,
    pub database: Arc<Database>,
}

/// Chooses the data set for `requested` (a tool argument or `M4_DATASET`), or
/// the best one initialised; with none initialised, the synthetic set.
pub fn choose_dataset(
    settings: &Settings,
    requested: Option<&str>,
) -> Result<&'static DatasetSpec, ToolError> {
    if let Some(name) = requested.or(settings.dataset.as_deref()) {
        return Ok(datasets::find(name)?);
    }
    let initialised = PREFERENCE
        .iter()
        .filter_map(|name| datasets::find(name).ok())
        .find(|spec| datasets::database_path(&settings.data_dir, spec).is_file());
    Ok(initialised.unwrap_or(datasets::find("synthetic")?))
}

/// Opens a data set's database; builds the synthetic set on first use, since
/// it needs no download and lets m4 do real work on a fresh machine.
fn open_database(
    settings: &Settings,
    spec: &'static DatasetSpec,
) -> Result<Arc<Database>, ToolError> {
    let path = datasets::database_path(&settings.data_dir, spec);
    if !path.is_file() {
        if !spec.synthetic {
            return Err(ToolError::NotInitialised {
                dataset: spec.name.to_string(),
            });
        }
        tracing::warn!(
            "no data set is initialised; building the SYNTHETIC data set in {} (run `m4 init mimic-iv-demo` for real data)",
            settings.data_dir.display()
        );
        datasets::init(&settings.data_dir, spec, &datasets::InitOptions::default())?;
    }
    Ok(Database::open_read_only(
        &path,
        &settings.limits.memory_limit,
    )?)
}

/// Opens the chosen data set for `m4 query`.
pub fn open_dataset(settings: &Settings) -> anyhow::Result<OpenedDataset> {
    let spec = choose_dataset(settings, None)?;
    let database = open_database(settings, spec)?;
    Ok(OpenedDataset { spec, database })
}

/// Runs queries for one tool call, so a client's cancellation can stop them.
pub struct CallContext {
    pub spec: &'static DatasetSpec,
    pub limits: QueryLimits,
    server: M4Server,
    cancelled: Arc<AtomicBool>,
    running: Arc<Mutex<Option<Canceller>>>,
}

impl CallContext {
    /// The call's data set, opened on first use (a tool like list_datasets never needs it).
    pub fn database(&self) -> Result<Arc<Database>, ToolError> {
        self.server.database(self.spec)
    }

    /// Runs m4's own query within the configured limits.
    pub fn run(
        &self,
        query: &CheckedQuery,
        params: &[duckdb::types::Value],
    ) -> Result<QueryResult, ToolError> {
        self.run_checked(|_| Ok(query.clone()), params)
    }

    /// Checks `sql` from the request, then runs it within the configured limits.
    pub fn run_sql(&self, sql: &str) -> Result<QueryResult, ToolError> {
        self.run_checked(|run| run.check(sql), &[])
    }

    fn run_checked(
        &self,
        check: impl FnOnce(&QueryRun) -> Result<CheckedQuery, QueryError>,
        params: &[duckdb::types::Value],
    ) -> Result<QueryResult, ToolError> {
        let run = self.database()?.begin()?;
        let query = check(&run)?;
        *lock(&self.running) = Some(run.canceller());
        // Checked after registering, so a cancellation that arrived in between is not lost.
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(QueryError::Cancelled.into());
        }
        let outcome = run.run(&query, params, &self.limits);
        *lock(&self.running) = None;
        if let Err(QueryError::Cancelled) = &outcome {
            // Logged here: the request's own future may already be gone.
            tracing::info!(dataset = self.spec.name, "query cancelled by the client");
        }
        Ok(outcome?)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl M4Server {
    /// A server over `settings`, with `auth` checked before every call.
    pub fn new(
        settings: Settings,
        auth: Option<Arc<Authenticator>>,
    ) -> Result<M4Server, ToolError> {
        let default_dataset = choose_dataset(&settings, None)?;
        Ok(M4Server {
            state: Arc::new(State {
                settings,
                auth,
                default_dataset,
                open: Mutex::new(HashMap::new()),
            }),
            tool_router: Arc::new(M4Server::tool_router()),
        })
    }

    /// Opens the default data set now, so the first call does not pay for it.
    pub fn warm_up(&self) {
        let spec = self.state.default_dataset;
        if datasets::database_path(&self.state.settings.data_dir, spec).is_file()
            && let Err(error) = self.database(spec)
        {
            tracing::warn!(dataset = spec.name, %error, "could not open the default data set");
        }
    }

    fn database(&self, spec: &'static DatasetSpec) -> Result<Arc<Database>, ToolError> {
        let mut open = lock(&self.state.open);
        if let Some(database) = open.get(spec.name) {
            return Ok(Arc::clone(database));
        }
        let database = open_database(&self.state.settings, spec)?;
        open.insert(spec.name, Arc::clone(&database));
        Ok(database)
    }

    /// Authorises, picks the data set, runs `work` on a blocking thread with
    /// cancellation wired to DuckDB, logs one line, and maps errors.
    pub async fn call<F>(
        &self,
        tool: &'static str,
        dataset: Option<String>,
        cancel: CancellationToken,
        work: F,
    ) -> CallToolResult
    where
        F: FnOnce(&CallContext) -> Result<ToolOutput, ToolError> + Send + 'static,
    {
        let started = Instant::now();
        let server = self.clone();
        let cancelled = Arc::new(AtomicBool::new(false));
        let running: Arc<Mutex<Option<Canceller>>> = Arc::new(Mutex::new(None));
        let watcher = {
            let (cancelled, running) = (Arc::clone(&cancelled), Arc::clone(&running));
            let cancel = cancel.clone();
            tokio::spawn(async move {
                cancel.cancelled().await;
                cancelled.store(true, Ordering::SeqCst);
                if let Some(canceller) = lock(&running).take() {
                    canceller.cancel();
                }
            })
        };
        let outcome = tokio::task::spawn_blocking(move || {
            let principal = server.authorize()?;
            let spec = choose_dataset(&server.state.settings, dataset.as_deref())?;
            let context = CallContext {
                spec,
                limits: server.state.settings.limits.clone(),
                server: server.clone(),
                cancelled,
                running,
            };
            work(&context).map(|output| (principal, spec, output))
        })
        .await
        .unwrap_or_else(|join_error| Err(ToolError::Internal(join_error.to_string())));
        watcher.abort();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok((principal, spec, output)) => {
                tracing::info!(
                    tool,
                    user = principal.as_ref().map_or("local", |p| p.subject.as_str()),
                    dataset = spec.name,
                    rows = output.rows,
                    truncated = output.truncated,
                    elapsed_ms,
                    "tool call"
                );
                let text = if spec.synthetic {
                    format!(
                        "[data set: synthetic — SYNTHETIC data generated by m4, not real patients]\n\n{}",
                        output.text
                    )
                } else {
                    output.text
                };
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = output.structured;
                result
            }
            Err(error) => {
                tracing::info!(tool, elapsed_ms, error = %error, "tool call failed");
                error.into_result(tool)
            }
        }
    }

    fn authorize(&self) -> Result<Option<Principal>, ToolError> {
        match &self.state.auth {
            None => Ok(None),
            Some(auth) => Ok(Some(auth.authorize_configured()?)),
        }
    }
}

/// Serves MCP over stdin/stdout until the client closes stdin.
pub async fn serve_stdio(settings: Settings) -> anyhow::Result<()> {
    let auth = match Authenticator::from_env()? {
        None => None,
        Some(auth) => {
            let auth = Arc::new(auth);
            let starting = Arc::clone(&auth);
            tokio::task::spawn_blocking(move || starting.start())
                .await
                .context("OAuth2 start-up task failed")??;
            tracing::info!("OAuth2 authentication is on");
            Some(auth)
        }
    };
    let server = M4Server::new(settings, auth)?;
    let warm = server.clone();
    tokio::task::spawn_blocking(move || warm.warm_up())
        .await
        .context("start-up task failed")?;
    tracing::info!(
        dataset = server.state.default_dataset.name,
        "m4 serving MCP on stdio"
    );
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP handshake failed")?;
    running.waiting().await.context("the MCP service failed")?;
    Ok(())
}
