//! What a BigQuery failure means for the user: an API error or a job's
//! `errorResult` → a [`QueryError`] that keeps BigQuery's own message (its
//! `at [1:8]` is what a model needs to fix SQL) and, for access problems, says
//! which of the three usual causes it is and what to do: credentials, the
//! billing project (API, billing, job permission), or PhysioNet access.

use serde_json::Value;

use super::api::ApiError;
use crate::engine::QueryError;

/// What messages name: the projects and the cap in force.
#[derive(Debug, Clone)]
pub struct Context {
    pub billing_project: String,
    pub data_project: String,
    pub credentials: String,
    pub max_bytes_billed: u64,
    pub timeout_seconds: u64,
}

/// Gigabytes with two decimals (BigQuery bills in powers of 1000... and of 1024;
/// m4 says GB = 10^9 bytes, as its cap setting reads them).
pub fn gigabytes(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

/// A failed API call.
pub fn from_api(error: ApiError, context: &Context) -> QueryError {
    match error {
        ApiError::Credentials(error) => QueryError::Access {
            message: format!("BigQuery: {error}"),
        },
        ApiError::Deadline => QueryError::Timeout {
            seconds: context.timeout_seconds,
        },
        ApiError::Transport(message) => QueryError::Access {
            message: format!(
                "BigQuery could not be reached: {message}\n\nhint: check the network connection (and M4_BIGQUERY_API_URL if it is set), then retry"
            ),
        },
        ApiError::Http {
            status,
            reason,
            message,
        } => classify(status, reason.as_deref().unwrap_or(""), &message, context),
    }
}

/// A job's `status.errorResult` (`{reason, message, location}`).
pub fn from_job(error_result: &Value, context: &Context) -> QueryError {
    let reason = error_result["reason"].as_str().unwrap_or("");
    let message = error_result["message"]
        .as_str()
        .unwrap_or("the job failed without a message");
    let status = match reason {
        "accessDenied" | "billingNotEnabled" | "bytesBilledLimitExceeded" | "quotaExceeded" => 403,
        "notFound" => 404,
        "backendError" | "internalError" => 500,
        _ => 400,
    };
    classify(status, reason, message, context)
}

fn classify(status: u16, reason: &str, message: &str, context: &Context) -> QueryError {
    let billing = &context.billing_project;
    let lower = message.to_ascii_lowercase();
    let access = |text: String| QueryError::Access { message: text };
    match (status, reason) {
        (_, "bytesBilledLimitExceeded") => QueryError::Sql {
            message: format!(
                "BigQuery stopped the query at m4's cost cap of {} (M4_BIGQUERY_MAX_BYTES_BILLED): {message}\nSelect fewer columns or narrow the tables read, or ask the user to raise M4_BIGQUERY_MAX_BYTES_BILLED. BigQuery bills at least 10 MB per table read, so the billed bytes can exceed the estimate.",
                gigabytes(context.max_bytes_billed)
            ),
        },
        (_, "stopped") => QueryError::Cancelled,
        (_, "timeout") => QueryError::Timeout {
            seconds: context.timeout_seconds,
        },
        (401, _) => access(format!(
            "BigQuery refused the Google credentials ({}) as invalid or expired: {message}\n\nhint: run `gcloud auth application-default login` again, or check the key GOOGLE_APPLICATION_CREDENTIALS names",
            context.credentials
        )),
        (403, _) if reason == "billingNotEnabled" || lower.contains("billing") => access(format!(
            "Billing is not enabled for the billing project `{billing}`: {message}\n\nhint: enable billing for it at https://console.cloud.google.com/billing/linkedaccount?project={billing}, or set M4_BIGQUERY_PROJECT to a project with billing"
        )),
        (403, _)
            if reason == "accessNotConfigured"
                || lower.contains("has not been used in project")
                || lower.contains("is disabled") =>
        {
            access(format!(
                "The BigQuery API is not enabled in the billing project `{billing}`: {message}\n\nhint: enable it at https://console.cloud.google.com/apis/library/bigquery.googleapis.com?project={billing}"
            ))
        }
        (403, _) if lower.contains("bigquery.jobs.create") => access(format!(
            "The Google account may not run BigQuery jobs in the billing project `{billing}`: {message}\n\nhint: set M4_BIGQUERY_PROJECT to your own Google Cloud project (not `{}`), where the account has the BigQuery Job User role",
            context.data_project
        )),
        (403, "quotaExceeded" | "rateLimitExceeded") => QueryError::Sql {
            message: format!(
                "BigQuery quota exceeded: {message}\nWait a minute and retry, or run fewer queries at once."
            ),
        },
        (403, _) => access(format!(
            "The Google account has no access to this MIMIC-IV data on BigQuery: {message}\n\nhint: PhysioNet grants BigQuery access per version: on the MIMIC-IV project page (https://physionet.org/content/mimiciv/), with credentialed access and the data use agreement signed, use \"Request access using Google BigQuery\" for the Google account m4 uses ({}); check that M4_BIGQUERY_VERSION names the version you were granted",
            context.credentials
        )),
        (404, _) if lower.contains("project") && lower.contains(&billing.to_ascii_lowercase()) => {
            access(format!(
                "The billing project `{billing}` was not found: {message}\n\nhint: set M4_BIGQUERY_PROJECT to the id (not the name) of your Google Cloud project"
            ))
        }
        (404, _) if lower.contains("job") && !lower.contains("table") => QueryError::Internal {
            message: format!("BigQuery lost track of the job: {message}"),
        },
        (404, _) => QueryError::Sql {
            message: format!(
                "{message}\nCheck the name with get_database_schema (write tables as mimiciv_hosp.patients; m4 names the BigQuery dataset). If the table should exist, the Google account may lack PhysioNet access to this MIMIC-IV version on BigQuery."
            ),
        },
        (400, _) | (409, _) | (411..=499, _) => QueryError::Sql {
            message: format!("BigQuery: {message}"),
        },
        _ => access(format!(
            "BigQuery failed (HTTP {status}{}): {message}\n\nhint: retry in a moment; https://status.cloud.google.com shows outages",
            if reason.is_empty() {
                String::new()
            } else {
                format!(", {reason}")
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        Context {
            billing_project: "my-proj".into(),
            data_project: "physionet-data".into(),
            credentials: "a user's credentials".into(),
            max_bytes_billed: 50_000_000_000,
            timeout_seconds: 30,
        }
    }

    fn http(status: u16, reason: &str, message: &str) -> String {
        from_api(
            ApiError::Http {
                status,
                reason: Some(reason.into()),
                message: message.into(),
            },
            &context(),
        )
        .to_string()
    }

    #[test]
    fn access_errors_name_the_cause_and_the_fix() {
        let e = http(
            401,
            "authError",
            "Request had invalid authentication credentials.",
        );
        assert!(e.contains("gcloud auth application-default login"), "{e}");
        let e = http(
            403,
            "accessDenied",
            "Access Denied: Project physionet-data: User does not have bigquery.jobs.create permission in project physionet-data.",
        );
        assert!(e.contains("M4_BIGQUERY_PROJECT"), "{e}");
        let e = http(
            403,
            "accessDenied",
            "BigQuery API has not been used in project 123 before or it is disabled.",
        );
        assert!(e.contains("enable it at"), "{e}");
        let e = http(
            403,
            "billingNotEnabled",
            "Billing has not been enabled for this project.",
        );
        assert!(e.contains("Billing is not enabled"), "{e}");
        let e = http(
            403,
            "accessDenied",
            "Access Denied: Table physionet-data:mimiciv_3_1_hosp.patients: User does not have permission to query table",
        );
        assert!(
            e.contains("PhysioNet") && e.contains("Request access using Google BigQuery"),
            "{e}"
        );
        let e = http(
            404,
            "notFound",
            "Not found: Table physionet-data:mimiciv_3_1_hosp.nope",
        );
        assert!(
            e.contains("Not found: Table") && e.contains("get_database_schema"),
            "{e}"
        );
    }

    #[test]
    fn job_errors_keep_bigquerys_message() {
        let e = from_job(
            &json!({"reason": "invalidQuery", "message": "Unrecognized name: nope at [1:8]"}),
            &context(),
        )
        .to_string();
        assert_eq!(e, "BigQuery: Unrecognized name: nope at [1:8]");
        let e = from_job(
            &json!({"reason": "bytesBilledLimitExceeded", "message": "Query exceeded limit for bytes billed: 1000. 10485760 or higher required."}),
            &context(),
        )
        .to_string();
        assert!(e.contains("50.00 GB") && e.contains("10485760"), "{e}");
    }
}
