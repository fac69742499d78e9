//! The BigQuery v2 REST calls m4 makes, over ureq with serde JSON: the access
//! token on every call, one renewal on a 401, retries with jittered backoff on
//! 429/5xx (and BigQuery's `rateLimitExceeded`/`backendError`) inside the
//! caller's deadline, and BigQuery's error body decoded into [`ApiError`].
//! What an error means to the user is `errors`' job; this module only transports.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::credentials::{CredentialError, TokenSource};

/// Most attempts of one call (the first plus retries).
const MAX_ATTEMPTS: u32 = 4;
/// First backoff; doubled on each retry, with up to as much again of jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Largest response body read (a results page is at most ~10 MB).
const MAX_BODY: u64 = 64 << 20;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// BigQuery answered with an error status.
    #[error("HTTP {status}{}: {message}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Http {
        status: u16,
        /// `error.errors[0].reason`: `accessDenied`, `notFound`, `invalidQuery`, ...
        reason: Option<String>,
        message: String,
    },
    /// No answer (connection, TLS, timeout) or an unreadable one.
    #[error("{0}")]
    Transport(String),
    /// No access token.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The deadline passed before an answer.
    #[error("no answer before the time limit")]
    Deadline,
}

/// `request` with its query, the bearer token, the project billed for quota, and
/// the time left: the same for a GET and a POST.
fn prepared<B>(
    mut request: ureq::RequestBuilder<B>,
    query: &[(&str, String)],
    token: Option<&str>,
    quota: Option<&str>,
    remaining: Duration,
) -> ureq::RequestBuilder<B> {
    for (key, value) in query {
        request = request.query(*key, value);
    }
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    if let Some(project) = quota {
        request = request.header("x-goog-user-project", project);
    }
    request.config().timeout_global(Some(remaining)).build()
}

impl ApiError {
    /// Whether a retry may succeed.
    fn transient(&self) -> bool {
        match self {
            ApiError::Http { status, reason, .. } => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
                    || matches!(
                        reason.as_deref(),
                        Some("rateLimitExceeded" | "backendError" | "internalError")
                    )
            }
            ApiError::Transport(_) => true,
            ApiError::Credentials(_) | ApiError::Deadline => false,
        }
    }
}

/// A BigQuery REST endpoint and the credentials for it.
#[derive(Debug)]
pub struct Api {
    agent: ureq::Agent,
    /// `https://bigquery.googleapis.com/bigquery/v2`, or an override.
    base: String,
    tokens: TokenSource,
}

/// GET or POST with a JSON body.
#[derive(Debug, Clone, Copy)]
enum Method<'a> {
    Get,
    Post(&'a Value),
}

impl Api {
    pub fn new(base: String, tokens: TokenSource) -> Api {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("m4/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Api {
            agent,
            base: base.trim_end_matches('/').to_string(),
            tokens,
        }
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// `GET {base}{path}?query`.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        self.call(Method::Get, path, query, deadline)
    }

    /// `POST {base}{path}?query` with a JSON body.
    pub fn post(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        self.call(Method::Post(body), path, query, deadline)
    }

    fn call(
        &self,
        method: Method<'_>,
        path: &str,
        query: &[(&str, String)],
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.once(method, path, query, deadline);
            match outcome {
                Err(ApiError::Http { status: 401, .. }) if !renewed => {
                    // An expired or revoked token: renew once.
                    renewed = true;
                    self.tokens.invalidate();
                }
                Err(error) if error.transient() && attempt < MAX_ATTEMPTS => {
                    let base = FIRST_BACKOFF * 2u32.pow(attempt - 1);
                    let jitter = base.mul_f64(rand::random::<f64>());
                    let wait = base + jitter;
                    if Instant::now() + wait >= deadline {
                        return Err(error);
                    }
                    tracing::debug!(path, attempt, %error, wait_ms = wait.as_millis() as u64, "retrying a BigQuery call");
                    std::thread::sleep(wait);
                }
                other => return other,
            }
        }
    }

    fn once(
        &self,
        method: Method<'_>,
        path: &str,
        query: &[(&str, String)],
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ApiError::Deadline);
        }
        let token = self.tokens.token()?;
        let url = format!("{}{path}", self.base);
        let quota = self.tokens.found().credentials.quota_project();
        let (token, quota) = (token.as_deref(), quota);
        let response = match method {
            Method::Get => prepared(self.agent.get(&url), query, token, quota, remaining).call(),
            Method::Post(body) => {
                prepared(self.agent.post(&url), query, token, quota, remaining).send_json(body)
            }
        };
        let mut response = match response {
            Ok(response) => response,
            Err(ureq::Error::Timeout(_)) => return Err(ApiError::Deadline),
            Err(other) => return Err(ApiError::Transport(other.to_string())),
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| ApiError::Transport(format!("unreadable answer: {e}")))?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(_) if (200..300).contains(&status) => {
                    return Err(ApiError::Transport(format!(
                        "HTTP {status} with a body that is not JSON"
                    )));
                }
                Err(_) => Value::String(text.chars().take(300).collect()),
            }
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let error = &value["error"];
        let message = error["message"]
            .as_str()
            .map(str::to_string)
            .or_else(|| value.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {status}"));
        let reason = error["errors"][0]["reason"]
            .as_str()
            .or_else(|| error["status"].as_str())
            .map(str::to_string);
        Err(ApiError::Http {
            status,
            reason,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, reason: Option<&str>) -> ApiError {
        ApiError::Http {
            status,
            reason: reason.map(str::to_string),
            message: String::new(),
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        for retried in [
            http(429, None),
            http(500, None),
            http(503, Some("backendError")),
            http(403, Some("rateLimitExceeded")),
            ApiError::Transport("reset".into()),
        ] {
            assert!(retried.transient(), "{retried}");
        }
        for final_ in [
            http(400, Some("invalidQuery")),
            http(403, Some("accessDenied")),
            http(404, Some("notFound")),
            http(403, Some("quotaExceeded")),
            ApiError::Deadline,
        ] {
            assert!(!final_.transient(), "{final_}");
        }
    }
}
