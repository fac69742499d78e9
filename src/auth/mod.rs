//! OAuth2 access-token authentication: configuration, the JWKS cache, token
//! validation and the per-user rate limiter.
//!
//! Off unless `M4_OAUTH2_ENABLED` is true. The server holds one [`Authenticator`]
//! and calls [`Authenticator::authorize`] before every tool runs.
//!
//! CONTRACT used by `cli` and `server` (the auth work fills in the bodies):
//! - [`Authenticator::from_env`]: `Ok(None)` when auth is off.
//! - [`Authenticator::start`]: start-up checks (discovery, JWKS, token) before serving.
//! - [`Authenticator::authorize`]: per call; cheap while the key cache is fresh.
//! - [`AuthError`]: its `Display` is the exact message the user sees in the chat.
//! - [`check`]: `m4 auth check`.

use std::fmt;

/// Who made a call, once the token has been accepted.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub` claim.
    pub subject: String,
}

/// Validates the configured access token and applies the rate limit.
#[derive(Debug)]
pub struct Authenticator {}

impl Authenticator {
    /// Reads the `M4_OAUTH2_*` variables; `Ok(None)` when authentication is off.
    pub fn from_env() -> Result<Option<Authenticator>, AuthError> {
        Ok(None)
    }

    /// Start-up: discovery, key set, and a first validation of the token.
    pub fn start(&self) -> Result<(), AuthError> {
        Ok(())
    }

    /// Every tool call: validate the token again, check scopes, count the call.
    pub fn authorize(&self) -> Result<Principal, AuthError> {
        Err(AuthError::MissingToken)
    }
}

/// Why a call or the start-up was refused.
#[derive(Debug)]
pub enum AuthError {
    MissingToken,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::MissingToken => f.write_str("Missing OAuth2 access token"),
        }
    }
}

impl std::error::Error for AuthError {}

/// `m4 auth check`: prints the configuration, reachability and token verdicts.
/// Returns whether every check passed.
pub fn check(out: &mut dyn std::io::Write) -> anyhow::Result<bool> {
    writeln!(out, "OAuth2 authentication is off")?;
    Ok(true)
}
