//! The access token of a stored sign-in (`m4 auth login`), kept fresh: refreshed
//! before it expires, the rotated refresh token written back to the store at once.
//!
//! Owns renewal only; every token it hands out is still validated by the caller on
//! every call, exactly as an environment token. While a renewal fails for a passing
//! reason (the provider unreachable) the current token is used until it expires; when
//! the provider refuses the refresh token, or the token has expired, the answer is
//! "sign in again: run `m4 auth login`". `m4 serve` selects it when there is no
//! `M4_OAUTH2_TOKEN` and `M4_OAUTH2_CLIENT_ID` is a public client (no secret).

use std::sync::{Arc, Mutex, RwLock};

use url::Url;

use super::AuthError;
use super::clock::Clock;
use super::config::Secret;
use super::login::{self, LoginError};
use super::store::{CredentialStore, SignInKey, StoredSignIn};

/// Renew this long before expiry at most (half the lifetime for short-lived tokens).
const RENEW_MARGIN_SECS: u64 = 60;
/// Lifetime assumed when the provider says nothing (`expires_in` absent).
const ASSUMED_LIFETIME_SECS: u64 = 300;

#[derive(Debug, Clone)]
struct Current {
    access: Arc<Secret>,
    refresh: Secret,
    /// Unix seconds.
    expires_at: u64,
    renew_at: u64,
    subject: Option<String>,
}

/// Hands out the signed-in access token, refreshing it when due.
#[derive(Debug)]
pub struct SignedInSource {
    key: SignInKey,
    token_endpoint: Url,
    audience: String,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    store: Arc<dyn CredentialStore>,
    current: RwLock<Current>,
    refreshing: Mutex<()>,
}

fn renew_at(now: u64, expires_at: u64) -> u64 {
    let lifetime = expires_at.saturating_sub(now);
    expires_at.saturating_sub(RENEW_MARGIN_SECS.min(lifetime / 2))
}

impl SignedInSource {
    /// The sign-in stored for `key`, or `Ok(None)` when there is none.
    pub fn load(
        key: SignInKey,
        token_endpoint: Url,
        audience: &str,
        agent: ureq::Agent,
        clock: Arc<dyn Clock>,
        store: Arc<dyn CredentialStore>,
    ) -> Result<Option<SignedInSource>, AuthError> {
        let stored = store
            .load(&key)
            .map_err(|e| AuthError::SignInAgain(e.to_string()))?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let now = clock.unix_seconds();
        // A stored access token without an expiry is treated as due: refresh first.
        let (access, expires_at) = match (stored.access_token, stored.access_expires_at) {
            (Some(access), Some(expires_at)) => (access, expires_at),
            _ => (Secret::new(""), now),
        };
        Ok(Some(SignedInSource {
            key,
            token_endpoint,
            audience: audience.to_string(),
            agent,
            clock,
            store,
            current: RwLock::new(Current {
                access: Arc::new(access),
                refresh: stored.refresh_token,
                expires_at,
                renew_at: renew_at(now, expires_at),
                subject: stored.subject,
            }),
            refreshing: Mutex::new(()),
        }))
    }

    /// The access token to validate now, refreshed first when due.
    pub fn token(&self) -> Result<Arc<Secret>, AuthError> {
        let now = self.clock.unix_seconds();
        let snapshot = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if now < snapshot.renew_at {
            return Ok(snapshot.access);
        }
        let _refreshing = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        // Another call may have refreshed while this one waited.
        let current = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if now < current.renew_at {
            return Ok(current.access);
        }
        match login::refresh(
            &self.agent,
            &self.token_endpoint,
            &self.key.client_id,
            &current.refresh,
            &self.audience,
        ) {
            Ok(tokens) => {
                let expires_at = now.saturating_add(
                    tokens
                        .expires_in
                        .map_or(ASSUMED_LIFETIME_SECS, |d| d.as_secs()),
                );
                let next = Current {
                    access: Arc::new(tokens.access_token),
                    // `refresh` returns the token to keep: rotated or the same.
                    refresh: tokens.refresh_token.unwrap_or(current.refresh),
                    expires_at,
                    renew_at: renew_at(now, expires_at),
                    subject: current.subject,
                };
                // Written back before use: a rotated refresh token lost in a crash
                // would end the sign-in.
                self.store
                    .save(&StoredSignIn {
                        key: self.key.clone(),
                        refresh_token: next.refresh.clone(),
                        access_token: Some((*next.access).clone()),
                        access_expires_at: Some(next.expires_at),
                        subject: next.subject.clone(),
                    })
                    .map_err(|e| AuthError::SignInAgain(e.to_string()))?;
                tracing::info!("refreshed the signed-in OAuth2 access token");
                let access = Arc::clone(&next.access);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
                Ok(access)
            }
            Err(LoginError::SignInAgain(reason)) => Err(AuthError::SignInAgain(format!(
                "the provider refused the stored sign-in (`{reason}`)"
            ))),
            Err(e) if now < current.expires_at => {
                tracing::warn!(
                    "could not refresh the signed-in access token ({e}); using the current one until it expires"
                );
                Ok(current.access)
            }
            Err(e) => Err(AuthError::SignInAgain(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::clock::ManualClock;
    use crate::auth::discovery::http_agent;
    use crate::auth::login::tests::provider;
    use crate::auth::store::FileStore;

    const NOW: u64 = 1_800_000_000;

    fn key() -> SignInKey {
        SignInKey {
            issuer: "https://idp.example".into(),
            client_id: "m4-cli".into(),
        }
    }

    fn stored(expires_in: u64) -> StoredSignIn {
        StoredSignIn {
            key: key(),
            refresh_token: Secret::new("r-1"),
            access_token: Some(Secret::new("a-1")),
            access_expires_at: Some(NOW + expires_in),
            subject: Some("researcher-7".into()),
        }
    }

    fn source(
        answers: Vec<(u16, String)>,
        expires_in: u64,
    ) -> (
        SignedInSource,
        Arc<ManualClock>,
        Arc<FileStore>,
        tempfile::TempDir,
    ) {
        let (url, _) = provider(answers);
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileStore::at(dir.path()));
        store.save(&stored(expires_in)).unwrap();
        let clock = Arc::new(ManualClock::new(NOW));
        let source = SignedInSource::load(
            key(),
            url,
            "https://m4.example/api",
            http_agent(),
            Arc::clone(&clock) as Arc<dyn Clock>,
            Arc::clone(&store) as Arc<dyn CredentialStore>,
        )
        .unwrap()
        .expect("signed in");
        (source, clock, store, dir)
    }

    fn rotated(access: &str, refresh: &str, expires_in: u64) -> (u16, String) {
        (
            200,
            format!(
                r#"{{"access_token": "{access}", "refresh_token": "{refresh}", "expires_in": {expires_in}}}"#
            ),
        )
    }

    #[test]
    fn a_short_lived_token_is_refreshed_before_it_expires_across_lifetimes() {
        let (source, clock, store, _dir) = source(
            vec![
                rotated("a-2", "r-2", 20),
                rotated("a-3", "r-3", 20),
                rotated("a-4", "r-4", 20),
            ],
            20,
        );
        assert_eq!(source.token().unwrap().expose(), "a-1");
        for (i, expected) in ["a-2", "a-3", "a-4"].iter().enumerate() {
            // Half-way through the 20 s lifetime: renewed, the rotated token stored.
            clock.advance(Duration::from_secs(10));
            assert_eq!(source.token().unwrap().expose(), *expected, "lifetime {i}");
            let kept = store.load(&key()).unwrap().unwrap();
            assert_eq!(kept.refresh_token.expose(), format!("r-{}", i + 2));
            assert_eq!(kept.access_expires_at, Some(NOW + 10 * (i as u64 + 1) + 20));
        }
        assert_eq!(source.token().unwrap().expose(), "a-4", "not due again yet");
    }

    #[test]
    fn a_refused_refresh_says_sign_in_again() {
        let (source, clock, _store, _dir) =
            source(vec![(400, r#"{"error": "invalid_grant"}"#.into())], 20);
        clock.advance(Duration::from_secs(15));
        let text = source.token().unwrap_err().to_string();
        assert!(
            text.starts_with("sign in again: run `m4 auth login`"),
            "{text}"
        );
        assert!(!text.contains("r-1"), "{text}");
    }

    #[test]
    fn an_unreachable_provider_keeps_the_current_token_until_it_expires() {
        // A server that answers nothing useful (500, not JSON).
        let (source, clock, _store, _dir) =
            source(vec![(500, "oops".into()), (500, "oops".into())], 20);
        clock.advance(Duration::from_secs(15));
        assert_eq!(source.token().unwrap().expose(), "a-1", "still valid");
        clock.advance(Duration::from_secs(10));
        let text = source.token().unwrap_err().to_string();
        assert!(
            text.starts_with("sign in again: run `m4 auth login`"),
            "{text}"
        );
    }

    #[test]
    fn no_stored_sign_in_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = SignedInSource::load(
            key(),
            Url::parse("https://idp.example/token").unwrap(),
            "aud",
            http_agent(),
            Arc::new(ManualClock::new(NOW)),
            Arc::new(FileStore::at(dir.path())),
        )
        .unwrap();
        assert!(loaded.is_none());
    }
}
