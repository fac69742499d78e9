//! `m4 auth login --browser`: the Authorization Code grant for a public client with
//! PKCE (RFC 7636, `S256`) and a loopback redirect (RFC 8252 §7.3), for providers
//! without the device flow or researchers who prefer their browser.
//!
//! Owns this flow's protocol steps: the code verifier and challenge, the random
//! `state`, the authorization URL, the one-shot listener on `127.0.0.1` (an
//! ephemeral port; `http://127.0.0.1:PORT/callback` is the redirect URI, which RFC
//! 8252 §7.3 has providers accept on any port), checking what the browser brings
//! back (`state`, the RFC 9207 `iss` when present, `error`), and exchanging the
//! code with the verifier at the token endpoint. It answers the browser with a
//! short fixed page and serves nothing else (std's `TcpListener`, one request
//! taken, others answered 404); the wait is bounded. It does not store or validate
//! tokens ([`login::sign_in`](super::login::sign_in) does, as for the device flow).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use url::Url;

use super::config::Secret;
use super::discovery::audience_parameters;
use super::login::{LoginError, Tokens, post_form, tokens};

/// How long `m4 auth login --browser` waits for the browser by default, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 300;
/// The path of the redirect URI on the loopback listener.
pub const CALLBACK_PATH: &str = "/callback";
/// The most a browser's request to the listener may be (request line and headers).
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request (a browser's idle
/// pre-connection must not hold the listener).
const READ_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the listener looks for a connection while it waits.
const POLL: Duration = Duration::from_millis(50);

/// A PKCE pair (RFC 7636 §4.1-4.2): the verifier stays here until the token
/// request; the challenge travels in the authorization URL.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`, the `S256` method.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair: 32 random bytes, base64url-encoded (43 characters, §4.1).
    pub fn new() -> Pkce {
        Pkce::from_verifier(random_token())
    }

    /// The pair for a given verifier (tests use RFC 7636 Appendix B's).
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// 32 bytes from the thread's CSPRNG, base64url without padding: a code verifier or
/// a `state` nobody can guess.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The URL the researcher opens: `endpoint` with the authorization request for the
/// public client `client_id` (RFC 6749 §4.1.1, RFC 7636 §4.3), `scope`, and the
/// `audience` (as RFC 8707 `resource` and as Auth0's `audience`).
pub fn authorization_url(
    endpoint: &Url,
    client_id: &str,
    redirect_uri: &Url,
    scope: &str,
    audience: &str,
    state: &str,
    pkce: &Pkce,
) -> Url {
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    for name in audience_parameters(endpoint) {
        url.query_pairs_mut().append_pair(name, audience);
    }
    url
}

/// Exchanges the authorization `code` at `token_endpoint` as the public client
/// `client_id` (no secret), proving with the PKCE `verifier` that this is the
/// process that asked (RFC 7636 §4.5).
pub fn exchange_code(
    agent: &ureq::Agent,
    token_endpoint: &Url,
    client_id: &str,
    code: &Secret,
    redirect_uri: &Url,
    verifier: &Secret,
    audience: &str,
) -> Result<Tokens, LoginError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", client_id),
        ("code_verifier", verifier.expose()),
    ];
    form.extend(
        audience_parameters(token_endpoint)
            .iter()
            .map(|name| (*name, audience)),
    );
    match post_form(agent, token_endpoint, &form)? {
        Ok(body) => tokens(token_endpoint, &body),
        Err((error, description)) => Err(LoginError::Refused {
            endpoint: token_endpoint.to_string(),
            error,
            description,
        }),
    }
}

/// The listener the browser is redirected to: `127.0.0.1` on a port the system
/// chooses. Dropping it closes the port.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: Url,
}

/// What one connection to the listener was.
enum Visit {
    /// The redirect, with its query.
    Callback(Vec<(String, String)>),
    /// Anything else (a favicon, a pre-connection that sent nothing): answered, ignored.
    Other,
}

impl Loopback {
    /// Listens on `127.0.0.1:0` (IPv4 loopback, RFC 8252 §7.3 and §8.3).
    pub fn bind() -> Result<Loopback, LoginError> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| LoginError::Listen(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| LoginError::Listen(e.to_string()))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}{CALLBACK_PATH}"))
            .map_err(|e| LoginError::Listen(e.to_string()))?;
        Ok(Loopback {
            listener,
            redirect_uri,
        })
    }

    /// `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits up to `wait` for the browser's redirect and returns the authorization
    /// code. Refuses an answer whose `state` is not `state` (RFC 6749 §10.12: it was
    /// not started by this sign-in), or whose `iss` is not `issuer` (RFC 9207), and
    /// turns the provider's `error` into its message. The browser gets a short page
    /// either way.
    pub fn wait_for_code(
        &self,
        state: &str,
        issuer: &str,
        wait: Duration,
    ) -> Result<Secret, LoginError> {
        let deadline = Instant::now() + wait;
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted =>
                {
                    if Instant::now() >= deadline {
                        return Err(LoginError::TimedOut(wait.as_secs().max(1)));
                    }
                    std::thread::sleep(POLL);
                    continue;
                }
                Err(e) => return Err(LoginError::Listen(e.to_string())),
            };
            let mut stream = stream;
            match read_visit(&mut stream) {
                Visit::Other => {
                    respond(&mut stream, "404 Not Found", NOT_HERE_PAGE);
                }
                Visit::Callback(query) => {
                    let outcome = judge(&query, state, issuer);
                    let page = if outcome.is_ok() {
                        DONE_PAGE
                    } else {
                        FAILED_PAGE
                    };
                    respond(&mut stream, "200 OK", page);
                    return outcome;
                }
            }
        }
    }
}

/// What the redirect's query says: the code, or why there is none.
fn judge(query: &[(String, String)], state: &str, issuer: &str) -> Result<Secret, LoginError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // Checked first, error answers included: an answer that is not for this sign-in
    // is not acted on at all.
    if get("state") != Some(state) {
        return Err(LoginError::WrongState);
    }
    if let Some(iss) = get("iss")
        && iss != issuer
    {
        return Err(LoginError::WrongIssuer {
            expected: issuer.to_string(),
            got: super::validate::sanitize_long(iss),
        });
    }
    if let Some(error) = get("error") {
        if error == "access_denied" {
            return Err(LoginError::Denied);
        }
        return Err(LoginError::Refused {
            endpoint: "the authorization endpoint".into(),
            error: super::validate::sanitize(error),
            description: get("error_description")
                .map(|d| format!(": {}", super::validate::sanitize_long(d)))
                .unwrap_or_default(),
        });
    }
    match get("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code)),
        _ => Err(LoginError::NoCode),
    }
}

/// Reads one request (bounded in size and time) and says what it was.
fn read_visit(stream: &mut TcpStream) -> Visit {
    // Accepted sockets may inherit the listener's non-blocking mode on some systems.
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(READ_TIMEOUT)).is_err()
    {
        return Visit::Other;
    }
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST_BYTES {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let mut parts = text.lines().next().unwrap_or_default().split(' ');
    let (Some("GET"), Some(target)) = (parts.next(), parts.next()) else {
        return Visit::Other;
    };
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(target)) else {
        return Visit::Other;
    };
    if url.path() != CALLBACK_PATH {
        return Visit::Other;
    }
    Visit::Callback(url.query_pairs().into_owned().collect())
}

fn respond(stream: &mut TcpStream, status: &str, page: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.flush();
}

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>m4: signed in</title></head><body><h1>m4: sign-in received</h1><p>You may close this tab and return to the terminal.</p></body></html>";
const FAILED_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>m4: sign-in failed</title></head><body><h1>m4: the sign-in did not complete</h1><p>The terminal says why and what to do. You may close this tab.</p></body></html>";
const NOT_HERE_PAGE: &str = "<!doctype html><html><body><p>Not found.</p></body></html>";

/// Tries to open `url` in the researcher's browser; `false` when no opener could be
/// started. Best effort: the URL is printed anyway, and the opener is not waited for.
pub fn open_browser(url: &Url) -> bool {
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        // `rundll32 url.dll,FileProtocolHandler` takes the URL as one argument;
        // `cmd /c start` would split it at every `&`.
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        Command::new("xdg-open")
    };
    let child = command
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => {
            // Reaped in the background: it may outlive the sign-in (a new browser).
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;
    use crate::auth::discovery::http_agent;
    use crate::auth::login::tests::provider;

    const ISSUER: &str = "https://idp.example";

    /// GETs `path` from the listener; the status line and body.
    fn visit(redirect_uri: &Url, path: &str) -> String {
        let port = redirect_uri.port().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Runs `wait_for_code` while `paths` are visited in turn; the outcome and the
    /// last answer the browser got.
    fn callback(paths: &[&str], wait: Duration) -> (Result<Secret, LoginError>, String) {
        let loopback = Loopback::bind().unwrap();
        let uri = loopback.redirect_uri().clone();
        let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        let browser = std::thread::spawn(move || {
            let mut last = String::new();
            for path in paths {
                last = visit(&uri, &path);
            }
            last
        });
        let outcome = loopback.wait_for_code("s-1", ISSUER, wait);
        (outcome, browser.join().unwrap())
    }

    #[test]
    fn the_challenge_is_s256_of_the_verifier() {
        // RFC 7636 Appendix B.
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (a, b) = (Pkce::new(), Pkce::new());
        assert_eq!(a.verifier.expose().len(), 43, "32 bytes, base64url (§4.1)");
        assert!(
            a.verifier
                .expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a.verifier.expose(), b.verifier.expose());
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn the_listener_is_on_ipv4_loopback_with_the_callback_path() {
        let loopback = Loopback::bind().unwrap();
        let uri = loopback.redirect_uri();
        assert_eq!(uri.scheme(), "http");
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        assert_ne!(uri.port(), None);
        assert_eq!(uri.path(), CALLBACK_PATH);
    }

    #[test]
    fn the_authorization_url_carries_the_pkce_challenge_state_and_redirect() {
        let endpoint = Url::parse("https://idp.example/authorize?tenant=x").unwrap();
        let redirect = Url::parse("http://127.0.0.1:5555/callback").unwrap();
        let pkce = Pkce::new();
        let url = authorization_url(
            &endpoint,
            "m4-cli",
            &redirect,
            "read:mimic-data offline_access openid",
            "https://m4.example/api",
            "s-1",
            &pkce,
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("tenant"), Some("x"), "the endpoint's own query is kept");
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("m4-cli"));
        assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:5555/callback"));
        assert_eq!(get("state"), Some("s-1"));
        assert_eq!(get("code_challenge"), Some(pkce.challenge.as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("scope"), Some("read:mimic-data offline_access openid"));
        assert_eq!(get("resource"), Some("https://m4.example/api"));
        assert!(
            !url.as_str().contains(pkce.verifier.expose()),
            "the verifier never leaves m4 before the token request"
        );
    }

    #[test]
    fn the_redirect_yields_the_code_after_other_requests_are_turned_away() {
        let (outcome, page) = callback(
            &[
                "/favicon.ico",
                "/callback?code=c-1&state=s-1&iss=https%3A%2F%2Fidp.example",
            ],
            Duration::from_secs(20),
        );
        assert_eq!(outcome.unwrap().expose(), "c-1");
        assert!(
            page.starts_with("HTTP/1.1 200") && page.contains("You may close this tab"),
            "{page}"
        );
    }

    #[test]
    fn a_wrong_or_missing_state_is_refused_even_with_a_code() {
        for path in ["/callback?code=c-1&state=other", "/callback?code=c-1"] {
            let (outcome, page) = callback(&[path], Duration::from_secs(20));
            let text = outcome.unwrap_err().to_string();
            assert!(
                text.contains("`state`") && text.contains("m4 auth login --browser"),
                "{text}"
            );
            assert!(page.contains("did not complete"), "{page}");
        }
    }

    #[test]
    fn a_declined_sign_in_and_other_provider_errors_are_named() {
        let (outcome, _) = callback(
            &["/callback?error=access_denied&state=s-1"],
            Duration::from_secs(20),
        );
        let text = outcome.unwrap_err().to_string();
        assert!(text.contains("declined"), "{text}");
        let (outcome, _) = callback(
            &["/callback?error=invalid_scope&error_description=no+such+scope&state=s-1"],
            Duration::from_secs(20),
        );
        let text = outcome.unwrap_err().to_string();
        assert!(
            text.contains("`invalid_scope`") && text.contains("no such scope"),
            "{text}"
        );
        let (outcome, _) = callback(
            &["/callback?code=c-1&state=s-1&iss=https%3A%2F%2Fevil.example"],
            Duration::from_secs(20),
        );
        let text = outcome.unwrap_err().to_string();
        assert!(text.contains("https://evil.example"), "{text}");
        let (outcome, _) = callback(&["/callback?state=s-1"], Duration::from_secs(20));
        assert!(matches!(outcome, Err(LoginError::NoCode)));
    }

    #[test]
    fn no_browser_within_the_wait_is_a_timeout_that_says_so() {
        let loopback = Loopback::bind().unwrap();
        let started = Instant::now();
        let text = loopback
            .wait_for_code("s-1", ISSUER, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            text.contains("within 1 s") && text.contains("--timeout"),
            "{text}"
        );
    }

    #[test]
    fn garbage_on_the_port_does_not_end_or_hang_the_wait() {
        let loopback = Loopback::bind().unwrap();
        let uri = loopback.redirect_uri().clone();
        let browser = std::thread::spawn(move || {
            let port = uri.port().unwrap();
            let mut junk = TcpStream::connect(("127.0.0.1", port)).unwrap();
            junk.write_all(&[0xff; 300]).unwrap();
            junk.write_all(b"\r\n\r\n").unwrap();
            drop(junk);
            visit(&uri, "/callback?code=c-2&state=s-1")
        });
        let code = loopback
            .wait_for_code("s-1", ISSUER, Duration::from_secs(20))
            .unwrap();
        assert_eq!(code.expose(), "c-2");
        browser.join().unwrap();
    }

    #[test]
    fn the_code_is_exchanged_with_the_verifier_and_no_secret() {
        let (url, seen) = provider(vec![(
            200,
            r#"{"access_token": "a.b.c", "refresh_token": "r-1", "expires_in": 600}"#.into(),
        )]);
        let redirect = Url::parse("http://127.0.0.1:5555/callback").unwrap();
        let tokens = exchange_code(
            &http_agent(),
            &url,
            "m4-cli",
            &Secret::new("c-1"),
            &redirect,
            &Secret::new("v-1"),
            "https://m4.example/api",
        )
        .unwrap();
        assert_eq!(tokens.refresh_token.unwrap().expose(), "r-1");
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.contains("grant_type=authorization_code")
                && request.contains("code=c-1")
                && request.contains("code_verifier=v-1")
                && request.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback")
                && request.contains("client_id=m4-cli")
                && !request.contains("client_secret"),
            "{request}"
        );
    }

    #[test]
    fn a_refused_exchange_names_the_error() {
        let (url, _) = provider(vec![(
            400,
            r#"{"error": "invalid_grant", "error_description": "PKCE verification failed"}"#.into(),
        )]);
        let redirect = Url::parse("http://127.0.0.1:5555/callback").unwrap();
        let text = exchange_code(
            &http_agent(),
            &url,
            "m4-cli",
            &Secret::new("c-1"),
            &redirect,
            &Secret::new("v-1"),
            "a",
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("`invalid_grant`") && text.contains("PKCE verification failed"),
            "{text}"
        );
    }
}
