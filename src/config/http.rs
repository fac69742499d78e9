//! The `M4_HTTP_*` and `M4_AUDIT_*` variables of the team server (`m4 serve --http`),
//! parsed once into [`HttpSettings`].
//!
//! Owns names, defaults and parsing only: it opens no socket and no file, and decides
//! nothing about a request. Like the rest of [`crate::config`] it depends on no other
//! module of m4.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, filled, parse_positive};

/// Address `--http` binds when given without one (`127.0.0.1:8000`).
pub const M4_HTTP_ADDR: &str = "M4_HTTP_ADDR";
/// The server's canonical URL as clients see it (behind a reverse proxy, the proxy's
/// `https://` URL), without `/mcp`. It is the OAuth2 resource identifier, the default
/// audience and an allowed `Host`. Default: `http://<bind address>`.
pub const M4_HTTP_PUBLIC_URL: &str = "M4_HTTP_PUBLIC_URL";
/// Tool calls running at once across all users; beyond it a call is answered `503`.
pub const M4_HTTP_MAX_IN_FLIGHT: &str = "M4_HTTP_MAX_IN_FLIGHT";
/// Largest request body in bytes (`413` beyond it).
pub const M4_HTTP_MAX_BODY: &str = "M4_HTTP_MAX_BODY";
/// Seconds a request may take before it is abandoned (`504`) and its query cancelled.
pub const M4_HTTP_REQUEST_TIMEOUT: &str = "M4_HTTP_REQUEST_TIMEOUT";
/// More `Host` values to accept (comma-separated `host` or `host:port`), besides the
/// loopback names and the public URL's host.
pub const M4_HTTP_ALLOWED_HOSTS: &str = "M4_HTTP_ALLOWED_HOSTS";
/// Browser origins to accept (comma-separated `https://app.example.org`); a request
/// with any other `Origin` is refused. Default: the public URL's origin only.
pub const M4_HTTP_ALLOWED_ORIGINS: &str = "M4_HTTP_ALLOWED_ORIGINS";
/// Where the audit log goes: a file path (appended), `stderr` (the default), or `off`.
pub const M4_AUDIT_LOG: &str = "M4_AUDIT_LOG";
/// What the audit log records of a query's SQL: `hash` (its SHA-256, the default) or `full`.
pub const M4_AUDIT_SQL: &str = "M4_AUDIT_SQL";

/// Bind address when `--http` has no value and `M4_HTTP_ADDR` is unset.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8000";
/// Default calls in flight: a few per DuckDB thread; more would only queue inside DuckDB.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Default body limit: an MCP request is a few kilobytes; 1 MB leaves room for long SQL.
pub const DEFAULT_MAX_BODY: usize = 1_000_000;
/// Default request time limit: the query time limit's default plus room for the rest.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    Stderr,
    File(PathBuf),
    Off,
}

/// Everything the HTTP server is configured with, besides `M4_OAUTH2_*`.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub addr: SocketAddr,
    /// Canonical base URL, no trailing slash (`https://m4.example.org`).
    pub public_url: String,
    /// Whether `M4_HTTP_PUBLIC_URL` was set (otherwise derived from the address).
    pub public_url_set: bool,
    pub max_in_flight: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// `Host` values accepted: loopback names, the public URL's host, `M4_HTTP_ALLOWED_HOSTS`.
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted (scheme://host[:port]).
    pub allowed_origins: Vec<String>,
    pub audit: AuditTarget,
    /// Record the SQL itself rather than its SHA-256.
    pub audit_full_sql: bool,
}

impl HttpSettings {
    /// Reads the settings through `lookup`; `addr` is `--http`'s value, if it had one.
    pub fn from_lookup(
        addr: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpSettings, ConfigError> {
        let lookup = filled(lookup);
        let nonempty = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (raw_addr, variable) = match addr.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => (a.to_string(), "--http"),
            None => (
                nonempty(M4_HTTP_ADDR).unwrap_or_else(|| DEFAULT_HTTP_ADDR.to_string()),
                M4_HTTP_ADDR,
            ),
        };
        let addr = parse_addr(&raw_addr).ok_or_else(|| ConfigError {
            variable,
            value: raw_addr.clone(),
            expected: "an address and port",
            hint: "write it as `127.0.0.1:8000`, `0.0.0.0:8000` or `[::1]:8000`".into(),
        })?;
        let (public_url, public_url_set) = match nonempty(M4_HTTP_PUBLIC_URL) {
            Some(raw) => (parse_public_url(&raw)?, true),
            None => (format!("http://{}", display_addr(addr)), false),
        };
        let public = url::Url::parse(&public_url).map_err(|e| ConfigError {
            variable: M4_HTTP_PUBLIC_URL,
            value: public_url.clone(),
            expected: "a URL",
            hint: e.to_string(),
        })?;
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        if let Some(host) = public.host_str() {
            allowed_hosts.push(host.to_string());
        }
        for host in nonempty(M4_HTTP_ALLOWED_HOSTS)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            allowed_hosts.push(host.to_ascii_lowercase());
        }
        allowed_hosts.dedup();
        let allowed_origins = match nonempty(M4_HTTP_ALLOWED_ORIGINS) {
            Some(raw) => raw
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
            None => vec![public.origin().ascii_serialization()],
        };
        let audit = match nonempty(M4_AUDIT_LOG) {
            None => AuditTarget::Stderr,
            Some(v) if v.eq_ignore_ascii_case("stderr") => AuditTarget::Stderr,
            Some(v) if v.eq_ignore_ascii_case("off") => AuditTarget::Off,
            Some(v) => AuditTarget::File(PathBuf::from(v)),
        };
        let audit_full_sql = match nonempty(M4_AUDIT_SQL) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("hash") => false,
            Some(v) if v.eq_ignore_ascii_case("full") => true,
            Some(v) => {
                return Err(ConfigError {
                    variable: M4_AUDIT_SQL,
                    value: v,
                    expected: "`hash` or `full`",
                    hint: "`hash` (the default) records each query's SHA-256; `full` records the SQL itself".into(),
                });
            }
        };
        Ok(HttpSettings {
            addr,
            public_url,
            public_url_set,
            max_in_flight: parse_positive(
                &lookup,
                M4_HTTP_MAX_IN_FLIGHT,
                DEFAULT_MAX_IN_FLIGHT,
                10_000,
            )?,
            max_body_bytes: parse_positive(
                &lookup,
                M4_HTTP_MAX_BODY,
                DEFAULT_MAX_BODY,
                100_000_000,
            )?,
            request_timeout: Duration::from_secs(parse_positive(
                &lookup,
                M4_HTTP_REQUEST_TIMEOUT,
                DEFAULT_REQUEST_TIMEOUT.as_secs() as usize,
                86_400,
            )? as u64),
            allowed_hosts,
            allowed_origins,
            audit,
            audit_full_sql,
        })
    }

    /// Whether the server listens on a loopback address only.
    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }
}

fn parse_addr(raw: &str) -> Option<SocketAddr> {
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Some(addr);
    }
    // `localhost:8000`: the loopback address, as a user means it.
    let (host, port) = raw.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    host.eq_ignore_ascii_case("localhost")
        .then(|| SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port))
}

fn display_addr(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        // Clients cannot connect to 0.0.0.0; name this machine's loopback instead.
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}

fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    let error = |expected: &'static str, hint: String| ConfigError {
        variable: M4_HTTP_PUBLIC_URL,
        value: raw.to_string(),
        expected,
        hint,
    };
    let url = url::Url::parse(raw).map_err(|e| {
        error(
            "a URL",
            format!("{e}; write the URL clients use, e.g. `https://m4.example.org`"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(error(
            "an `https://` URL",
            "write the URL clients use, e.g. `https://m4.example.org`".into(),
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(error(
            "a URL without a path",
            "give the server's base URL (`https://m4.example.org`); m4 serves MCP at `/mcp` below it, and the proxy must forward that path unchanged".into(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(addr: Option<&str>, pairs: &[(&str, &str)]) -> Result<HttpSettings, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HttpSettings::from_lookup(addr, move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_bind_loopback_and_derive_the_public_url() {
        let s = settings(None, &[]).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8000");
        assert_eq!(s.public_url, "http://127.0.0.1:8000");
        assert!(s.is_loopback());
        assert_eq!(s.audit, AuditTarget::Stderr);
        assert!(!s.audit_full_sql);
        assert_eq!(s.allowed_origins, vec!["http://127.0.0.1:8000"]);
    }

    #[test]
    fn the_flag_wins_over_the_variable() {
        let s = settings(Some("0.0.0.0:9000"), &[(M4_HTTP_ADDR, "127.0.0.1:1")]).unwrap();
        assert_eq!(s.addr.port(), 9000);
        assert!(!s.is_loopback());
        assert_eq!(s.public_url, "http://127.0.0.1:9000");
        let s = settings(Some(""), &[(M4_HTTP_ADDR, "localhost:8123")]).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8123");
    }

    #[test]
    fn the_public_url_names_the_allowed_host_and_origin() {
        let s = settings(
            None,
            &[
                (M4_HTTP_PUBLIC_URL, "https://M4.Example.org/"),
                (M4_HTTP_ALLOWED_HOSTS, "m4.internal, 10.0.0.5:8000"),
            ],
        )
        .unwrap();
        assert_eq!(s.public_url, "https://m4.example.org");
        assert!(s.allowed_hosts.contains(&"m4.example.org".to_string()));
        assert!(s.allowed_hosts.contains(&"10.0.0.5:8000".to_string()));
        assert_eq!(s.allowed_origins, vec!["https://m4.example.org"]);
    }

    #[test]
    fn bad_values_name_the_variable_and_say_what_to_write() {
        for (addr, pairs, variable) in [
            (Some("8000"), vec![], "`--http`"),
            (None, vec![(M4_HTTP_ADDR, "nowhere")], "`M4_HTTP_ADDR`"),
            (
                None,
                vec![(M4_HTTP_PUBLIC_URL, "https://m4.example.org/mcp")],
                "`M4_HTTP_PUBLIC_URL`",
            ),
            (
                None,
                vec![(M4_HTTP_PUBLIC_URL, "ftp://x")],
                "`M4_HTTP_PUBLIC_URL`",
            ),
            (None, vec![(M4_AUDIT_SQL, "some")], "`M4_AUDIT_SQL`"),
            (
                None,
                vec![(M4_HTTP_MAX_IN_FLIGHT, "0")],
                "`M4_HTTP_MAX_IN_FLIGHT`",
            ),
        ] {
            let error = settings(addr, &pairs).unwrap_err().to_string();
            assert!(error.contains(variable), "{error}");
            assert!(error.contains("hint:"), "{error}");
        }
    }

    #[test]
    fn the_audit_log_goes_to_a_file_stderr_or_nowhere() {
        let s = settings(None, &[(M4_AUDIT_LOG, "/var/log/m4/audit.jsonl")]).unwrap();
        assert_eq!(
            s.audit,
            AuditTarget::File(PathBuf::from("/var/log/m4/audit.jsonl"))
        );
        let s = settings(None, &[(M4_AUDIT_LOG, "off"), (M4_AUDIT_SQL, "full")]).unwrap();
        assert_eq!(s.audit, AuditTarget::Off);
        assert!(s.audit_full_sql);
    }
}
