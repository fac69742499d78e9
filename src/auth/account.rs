//! `m4 auth status` and `m4 auth logout`: what is stored for the configured provider
//! and public client, and ending that sign-in.
//!
//! Owns those two reports only. The protocol step (RFC 7009 revocation) is
//! [`login::revoke`]; where the sign-in is kept is [`store`](super::store). Logout
//! revokes the refresh token where the provider advertises a `revocation_endpoint`,
//! then deletes the stored sign-in even when the revocation could not be made (and
//! says so), so that nothing is left on this machine.

use std::io::Write;

use super::AuthError;
use super::clock::{Clock, SystemClock};
use super::config::AuthConfig;
use super::discovery::{discover, http_agent};
use super::login;
use super::store::{self, SignInKey};

/// The provider and public client the sign-in commands work with.
fn sign_in_key(
    command: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(AuthConfig, SignInKey), AuthError> {
    let config = AuthConfig::from_lookup(lookup)?.ok_or_else(|| AuthError::NotSet {
        variable: crate::config::M4_OAUTH2_ENABLED,
        hint: format!(
            "`{command}` works on the sign-in for the OAuth2 provider m4 is configured for: set the `M4_OAUTH2_*` variables first"
        ),
    })?;
    let client_id = config
        .public_client_id
        .clone()
        .ok_or_else(|| AuthError::NotSet {
            variable: crate::config::M4_OAUTH2_CLIENT_ID,
            hint: "set it to the public client id (no secret) you signed in with (`m4 auth login`)"
                .into(),
        })?;
    let key = SignInKey {
        issuer: config.issuer.clone(),
        client_id,
    };
    Ok((config, key))
}

fn io(e: std::io::Error) -> AuthError {
    AuthError::SignInAgain(format!("could not print: {e}"))
}

fn store_error(e: store::StoreError) -> AuthError {
    AuthError::SignInAgain(e.to_string())
}

/// `m4 auth status`: who is signed in (`sub`), until when the access token is valid,
/// whether a refresh token is kept, and where the secret is kept.
pub fn status(
    out: &mut dyn Write,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), AuthError> {
    let (config, key) = sign_in_key("m4 auth status", &lookup)?;
    let store = store::default_store(config.file_store_only).ok_or(login::LoginError::NoStore)?;
    let Some(stored) = store.load(&key).map_err(store_error)? else {
        writeln!(
            out,
            "Not signed in to {} as client `{}` (nothing is stored). Run `m4 auth login` to sign in.",
            key.issuer, key.client_id
        )
        .map_err(io)?;
        return Ok(());
    };
    let now = SystemClock.unix_seconds();
    writeln!(
        out,
        "Signed in to {} as {} (client `{}`).",
        key.issuer,
        stored.subject.as_deref().unwrap_or("(unknown subject)"),
        key.client_id
    )
    .map_err(io)?;
    let access = match (&stored.access_token, stored.access_expires_at) {
        (Some(_), Some(at)) if at > now => {
            format!("valid until {} (in {})", utc(at), duration_text(at - now))
        }
        (Some(_), Some(at)) => format!(
            "expired at {}; `m4 serve` refreshes it with the refresh token",
            utc(at)
        ),
        _ => "none kept; `m4 serve` obtains one with the refresh token".into(),
    };
    writeln!(out, "Access token: {access}.").map_err(io)?;
    writeln!(out, "Refresh token: kept.").map_err(io)?;
    writeln!(out, "Secret kept in: {}.", store.describe(&key)).map_err(io)?;
    Ok(())
}

/// `m4 auth logout`: revokes the stored refresh token where the provider has a
/// revocation endpoint (RFC 7009), deletes the stored sign-in, and says what it did.
pub fn sign_out(
    out: &mut dyn Write,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), AuthError> {
    let (config, key) = sign_in_key("m4 auth logout", &lookup)?;
    let store = store::default_store(config.file_store_only).ok_or(login::LoginError::NoStore)?;
    let Some(stored) = store.load(&key).map_err(store_error)? else {
        writeln!(
            out,
            "Not signed in to {} as client `{}`: nothing was stored, nothing was revoked or deleted.",
            key.issuer, key.client_id
        )
        .map_err(io)?;
        return Ok(());
    };
    let agent = http_agent();
    let revoked = match discover(&agent, &config.issuer) {
        Ok(found) => match &found.revocation_endpoint {
            Some(endpoint) => {
                match login::revoke(&agent, endpoint, &key.client_id, &stored.refresh_token) {
                    Ok(()) => format!("Revoked the refresh token at {endpoint}."),
                    Err(e) => format!(
                        "Could NOT revoke the refresh token at {endpoint} ({e}); it stays valid at the provider until it expires: ask your IT team to revoke m4's sign-in for {} if that matters.",
                        stored.subject.as_deref().unwrap_or("you")
                    ),
                }
            }
            None => format!(
                "The provider {} advertises no revocation endpoint, so the refresh token was not revoked; it stays valid there until it expires.",
                config.issuer
            ),
        },
        Err(e) => format!(
            "Could NOT reach the provider to revoke the refresh token ({e}); it stays valid there until it expires."
        ),
    };
    writeln!(out, "{revoked}").map_err(io)?;
    let place = store.describe(&key);
    store.delete(&key).map_err(store_error)?;
    writeln!(
        out,
        "Deleted the stored sign-in of {} from {place}. Run `m4 auth login` to sign in again.",
        stored.subject.as_deref().unwrap_or("(unknown subject)")
    )
    .map_err(io)?;
    Ok(())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(unix: u64) -> String {
    let (year, month, day) = crate::civil::from_days((unix / 86_400) as i64);
    let rem = unix % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn duration_text(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_661), "2000-02-29 01:01:01 UTC");
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
        assert_eq!(duration_text(59), "59 s");
        assert_eq!(duration_text(600), "10 min");
        assert_eq!(duration_text(3_720), "1 h 2 min");
    }
}
