//! OAuth2 access-token authentication: configuration, the JWKS cache, token
//! validation and the per-user rate limiter.
//!
//! Off unless `M4_OAUTH2_ENABLED` is true. The server holds one [`Authenticator`]
//! and calls [`Authenticator::authorize`] before every tool runs. This module does
//! not speak MCP and does not decide what a refused call looks like to the client
//! (the server maps [`AuthError`] to a tool error with its `Display` text).
//!
//! CONTRACT used by `cli` and `server`:
//! - [`Authenticator::from_env`]: `Ok(None)` when auth is off.
//! - [`Authenticator::start`]: start-up checks (discovery, JWKS, token) before serving.
//! - [`Authenticator::authorize`]: per call; cheap while the key cache is fresh.
//! - [`AuthError`]: its `Display` is the exact message the user sees in the chat.
//! - [`check`]: `m4 auth check`.
//!
//! # Layout
//! - [`config`]: `M4_OAUTH2_*` → [`config::AuthConfig`].
//! - [`jwks`]: key-set parsing and the cache (the only network I/O besides discovery
//!   and the token request, and none while the cache is fresh).
//! - [`validate`]: header, signature and claim rules.
//! - [`rate_limit`]: per-`sub` fixed windows, LRU-bounded.
//! - [`client_credentials`]: where the token comes from.
//! - [`check`](mod@check): the `m4 auth check` report.

pub mod check;
pub mod client_credentials;
pub mod clock;
pub mod config;
pub mod jwks;
pub mod rate_limit;
#[doc(hidden)]
pub mod testkeys;
pub mod validate;

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use serde_json::Value;
use url::Url;

pub use check::check;
use client_credentials::{ClientCredentialsSource, TokenSource};
use clock::{Clock, SystemClock};
use config::AuthConfig;
use jwks::{CachePolicy, HttpKeySource, JwksCache, KeySource};
use rate_limit::RateLimiter;
use validate::{Claims, Validator};

/// Timeout for each discovery, key-set and token request: start-up must fail fast
/// when the provider is unreachable, and a refresh must not stall a tool call long.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Who made a call, once the token has been accepted.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub` claim.
    pub subject: String,
}

/// Why a call or the start-up was refused. `Display` is the message the user sees;
/// it never contains the token or the client secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Missing OAuth2 access token")]
    MissingToken,
    #[error("Token is not a valid JWT format")]
    Malformed,
    #[error("Invalid token header: {0}")]
    InvalidHeader(String),
    #[error("Invalid token signature")]
    InvalidSignature,
    /// No key fits the token (unknown `kid`, algorithm differing from the key's).
    #[error("Invalid token signature: {0}")]
    KeyNotFound(String),
    #[error("Token has expired")]
    Expired,
    #[error("Token is not yet valid: `nbf` is {0} s in the future")]
    NotYetValid(u64),
    #[error("Invalid token claim `{claim}`: {problem}")]
    InvalidClaim {
        claim: &'static str,
        problem: String,
    },
    #[error("Token issuer mismatch: expected `{expected}`, got `{actual}`{note}")]
    IssuerMismatch {
        expected: String,
        actual: String,
        note: String,
    },
    #[error("Token audience mismatch: expected `{expected}`, got {actual}{note}")]
    AudienceMismatch {
        expected: String,
        /// The token's audiences, each in backticks.
        actual: String,
        note: String,
    },
    #[error("Missing required scopes: {}", .missing.join(", "))]
    MissingScopes { missing: Vec<String> },
    #[error(
        "Rate limit exceeded: {requests} calls per {window_secs} seconds; retry in {retry_after_secs} seconds"
    )]
    RateLimited {
        requests: u32,
        window_secs: u64,
        retry_after_secs: u64,
    },
    #[error(
        "could not fetch the OAuth2 signing keys from `{location}`: {reason}; check that the provider is reachable and `M4_OAUTH2_JWKS_URL` (or the issuer's discovery) is right"
    )]
    KeysUnavailable { location: String, reason: String },
    #[error(
        "OpenID discovery at `{url}` failed: {reason}; check `M4_OAUTH2_ISSUER_URL` and that the provider is reachable, or set `M4_OAUTH2_JWKS_URL`"
    )]
    Discovery { url: String, reason: String },
    #[error(
        "could not obtain an access token from `{endpoint}` (client-credentials grant): {reason}; check `M4_OAUTH2_CLIENT_ID`, `M4_OAUTH2_CLIENT_SECRET` and `M4_OAUTH2_AUDIENCE`"
    )]
    TokenRequest { endpoint: String, reason: String },
    #[error("the OAuth2 access token was refused at start-up: {0}; {hint}", hint = startup_hint(.0))]
    StartupToken(Box<AuthError>),
    #[error("`{variable}` is not set\n\nhint: {hint}")]
    NotSet {
        variable: &'static str,
        hint: String,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("OAuth2 authentication was not started; this is a bug in m4")]
    NotStarted,
}

fn startup_hint(error: &AuthError) -> &'static str {
    match error {
        AuthError::MissingToken => {
            "set `M4_OAUTH2_TOKEN` to an access token, or `M4_OAUTH2_CLIENT_ID` and `M4_OAUTH2_CLIENT_SECRET`"
        }
        AuthError::Expired | AuthError::NotYetValid(_) => {
            "get a fresh token from your identity provider and update `M4_OAUTH2_TOKEN`"
        }
        AuthError::IssuerMismatch { .. } => {
            "set `M4_OAUTH2_ISSUER_URL` to the issuer your provider puts in `iss`"
        }
        AuthError::AudienceMismatch { .. } => {
            "set `M4_OAUTH2_AUDIENCE` to the API identifier, or request the token for that audience"
        }
        AuthError::MissingScopes { .. } => {
            "grant the scopes to your client at the provider, or change `M4_OAUTH2_REQUIRED_SCOPES`"
        }
        _ => "run `m4 auth check` to see every check on the token",
    }
}

/// The parts that exist once [`Authenticator::start`] succeeded.
#[derive(Debug)]
struct Running {
    keys: JwksCache,
    token: TokenSource,
    limiter: Option<RateLimiter>,
    verified: RwLock<Option<Verified>>,
}

/// The last token whose signature verified, against which key set, and its claims.
///
/// The same token bytes checked against the same parsed key set give the same
/// answer, so the signature (an RSA or ECDSA verification, by far the costliest step)
/// is checked once per token and key-set fetch rather than on every call. Identity is
/// by `Arc` pointer: the memo holds both `Arc`s, so neither address can be reused by
/// another token or key set while it is remembered. A renewed token or a refreshed key
/// set is a new `Arc` and is verified afresh.
#[derive(Debug)]
struct Verified {
    token: Arc<config::Secret>,
    keys: Arc<jwks::KeySet>,
    claims: Arc<Claims>,
}

/// Validates the configured access token and applies the rate limit.
/// `Send + Sync`: the server shares one in an `Arc` across tasks.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    validator: Validator,
    clock: Arc<dyn Clock>,
    agent: ureq::Agent,
    running: OnceLock<Running>,
}

impl Authenticator {
    /// Reads the `M4_OAUTH2_*` variables; `Ok(None)` when authentication is off.
    pub fn from_env() -> Result<Option<Authenticator>, AuthError> {
        Authenticator::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Authenticator::from_env`], reading variables through `lookup`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Authenticator>, AuthError> {
        Ok(AuthConfig::from_lookup(lookup)?
            .map(|config| Authenticator::new(config, Arc::new(SystemClock))))
    }

    /// An authenticator for `config` reading time from `clock`.
    pub fn new(config: AuthConfig, clock: Arc<dyn Clock>) -> Authenticator {
        let validator = Validator {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            required_scopes: config.required_scopes.clone(),
            validate_exp: config.validate_exp,
            validate_aud: config.validate_aud,
            validate_iss: config.validate_iss,
            leeway: config.leeway.as_secs(),
        };
        Authenticator {
            config,
            validator,
            clock,
            agent: http_agent(),
            running: OnceLock::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Start-up: discovery, key set, and a first validation of the token (scopes
    /// included, the rate limit not counted). Blocking HTTP with short timeouts.
    pub fn start(&self) -> Result<(), AuthError> {
        for variable in self.config.disabled_checks() {
            tracing::warn!(
                "OAuth2 check turned off by `{variable}`: tokens are accepted without it"
            );
        }
        let needs_discovery = self.config.jwks_url.is_none()
            || (self.config.client.is_some() && self.config.token.is_none());
        let discovered = if needs_discovery {
            Some(discover(&self.agent, &self.config.issuer)?)
        } else {
            None
        };
        let jwks_url = match (&self.config.jwks_url, &discovered) {
            (Some(url), _) => url.clone(),
            (None, Some(d)) => d.jwks_uri.clone(),
            (None, None) => return Err(AuthError::NotStarted),
        };
        let source: Box<dyn KeySource> = Box::new(HttpKeySource {
            url: jwks_url,
            agent: self.agent.clone(),
        });
        let keys = JwksCache::load(
            source,
            CachePolicy::for_ttl(self.config.jwks_ttl),
            Arc::clone(&self.clock),
        )?;
        self.start_with(keys, self.token_source(discovered.as_ref())?)
    }

    /// Start-up with a key cache and token source already built (tests, benchmarks).
    pub fn start_with(&self, keys: JwksCache, token: TokenSource) -> Result<(), AuthError> {
        let limiter = self
            .config
            .rate_limit
            .map(|limit| RateLimiter::new(limit.requests, limit.window, self.clock.now()));
        let running = Running {
            keys,
            token,
            limiter,
            verified: RwLock::new(None),
        };
        let claims = self
            .validate_with(&running)
            .map_err(|e| AuthError::StartupToken(Box::new(e)))?;
        tracing::info!(subject = %claims.sub, "OAuth2 access token accepted");
        self.running
            .set(running)
            .map_err(|_| AuthError::NotStarted)?;
        Ok(())
    }

    fn token_source(&self, discovered: Option<&Discovery>) -> Result<TokenSource, AuthError> {
        if let Some(token) = &self.config.token {
            return Ok(TokenSource::Static(Arc::new(token.clone())));
        }
        let Some(credentials) = &self.config.client else {
            return Ok(TokenSource::Missing);
        };
        let endpoint = discovered
            .and_then(|d| d.token_endpoint.clone())
            .ok_or_else(|| AuthError::Discovery {
                url: discovery_url(&self.config.issuer),
                reason: "it has no `token_endpoint`, needed for the client-credentials grant"
                    .into(),
            })?;
        Ok(TokenSource::ClientCredentials(Box::new(
            ClientCredentialsSource::new(
                endpoint,
                credentials.clone(),
                &self.config.required_scopes,
                &self.config.audience,
                self.agent.clone(),
                Arc::clone(&self.clock),
            ),
        )))
    }

    /// A stdio tool call: the configured token (environment or client
    /// credentials), validated as any bearer is.
    pub fn authorize_configured(&self) -> Result<Principal, AuthError> {
        self.authorize()
    }

    /// Every tool call: validate the token again, check scopes, count the call.
    pub fn authorize(&self) -> Result<Principal, AuthError> {
        let running = self.running.get().ok_or(AuthError::NotStarted)?;
        let claims = self.validate_with(running).inspect_err(|e| {
            tracing::debug!("OAuth2 check failed: {e}");
        })?;
        if let Some(limiter) = &running.limiter {
            limiter
                .check(&claims.sub, self.clock.now())
                .map_err(|limited| AuthError::RateLimited {
                    requests: limiter.requests(),
                    window_secs: limiter.window().as_secs(),
                    // Round up: "retry in 0 seconds" would invite an immediate retry.
                    retry_after_secs: limited.retry_after.as_secs()
                        + u64::from(limited.retry_after.subsec_nanos() > 0),
                })?;
        }
        Ok(Principal {
            subject: claims.sub.clone(),
        })
    }

    fn validate_with(&self, running: &Running) -> Result<Arc<Claims>, AuthError> {
        let token = running.token.token()?;
        let parsed = validate::parse(token.expose())?;
        let keys = running.keys.keys_for(parsed.header.kid.as_deref())?;
        let now = self.clock.unix_seconds();
        let remembered = {
            let memo = running.verified.read().unwrap_or_else(|e| e.into_inner());
            memo.as_ref()
                .filter(|m| Arc::ptr_eq(&m.token, &token) && Arc::ptr_eq(&m.keys, &keys))
                .map(|m| Arc::clone(&m.claims))
        };
        let claims = match remembered {
            Some(claims) => claims,
            None => {
                parsed.verify_signature(&keys)?;
                let claims = Arc::new(parsed.claims()?);
                *running.verified.write().unwrap_or_else(|e| e.into_inner()) = Some(Verified {
                    token: Arc::clone(&token),
                    keys,
                    claims: Arc::clone(&claims),
                });
                claims
            }
        };
        // Time-dependent and configuration checks run on every call, memo or not.
        self.validator.check_claims(&claims, now)?;
        Ok(claims)
    }
}

/// What OpenID discovery told us.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub jwks_uri: Url,
    pub token_endpoint: Option<Url>,
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches discovery; its `issuer` must equal the configured one exactly (§4.3).
pub fn discover(agent: &ureq::Agent, issuer: &str) -> Result<Discovery, AuthError> {
    let url = discovery_url(issuer);
    let fail = |reason: String| AuthError::Discovery {
        url: url.clone(),
        reason,
    };
    let parsed = Url::parse(&url).map_err(|e| fail(e.to_string()))?;
    let document = http_get(agent, &parsed).map_err(fail)?;
    let value: Value = serde_json::from_slice(&document)
        .map_err(|e| fail(format!("the response is not JSON ({e})")))?;
    let published = value
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if published != issuer {
        let note = if published.trim_end_matches('/') == issuer.trim_end_matches('/') {
            " (the only difference is a trailing slash; comparison is exact)"
        } else {
            ""
        };
        return Err(fail(format!(
            "it publishes issuer `{published}`, but `M4_OAUTH2_ISSUER_URL` is `{issuer}`{note}"
        )));
    }
    let url_field = |name: &str| -> Result<Option<Url>, AuthError> {
        match value.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(raw) => Url::parse(raw)
                .map(Some)
                .map_err(|e| fail(format!("`{name}` is not a URL ({e})"))),
        }
    };
    let jwks_uri = url_field("jwks_uri")?.ok_or_else(|| fail("it has no `jwks_uri`".into()))?;
    Ok(Discovery {
        jwks_uri,
        token_endpoint: url_field("token_endpoint")?,
    })
}

/// An HTTP client with the start-up timeouts.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .build()
        .into()
}

/// GET `url`, reading at most [`jwks::MAX_DOCUMENT_BYTES`].
pub(crate) fn http_get(agent: &ureq::Agent, url: &Url) -> Result<Vec<u8>, String> {
    let response = agent
        .get(url.as_str())
        .header("Accept", "application/json")
        .call()
        .map_err(|e| e.to_string())?;
    let mut body = response.into_body();
    body.with_config()
        .limit(jwks::MAX_DOCUMENT_BYTES)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::Ordering;

    use super::clock::ManualClock;
    use super::jwks::tests::FakeSource;
    use super::*;

    const ISS: &str = "https://idp.example";
    const AUD: &str = "https://m4.example/api";
    const NOW: u64 = 1_800_000_000;

    /// An authenticator for ISS/AUD (plus `extra` variables) on `clock`, not yet started.
    fn authenticator(extra: &[(&str, &str)], clock: &Arc<ManualClock>) -> Authenticator {
        let mut vars: HashMap<String, String> = [
            ("M4_OAUTH2_ENABLED", "true"),
            ("M4_OAUTH2_ISSUER_URL", ISS),
            ("M4_OAUTH2_AUDIENCE", AUD),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = AuthConfig::from_lookup(|n| vars.get(n).cloned())
            .unwrap()
            .unwrap();
        Authenticator::new(config, Arc::clone(clock) as Arc<dyn Clock>)
    }

    fn started(
        extra: &[(&str, &str)],
        token: &str,
    ) -> (Authenticator, Arc<ManualClock>, Arc<FakeSource>) {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(extra, &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a", "ec-a"])));
        let keys = JwksCache::load(
            Box::new(Arc::clone(&source)),
            CachePolicy::for_ttl(Duration::from_secs(3600)),
            Arc::clone(&clock) as Arc<dyn Clock>,
        )
        .unwrap();
        let token_source = if token.is_empty() {
            TokenSource::Missing
        } else {
            TokenSource::Static(Arc::new(config::Secret::new(token)))
        };
        auth.start_with(keys, token_source).unwrap();
        (auth, clock, source)
    }

    fn token(key: &str) -> String {
        testkeys::sign(
            &testkeys::header(key),
            &testkeys::claims(ISS, AUD, NOW),
            key,
        )
    }

    #[test]
    fn authenticator_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Authenticator>();
    }

    #[test]
    fn authorize_accepts_a_valid_token_and_names_the_user() {
        let (auth, _, source) = started(&[], &token("rsa-a"));
        for _ in 0..10 {
            assert_eq!(auth.authorize().unwrap().subject, "researcher-1");
        }
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            1,
            "no I/O while fresh"
        );
    }

    #[test]
    fn the_token_expiring_during_a_session_is_refused_on_the_next_call() {
        let (auth, clock, _) = started(&[], &token("ec-a"));
        auth.authorize().unwrap();
        clock.advance(Duration::from_secs(3600 + 60));
        assert_eq!(
            auth.authorize().unwrap_err().to_string(),
            "Token has expired"
        );
    }

    #[test]
    fn rate_limit_counts_calls_per_user_and_says_when_to_retry() {
        let (auth, clock, _) = started(
            &[
                ("M4_OAUTH2_RATE_LIMIT_REQUESTS", "2"),
                ("M4_OAUTH2_RATE_LIMIT_WINDOW", "60"),
            ],
            &token("rsa-a"),
        );
        auth.authorize().unwrap();
        clock.advance(Duration::from_secs(20));
        auth.authorize().unwrap();
        let text = auth.authorize().unwrap_err().to_string();
        assert_eq!(
            text,
            "Rate limit exceeded: 2 calls per 60 seconds; retry in 40 seconds"
        );
        clock.advance(Duration::from_secs(40));
        auth.authorize().unwrap();
    }

    #[test]
    fn concurrent_calls_share_one_limit() {
        let (auth, _, source) =
            started(&[("M4_OAUTH2_RATE_LIMIT_REQUESTS", "50")], &token("rsa-a"));
        let auth = Arc::new(auth);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let auth = Arc::clone(&auth);
                std::thread::spawn(move || (0..40).filter(|_| auth.authorize().is_ok()).count())
            })
            .collect();
        let admitted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(admitted, 50);
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn start_refuses_a_bad_token_with_one_line_naming_the_fix() {
        let clock = Arc::new(ManualClock::new(NOW + 7200));
        let auth = authenticator(&[], &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        let keys = JwksCache::load(
            Box::new(source),
            CachePolicy::for_ttl(Duration::from_secs(60)),
            clock,
        )
        .unwrap();
        let err = auth
            .start_with(
                keys,
                TokenSource::Static(Arc::new(config::Secret::new(token("rsa-a")))),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Token has expired") && err.contains("`M4_OAUTH2_TOKEN`"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
        assert_eq!(
            auth.authorize().unwrap_err().to_string(),
            AuthError::NotStarted.to_string()
        );
    }

    #[test]
    fn no_token_configured_is_the_missing_token_message() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
        let config = AuthConfig::from_lookup(|n| {
            match n {
                "M4_OAUTH2_ENABLED" => Some("yes"),
                "M4_OAUTH2_ISSUER_URL" => Some(ISS),
                "M4_OAUTH2_AUDIENCE" => Some(AUD),
                _ => None,
            }
            .map(str::to_string)
        })
        .unwrap()
        .unwrap();
        let auth = Authenticator::new(config, Arc::clone(&clock));
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        let keys = JwksCache::load(
            Box::new(source),
            CachePolicy::for_ttl(Duration::from_secs(60)),
            clock,
        )
        .unwrap();
        let err = auth
            .start_with(keys, TokenSource::Missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Missing OAuth2 access token"), "{err}");
    }

    #[test]
    fn a_key_withdrawn_at_refresh_is_not_bypassed_by_the_verified_memo() {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(&[], &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        let keys = JwksCache::load(
            Box::new(Arc::clone(&source)),
            CachePolicy::for_ttl(Duration::from_secs(60)),
            Arc::clone(&clock) as Arc<dyn Clock>,
        )
        .unwrap();
        let token = TokenSource::Static(Arc::new(config::Secret::new(token("rsa-a"))));
        auth.start_with(keys, token).unwrap();
        auth.authorize().unwrap();
        source.set(Some(testkeys::jwks(&["rsa-b"])));
        clock.advance(Duration::from_secs(60));
        let text = auth.authorize().unwrap_err().to_string();
        assert!(
            text.starts_with("Invalid token signature") && text.contains("`rsa-a`"),
            "{text}"
        );
    }

    #[test]
    fn key_rotation_is_followed_by_refetching_for_an_unknown_kid() {
        let (auth, _, source) = started(&[], &token("rsa-a"));
        // The provider rotates to rsa-b; the running token still uses rsa-a, which
        // the new key set no longer has but the cache does: nothing changes until
        // a token with the new kid arrives.
        source.set(Some(testkeys::jwks(&["rsa-b"])));
        auth.authorize().unwrap();
        let running = auth.running.get().unwrap();
        let rotated = token("rsa-b");
        let claims = auth
            .validator
            .validate(&rotated, |kid| running.keys.keys_for(kid), NOW)
            .unwrap();
        assert_eq!(claims.sub, "researcher-1");
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            2,
            "one refetch for the new kid"
        );
    }
}
