//! The team server: MCP's streamable HTTP transport at `/mcp` (rmcp's own server,
//! stateless, so it answers clients of the 2025-11-25 revision, with `initialize`,
//! and of the 2026-07-28 revision, without), `/healthz`, a page at `/` saying how
//! to connect, and the RFC 9728 protected-resource metadata.
//!
//! Owns the guard in front of `/mcp`, in this order: the `Host` and `Origin` allow
//! list (DNS rebinding), the request's bearer token (validated by the same
//! [`Authenticator`] as stdio's token; `401`/`403` with the challenges of RFC 6750
//! and RFC 9728), the body size limit (`413`), and for tool calls the per-user rate
//! limit (`429`) and the limit on calls in flight (`503`), then the request time
//! limit (`504`, the query cancelled). The authorised user travels to the tool call
//! in the request's extensions ([`caller`]); a client that disconnects drops the
//! request, and rmcp cancels the call.
//!
//! It does not run queries, format results or write the audit log (the server's
//! `call` does, for every transport), and it does not terminate TLS (the reverse
//! proxy's job).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{any, get};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::audit::{AuditLog, Outcome, Record};
use super::{Config, M4Server, ServeError};
use crate::auth::{AuthError, Authenticator, Credential, Principal};
use crate::config::http::{
    HttpSettings, M4_HTTP_ALLOWED_HOSTS, M4_HTTP_ALLOWED_ORIGINS, M4_HTTP_MAX_BODY,
    M4_HTTP_MAX_IN_FLIGHT, M4_HTTP_PUBLIC_URL, M4_HTTP_REQUEST_TIMEOUT,
};

/// Seconds a client is told to wait when every call slot is taken.
const BUSY_RETRY_AFTER_SECS: u64 = 2;
/// Seconds a client is told to wait when the provider's keys cannot be fetched.
const KEYS_RETRY_AFTER_SECS: u64 = 30;
/// Path of the RFC 9728 metadata (and, with `/mcp` appended, its path-suffixed form).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// What the guard needs, shared by every request.
struct Gate {
    server: M4Server,
    auth: Option<Arc<Authenticator>>,
    mcp: StreamableHttpService<M4Server, NeverSessionManager>,
    public_url: String,
    scopes: Vec<String>,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    loopback: bool,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    max_body: usize,
    timeout: Duration,
}

/// The authorised user of an HTTP request, as `call` receives it.
pub(super) fn caller(context: &RequestContext<RoleServer>) -> Option<Arc<Principal>> {
    context
        .extensions
        .get::<axum::http::request::Parts>()?
        .extensions
        .get::<Arc<Principal>>()
        .cloned()
}

/// Refuses a configuration that would serve data to the network without OAuth2.
pub fn check_exposure(http: &HttpSettings, oauth2_on: bool) -> Result<(), ServeError> {
    if http.is_loopback() {
        return Ok(());
    }
    if !oauth2_on {
        return Err(ServeError::Http(format!(
            "m4 will not serve `{}` without OAuth2: anyone who can reach this address could query the data\n\n\
             hint: bind a loopback address for local use (`m4 serve --http 127.0.0.1:{}`), or turn OAuth2 on: \
             `M4_OAUTH2_ENABLED=true`, `M4_OAUTH2_ISSUER_URL=<your provider's issuer>` and \
             `{M4_HTTP_PUBLIC_URL}=<the https URL clients use>` (the audience defaults to it); \
             see \"Run m4 for a team\" in the README",
            http.addr,
            http.addr.port()
        )));
    }
    if !http.public_url_set {
        return Err(ServeError::Http(format!(
            "`{M4_HTTP_PUBLIC_URL}` is not set, and m4 listens on `{}`, which clients elsewhere do not reach under that name\n\n\
             hint: set `{M4_HTTP_PUBLIC_URL}` to the URL clients use, such as `https://m4.example.org` (the reverse proxy's URL); \
             it names this server to the provider and in its tokens' audience",
            http.addr
        )));
    }
    Ok(())
}

/// Serves MCP over streamable HTTP on `http.addr` until Ctrl-C or SIGTERM.
pub async fn serve(config: Config, http: HttpSettings) -> Result<(), ServeError> {
    check_exposure(&http, config.auth.is_some())?;
    let audit = AuditLog::open(&http.audit, http.audit_full_sql)?;
    let scopes = config
        .auth
        .as_ref()
        .map(|a| a.required_scopes.clone())
        .unwrap_or_default();
    let server = M4Server::start_for(config, Credential::PerRequest, audit).await?;
    let shutdown = CancellationToken::new();
    let factory = server.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(factory.clone()),
        Arc::new(NeverSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            // Checked by the guard, with m4's own list and messages.
            .disable_allowed_hosts()
            .with_max_request_body_bytes(http.max_body_bytes)
            .with_cancellation_token(shutdown.child_token()),
    );
    if http.public_url.starts_with("http://") && !http.is_loopback() {
        tracing::warn!(
            public_url = %http.public_url,
            "the public URL is plain http: tokens cross the network unencrypted; put a TLS proxy in front"
        );
    }
    let gate = Arc::new(Gate {
        auth: server.state.auth.clone(),
        server,
        mcp,
        public_url: http.public_url.clone(),
        scopes,
        allowed_hosts: http.allowed_hosts.clone(),
        allowed_origins: http.allowed_origins.clone(),
        loopback: http.is_loopback(),
        in_flight: Arc::new(Semaphore::new(http.max_in_flight)),
        max_in_flight: http.max_in_flight,
        max_body: http.max_body_bytes,
        timeout: http.request_timeout,
    });
    let app = router(gate);
    let listener = tokio::net::TcpListener::bind(http.addr)
        .await
        .map_err(|e| {
            ServeError::Http(format!(
                "could not listen on `{}`: {e}\n\nhint: choose another port (`m4 serve --http 127.0.0.1:8001`), or stop what uses this one",
                http.addr
            ))
        })?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::Http(e.to_string()))?;
    tracing::info!(
        addr = %bound,
        public_url = %http.public_url,
        "m4 serving MCP over streamable HTTP at /mcp"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            shutdown.cancel();
        })
        .await
        .map_err(|e| ServeError::Http(format!("the HTTP server failed: {e}")))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("m4 stopping: a shutdown signal arrived");
}

fn router(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route(METADATA_PATH, get(metadata))
        .route(&format!("{METADATA_PATH}/mcp"), get(metadata))
        .route("/mcp", any(mcp))
        .with_state(gate)
}

async fn healthz(State(gate): State<Arc<Gate>>) -> Response {
    let dataset = gate.server.state.store.choose(None).map(|s| s.name).ok();
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "dataset": dataset, "oauth2": gate.auth.is_some()}),
    )
}

async fn home(State(gate): State<Arc<Gate>>) -> Response {
    let text = format!(
        "This is m4, an MCP server for MIMIC-IV.\n\n\
         Connect an MCP client to {url}/mcp (streamable HTTP).\n\
         Claude Code: claude mcp add --transport http m4 {url}/mcp\n\
         {auth}",
        url = gate.public_url,
        auth = if gate.auth.is_some() {
            format!(
                "Sign-in: OAuth2; the client discovers the provider from {}{METADATA_PATH}.\n",
                gate.public_url
            )
        } else {
            "Sign-in: none (local use only).\n".to_string()
        }
    );
    text_response(StatusCode::OK, text)
}

async fn metadata(State(gate): State<Arc<Gate>>) -> Response {
    let Some(auth) = &gate.auth else {
        return text_response(
            StatusCode::NOT_FOUND,
            "OAuth2 is off on this m4 server, so it publishes no protected-resource metadata.\n"
                .into(),
        );
    };
    json_response(
        StatusCode::OK,
        &json!({
            "resource": gate.public_url,
            "authorization_servers": [auth.config().issuer],
            "scopes_supported": gate.scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "m4 (MIMIC-IV over MCP)",
            "resource_documentation": format!("{}/", gate.public_url),
        }),
    )
}

/// The first bytes of a JSON-RPC message: enough to tell a tool call.
#[derive(Deserialize)]
struct Probe {
    method: Option<String>,
    params: Option<ProbeParams>,
}

#[derive(Deserialize)]
struct ProbeParams {
    name: Option<String>,
}

async fn mcp(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    if let Err(refusal) = gate.check_host_and_origin(request.headers()) {
        return *refusal;
    }
    let principal = match &gate.auth {
        None => None,
        Some(auth) => match gate.authenticate(auth, request.headers()).await {
            Ok(principal) => Some(principal),
            Err(refusal) => return *refusal,
        },
    };
    let (mut parts, body) = request.into_parts();
    let mut permit = None;
    let body = if parts.method == Method::POST {
        let bytes = match axum::body::to_bytes(body, gate.max_body).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return refusal(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request_too_large",
                    format!(
                        "The request body is larger than {} bytes, the most this server accepts; send a shorter request (raise `{M4_HTTP_MAX_BODY}` on the server if this one is legitimate).",
                        gate.max_body
                    ),
                );
            }
        };
        let probe = serde_json::from_slice::<Probe>(&bytes);
        if let Err(error) = &probe
            && (error.is_syntax() || error.is_eof())
            && is_json(&parts.headers)
        {
            // JSON-RPC's parse error, as HTTP 400 (rmcp would answer 415).
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!(
                    "Parse error: the request body is not valid JSON ({error}); send one JSON-RPC message"
                )}}),
            );
        }
        let tool_call = probe
            .ok()
            .filter(|p| p.method.as_deref() == Some("tools/call"))
            .map(|p| p.params.and_then(|p| p.name).unwrap_or_default());
        if let Some(tool) = tool_call {
            if let (Some(auth), Some(principal)) = (&gate.auth, &principal)
                && let Err(error) = auth.admit(principal)
            {
                gate.audit_refusal(Some(principal), &tool, Outcome::Refused);
                return auth_refusal(&gate, &error, true);
            }
            match Arc::clone(&gate.in_flight).try_acquire_owned() {
                Ok(held) => permit = Some(held),
                Err(_) => {
                    gate.audit_refusal(principal.as_ref(), &tool, Outcome::Busy);
                    let mut response = refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        format!(
                            "m4 is already running {} calls, the most it runs at once (`{M4_HTTP_MAX_IN_FLIGHT}`); retry in {BUSY_RETRY_AFTER_SECS} seconds.",
                            gate.max_in_flight
                        ),
                    );
                    retry_after(&mut response, BUSY_RETRY_AFTER_SECS);
                    return response;
                }
            }
        }
        Body::from(bytes)
    } else {
        body
    };
    if let Some(principal) = principal {
        parts.extensions.insert(Arc::new(principal));
    }
    let request = Request::from_parts(parts, body);
    let started = Instant::now();
    match tokio::time::timeout(gate.timeout, gate.mcp.handle(request)).await {
        Ok(response) => response.map(|body| match permit {
            Some(permit) => Body::new(Held {
                inner: body,
                _permit: permit,
            }),
            None => Body::new(body),
        }),
        // Dropping rmcp's future cancels the call (and its query).
        Err(_) => refusal(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!(
                "The request took longer than {} seconds (`{M4_HTTP_REQUEST_TIMEOUT}`) and was cancelled after {:.0} s; narrow the query (filter, aggregate, LIMIT) and retry.",
                gate.timeout.as_secs(),
                started.elapsed().as_secs_f64()
            ),
        ),
    }
}

impl Gate {
    /// The audit line of a tool call turned away before it ran.
    fn audit_refusal(&self, principal: Option<&Principal>, tool: &str, outcome: Outcome) {
        if let Some(audit) = &self.server.state.audit {
            audit.record(&Record {
                sub: principal.map(|p| p.subject.as_str()),
                client_id: principal.and_then(|p| p.client_id.as_deref()),
                tool,
                dataset: None,
                sql: None,
                rows: None,
                bytes: None,
                duration_ms: 0.0,
                outcome,
            });
        }
    }

    fn check_host_and_origin(&self, headers: &HeaderMap) -> Result<(), Box<Response>> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !host_allowed(host, &self.allowed_hosts) {
            return Err(Box::new(refusal(
                StatusCode::FORBIDDEN,
                "host_not_allowed",
                format!(
                    "This server does not answer to the host name `{}`; connect with {}/mcp (on the server, `{M4_HTTP_ALLOWED_HOSTS}` adds host names).",
                    printable(host),
                    self.public_url
                ),
            )));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !origin_allowed(origin, &self.allowed_origins, self.loopback) {
                return Err(Box::new(refusal(
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    format!(
                        "Requests from the web page `{}` are not accepted (on the server, `{M4_HTTP_ALLOWED_ORIGINS}` lists the origins that are).",
                        printable(origin)
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Validates the request's bearer token (not counted against the rate limit).
    async fn authenticate(
        &self,
        auth: &Arc<Authenticator>,
        headers: &HeaderMap,
    ) -> Result<Principal, Box<Response>> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(Box::new(auth_refusal(
                self,
                &AuthError::MissingToken,
                false,
            )));
        };
        let bearer = match value.to_str() {
            Ok(v)
                if v.trim()
                    .get(..6)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bearer")) =>
            {
                v.to_string()
            }
            // Another scheme (`Basic ...`) carries no bearer token at all.
            _ => {
                return Err(Box::new(auth_refusal(
                    self,
                    &AuthError::MissingToken,
                    false,
                )));
            }
        };
        let auth = Arc::clone(auth);
        // Validation may fetch the provider's keys (blocking HTTP): off the async threads.
        match tokio::task::spawn_blocking(move || auth.verify(&bearer)).await {
            Ok(Ok(principal)) => Ok(principal),
            Ok(Err(error)) => Err(Box::new(auth_refusal(self, &error, true))),
            Err(join) => Err(Box::new(refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!("m4 could not check the token: {join}"),
            ))),
        }
    }
}

/// The refusal for `error`: `401`, `403`, `429` or `503`, with the challenge that
/// names the metadata and the scopes. `sent`: whether the request carried a token.
fn auth_refusal(gate: &Gate, error: &AuthError, sent: bool) -> Response {
    let scopes = gate.scopes.join(" ");
    let metadata = format!("{}{METADATA_PATH}", gate.public_url);
    let message = error.to_string();
    let (status, code, hint) = match error {
        AuthError::MissingToken => (
            StatusCode::UNAUTHORIZED,
            None,
            format!(
                "This m4 server needs an OAuth2 access token: send `Authorization: Bearer <token>`. An MCP client that supports MCP authorization signs you in by itself (it reads {metadata}); otherwise get a token for the audience `{}` with the scope `{scopes}` from your provider.",
                gate.public_url
            ),
        ),
        AuthError::MissingScopes { .. } => (
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            format!(
                "{message}. Ask your provider's administrator to grant `{scopes}` to your account or client, then sign in again."
            ),
        ),
        AuthError::RateLimited {
            retry_after_secs, ..
        } => {
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "{message}. The limit is per user; wait and retry, or ask the server's operator to raise `M4_OAUTH2_RATE_LIMIT_REQUESTS`."
                ),
            );
            retry_after(&mut response, *retry_after_secs);
            return response;
        }
        AuthError::KeysUnavailable { .. } | AuthError::Discovery { .. } => {
            tracing::error!(reason = %message, "OAuth2 keys unavailable; answering 503");
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "m4 cannot reach the identity provider to check tokens right now; retry later (the server's log says why).".into(),
            );
            retry_after(&mut response, KEYS_RETRY_AFTER_SECS);
            return response;
        }
        AuthError::NotStarted | AuthError::Config(_) | AuthError::NotSet { .. } => {
            tracing::error!(reason = %message, "OAuth2 is not ready");
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "m4's OAuth2 set-up is incomplete; the server's log says why.".into(),
            );
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            format!(
                "{message}. Sign in again (your MCP client does it when it reconnects), or get a new token for the audience `{}` with the scope `{scopes}`.",
                gate.public_url
            ),
        ),
    };
    let mut challenge = format!("Bearer resource_metadata=\"{metadata}\", scope=\"{scopes}\"");
    if let Some(code) = code.filter(|_| sent) {
        challenge.push_str(&format!(
            ", error=\"{code}\", error_description=\"{}\"",
            quoted_string(&message)
        ));
    }
    let mut response = refusal(status, code.unwrap_or("unauthorized"), hint);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON error body: `{"error": code, "error_description": what to do}`.
fn refusal(status: StatusCode, code: &str, description: String) -> Response {
    json_response(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

fn retry_after(response: &mut Response, secs: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn text_response(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `text` as the inside of an HTTP quoted-string: printable ASCII, no `"` or `\`.
fn quoted_string(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

/// A header value as it may appear in a message: short and printable.
fn printable(text: &str) -> String {
    let cleaned = quoted_string(text);
    match cleaned.char_indices().nth(100) {
        Some((cut, _)) => format!("{}...", &cleaned[..cut]),
        None => cleaned,
    }
}

/// Whether `host` (a `Host` header: `name`, `name:port`, `[v6]:port`) is allowed.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    let name = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host.as_str(), |(name, _)| name)
            .trim_start_matches('[')
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host.as_str(),
        }
    };
    allowed
        .iter()
        .any(|entry| entry == &host || entry.trim_start_matches('[').trim_end_matches(']') == name)
}

/// Whether a browser `Origin` is allowed: listed, or a loopback page while m4 listens
/// on loopback (local tools such as the MCP Inspector's web page).
fn origin_allowed(origin: &str, allowed: &[String], loopback: bool) -> bool {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if allowed.iter().any(|entry| entry == &origin) {
        return true;
    }
    loopback
        && url::Url::parse(&origin).is_ok_and(|url| {
            url.scheme() == "http"
                && url.host().is_some_and(|host| match host {
                    url::Host::Domain(name) => name == "localhost",
                    url::Host::Ipv4(ip) => ip.is_loopback(),
                    url::Host::Ipv6(ip) => ip.is_loopback(),
                })
        })
}

/// A response body that keeps a call slot taken until it has been sent or dropped.
struct Held<B> {
    inner: B,
    _permit: OwnedSemaphorePermit,
}

impl<B> http_body::Body for Held<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hosts_match_by_name_or_name_and_port() {
        let allowed = list(&[
            "localhost",
            "127.0.0.1",
            "::1",
            "m4.example.org",
            "10.0.0.5:8000",
        ]);
        for ok in [
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "M4.example.org",
            "m4.example.org:443",
            "10.0.0.5:8000",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8000",
            "10.0.0.5:9000",
            "",
            "m4.example.org.evil",
        ] {
            assert!(!host_allowed(refused, &allowed), "{refused}");
        }
    }

    #[test]
    fn origins_are_listed_or_loopback_pages_on_a_loopback_server() {
        let allowed = list(&["https://m4.example.org"]);
        assert!(origin_allowed("https://m4.example.org", &allowed, false));
        assert!(!origin_allowed("https://evil.example", &allowed, false));
        assert!(!origin_allowed("http://localhost:6274", &allowed, false));
        assert!(origin_allowed("http://localhost:6274", &allowed, true));
        assert!(origin_allowed("http://127.0.0.1:3000", &allowed, true));
        assert!(!origin_allowed(
            "http://localhost.evil.example",
            &allowed,
            true
        ));
        assert!(!origin_allowed("null", &allowed, true));
    }

    #[test]
    fn header_text_is_printable_and_unquoted() {
        assert_eq!(quoted_string("a \"b\" \\ c\n"), "a 'b' ' c?");
        assert_eq!(printable(&"x".repeat(300)).len(), 103);
    }
}
