//! The `M4_OAUTH2_*` settings, parsed once into [`AuthConfig`].
//!
//! Owns parsing and defaults only; it does no network I/O and decides nothing about a
//! token. Variable names are the constants in [`crate::config`].

use std::fmt;
use std::time::Duration;

use url::Url;

use super::discovery::require_secure;
use super::{AuthError, Credential};
use crate::config::{self, parse_bool, parse_positive};

/// Scope required when `M4_OAUTH2_REQUIRED_SCOPES` is unset (the M4 OAuth2 guide's default).
pub const DEFAULT_REQUIRED_SCOPE: &str = "read:mimic-data";
/// Default key-set cache lifetime.
pub const DEFAULT_JWKS_TTL_SECS: usize = 3_600;
/// Default calls per user per window.
pub const DEFAULT_RATE_LIMIT_REQUESTS: usize = 100;
/// Default rate-limit window.
pub const DEFAULT_RATE_LIMIT_WINDOW_SECS: usize = 3_600;
/// Default clock-skew leeway: one minute absorbs ordinary NTP drift between the
/// provider and this machine without keeping an expired token alive for long.
pub const DEFAULT_LEEWAY_SECS: usize = 60;

/// A value that must never reach a log line or a message: its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Client-credentials grant settings (RFC 6749 §4.4).
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// Per-user rate limit; `None` in [`AuthConfig::rate_limit`] when turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub requests: u32,
    pub window: Duration,
}

/// Everything `M4_OAUTH2_*` says, typed.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Expected `iss`, exactly as configured (compared byte for byte).
    pub issuer: String,
    pub audience: String,
    pub required_scopes: Vec<String>,
    /// Explicit key-set URL; discovered from the issuer when `None`.
    pub jwks_url: Option<Url>,
    pub jwks_ttl: Duration,
    pub client: Option<ClientCredentials>,
    /// `M4_OAUTH2_CLIENT_ID` without a secret: the public client of `m4 auth login`,
    /// whose stored sign-in supplies the token when `M4_OAUTH2_TOKEN` is unset.
    pub public_client_id: Option<String>,
    pub validate_exp: bool,
    pub validate_aud: bool,
    pub validate_iss: bool,
    /// Demand the strict RFC 9068 profile (`M4_OAUTH2_STRICT_RFC9068`).
    pub strict_rfc9068: bool,
    pub rate_limit: Option<RateLimitConfig>,
    pub leeway: Duration,
    /// The access token from `M4_OAUTH2_TOKEN`, `Bearer ` prefix removed.
    pub token: Option<Secret>,
    /// `M4_OAUTH2_CREDENTIAL_STORE=file`: keep the sign-in in the user-only file
    /// even where an operating-system credential store is available.
    pub file_store_only: bool,
}

impl AuthConfig {
    /// Reads the settings through `lookup`; `Ok(None)` when authentication is off.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<AuthConfig>, AuthError> {
        // An unfilled bundle field (`${user_config.x}`) reads as unset.
        let lookup = config::filled(lookup);
        if !parse_bool(&lookup, config::M4_OAUTH2_ENABLED, false)? {
            return Ok(None);
        }
        let issuer = required(
            &lookup,
            config::M4_OAUTH2_ISSUER_URL,
            "set it to your identity provider's issuer URL, e.g. `https://your-domain.okta.com/oauth2/default`",
        )?;
        match Url::parse(&issuer) {
            Err(e) => {
                return Err(config::ConfigError {
                    variable: config::M4_OAUTH2_ISSUER_URL,
                    value: issuer,
                    expected: "a URL",
                    hint: format!("{e}; use the issuer URL your provider publishes, e.g. `https://your-domain.okta.com/oauth2/default`"),
                }
                .into());
            }
            Ok(url) => require_secure(&url).map_err(|hint| config::ConfigError {
                variable: config::M4_OAUTH2_ISSUER_URL,
                value: issuer.clone(),
                expected: "an `https://` URL",
                hint,
            })?,
        }
        let audience = required(
            &lookup,
            config::M4_OAUTH2_AUDIENCE,
            "set it to the audience (API identifier) your provider puts in `aud`, e.g. `https://m4.example.org/api`",
        )?;
        let required_scopes = match nonempty(&lookup, config::M4_OAUTH2_REQUIRED_SCOPES) {
            Some(raw) => split_scopes(&raw),
            None => vec![DEFAULT_REQUIRED_SCOPE.to_string()],
        };
        let jwks_url = match nonempty(&lookup, config::M4_OAUTH2_JWKS_URL) {
            None => None,
            Some(raw) => {
                let url = Url::parse(raw.trim()).map_err(|e| config::ConfigError {
                    variable: config::M4_OAUTH2_JWKS_URL,
                    value: raw.clone(),
                    expected: "a URL",
                    hint: format!("{e}; unset it to discover the key set from the issuer"),
                })?;
                require_secure(&url).map_err(|hint| config::ConfigError {
                    variable: config::M4_OAUTH2_JWKS_URL,
                    value: raw.clone(),
                    expected: "an `https://` URL",
                    hint,
                })?;
                Some(url)
            }
        };
        let jwks_ttl = secs(parse_positive(
            &lookup,
            config::M4_OAUTH2_JWKS_CACHE_TTL,
            DEFAULT_JWKS_TTL_SECS,
            7 * 86_400,
        )?);
        let client = match (
            nonempty(&lookup, config::M4_OAUTH2_CLIENT_ID),
            nonempty(&lookup, config::M4_OAUTH2_CLIENT_SECRET),
        ) {
            (Some(client_id), Some(secret)) => Some(ClientCredentials {
                client_id: client_id.trim().to_string(),
                client_secret: Secret::new(secret),
            }),
            (None, None) | (Some(_), None) => None,
            (None, Some(_)) => {
                return Err(AuthError::NotSet {
                    variable: config::M4_OAUTH2_CLIENT_ID,
                    hint: "it is needed with `M4_OAUTH2_CLIENT_SECRET`; set both or neither".into(),
                });
            }
        };
        // A client id alone is a public client: the one `m4 auth login` signs in with.
        let public_client_id = match (&client, nonempty(&lookup, config::M4_OAUTH2_CLIENT_ID)) {
            (None, Some(id)) => Some(id.trim().to_string()),
            _ => None,
        };
        let rate_limit = if parse_bool(&lookup, config::M4_OAUTH2_RATE_LIMIT_ENABLED, true)? {
            Some(RateLimitConfig {
                requests: parse_positive(
                    &lookup,
                    config::M4_OAUTH2_RATE_LIMIT_REQUESTS,
                    DEFAULT_RATE_LIMIT_REQUESTS,
                    u32::MAX as usize,
                )? as u32,
                window: secs(parse_positive(
                    &lookup,
                    config::M4_OAUTH2_RATE_LIMIT_WINDOW,
                    DEFAULT_RATE_LIMIT_WINDOW_SECS,
                    30 * 86_400,
                )?),
            })
        } else {
            None
        };
        let leeway = match nonempty(&lookup, config::M4_OAUTH2_LEEWAY) {
            // Zero is a legitimate leeway (tests, tightly synchronised clocks), which
            // `parse_positive` would refuse.
            Some(raw) if raw.trim() == "0" => Duration::ZERO,
            _ => secs(parse_positive(
                &lookup,
                config::M4_OAUTH2_LEEWAY,
                DEFAULT_LEEWAY_SECS,
                3_600,
            )?),
        };
        let token =
            nonempty(&lookup, config::M4_OAUTH2_TOKEN).map(|raw| Secret::new(strip_bearer(&raw)));
        Ok(Some(AuthConfig {
            issuer,
            audience,
            required_scopes,
            jwks_url,
            jwks_ttl,
            client,
            public_client_id,
            validate_exp: parse_bool(&lookup, config::M4_OAUTH2_VALIDATE_EXP, true)?,
            validate_aud: parse_bool(&lookup, config::M4_OAUTH2_VALIDATE_AUD, true)?,
            validate_iss: parse_bool(&lookup, config::M4_OAUTH2_VALIDATE_ISS, true)?,
            strict_rfc9068: parse_bool(&lookup, config::M4_OAUTH2_STRICT_RFC9068, false)?,
            file_store_only: match nonempty(&lookup, config::M4_OAUTH2_CREDENTIAL_STORE) {
                None => false,
                Some(v) if v.trim().eq_ignore_ascii_case("file") => true,
                Some(v) if v.trim().eq_ignore_ascii_case("os") => false,
                Some(v) => {
                    return Err(config::ConfigError {
                        variable: config::M4_OAUTH2_CREDENTIAL_STORE,
                        value: v.clone(),
                        expected: "`file` or `os`",
                        hint: "`file` keeps the sign-in in a file readable by you alone; `os` (the default) uses the operating system's credential store".into(),
                    }
                    .into());
                }
            },
            rate_limit,
            leeway,
            token,
        }))
    }

    /// What start-up must fetch for calls that present `credential`: the one plan the
    /// server and `m4 auth check` both follow.
    pub fn plan(&self, credential: Credential) -> StartupPlan {
        let configured = credential == Credential::Configured && self.token.is_none();
        let client_credentials = configured && self.client.is_some();
        let sign_in = configured && self.public_client_id.is_some();
        StartupPlan {
            discover: self.jwks_url.is_none() || client_credentials || sign_in,
            client_credentials,
            sign_in,
        }
    }

    /// The checks this configuration turns off, for a start-up warning each.
    pub fn disabled_checks(&self) -> Vec<&'static str> {
        [
            (self.validate_exp, config::M4_OAUTH2_VALIDATE_EXP),
            (self.validate_aud, config::M4_OAUTH2_VALIDATE_AUD),
            (self.validate_iss, config::M4_OAUTH2_VALIDATE_ISS),
        ]
        .into_iter()
        .filter(|(on, _)| !on)
        .map(|(_, name)| name)
        .collect()
    }
}

/// What start-up fetches, decided from the configuration alone ([`AuthConfig::plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartupPlan {
    /// Fetch OpenID discovery: for the key-set URL when `M4_OAUTH2_JWKS_URL` is unset,
    /// or for the token endpoint of the client-credentials grant.
    pub discover: bool,
    /// Obtain the token with the client-credentials grant (no `M4_OAUTH2_TOKEN`, a
    /// client id and secret, and calls that use the configured token).
    pub client_credentials: bool,
    /// Use the stored sign-in of the public client (no `M4_OAUTH2_TOKEN`, a client id
    /// without a secret, and calls that use the configured token).
    pub sign_in: bool,
}

/// Removes an optional `Bearer ` prefix (any case) and surrounding whitespace:
/// people paste the whole `Authorization` header value.
pub fn strip_bearer(raw: &str) -> &str {
    let trimmed = raw.trim();
    match (trimmed.get(..6), trimmed.get(6..)) {
        (Some(scheme), Some(rest))
            if scheme.eq_ignore_ascii_case("bearer")
                && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
        {
            rest.trim()
        }
        _ => trimmed,
    }
}

/// Scopes separated by spaces or commas (both appear in providers' docs).
pub fn split_scopes(raw: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in raw.split([' ', ',', '\t', '\n']).filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

fn nonempty(lookup: &impl Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
    lookup(variable).filter(|v| !v.trim().is_empty())
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    hint: &str,
) -> Result<String, AuthError> {
    nonempty(lookup, variable)
        .map(|v| v.trim().to_string())
        .ok_or_else(|| AuthError::NotSet {
            variable,
            hint: hint.to_string(),
        })
}

fn secs(n: usize) -> Duration {
    Duration::from_secs(n as u64)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Option<AuthConfig>, AuthError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::from_lookup(|name| map.get(name).cloned())
    }

    const ON: [(&str, &str); 3] = [
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", "https://idp.example/"),
        ("M4_OAUTH2_AUDIENCE", "https://m4.example/api"),
    ];

    #[test]
    fn auth_is_off_unless_enabled() {
        assert!(parse(&[]).unwrap().is_none());
        assert!(parse(&[("M4_OAUTH2_ENABLED", "no")]).unwrap().is_none());
        assert!(parse(&[("M4_OAUTH2_ENABLED", "FALSE")]).unwrap().is_none());
        assert!(parse(&[("M4_OAUTH2_ENABLED", "0")]).unwrap().is_none());
    }

    #[test]
    fn defaults_follow_the_guide() {
        let config = parse(&ON).unwrap().unwrap();
        assert_eq!(config.issuer, "https://idp.example/");
        assert_eq!(config.required_scopes, vec!["read:mimic-data"]);
        assert_eq!(config.jwks_ttl, Duration::from_secs(3600));
        assert_eq!(
            config.rate_limit,
            Some(RateLimitConfig {
                requests: 100,
                window: Duration::from_secs(3600)
            })
        );
        assert_eq!(config.leeway, Duration::from_secs(60));
        assert!(config.validate_exp && config.validate_aud && config.validate_iss);
        assert!(config.jwks_url.is_none() && config.client.is_none() && config.token.is_none());
        assert!(config.disabled_checks().is_empty());
    }

    #[test]
    fn booleans_accept_every_documented_spelling() {
        for (raw, expected) in [
            ("YES", true),
            ("1", true),
            ("True", true),
            ("No", false),
            ("0", false),
        ] {
            let mut vars = ON.to_vec();
            vars.push(("M4_OAUTH2_VALIDATE_AUD", raw));
            assert_eq!(
                parse(&vars).unwrap().unwrap().validate_aud,
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn a_bad_boolean_names_the_variable() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_VALIDATE_EXP", "sometimes"));
        let message = parse(&vars).unwrap_err().to_string();
        assert!(message.contains("`M4_OAUTH2_VALIDATE_EXP`"), "{message}");
        assert!(message.contains("sometimes"), "{message}");
        let message = parse(&[("M4_OAUTH2_ENABLED", "on")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("`M4_OAUTH2_ENABLED`"), "{message}");
    }

    #[test]
    fn issuer_and_audience_are_required_when_on() {
        let message = parse(&ON[..1]).unwrap_err().to_string();
        assert!(
            message.contains("`M4_OAUTH2_ISSUER_URL` is not set"),
            "{message}"
        );
        assert!(message.contains("hint:"), "{message}");
        let message = parse(&ON[..2]).unwrap_err().to_string();
        assert!(
            message.contains("`M4_OAUTH2_AUDIENCE` is not set"),
            "{message}"
        );
    }

    #[test]
    fn token_loses_its_bearer_prefix_in_any_case() {
        for raw in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER   abc.def.ghi ",
            "Bearer\tabc.def.ghi",
            "abc.def.ghi",
        ] {
            let mut vars = ON.to_vec();
            vars.push(("M4_OAUTH2_TOKEN", raw));
            let config = parse(&vars).unwrap().unwrap();
            assert_eq!(config.token.unwrap().expose(), "abc.def.ghi", "{raw}");
        }
    }

    #[test]
    fn a_bare_bearer_scheme_is_no_token() {
        assert_eq!(strip_bearer("Bearer "), "");
        assert_eq!(strip_bearer("bearer"), "");
        assert_eq!(strip_bearer("Bearerabc.def.ghi"), "Bearerabc.def.ghi");
    }

    #[test]
    fn scopes_split_on_spaces_and_commas_without_duplicates() {
        assert_eq!(split_scopes("a b,c  a"), vec!["a", "b", "c"]);
    }

    #[test]
    fn a_client_id_without_secret_is_the_public_client_of_a_sign_in() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_CLIENT_ID", "m4-cli"));
        let config = parse(&vars).unwrap().unwrap();
        assert!(config.client.is_none());
        assert_eq!(config.public_client_id.as_deref(), Some("m4-cli"));
        assert!(config.plan(Credential::Configured).sign_in);
        assert!(!config.plan(Credential::PerRequest).sign_in);
        vars.push(("M4_OAUTH2_TOKEN", "a.b.c"));
        assert!(
            !parse(&vars)
                .unwrap()
                .unwrap()
                .plan(Credential::Configured)
                .sign_in
        );
    }

    #[test]
    fn a_secret_without_client_id_is_an_error() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_CLIENT_SECRET", "s"));
        let message = parse(&vars).unwrap_err().to_string();
        assert!(
            message.contains("`M4_OAUTH2_CLIENT_ID` is not set"),
            "{message}"
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_CLIENT_ID", "m4"));
        vars.push(("M4_OAUTH2_CLIENT_SECRET", "hunter2-secret"));
        vars.push(("M4_OAUTH2_TOKEN", "tok.en.value"));
        let debug = format!("{:?}", parse(&vars).unwrap().unwrap());
        assert!(
            !debug.contains("hunter2-secret") && !debug.contains("tok.en.value"),
            "{debug}"
        );
    }

    #[test]
    fn turning_a_check_off_is_reported() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_VALIDATE_ISS", "false"));
        let config = parse(&vars).unwrap().unwrap();
        assert_eq!(config.disabled_checks(), vec!["M4_OAUTH2_VALIDATE_ISS"]);
    }

    #[test]
    fn issuer_and_key_set_must_be_https_unless_loopback() {
        let mut vars = ON.to_vec();
        vars[1] = ("M4_OAUTH2_ISSUER_URL", "http://idp.example/");
        let message = parse(&vars).unwrap_err().to_string();
        assert!(
            message.contains("`M4_OAUTH2_ISSUER_URL`")
                && message.contains("https://")
                && message.contains("hint:"),
            "{message}"
        );
        vars[1] = ("M4_OAUTH2_ISSUER_URL", "http://127.0.0.1:8080");
        assert!(parse(&vars).is_ok(), "loopback http is allowed");
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_JWKS_URL", "http://keys.example/jwks"));
        let message = parse(&vars).unwrap_err().to_string();
        assert!(
            message.contains("`M4_OAUTH2_JWKS_URL`") && message.contains("https://"),
            "{message}"
        );
        vars.pop();
        vars.push(("M4_OAUTH2_JWKS_URL", "http://localhost:9/jwks"));
        assert!(parse(&vars).is_ok());
    }

    #[test]
    fn the_strict_profile_is_opt_in() {
        assert!(!parse(&ON).unwrap().unwrap().strict_rfc9068);
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_STRICT_RFC9068", "yes"));
        assert!(parse(&vars).unwrap().unwrap().strict_rfc9068);
    }

    #[test]
    fn the_plan_discovers_only_what_start_up_needs() {
        let plan = |extra: &[(&'static str, &'static str)], credential| {
            let mut vars = ON.to_vec();
            vars.extend_from_slice(extra);
            parse(&vars).unwrap().unwrap().plan(credential)
        };
        let jwks = ("M4_OAUTH2_JWKS_URL", "https://idp.example/jwks");
        let client = [
            ("M4_OAUTH2_CLIENT_ID", "m4"),
            ("M4_OAUTH2_CLIENT_SECRET", "s"),
        ];
        assert!(plan(&[], Credential::Configured).discover);
        assert!(!plan(&[jwks], Credential::Configured).discover);
        let with_client = [jwks, client[0], client[1]];
        assert_eq!(
            plan(&with_client, Credential::Configured),
            StartupPlan {
                discover: true,
                client_credentials: true,
                sign_in: false,
            }
        );
        assert_eq!(
            plan(&with_client, Credential::PerRequest),
            StartupPlan {
                discover: false,
                client_credentials: false,
                sign_in: false,
            }
        );
        let with_token = [jwks, client[0], client[1], ("M4_OAUTH2_TOKEN", "t")];
        assert!(!plan(&with_token, Credential::Configured).client_credentials);
    }

    #[test]
    fn rate_limit_can_be_turned_off_and_leeway_can_be_zero() {
        let mut vars = ON.to_vec();
        vars.push(("M4_OAUTH2_RATE_LIMIT_ENABLED", "false"));
        vars.push(("M4_OAUTH2_LEEWAY", "0"));
        let config = parse(&vars).unwrap().unwrap();
        assert!(config.rate_limit.is_none());
        assert_eq!(config.leeway, Duration::ZERO);
    }
}
