//! The catalog from BigQuery's free metadata calls: `tables.list` for each
//! configured dataset, then `tables.get` for row counts, descriptions and
//! columns (a few at once), never `INFORMATION_SCHEMA`, whose queries bill at
//! least 10 MB each. Tables are shown under m4's canonical schema names
//! (`mimiciv_hosp`), whatever the BigQuery dataset is called. Kept for a few
//! minutes: MIMIC's tables do not change under a running server.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Shared;
use super::api::ApiError;
use super::errors;
use super::rows::Field;
use crate::engine::{ColumnInfo, QueryError, TableInfo, TableSummary};
use crate::sync::lock;

/// How long the table list is kept.
const CATALOG_TTL: Duration = Duration::from_secs(600);
/// `tables.get` calls in flight at once.
const PARALLEL_GETS: usize = 8;

/// One table's metadata as `tables.get` returned it.
#[derive(Debug, Clone)]
pub(super) struct TableMeta {
    pub summary: TableSummary,
    pub dataset: String,
    pub fields: Vec<Field>,
}

/// The cached catalog.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    // A std Mutex: held while the catalog is fetched, so concurrent calls fetch once.
    cached: Mutex<Option<(Instant, Vec<TableMeta>)>>,
}

impl Catalog {
    /// Every table of the configured datasets, in name order.
    pub fn tables(&self, shared: &Shared) -> Result<Vec<TableMeta>, QueryError> {
        let mut cached = lock(&self.cached);
        if let Some((at, tables)) = cached.as_ref()
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(tables.clone());
        }
        let tables = fetch(shared)?;
        *cached = Some((Instant::now(), tables.clone()));
        Ok(tables)
    }

    /// One table's metadata, from the cache or `tables.get`.
    pub fn table(&self, shared: &Shared, table: &TableSummary) -> Result<TableMeta, QueryError> {
        if let Some(found) = self
            .tables(shared)?
            .into_iter()
            .find(|t| t.summary.schema == table.schema && t.summary.table == table.table)
        {
            return Ok(found);
        }
        Err(QueryError::UnknownTable {
            name: table.qualified_name(),
            suggestion: String::new(),
        })
    }
}

fn fetch(shared: &Shared) -> Result<Vec<TableMeta>, QueryError> {
    let deadline = Instant::now() + shared.options.timeout;
    let project = &shared.options.data_project;
    let mut names: Vec<(String, String, String)> = Vec::new();
    for (canonical, dataset) in &shared.options.datasets {
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("maxResults", "1000".to_string())];
            if let Some(t) = &token {
                query.push(("pageToken", t.clone()));
            }
            let path = format!("/projects/{project}/datasets/{dataset}/tables");
            let page = match shared.api.get(&path, &query, deadline) {
                Ok(page) => page,
                Err(ApiError::Http { status: 404, .. }) if canonical == "mimiciv_derived" => {
                    // PhysioNet publishes derived concepts for some versions only.
                    tracing::warn!(
                        dataset,
                        "the derived-concepts dataset was not found; mimiciv_derived is left out"
                    );
                    break;
                }
                Err(ApiError::Http {
                    status: 404,
                    message,
                    ..
                }) => {
                    return Err(QueryError::Access {
                        message: format!(
                            "The BigQuery dataset `{project}.{dataset}` (for {canonical}) was not found: {message}\n\nhint: check M4_BIGQUERY_VERSION (or M4_BIGQUERY_DATASETS) and M4_BIGQUERY_DATA_PROJECT; PhysioNet shows a dataset only to Google accounts granted access to that MIMIC-IV version"
                        ),
                    });
                }
                Err(error) => return Err(errors::from_api(error, &shared.context())),
            };
            for table in page["tables"].as_array().into_iter().flatten() {
                if let Some(id) = table["tableReference"]["tableId"].as_str() {
                    names.push((canonical.clone(), dataset.clone(), id.to_string()));
                }
            }
            token = page["nextPageToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    let mut metas: Vec<Result<TableMeta, QueryError>> = Vec::with_capacity(names.len());
    for chunk in names.chunks(PARALLEL_GETS) {
        let results: Vec<Result<TableMeta, QueryError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(canonical, dataset, table)| {
                    scope.spawn(move || get(shared, canonical, dataset, table, deadline))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(QueryError::Internal {
                            message: "a catalog thread panicked".into(),
                        })
                    })
                })
                .collect()
        });
        metas.extend(results);
    }
    let mut tables = metas.into_iter().collect::<Result<Vec<_>, _>>()?;
    tables.sort_by(|a, b| {
        (a.summary.schema.as_str(), a.summary.table.as_str())
            .cmp(&(b.summary.schema.as_str(), b.summary.table.as_str()))
    });
    Ok(tables)
}

fn get(
    shared: &Shared,
    canonical: &str,
    dataset: &str,
    table: &str,
    deadline: Instant,
) -> Result<TableMeta, QueryError> {
    let project = &shared.options.data_project;
    let path = format!("/projects/{project}/datasets/{dataset}/tables/{table}");
    let value = shared
        .api
        .get(&path, &[], deadline)
        .map_err(|e| errors::from_api(e, &shared.context()))?;
    Ok(meta(canonical, dataset, table, &value))
}

/// A table's metadata from its `tables.get` resource.
pub(super) fn meta(canonical: &str, dataset: &str, table: &str, value: &Value) -> TableMeta {
    let fields: Vec<Field> =
        serde_json::from_value(value["schema"]["fields"].clone()).unwrap_or_default();
    let rows = match &value["numRows"] {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    TableMeta {
        summary: TableSummary {
            schema: canonical.to_string(),
            table: table.to_string(),
            rows,
            description: value["description"]
                .as_str()
                .filter(|d| !d.is_empty())
                .map(str::to_string),
        },
        dataset: dataset.to_string(),
        fields,
    }
}

/// A resolved table's columns.
pub(super) fn table_info(meta: &TableMeta) -> TableInfo {
    TableInfo {
        summary: meta.summary.clone(),
        columns: meta
            .fields
            .iter()
            .map(|f| ColumnInfo {
                name: f.name.clone(),
                type_name: f.type_name(),
                nullable: f.nullable(),
                description: f.description.clone().filter(|d| !d.is_empty()),
            })
            .collect(),
    }
}
