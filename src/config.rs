//! Every `M4_*` environment variable, as one documented constant each, and the
//! typed settings parsed from them once at start-up.
//!
//! This module owns *names and parsing*; it does not decide what a setting does,
//! and depends on no other module of m4. Nothing else in m4 calls
//! `std::env::var` for an `M4_*` variable: the command line reads the
//! environment once, through [`Settings::from_lookup`] and auth's
//! `AuthConfig::from_lookup` (which parses the `M4_OAUTH2_*` constants below, so
//! that the list stays in one place), and hands typed values on.

pub mod http;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Folder holding the data-set databases and downloads. Default: [`default_data_dir`].
pub const M4_DATA_DIR: &str = "M4_DATA_DIR";
/// Data set the server and `m4 query` use when none is named (`mimic-iv-demo`, `mimic-iv`, `synthetic`, `mimic-iv-bigquery`).
pub const M4_DATASET: &str = "M4_DATASET";
/// Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a `tracing` directive); `RUST_LOG` wins when both are set.
pub const M4_LOG_LEVEL: &str = "M4_LOG_LEVEL";
/// Maximum rows a query result returns before it is truncated.
pub const M4_MAX_ROWS: &str = "M4_MAX_ROWS";
/// Maximum size in bytes of a rendered query result before it is truncated.
pub const M4_MAX_BYTES: &str = "M4_MAX_BYTES";
/// Seconds a query may run before DuckDB is interrupted.
pub const M4_QUERY_TIMEOUT: &str = "M4_QUERY_TIMEOUT";
/// DuckDB memory limit for a served data set (`2GB`, `512MB`, `1.5GiB`).
pub const M4_MEMORY_LIMIT: &str = "M4_MEMORY_LIMIT";
/// Cap on temporary disk a query may fill when it spills a sort or join (`2GB`; `0` turns spilling off).
pub const M4_MAX_TEMP_SIZE: &str = "M4_MAX_TEMP_SIZE";
/// DuckDB worker threads for a served data set (default: the machine's cores, at most 4).
pub const M4_THREADS: &str = "M4_THREADS";

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
/// Where `m4 auth login` keeps the sign-in: `file` forces the user-only file (tests,
/// or machines whose credential store should not be used); unset, the operating
/// system's credential store first.
pub const M4_OAUTH2_CREDENTIAL_STORE: &str = "M4_OAUTH2_CREDENTIAL_STORE";

/// Your own Google Cloud project, where BigQuery queries on `mimic-iv-bigquery` run
/// and are billed (never `physionet-data`).
pub const M4_BIGQUERY_PROJECT: &str = "M4_BIGQUERY_PROJECT";
/// The project holding MIMIC-IV on BigQuery. Default `physionet-data`.
pub const M4_BIGQUERY_DATA_PROJECT: &str = "M4_BIGQUERY_DATA_PROJECT";
/// Which PhysioNet BigQuery datasets to serve: `3.1` (default), `2.2`, or `latest`
/// (PhysioNet's unversioned `mimiciv_hosp`/`mimiciv_icu`/`mimiciv_derived`).
pub const M4_BIGQUERY_VERSION: &str = "M4_BIGQUERY_VERSION";
/// Dataset names, overriding the version's: `hosp=NAME,icu=NAME,derived=NAME`
/// (any of the three), e.g. for an institution's own copy.
pub const M4_BIGQUERY_DATASETS: &str = "M4_BIGQUERY_DATASETS";
/// BigQuery location jobs run in. Default `US` (where PhysioNet keeps MIMIC-IV).
pub const M4_BIGQUERY_LOCATION: &str = "M4_BIGQUERY_LOCATION";
/// Most bytes one BigQuery query may bill (`50GB`); over it the dry run refuses the
/// query and BigQuery itself would stop it.
pub const M4_BIGQUERY_MAX_BYTES_BILLED: &str = "M4_BIGQUERY_MAX_BYTES_BILLED";
/// BigQuery's REST root instead of `https://bigquery.googleapis.com` (an emulator or a proxy).
pub const M4_BIGQUERY_API_URL: &str = "M4_BIGQUERY_API_URL";
/// `none`: send no Google credentials (only with a loopback `M4_BIGQUERY_API_URL`).
/// Unset or `adc`: Application Default Credentials.
pub const M4_BIGQUERY_CREDENTIALS: &str = "M4_BIGQUERY_CREDENTIALS";
/// Google's variable naming a service-account key or `authorized_user` file (read for ADC).
pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// gcloud's configuration folder, when not `~/.config/gcloud` (read for ADC).
pub const CLOUDSDK_CONFIG: &str = "CLOUDSDK_CONFIG";
/// The metadata server's host on Google Cloud, when not `metadata.google.internal` (read for ADC).
pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";

/// Base URL to download the MIMIC-IV demo from instead of PhysioNet (a mirror or a
/// proxy), laid out as PhysioNet's `https://physionet.org/files/mimic-iv-demo/2.2/`.
pub const M4_MIMIC_DEMO_URL: &str = "M4_MIMIC_DEMO_URL";

/// Internal, for the tests: milliseconds without a byte before a download attempt is
/// abandoned and resumed (default 30 s), so a stalled-server test ends in a second.
pub const M4_TEST_DOWNLOAD_IDLE_MS: &str = "M4_TEST_DOWNLOAD_IDLE_MS";

/// Default server cap on rows (`M4_MAX_ROWS`): the most a call may ask for with
/// execute_query's `max_rows`, and what the convenience tools' own `limit` may reach.
pub const DEFAULT_MAX_ROWS: usize = 1_000;
/// Rows execute_query returns when the call does not say (`max_rows`), never more
/// than the server's cap. Measured (benches/payload.sh): a row of a table costs
/// 80–200 tokens, so 100 rows are 8k–20k tokens, enough for a distribution,
/// a top-N or a cohort sample, and a tenth of a 200k-token context at most.
pub const DEFAULT_CALL_ROWS: usize = 100;
/// Default byte cap on the rendered table (`M4_MAX_BYTES`): measured at 2–3.5
/// bytes per token, 50,000 bytes are 15k–25k tokens, whatever `max_rows` asked.
pub const DEFAULT_MAX_BYTES: usize = 50_000;
/// Default query time limit: the demo answers any sensible query in well under a
/// second; the full MIMIC-IV needs longer for joins over `chartevents`.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default DuckDB memory limit for a served data set: room for joins over the
/// full MIMIC-IV's large tables without crowding a laptop.
pub const DEFAULT_MEMORY_LIMIT: u64 = 2_000_000_000;
/// Default temporary-disk cap: a spilled sort of a few hundred million rows fits;
/// a runaway cross join stops long before it fills the user's disk.
pub const DEFAULT_MAX_TEMP_SIZE: u64 = 4_000_000_000;
/// Most DuckDB threads by default: enough for a fast answer, while other m4
/// processes (Claude Desktop starts several) and the user's work keep cores.
pub const DEFAULT_MAX_THREADS: usize = 4;

/// Default cap on the bytes one BigQuery query may bill: 50 GB (about $0.31 at
/// BigQuery's on-demand $6.25/TiB; the free tier's first TiB a month covers ~20).
/// MIMIC-IV 3.1's `chartevents` has ~433 million rows, ~3.5 GB per 8-byte column,
/// so an ordinary chartevents query reading 4–8 columns (subject_id, stay_id,
/// itemid, charttime, valuenum, ...) needs 14–28 GB; 10 GB would refuse it.
pub const DEFAULT_BIGQUERY_MAX_BYTES_BILLED: u64 = 50_000_000_000;
/// PhysioNet's project hosting MIMIC-IV on BigQuery.
pub const DEFAULT_BIGQUERY_DATA_PROJECT: &str = "physionet-data";
/// The MIMIC-IV version served from BigQuery by default.
pub const DEFAULT_BIGQUERY_VERSION: &str = "3.1";

/// PhysioNet's BigQuery dataset names per MIMIC-IV version, for
/// `mimiciv_hosp`, `mimiciv_icu` and `mimiciv_derived`.
pub const BIGQUERY_VERSIONS: &[(&str, [&str; 3])] = &[
    (
        "3.1",
        ["mimiciv_3_1_hosp", "mimiciv_3_1_icu", "mimiciv_3_1_derived"],
    ),
    (
        "2.2",
        ["mimiciv_2_2_hosp", "mimiciv_2_2_icu", "mimiciv_2_2_derived"],
    ),
    ("latest", ["mimiciv_hosp", "mimiciv_icu", "mimiciv_derived"]),
];

/// Settings of the `mimic-iv-bigquery` data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigQuerySettings {
    /// The billing project (`M4_BIGQUERY_PROJECT`); `None` until the user sets it.
    pub project: Option<String>,
    pub data_project: String,
    /// The version named (`3.1`, `2.2`, `latest`), or `custom` with `M4_BIGQUERY_DATASETS`.
    pub version: String,
    /// Canonical schema → BigQuery dataset.
    pub datasets: Vec<(String, String)>,
    pub location: String,
    pub max_bytes_billed: u64,
    /// `M4_BIGQUERY_API_URL`, when set.
    pub api_url: Option<String>,
    /// `M4_BIGQUERY_CREDENTIALS=none`.
    pub no_credentials: bool,
    /// Where ADC looks: `GOOGLE_APPLICATION_CREDENTIALS`.
    pub credentials_file: Option<PathBuf>,
    /// gcloud's folder: `CLOUDSDK_CONFIG`, else `~/.config/gcloud` (`%APPDATA%\gcloud`).
    pub gcloud_config_dir: Option<PathBuf>,
    /// `GCE_METADATA_HOST`.
    pub metadata_host: Option<String>,
}

impl BigQuerySettings {
    fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<BigQuerySettings, ConfigError> {
        let nonempty = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let version =
            nonempty(M4_BIGQUERY_VERSION).unwrap_or_else(|| DEFAULT_BIGQUERY_VERSION.into());
        let names = BIGQUERY_VERSIONS
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(version.trim_start_matches(['v', 'V'])))
            .map(|(_, names)| names)
            .ok_or_else(|| ConfigError {
                variable: M4_BIGQUERY_VERSION,
                value: version.clone(),
                expected: "a MIMIC-IV version PhysioNet hosts on BigQuery",
                hint: "use 3.1, 2.2 or latest, or name the datasets with M4_BIGQUERY_DATASETS"
                    .into(),
            })?;
        let mut datasets: Vec<(String, String)> =
            ["mimiciv_hosp", "mimiciv_icu", "mimiciv_derived"]
                .iter()
                .zip(names.iter())
                .map(|(c, d)| (c.to_string(), d.to_string()))
                .collect();
        let mut version = version;
        if let Some(raw) = nonempty(M4_BIGQUERY_DATASETS) {
            let bad = || {
                ConfigError {
                variable: M4_BIGQUERY_DATASETS,
                value: raw.clone(),
                expected: "a list of `hosp=NAME,icu=NAME,derived=NAME`",
                hint: "name BigQuery datasets (letters, digits, _) for any of hosp, icu, derived, e.g. `hosp=mimiciv_3_1_hosp,icu=mimiciv_3_1_icu`".into(),
            }
            };
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (key, name) = part.split_once('=').ok_or_else(bad)?;
                let canonical = format!("mimiciv_{}", key.trim().to_ascii_lowercase());
                let name = name.trim();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad());
                }
                let slot = datasets
                    .iter_mut()
                    .find(|(c, _)| *c == canonical)
                    .ok_or_else(bad)?;
                slot.1 = name.to_string();
            }
            version = "custom".into();
        }
        let api_url = nonempty(M4_BIGQUERY_API_URL);
        let no_credentials = match nonempty(M4_BIGQUERY_CREDENTIALS).map(|v| v.to_ascii_lowercase())
        {
            None => false,
            Some(v) if v == "adc" => false,
            Some(v) if v == "none" => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: M4_BIGQUERY_CREDENTIALS,
                    value: other,
                    expected: "`none` or `adc`",
                    hint: "unset it to use Google's Application Default Credentials".into(),
                });
            }
        };
        if no_credentials && !api_url.as_deref().is_some_and(is_loopback_url) {
            return Err(ConfigError {
                variable: M4_BIGQUERY_CREDENTIALS,
                value: "none".into(),
                expected: "allowed with this API URL",
                hint: "sending no credentials is only for an emulator on this machine: set M4_BIGQUERY_API_URL to an http://127.0.0.1:PORT (or localhost) URL, or unset M4_BIGQUERY_CREDENTIALS".into(),
            });
        }
        let gcloud_config_dir = nonempty(CLOUDSDK_CONFIG).map(PathBuf::from).or_else(|| {
            if cfg!(windows) {
                nonempty("APPDATA").map(|d| PathBuf::from(d).join("gcloud"))
            } else {
                nonempty("HOME").map(|h| PathBuf::from(h).join(".config").join("gcloud"))
            }
        });
        Ok(BigQuerySettings {
            project: nonempty(M4_BIGQUERY_PROJECT),
            data_project: nonempty(M4_BIGQUERY_DATA_PROJECT)
                .unwrap_or_else(|| DEFAULT_BIGQUERY_DATA_PROJECT.into()),
            version,
            datasets,
            location: nonempty(M4_BIGQUERY_LOCATION).unwrap_or_else(|| "US".into()),
            max_bytes_billed: parse_byte_size(
                lookup,
                M4_BIGQUERY_MAX_BYTES_BILLED,
                DEFAULT_BIGQUERY_MAX_BYTES_BILLED,
                10_000_000,
            )?,
            api_url,
            no_credentials,
            credentials_file: nonempty(GOOGLE_APPLICATION_CREDENTIALS).map(PathBuf::from),
            gcloud_config_dir,
            metadata_host: nonempty(GCE_METADATA_HOST),
        })
    }
}

/// Whether `url` is an http(s) URL on this machine (127.0.0.0/8, ::1, localhost).
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return false;
    }
    match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A setting that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("`{variable}` is set to `{value}`, which is not {expected}\n\nhint: {hint}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
    pub hint: String,
}

/// Settings for the server and the command line, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The data set named by `M4_DATASET`/`--dataset`, if any.
    pub dataset: Option<String>,
    /// Rows a result returns before it is truncated.
    pub max_rows: usize,
    /// Bytes of a rendered result before it is truncated.
    pub max_bytes: usize,
    /// Time a query may run.
    pub query_timeout: Duration,
    /// Memory a served data set's engine may use, in bytes.
    pub memory_limit: u64,
    /// Temporary disk a served data set's engine may fill, in bytes; 0 turns spilling off.
    pub max_temp_size: u64,
    /// Engine worker threads.
    pub threads: usize,
    /// The demo download mirror (`M4_MIMIC_DEMO_URL`), if set.
    pub demo_url: Option<String>,
    /// How long a download may go without a byte before the attempt is resumed
    /// (`M4_TEST_DOWNLOAD_IDLE_MS`, for the tests; `None`: the downloader's default).
    pub download_idle: Option<Duration>,
    /// The `mimic-iv-bigquery` data set's settings.
    pub bigquery: BigQuerySettings,
}

impl Settings {
    /// Reads settings through `lookup` (the process environment at the edge, a
    /// map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let lookup = filled(lookup);
        let nonempty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_dir = nonempty(M4_DATA_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(default_data_dir);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let default_threads = cores.min(DEFAULT_MAX_THREADS);
        Ok(Settings {
            data_dir,
            dataset: nonempty(M4_DATASET).map(|v| v.trim().to_string()),
            max_rows: parse_positive(&lookup, M4_MAX_ROWS, DEFAULT_MAX_ROWS, 1_000_000)?,
            max_bytes: parse_positive(&lookup, M4_MAX_BYTES, DEFAULT_MAX_BYTES, 100_000_000)?,
            query_timeout: Duration::from_secs(parse_positive(
                &lookup,
                M4_QUERY_TIMEOUT,
                DEFAULT_QUERY_TIMEOUT.as_secs() as usize,
                86_400,
            )? as u64),
            memory_limit: parse_byte_size(
                &lookup,
                M4_MEMORY_LIMIT,
                DEFAULT_MEMORY_LIMIT,
                16 << 20,
            )?,
            max_temp_size: parse_byte_size(&lookup, M4_MAX_TEMP_SIZE, DEFAULT_MAX_TEMP_SIZE, 0)?,
            threads: parse_positive(&lookup, M4_THREADS, default_threads, 1024)?,
            demo_url: nonempty(M4_MIMIC_DEMO_URL).map(|v| v.trim().to_string()),
            download_idle: nonempty(M4_TEST_DOWNLOAD_IDLE_MS)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
            bigquery: BigQuerySettings::from_lookup(&lookup)?,
        })
    }
}

/// Parses a size such as `2GB`, `512 MB`, `1.5GiB` or `1000000` (bytes) into
/// bytes, at least `min`, or returns `default` when the variable is unset.
pub fn parse_byte_size(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    min: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    let error = || ConfigError {
        variable,
        value: raw.clone(),
        expected: "a size",
        hint: format!(
            "write a number with a unit, such as `2GB`, `512MB` or `1.5GiB`{}, or unset it for the default",
            if min == 0 { " (0 turns it off)" } else { "" }
        ),
    };
    let text = raw.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| error())?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(error()),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(error());
    }
    let bytes = bytes as u64;
    if bytes < min {
        return Err(ConfigError {
            variable,
            value: raw.clone(),
            expected: "a size large enough",
            hint: format!("use at least {} MB", min.div_ceil(1_000_000)),
        });
    }
    Ok(bytes)
}

/// The data folder when neither `M4_DATA_DIR` nor `--data-dir` names one: `m4` in the
/// user's data folder (`~/Library/Application Support/m4`, `%APPDATA%\m4`,
/// `$XDG_DATA_HOME/m4` or `~/.local/share/m4`), the same for an installed binary and a
/// source checkout, so one binary behaves the same wherever it was built. (A checkout's
/// `data/` holds only the data-set manifests; `M4_DATA_DIR=data` keeps databases there.)
/// Without a home folder: `m4-data` in the current folder.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|dir| dir.join("m4"))
        .unwrap_or_else(|| PathBuf::from("m4-data"))
}

/// Whether `value` still holds a `${...}` placeholder: an MCP bundle host passes an
/// unfilled field (`${user_config.data_dir}`) to the server literally.
pub fn is_unfilled(value: &str) -> bool {
    value.contains("${")
}

/// Wraps a variable lookup so that a value still holding a `${...}` placeholder reads as
/// unset, with one warning per variable on stderr (logging is not set up yet when
/// settings are read). The one place this rule lives: [`Settings::from_lookup`],
/// `auth::config` and `cli` (for clap's `env` values) all go through it.
pub fn filled(lookup: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        let value = lookup(name)?;
        if is_unfilled(&value) {
            warn_unfilled(name, &value);
            return None;
        }
        Some(value)
    }
}

/// `value` unless it is empty (as `from_lookup` treats it) or holds a `${...}` placeholder
/// (then with a warning naming `variable`): for values clap read from the environment.
pub fn unless_unfilled<T: AsRef<std::ffi::OsStr>>(variable: &str, value: Option<T>) -> Option<T> {
    let value = value?;
    let text = value.as_ref().to_string_lossy().into_owned();
    if text.trim().is_empty() {
        return None;
    }
    if is_unfilled(&text) {
        warn_unfilled(variable, &text);
        return None;
    }
    Some(value)
}

fn warn_unfilled(variable: &str, value: &str) {
    static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = WARNED
        .lock()
        .map(|mut warned| warned.insert(variable.to_string()))
        .unwrap_or(true);
    if !first {
        return;
    }
    let shown = if matches!(variable, M4_OAUTH2_TOKEN | M4_OAUTH2_CLIENT_SECRET) {
        "a value"
    } else {
        value
    };
    eprintln!(
        "warning: `{variable}` is set to `{shown}`, which still holds an unfilled `${{...}}` placeholder; \
         m4 treats it as unset\n\nhint: fill in the field in the extension's settings (Claude Desktop: \
         Settings → Extensions → m4), or remove `{variable}` from the client's entry"
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        for (raw, bytes) in [
            ("2GB", 2_000_000_000),
            ("512 MB", 512_000_000),
            ("1.5GiB", 1_610_612_736),
            ("100000000", 100_000_000),
            ("64mb", 64_000_000),
        ] {
            let parsed = parse_byte_size(&lookup(&[(M4_MEMORY_LIMIT, raw)]), M4_MEMORY_LIMIT, 1, 1);
            assert_eq!(parsed.unwrap(), bytes, "{raw}");
        }
    }

    #[test]
    fn a_bad_memory_limit_names_the_variable_and_the_form() {
        for raw in ["lots", "2 parsecs", "-1GB", "0", "1KB"] {
            let error = Settings::from_lookup(lookup(&[(M4_MEMORY_LIMIT, raw)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains("`M4_MEMORY_LIMIT`"), "{raw}: {error}");
            assert!(error.contains("hint:"), "{raw}: {error}");
        }
    }

    #[test]
    fn zero_turns_spilling_off() {
        let settings = Settings::from_lookup(lookup(&[(M4_MAX_TEMP_SIZE, "0")])).unwrap();
        assert_eq!(settings.max_temp_size, 0);
    }

    #[test]
    fn bigquery_defaults_to_mimic_iv_3_1_on_physionet_data() {
        let b = Settings::from_lookup(lookup(&[])).unwrap().bigquery;
        assert_eq!(b.data_project, "physionet-data");
        assert_eq!(
            b.datasets,
            vec![
                ("mimiciv_hosp".to_string(), "mimiciv_3_1_hosp".to_string()),
                ("mimiciv_icu".to_string(), "mimiciv_3_1_icu".to_string()),
                (
                    "mimiciv_derived".to_string(),
                    "mimiciv_3_1_derived".to_string()
                ),
            ]
        );
        assert_eq!(b.max_bytes_billed, DEFAULT_BIGQUERY_MAX_BYTES_BILLED);
        assert_eq!(b.project, None);
        let b = Settings::from_lookup(lookup(&[
            (M4_BIGQUERY_VERSION, "2.2"),
            (M4_BIGQUERY_DATASETS, "derived=my_concepts"),
        ]))
        .unwrap()
        .bigquery;
        assert_eq!(b.datasets[0].1, "mimiciv_2_2_hosp");
        assert_eq!(b.datasets[2].1, "my_concepts");
    }

    #[test]
    fn no_credentials_is_only_for_a_loopback_api_url() {
        let with = |url: &str| {
            Settings::from_lookup(lookup(&[
                (M4_BIGQUERY_CREDENTIALS, "none"),
                (M4_BIGQUERY_API_URL, url),
            ]))
        };
        assert!(
            with("http://127.0.0.1:9050")
                .unwrap()
                .bigquery
                .no_credentials
        );
        assert!(with("http://localhost:9050").is_ok());
        assert!(with("http://[::1]:9050").is_ok());
        for remote in [
            "https://bigquery.googleapis.com",
            "http://10.0.0.1:9050",
            "http://127.0.0.1.evil.example",
        ] {
            let error = with(remote).unwrap_err().to_string();
            assert!(
                error.contains("M4_BIGQUERY_CREDENTIALS"),
                "{remote}: {error}"
            );
        }
        let error = Settings::from_lookup(lookup(&[(M4_BIGQUERY_CREDENTIALS, "none")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("M4_BIGQUERY_API_URL"), "{error}");
        let error = Settings::from_lookup(lookup(&[(M4_BIGQUERY_VERSION, "4.0")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("3.1, 2.2 or latest"), "{error}");
    }

    #[test]
    fn defaults_apply_when_unset() {
        let settings = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(settings.memory_limit, DEFAULT_MEMORY_LIMIT);
        assert_eq!(settings.max_temp_size, DEFAULT_MAX_TEMP_SIZE);
        assert!((1..=DEFAULT_MAX_THREADS).contains(&settings.threads));
        assert_eq!(settings.max_rows, DEFAULT_MAX_ROWS);
    }
}
