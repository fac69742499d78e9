//! Where the access token comes from: `M4_OAUTH2_TOKEN` as given, or the
//! client-credentials grant (RFC 6749 §4.4) against the discovered `token_endpoint`,
//! renewed before it expires so a long session never dies of an expired token.
//!
//! Owns obtaining and renewing tokens; it does not validate them (the caller does,
//! every call). The client secret travels only in the `Authorization` header of the
//! token request and appears in no message.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use url::Url;

use super::AuthError;
use super::clock::Clock;
use super::config::{ClientCredentials, Secret};
use super::discovery::audience_parameters;

/// Renew this long before expiry at most (or at half the lifetime for short tokens).
const RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime assumed when the provider says neither `expires_in` nor `exp`.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Issued {
    token: Arc<Secret>,
    expires_at: Instant,
    renew_at: Instant,
}

/// Obtains tokens with the client-credentials grant.
#[derive(Debug)]
pub struct ClientCredentialsSource {
    endpoint: Url,
    credentials: ClientCredentials,
    scope: String,
    resource: String,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    current: RwLock<Option<Issued>>,
    fetching: Mutex<()>,
}

impl ClientCredentialsSource {
    /// A source for `credentials` at `endpoint`, asking for `scopes` for `resource`
    /// (RFC 8707 resource indicator = the configured audience).
    pub fn new(
        endpoint: Url,
        credentials: ClientCredentials,
        scopes: &[String],
        resource: &str,
        agent: ureq::Agent,
        clock: Arc<dyn Clock>,
    ) -> ClientCredentialsSource {
        ClientCredentialsSource {
            endpoint,
            credentials,
            scope: scopes.join(" "),
            resource: resource.to_string(),
            agent,
            clock,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    /// The current token, renewed first when it is due. While the renewal fails and the
    /// old token has not expired, the old token is used (and a warning logged).
    pub fn token(&self) -> Result<Arc<Secret>, AuthError> {
        let now = self.clock.now();
        if let Some(issued) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && now < issued.renew_at
        {
            return Ok(Arc::clone(&issued.token));
        }
        let _fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
        let previous = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(issued) = &previous
            && now < issued.renew_at
        {
            return Ok(Arc::clone(&issued.token));
        }
        match self.request(now) {
            Ok(issued) => {
                let token = Arc::clone(&issued.token);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(issued);
                tracing::info!(endpoint = %self.endpoint, "obtained an OAuth2 access token (client credentials)");
                Ok(token)
            }
            Err(e) => match previous {
                Some(issued) if now < issued.expires_at => {
                    tracing::warn!(
                        "could not renew the OAuth2 access token ({e}); using the current one until it expires"
                    );
                    Ok(issued.token)
                }
                _ => Err(e),
            },
        }
    }

    fn request(&self, now: Instant) -> Result<Issued, AuthError> {
        let fail = |reason: String| AuthError::TokenRequest {
            endpoint: self.endpoint.to_string(),
            reason,
        };
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        let basic = STANDARD.encode(format!(
            "{}:{}",
            form_encode(&self.credentials.client_id),
            form_encode(self.credentials.client_secret.expose())
        ));
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !self.scope.is_empty() {
            form.push(("scope", &self.scope));
        }
        form.extend(
            audience_parameters(&self.endpoint)
                .iter()
                .map(|name| (*name, self.resource.as_str())),
        );
        let response = self
            .agent
            .post(self.endpoint.as_str())
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send_form(form)
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            // The agent follows no redirect by itself (see `discovery`), and a token
            // request (it carries the client secret) is never re-sent elsewhere.
            return Err(fail(format!(
                "HTTP {status}: the token endpoint redirects, and m4 does not re-send credentials to another URL; hint: configure the provider so discovery names the final token endpoint"
            )));
        }
        let body: Value = response
            .into_body()
            .with_config()
            .limit(super::jwks::MAX_DOCUMENT_BYTES)
            .read_json()
            .map_err(|e| fail(format!("HTTP {status}, response is not JSON ({e})")))?;
        if !status.is_success() {
            let error = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            let description = body
                .get("error_description")
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(fail(format!("HTTP {status}, `{error}`{description}")));
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("the response has no `access_token`".into()))?;
        let lifetime = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .or_else(|| unverified_lifetime(token, self.clock.unix_seconds()))
            .unwrap_or(ASSUMED_LIFETIME);
        let margin = RENEW_MARGIN.min(lifetime / 2);
        Ok(Issued {
            token: Arc::new(Secret::new(token)),
            expires_at: now + lifetime,
            renew_at: now + lifetime - margin,
        })
    }
}

/// The remaining lifetime from an unverified `exp`, only to schedule renewal: the
/// token is validated properly before any use.
fn unverified_lifetime(token: &str, now: u64) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    Some(Duration::from_secs(exp.saturating_sub(now)))
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The token m4 presents on every call.
#[derive(Debug)]
pub enum TokenSource {
    /// `M4_OAUTH2_TOKEN`, read once at start-up.
    Static(Arc<Secret>),
    /// Obtained and renewed with the client-credentials grant.
    ClientCredentials(Box<ClientCredentialsSource>),
    /// A stored sign-in (`m4 auth login`), refreshed before it expires.
    SignedIn(Box<super::signed_in::SignedInSource>),
    /// Neither configured: every call is refused with "Missing OAuth2 access token".
    Missing,
}

impl TokenSource {
    /// The token to validate now.
    pub fn token(&self) -> Result<Arc<Secret>, AuthError> {
        match self {
            TokenSource::Static(token) => Ok(Arc::clone(token)),
            TokenSource::ClientCredentials(source) => source.token(),
            TokenSource::SignedIn(source) => source.token(),
            TokenSource::Missing => Err(AuthError::MissingToken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_is_read_from_an_unverified_exp_only_for_scheduling() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"exp": 1000}"#);
        assert_eq!(
            unverified_lifetime(&format!("h.{payload}.s"), 400),
            Some(Duration::from_secs(600))
        );
        assert_eq!(unverified_lifetime("opaque", 400), None);
    }

    #[test]
    fn credentials_are_form_encoded_before_basic_encoding() {
        assert_eq!(form_encode("a b:c/d"), "a+b%3Ac%2Fd");
    }

    #[test]
    fn a_missing_token_is_the_guide_message() {
        assert_eq!(
            TokenSource::Missing.token().unwrap_err().to_string(),
            "Missing OAuth2 access token"
        );
    }
}
