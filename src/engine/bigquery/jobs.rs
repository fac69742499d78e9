//! One query's BigQuery jobs: the free dry run that decides whether it may run
//! (statement type, referenced tables, byte estimate), then the real job with a
//! client-chosen id, a byte cap BigQuery enforces, a job timeout and labels, its
//! result pages read until the row or byte cap, and `jobs.cancel` when the
//! client cancels or the time limit passes.
//!
//! Every job's own `status.errorResult` is the single source of truth for its
//! failure (the emulator m4 is tested against answers some failures with HTTP
//! 200, real BigQuery with 400): any failed results call is followed by
//! `jobs.get`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Shared;
use super::api::ApiError;
use super::catalog::TableMeta;
use super::errors::{self, gigabytes};
use super::rows::{Collector, Field};
use super::sql::parameters;
use crate::engine::{Canceller, Limits, Param, QueryError, QueryResult, ScanCost};
use crate::sync::lock;

/// What BigQuery runs, as m4 says it in refusals.
pub(super) const ALLOWED: &str = "On BigQuery only one read-only GoogleSQL query runs: SELECT or WITH ... SELECT (no scripts, DML, DDL, EXPORT DATA or temporary functions).";
/// Longest one results call waits for the job (BigQuery's long poll); short, so a
/// cancellation between polls is seen quickly.
const POLL: Duration = Duration::from_secs(2);
/// Shortest time between two results calls for an unfinished job.
const MIN_POLL_GAP: Duration = Duration::from_millis(100);
/// Extra time HTTP calls get past the query's time limit, so that the limit is
/// enforced by the canceller (which also cancels the job), not by a dropped connection.
const CALL_MARGIN: Duration = Duration::from_secs(5);
/// GoogleSQL's limit on query text.
pub(super) const MAX_SQL_BYTES: usize = 1 << 20;

/// The id of the job a session runs, once it has one (read by its canceller).
pub(super) type JobSlot = Arc<Mutex<Option<String>>>;

/// What a dry run said about a query.
#[derive(Debug, Clone)]
pub(super) struct DryRun {
    pub statement_type: String,
    pub bytes: u64,
    /// `(project, dataset, table)`; absent on servers that do not report them.
    pub referenced: Option<Vec<(String, String, String)>>,
}

fn query_config(sql: &str, params: &[Param]) -> Value {
    let mut query = json!({
        "query": sql,
        "useLegacySql": false,
        "useQueryCache": true,
    });
    if !params.is_empty() {
        query["parameterMode"] = json!("NAMED");
        query["queryParameters"] = parameters(params);
    }
    query
}

/// The free dry run of `sql`.
pub(super) fn dry_run(
    shared: &Shared,
    sql: &str,
    params: &[Param],
    deadline: Instant,
) -> Result<DryRun, QueryError> {
    let options = &shared.options;
    let body = json!({
        "jobReference": {"projectId": options.billing_project, "location": options.location},
        "configuration": {"dryRun": true, "query": query_config(sql, params)},
    });
    let path = format!("/projects/{}/jobs", options.billing_project);
    let job = shared
        .api
        .post(&path, &[], &body, deadline)
        .map_err(|e| errors::from_api(e, &shared.context()))?;
    if let Some(error) = job["status"].get("errorResult").filter(|e| !e.is_null()) {
        return Err(errors::from_job(error, &shared.context()));
    }
    let statistics = &job["statistics"]["query"];
    let bytes = number(&statistics["totalBytesProcessed"])
        .or_else(|| number(&job["statistics"]["totalBytesProcessed"]))
        .unwrap_or(0);
    let referenced = statistics["referencedTables"].as_array().map(|tables| {
        tables
            .iter()
            .map(|t| {
                (
                    t["projectId"].as_str().unwrap_or("").to_string(),
                    t["datasetId"].as_str().unwrap_or("").to_string(),
                    t["tableId"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    });
    Ok(DryRun {
        statement_type: statistics["statementType"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        bytes,
        referenced,
    })
}

/// Whether a dry-run query may run: one SELECT, reading only the configured
/// MIMIC datasets, within the byte cap.
pub(super) fn judge(shared: &Shared, dry: &DryRun) -> Result<(), QueryError> {
    let options = &shared.options;
    if dry.statement_type != "SELECT" {
        let reason = match dry.statement_type.as_str() {
            "" => "BigQuery's dry run did not say what kind of statement this is".to_string(),
            "SCRIPT" => "BigQuery reads it as a script (several statements, DECLARE, or a temporary function)".to_string(),
            other => format!("BigQuery reads it as statement type {other}, not SELECT"),
        };
        return Err(QueryError::Refused {
            reason,
            allowed: ALLOWED,
        });
    }
    for (project, dataset, table) in dry.referenced.iter().flatten() {
        let allowed = project.eq_ignore_ascii_case(&options.data_project)
            && options
                .datasets
                .iter()
                .any(|(_, d)| d.eq_ignore_ascii_case(dataset));
        if !allowed {
            let datasets: Vec<String> = options
                .datasets
                .iter()
                .map(|(_, d)| format!("`{}.{d}`", options.data_project))
                .collect();
            return Err(QueryError::Refused {
                reason: format!(
                    "it reads `{project}.{dataset}.{table}`, which is outside the MIMIC-IV datasets m4 serves ({})",
                    datasets.join(", ")
                ),
                allowed: ALLOWED,
            });
        }
    }
    if dry.bytes > options.max_bytes_billed {
        return Err(QueryError::CostCap {
            estimate: gigabytes(dry.bytes),
            cap: gigabytes(options.max_bytes_billed),
            suggested: suggested_cap(dry.bytes),
        });
    }
    Ok(())
}

/// A cap setting that would let `bytes` through, rounded up to a whole 10 GB.
fn suggested_cap(bytes: u64) -> String {
    let tens = bytes.div_ceil(10_000_000_000).max(1);
    format!("{}GB", tens * 10)
}

/// A new job id: `m4_` and 24 random hex digits.
fn job_id() -> String {
    let bits: u128 = rand::random();
    format!("m4_{:024x}", bits >> 32)
}

/// Runs `sql` as a job and collects at most `limits` of its result.
pub(super) fn run(
    shared: &Shared,
    sql: &str,
    params: &[Param],
    limits: &Limits,
    slot: &JobSlot,
    canceller: &Canceller,
) -> Result<QueryResult, QueryError> {
    let started = Instant::now();
    let deadline = started + limits.timeout + CALL_MARGIN;
    let options = &shared.options;
    let context = shared.context();
    let id = job_id();
    let mut configuration = json!({
        "query": query_config(sql, params),
        "labels": {"app": "m4", "m4-version": env!("CARGO_PKG_VERSION").replace('.', "-")},
        "jobTimeoutMs": (limits.timeout.as_millis() as u64).to_string(),
    });
    configuration["query"]["maximumBytesBilled"] = json!(options.max_bytes_billed.to_string());
    configuration["query"]["priority"] = json!("INTERACTIVE");
    let body = json!({
        "jobReference": {"projectId": options.billing_project, "jobId": id, "location": options.location},
        "configuration": configuration,
    });
    *lock(slot) = Some(id.clone());
    let path = format!("/projects/{}/jobs", options.billing_project);
    let inserted = match shared.api.post(&path, &[], &body, deadline) {
        Ok(job) => job,
        // A retried insert that had reached BigQuery: the job exists.
        Err(ApiError::Http { status: 409, .. }) => get_job(shared, &id, deadline)?,
        Err(error) => return Err(stopped_or(canceller, errors::from_api(error, &context))),
    };
    if canceller.reason().is_some() {
        // Stopped while the insert was in flight: the canceller found no job yet.
        cancel(shared, &id);
        return Err(QueryError::Cancelled);
    }
    if let Some(error) = inserted["status"]
        .get("errorResult")
        .filter(|e| !e.is_null())
    {
        return Err(errors::from_job(error, &context));
    }
    let mut collector: Option<Collector> = None;
    let mut token: Option<String> = None;
    let mut processed = 0;
    let mut cache_hit = false;
    loop {
        if canceller.reason().is_some() {
            return Err(QueryError::Cancelled);
        }
        let taken = collector.as_ref().map_or(0, Collector::rows);
        let wanted = limits.max_rows + 1 - taken.min(limits.max_rows);
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut query = vec![
            ("location", options.location.clone()),
            ("maxResults", wanted.min(100_000).to_string()),
            (
                "timeoutMs",
                (POLL.min(remaining).as_millis() as u64).to_string(),
            ),
            ("formatOptions.useInt64Timestamp", "true".to_string()),
        ];
        if let Some(t) = &token {
            query.push(("pageToken", t.clone()));
        }
        let path = format!("/projects/{}/queries/{id}", options.billing_project);
        let asked = Instant::now();
        let page = match shared.api.get(&path, &query, deadline) {
            Ok(page) => page,
            Err(error) => {
                if canceller.reason().is_some() {
                    return Err(QueryError::Cancelled);
                }
                // The job's own error says more than the results call's.
                if let Ok(job) = get_job(shared, &id, deadline)
                    && let Some(e) = job["status"].get("errorResult").filter(|e| !e.is_null())
                {
                    return Err(errors::from_job(e, &context));
                }
                return Err(errors::from_api(error, &context));
            }
        };
        if let Some(errors) = page["errors"].as_array().filter(|e| !e.is_empty())
            && page["jobComplete"].as_bool() == Some(true)
            && page["rows"].is_null()
        {
            return Err(errors::from_job(&errors[0], &context));
        }
        if page["jobComplete"].as_bool() != Some(true) {
            // A server that answers at once instead of waiting: do not spin.
            std::thread::sleep(MIN_POLL_GAP.saturating_sub(asked.elapsed()));
            continue;
        }
        let rows = collector.get_or_insert_with(|| {
            let fields: Vec<Field> =
                serde_json::from_value(page["schema"]["fields"].clone()).unwrap_or_default();
            processed = number(&page["totalBytesProcessed"]).unwrap_or(0);
            cache_hit = page["cacheHit"].as_bool().unwrap_or(false);
            Collector::new(&fields, limits)
        });
        let page_rows = page["rows"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let open = rows.add_page(page_rows);
        token = page["pageToken"].as_str().map(str::to_string);
        if !open || token.is_none() {
            break;
        }
        if rows.rows() == limits.max_rows {
            // More pages exist past the cap: the result is cut short.
            rows.more_rows_follow();
            break;
        }
    }
    let collector = collector.unwrap_or_else(|| Collector::new(&[], limits));
    // Billed bytes are only in the job's statistics.
    let billed = get_job(shared, &id, deadline)
        .ok()
        .and_then(|job| number(&job["statistics"]["query"]["totalBytesBilled"]))
        .unwrap_or(if cache_hit { 0 } else { processed });
    Ok(QueryResult {
        cost: Some(ScanCost {
            bytes_processed: processed,
            bytes_billed: billed,
            cache_hit,
        }),
        ..collector.finish(started.elapsed())
    })
}

/// The first rows of a table through the free `tabledata.list` (no job, nothing billed).
pub(super) fn preview(
    shared: &Shared,
    table: &TableMeta,
    limit: usize,
    limits: &Limits,
) -> Result<QueryResult, QueryError> {
    let started = Instant::now();
    let options = &shared.options;
    let path = format!(
        "/projects/{}/datasets/{}/tables/{}/data",
        options.data_project, table.dataset, table.summary.table
    );
    let query = [
        ("maxResults", limit.min(limits.max_rows).to_string()),
        ("formatOptions.useInt64Timestamp", "true".to_string()),
    ];
    let page = shared
        .api
        .get(&path, &query, started + limits.timeout)
        .map_err(|e| errors::from_api(e, &shared.context()))?;
    let preview_limits = Limits {
        max_rows: limit.min(limits.max_rows),
        ..limits.clone()
    };
    let mut collector = Collector::new(&table.fields, &preview_limits);
    let page_rows = page["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    collector.add_page(page_rows);
    Ok(QueryResult {
        truncated: None,
        cost: Some(ScanCost {
            bytes_processed: 0,
            bytes_billed: 0,
            cache_hit: false,
        }),
        ..collector.finish(started.elapsed())
    })
}

fn get_job(shared: &Shared, id: &str, deadline: Instant) -> Result<Value, QueryError> {
    let options = &shared.options;
    let path = format!("/projects/{}/jobs/{id}", options.billing_project);
    shared
        .api
        .get(&path, &[("location", options.location.clone())], deadline)
        .map_err(|e| errors::from_api(e, &shared.context()))
}

/// Asks BigQuery to cancel job `id` (best effort; it answers at once).
pub(super) fn cancel(shared: &Shared, id: &str) {
    let options = &shared.options;
    let path = format!("/projects/{}/jobs/{id}/cancel", options.billing_project);
    let deadline = Instant::now() + Duration::from_secs(10);
    match shared.api.post(
        &path,
        &[("location", options.location.clone())],
        &json!({}),
        deadline,
    ) {
        Ok(_) => tracing::info!(job = id, "BigQuery job cancelled"),
        Err(error) => tracing::warn!(job = id, %error, "could not cancel the BigQuery job"),
    }
}

/// A failure seen after the query was stopped is the stop, not the failure.
fn stopped_or(canceller: &Canceller, error: QueryError) -> QueryError {
    if canceller.reason().is_some() {
        QueryError::Cancelled
    } else {
        error
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_unique_and_valid_for_bigquery() {
        let a = job_id();
        assert_eq!(a.len(), 3 + 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_ne!(a, job_id());
    }

    #[test]
    fn a_suggested_cap_lets_the_estimate_through() {
        assert_eq!(suggested_cap(51_000_000_000), "60GB");
        assert_eq!(suggested_cap(1), "10GB");
    }
}
