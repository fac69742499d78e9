//! `m4 auth login`, its protocol steps for a public client (`M4_OAUTH2_CLIENT_ID`,
//! no secret): the OAuth 2.0 Device Authorization Grant (RFC 8628), refreshing the
//! access token (RFC 6749 §6, with refresh-token rotation) and revoking the refresh
//! token at sign-out (RFC 7009).
//!
//! Owns those requests: asking for a device code (§3.1-3.2), polling the token
//! endpoint until the researcher has approved it on another device (§3.4-3.5,
//! honouring `interval` and `slow_down`), the refresh and the revocation; and
//! [`sign_in`]'s choice of flow ([`Flow`]: the device flow where the provider offers
//! it, else the browser flow of [`browser`](super::browser)) and what follows either
//! (the token validated, the sign-in stored). It does not print beyond `sign_in`'s
//! own report, keep tokens (the [`store`](super::store) does), or validate them (the
//! authenticator does, as for any token). `m4 auth status` and `m4 auth logout` are
//! in [`account`](super::account).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::clock::{Clock, SystemClock};
use super::config::{AuthConfig, Secret};
use super::discovery::{
    audience_parameters, discover, http_agent, require_secure, scope_request_name,
};
use super::jwks::MAX_DOCUMENT_BYTES;
use super::store::{SignInKey, StoredSignIn};
use super::{AuthError, Authenticator};

/// RFC 8628 §3.5: the polling interval when the provider names none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: added to the interval on every `slow_down`.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// `offline_access` (OpenID Connect Core §11): asked for when the provider offers it,
/// so the sign-in yields a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Why a sign-in did not complete. `Display` says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "the provider has no device authorization endpoint; hint: sign in with the browser flow (`m4 auth login --browser`), or ask your IT team to enable the device flow for client `{client_id}`"
    )]
    NoDeviceEndpoint { client_id: String },
    #[error(
        "the provider advertises no `authorization_endpoint`, so m4 cannot sign in in a browser; hint: use the device flow (`m4 auth login --device`), or ask your IT team which sign-in the provider allows for client `{client_id}`"
    )]
    NoAuthorizationEndpoint { client_id: String },
    #[error(
        "could not listen on 127.0.0.1 for the browser's return to m4: {0}; hint: use the device flow (`m4 auth login --device`)"
    )]
    Listen(String),
    #[error(
        "the browser did not come back to m4 within {0} s; hint: run `m4 auth login --browser` again and finish signing in in the browser in time (or allow longer with `--timeout SECONDS`), or use `m4 auth login --device`"
    )]
    TimedOut(u64),
    #[error(
        "the browser came back to m4 with a `state` that is not this sign-in's, so the answer was refused (it belongs to another sign-in attempt, or a page tried to sign you in as someone else); hint: run `m4 auth login --browser` again and open only the URL it prints"
    )]
    WrongState,
    #[error(
        "the browser came back to m4 from issuer `{got}`, not `{expected}` (RFC 9207), so the answer was refused; hint: run `m4 auth login --browser` again and open only the URL it prints"
    )]
    WrongIssuer { expected: String, got: String },
    #[error(
        "the browser came back to m4 without an authorization code; hint: run `m4 auth login --browser` again"
    )]
    NoCode,
    #[error("the request to `{endpoint}` failed: {reason}")]
    Request { endpoint: String, reason: String },
    #[error("the provider refused the request at `{endpoint}`: `{error}`{description}")]
    Refused {
        endpoint: String,
        error: String,
        description: String,
    },
    #[error("the sign-in was declined; hint: run `m4 auth login` again and approve it")]
    Denied,
    #[error(
        "the code expired before the sign-in was approved; hint: run `m4 auth login` again and approve it within {0} s"
    )]
    Expired(u64),
    #[error(
        "the provider gave no refresh token, so the sign-in would end with this access token; hint: ask your IT team to allow `offline_access` (refresh tokens) for the client"
    )]
    NoRefreshToken,
    #[error("this system has no configuration folder to keep the sign-in in; hint: set `HOME`")]
    NoStore,
    /// The refresh token is no longer accepted (expired, revoked, or already rotated).
    #[error("sign in again: run `m4 auth login` (the provider refused the stored sign-in: `{0}`)")]
    SignInAgain(String),
}

/// The provider's answer to a device authorization request (RFC 8628 §3.2).
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// Sent back while polling; never shown.
    pub device_code: Secret,
    /// What the researcher types at [`DeviceCode::verification_uri`].
    pub user_code: String,
    pub verification_uri: Url,
    /// The URL with the code filled in, when the provider gives one.
    pub verification_uri_complete: Option<Url>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// Tokens from a completed grant.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: Secret,
    /// The refresh token to keep: after [`refresh`], the rotated one, or the one
    /// presented when the provider does not rotate.
    pub refresh_token: Option<Secret>,
    /// Lifetime of the access token, when the provider says it.
    pub expires_in: Option<Duration>,
    pub scope: Option<String>,
}

/// The scopes to ask for: the required ones, plus `offline_access` when the provider
/// advertises it in `scopes_supported` (or when it does not publish the list), with
/// `openid`, without which OpenID providers ignore `offline_access` (OIDC Core §11).
pub fn requested_scopes(required: &[String], supported: Option<&[String]>) -> String {
    let mut scopes: Vec<&str> = required.iter().map(String::as_str).collect();
    let offers_offline = supported.is_none_or(|s| s.iter().any(|x| x == OFFLINE_ACCESS));
    if offers_offline && !scopes.contains(&OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS);
        if !scopes.contains(&"openid") {
            scopes.push("openid");
        }
    }
    scopes.join(" ")
}

/// Which grant `m4 auth login` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// The device flow where the provider offers it, else the browser flow.
    #[default]
    Auto,
    /// The device flow (RFC 8628), `--device`.
    Device,
    /// The authorization code with PKCE and a loopback redirect, `--browser`.
    Browser,
}

/// `m4 auth login`'s options.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    pub flow: Flow,
    /// Browser flow: try to open the URL in a browser (it is printed either way).
    pub open_browser: bool,
    /// Browser flow: how long to wait for the browser to come back.
    pub wait: Duration,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            flow: Flow::Auto,
            open_browser: true,
            wait: Duration::from_secs(super::browser::DEFAULT_WAIT_SECS),
        }
    }
}

/// `m4 auth login`: signs the researcher in for the public client
/// `M4_OAUTH2_CLIENT_ID` with the flow `options` choose, validates the access token
/// as `m4 serve` would, and stores the sign-in. The device flow prints its URL and
/// code to `out`; the browser flow prints its URL to `prompt` (stderr: it is for the
/// researcher, and the browser may be opened for them). Who is signed in and where
/// the sign-in is kept go to `out`.
pub fn sign_in(
    out: &mut dyn Write,
    prompt: &mut dyn Write,
    options: &LoginOptions,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), AuthError> {
    let config = AuthConfig::from_lookup(&lookup)?.ok_or(
        AuthError::NotSet {
            variable: crate::config::M4_OAUTH2_ENABLED,
            hint: "`m4 auth login` signs in to the OAuth2 provider m4 is configured for: set the `M4_OAUTH2_*` variables first".into(),
        },
    )?;
    let client_id = config.public_client_id.clone().ok_or(AuthError::NotSet {
        variable: crate::config::M4_OAUTH2_CLIENT_ID,
        hint: "set it to the public client id (no secret) your IT team registered for m4".into(),
    })?;
    let agent = http_agent();
    let found = discover(&agent, &config.issuer)?;
    let token_endpoint = found
        .token_endpoint
        .clone()
        .ok_or_else(|| LoginError::Request {
            endpoint: super::discovery::discovery_url(&config.issuer),
            reason: "discovery names no `token_endpoint`".into(),
        })?;
    let required: Vec<String> = config
        .required_scopes
        .iter()
        .map(|scope| scope_request_name(&token_endpoint, &config.audience, scope))
        .collect();
    let scope = requested_scopes(&required, found.scopes_supported.as_deref());
    let use_browser = match options.flow {
        Flow::Browser => true,
        Flow::Device => false,
        Flow::Auto => {
            found.device_authorization_endpoint.is_none() && found.authorization_endpoint.is_some()
        }
    };
    let io = |e: std::io::Error| AuthError::SignInAgain(format!("could not print: {e}"));
    let tokens = if use_browser {
        let endpoint = found.authorization_endpoint.clone().ok_or_else(|| {
            LoginError::NoAuthorizationEndpoint {
                client_id: client_id.clone(),
            }
        })?;
        browser_sign_in(
            prompt,
            options,
            &agent,
            &BrowserRequest {
                endpoint: &endpoint,
                token_endpoint: &token_endpoint,
                client_id: &client_id,
                scope: &scope,
                audience: &config.audience,
                issuer: &config.issuer,
            },
        )?
    } else {
        let device_endpoint = found.device_authorization_endpoint.clone().ok_or_else(|| {
            LoginError::NoDeviceEndpoint {
                client_id: client_id.clone(),
            }
        })?;
        let code = request_device_code(
            &agent,
            &device_endpoint,
            &client_id,
            &scope,
            &config.audience,
        )?;
        writeln!(
            out,
            "To sign in, open {} and enter the code {}",
            code.verification_uri, code.user_code
        )
        .map_err(io)?;
        if let Some(complete) = &code.verification_uri_complete {
            writeln!(out, "(or open {complete})").map_err(io)?;
        }
        out.flush().map_err(io)?;
        poll_for_tokens(
            &agent,
            &token_endpoint,
            &client_id,
            &code,
            &mut std::thread::sleep,
            &Instant::now,
        )?
    };
    keep(out, &config, client_id, &tokens)
}

/// The browser flow's request, as discovery and the configuration give it.
struct BrowserRequest<'a> {
    endpoint: &'a Url,
    token_endpoint: &'a Url,
    client_id: &'a str,
    scope: &'a str,
    audience: &'a str,
    issuer: &'a str,
}

/// The browser flow: listen on the loopback, print (and try to open) the
/// authorization URL, wait for the code, exchange it with the PKCE verifier.
fn browser_sign_in(
    prompt: &mut dyn Write,
    options: &LoginOptions,
    agent: &ureq::Agent,
    request: &BrowserRequest<'_>,
) -> Result<Tokens, AuthError> {
    use super::browser::{self, Loopback, Pkce};
    let io = |e: std::io::Error| AuthError::SignInAgain(format!("could not print: {e}"));
    let loopback = Loopback::bind()?;
    let pkce = Pkce::new();
    let state = browser::random_token();
    let url = browser::authorization_url(
        request.endpoint,
        request.client_id,
        loopback.redirect_uri(),
        request.scope,
        request.audience,
        &state,
        &pkce,
    );
    writeln!(
        prompt,
        "To sign in, open this URL in your browser:\n\n  {url}\n"
    )
    .map_err(io)?;
    prompt.flush().map_err(io)?;
    if options.open_browser && !browser::open_browser(&url) {
        writeln!(
            prompt,
            "(m4 could not open a browser here; open the URL yourself.)"
        )
        .map_err(io)?;
    }
    writeln!(
        prompt,
        "Waiting up to {} s for the browser to come back to {} ...",
        options.wait.as_secs(),
        loopback.redirect_uri()
    )
    .map_err(io)?;
    prompt.flush().map_err(io)?;
    let code = loopback.wait_for_code(&state, request.issuer, options.wait)?;
    Ok(browser::exchange_code(
        agent,
        request.token_endpoint,
        request.client_id,
        &code,
        loopback.redirect_uri(),
        &pkce.verifier,
        request.audience,
    )?)
}

/// Validates the new access token as `m4 serve` would and stores the sign-in, the
/// same way whichever flow produced `tokens`; says who and where on `out`.
fn keep(
    out: &mut dyn Write,
    config: &AuthConfig,
    client_id: String,
    tokens: &Tokens,
) -> Result<(), AuthError> {
    let io = |e: std::io::Error| AuthError::SignInAgain(format!("could not print: {e}"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let checker = Authenticator::new(config.clone(), Arc::clone(&clock));
    checker.start_per_request()?;
    let principal = checker.authorize(tokens.access_token.expose())?;
    let refresh_token = tokens
        .refresh_token
        .clone()
        .ok_or(LoginError::NoRefreshToken)?;
    let key = SignInKey {
        issuer: config.issuer.clone(),
        client_id,
    };
    let store = super::store::default_store(config.file_store_only).ok_or(LoginError::NoStore)?;
    store
        .save(&StoredSignIn {
            key: key.clone(),
            refresh_token,
            access_token: Some(tokens.access_token.clone()),
            access_expires_at: tokens
                .expires_in
                .map(|d| clock.unix_seconds().saturating_add(d.as_secs())),
            subject: Some(principal.subject.clone()),
        })
        .map_err(|e| AuthError::SignInAgain(e.to_string()))?;
    writeln!(
        out,
        "Signed in as {}. The sign-in is kept in {}; `m4 serve` refreshes it.",
        principal.subject,
        store.describe(&key)
    )
    .map_err(io)?;
    Ok(())
}

/// Asks `endpoint` for a device code for the public client `client_id`, `scope` and
/// the `audience` (named as [`audience_parameters`] says).
pub fn request_device_code(
    agent: &ureq::Agent,
    endpoint: &Url,
    client_id: &str,
    scope: &str,
    audience: &str,
) -> Result<DeviceCode, LoginError> {
    let mut form = vec![("client_id", client_id), ("scope", scope)];
    form.extend(
        audience_parameters(endpoint)
            .iter()
            .map(|name| (*name, audience)),
    );
    let body =
        post_form(agent, endpoint, &form)?.map_err(|(error, description)| LoginError::Refused {
            endpoint: endpoint.to_string(),
            error,
            description,
        })?;
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let bad = |what: &str| LoginError::Request {
        endpoint: endpoint.to_string(),
        reason: format!("the response {what}"),
    };
    let url = |name: &str| -> Result<Option<Url>, LoginError> {
        text(name)
            .map(|raw| Url::parse(raw).map_err(|_| bad(&format!("has an invalid `{name}`"))))
            .transpose()
    };
    Ok(DeviceCode {
        device_code: Secret::new(text("device_code").ok_or_else(|| bad("has no `device_code`"))?),
        user_code: text("user_code")
            .ok_or_else(|| bad("has no `user_code`"))?
            .to_string(),
        // `verification_url` is what some providers (Google, older Entra) send.
        verification_uri: url("verification_uri")?
            .or(url("verification_url")?)
            .ok_or_else(|| bad("has no `verification_uri`"))?,
        verification_uri_complete: url("verification_uri_complete")?,
        expires_in: Duration::from_secs(
            body.get("expires_in")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("has no `expires_in`"))?,
        ),
        interval: body
            .get("interval")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_INTERVAL, Duration::from_secs),
    })
}

/// Polls `token_endpoint` until the code is approved, declined or expired. `sleep`
/// waits (tests pass one that only records), `now` reads a monotonic clock.
pub fn poll_for_tokens(
    agent: &ureq::Agent,
    token_endpoint: &Url,
    client_id: &str,
    code: &DeviceCode,
    sleep: &mut dyn FnMut(Duration),
    now: &dyn Fn() -> Instant,
) -> Result<Tokens, LoginError> {
    let deadline = now() + code.expires_in;
    let mut interval = code.interval;
    loop {
        sleep(interval);
        if now() >= deadline {
            return Err(LoginError::Expired(code.expires_in.as_secs()));
        }
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", code.device_code.expose()),
            ("client_id", client_id),
        ];
        match post_form(agent, token_endpoint, &form)? {
            Ok(body) => return tokens(token_endpoint, &body),
            Err((error, description)) => match error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN_STEP,
                "access_denied" => return Err(LoginError::Denied),
                "expired_token" => return Err(LoginError::Expired(code.expires_in.as_secs())),
                _ => {
                    return Err(LoginError::Refused {
                        endpoint: token_endpoint.to_string(),
                        error,
                        description,
                    });
                }
            },
        }
    }
}

/// Exchanges `refresh_token` for a new access token for `audience`. A provider that
/// rotates refresh tokens answers with a new one and stops accepting the old one
/// (RFC 9700 §4.14.2): keep [`Tokens::refresh_token`] from the answer, always. A refusal
/// of the refresh token itself is [`LoginError::SignInAgain`].
pub fn refresh(
    agent: &ureq::Agent,
    token_endpoint: &Url,
    client_id: &str,
    refresh_token: &Secret,
    audience: &str,
) -> Result<Tokens, LoginError> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", client_id),
    ];
    form.extend(
        audience_parameters(token_endpoint)
            .iter()
            .map(|name| (*name, audience)),
    );
    match post_form(agent, token_endpoint, &form)? {
        Ok(body) => {
            let mut tokens = tokens(token_endpoint, &body)?;
            if tokens.refresh_token.is_none() {
                tokens.refresh_token = Some(refresh_token.clone());
            }
            Ok(tokens)
        }
        Err((error, _)) if error == "invalid_grant" => Err(LoginError::SignInAgain(error)),
        Err((error, description)) => Err(LoginError::Refused {
            endpoint: token_endpoint.to_string(),
            error,
            description,
        }),
    }
}

/// Revokes `refresh_token` at `endpoint` (RFC 7009 §2.1), as `m4 auth logout` does.
/// Revoking a token the provider no longer knows succeeds too (§2.2).
pub fn revoke(
    agent: &ureq::Agent,
    endpoint: &Url,
    client_id: &str,
    refresh_token: &Secret,
) -> Result<(), LoginError> {
    let form = [
        ("token", refresh_token.expose()),
        ("token_type_hint", "refresh_token"),
        ("client_id", client_id),
    ];
    match post_form(agent, endpoint, &form)? {
        Ok(_) => Ok(()),
        Err((error, description)) => Err(LoginError::Refused {
            endpoint: endpoint.to_string(),
            error,
            description,
        }),
    }
}

pub(super) fn tokens(endpoint: &Url, body: &Value) -> Result<Tokens, LoginError> {
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    Ok(Tokens {
        access_token: Secret::new(text("access_token").ok_or_else(|| LoginError::Request {
            endpoint: endpoint.to_string(),
            reason: "the response has no `access_token`".into(),
        })?),
        refresh_token: text("refresh_token").map(Secret::new),
        expires_in: body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(Duration::from_secs),
        scope: text("scope").map(str::to_string),
    })
}

/// POSTs a form to `endpoint`; `Ok(Ok(json))` on success, `Ok(Err((error,
/// description)))` for an OAuth error response (RFC 6749 §5.2), `Err` when there is
/// no usable answer.
#[allow(clippy::type_complexity)]
pub(super) fn post_form(
    agent: &ureq::Agent,
    endpoint: &Url,
    form: &[(&str, &str)],
) -> Result<Result<Value, (String, String)>, LoginError> {
    let fail = |reason: String| LoginError::Request {
        endpoint: endpoint.to_string(),
        reason,
    };
    require_secure(endpoint).map_err(fail)?;
    let response = agent
        .post(endpoint.as_str())
        .header("Accept", "application/json")
        .config()
        .http_status_as_error(false)
        .build()
        .send_form(form.iter().copied())
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    if status.is_redirection() {
        return Err(fail(format!(
            "HTTP {status}: it redirects, and m4 does not re-send a sign-in elsewhere"
        )));
    }
    let text = response
        .into_body()
        .with_config()
        .limit(MAX_DOCUMENT_BYTES)
        .read_to_string()
        .map_err(|e| fail(format!("HTTP {status}, unreadable response ({e})")))?;
    // A revocation answers 200 with an empty body (RFC 7009 §2.2).
    let body: Value = if text.trim().is_empty() && status.is_success() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .map_err(|e| fail(format!("HTTP {status}, the response is not JSON ({e})")))?
    };
    if status.is_success() {
        return Ok(Ok(body));
    }
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown_error")
        .to_string();
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| format!(": {}", super::validate::sanitize_long(d)))
        .unwrap_or_default();
    Ok(Err((super::validate::sanitize(&error), description)))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::auth::discovery::http_agent;

    /// A provider on 127.0.0.1 answering successive POSTs with `(status, body)`, and
    /// recording each request body.
    pub(crate) fn provider(answers: Vec<(u16, String)>) -> (Url, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!(
            "http://127.0.0.1:{}/oauth",
            listener.local_addr().unwrap().port()
        ))
        .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (status, body) in answers {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut request = vec![0u8; length];
                reader.read_exact(&mut request).unwrap();
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&request).into_owned());
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, seen)
    }

    fn code(interval: u64, expires_in: u64) -> DeviceCode {
        DeviceCode {
            device_code: Secret::new("dev-code-1"),
            user_code: "WDJB-MJHT".into(),
            verification_uri: Url::parse("https://idp.example/device").unwrap(),
            verification_uri_complete: None,
            expires_in: Duration::from_secs(expires_in),
            interval: Duration::from_secs(interval),
        }
    }

    fn error(name: &str) -> (u16, String) {
        (400, format!(r#"{{"error": "{name}"}}"#))
    }

    /// A clock that moves only by what `sleep` was asked to wait.
    fn fake_time() -> (Arc<Mutex<Vec<Duration>>>, Instant) {
        (Arc::new(Mutex::new(Vec::new())), Instant::now())
    }

    fn poll(url: &Url, code: &DeviceCode) -> (Result<Tokens, LoginError>, Vec<Duration>) {
        let (slept, start) = fake_time();
        let record = Arc::clone(&slept);
        let mut sleep = move |d: Duration| record.lock().unwrap().push(d);
        let clock = Arc::clone(&slept);
        let now = move || start + clock.lock().unwrap().iter().sum::<Duration>();
        let result = poll_for_tokens(&http_agent(), url, "m4-cli", code, &mut sleep, &now);
        let waits = slept.lock().unwrap().clone();
        (result, waits)
    }

    #[test]
    fn a_device_code_is_requested_for_the_public_client_with_offline_access() {
        let (url, seen) = provider(vec![(
            200,
            r#"{"device_code": "d", "user_code": "WDJB-MJHT",
                "verification_uri": "https://idp.example/device",
                "verification_uri_complete": "https://idp.example/device?user_code=WDJB-MJHT",
                "expires_in": 600}"#
                .into(),
        )]);
        let scope = requested_scopes(&["read:mimic-data".into()], None);
        let code = request_device_code(
            &http_agent(),
            &url,
            "m4-cli",
            &scope,
            "https://m4.example/api",
        )
        .unwrap();
        assert_eq!(code.user_code, "WDJB-MJHT");
        assert_eq!(code.interval, DEFAULT_INTERVAL);
        assert_eq!(code.expires_in, Duration::from_secs(600));
        assert!(code.verification_uri_complete.is_some());
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.contains("client_id=m4-cli")
                && request.contains("scope=read%3Amimic-data+offline_access+openid")
                && !request.contains("client_secret"),
            "{request}"
        );
    }

    #[test]
    fn offline_access_is_asked_for_only_when_offered() {
        let required = vec!["read:mimic-data".to_string()];
        let without = vec!["openid".to_string()];
        let with = vec!["openid".to_string(), OFFLINE_ACCESS.to_string()];
        assert_eq!(
            requested_scopes(&required, Some(&without)),
            "read:mimic-data"
        );
        assert_eq!(
            requested_scopes(&required, Some(&with)),
            "read:mimic-data offline_access openid"
        );
    }

    #[test]
    fn polling_waits_while_pending_slows_down_when_told_and_returns_the_tokens() {
        let (url, seen) = provider(vec![
            error("authorization_pending"),
            error("slow_down"),
            error("authorization_pending"),
            (
                200,
                r#"{"access_token": "a.b.c", "refresh_token": "r-1", "expires_in": 3600,
                    "token_type": "Bearer", "scope": "read:mimic-data offline_access"}"#
                    .into(),
            ),
        ]);
        let (result, waits) = poll(&url, &code(5, 600));
        let tokens = result.unwrap();
        assert_eq!(tokens.access_token.expose(), "a.b.c");
        assert_eq!(tokens.refresh_token.unwrap().expose(), "r-1");
        assert_eq!(tokens.expires_in, Some(Duration::from_secs(3600)));
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(
            secs,
            vec![5, 5, 10, 10],
            "the interval grows by 5 s on slow_down"
        );
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
                && request.contains("device_code=dev-code-1"),
            "{request}"
        );
    }

    #[test]
    fn a_declined_or_expired_sign_in_says_to_start_again() {
        let (url, _) = provider(vec![error("authorization_pending"), error("access_denied")]);
        let text = poll(&url, &code(1, 600)).0.unwrap_err().to_string();
        assert!(
            text.contains("declined") && text.contains("m4 auth login"),
            "{text}"
        );
        let (url, _) = provider(vec![error("expired_token")]);
        let text = poll(&url, &code(1, 600)).0.unwrap_err().to_string();
        assert!(text.contains("expired"), "{text}");
        // The deadline passes on m4's side without the provider saying so.
        let (url, _) = provider(vec![error("authorization_pending"); 3]);
        let text = poll(&url, &code(5, 12)).0.unwrap_err().to_string();
        assert!(text.contains("within 12 s"), "{text}");
    }

    #[test]
    fn another_oauth_error_is_named_and_sanitised() {
        let (url, _) = provider(vec![(
            400,
            r#"{"error": "invalid_client<script>", "error_description": "unknown client"}"#.into(),
        )]);
        let text = poll(&url, &code(1, 600)).0.unwrap_err().to_string();
        assert!(
            text.contains("`invalid_client?script?`") && text.contains("unknown client"),
            "{text}"
        );
    }

    #[test]
    fn a_refresh_keeps_the_rotated_token_or_the_old_one() {
        let (url, seen) = provider(vec![
            (
                200,
                r#"{"access_token": "a2", "refresh_token": "r-2"}"#.into(),
            ),
            (200, r#"{"access_token": "a3"}"#.into()),
            error("invalid_grant"),
        ]);
        let agent = http_agent();
        let old = Secret::new("r-1");
        let rotated = refresh(&agent, &url, "m4-cli", &old, "https://m4.example/api").unwrap();
        assert_eq!(rotated.refresh_token.unwrap().expose(), "r-2");
        let kept = refresh(&agent, &url, "m4-cli", &old, "https://m4.example/api").unwrap();
        assert_eq!(kept.access_token.expose(), "a3");
        assert_eq!(
            kept.refresh_token.unwrap().expose(),
            "r-1",
            "not rotated: keep it"
        );
        let text = refresh(&agent, &url, "m4-cli", &old, "https://m4.example/api")
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("sign in again: run `m4 auth login`"),
            "{text}"
        );
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.contains("grant_type=refresh_token") && request.contains("refresh_token=r-1"),
            "{request}"
        );
    }

    #[test]
    fn revocation_accepts_an_empty_answer() {
        let (url, seen) = provider(vec![(200, String::new())]);
        revoke(&http_agent(), &url, "m4-cli", &Secret::new("r-9")).unwrap();
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.contains("token=r-9") && request.contains("token_type_hint=refresh_token"),
            "{request}"
        );
    }

    #[test]
    fn a_plain_http_endpoint_off_this_machine_is_refused() {
        let url = Url::parse("http://idp.example/device").unwrap();
        let err = request_device_code(&http_agent(), &url, "m4-cli", "s", "a").unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }
}
