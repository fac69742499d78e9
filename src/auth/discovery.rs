//! Reaching the identity provider: OpenID discovery, and the one HTTP client (with its
//! rules) used for discovery, the key set and the token endpoint.
//!
//! Owns the transport rules for everything signing keys and tokens travel over:
//! `https://` only, except for loopback hosts (127.0.0.0/8, `::1`, `localhost`), where
//! a local provider has no certificate and nobody else is on the path; and redirects
//! followed only on the same host, so that whoever answers a redirect cannot hand m4
//! their own keys. It does not parse key sets (`jwks`) or tokens (`validate`).

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use url::{Host, Url};

use super::AuthError;
use super::jwks::MAX_DOCUMENT_BYTES;

/// Timeout for each discovery, key-set and token request: start-up must fail fast
/// when the provider is unreachable, and a refresh must not stall a tool call long.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Same-host redirects followed before giving up (providers use one, for a path
/// normalisation or a trailing slash; a chain longer than this is a misconfiguration).
pub const MAX_REDIRECTS: usize = 5;

/// The form parameters a request to `endpoint` names the token's API (its audience)
/// under: RFC 8707's `resource`, and `audience`, which Auth0 reads instead (providers
/// ignore the one they do not know). Entra ID's v2.0 endpoints are the exception:
/// they refuse `resource` outright (AADSTS901002) and take the API from the scope
/// (`api://<app>/<scope>`), so nothing is sent there.
pub fn audience_parameters(endpoint: &Url) -> &'static [&'static str] {
    if is_entra_v2(endpoint) {
        &[]
    } else {
        &["resource", "audience"]
    }
}

/// A required `scope` as a request to `endpoint` must name it. Entra ID's v2.0
/// endpoints know an API's scopes only by their full name, `<App ID URI>/<scope>`
/// (`api://<app id>/read:mimic-data`), while the token's `scp` carries the short name
/// that m4 checks; everywhere else the scope is asked for as it is checked.
pub fn scope_request_name(endpoint: &Url, audience: &str, scope: &str) -> String {
    const OPENID_SCOPES: [&str; 5] = ["openid", "offline_access", "profile", "email", "address"];
    if !is_entra_v2(endpoint) || scope.contains("://") || OPENID_SCOPES.contains(&scope) {
        return scope.to_string();
    }
    if audience.contains("://") {
        format!("{}/{scope}", audience.trim_end_matches('/'))
    } else {
        format!("api://{audience}/{scope}")
    }
}

fn is_entra_v2(endpoint: &Url) -> bool {
    const ENTRA_HOSTS: [&str; 4] = [
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.partner.microsoftonline.cn",
        "login.chinacloudapi.cn",
    ];
    let entra = endpoint
        .host_str()
        .is_some_and(|host| ENTRA_HOSTS.contains(&host.to_ascii_lowercase().as_str()));
    entra && endpoint.path().contains("/oauth2/v2.0/")
}

/// What OpenID discovery told us.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub jwks_uri: Url,
    pub token_endpoint: Option<Url>,
    /// RFC 6749 §3.1: where `m4 auth login --browser` sends the researcher.
    pub authorization_endpoint: Option<Url>,
    /// RFC 8628 §4: where `m4 auth login` asks for a device code.
    pub device_authorization_endpoint: Option<Url>,
    /// RFC 7009 / RFC 8414 §2: where `m4 auth logout` revokes the refresh token.
    pub revocation_endpoint: Option<Url>,
    /// RFC 8414 §2: the scopes the provider offers (for `offline_access`).
    pub scopes_supported: Option<Vec<String>>,
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches discovery; its `issuer` must equal the configured one exactly (§4.3), and
/// the URLs it names must be `https://` (or loopback) like the issuer itself.
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
            "it publishes issuer `{}`, but `M4_OAUTH2_ISSUER_URL` is `{issuer}`{note}",
            super::validate::sanitize_long(published)
        )));
    }
    let url_field = |name: &str| -> Result<Option<Url>, AuthError> {
        match value.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(raw) => {
                let url =
                    Url::parse(raw).map_err(|e| fail(format!("`{name}` is not a URL ({e})")))?;
                require_secure(&url).map_err(|why| fail(format!("its `{name}`: {why}")))?;
                Ok(Some(url))
            }
        }
    };
    let jwks_uri = url_field("jwks_uri")?.ok_or_else(|| fail("it has no `jwks_uri`".into()))?;
    Ok(Discovery {
        jwks_uri,
        token_endpoint: url_field("token_endpoint")?,
        authorization_endpoint: url_field("authorization_endpoint")?,
        device_authorization_endpoint: url_field("device_authorization_endpoint")?,
        revocation_endpoint: url_field("revocation_endpoint")?,
        scopes_supported: value
            .get("scopes_supported")
            .and_then(Value::as_array)
            .map(|scopes| {
                scopes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            }),
    })
}

/// Whether `url` points at this machine: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// Refuses a URL that keys or tokens must not travel over: anything but `https://`,
/// except `http://` to a loopback host. The reason ends with the fix.
pub fn require_secure(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        scheme => Err(format!(
            "`{url}` uses `{scheme}://`, and m4 fetches signing keys and tokens only over \
             `https://` (plain `http://` only to this machine: 127.0.0.1, ::1, localhost), \
             because anyone on the path could otherwise serve their own keys; \
             hint: use the provider's `https://` URL"
        )),
    }
}

/// The HTTP client for the provider: start-up timeouts, and no automatic redirects
/// ([`http_get`] and [`check_redirect`] follow them under m4's rules).
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .max_redirects(0)
        .build()
        .into()
}

/// Where a redirect from `from` leads, if m4 may follow it: the same host, over a
/// URL that passes [`require_secure`]. `location` is the `Location` header.
pub fn check_redirect(from: &Url, location: Option<&str>) -> Result<Url, String> {
    let location = location.ok_or_else(|| "it redirects without a `Location`".to_string())?;
    let to = from
        .join(location)
        .map_err(|e| format!("it redirects to an invalid URL ({e})"))?;
    let same_host = match (from.host_str(), to.host_str()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if !same_host {
        return Err(format!(
            "it redirects to another host (`{}`), and m4 follows redirects only on the same host, \
             so that whoever answers the redirect cannot substitute their own keys; \
             hint: configure the final URL directly (the issuer, or `M4_OAUTH2_JWKS_URL`)",
            super::validate::sanitize_long(to.host_str().unwrap_or("none"))
        ));
    }
    require_secure(&to).map_err(|why| format!("it redirects to {why}"))?;
    Ok(to)
}

/// GET `url` as JSON, reading at most [`MAX_DOCUMENT_BYTES`], following same-host
/// redirects only.
pub(crate) fn http_get(agent: &ureq::Agent, url: &Url) -> Result<Vec<u8>, String> {
    require_secure(url)?;
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = agent
            .get(current.as_str())
            .header("Accept", "application/json")
            .call()
            .map_err(|e| e.to_string())?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(ureq::http::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            current = check_redirect(&current, location)?;
            continue;
        }
        let mut body = response.into_body();
        return body
            .with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_vec()
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "more than {MAX_REDIRECTS} redirects; hint: configure the final URL directly"
    ))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_audience_is_named_for_every_provider_but_entra_v2_which_refuses_resource() {
        for endpoint in [
            "https://tenant.auth0.com/oauth/token",
            "https://dev-1.okta.com/oauth2/default/v1/token",
            "https://kc.example/realms/r/protocol/openid-connect/token",
            "https://login.microsoftonline.com/tid/oauth2/token",
            "http://127.0.0.1:4000/token",
        ] {
            assert_eq!(
                audience_parameters(&url(endpoint)),
                ["resource", "audience"],
                "{endpoint}"
            );
        }
        for endpoint in [
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
            "https://LOGIN.microsoftonline.com/tid/oauth2/v2.0/devicecode",
            "https://login.microsoftonline.us/tid/oauth2/v2.0/authorize",
        ] {
            assert!(audience_parameters(&url(endpoint)).is_empty(), "{endpoint}");
        }
    }

    #[test]
    fn entra_v2_is_asked_for_a_scope_by_its_full_name_and_others_by_the_checked_one() {
        let entra = url("https://login.microsoftonline.com/tid/oauth2/v2.0/token");
        let okta = url("https://dev-1.okta.com/oauth2/default/v1/token");
        assert_eq!(
            scope_request_name(&entra, "6f1c0a4e-app", "read:mimic-data"),
            "api://6f1c0a4e-app/read:mimic-data"
        );
        assert_eq!(
            scope_request_name(&entra, "api://m4-api/", "read:mimic-data"),
            "api://m4-api/read:mimic-data"
        );
        for kept in ["offline_access", "openid", "api://other/x"] {
            assert_eq!(scope_request_name(&entra, "app", kept), kept);
        }
        assert_eq!(
            scope_request_name(&okta, "api://m4", "read:mimic-data"),
            "read:mimic-data"
        );
    }

    #[test]
    fn https_is_required_except_for_loopback_hosts() {
        for ok in [
            "https://idp.example/",
            "http://127.0.0.1:8080/",
            "http://127.4.5.6/",
            "http://[::1]:9000/",
            "http://localhost/",
            "http://LOCALHOST:1/",
        ] {
            assert!(require_secure(&url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example/",
            "http://128.0.0.1/",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "ftp://idp.example/",
        ] {
            let why = require_secure(&url(bad)).unwrap_err();
            assert!(
                why.contains("https://") && why.contains("hint:"),
                "{bad}: {why}"
            );
        }
    }

    #[test]
    fn redirects_are_followed_only_on_the_same_host() {
        let from = url("https://idp.example/.well-known/openid-configuration");
        assert_eq!(
            check_redirect(&from, Some("/tenant/.well-known/openid-configuration"))
                .unwrap()
                .as_str(),
            "https://idp.example/tenant/.well-known/openid-configuration"
        );
        let why = check_redirect(&from, Some("https://attacker.example/jwks")).unwrap_err();
        assert!(
            why.contains("another host")
                && why.contains("`attacker.example`")
                && why.contains("hint:"),
            "{why}"
        );
        let why = check_redirect(&from, Some("http://idp.example/jwks")).unwrap_err();
        assert!(why.contains("https://"), "a downgrade to http: {why}");
        assert!(check_redirect(&from, None).is_err());
    }

    /// An HTTP server on 127.0.0.1 answering successive requests with `responses`,
    /// each made from the server's own origin (`http://127.0.0.1:PORT`). Returns the
    /// origin.
    type Responder = Box<dyn FnOnce(&str) -> String + Send>;

    fn respond(f: impl FnOnce(&str) -> String + Send + 'static) -> Responder {
        Box::new(f)
    }

    fn serve(responses: Vec<Responder>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let base = origin.clone();
        std::thread::spawn(move || {
            for response in responses {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = stream.write_all(response(&base).as_bytes());
            }
        });
        origin
    }

    fn redirect(location: &str) -> String {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn a_redirect_to_another_host_is_not_followed() {
        let origin = serve(vec![respond(|_| redirect("http://localhost:1/evil-jwks"))]);
        let why = http_get(&http_agent(), &url(&format!("{origin}/jwks"))).unwrap_err();
        assert!(
            why.contains("another host") && why.contains("`localhost`"),
            "{why}"
        );
    }

    #[test]
    fn a_same_host_redirect_is_followed() {
        let origin = serve(vec![
            respond(|_| redirect("/moved")),
            respond(|_| ok(r#"{"keys": []}"#)),
        ]);
        let body = http_get(&http_agent(), &url(&format!("{origin}/jwks"))).unwrap();
        assert_eq!(body, br#"{"keys": []}"#);
    }

    #[test]
    fn plain_http_to_another_machine_is_refused_before_connecting() {
        let why = http_get(&http_agent(), &url("http://192.0.2.1/jwks")).unwrap_err();
        assert!(why.contains("only over `https://`"), "{why}");
    }

    #[test]
    fn discovery_refuses_plain_http_key_set_and_token_endpoint() {
        for field in ["jwks_uri", "token_endpoint"] {
            let origin = serve(vec![respond(move |origin: &str| {
                ok(&format!(
                    r#"{{"issuer": "{origin}", "jwks_uri": "{}", "token_endpoint": "{}"}}"#,
                    if field == "jwks_uri" {
                        "http://idp.example/jwks"
                    } else {
                        "https://idp.example/jwks"
                    },
                    if field == "token_endpoint" {
                        "http://idp.example/token"
                    } else {
                        "https://idp.example/token"
                    },
                ))
            })]);
            let err = discover(&http_agent(), &origin).unwrap_err().to_string();
            assert!(
                err.contains("OpenID discovery at")
                    && err.contains(&format!("its `{field}`"))
                    && err.contains("only over `https://`"),
                "{err}"
            );
        }
    }

    #[test]
    fn discovery_over_loopback_http_is_accepted() {
        let origin = serve(vec![respond(|origin: &str| {
            ok(&format!(
                r#"{{"issuer": "{origin}", "jwks_uri": "{origin}/jwks"}}"#
            ))
        })]);
        let found = discover(&http_agent(), &origin).unwrap();
        assert_eq!(found.jwks_uri.as_str(), format!("{origin}/jwks"));
        assert!(found.token_endpoint.is_none());
    }
}
