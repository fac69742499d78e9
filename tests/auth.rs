//! OAuth2 against a real OpenID provider: `oidc-provider` (tests/oidc/provider.mjs)
//! on 127.0.0.1 issues JWT access tokens with the client-credentials grant; `m4 serve`
//! and `m4 auth check` run with the `M4_OAUTH2_*` variables a user would set.
//!
//! Needs Node and `npm ci --prefix tests/oidc` (`.ci/run` does it); without them these
//! tests fail with that instruction rather than skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::{self, McpChild, is_tool_error, tool_text};

const AUDIENCE: &str = "https://m4.example/api";

/// A running `oidc-provider`, stopped on drop (also used by tests/http.rs).
pub(crate) struct Provider {
    child: Option<Child>,
    pub(crate) issuer: String,
    port: u16,
}

impl Provider {
    /// Starts on a free port with fixture keys `keys` (comma-separated names).
    pub(crate) fn start(keys: &str) -> Provider {
        Provider::start_on(0, keys)
    }

    /// Starts on a free port with the device flow turned off: a provider that offers
    /// the browser sign-in only.
    fn start_without_device_flow(keys: &str) -> Provider {
        Provider::spawn(0, keys, &["--no-device-flow"])
    }

    fn start_on(port: u16, keys: &str) -> Provider {
        Provider::spawn(port, keys, &[])
    }

    fn spawn(port: u16, keys: &str, extra: &[&str]) -> Provider {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let oidc = root.join("tests/oidc");
        assert!(
            oidc.join("node_modules/oidc-provider").is_dir(),
            "the OpenID provider for the auth tests is not installed: run `npm ci --prefix tests/oidc`"
        );
        let mut child = Command::new("node")
            .arg(oidc.join("provider.mjs"))
            .args(["--port", &port.to_string(), "--keys", keys])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not run `node` for the OpenID provider ({e}); install Node.js")
            });
        let stdout = child.stdout.take().expect("provider stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let issuer = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the OpenID provider did not start within 20 s");
            if let Some(issuer) = line.strip_prefix("listening ") {
                break issuer.trim().to_string();
            }
        };
        let port = issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in issuer");
        Provider {
            child: Some(child),
            issuer,
            port,
        }
    }

    /// Stops the provider (as an outage would).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts on the same port with other keys: a key rotation.
    fn rotate(&mut self, keys: &str) {
        self.stop();
        let mut last = None;
        // The old socket may linger for a moment after the process exits.
        for _ in 0..20 {
            match std::panic::catch_unwind(|| Provider::start_on(self.port, keys)) {
                Ok(mut next) => {
                    self.child = next.child.take();
                    return;
                }
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
        std::panic::resume_unwind(last.expect("at least one attempt"));
    }

    /// An access token for `client` (secret `<client>-secret`) and `resource`.
    pub(crate) fn token(&self, client: &str, scope: &str, resource: &str) -> String {
        let mut response = ureq::post(format!("{}/token", self.issuer))
            .header(
                "Authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{client}:{client}-secret"))
                ),
            )
            .send_form([
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("resource", resource),
            ])
            .unwrap_or_else(|e| panic!("token request for {client} failed: {e}"));
        let body: Value = response
            .body_mut()
            .read_json()
            .expect("token response JSON");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// The variables a user sets for this provider.
    fn env<'a>(&'a self, token: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("M4_OAUTH2_ENABLED", "true"),
            ("M4_OAUTH2_ISSUER_URL", self.issuer.as_str()),
            ("M4_OAUTH2_AUDIENCE", AUDIENCE),
            ("M4_OAUTH2_TOKEN", token),
        ]
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn assert_tools_work(server: &mut McpChild) {
    let listed = server.call_tool("list_datasets", json!({}));
    assert!(
        !is_tool_error(&listed),
        "list_datasets refused: {listed}\n{}",
        server.stderr()
    );
    let result = server.call_tool("execute_query", json!({"sql_query": "select 1"}));
    assert!(
        !is_tool_error(&result),
        "execute_query refused: {result}\n{}",
        server.stderr()
    );
}

/// Runs `m4 serve` expecting it to refuse to start; returns its stderr.
fn failed_start(envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, _out, err) = common::run_m4(dir.path(), &["serve"], envs);
    assert!(!ok, "m4 serve started although it should not have:\n{err}");
    err
}

/// The one stderr line carrying the error.
fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no `error:` line on stderr:\n{stderr}"))
}

fn data() -> &'static Path {
    common::synthetic_data_dir()
}

#[test]
fn valid_rs256_and_es256_tokens_let_tools_work() {
    // Built before any token: creating the data set must not eat a short token's lifetime.
    let data = data();
    let provider = Provider::start("rsa-a,ec-a");
    for (client, alg) in [("m4-rs256", "RS256"), ("m4-es256", "ES256")] {
        let token = provider.token(client, "read:mimic-data", AUDIENCE);
        assert_eq!(decode_part(&token, 0)["alg"], alg);
        let mut server = McpChild::spawn(data, &provider.env(&token));
        server.initialize();
        assert_tools_work(&mut server);
        assert!(
            !server.stderr().contains(&token),
            "the token leaked into the log"
        );
    }
}

#[test]
fn a_token_expiring_during_the_session_is_refused() {
    // Built before any token: creating the data set must not eat a short token's lifetime.
    let data = data();
    let provider = Provider::start("rsa-a");
    let token = provider.token("m4-short", "read:mimic-data", AUDIENCE);
    let exp = decode_part(&token, 1)["exp"].as_u64().expect("exp");
    let mut envs = provider.env(&token);
    envs.push(("M4_OAUTH2_LEEWAY", "0"));
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    let before = server.call_tool("list_datasets", json!({}));
    assert!(
        unix_now() < exp,
        "the short token expired before the first call; the machine is too slow"
    );
    assert!(!is_tool_error(&before), "{before}");
    while unix_now() <= exp {
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = server.call_tool("execute_query", json!({"sql_query": "select 1"}));
    assert!(
        is_tool_error(&after),
        "an expired token was accepted: {after}"
    );
    assert_eq!(tool_text(&after), "Token has expired");
    // No tool runs unchecked, data-set listing included.
    let listed = server.call_tool("list_datasets", json!({}));
    assert!(
        is_tool_error(&listed),
        "list_datasets ran with an expired token: {listed}"
    );
    assert_eq!(tool_text(&listed), "Token has expired");
}

#[test]
fn the_rate_limit_refuses_extra_calls_and_says_when_to_retry() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let token = provider.token("m4-rs256", "read:mimic-data", AUDIENCE);
    let mut envs = provider.env(&token);
    envs.push(("M4_OAUTH2_RATE_LIMIT_REQUESTS", "2"));
    envs.push(("M4_OAUTH2_RATE_LIMIT_WINDOW", "600"));
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    assert_tools_work(&mut server);
    let refused = server.call_tool("list_datasets", json!({}));
    assert!(
        is_tool_error(&refused),
        "a third call passed a limit of 2: {refused}"
    );
    let text = tool_text(&refused);
    assert!(
        text.starts_with("Rate limit exceeded: 2 calls per 600 seconds; retry in "),
        "{text}"
    );
}

#[test]
fn a_bad_setting_stops_the_start_naming_the_variable() {
    let stderr = failed_start(&[("M4_OAUTH2_ENABLED", "maybe")]);
    assert!(stderr.contains("`M4_OAUTH2_ENABLED`"), "{stderr}");
    let stderr = failed_start(&[("M4_OAUTH2_ENABLED", "yes")]);
    assert!(
        stderr.contains("`M4_OAUTH2_ISSUER_URL` is not set"),
        "{stderr}"
    );
}

#[test]
fn a_token_for_another_audience_stops_the_start_with_both_values() {
    let provider = Provider::start("rsa-a");
    let token = provider.token("m4-rs256", "read:mimic-data", "https://other.example/api");
    let stderr = failed_start(&provider.env(&token));
    let line = error_line(&stderr);
    assert!(line.contains("Token audience mismatch"), "{line}");
    assert!(
        line.contains(&format!("`{AUDIENCE}`")) && line.contains("`https://other.example/api`"),
        "{line}"
    );
    assert!(!stderr.contains(&token), "the token leaked into stderr");
}

#[test]
fn a_token_without_the_required_scope_stops_the_start() {
    let provider = Provider::start("rsa-a");
    let token = provider.token("m4-noscope", "other:scope", AUDIENCE);
    let stderr = failed_start(&provider.env(&token));
    let line = error_line(&stderr);
    assert!(
        line.contains("Missing required scopes: read:mimic-data"),
        "{line}"
    );
}

#[test]
fn an_opaque_token_is_not_a_jwt() {
    let provider = Provider::start("rsa-a");
    let stderr = failed_start(&provider.env("Bearer not-a-jwt-at-all"));
    assert!(
        error_line(&stderr).contains("Token is not a valid JWT format"),
        "{stderr}"
    );
}

#[test]
fn provider_down_at_start_up_stops_m4_with_one_clear_line() {
    let mut provider = Provider::start("rsa-a");
    let token = provider.token("m4-rs256", "read:mimic-data", AUDIENCE);
    provider.stop();
    let started = std::time::Instant::now();
    let stderr = failed_start(&provider.env(&token));
    let line = error_line(&stderr);
    assert!(
        line.contains("OpenID discovery at") && line.contains(&provider.issuer),
        "{line}"
    );
    assert!(
        line.contains("M4_OAUTH2_ISSUER_URL"),
        "the line should say what to fix: {line}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "start-up should fail fast"
    );
}

#[test]
fn provider_down_later_cached_keys_still_work() {
    // Built before any token: creating the data set must not eat a short token's lifetime.
    let data = data();
    let mut provider = Provider::start("rsa-a,ec-a");
    let token = provider.token("m4-rs256", "read:mimic-data", AUDIENCE);
    let mut server = McpChild::spawn(data, &provider.env(&token));
    server.initialize();
    provider.stop();
    assert_tools_work(&mut server);
}

#[test]
fn key_rotation_with_client_credentials_renewal_keeps_the_session_alive() {
    // Built before any token: creating the data set must not eat a short token's lifetime.
    let data = data();
    let mut provider = Provider::start("rsa-a");
    let envs = vec![
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", provider.issuer.as_str()),
        ("M4_OAUTH2_AUDIENCE", AUDIENCE),
        ("M4_OAUTH2_CLIENT_ID", "m4-short"),
        ("M4_OAUTH2_CLIENT_SECRET", "m4-short-secret"),
    ];
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    assert_tools_work(&mut server);
    // The provider rotates to a new key; tokens issued from now on carry its kid.
    provider.rotate("rsa-b,ec-b");
    let rotated = provider.token("m4-short", "read:mimic-data", AUDIENCE);
    assert_eq!(decode_part(&rotated, 0)["kid"], "rsa-b");
    // Past the renewal point of m4's 4-second token: m4 fetches a new one (signed with
    // the new key), meets an unknown kid, refetches the key set, and carries on.
    std::thread::sleep(Duration::from_secs(3));
    assert_tools_work(&mut server);
    std::thread::sleep(Duration::from_secs(3));
    assert_tools_work(&mut server);
    let log = server.stderr();
    assert!(
        log.contains("key rotation") && log.contains("found=true"),
        "no key-set refetch logged:\n{log}"
    );
    assert!(
        log.matches("obtained an OAuth2 access token").count() >= 3,
        "no renewal logged:\n{log}"
    );
    assert!(!log.contains("m4-short-secret"), "the client secret leaked");
}

#[test]
fn auth_check_prints_configuration_reachability_and_claims() {
    let provider = Provider::start("rsa-a,ec-a");
    let token = provider.token("m4-es256", "read:mimic-data", AUDIENCE);
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out, err) = common::run_m4(dir.path(), &["auth", "check"], &provider.env(&token));
    assert!(ok, "auth check failed:\n{out}\n{err}");
    for expected in [
        provider.issuer.as_str(),
        "discovery",
        "key set",
        "rsa-a (RS256)",
        "ec-a (ES256)",
        "\"alg\": \"ES256\"",
        "\"sub\": \"m4-es256\"",
        "All OAuth2 checks passed.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let signature = token.rsplit('.').next().expect("signature");
    assert!(
        !out.contains(signature) && !out.contains(&token),
        "the token was printed"
    );

    let other = provider.token("m4-rs256", "read:mimic-data", "https://other.example/api");
    let (ok, out, _) = common::run_m4(dir.path(), &["auth", "check"], &provider.env(&other));
    assert!(
        !ok,
        "auth check passed a token for another audience:\n{out}"
    );
    let aud = out
        .lines()
        .find(|l| l.trim_start().starts_with("aud "))
        .unwrap_or_default();
    assert!(
        aud.contains("FAIL") && aud.contains("audience mismatch"),
        "{out}"
    );
}

/// A token shaped as `shape` (tests/fixtures/auth/providers) for this provider's
/// issuer and m4's audience, signed with the provider's own key `rsa-a`, so that
/// discovery and the key set m4 fetches are the real ones.
fn provider_shaped(provider: &Provider, shape: &str) -> String {
    m4::auth::testkeys::mint_provider(shape, &provider.issuer, AUDIENCE, unix_now(), "rsa-a")
}

#[test]
fn tokens_shaped_as_each_provider_issues_them_let_tools_work() {
    let data = data();
    let provider = Provider::start("rsa-a,ec-a");
    for shape in m4::auth::testkeys::PROVIDER_SHAPES {
        let token = provider_shaped(&provider, shape);
        let mut server = McpChild::spawn(data, &provider.env(&token));
        server.initialize();
        let result = server.call_tool("execute_query", json!({"sql_query": "select 1"}));
        assert!(
            !is_tool_error(&result),
            "{shape} refused: {result}\n{}",
            server.stderr()
        );
        assert!(
            !server.stderr().contains(&token),
            "{shape}: the token leaked into the log"
        );
    }
}

#[test]
fn auth_check_passes_every_provider_shape() {
    let provider = Provider::start("rsa-a");
    let dir = tempfile::tempdir().expect("tempdir");
    for shape in m4::auth::testkeys::PROVIDER_SHAPES {
        let token = provider_shaped(&provider, shape);
        let (ok, out, err) = common::run_m4(dir.path(), &["auth", "check"], &provider.env(&token));
        assert!(ok, "{shape}: auth check failed:\n{out}\n{err}");
    }
}

#[test]
fn an_id_token_stops_the_start_saying_what_to_request() {
    let provider = Provider::start("rsa-a");
    let token = provider_shaped(&provider, "oidc-id-token");
    let line = error_line(&failed_start(&provider.env(&token))).to_string();
    assert!(
        line.contains(&format!(
            "this looks like an ID token; request an access token for audience `{AUDIENCE}`"
        )),
        "{line}"
    );
}

#[test]
fn tokens_of_other_kinds_are_refused_naming_their_type() {
    let provider = Provider::start("rsa-a");
    for typ in ["dpop+jwt", "logout+jwt", "secevent+jwt"] {
        let (mut header, claims) = m4::auth::testkeys::provider_fixture(
            "auth0-default",
            &provider.issuer,
            AUDIENCE,
            unix_now(),
            "rsa-a",
        );
        header["typ"] = json!(typ);
        let token = m4::auth::testkeys::sign(&header, &claims, "rsa-a");
        let line = error_line(&failed_start(&provider.env(&token))).to_string();
        assert!(
            line.contains(&format!("Invalid token header: `typ` is `{typ}`")),
            "{typ}: {line}"
        );
    }
}

#[test]
fn the_strict_profile_accepts_rfc9068_tokens_only() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let mut envs = provider.env("");
    envs.push(("M4_OAUTH2_STRICT_RFC9068", "true"));
    // The local provider issues RFC 9068 tokens, and so does Auth0's RFC 9068 profile.
    for token in [
        provider.token("m4-rs256", "read:mimic-data", AUDIENCE),
        provider_shaped(&provider, "auth0-rfc9068"),
    ] {
        let mut envs = envs.clone();
        envs.retain(|(k, _)| *k != "M4_OAUTH2_TOKEN");
        envs.push(("M4_OAUTH2_TOKEN", &token));
        let mut server = McpChild::spawn(data, &envs);
        server.initialize();
        assert_tools_work(&mut server);
    }
    let okta = provider_shaped(&provider, "okta-custom-as");
    let mut strict = envs.clone();
    strict.retain(|(k, _)| *k != "M4_OAUTH2_TOKEN");
    strict.push(("M4_OAUTH2_TOKEN", &okta));
    let line = error_line(&failed_start(&strict)).to_string();
    assert!(line.contains("M4_OAUTH2_STRICT_RFC9068"), "{line}");
}

#[test]
fn a_plain_http_issuer_on_another_host_stops_the_start() {
    let stderr = failed_start(&[
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", "http://idp.example"),
        ("M4_OAUTH2_AUDIENCE", AUDIENCE),
        ("M4_OAUTH2_TOKEN", "a.b.c"),
    ]);
    assert!(
        stderr.contains("`M4_OAUTH2_ISSUER_URL`") && stderr.contains("https://"),
        "{stderr}"
    );
}

/// A browser without a browser: cookies, redirects and the provider's development
/// sign-in and consent forms, driven over HTTP.
struct Browser {
    agent: ureq::Agent,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            agent: ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .into(),
            cookies: Default::default(),
        }
    }

    fn remember(&mut self, response: &ureq::http::Response<ureq::Body>) -> Option<String> {
        for cookie in response.headers().get_all("set-cookie") {
            let pair = cookie
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// GETs `url`, following redirects; the final page's URL and HTML.
    fn open(&mut self, url: &str) -> (String, String) {
        let mut url = url.to_string();
        for _ in 0..10 {
            let mut response = self
                .agent
                .get(&url)
                .header("Cookie", &self.cookie_header())
                .call()
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            match self.remember(&response) {
                Some(next) if response.status().is_redirection() => {
                    url = url::Url::parse(&url)
                        .unwrap()
                        .join(&next)
                        .unwrap()
                        .to_string();
                }
                _ => {
                    let body = response.body_mut().read_to_string().expect("page");
                    return (url, body);
                }
            }
        }
        panic!("too many redirects from {url}");
    }

    /// POSTs `form` to `url` and follows where it leads.
    fn submit(&mut self, url: &str, form: &[(&str, &str)]) -> (String, String) {
        let response = self
            .agent
            .post(url)
            .header("Cookie", &self.cookie_header())
            .send_form(form.iter().copied())
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let next = self.remember(&response);
        match next {
            Some(next) if response.status().is_redirection() => {
                let target = url::Url::parse(url).unwrap().join(&next).unwrap();
                self.open(target.as_str())
            }
            _ => panic!(
                "POST {url} answered {} without a redirect",
                response.status()
            ),
        }
    }
}

/// What follows the first `needle` up to the next `"` (an attribute's value).
fn html_attr(html: &str, needle: &str) -> String {
    let start = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle} in:\n{html}"))
        + needle.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The `action` of the page's first form.
fn form_action(html: &str) -> String {
    let form = html
        .find("<form")
        .unwrap_or_else(|| panic!("no form in:\n{html}"));
    html_attr(&html[form..], "action=\"")
}

/// Approves the device code at `verification_uri_complete` as user `login`: the
/// code confirmation, the sign-in page and the consent page, as a researcher would.
fn approve_device_code(verification_uri_complete: &str, login: &str) {
    let mut browser = Browser::new();
    let (page_url, page) = browser.open(verification_uri_complete);
    let xsrf = html_attr(&page, "name=\"xsrf\" value=\"");
    let user_code = html_attr(&page, "name=\"user_code\" value=\"");
    let action = url::Url::parse(&page_url)
        .unwrap()
        .join(&form_action(&page))
        .unwrap()
        .to_string();
    let (url, page) = browser.submit(
        &action,
        &[
            ("xsrf", &xsrf),
            ("user_code", &user_code),
            ("confirm", "yes"),
        ],
    );
    sign_in_and_consent(&mut browser, url, page, login, |_, page| {
        page.contains("Sign-in Success")
    });
}

/// Answers the provider's sign-in page (as `login`) and consent page, starting at
/// `url` showing `page`, until `done` says the flow has left them; that URL and page.
fn sign_in_and_consent(
    browser: &mut Browser,
    mut url: String,
    mut page: String,
    login: &str,
    done: impl Fn(&str, &str) -> bool,
) -> (String, String) {
    for _ in 0..4 {
        if done(&url, &page) {
            return (url, page);
        }
        let action = url::Url::parse(&url)
            .unwrap()
            .join(&form_action(&page))
            .unwrap()
            .to_string();
        (url, page) = if page.contains("name=\"prompt\" value=\"login\"") {
            browser.submit(
                &action,
                &[("prompt", "login"), ("login", login), ("password", "x")],
            )
        } else if page.contains("name=\"prompt\" value=\"consent\"") {
            browser.submit(&action, &[("prompt", "consent")])
        } else {
            panic!("unexpected page at {url}:\n{page}");
        };
    }
    panic!("the sign-in did not finish; last page at {url}:\n{page}");
}

#[test]
fn the_device_flow_signs_in_then_refresh_rotates_and_revocation_ends_it() {
    use m4::auth::{discovery, login};
    let provider = Provider::start("rsa-a");
    let agent = discovery::http_agent();
    let found = discovery::discover(&agent, &provider.issuer).expect("discovery");
    let device_endpoint = found
        .device_authorization_endpoint
        .expect("the provider advertises the device flow");
    let code = login::request_device_code(
        &agent,
        &device_endpoint,
        "m4-cli",
        "openid read:mimic-data offline_access",
        AUDIENCE,
    )
    .expect("device code");
    assert!(!code.user_code.is_empty());
    let token_endpoint = found.token_endpoint.clone().expect("token endpoint");
    let polling = {
        let code = code.clone();
        let agent = agent.clone();
        let token_endpoint = token_endpoint.clone();
        std::thread::spawn(move || {
            login::poll_for_tokens(
                &agent,
                &token_endpoint,
                "m4-cli",
                &code,
                &mut std::thread::sleep,
                &std::time::Instant::now,
            )
        })
    };
    approve_device_code(
        code.verification_uri_complete
            .as_ref()
            .expect("verification_uri_complete")
            .as_str(),
        "researcher-7",
    );
    let tokens = polling
        .join()
        .expect("poller")
        .expect("tokens after approval");
    assert!(
        found
            .scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s == login::OFFLINE_ACCESS)),
        "the provider advertises offline_access"
    );
    assert!(
        tokens.refresh_token.is_some(),
        "no refresh token: offline_access"
    );
    let access = tokens.access_token.expose().to_string();
    assert_eq!(decode_part(&access, 1)["sub"], "researcher-7");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out, err) = common::run_m4(dir.path(), &["auth", "check"], &provider.env(&access));
    assert!(ok, "m4 refused the signed-in token:\n{out}\n{err}");

    // Refresh with rotation: a new access token and a new refresh token; the old
    // refresh token is spent.
    let first = tokens.refresh_token.expect("refresh token");
    let refreshed =
        login::refresh(&agent, &token_endpoint, "m4-cli", &first, AUDIENCE).expect("refresh");
    let second = refreshed
        .refresh_token
        .clone()
        .expect("rotated refresh token");
    assert_ne!(second.expose(), first.expose(), "the provider rotates");
    let renewed = refreshed.access_token.expose().to_string();
    assert_ne!(renewed, access);
    assert_eq!(decode_part(&renewed, 1)["sub"], "researcher-7");
    let (ok, out, err) = common::run_m4(dir.path(), &["auth", "check"], &provider.env(&renewed));
    assert!(ok, "m4 refused the refreshed token:\n{out}\n{err}");
    let reused = login::refresh(&agent, &token_endpoint, "m4-cli", &first, AUDIENCE)
        .expect_err("a rotated refresh token is spent");
    assert!(
        reused
            .to_string()
            .starts_with("sign in again: run `m4 auth login`"),
        "{reused}"
    );

    // Sign-out: revoked at the provider, the refresh token no longer works.
    let revocation = found.revocation_endpoint.expect("revocation endpoint");
    login::revoke(&agent, &revocation, "m4-cli", &second).expect("revoke");
    let after = login::refresh(&agent, &token_endpoint, "m4-cli", &second, AUDIENCE)
        .expect_err("a revoked refresh token is refused");
    assert!(after.to_string().starts_with("sign in again"), "{after}");
}

/// Signs `login` in with the device flow for public client `client_id`, approving the
/// code through the provider's pages; the tokens.
fn device_sign_in(provider: &Provider, client_id: &str, login: &str) -> m4::auth::login::Tokens {
    use m4::auth::{discovery, login};
    let agent = discovery::http_agent();
    let found = discovery::discover(&agent, &provider.issuer).expect("discovery");
    let code = login::request_device_code(
        &agent,
        &found
            .device_authorization_endpoint
            .expect("device endpoint"),
        client_id,
        "openid read:mimic-data offline_access",
        AUDIENCE,
    )
    .expect("device code");
    let token_endpoint = found.token_endpoint.expect("token endpoint");
    let client = client_id.to_string();
    let polling = {
        let code = code.clone();
        std::thread::spawn(move || {
            login::poll_for_tokens(
                &agent,
                &token_endpoint,
                &client,
                &code,
                &mut std::thread::sleep,
                &std::time::Instant::now,
            )
        })
    };
    approve_device_code(
        code.verification_uri_complete
            .as_ref()
            .expect("verification_uri_complete")
            .as_str(),
        login,
    );
    polling.join().expect("poller").expect("tokens")
}

#[test]
fn a_stored_sign_in_keeps_tools_working_across_short_token_lifetimes() {
    use m4::auth::store::{CredentialStore, FileStore, SignInKey, StoredSignIn};
    let data = data();
    let provider = Provider::start("rsa-a");
    let tokens = device_sign_in(&provider, "m4-cli-short", "researcher-8");
    let config_home = tempfile::tempdir().expect("tempdir");
    let store = FileStore::at(config_home.path().join("m4"));
    let key = SignInKey {
        issuer: provider.issuer.clone(),
        client_id: "m4-cli-short".into(),
    };
    let first_refresh = tokens.refresh_token.clone().expect("refresh token");
    store
        .save(&StoredSignIn {
            key: key.clone(),
            refresh_token: first_refresh.clone(),
            access_token: Some(tokens.access_token.clone()),
            access_expires_at: tokens.expires_in.map(|d| unix_now() + d.as_secs()),
            subject: Some("researcher-8".into()),
        })
        .expect("store");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = [
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", provider.issuer.as_str()),
        ("M4_OAUTH2_AUDIENCE", AUDIENCE),
        ("M4_OAUTH2_CLIENT_ID", "m4-cli-short"),
        ("XDG_CONFIG_HOME", config_dir.as_str()),
        ("M4_OAUTH2_CREDENTIAL_STORE", "file"),
        // No clock-skew allowance: an unrenewed token fails right at its `exp`.
        ("M4_OAUTH2_LEEWAY", "0"),
    ];
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    // Three 8-second lifetimes and more, one call every 3 s.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(27) {
        assert_tools_work(&mut server);
        std::thread::sleep(Duration::from_secs(3));
    }
    let log = server.stderr();
    assert!(
        log.contains("using the stored sign-in"),
        "the stored sign-in was not used:\n{log}"
    );
    assert!(
        log.matches("refreshed the signed-in OAuth2 access token")
            .count()
            >= 3,
        "fewer than three refreshes:\n{log}"
    );
    let kept = store.load(&key).expect("load").expect("still signed in");
    assert_ne!(
        kept.refresh_token.expose(),
        first_refresh.expose(),
        "the rotated refresh token was written back"
    );
}

/// Runs `m4 auth login` with `envs`, approving the printed code as `login`; returns
/// what it printed after the code, and its stderr.
fn m4_auth_login(data: &Path, envs: &[(&str, &str)], login: &str) -> (String, String) {
    let mut child = common::m4_command(data)
        .args(["auth", "login"])
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("m4 auth login");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    assert!(
        first.starts_with("To sign in, open ") && first.contains(" and enter the code "),
        "{first}"
    );
    let second = lines.next().expect("a line").expect("utf-8");
    let complete = second
        .strip_prefix("(or open ")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no complete URL: {second}"));
    approve_device_code(complete, login);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(
        status.success(),
        "m4 auth login failed:\n{rest:?}\n{stderr}"
    );
    (rest.join("\n"), stderr)
}

/// Runs `m4 <args>` with `envs` to completion; (success, stdout, stderr).
fn m4_run(data: &Path, envs: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let output = common::m4_command(data)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("m4");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The variables of a researcher signing in with public client `client_id`, the
/// sign-in kept under `config_dir`.
fn sign_in_env<'a>(
    provider: &'a Provider,
    client_id: &'a str,
    config_dir: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", provider.issuer.as_str()),
        ("M4_OAUTH2_AUDIENCE", AUDIENCE),
        ("M4_OAUTH2_CLIENT_ID", client_id),
        ("XDG_CONFIG_HOME", config_dir),
        // These tests read the file store directly: never the OS credential store.
        ("M4_OAUTH2_CREDENTIAL_STORE", "file"),
    ]
}

#[test]
fn m4_auth_login_signs_in_with_the_device_flow_and_m4_serve_uses_it() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let (done, stderr) = m4_auth_login(data, &envs, "researcher-9");
    assert!(
        done.contains("Signed in as researcher-9") && done.contains("readable by you alone"),
        "{done}"
    );
    // The file was asked for (`M4_OAUTH2_CREDENTIAL_STORE=file`): it is named, and
    // there is no fallback warning.
    assert!(
        done.contains(&config_dir),
        "where the sign-in is kept:\n{done}"
    );
    assert!(
        !stderr.contains("no operating-system credential store"),
        "{stderr}"
    );
    let stored: Vec<_> = std::fs::read_dir(config_home.path().join("m4"))
        .expect("the sign-in folder")
        .collect();
    assert_eq!(stored.len(), 1, "one stored sign-in");
    // `m4 serve` with the client id alone uses it.
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    assert_tools_work(&mut server);
}

#[test]
fn m4_auth_status_and_logout_report_then_revoke_and_delete_the_sign_in() {
    use m4::auth::store::{CredentialStore, FileStore, SignInKey};
    use m4::auth::{discovery, login};
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);

    // Before any sign-in: both commands say plainly that nothing is stored.
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok && out.starts_with("Not signed in to "), "{out}\n{err}");
    assert!(out.contains("m4 auth login"), "{out}");
    let (ok, out, err) = m4_run(data, &envs, &["auth", "logout"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("Not signed in") && out.contains("nothing was stored"),
        "{out}"
    );

    m4_auth_login(data, &envs, "researcher-11");
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("as researcher-11"), "the subject:\n{out}");
    assert!(
        out.contains("Access token: valid until "),
        "the expiry:\n{out}"
    );
    assert!(out.contains("Refresh token: kept."), "{out}");
    assert!(
        out.contains("Secret kept in: the file `")
            && out.contains(&config_dir)
            && out.contains("readable by you alone"),
        "where the secret is kept (the file, forced):\n{out}"
    );
    let key = SignInKey {
        issuer: provider.issuer.clone(),
        client_id: "m4-cli".into(),
    };
    let store = FileStore::at(config_home.path().join("m4"));
    let refresh = store
        .load(&key)
        .expect("load")
        .expect("stored")
        .refresh_token;
    assert!(!out.contains(refresh.expose()), "status shows no secret");

    let (ok, out, err) = m4_run(data, &envs, &["auth", "logout"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("Revoked the refresh token at ") && out.contains("Deleted the stored sign-in"),
        "{out}"
    );
    assert!(store.load(&key).expect("load").is_none(), "nothing left");
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok && out.starts_with("Not signed in to "), "{out}\n{err}");

    // The revoked refresh token no longer works at the provider.
    let agent = discovery::http_agent();
    let found = discovery::discover(&agent, &provider.issuer).expect("discovery");
    let token_endpoint = found.token_endpoint.expect("token endpoint");
    let refused = login::refresh(&agent, &token_endpoint, "m4-cli", &refresh, AUDIENCE)
        .expect_err("the revoked refresh token was accepted");
    assert!(
        refused.to_string().starts_with("sign in again"),
        "{refused}"
    );
}

#[test]
fn without_a_setting_the_os_credential_store_is_used_or_the_file_with_a_warning() {
    let data = data();
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    // No provider is needed to report that nothing is stored.
    let envs = [
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", "http://127.0.0.1:9"),
        ("M4_OAUTH2_AUDIENCE", AUDIENCE),
        ("M4_OAUTH2_CLIENT_ID", "m4-cli"),
        ("XDG_CONFIG_HOME", config_dir.as_str()),
    ];
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok && out.starts_with("Not signed in"), "{out}\n{err}");
    match m4::auth::store::KeyringStore::probe() {
        Ok(_) => assert!(
            !err.contains("no operating-system credential store"),
            "the credential store answers here, yet m4 fell back:\n{err}"
        ),
        Err(reason) => {
            // Written past the test harness's capture, so that it shows.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("SKIPPED: the credential-store path ({reason}); checked the fallback\n")
                    .as_bytes(),
            );
            assert!(
                err.contains("no operating-system credential store is available")
                    && err.contains(&format!("{config_dir}/m4"))
                    && err.contains("readable by you alone"),
                "the fallback warning names where:\n{err}"
            );
        }
    }
    // A value that is neither `file` nor `os` stops, naming the variable.
    let mut bad = envs.to_vec();
    bad.push(("M4_OAUTH2_CREDENTIAL_STORE", "vault"));
    let (ok, out, err) = m4_run(data, &bad, &["auth", "status"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("M4_OAUTH2_CREDENTIAL_STORE") && err.contains("vault"),
        "{err}"
    );
}

/// Signs in at the authorization `url` as user `login` through the provider's sign-in
/// and consent pages, as a researcher's browser would, following the redirects to
/// wherever they lead (m4's loopback listener); that last URL and page.
fn sign_in_in_browser(url: &str, login: &str) -> (String, String) {
    let mut browser = Browser::new();
    let (url, page) = browser.open(url);
    sign_in_and_consent(&mut browser, url, page, login, |url, _| {
        !url.contains("/interaction/")
    })
}

/// Opens the authorization `url` and presses the sign-in page's Cancel, as a
/// researcher declining would; the last URL and page.
fn cancel_in_browser(url: &str) -> (String, String) {
    let mut browser = Browser::new();
    let (page_url, page) = browser.open(url);
    assert!(page_url.contains("/interaction/"), "{page_url}:\n{page}");
    let cancel = html_attr(&page, "<a href=\"");
    assert!(cancel.ends_with("/abort"), "{cancel}");
    let target = url::Url::parse(&page_url).unwrap().join(&cancel).unwrap();
    browser.open(target.as_str())
}

/// `m4 auth login` run to completion.
struct LoginRun {
    ok: bool,
    stdout: String,
    stderr: String,
    /// The browser's last page (m4's answer), when `approve` returned one.
    page: String,
}

/// Runs `m4 auth login --no-open <args>` with `envs`; reads the authorization URL it
/// prints on stderr and hands it to `browse` (which returns the browser's last URL
/// and page), then waits for m4 to finish (60 s at most).
fn m4_browser_login(
    data: &Path,
    envs: &[(&str, &str)],
    args: &[&str],
    browse: impl FnOnce(&str) -> (String, String),
) -> LoginRun {
    let mut child = common::m4_command(data)
        .args(["auth", "login", "--no-open"])
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("m4 auth login");
    let mut stdout = child.stdout.take().expect("stdout");
    let reading = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut before = Vec::new();
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("m4 printed no authorization URL:\n{}", before.join("\n"));
        };
        if line.trim_start().starts_with("http://") {
            break line.trim().to_string();
        }
        before.push(line);
    };
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let (last_url, page) = browse(&url);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "m4 auth login did not finish within 60 s; the browser ended at {last_url}:\n{page}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    before.push(url);
    before.extend(rest.join().expect("stderr reader"));
    LoginRun {
        ok: status.success(),
        stdout: reading.join().expect("stdout reader"),
        stderr: before.join("\n"),
        page,
    }
}

/// The value of query parameter `name` in `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[test]
fn m4_auth_login_browser_signs_in_with_pkce_and_m4_serve_uses_it() {
    use m4::auth::store::{CredentialStore, FileStore, SignInKey};
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let mut seen = String::new();
    let run = m4_browser_login(data, &envs, &["--browser"], |url| {
        seen = url.to_string();
        sign_in_in_browser(url, "researcher-12")
    });
    assert!(
        run.ok,
        "m4 auth login --browser failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    // What the browser was sent with: a public client, PKCE S256, a random state and
    // the loopback redirect on an ephemeral port, offline_access asked for.
    assert_eq!(query_param(&seen, "client_id").as_deref(), Some("m4-cli"));
    assert_eq!(query_param(&seen, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&seen, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&seen, "code_challenge").map(|c| c.len()),
        Some(43)
    );
    assert!(
        query_param(&seen, "state").is_some_and(|s| s.len() >= 43),
        "{seen}"
    );
    let redirect = query_param(&seen, "redirect_uri").expect("redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    assert!(
        query_param(&seen, "scope").is_some_and(|s| s.split(' ').any(|s| s == "offline_access")),
        "{seen}"
    );
    assert!(run.stderr.contains("Waiting up to 300 s"), "{}", run.stderr);
    assert!(run.page.contains("You may close this tab"), "{}", run.page);
    assert!(
        run.stdout.contains("Signed in as researcher-12") && run.stdout.contains(&config_dir),
        "{}",
        run.stdout
    );
    // Stored exactly as the device flow stores it.
    let store = FileStore::at(config_home.path().join("m4"));
    let key = SignInKey {
        issuer: provider.issuer.clone(),
        client_id: "m4-cli".into(),
    };
    let stored = store.load(&key).expect("load").expect("stored");
    assert_eq!(stored.subject.as_deref(), Some("researcher-12"));
    assert!(stored.access_expires_at.is_some());
    // The listener is gone once the sign-in is done.
    let port: u16 = redirect
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/callback")
        .parse()
        .expect("port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
    // `m4 serve` with no `M4_OAUTH2_TOKEN` serves tool calls with it.
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    assert_tools_work(&mut server);
    assert!(
        server.stderr().contains("using the stored sign-in"),
        "{}",
        server.stderr()
    );
}

#[test]
fn without_a_device_flow_m4_auth_login_uses_the_browser() {
    let data = data();
    let provider = Provider::start_without_device_flow("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let run = m4_browser_login(data, &envs, &[], |url| {
        sign_in_in_browser(url, "researcher-13")
    });
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Signed in as researcher-13"),
        "{}",
        run.stdout
    );
    // Asking for the device flow there says what to use instead.
    let (ok, out, err) = m4_run(data, &envs, &["auth", "login", "--device"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("no device authorization endpoint") && err.contains("m4 auth login --browser"),
        "{err}"
    );
}

#[test]
fn a_browser_sign_in_coming_back_with_another_state_is_refused() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let run = m4_browser_login(data, &envs, &["--browser"], |url| {
        // A page that starts its own sign-in at the provider and sends the browser
        // to m4's listener: the provider answers with that request's state.
        let mut forged = url::Url::parse(url).unwrap();
        let pairs: Vec<(String, String)> = forged
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    "forged-state".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        forged.query_pairs_mut().clear().extend_pairs(pairs);
        sign_in_in_browser(forged.as_str(), "attacker")
    });
    assert!(!run.ok, "a foreign answer was accepted:\n{}", run.stdout);
    let line = error_line(&run.stderr);
    assert!(
        line.contains("`state` that is not this sign-in's")
            && line.contains("m4 auth login --browser"),
        "{}",
        run.stderr
    );
    assert!(run.page.contains("did not complete"), "{}", run.page);
    assert!(
        !config_home.path().join("m4").exists()
            || std::fs::read_dir(config_home.path().join("m4"))
                .unwrap()
                .next()
                .is_none(),
        "nothing is stored"
    );
}

#[test]
fn a_declined_browser_sign_in_says_so() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let run = m4_browser_login(data, &envs, &["--browser"], cancel_in_browser);
    assert!(!run.ok, "{}", run.stdout);
    let line = error_line(&run.stderr);
    assert!(
        line.contains("the sign-in was declined") && line.contains("m4 auth login"),
        "{}",
        run.stderr
    );
    assert_eq!(line.matches("declined").count(), 1, "said once: {line}");
    assert!(run.page.contains("did not complete"), "{}", run.page);
}

#[test]
fn a_browser_sign_in_not_finished_in_time_stops_with_a_clear_message() {
    let data = data();
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    let envs = sign_in_env(&provider, "m4-cli", &config_dir);
    let started = std::time::Instant::now();
    let run = m4_browser_login(data, &envs, &["--browser", "--timeout", "2"], |url| {
        (url.to_string(), String::new())
    });
    assert!(!run.ok, "{}", run.stdout);
    assert!(started.elapsed() < Duration::from_secs(30));
    let line = error_line(&run.stderr);
    assert!(
        line.contains("did not come back to m4 within 2 s") && line.contains("--timeout"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_sign_in_kept_in_the_os_credential_store_serves_tool_calls() {
    let data = data();
    if let Err(reason) = m4::auth::store::KeyringStore::probe() {
        // Written past the test harness's capture, so that it shows.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED: no operating-system credential store here ({reason})\n").as_bytes(),
        );
        return;
    }
    let provider = Provider::start("rsa-a");
    let config_home = tempfile::tempdir().expect("tempdir");
    let config_dir = config_home.path().to_str().expect("utf-8 path").to_string();
    // No `M4_OAUTH2_CREDENTIAL_STORE`: the OS credential store is m4's first choice.
    let envs: Vec<(&str, &str)> = sign_in_env(&provider, "m4-cli", &config_dir)
        .into_iter()
        .filter(|(k, _)| *k != "M4_OAUTH2_CREDENTIAL_STORE")
        .collect();
    let run = m4_browser_login(data, &envs, &["--browser"], |url| {
        sign_in_in_browser(url, "researcher-14")
    });
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Signed in as researcher-14")
            && run
                .stdout
                .contains("the operating system's credential store"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains("no operating-system credential store"),
        "{}",
        run.stderr
    );
    assert!(
        !config_home.path().join("m4").exists(),
        "nothing written to a file"
    );
    // Other processes find it there: status, then `m4 serve`.
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("as researcher-14")
            && out.contains("Secret kept in: the operating system's credential store"),
        "{out}"
    );
    let mut server = McpChild::spawn(data, &envs);
    server.initialize();
    assert_tools_work(&mut server);
    drop(server);
    let (ok, out, err) = m4_run(data, &envs, &["auth", "logout"]);
    assert!(
        ok && out.contains("Deleted the stored sign-in"),
        "{out}\n{err}"
    );
    let (ok, out, err) = m4_run(data, &envs, &["auth", "status"]);
    assert!(ok && out.starts_with("Not signed in to "), "{out}\n{err}");
}
