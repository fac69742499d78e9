//! The MCP server: the tool handler built from one [`Config`], the auth check in
//! front of every tool, and serving over a transport given as an argument
//! (stdin and stdout from [`stdio`], or the team server's streamable HTTP in [`http`]).
//!
//! Tools never build SQL from request text and never touch an engine's
//! internals: they hand request SQL to the engine's check, ask the engine for
//! its own convenience queries ([`ToolQuery`]), and hand results to `format`.
//! Every tool call goes through [`M4Server::call`], so authorisation, logging,
//! cancellation and error mapping happen in one place.

pub mod audit;
mod errors;
pub mod http;
mod resources;
pub mod stdio;
mod tools;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::{RoleServer, ServiceExt};
use rmcp::transport::IntoTransport;
use tokio_util::sync::CancellationToken;

use crate::auth::clock::SystemClock;
use crate::auth::config::AuthConfig;
use crate::auth::{AuthError, Authenticator, Credential, Principal};
use crate::config::Settings;
use crate::datasets::{DatasetSpec, Store};
use crate::engine::{Canceller, Engine, Limits, QueryError, QueryResult, ToolQuery};
use crate::sync::lock;

pub use errors::ToolError;

/// What the model is told about the BigQuery data set's dialect (in the instructions
/// when it is the default, and in refusals).
pub const BIGQUERY_NOTE: &str = "[data set: mimic-iv-bigquery — Google BigQuery: write GoogleSQL, not DuckDB SQL. Identifiers in `backticks` (\"x\" is a string), DATETIME_DIFF(end, start, HOUR), DATE_DIFF, COUNTIF(...), SAFE_CAST(x AS INT64), APPROX_QUANTILES(x, 100)[OFFSET(50)], arr[OFFSET(0)], REGEXP_CONTAINS(x, r'...'); MIMIC times are DATETIME. Table names as usual (mimiciv_hosp.patients): m4 maps them. BigQuery bills every column read over the whole table: select only the columns you need.]";

/// Everything the server is built from, parsed once at the edge (flags + environment).
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    /// `None` when OAuth2 is off.
    pub auth: Option<AuthConfig>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("the MCP handshake failed: {0}")]
    Handshake(String),
    #[error("the MCP service failed: {0}")]
    Service(String),
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("{0}")]
    Http(String),
}

/// The server's state, shared by all calls.
#[derive(Clone)]
pub struct M4Server {
    state: Arc<State>,
    /// Built once: building it generates every tool's JSON schema.
    tool_router: Arc<ToolRouter<M4Server>>,
    /// The HTTP request's user, already authorised by [`http`]; `None` on stdio.
    caller: Option<Arc<Principal>>,
}

struct State {
    store: Store,
    auth: Option<Arc<Authenticator>>,
    audit: Option<audit::AuditLog>,
}

/// What a tool hands back on success.
pub struct ToolOutput {
    pub text: String,
    pub structured: Option<serde_json::Value>,
    /// Rows returned, for the log line.
    pub rows: usize,
    pub truncated: bool,
}

/// Runs queries for one tool call, so a client's cancellation can stop them.
pub struct CallContext {
    pub spec: &'static DatasetSpec,
    server: M4Server,
    cancelled: Arc<AtomicBool>,
    running: Arc<Mutex<Option<Canceller>>>,
    /// The request's SQL, for the audit log.
    sql: Arc<Mutex<Option<String>>>,
}

impl CallContext {
    /// The call's engine, opened on first use (a tool like list_datasets never needs it).
    pub fn engine(&self) -> Result<Arc<dyn Engine>, ToolError> {
        Ok(self.server.state.store.engine(self.spec)?)
    }

    /// The bounds of this call's queries.
    pub fn limits(&self) -> &Limits {
        self.server.state.store.limits()
    }

    /// Checks `sql` from the request, then runs it within the limits, returning
    /// at most `max_rows` rows (the caller keeps it within the server's cap).
    pub fn run_sql(&self, sql: &str, max_rows: usize) -> Result<QueryResult, ToolError> {
        *lock(&self.sql) = Some(sql.to_string());
        let engine = self.engine()?;
        let mut session = engine.begin()?;
        let query = session.check(sql)?;
        let limits = Limits {
            max_rows: max_rows.min(self.limits().max_rows),
            ..self.limits().clone()
        };
        self.run_registered(session, &query, &limits)
    }

    /// Runs the engine's own query for a convenience tool within the limits.
    pub fn run_tool(&self, tool_query: ToolQuery<'_>) -> Result<QueryResult, ToolError> {
        let engine = self.engine()?;
        let query = engine.tool_query(tool_query)?;
        self.run_registered(engine.begin()?, &query, self.limits())
    }

    fn run_registered(
        &self,
        session: Box<dyn crate::engine::Session>,
        query: &crate::engine::CheckedQuery,
        limits: &Limits,
    ) -> Result<QueryResult, ToolError> {
        *lock(&self.running) = Some(session.canceller());
        // Checked after registering, so a cancellation that arrived in between is not lost.
        let outcome = if self.cancelled.load(Ordering::SeqCst) {
            Err(QueryError::Cancelled)
        } else {
            session.run(query, limits)
        };
        *lock(&self.running) = None;
        if let Err(QueryError::Cancelled) = &outcome {
            // Logged here: the request's own future may already be gone.
            tracing::info!(dataset = self.spec.name, "query cancelled by the client");
        }
        Ok(outcome?)
    }
}

impl M4Server {
    /// A server over `store`, with `auth` (already started) checked before every call.
    pub fn new(store: Store, auth: Option<Arc<Authenticator>>) -> M4Server {
        M4Server {
            tool_router: Arc::new(tools::fit_to_limits(
                M4Server::tool_router(),
                store.limits(),
            )),
            state: Arc::new(State {
                store,
                auth,
                audit: None,
            }),
            caller: None,
        }
    }

    /// This server with an audit log line written for every call.
    /// Call before the server is shared (it is built once, then cloned).
    pub fn with_audit(mut self, audit: Option<audit::AuditLog>) -> M4Server {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.audit = audit;
        }
        self
    }

    /// This server acting for `caller`, whom the HTTP layer has authorised.
    fn for_caller(&self, caller: Option<Arc<Principal>>) -> M4Server {
        M4Server {
            caller,
            ..self.clone()
        }
    }

    /// Builds the server from `config`: OAuth2 start-up (discovery, key set, the
    /// configured token) when it is on, and the default data set opening in the
    /// background for the first call.
    pub async fn start(config: Config) -> Result<M4Server, ServeError> {
        M4Server::start_for(config, Credential::Configured, None).await
    }

    /// [`M4Server::start`] for calls whose credential comes from `credential`, with
    /// an audit line per call written to `audit`.
    async fn start_for(
        config: Config,
        credential: Credential,
        audit: Option<audit::AuditLog>,
    ) -> Result<M4Server, ServeError> {
        let auth = match config.auth {
            None => None,
            Some(auth_config) => {
                let auth = Arc::new(Authenticator::new(auth_config, Arc::new(SystemClock)));
                let starting = Arc::clone(&auth);
                tokio::task::spawn_blocking(move || match credential {
                    Credential::Configured => starting.start(),
                    Credential::PerRequest => starting.start_per_request(),
                })
                .await??;
                tracing::info!("OAuth2 authentication is on");
                Some(auth)
            }
        };
        let server = M4Server::new(Store::new(&config.settings), auth).with_audit(audit);
        // Opened beside the MCP handshake rather than before it: the client's
        // `initialize` is answered at once, and a first call waits for the open
        // under the store's lock instead of opening a second time.
        let warm = server.clone();
        tokio::task::spawn_blocking(move || warm.state.store.warm_up());
        Ok(server)
    }

    /// Authorises, picks the data set, runs `work` on a blocking thread with
    /// cancellation wired to the engine, logs one line, and maps errors.
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
        let sql: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let request_dataset = dataset.clone();
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
        let recorded_sql = Arc::clone(&sql);
        let outcome = tokio::task::spawn_blocking(move || {
            let principal = server.authorize();
            let user = principal.as_ref().ok().and_then(Clone::clone);
            let attempt = principal.and_then(|_| {
                let spec = server.state.store.choose(dataset.as_deref())?;
                let context = CallContext {
                    spec,
                    server: server.clone(),
                    cancelled,
                    running,
                    sql: recorded_sql,
                };
                work(&context).map(|output| (spec, output))
            });
            (user, attempt)
        })
        .await
        .unwrap_or_else(|join_error| (None, Err(ToolError::Internal(join_error.to_string()))));
        watcher.abort();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (principal, outcome) = outcome;
        if let Some(audit) = &self.state.audit {
            let sql = lock(&sql).take();
            let (dataset, rows, bytes, result) = match &outcome {
                Ok((spec, output)) => (
                    Some(spec.name),
                    Some(output.rows),
                    Some(output.text.len()),
                    audit::Outcome::Ok,
                ),
                Err(error) => (request_dataset.as_deref(), None, None, outcome_of(error)),
            };
            audit.record(&audit::Record {
                sub: principal.as_ref().map(|p| p.subject.as_str()),
                client_id: principal.as_ref().and_then(|p| p.client_id.as_deref()),
                tool,
                dataset,
                sql: sql.as_deref(),
                rows,
                bytes,
                duration_ms: elapsed_ms,
                outcome: result,
            });
        }
        let user = principal.as_ref().map_or("local", |p| p.subject.as_str());
        match outcome {
            Ok((spec, output)) => {
                tracing::info!(
                    tool,
                    user,
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
                } else if spec.remote() {
                    format!(
                        "[data set: mimic-iv-bigquery — Google BigQuery: write GoogleSQL, not DuckDB SQL]\n\n{}",
                        output.text
                    )
                } else {
                    output.text
                };
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = output.structured;
                result
            }
            Err(error) => error.into_result(tool, user, elapsed_ms),
        }
    }

    fn authorize(&self) -> Result<Option<Principal>, ToolError> {
        if let Some(caller) = &self.caller {
            // Validated and counted by the HTTP layer before the call was dispatched.
            return Ok(Some(Principal::clone(caller)));
        }
        match &self.state.auth {
            None => Ok(None),
            // On HTTP without a caller this refuses (no configured token): never open.
            Some(auth) => Ok(Some(auth.authorize_configured()?)),
        }
    }
}

/// How a failed call ends, for the audit log.
fn outcome_of(error: &ToolError) -> audit::Outcome {
    match error {
        ToolError::Auth(_) => audit::Outcome::Refused,
        ToolError::Query(QueryError::Cancelled) => audit::Outcome::Cancelled,
        ToolError::Query(QueryError::Timeout { .. }) => audit::Outcome::Timeout,
        other => match other.disposition() {
            crate::engine::Disposition::User => audit::Outcome::Rejected,
            crate::engine::Disposition::Setup | crate::engine::Disposition::Internal => {
                audit::Outcome::Failed
            }
        },
    }
}

/// Builds the server from `config` and serves MCP over `transport` until the
/// client closes it.
pub async fn serve<T, E, A>(config: Config, transport: T) -> Result<(), ServeError>
where
    T: IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let server = M4Server::start(config).await?;
    let dataset = server
        .state
        .store
        .choose(None)
        .map_or("none", |spec| spec.name);
    tracing::info!(dataset, "m4 serving MCP");
    let running = server
        .serve(transport)
        .await
        .map_err(|e| ServeError::Handshake(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Service(e.to_string()))?;
    Ok(())
}
