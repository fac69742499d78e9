//! The BigQuery engine: MIMIC-IV where PhysioNet hosts it (`physionet-data`),
//! queried with the user's Google credentials and billed to the user's own
//! project, behind the same [`Engine`] and [`Session`] as DuckDB.
//!
//! # Files
//! - `credentials`: Application Default Credentials and the cached access token.
//! - `api`: the REST calls (ureq + serde), retries, BigQuery's error body.
//! - `errors`: BigQuery failures → [`QueryError`]s that say what to do.
//! - `rewrite`: `mimiciv_hosp.x` → `` `physionet-data.mimiciv_3_1_hosp.x` `` (a tokenizer).
//! - `jobs`: the dry run that decides, the job that runs, paging, cancel.
//! - `rows`: BigQuery's `f`/`v` values → result cells (the one place rows are built).
//! - `catalog`: tables.list / tables.get (free), never INFORMATION_SCHEMA.
//! - `sql`: the convenience tools' GoogleSQL with named parameters.
//! - `search`: `search_items` over the five dictionaries in one GoogleSQL query.
//! - `access`: `m4 init mimic-iv-bigquery`'s checks.
//!
//! # The wall
//! Read-only is decided by BigQuery, not by parsing: every text is dry-run
//! first (free) and runs only if BigQuery calls it a `SELECT` that reads only
//! the configured MIMIC datasets and its byte estimate is within the cap. The
//! job then carries `maximumBytesBilled` (BigQuery refuses to bill past it) and
//! `jobTimeoutMs` (BigQuery stops it even if m4 is killed). The executor dry-runs
//! again any text its own session did not check (m4's own convenience SQL
//! included), so nothing reaches a job without the dry run's verdict.

mod access;
mod api;
mod catalog;
mod credentials;
mod errors;
mod jobs;
pub mod rewrite;
mod rows;
mod search;
mod sql;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    Canceller, CheckedQuery, Engine, EngineId, ItemMatch, Limits, QueryError, QueryResult, Session,
    TableInfo, TableSummary, ToolQuery,
};
use crate::sync::lock;

pub use access::{AccessReport, check_access};
pub use credentials::{AdcEnv, CredentialError};
pub use rewrite::NameMap;

/// BigQuery's REST root when no override is set.
pub const DEFAULT_API_URL: &str = "https://bigquery.googleapis.com";
/// The REST path under the root.
const API_PATH: &str = "/bigquery/v2";

/// Where the credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialMode {
    /// Application Default Credentials, looked up in these places.
    Adc(AdcEnv),
    /// No credentials at all (an emulator on loopback only).
    None,
}

/// How the engine reaches BigQuery and what it allows.
#[derive(Debug, Clone)]
pub struct Options {
    /// REST root (`https://bigquery.googleapis.com`, or an emulator's `http://127.0.0.1:9050`).
    pub api_url: String,
    /// The user's project, where jobs run and are billed.
    pub billing_project: String,
    /// The project holding MIMIC-IV (`physionet-data`).
    pub data_project: String,
    /// Canonical schema → BigQuery dataset, e.g. `mimiciv_hosp` → `mimiciv_3_1_hosp`.
    pub datasets: Vec<(String, String)>,
    /// Where jobs run (`US`, PhysioNet's multi-region).
    pub location: String,
    /// Bytes a query may bill; refused over it by the dry run, and stopped by BigQuery.
    pub max_bytes_billed: u64,
    pub credentials: CredentialMode,
    /// Time limit of metadata calls (queries get theirs from [`Limits`]).
    pub timeout: Duration,
}

impl Options {
    /// The REST base URL: the root with `/bigquery/v2` (kept if already there).
    pub fn base_url(&self) -> String {
        let root = self.api_url.trim_end_matches('/');
        if root.ends_with(API_PATH) {
            root.to_string()
        } else {
            format!("{root}{API_PATH}")
        }
    }

    /// The canonical-name map for rewriting.
    pub fn names(&self) -> NameMap {
        NameMap {
            data_project: self.data_project.clone(),
            datasets: self.datasets.clone(),
        }
    }
}

/// What every session and the catalog share.
#[derive(Debug)]
pub(crate) struct Shared {
    api: api::Api,
    options: Options,
    names: NameMap,
}

impl Shared {
    fn context(&self) -> errors::Context {
        errors::Context {
            billing_project: self.options.billing_project.clone(),
            data_project: self.options.data_project.clone(),
            credentials: self.api.tokens().found().credentials.kind(),
            max_bytes_billed: self.options.max_bytes_billed,
            timeout_seconds: self.options.timeout.as_secs(),
        }
    }
}

/// MIMIC-IV on BigQuery.
#[derive(Debug)]
pub struct BigQueryEngine {
    id: EngineId,
    shared: Arc<Shared>,
    catalog: Arc<catalog::Catalog>,
}

impl BigQueryEngine {
    /// An engine for `options`: finds the credentials (no network call yet).
    pub fn open(options: Options) -> Result<BigQueryEngine, QueryError> {
        let found = match &options.credentials {
            CredentialMode::None => credentials::Found {
                credentials: credentials::Credentials::None,
                origin: "M4_BIGQUERY_CREDENTIALS=none".into(),
            },
            CredentialMode::Adc(env) => {
                credentials::discover(env).map_err(|e| QueryError::Access {
                    message: format!("BigQuery: {e}"),
                })?
            }
        };
        let api = api::Api::new(options.base_url(), credentials::TokenSource::new(found));
        Ok(BigQueryEngine {
            id: EngineId::fresh(),
            shared: Arc::new(Shared {
                names: options.names(),
                api,
                options,
            }),
            catalog: Arc::new(catalog::Catalog::default()),
        })
    }

    /// Where the credentials were found, for reports.
    pub fn credentials_origin(&self) -> String {
        self.shared.api.tokens().found().origin.clone()
    }

    fn session(&self) -> BigQuerySession {
        let slot: jobs::JobSlot = Arc::new(Mutex::new(None));
        let (shared, job) = (Arc::clone(&self.shared), Arc::clone(&slot));
        let canceller = Canceller::new(move || {
            let id = lock(&job).clone();
            if let Some(id) = id {
                // Off the caller's thread: the deadline timer serves every query.
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || jobs::cancel(&shared, &id));
            }
        });
        BigQuerySession {
            engine: self.id,
            shared: Arc::clone(&self.shared),
            catalog: Arc::clone(&self.catalog),
            canceller,
            slot,
            checked: None,
        }
    }
}

impl Engine for BigQueryEngine {
    fn id(&self) -> EngineId {
        self.id
    }

    fn dialect(&self) -> &'static str {
        "GoogleSQL"
    }

    fn tables(&self) -> Result<Vec<TableSummary>, QueryError> {
        Ok(self
            .catalog
            .tables(&self.shared)?
            .into_iter()
            .map(|t| t.summary)
            .collect())
    }

    fn table_info(&self, table: &TableSummary) -> Result<TableInfo, QueryError> {
        Ok(catalog::table_info(
            &self.catalog.table(&self.shared, table)?,
        ))
    }

    fn tool_query(&self, query: ToolQuery<'_>) -> Result<CheckedQuery, QueryError> {
        let (sql, params) = sql::tool_query(query);
        let sql = if sql.starts_with(sql::PREVIEW_MARK) {
            sql
        } else {
            rewrite::rewrite(&sql, &self.shared.names)
        };
        Ok(CheckedQuery::new(self.id, sql, params))
    }

    fn begin(&self) -> Result<Box<dyn Session>, QueryError> {
        Ok(Box::new(self.session()))
    }

    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<ItemMatch>, QueryError> {
        let Some(params) = search::params(query, limit) else {
            return Ok(Vec::new());
        };
        let sql = rewrite::rewrite(search::SEARCH_SQL, &self.shared.names);
        let limits = Limits {
            max_rows: limit.clamp(1, 500),
            max_bytes: usize::MAX / 2,
            timeout: self.shared.options.timeout,
        };
        // Through the session like any query: dry-run first, then one job.
        let query = CheckedQuery::new(self.id, sql, params);
        let result = Box::new(self.session()).run(&query, &limits)?;
        Ok(search::matches(
            result
                .rows
                .into_iter()
                .map(|row| match row {
                    serde_json::Value::Array(cells) => cells,
                    other => vec![other],
                })
                .collect(),
        ))
    }
}

/// One query: checked by a dry run, run as one job.
struct BigQuerySession {
    engine: EngineId,
    shared: Arc<Shared>,
    /// The engine's catalog, for previews.
    catalog: Arc<catalog::Catalog>,
    canceller: Canceller,
    slot: jobs::JobSlot,
    /// The text this session's dry run accepted.
    checked: Option<String>,
}

impl BigQuerySession {
    fn check_text(
        &self,
        sql: &str,
        params: &[super::Param],
        timeout: Duration,
    ) -> Result<(), QueryError> {
        let dry = jobs::dry_run(&self.shared, sql, params, Instant::now() + timeout)?;
        jobs::judge(&self.shared, &dry)
    }
}

impl Session for BigQuerySession {
    fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    fn check(&mut self, sql: &str) -> Result<CheckedQuery, QueryError> {
        if sql.trim().is_empty() {
            return Err(QueryError::Refused {
                reason: "the query is empty".into(),
                allowed: jobs::ALLOWED,
            });
        }
        if sql.len() > jobs::MAX_SQL_BYTES {
            return Err(QueryError::Refused {
                reason: format!(
                    "the query is {} bytes long, over GoogleSQL's limit of 1 MiB",
                    sql.len()
                ),
                allowed: jobs::ALLOWED,
            });
        }
        let rewritten = rewrite::rewrite(sql, &self.shared.names);
        self.check_text(&rewritten, &[], self.shared.options.timeout)?;
        self.checked = Some(rewritten.clone());
        Ok(CheckedQuery::new(self.engine, rewritten, Vec::new()))
    }

    fn execute(
        self: Box<Self>,
        query: &CheckedQuery,
        limits: &Limits,
    ) -> Result<QueryResult, QueryError> {
        if query.engine() != self.engine {
            return Err(QueryError::Internal {
                message: "a query checked by another engine was refused".to_string(),
            });
        }
        // m4's own preview: only an engine-written query carries parameters.
        if !query.params().is_empty()
            && let Some((schema, table)) = sql::preview_target(query.sql())
        {
            let meta = self
                .catalog
                .tables(&self.shared)?
                .into_iter()
                .find(|t| t.summary.schema == schema && t.summary.table == table);
            let meta = match meta {
                Some(meta) => meta,
                None => {
                    return Err(QueryError::UnknownTable {
                        name: format!("{schema}.{table}"),
                        suggestion: String::new(),
                    });
                }
            };
            let limit = match query.params().first() {
                Some(super::Param::Int(Some(n))) => (*n).clamp(0, 1000) as usize,
                _ => 3,
            };
            return jobs::preview(&self.shared, &meta, limit, limits);
        }
        if self.checked.as_deref() != Some(query.sql()) {
            self.check_text(query.sql(), query.params(), limits.timeout)?;
        }
        jobs::run(
            &self.shared,
            query.sql(),
            query.params(),
            limits,
            &self.slot,
            &self.canceller,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_checked_by_another_engine_never_reaches_bigquery() {
        let engine = BigQueryEngine::open(Options {
            // Nothing listens here: a request would fail with a transport error instead.
            api_url: "http://127.0.0.1:9".into(),
            billing_project: "p".into(),
            data_project: "physionet-data".into(),
            datasets: vec![("mimiciv_hosp".into(), "mimiciv_3_1_hosp".into())],
            location: "US".into(),
            max_bytes_billed: 1,
            credentials: CredentialMode::None,
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        let foreign = CheckedQuery::new(EngineId::fresh(), "SELECT 1".into(), Vec::new());
        let limits = Limits {
            max_rows: 10,
            max_bytes: 1000,
            timeout: Duration::from_secs(1),
        };
        let error = engine.begin().unwrap().run(&foreign, &limits).unwrap_err();
        assert!(
            matches!(&error, QueryError::Internal { message } if message.contains("another engine")),
            "{error}"
        );
    }

    #[test]
    fn the_api_url_gets_the_rest_path_once() {
        let mut options = Options {
            api_url: "http://127.0.0.1:9050/".into(),
            billing_project: "p".into(),
            data_project: "physionet-data".into(),
            datasets: Vec::new(),
            location: "US".into(),
            max_bytes_billed: 1,
            credentials: CredentialMode::None,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(options.base_url(), "http://127.0.0.1:9050/bigquery/v2");
        options.api_url = "https://proxy.example/bigquery/v2".into();
        assert_eq!(options.base_url(), "https://proxy.example/bigquery/v2");
    }
}
