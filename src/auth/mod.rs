//! OAuth2 access-token authentication: configuration, the JWKS cache, token
//! validation and the per-user rate limiter.
//!
//! Off unless `M4_OAUTH2_ENABLED` is true. The server holds one [`Authenticator`]
//! and authorises every tool call with it. This module does not speak MCP and does
//! not decide what a refused call looks like to the client (the server maps
//! [`AuthError`] to a tool error with its `Display` text).
//!
//! CONTRACT used by `cli` and `server`:
//! - [`Authenticator::from_lookup`]: `Ok(None)` when auth is off.
//! - Start-up (blocking HTTP with short timeouts), one of:
//!   - [`Authenticator::start`] for calls that carry no credential of their own
//!     (stdio): discovery, key set, and the configured token (`M4_OAUTH2_TOKEN` or
//!     the client-credentials grant) validated once; no token is a start-up error.
//!   - [`Authenticator::start_per_request`] for calls that each bring a bearer token
//!     (HTTP): discovery and key set only; no token needs to be configured.
//! - Per call: [`Authenticator::authorize`] with the request's credential (a
//!   `Bearer ` prefix allowed), or [`Authenticator::authorize_configured`] with the
//!   configured token (stdio). Both validate, check scopes and count the call against
//!   the caller's (`sub`) rate limit; cheap while the key cache is fresh and the token
//!   was seen before ([`verified`]).
//! - [`AuthError`]: its `Display` is the exact message the user sees in the chat
//!   (quoted in the README's troubleshooting table).
//! - [`check`]: `m4 auth check`.
//!
//! # Layout
//! - [`config`]: `M4_OAUTH2_*` → [`config::AuthConfig`], and the start-up plan.
//! - [`discovery`]: OpenID discovery and the HTTP rules (https, same-host redirects).
//! - [`jwks`]: key-set parsing and the cache (no I/O while the cache is fresh).
//! - [`validate`]: size, header, signature and claim rules.
//! - [`verified`]: the bounded cache of verified tokens, keyed by SHA-256.
//! - [`rate_limit`]: per-`sub` fixed windows, LRU-bounded.
//! - [`client_credentials`]: where the configured token comes from.
//! - [`login`]: `m4 auth login`'s protocol steps (device flow, refresh, revocation).
//! - [`browser`]: `m4 auth login --browser`: authorization code + PKCE, loopback redirect.
//! - [`store`]: where a sign-in is kept (the OS credential store, or the user-only file).
//! - [`signed_in`]: the stored sign-in's access token, refreshed before it expires.
//! - [`account`]: `m4 auth status` and `m4 auth logout`.
//! - [`check`](mod@check): the `m4 auth check` report.
//! - `testkeys` (tests and the `test-support` feature only): fixture keys and tokens.

pub mod account;
pub mod browser;
pub mod check;
pub mod client_credentials;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod jwks;
pub mod login;
pub mod rate_limit;
pub mod signed_in;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testkeys;
pub mod validate;
pub mod verified;

use std::sync::{Arc, OnceLock};

use client_credentials::{ClientCredentialsSource, TokenSource};
use clock::{Clock, SystemClock};
use config::AuthConfig;
use discovery::{Discovery, discover, discovery_url, http_agent};
use jwks::{CachePolicy, HttpKeySource, JwksCache, KeySource};
use rate_limit::RateLimiter;
use validate::{Claims, Validator};
use verified::VerifiedCache;

/// Who made a call, once the token has been accepted.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub` claim.
    pub subject: String,
    /// The client the token was issued to (`client_id`, else `azp`), for the audit log.
    pub client_id: Option<String>,
}

/// Where the credential of a call comes from; decides what start-up needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The configured token (`M4_OAUTH2_TOKEN`, or the client-credentials grant): stdio.
    Configured,
    /// Each request's own bearer token: HTTP.
    PerRequest,
}

/// Why a call or the start-up was refused. `Display` is the message the user sees;
/// it never contains the token or the client secret, and fields read from a token
/// appear only sanitised ([`validate::sanitize`]).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Missing OAuth2 access token")]
    MissingToken,
    #[error("Token is not a valid JWT format")]
    Malformed,
    #[error(
        "Token is too large: {bytes} bytes, more than the {max} m4 accepts; send the access token alone",
        max = validate::MAX_TOKEN_BYTES
    )]
    TooLarge { bytes: usize },
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
    #[error("Missing required scopes: {}{note}", .missing.join(", "))]
    MissingScopes { missing: Vec<String>, note: String },
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
    // Transparent: `{0}` would print the message twice in `{:#}` (as itself and as its source).
    #[error(transparent)]
    Login(#[from] login::LoginError),
    /// The stored sign-in can no longer give an access token.
    #[error("sign in again: run `m4 auth login` ({0})")]
    SignInAgain(String),
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
            "set `M4_OAUTH2_TOKEN` to an access token, or `M4_OAUTH2_CLIENT_ID` and `M4_OAUTH2_CLIENT_SECRET`, or sign in with `m4 auth login` (`M4_OAUTH2_CLIENT_ID` alone)"
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
        AuthError::Malformed
        | AuthError::TooLarge { .. }
        | AuthError::InvalidHeader(_)
        | AuthError::InvalidSignature
        | AuthError::KeyNotFound(_)
        | AuthError::InvalidClaim { .. }
        | AuthError::RateLimited { .. }
        | AuthError::KeysUnavailable { .. }
        | AuthError::Discovery { .. }
        | AuthError::TokenRequest { .. }
        | AuthError::SignInAgain(_)
        | AuthError::Login(_)
        | AuthError::StartupToken(_)
        | AuthError::NotSet { .. }
        | AuthError::Config(_)
        | AuthError::NotStarted => "run `m4 auth check` to see every check on the token",
    }
}

/// The parts that exist once start-up succeeded.
#[derive(Debug)]
struct Running {
    keys: JwksCache,
    token: TokenSource,
    limiter: Option<RateLimiter>,
    verified: VerifiedCache,
}

/// Validates access tokens and applies the rate limit.
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
    /// Reads the `M4_OAUTH2_*` variables through `lookup`; `Ok(None)` when authentication is off.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Authenticator>, AuthError> {
        Ok(AuthConfig::from_lookup(lookup)?
            .map(|config| Authenticator::new(config, Arc::new(SystemClock))))
    }

    /// An authenticator for `config` reading time from `clock`.
    pub fn new(config: AuthConfig, clock: Arc<dyn Clock>) -> Authenticator {
        Authenticator {
            validator: Validator::from_config(&config),
            config,
            clock,
            agent: http_agent(),
            running: OnceLock::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Start-up for calls that use the configured token (stdio): discovery, key set,
    /// and a first validation of the token (scopes included, the rate limit not
    /// counted). Fails when no token is configured.
    pub fn start(&self) -> Result<(), AuthError> {
        self.start_for(Credential::Configured)
    }

    /// Start-up for calls that each bring their own bearer token (HTTP): discovery and
    /// key set; a configured token is neither needed nor used.
    pub fn start_per_request(&self) -> Result<(), AuthError> {
        self.start_for(Credential::PerRequest)
    }

    fn start_for(&self, credential: Credential) -> Result<(), AuthError> {
        for variable in self.config.disabled_checks() {
            tracing::warn!(
                "OAuth2 check turned off by `{variable}`: tokens are accepted without it"
            );
        }
        let plan = self.config.plan(credential);
        let discovered = if plan.discover {
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
        let token = match credential {
            Credential::Configured => self.token_source(discovered.as_ref())?,
            Credential::PerRequest => TokenSource::Missing,
        };
        self.install(keys, token, credential)
    }

    /// [`Authenticator::start`] with a key cache and token source already built.
    #[cfg(any(test, feature = "test-support"))]
    pub fn start_with(&self, keys: JwksCache, token: TokenSource) -> Result<(), AuthError> {
        self.install(keys, token, Credential::Configured)
    }

    /// [`Authenticator::start_per_request`] with a key cache already built.
    #[cfg(any(test, feature = "test-support"))]
    pub fn start_per_request_with(&self, keys: JwksCache) -> Result<(), AuthError> {
        self.install(keys, TokenSource::Missing, Credential::PerRequest)
    }

    fn install(
        &self,
        keys: JwksCache,
        token: TokenSource,
        credential: Credential,
    ) -> Result<(), AuthError> {
        let limiter = self
            .config
            .rate_limit
            .map(|limit| RateLimiter::new(limit.requests, limit.window, self.clock.now()));
        let running = Running {
            keys,
            token,
            limiter,
            verified: VerifiedCache::default(),
        };
        if credential == Credential::Configured {
            let claims = running
                .token
                .token()
                .and_then(|token| self.validate(&running, token.expose()))
                .map_err(|e| AuthError::StartupToken(Box::new(e)))?;
            tracing::info!(subject = %claims.sub, "OAuth2 access token accepted");
        }
        self.running
            .set(running)
            .map_err(|_| AuthError::NotStarted)?;
        Ok(())
    }

    fn token_source(&self, discovered: Option<&Discovery>) -> Result<TokenSource, AuthError> {
        if let Some(token) = &self.config.token {
            return Ok(TokenSource::Static(Arc::new(token.clone())));
        }
        let endpoint = || {
            discovered
                .and_then(|d| d.token_endpoint.clone())
                .ok_or_else(|| AuthError::Discovery {
                    url: discovery_url(&self.config.issuer),
                    reason: "it has no `token_endpoint`, needed to obtain or refresh a token"
                        .into(),
                })
        };
        if let Some(client_id) = &self.config.public_client_id {
            let Some(kept) = store::default_store(self.config.file_store_only) else {
                return Ok(TokenSource::Missing);
            };
            let signed_in = signed_in::SignedInSource::load(
                store::SignInKey {
                    issuer: self.config.issuer.clone(),
                    client_id: client_id.clone(),
                },
                endpoint()?,
                &self.config.audience,
                self.agent.clone(),
                Arc::clone(&self.clock),
                kept,
            )?;
            return Ok(signed_in.map_or(TokenSource::Missing, |source| {
                tracing::info!("OAuth2: using the stored sign-in of `m4 auth login`");
                TokenSource::SignedIn(Box::new(source))
            }));
        }
        let Some(credentials) = &self.config.client else {
            return Ok(TokenSource::Missing);
        };
        let endpoint = endpoint()?;
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

    /// Every tool call with its own credential: `bearer` is the access token (an
    /// `Authorization` header value with its `Bearer ` prefix is accepted). Validates
    /// it, checks scopes, then counts the call against its `sub`'s rate limit.
    pub fn authorize(&self, bearer: &str) -> Result<Principal, AuthError> {
        let principal = self.verify(bearer)?;
        self.admit(&principal)?;
        Ok(principal)
    }

    /// [`Authenticator::authorize`] without counting a call: validates `bearer` and
    /// checks its scopes. For HTTP requests that are not tool calls (the handshake,
    /// listing tools), which must carry a valid token but do not use up the limit.
    pub fn verify(&self, bearer: &str) -> Result<Principal, AuthError> {
        let running = self.running.get().ok_or(AuthError::NotStarted)?;
        let claims = self
            .validate(running, config::strip_bearer(bearer))
            .inspect_err(|e| {
                tracing::debug!("OAuth2 check failed: {e}");
            })?;
        Ok(Principal {
            subject: claims.sub.clone(),
            client_id: claims.client_id.clone().or_else(|| claims.azp.clone()),
        })
    }

    /// Counts one call against `principal`'s (`sub`) rate limit.
    pub fn admit(&self, principal: &Principal) -> Result<(), AuthError> {
        let running = self.running.get().ok_or(AuthError::NotStarted)?;
        if let Some(limiter) = &running.limiter {
            limiter
                .check(&principal.subject, self.clock.now())
                .map_err(|limited| AuthError::RateLimited {
                    requests: limiter.requests(),
                    window_secs: limiter.window().as_secs(),
                    // Round up: "retry in 0 seconds" would invite an immediate retry.
                    retry_after_secs: limited.retry_after.as_secs()
                        + u64::from(limited.retry_after.subsec_nanos() > 0),
                })?;
        }
        Ok(())
    }

    /// Every tool call on stdio: [`Authenticator::authorize`] with the configured
    /// token's current value (`M4_OAUTH2_TOKEN`, or the client-credentials token,
    /// renewed when due).
    pub fn authorize_configured(&self) -> Result<Principal, AuthError> {
        let running = self.running.get().ok_or(AuthError::NotStarted)?;
        let token = running.token.token()?;
        self.authorize(token.expose())
    }

    /// Validates `token`: its signature once per token and key set (the verified
    /// cache), its time- and configuration-dependent claims on every call.
    fn validate(&self, running: &Running, token: &str) -> Result<Arc<Claims>, AuthError> {
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        let parsed = validate::parse(token)?;
        let keys = running.keys.keys_for(parsed.header.kid.as_deref())?;
        let now = self.clock.unix_seconds();
        let digest = verified::digest(token);
        let claims = match running.verified.get(&digest, &keys, now) {
            Some(claims) => claims,
            None => {
                parsed.verify_signature(&keys)?;
                let claims = Arc::new(parsed.claims()?);
                running
                    .verified
                    .insert(digest, &keys, Arc::clone(&claims), now);
                claims
            }
        };
        // Time-dependent and configuration checks run on every call, cached or not.
        self.validator.check_claims(&claims, now)?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::clock::ManualClock;
    use super::jwks::tests::FakeSource;
    use super::testkeys::{self, AUDIENCE as AUD, ISSUER as ISS, NOW};
    use super::*;

    /// An authenticator for ISS/AUD (plus `extra` variables) on `clock`, not yet started.
    fn authenticator(extra: &[(&str, &str)], clock: &Arc<ManualClock>) -> Authenticator {
        Authenticator::new(testkeys::config(extra), Arc::clone(clock) as Arc<dyn Clock>)
    }

    fn keys(source: &Arc<FakeSource>, clock: &Arc<ManualClock>, ttl: u64) -> JwksCache {
        JwksCache::load(
            Box::new(Arc::clone(source)),
            CachePolicy::for_ttl(Duration::from_secs(ttl)),
            Arc::clone(clock) as Arc<dyn Clock>,
        )
        .unwrap()
    }

    fn started(
        extra: &[(&str, &str)],
        token: &str,
    ) -> (Authenticator, Arc<ManualClock>, Arc<FakeSource>) {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(extra, &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a", "ec-a"])));
        let token_source = if token.is_empty() {
            TokenSource::Missing
        } else {
            TokenSource::Static(Arc::new(config::Secret::new(token)))
        };
        auth.start_with(keys(&source, &clock, 3600), token_source)
            .unwrap();
        (auth, clock, source)
    }

    /// Started for per-request bearers (no configured token).
    fn per_request(extra: &[(&str, &str)]) -> (Authenticator, Arc<ManualClock>, Arc<FakeSource>) {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(extra, &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a", "ec-a"])));
        auth.start_per_request_with(keys(&source, &clock, 3600))
            .unwrap();
        (auth, clock, source)
    }

    fn token(key: &str) -> String {
        token_for("researcher-1", key)
    }

    fn token_for(sub: &str, key: &str) -> String {
        let mut claims = testkeys::claims(ISS, AUD, NOW);
        claims["sub"] = serde_json::json!(sub);
        testkeys::sign(&testkeys::header(key), &claims, key)
    }

    fn running(auth: &Authenticator) -> &Running {
        auth.running.get().unwrap()
    }

    /// The README's troubleshooting row for each error: the fixed start of its message
    /// (what users search for). Exhaustive, so a new variant needs a row or a reason.
    fn readme_row(error: &AuthError) -> Option<&'static str> {
        match error {
            AuthError::MissingToken => Some("| Missing OAuth2 access token |"),
            AuthError::Malformed => Some("| Token is not a valid JWT format |"),
            AuthError::TooLarge { .. } => Some("| Token is too large: "),
            AuthError::InvalidHeader(_) => Some("| Invalid token header: "),
            AuthError::InvalidSignature | AuthError::KeyNotFound(_) => {
                Some("| Invalid token signature ")
            }
            AuthError::Expired => Some("| Token has expired |"),
            AuthError::NotYetValid(_) => Some("| Token is not yet valid: `nbf` is "),
            AuthError::InvalidClaim { .. } => Some("| Invalid token claim `"),
            AuthError::IssuerMismatch { .. } => Some("| Token issuer mismatch: expected `"),
            AuthError::AudienceMismatch { .. } => Some("| Token audience mismatch: expected `"),
            AuthError::MissingScopes { .. } => Some("| Missing required scopes: "),
            AuthError::RateLimited { .. } => Some("| Rate limit exceeded: "),
            AuthError::KeysUnavailable { .. } => {
                Some("| could not fetch the OAuth2 signing keys from `")
            }
            AuthError::Discovery { .. } => Some("| OpenID discovery at `"),
            AuthError::TokenRequest { .. } => Some("| could not obtain an access token from `"),
            AuthError::SignInAgain(_) => Some("| sign in again: run `m4 auth login` "),
            // `m4 auth login` errors carry their own `hint:` at the terminal.
            AuthError::Login(_) => None,
            AuthError::StartupToken(_) => {
                Some("| the OAuth2 access token was refused at start-up: ")
            }
            AuthError::NotSet { .. } => Some("| `` `M4_OAUTH2_ISSUER_URL` is not set `` "),
            // The configuration error's own row quotes `ConfigError`'s text.
            AuthError::Config(_) => Some("| `` `M4_OAUTH2_...` is set to `...`, which is not "),
            // A bug, not something a user can fix from the README.
            AuthError::NotStarted => None,
        }
    }

    #[test]
    fn every_user_message_is_the_one_the_readme_quotes() {
        let readme = include_str!("../../README.md");
        let s = || String::from("x");
        let errors = [
            AuthError::MissingToken,
            AuthError::Malformed,
            AuthError::TooLarge { bytes: 20_000 },
            AuthError::InvalidHeader(s()),
            AuthError::InvalidSignature,
            AuthError::KeyNotFound(s()),
            AuthError::Expired,
            AuthError::NotYetValid(5),
            AuthError::InvalidClaim {
                claim: "exp",
                problem: s(),
            },
            AuthError::IssuerMismatch {
                expected: s(),
                actual: s(),
                note: String::new(),
            },
            AuthError::AudienceMismatch {
                expected: s(),
                actual: s(),
                note: String::new(),
            },
            AuthError::MissingScopes {
                missing: vec![s()],
                note: String::new(),
            },
            AuthError::RateLimited {
                requests: 1,
                window_secs: 2,
                retry_after_secs: 3,
            },
            AuthError::KeysUnavailable {
                location: s(),
                reason: s(),
            },
            AuthError::Discovery {
                url: s(),
                reason: s(),
            },
            AuthError::TokenRequest {
                endpoint: s(),
                reason: s(),
            },
            AuthError::SignInAgain(s()),
            AuthError::StartupToken(Box::new(AuthError::Expired)),
            AuthError::NotSet {
                variable: "M4_OAUTH2_ISSUER_URL",
                hint: s(),
            },
            AuthError::Config(crate::config::ConfigError {
                variable: "M4_OAUTH2_ENABLED",
                value: s(),
                expected: "a boolean",
                hint: s(),
            }),
        ];
        for error in &errors {
            let row = readme_row(error).expect("a user-facing error");
            assert!(readme.contains(row), "README has no row {row:?}");
            // The row's text, placeholders aside, is how the message starts.
            let quoted = row
                .trim_start_matches("| ")
                .trim_start_matches("`` ")
                .trim_end()
                .trim_end_matches(" |")
                .trim_end_matches(" ``");
            let fixed = quoted
                .split("...")
                .next()
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let message = error.to_string();
            assert!(
                message.starts_with(&fixed),
                "{message:?} does not start as the README quotes it ({fixed:?})"
            );
        }
        assert_eq!(
            AuthError::TooLarge { bytes: 20_000 }.to_string(),
            "Token is too large: 20000 bytes, more than the 16384 m4 accepts; send the access token alone"
        );
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
            assert_eq!(auth.authorize_configured().unwrap().subject, "researcher-1");
        }
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            1,
            "no I/O while fresh"
        );
    }

    #[test]
    fn per_request_start_needs_no_token_and_takes_bearers() {
        let (auth, _, _) = per_request(&[]);
        assert_eq!(
            auth.authorize_configured().unwrap_err().to_string(),
            "Missing OAuth2 access token"
        );
        let bearer = format!("Bearer {}", token_for("alice", "rsa-a"));
        assert_eq!(auth.authorize(&bearer).unwrap().subject, "alice");
        assert_eq!(
            auth.authorize(&token_for("bob", "ec-a")).unwrap().subject,
            "bob"
        );
        assert_eq!(
            auth.authorize("").unwrap_err().to_string(),
            "Missing OAuth2 access token"
        );
        assert_eq!(
            auth.authorize("Bearer ").unwrap_err().to_string(),
            "Missing OAuth2 access token"
        );
        assert_eq!(
            auth.authorize("Bearer opaque").unwrap_err().to_string(),
            "Token is not a valid JWT format"
        );
    }

    #[test]
    fn an_oversized_bearer_is_refused_unread() {
        let (auth, _, _) = per_request(&[]);
        let huge = format!("{}.{}.sig", "e30", "A".repeat(validate::MAX_TOKEN_BYTES));
        let text = auth.authorize(&huge).unwrap_err().to_string();
        assert!(text.starts_with("Token is too large:"), "{text}");
        assert!(!text.contains("AAAA"), "{text}");
    }

    #[test]
    fn the_rate_limit_is_per_bearer_subject() {
        let (auth, _, _) = per_request(&[("M4_OAUTH2_RATE_LIMIT_REQUESTS", "1")]);
        auth.authorize(&token_for("alice", "rsa-a")).unwrap();
        auth.authorize(&token_for("bob", "rsa-a")).unwrap();
        let text = auth
            .authorize(&token_for("alice", "rsa-a"))
            .unwrap_err()
            .to_string();
        assert!(text.starts_with("Rate limit exceeded: 1 calls"), "{text}");
    }

    #[test]
    fn verify_checks_without_counting_and_admit_counts() {
        let (auth, _, _) = per_request(&[("M4_OAUTH2_RATE_LIMIT_REQUESTS", "1")]);
        let bearer = token_for("alice", "rsa-a");
        for _ in 0..5 {
            let principal = auth.verify(&bearer).unwrap();
            assert_eq!(principal.subject, "alice");
            assert_eq!(principal.client_id.as_deref(), Some("m4-tests"));
        }
        let principal = auth.verify(&bearer).unwrap();
        auth.admit(&principal).unwrap();
        let text = auth.admit(&principal).unwrap_err().to_string();
        assert!(text.starts_with("Rate limit exceeded"), "{text}");
        assert!(
            auth.verify(&bearer).is_ok(),
            "a limited user's token is still valid"
        );
    }

    #[test]
    fn a_repeated_bearer_is_verified_once_and_cached_by_digest() {
        let (auth, _, _) = per_request(&[]);
        let bearer = token("rsa-a");
        for _ in 0..50 {
            auth.authorize(&bearer).unwrap();
        }
        let cache = &running(&auth).verified;
        assert_eq!(cache.len(), 1, "one entry for one token");
        let keys = running(&auth).keys.keys_for(Some("rsa-a")).unwrap();
        assert!(
            cache.get(&verified::digest(&bearer), &keys, NOW).is_some(),
            "remembered under the token's SHA-256"
        );
        for i in 0..20 {
            auth.authorize(&token_for(&format!("user-{i}"), "ec-a"))
                .unwrap();
        }
        assert_eq!(cache.len(), 21);
    }

    #[test]
    fn a_tampered_token_never_hits_the_cache_of_the_genuine_one() {
        let (auth, _, _) = per_request(&[]);
        let genuine = token("rsa-a");
        auth.authorize(&genuine).unwrap();
        let mut parts: Vec<String> = genuine.split('.').map(str::to_string).collect();
        let mut claims = testkeys::claims(ISS, AUD, NOW);
        claims["sub"] = serde_json::json!("admin");
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claims.to_string(),
        );
        assert_eq!(
            auth.authorize(&parts.join(".")).unwrap_err().to_string(),
            "Invalid token signature"
        );
    }

    #[test]
    fn the_token_expiring_during_a_session_is_refused_on_the_next_call() {
        let (auth, clock, _) = started(&[], &token("ec-a"));
        auth.authorize_configured().unwrap();
        clock.advance(Duration::from_secs(3600 + 60));
        assert_eq!(
            auth.authorize_configured().unwrap_err().to_string(),
            "Token has expired"
        );
        assert!(running(&auth).verified.is_empty(), "dropped at its exp");
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
        auth.authorize_configured().unwrap();
        clock.advance(Duration::from_secs(20));
        auth.authorize_configured().unwrap();
        let text = auth.authorize_configured().unwrap_err().to_string();
        assert_eq!(
            text,
            "Rate limit exceeded: 2 calls per 60 seconds; retry in 40 seconds"
        );
        clock.advance(Duration::from_secs(40));
        auth.authorize_configured().unwrap();
    }

    #[test]
    fn concurrent_calls_share_one_limit() {
        let (auth, _, source) =
            started(&[("M4_OAUTH2_RATE_LIMIT_REQUESTS", "50")], &token("rsa-a"));
        let auth = Arc::new(auth);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let auth = Arc::clone(&auth);
                std::thread::spawn(move || {
                    (0..40)
                        .filter(|_| auth.authorize_configured().is_ok())
                        .count()
                })
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
        let err = auth
            .start_with(
                keys(&source, &clock, 60),
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
            auth.authorize_configured().unwrap_err().to_string(),
            AuthError::NotStarted.to_string()
        );
    }

    #[test]
    fn no_token_configured_is_the_missing_token_message() {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(&[], &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        let err = auth
            .start_with(keys(&source, &clock, 60), TokenSource::Missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Missing OAuth2 access token"), "{err}");
    }

    #[test]
    fn a_key_withdrawn_at_refresh_is_not_bypassed_by_the_verified_cache() {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(&[], &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        let token = TokenSource::Static(Arc::new(config::Secret::new(token("rsa-a"))));
        auth.start_with(keys(&source, &clock, 60), token).unwrap();
        auth.authorize_configured().unwrap();
        source.set(Some(testkeys::jwks(&["rsa-b"])));
        clock.advance(Duration::from_secs(60));
        let text = auth.authorize_configured().unwrap_err().to_string();
        assert!(
            text.starts_with("Invalid token signature") && text.contains("`rsa-a`"),
            "{text}"
        );
    }

    #[test]
    fn a_key_set_refresh_empties_the_verified_cache() {
        let clock = Arc::new(ManualClock::new(NOW));
        let auth = authenticator(&[], &clock);
        let source = Arc::new(FakeSource::default());
        source.set(Some(testkeys::jwks(&["rsa-a", "rsa-b"])));
        auth.start_per_request_with(keys(&source, &clock, 60))
            .unwrap();
        auth.authorize(&token_for("alice", "rsa-a")).unwrap();
        auth.authorize(&token_for("bob", "rsa-a")).unwrap();
        assert_eq!(running(&auth).verified.len(), 2);
        // The TTL passes: the same keys are fetched again, as a new key set.
        clock.advance(Duration::from_secs(60));
        auth.authorize(&token_for("carol", "rsa-b")).unwrap();
        assert_eq!(
            running(&auth).verified.len(),
            1,
            "entries verified with the previous key set are gone"
        );
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn key_rotation_is_followed_by_refetching_for_an_unknown_kid() {
        let (auth, _, source) = started(&[], &token("rsa-a"));
        // The provider rotates to rsa-b; the running token still uses rsa-a, which
        // the new key set no longer has but the cache does: nothing changes until
        // a token with the new kid arrives.
        source.set(Some(testkeys::jwks(&["rsa-b"])));
        auth.authorize_configured().unwrap();
        assert_eq!(
            auth.authorize(&token("rsa-b")).unwrap().subject,
            "researcher-1"
        );
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            2,
            "one refetch for the new kid"
        );
    }

    #[test]
    fn every_provider_shape_is_accepted_as_a_bearer() {
        let (auth, _, _) = per_request(&[]);
        for shape in testkeys::PROVIDER_SHAPES {
            let bearer = testkeys::mint_provider(shape, ISS, AUD, NOW, "rsa-a");
            assert!(
                auth.authorize(&bearer).is_ok(),
                "{shape}: {:?}",
                auth.authorize(&bearer)
            );
        }
    }
}
