//! `m4 init mimic-iv-bigquery`: checks, without downloading or billing anything,
//! that this machine can serve MIMIC-IV from BigQuery — credentials, a token,
//! the MIMIC datasets (free metadata calls), and the billing project (a free dry
//! run, which needs the BigQuery API and `bigquery.jobs.create` there) — and
//! says what to fix for each check that fails.

use std::fmt;
use std::time::Instant;

use super::{BigQueryEngine, Options, jobs};
use crate::engine::{Engine, QueryError};

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    /// What was found, or what went wrong and how to fix it.
    pub detail: String,
}

/// Every check, in order; later checks are skipped once one they need failed.
#[derive(Debug, Clone, Default)]
pub struct AccessReport {
    pub checks: Vec<Check>,
}

impl AccessReport {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    fn push(&mut self, what: &str, outcome: Result<String, String>) -> bool {
        let ok = outcome.is_ok();
        self.checks.push(Check {
            what: what.to_string(),
            ok,
            detail: outcome.unwrap_or_else(|e| e),
        });
        ok
    }
}

impl fmt::Display for AccessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            let mark = if check.ok { "ok  " } else { "FAIL" };
            let mut lines = check.detail.lines();
            writeln!(
                f,
                "{mark} {}: {}",
                check.what,
                lines.next().unwrap_or_default()
            )?;
            for line in lines {
                writeln!(f, "       {line}")?;
            }
        }
        Ok(())
    }
}

/// Runs the checks for `options` (its billing project may be empty: then that
/// check fails with what to set).
pub fn check_access(options: &Options) -> AccessReport {
    let mut report = AccessReport::default();
    let engine = match BigQueryEngine::open(options.clone()) {
        Ok(engine) => engine,
        Err(error) => {
            report.push("credentials", Err(error.to_string()));
            return report;
        }
    };
    let shared = &engine.shared;
    let found = shared.api.tokens().found().clone();
    let token = shared.api.tokens().token();
    if !report.push(
        "credentials",
        token
            .map(|_| format!("{} from {}", found.credentials.kind(), found.origin))
            .map_err(|e| format!("{e}")),
    ) {
        return report;
    }
    let tables = engine.tables().map_err(|e| e.to_string()).and_then(|tables| {
        let mut per: Vec<String> = Vec::new();
        let mut empty: Vec<String> = Vec::new();
        for (canonical, dataset) in &options.datasets {
            let n = tables.iter().filter(|t| &t.schema == canonical).count();
            let name = format!("{}.{dataset}", options.data_project);
            if n == 0 && canonical != "mimiciv_derived" {
                empty.push(format!("`{name}`"));
            }
            per.push(format!("{canonical} = {name} ({n} tables)"));
        }
        if empty.is_empty() {
            Ok(per.join(", "))
        } else {
            Err(format!(
                "no tables found in {} (the dataset does not exist, or this Google account cannot see it)\n\nhint: check M4_BIGQUERY_VERSION (or M4_BIGQUERY_DATASETS) and M4_BIGQUERY_DATA_PROJECT; PhysioNet grants BigQuery access per MIMIC-IV version (\"Request access using Google BigQuery\" on the version's project page)",
                empty.join(", ")
            ))
        }
    });
    let tables_ok = report.push("MIMIC-IV datasets", tables);
    if options.billing_project.trim().is_empty() {
        report.push(
            "billing project",
            Err("M4_BIGQUERY_PROJECT is not set\n\nhint: set it to the id of your own Google Cloud project with the BigQuery API enabled (queries are billed there; never physionet-data)".to_string()),
        );
        return report;
    }
    if !tables_ok {
        return report;
    }
    let Some((_, hosp)) = options
        .datasets
        .iter()
        .find(|(canonical, _)| canonical == "mimiciv_hosp")
    else {
        return report;
    };
    let probe = format!(
        "SELECT subject_id FROM `{}.{hosp}.patients` LIMIT 1",
        options.data_project
    );
    let dry = jobs::dry_run(shared, &probe, &[], Instant::now() + options.timeout);
    report.push(
        "billing project",
        dry.map(|dry| {
            format!(
                "`{}` can run queries (a dry run of a query on patients: {}, estimated {})",
                options.billing_project,
                dry.statement_type,
                super::errors::gigabytes(dry.bytes)
            )
        })
        .map_err(|e: QueryError| e.to_string()),
    );
    report
}
