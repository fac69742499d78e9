//! Every `M4_*` environment variable, as one documented constant each, and the
//! typed settings parsed from them once at start-up.
//!
//! This module owns *names and parsing*; it does not decide what a setting does.
//! Nothing else in m4 calls `std::env::var` for an `M4_*` variable: read the
//! environment here, hand a typed struct on. Auth's variables are parsed by
//! `auth::config` from the constants below, so that the list stays in one place.

use std::path::PathBuf;
use std::time::Duration;

/// Folder holding the data-set databases and downloads. Default: `data/` in the project.
pub const M4_DATA_DIR: &str = "M4_DATA_DIR";
/// Data set the server and `m4 query` use when none is named (`mimic-iv-demo`, `mimic-iv`, `synthetic`).
pub const M4_DATASET: &str = "M4_DATASET";
/// Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a `tracing` directive); `RUST_LOG` wins when both are set.
pub const M4_LOG_LEVEL: &str = "M4_LOG_LEVEL";
/// Maximum rows a query result returns before it is truncated.
pub const M4_MAX_ROWS: &str = "M4_MAX_ROWS";
/// Maximum size in bytes of a rendered query result before it is truncated.
pub const M4_MAX_BYTES: &str = "M4_MAX_BYTES";
/// Seconds a query may run before DuckDB is interrupted.
pub const M4_QUERY_TIMEOUT: &str = "M4_QUERY_TIMEOUT";
/// DuckDB memory limit for the server's connection, in DuckDB's syntax (`2GB`, `512MB`).
pub const M4_MEMORY_LIMIT: &str = "M4_MEMORY_LIMIT";

/// Turn OAuth2 access-token authentication on (`true`/`false`/`1`/`0`/`yes`/`no`).
pub const M4_OAUTH2_ENABLED: &str = "M4_OAUTH2_ENABLED";
/// Expected `iss` claim and the base URL for OpenID discovery.
pub const M4_OAUTH2_ISSUER_URL: &str = "M4_OAUTH2_ISSUER_URL";
/// Expected `aud` claim.
pub const M4_OAUTH2_AUDIENCE: &str = "M4_OAUTH2_AUDIENCE";
/// Space- or comma-separated scopes that must all be granted. Default `read:mimic-data`.
pub const M4_OAUTH2_REQUIRED_SCOPES: &str = "M4_OAUTH2_REQUIRED_SCOPES";
/// Key set URL; discovered from the issuer when unset.
pub const M4_OAUTH2_JWKS_URL: &str = "M4_OAUTH2_JWKS_URL";
/// Seconds to keep the key set before refreshing it. Default 3600.
pub const M4_OAUTH2_JWKS_CACHE_TTL: &str = "M4_OAUTH2_JWKS_CACHE_TTL";
/// Client id for the client-credentials grant (optional).
pub const M4_OAUTH2_CLIENT_ID: &str = "M4_OAUTH2_CLIENT_ID";
/// Client secret for the client-credentials grant (optional; never logged).
pub const M4_OAUTH2_CLIENT_SECRET: &str = "M4_OAUTH2_CLIENT_SECRET";
/// Check `exp` (default true).
pub const M4_OAUTH2_VALIDATE_EXP: &str = "M4_OAUTH2_VALIDATE_EXP";
/// Check `aud` (default true).
pub const M4_OAUTH2_VALIDATE_AUD: &str = "M4_OAUTH2_VALIDATE_AUD";
/// Check `iss` (default true).
pub const M4_OAUTH2_VALIDATE_ISS: &str = "M4_OAUTH2_VALIDATE_ISS";
/// Per-user rate limiting (default true).
pub const M4_OAUTH2_RATE_LIMIT_ENABLED: &str = "M4_OAUTH2_RATE_LIMIT_ENABLED";
/// Calls allowed per user per window (default 100).
pub const M4_OAUTH2_RATE_LIMIT_REQUESTS: &str = "M4_OAUTH2_RATE_LIMIT_REQUESTS";
/// Rate-limit window in seconds (default 3600).
pub const M4_OAUTH2_RATE_LIMIT_WINDOW: &str = "M4_OAUTH2_RATE_LIMIT_WINDOW";
/// Clock-skew leeway in seconds for `exp`/`nbf`/`iat` (default 60).
pub const M4_OAUTH2_LEEWAY: &str = "M4_OAUTH2_LEEWAY";
/// The access token (a `Bearer ` prefix is accepted). Never logged.
pub const M4_OAUTH2_TOKEN: &str = "M4_OAUTH2_TOKEN";
/// Demand the strict RFC 9068 access-token profile (`typ: at+jwt`, `client_id`, `jti`,
/// `iat`), for providers that issue such tokens (default false).
pub const M4_OAUTH2_STRICT_RFC9068: &str = "M4_OAUTH2_STRICT_RFC9068";

/// Base URL to download the MIMIC-IV demo from instead of PhysioNet (a mirror or a
/// proxy), laid out as PhysioNet's `https://physionet.org/files/mimic-iv-demo/2.2/`.
pub const M4_MIMIC_DEMO_URL: &str = "M4_MIMIC_DEMO_URL";

/// Path of the real MIMIC-IV demo used by the integration tests (set by `.ci/run`).
pub const M4_TEST_DEMO_DIR: &str = "M4_TEST_DEMO_DIR";

/// Default row cap: enough for a model to see a distribution or a cohort sample,
/// small enough that a result fits comfortably in a chat's context window.
pub const DEFAULT_MAX_ROWS: usize = 1_000;
/// Default byte cap on the rendered table (~50k tokens at worst), for the same reason.
pub const DEFAULT_MAX_BYTES: usize = 200_000;
/// Default query time limit: the demo answers any sensible query in well under a
/// second; the full MIMIC-IV needs longer for joins over `chartevents`.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default DuckDB memory limit for a serving connection.
pub const DEFAULT_MEMORY_LIMIT: &str = "2GB";

/// A setting that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("`{variable}` is set to `{value}`, which is not {expected}\n\nhint: {hint}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
    pub hint: String,
}

/// Bounds every query runs within.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
    pub memory_limit: String,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: DEFAULT_MAX_ROWS,
            max_bytes: DEFAULT_MAX_BYTES,
            timeout: DEFAULT_QUERY_TIMEOUT,
            memory_limit: DEFAULT_MEMORY_LIMIT.to_string(),
        }
    }
}

/// Settings for the server and `m4 query`, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The data set named by `M4_DATASET`/`--dataset`, if any.
    pub dataset: Option<String>,
    pub limits: QueryLimits,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let data_dir = lookup(M4_DATA_DIR)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(crate::datasets::default_data_dir);
        let dataset = lookup(M4_DATASET).filter(|v| !v.trim().is_empty());
        let defaults = QueryLimits::default();
        let limits = QueryLimits {
            max_rows: parse_positive(&lookup, M4_MAX_ROWS, defaults.max_rows, 1_000_000)?,
            max_bytes: parse_positive(&lookup, M4_MAX_BYTES, defaults.max_bytes, 100_000_000)?,
            timeout: Duration::from_secs(parse_positive(
                &lookup,
                M4_QUERY_TIMEOUT,
                defaults.timeout.as_secs() as usize,
                86_400,
            )? as u64),
            memory_limit: lookup(M4_MEMORY_LIMIT)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or(defaults.memory_limit),
        };
        Ok(Settings {
            data_dir,
            dataset,
            limits,
        })
    }
}

/// The demo download mirror from `M4_MIMIC_DEMO_URL`, if set. Read when `m4 init`
/// runs (not in [`Settings`]) because only the downloader needs it.
pub fn mimic_demo_url() -> Option<String> {
    std::env::var(M4_MIMIC_DEMO_URL)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Parses a whole number in `1..=max`, or returns `default` when the variable is unset.
pub fn parse_positive(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let Some(raw) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            value: raw,
            expected: "a whole number in range",
            hint: format!(
                "set it to a number from 1 to {max}, or unset it for the default {default}"
            ),
        }),
    }
}

/// Parses a boolean the way the M4 OAuth2 guide documents: true/false/1/0/yes/no, any case.
pub fn parse_bool(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError {
            variable,
            value: raw,
            expected: "a boolean",
            hint: "use one of true, false, 1, 0, yes, no".to_string(),
        }),
    }
}
