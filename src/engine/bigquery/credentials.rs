//! Google credentials for BigQuery, found in Application Default Credentials
//! order, and the access token they yield, cached and renewed before it expires.
//!
//! Order (as Google's client libraries): the file named by
//! `GOOGLE_APPLICATION_CREDENTIALS` (a service-account key, exchanged with a
//! signed JWT, or an `authorized_user` file, exchanged with its refresh token);
//! else gcloud's `application_default_credentials.json` (written by `gcloud auth
//! application-default login`); else the metadata server of a Google Cloud
//! machine. The environment is read by the command line and handed in as
//! [`AdcEnv`]; this module never reads it, and never logs a secret.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::sync::lock;
use serde::Deserialize;

/// The OAuth scope m4 asks for: BigQuery (jobs.insert and jobs.cancel need more than read-only).
pub const SCOPE: &str = "https://www.googleapis.com/auth/bigquery";
/// Google's token endpoint, when a credentials file names none.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The metadata server's host on Google Cloud machines.
pub const METADATA_HOST: &str = "metadata.google.internal";
/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Where Application Default Credentials are looked for (read from the environment at the edge).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdcEnv {
    /// `GOOGLE_APPLICATION_CREDENTIALS`.
    pub credentials_file: Option<PathBuf>,
    /// gcloud's configuration folder: `CLOUDSDK_CONFIG`, else `~/.config/gcloud`
    /// (`%APPDATA%\gcloud` on Windows).
    pub gcloud_config_dir: Option<PathBuf>,
    /// `GCE_METADATA_HOST`, else [`METADATA_HOST`].
    pub metadata_host: Option<String>,
}

/// Credentials that yield access tokens.
#[derive(Clone)]
pub enum Credentials {
    /// Send no `Authorization` header (an emulator on loopback).
    None,
    /// A user's refresh token (`gcloud auth application-default login`).
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        token_uri: String,
        quota_project: Option<String>,
    },
    /// A service-account key: a JWT signed with its private key is exchanged for a token.
    ServiceAccount {
        client_email: String,
        private_key: String,
        private_key_id: Option<String>,
        token_uri: String,
    },
    /// The metadata server of a Google Cloud machine.
    Metadata { host: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.write_str(&self.kind())
    }
}

impl Credentials {
    /// What kind of credentials these are, for messages (no secrets).
    pub fn kind(&self) -> String {
        match self {
            Credentials::None => "no credentials".into(),
            Credentials::AuthorizedUser { .. } => "a user's credentials (authorized_user)".into(),
            Credentials::ServiceAccount { client_email, .. } => {
                format!("service account {client_email}")
            }
            Credentials::Metadata { host } => format!("the metadata server at {host}"),
        }
    }

    /// The project requests are billed to for quota, when the credentials name one.
    pub fn quota_project(&self) -> Option<&str> {
        match self {
            Credentials::AuthorizedUser { quota_project, .. } => quota_project.as_deref(),
            _ => None,
        }
    }
}

/// Credentials and where they were found.
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Credentials,
    /// `GOOGLE_APPLICATION_CREDENTIALS (/path)`, `gcloud's file (/path)`, `the metadata server`.
    pub origin: String,
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "GOOGLE_APPLICATION_CREDENTIALS names `{path}`, which cannot be read: {reason}\n\nhint: point it at a service-account key or an authorized_user file, or unset it to use `gcloud auth application-default login`"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "`{path}` is not a credentials file m4 can use: {reason}\n\nhint: use a service-account key (JSON) or run `gcloud auth application-default login`"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "no Google credentials found (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application-default file, no metadata server)\n\nhint: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key"
    )]
    NotFound,
    #[error(
        "Google refused to renew the sign-in from {origin}: {reason}\n\nhint: sign in again with `gcloud auth application-default login`"
    )]
    Refused { origin: String, reason: String },
    #[error(
        "could not get an access token from {origin}: {reason}\n\nhint: check the network connection to Google, then retry"
    )]
    Unreachable { origin: String, reason: String },
}

#[derive(Deserialize)]
struct FileShape {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    quota_project_id: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// Finds credentials in ADC order. The metadata server is the last resort and is
/// not probed here: a machine without one fails when the first token is asked for.
pub fn discover(env: &AdcEnv) -> Result<Found, CredentialError> {
    if let Some(path) = &env.credentials_file {
        let text = std::fs::read_to_string(path).map_err(|e| CredentialError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        return Ok(Found {
            credentials: parse(path, &text)?,
            origin: format!("GOOGLE_APPLICATION_CREDENTIALS ({})", path.display()),
        });
    }
    if let Some(dir) = &env.gcloud_config_dir {
        let path = dir.join("application_default_credentials.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Found {
                credentials: parse(&path, &text)?,
                origin: format!("gcloud's application-default file ({})", path.display()),
            });
        }
    }
    let host = env
        .metadata_host
        .clone()
        .unwrap_or_else(|| METADATA_HOST.to_string());
    Ok(Found {
        origin: format!("the metadata server ({host})"),
        credentials: Credentials::Metadata { host },
    })
}

/// Parses a credentials file's JSON.
pub fn parse(path: &Path, text: &str) -> Result<Credentials, CredentialError> {
    let invalid = |reason: &str| CredentialError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let shape: FileShape =
        serde_json::from_str(text).map_err(|e| invalid(&format!("not JSON ({e})")))?;
    match shape.kind.as_deref() {
        Some("authorized_user") => Ok(Credentials::AuthorizedUser {
            client_id: shape.client_id.ok_or_else(|| invalid("no client_id"))?,
            client_secret: shape
                .client_secret
                .ok_or_else(|| invalid("no client_secret"))?,
            refresh_token: shape
                .refresh_token
                .ok_or_else(|| invalid("no refresh_token"))?,
            token_uri: shape
                .token_uri
                .unwrap_or_else(|| GOOGLE_TOKEN_URI.to_string()),
            quota_project: shape.quota_project_id.filter(|p| !p.is_empty()),
        }),
        Some("service_account") => Ok(Credentials::ServiceAccount {
            client_email: shape
                .client_email
                .ok_or_else(|| invalid("no client_email"))?,
            private_key: shape.private_key.ok_or_else(|| invalid("no private_key"))?,
            private_key_id: shape.private_key_id,
            token_uri: shape
                .token_uri
                .unwrap_or_else(|| GOOGLE_TOKEN_URI.to_string()),
        }),
        Some(other) => Err(invalid(&format!(
            "credentials of type `{other}` are not supported (m4 supports service_account and authorized_user)"
        ))),
        None => Err(invalid("no `type` field")),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

struct Cached {
    token: String,
    renew_at: Instant,
}

/// Access tokens from one set of credentials, cached until shortly before they expire.
pub struct TokenSource {
    found: Found,
    agent: ureq::Agent,
    // A std Mutex: held across the token request, so concurrent calls share one renewal.
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("origin", &self.found.origin)
            .finish()
    }
}

impl TokenSource {
    pub fn new(found: Found) -> TokenSource {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .new_agent();
        TokenSource {
            found,
            agent,
            cached: Mutex::new(None),
        }
    }

    /// Where the credentials came from and what they are.
    pub fn found(&self) -> &Found {
        &self.found
    }

    /// A valid access token (`None`: send no credentials).
    pub fn token(&self) -> Result<Option<String>, CredentialError> {
        if matches!(self.found.credentials, Credentials::None) {
            return Ok(None);
        }
        let mut cached = lock(&self.cached);
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(Some(c.token.clone()));
        }
        let (token, lifetime) = self.fetch()?;
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
        *cached = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(Some(token))
    }

    /// Forgets the cached token (after a 401), so the next call gets a new one.
    pub fn invalidate(&self) {
        *lock(&self.cached) = None;
    }

    fn fetch(&self) -> Result<(String, Duration), CredentialError> {
        let origin = self.found.origin.clone();
        let unreachable = |reason: String| CredentialError::Unreachable {
            origin: origin.clone(),
            reason,
        };
        let response = match &self.found.credentials {
            Credentials::None => return Err(CredentialError::NotFound),
            Credentials::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
                ..
            } => self.agent.post(token_uri).send_form([
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.as_str()),
                ("refresh_token", refresh_token.as_str()),
            ]),
            Credentials::ServiceAccount {
                client_email,
                private_key,
                private_key_id,
                token_uri,
                ..
            } => {
                let assertion =
                    service_account_jwt(client_email, private_key, private_key_id, token_uri)
                        .map_err(|reason| CredentialError::Invalid {
                            path: PathBuf::from(&self.found.origin),
                            reason,
                        })?;
                self.agent.post(token_uri).send_form([
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ])
            }
            Credentials::Metadata { host } => {
                let url = format!(
                    "http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={SCOPE}"
                );
                let short = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_connect(Some(Duration::from_secs(2)))
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .new_agent();
                match short.get(&url).header("Metadata-Flavor", "Google").call() {
                    Ok(response) => Ok(response),
                    // No metadata server: this is not a Google Cloud machine.
                    Err(ureq::Error::HostNotFound | ureq::Error::ConnectionFailed) => {
                        return Err(CredentialError::NotFound);
                    }
                    Err(ureq::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::ConnectionRefused =>
                    {
                        return Err(CredentialError::NotFound);
                    }
                    Err(other) => Err(other),
                }
            }
        };
        let mut response = response.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let body: TokenResponse = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_json()
            .map_err(|e| unreachable(format!("HTTP {status}, unreadable answer ({e})")))?;
        match body {
            TokenResponse {
                access_token: Some(token),
                expires_in,
                ..
            } if (200..300).contains(&status) => {
                Ok((token, Duration::from_secs(expires_in.unwrap_or(3600))))
            }
            TokenResponse {
                error,
                error_description,
                ..
            } => {
                let reason = match (error, error_description) {
                    (Some(e), Some(d)) => format!("{e}: {d}"),
                    (Some(e), None) => e,
                    (None, Some(d)) => d,
                    (None, None) => format!("HTTP {status}"),
                };
                if (400..500).contains(&status) {
                    Err(CredentialError::Refused { origin, reason })
                } else {
                    Err(unreachable(reason))
                }
            }
        }
    }
}

/// The JWT-bearer assertion for a service account: RS256 over
/// `{iss, scope, aud: token_uri, iat, exp}`, `kid` = the key's id.
pub fn service_account_jwt(
    client_email: &str,
    private_key: &str,
    private_key_id: &Option<String>,
    token_uri: &str,
) -> Result<String, String> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.as_bytes())
        .map_err(|e| format!("the private_key is not an RSA key in PEM form ({e})"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = private_key_id.clone();
    let claims = serde_json::json!({
        "iss": client_email,
        "scope": SCOPE,
        "aud": token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| format!("could not sign ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const USER: &str = r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r","quota_project_id":"q"}"#;

    #[test]
    fn adc_order_is_the_named_file_then_gcloud_then_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let gcloud = dir.path().join("gcloud");
        std::fs::create_dir_all(&gcloud).unwrap();
        write(&gcloud, "application_default_credentials.json", USER);
        let key = std::fs::read_to_string(crate::auth::testkeys::fixtures_dir().join("rsa-a.pem"))
            .unwrap();
        let sa = serde_json::json!({"type":"service_account","client_email":"sa@p.iam","private_key":key,"token_uri":"http://127.0.0.1:1/token"}).to_string();
        let named = write(dir.path(), "sa.json", &sa);
        let env = AdcEnv {
            credentials_file: Some(named.clone()),
            gcloud_config_dir: Some(gcloud.clone()),
            metadata_host: Some("127.0.0.1:9".into()),
        };
        let found = discover(&env).unwrap();
        assert!(matches!(
            found.credentials,
            Credentials::ServiceAccount { .. }
        ));
        assert!(found.origin.contains("GOOGLE_APPLICATION_CREDENTIALS"));
        let found = discover(&AdcEnv {
            credentials_file: None,
            ..env.clone()
        })
        .unwrap();
        assert!(matches!(
            found.credentials,
            Credentials::AuthorizedUser { .. }
        ));
        assert_eq!(found.credentials.quota_project(), Some("q"));
        let found = discover(&AdcEnv {
            credentials_file: None,
            gcloud_config_dir: Some(dir.path().join("none")),
            ..env.clone()
        })
        .unwrap();
        assert!(
            matches!(found.credentials, Credentials::Metadata { ref host } if host == "127.0.0.1:9")
        );
        // A named file that is missing is an error, not a fall-through.
        let error = discover(&AdcEnv {
            credentials_file: Some(dir.path().join("missing.json")),
            ..env
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{error}");
    }

    #[test]
    fn unsupported_and_broken_files_say_what_to_use() {
        let path = Path::new("x.json");
        for (text, needle) in [
            (r#"{"type":"external_account"}"#, "not supported"),
            ("nope", "not JSON"),
            (r#"{"type":"authorized_user"}"#, "client_id"),
        ] {
            let error = parse(path, text).unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
            assert!(error.contains("hint:"), "{error}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let text = USER
            .replace("\"s\"", "\"SECRET-1\"")
            .replace("\"r\"", "\"SECRET-2\"");
        let credentials = parse(Path::new("x"), &text).unwrap();
        let shown = format!("{credentials:?} {}", credentials.kind());
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn a_metadata_host_that_does_not_answer_means_no_credentials() {
        // Port 9 (discard) on loopback is closed here: connection refused.
        let source = TokenSource::new(Found {
            credentials: Credentials::Metadata {
                host: "127.0.0.1:9".into(),
            },
            origin: "the metadata server".into(),
        });
        let error = source.token().unwrap_err();
        assert!(matches!(error, CredentialError::NotFound), "{error}");
    }
}
