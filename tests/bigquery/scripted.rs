//! m4's BigQuery engine against a scripted stand-in server (see `mock`): the job
//! life (dry run, insert, polling an unfinished job, paging, cancel), refusals
//! decided by the dry run, error answers, retries, and Google's two token
//! grants checked by a local token endpoint. These are the shapes of BigQuery's
//! REST API; BigQuery itself is not involved.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::mock::{Mock, Reply, Request};
use crate::common::{McpChild, is_tool_error, tool_text};

const BILLING: &str = "billing-proj";

/// The usual answer to every call: a one-column, one-row SELECT.
fn default_reply(r: &Request) -> Reply {
    let path = r.path.as_str();
    if r.method == "POST" && path.ends_with("/jobs") {
        let body = r.json();
        if body["configuration"]["dryRun"] == json!(true) {
            return (
                200,
                json!({"status": {"state": "DONE"}, "statistics": {"query": {
                    "statementType": "SELECT", "totalBytesProcessed": "1000",
                    "referencedTables": [{"projectId": "physionet-data", "datasetId": "mimiciv_3_1_hosp", "tableId": "patients"}]}}}),
            );
        }
        return (
            200,
            json!({"jobReference": body["jobReference"], "status": {"state": "RUNNING"}}),
        );
    }
    if r.method == "GET" && path.contains("/queries/") {
        return (200, page(&[7], None));
    }
    if r.method == "POST" && path.ends_with("/cancel") {
        return (200, json!({"job": {"status": {"state": "DONE"}}}));
    }
    if r.method == "GET" && path.contains("/jobs/") {
        return (
            200,
            json!({"status": {"state": "DONE"}, "statistics": {"query": {"totalBytesBilled": "10485760"}}}),
        );
    }
    (
        404,
        json!({"error": {"code": 404, "message": format!("Not found: {path}")}}),
    )
}

/// A complete results page of INT64 values.
fn page(values: &[i64], token: Option<&str>) -> Value {
    let mut page = json!({
        "jobComplete": true,
        "schema": {"fields": [{"name": "n", "type": "INTEGER", "mode": "NULLABLE"}]},
        "rows": values.iter().map(|v| json!({"f": [{"v": v.to_string()}]})).collect::<Vec<_>>(),
        "totalBytesProcessed": "1000",
        "cacheHit": false,
    });
    if let Some(t) = token {
        page["pageToken"] = json!(t);
    }
    page
}

fn server(mock: &Mock, extra: &[(&str, &str)]) -> McpChild {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let url = mock.url();
    let mut env = vec![
        ("M4_DATASET", "mimic-iv-bigquery"),
        ("M4_BIGQUERY_PROJECT", BILLING),
        ("M4_BIGQUERY_API_URL", url.as_str()),
        ("M4_BIGQUERY_CREDENTIALS", "none"),
        ("M4_LOG_LEVEL", "m4=debug"),
    ];
    env.extend_from_slice(extra);
    let mut child = McpChild::spawn(&dir, &env);
    child.initialize();
    child
}

fn query(child: &mut McpChild, sql: &str) -> Value {
    child.call_tool("execute_query", json!({"sql_query": sql}))
}

fn real_inserts(mock: &Mock) -> Vec<Request> {
    mock.matching("POST", "/jobs")
        .into_iter()
        .filter(|r| r.json()["configuration"]["dryRun"] != json!(true))
        .collect()
}

fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn a_query_is_dry_run_then_run_as_a_capped_labelled_job_with_names_rewritten() {
    let mock = Mock::start(default_reply);
    let mut child = server(
        &mock,
        &[
            ("M4_QUERY_TIMEOUT", "45"),
            ("M4_BIGQUERY_MAX_BYTES_BILLED", "20GB"),
        ],
    );
    let result = query(
        &mut child,
        "SELECT count(*) AS n FROM mimiciv_hosp.patients -- mimiciv_hosp.x",
    );
    assert!(!is_tool_error(&result), "{}", tool_text(&result));
    assert!(
        tool_text(&result).contains("| 7 |"),
        "{}",
        tool_text(&result)
    );
    assert!(
        tool_text(&result).contains("GoogleSQL"),
        "{}",
        tool_text(&result)
    );
    assert_eq!(result["structuredContent"]["bytes_billed"], json!(10485760));
    let dry = mock.matching("POST", &format!("/projects/{BILLING}/jobs"));
    let dry = dry[0].json();
    assert_eq!(dry["configuration"]["dryRun"], json!(true));
    let sql = dry["configuration"]["query"]["query"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sql,
        "SELECT count(*) AS n FROM `physionet-data.mimiciv_3_1_hosp.patients` -- mimiciv_hosp.x"
    );
    let inserts = real_inserts(&mock);
    assert_eq!(inserts.len(), 1);
    let job = inserts[0].json();
    let config = &job["configuration"];
    assert_eq!(config["query"]["useLegacySql"], json!(false));
    assert_eq!(
        config["query"]["query"],
        json!(sql),
        "the job runs what the dry run judged"
    );
    assert_eq!(config["query"]["maximumBytesBilled"], json!("20000000000"));
    assert_eq!(config["jobTimeoutMs"], json!("45000"));
    assert_eq!(config["labels"]["app"], json!("m4"));
    let id = job["jobReference"]["jobId"].as_str().unwrap().to_string();
    assert!(id.starts_with("m4_"), "{id}");
    assert_eq!(job["jobReference"]["projectId"], json!(BILLING));
    let results = mock.matching("GET", &format!("/queries/{id}"));
    assert_eq!(
        results[0]
            .query
            .get("formatOptions.useInt64Timestamp")
            .map(String::as_str),
        Some("true")
    );
    // No credentials configured: no Authorization header is sent.
    assert!(!results[0].headers.contains_key("authorization"));
}

#[test]
fn an_unfinished_job_is_polled_and_paging_stops_at_the_row_cap() {
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&polls);
    let mock = Mock::start(move |r| {
        if r.method == "GET" && r.path.contains("/queries/") {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                return (200, json!({"jobComplete": false}));
            }
            return match r.query.get("pageToken").map(String::as_str) {
                None => (200, page(&[1, 2], Some("p2"))),
                Some("p2") => (200, page(&[3, 4], Some("p3"))),
                _ => (200, page(&[5, 6], Some("p4"))),
            };
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[("M4_MAX_ROWS", "3")]);
    let result = query(&mut child, "SELECT n FROM mimiciv_hosp.patients");
    assert!(!is_tool_error(&result), "{}", tool_text(&result));
    let structured = &result["structuredContent"];
    assert_eq!(structured["rows"], json!([[1], [2], [3]]));
    assert_eq!(structured["truncated_by"], json!("rows"));
    let gets = mock
        .matching("GET", "")
        .into_iter()
        .filter(|r| r.path.contains("/queries/"))
        .count();
    // Two unfinished polls, then pages 1 and 2; page 3 is never read.
    assert_eq!(
        gets,
        4,
        "{:?}",
        mock.requests()
            .iter()
            .map(|r| (&r.path, &r.query))
            .collect::<Vec<_>>()
    );
}

fn never_finishing(r: &Request) -> Reply {
    if r.method == "GET" && r.path.contains("/queries/") {
        return (200, json!({"jobComplete": false}));
    }
    default_reply(r)
}

#[test]
fn a_client_cancellation_cancels_the_bigquery_job() {
    // Jobs never finish until one is cancelled.
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::clone(&cancelled);
    let mock = Mock::start(move |r| {
        if r.path.ends_with("/cancel") {
            seen.store(true, Ordering::SeqCst);
        }
        if seen.load(Ordering::SeqCst) {
            default_reply(r)
        } else {
            never_finishing(r)
        }
    });
    let mut child = server(&mock, &[("M4_QUERY_TIMEOUT", "600")]);
    let id = child.send_request(
        "tools/call",
        json!({"name": "execute_query", "arguments": {"sql_query": "SELECT 1"}}),
    );
    wait_for("the job to be polled", || {
        mock.requests().iter().any(|r| r.path.contains("/queries/"))
    });
    child.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "test"}),
    );
    wait_for("jobs.cancel", || {
        !mock.matching("POST", "/cancel").is_empty()
    });
    let job = real_inserts(&mock)[0].json()["jobReference"]["jobId"].clone();
    let cancel = &mock.matching("POST", "/cancel")[0];
    assert_eq!(
        cancel.path,
        format!(
            "/bigquery/v2/projects/{BILLING}/jobs/{}/cancel",
            job.as_str().unwrap()
        )
    );
    assert_eq!(cancel.query.get("location").map(String::as_str), Some("US"));
    // The server is free again.
    let after = query(&mut child, "SELECT 1");
    assert!(!is_tool_error(&after), "{}", tool_text(&after));
}

#[test]
fn the_time_limit_cancels_the_bigquery_job() {
    let mock = Mock::start(never_finishing);
    let mut child = server(&mock, &[("M4_QUERY_TIMEOUT", "1")]);
    let started = Instant::now();
    let result = query(&mut child, "SELECT 1");
    assert!(is_tool_error(&result));
    assert!(
        tool_text(&result).contains("timed out after 1 s"),
        "{}",
        tool_text(&result)
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    wait_for("jobs.cancel", || {
        !mock.matching("POST", "/cancel").is_empty()
    });
    assert_eq!(
        real_inserts(&mock)[0].json()["configuration"]["jobTimeoutMs"],
        json!("1000")
    );
}

#[test]
fn a_query_over_the_byte_cap_is_refused_with_its_estimate_before_any_job() {
    let mock = Mock::start(|r| {
        if r.method == "POST" && r.json()["configuration"]["dryRun"] == json!(true) {
            return (
                200,
                json!({"statistics": {"query": {"statementType": "SELECT", "totalBytesProcessed": "73400000000"}}}),
            );
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[]);
    let result = query(&mut child, "SELECT * FROM mimiciv_icu.chartevents");
    assert!(is_tool_error(&result));
    let text = tool_text(&result);
    assert!(
        text.contains("73.40 GB") && text.contains("50.00 GB"),
        "{text}"
    );
    assert!(
        text.contains("M4_BIGQUERY_MAX_BYTES_BILLED") && text.contains("80GB"),
        "{text}"
    );
    assert!(real_inserts(&mock).is_empty(), "no job may start");
}

#[test]
fn tables_outside_the_mimic_datasets_and_non_selects_are_refused_by_the_dry_run() {
    let mock = Mock::start(|r| {
        if r.method == "POST" && r.json()["configuration"]["dryRun"] == json!(true) {
            let sql = r.json()["configuration"]["query"]["query"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if sql.contains("DROP") {
                return (
                    200,
                    json!({"statistics": {"query": {"statementType": "DROP_TABLE"}}}),
                );
            }
            if sql.contains("SCRIPT") {
                return (
                    200,
                    json!({"statistics": {"query": {"statementType": "SCRIPT"}}}),
                );
            }
            return (
                200,
                json!({"statistics": {"query": {"statementType": "SELECT", "totalBytesProcessed": "10",
                "referencedTables": [
                    {"projectId": "physionet-data", "datasetId": "mimiciv_3_1_hosp", "tableId": "patients"},
                    {"projectId": BILLING, "datasetId": "private", "tableId": "secrets"}]}}}),
            );
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[]);
    let outside = query(
        &mut child,
        "SELECT * FROM mimiciv_hosp.patients JOIN private.secrets USING (subject_id)",
    );
    assert!(is_tool_error(&outside));
    let text = tool_text(&outside);
    assert!(
        text.contains("billing-proj.private.secrets")
            && text.contains("outside the MIMIC-IV datasets"),
        "{text}"
    );
    let drop = query(&mut child, "DROP TABLE x");
    assert!(
        tool_text(&drop).contains("statement type DROP_TABLE"),
        "{}",
        tool_text(&drop)
    );
    let script = query(&mut child, "SELECT 1; SELECT 2 -- SCRIPT");
    assert!(
        tool_text(&script).contains("script"),
        "{}",
        tool_text(&script)
    );
    assert!(real_inserts(&mock).is_empty(), "no job may start");
}

#[test]
fn access_errors_say_what_to_fix() {
    let cases: [(u16, &str, &str, &str); 5] = [
        (
            401,
            "authError",
            "Request had invalid authentication credentials.",
            "gcloud auth application-default login",
        ),
        (
            403,
            "accessDenied",
            "Access Denied: Project billing-proj: User does not have bigquery.jobs.create permission in project billing-proj.",
            "M4_BIGQUERY_PROJECT",
        ),
        (
            403,
            "accessDenied",
            "Access Denied: Table physionet-data:mimiciv_3_1_hosp.patients: User does not have permission to query table",
            "Request access using Google BigQuery",
        ),
        (
            404,
            "notFound",
            "Not found: Table physionet-data:mimiciv_3_1_hosp.patientz was not found in location US",
            "get_database_schema",
        ),
        (
            400,
            "invalidQuery",
            "Unrecognized name: nope at [1:8]",
            "Unrecognized name: nope at [1:8]",
        ),
    ];
    for (status, reason, message, needle) in cases {
        let mock = Mock::start(move |r| {
            if r.method == "POST" && r.path.ends_with("/jobs") {
                return (
                    status,
                    json!({"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}}),
                );
            }
            default_reply(r)
        });
        let mut child = server(&mock, &[]);
        let result = query(&mut child, "SELECT nope FROM mimiciv_hosp.patients");
        assert!(is_tool_error(&result), "{status}");
        let text = tool_text(&result);
        assert!(text.contains(needle), "{status} {reason}: {text}");
        if status == 401 {
            // One renewal of the token, then the error.
            assert_eq!(mock.matching("POST", "/jobs").len(), 2);
        }
    }
}

#[test]
fn rate_limits_and_server_errors_are_retried_within_the_time_limit() {
    let failures = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&failures);
    let mock = Mock::start(move |r| {
        if r.method == "GET"
            && r.path.contains("/queries/")
            && count.fetch_add(1, Ordering::SeqCst) < 2
        {
            let status = if count.load(Ordering::SeqCst) == 1 {
                429
            } else {
                503
            };
            return (
                status,
                json!({"error": {"code": status, "message": "slow down", "errors": [{"reason": "rateLimitExceeded"}]}}),
            );
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[]);
    let result = query(&mut child, "SELECT 7");
    assert!(!is_tool_error(&result), "{}", tool_text(&result));
    assert!(failures.load(Ordering::SeqCst) >= 3);

    let mock = Mock::start(|r| {
        if r.method == "POST" && r.path.ends_with("/jobs") {
            return (
                503,
                json!({"error": {"code": 503, "message": "backend down", "errors": [{"reason": "backendError"}]}}),
            );
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[]);
    let result = query(&mut child, "SELECT 7");
    let text = tool_text(&result);
    assert!(
        is_tool_error(&result) && text.contains("HTTP 503") && text.contains("retry"),
        "{text}"
    );
    assert_eq!(
        mock.matching("POST", "/jobs").len(),
        4,
        "the first try and three retries"
    );
}

#[test]
fn a_job_that_fails_reports_the_jobs_own_error() {
    let mock = Mock::start(|r| {
        if r.method == "GET" && r.path.contains("/queries/") {
            return (
                400,
                json!({"error": {"code": 400, "message": "Job failed"}}),
            );
        }
        if r.method == "GET" && r.path.contains("/jobs/") {
            return (
                200,
                json!({"status": {"state": "DONE", "errorResult": {"reason": "bytesBilledLimitExceeded",
                "message": "Query exceeded limit for bytes billed: 50000000000. 60000000000 or higher required."}}}),
            );
        }
        default_reply(r)
    });
    let mut child = server(&mock, &[]);
    let text = tool_text(&query(&mut child, "SELECT 7"));
    assert!(
        text.contains("60000000000 or higher required")
            && text.contains("M4_BIGQUERY_MAX_BYTES_BILLED"),
        "{text}"
    );
}

// ---- credentials: Google's two token grants against a local token endpoint ----

/// A token endpoint and BigQuery in one mock: the token endpoint checks what it
/// receives; BigQuery checks the bearer token the endpoint issued.
fn token_and_bigquery(
    check: impl Fn(&Request) -> Result<(), String> + Send + Sync + 'static,
) -> Mock {
    Mock::start(move |r| {
        if r.path == "/token" {
            return match check(r) {
                Ok(()) => (
                    200,
                    json!({"access_token": "issued-token", "expires_in": 3600, "token_type": "Bearer"}),
                ),
                Err(why) => (
                    400,
                    json!({"error": "invalid_grant", "error_description": why}),
                ),
            };
        }
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer issued-token") {
            return (
                401,
                json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "errors": [{"reason": "authError"}]}}),
            );
        }
        default_reply(r)
    })
}

fn adc_server(mock: &Mock, env: &[(&str, &str)]) -> McpChild {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let url = mock.url();
    let mut all = vec![
        ("M4_DATASET", "mimic-iv-bigquery"),
        ("M4_BIGQUERY_PROJECT", BILLING),
        ("M4_BIGQUERY_API_URL", url.as_str()),
        // No metadata server to fall back on.
        ("GCE_METADATA_HOST", "127.0.0.1:9"),
    ];
    all.extend_from_slice(env);
    let mut child = McpChild::spawn(&dir, &all);
    child.initialize();
    child
}

#[test]
fn a_service_account_key_is_exchanged_with_a_signed_jwt() {
    let dir = tempfile::tempdir().unwrap();
    let key =
        std::fs::read_to_string(m4::auth::testkeys::fixtures_dir().join("rsa-a.pem")).unwrap();
    let public = m4::auth::testkeys::public_jwk("rsa-a");
    let mock_port = Arc::new(std::sync::OnceLock::<u16>::new());
    let port = Arc::clone(&mock_port);
    let mock = token_and_bigquery(move |r| {
        let form = r.form();
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err(format!("grant_type {:?}", form.get("grant_type")));
        }
        let assertion = form.get("assertion").ok_or("no assertion")?;
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(public.clone()).map_err(|e| e.to_string())?;
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        let audience = format!(
            "http://127.0.0.1:{}/token",
            port.get().copied().unwrap_or(0)
        );
        validation.set_audience(&[audience]);
        validation.set_issuer(&["m4-test@billing-proj.iam.gserviceaccount.com"]);
        let data = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
            .map_err(|e| format!("JWT refused: {e}"))?;
        if data.claims["scope"] != json!("https://www.googleapis.com/auth/bigquery") {
            return Err(format!("scope {}", data.claims["scope"]));
        }
        if data.header.kid.as_deref() != Some("key-1") {
            return Err("kid".into());
        }
        Ok(())
    });
    mock_port.set(mock.port).unwrap();
    let file = dir.path().join("sa.json");
    std::fs::write(&file, json!({
        "type": "service_account", "client_email": "m4-test@billing-proj.iam.gserviceaccount.com",
        "private_key": key, "private_key_id": "key-1", "token_uri": format!("{}/token", mock.url()),
    }).to_string()).unwrap();
    let mut child = adc_server(
        &mock,
        &[("GOOGLE_APPLICATION_CREDENTIALS", file.to_str().unwrap())],
    );
    for _ in 0..2 {
        let result = query(&mut child, "SELECT 7");
        assert!(!is_tool_error(&result), "{}", tool_text(&result));
    }
    assert_eq!(
        mock.matching("POST", "/token").len(),
        1,
        "the token is cached"
    );

    // A key signed by another key is refused by the endpoint, and m4 says to sign in again.
    let other =
        std::fs::read_to_string(m4::auth::testkeys::fixtures_dir().join("rsa-b.pem")).unwrap();
    std::fs::write(&file, json!({
        "type": "service_account", "client_email": "m4-test@billing-proj.iam.gserviceaccount.com",
        "private_key": other, "private_key_id": "key-1", "token_uri": format!("{}/token", mock.url()),
    }).to_string()).unwrap();
    let mut child = adc_server(
        &mock,
        &[("GOOGLE_APPLICATION_CREDENTIALS", file.to_str().unwrap())],
    );
    let text = tool_text(&query(&mut child, "SELECT 7"));
    assert!(
        text.contains("JWT refused") && text.contains("hint:"),
        "{text}"
    );
}

#[test]
fn gclouds_authorized_user_file_is_refreshed_and_its_quota_project_sent() {
    let mock = token_and_bigquery(|r| {
        let form = r.form();
        match (
            form.get("grant_type").map(String::as_str),
            form.get("refresh_token").map(String::as_str),
            form.get("client_secret").map(String::as_str),
        ) {
            (Some("refresh_token"), Some("refresh-1"), Some("secret-1")) => Ok(()),
            other => Err(format!("unexpected grant {other:?}")),
        }
    });
    let gcloud = tempfile::tempdir().unwrap();
    std::fs::write(gcloud.path().join("application_default_credentials.json"), json!({
        "type": "authorized_user", "client_id": "client-1", "client_secret": "secret-1",
        "refresh_token": "refresh-1", "quota_project_id": "quota-proj", "token_uri": format!("{}/token", mock.url()),
    }).to_string()).unwrap();
    let mut child = adc_server(
        &mock,
        &[("CLOUDSDK_CONFIG", gcloud.path().to_str().unwrap())],
    );
    let result = query(&mut child, "SELECT 7");
    assert!(!is_tool_error(&result), "{}", tool_text(&result));
    let job = &real_inserts(&mock)[0];
    assert_eq!(
        job.headers.get("x-goog-user-project").map(String::as_str),
        Some("quota-proj")
    );
    assert!(
        !child.stderr().contains("secret-1") && !child.stderr().contains("refresh-1"),
        "secrets in the log"
    );
}

#[test]
fn without_any_credentials_the_answer_says_how_to_sign_in() {
    let mock = Mock::start(default_reply);
    let empty = tempfile::tempdir().unwrap();
    let mut child = adc_server(
        &mock,
        &[("CLOUDSDK_CONFIG", empty.path().to_str().unwrap())],
    );
    let text = tool_text(&query(&mut child, "SELECT 7"));
    assert!(
        text.contains("no Google credentials found")
            && text.contains("gcloud auth application-default login"),
        "{text}"
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn a_token_is_renewed_before_it_expires_and_the_metadata_server_is_the_last_resort() {
    // The metadata server of a Google Cloud machine, with a token that lives 2 s.
    let mock = Mock::start(|r| {
        if r.path == "/computeMetadata/v1/instance/service-accounts/default/token" {
            if r.headers.get("metadata-flavor").map(String::as_str) != Some("Google") {
                return (403, json!({"error": "missing Metadata-Flavor"}));
            }
            return (
                200,
                json!({"access_token": "issued-token", "expires_in": 2, "token_type": "Bearer"}),
            );
        }
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer issued-token") {
            return (401, json!({"error": {"code": 401, "message": "no token"}}));
        }
        default_reply(r)
    });
    let empty = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{}", mock.port);
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let url = mock.url();
    let mut child = McpChild::spawn(
        &dir,
        &[
            ("M4_DATASET", "mimic-iv-bigquery"),
            ("M4_BIGQUERY_PROJECT", BILLING),
            ("M4_BIGQUERY_API_URL", url.as_str()),
            ("CLOUDSDK_CONFIG", empty.path().to_str().unwrap()),
            ("GCE_METADATA_HOST", host.as_str()),
        ],
    );
    child.initialize();
    let first = query(&mut child, "SELECT 7");
    assert!(!is_tool_error(&first), "{}", tool_text(&first));
    let tokens = || mock.matching("GET", "/default/token").len();
    assert_eq!(tokens(), 1, "one token for the whole first query");
    // Past half its life (renewal comes a minute early, or at half a short life).
    std::thread::sleep(Duration::from_millis(1200));
    let second = query(&mut child, "SELECT 7");
    assert!(!is_tool_error(&second), "{}", tool_text(&second));
    assert_eq!(tokens(), 2, "renewed before it expired");
}
