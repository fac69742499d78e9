//! `m4 auth check`: everything a user needs to debug an OAuth2 setup, in one report.
//!
//! Owns the report only: it reuses the configuration parser, discovery, the key-set
//! parser and the validator's individual checks, so what it says is what the server
//! does. It prints the token's header and claims, never its signature, and never the
//! client secret.

use std::io::Write;
use std::sync::Arc;

use serde_json::Value;

use super::client_credentials::ClientCredentialsSource;
use super::clock::{Clock, SystemClock};
use super::config::AuthConfig;
use super::discovery::{discover, discovery_url, http_agent, http_get};
use super::jwks::KeySet;
use super::validate::{self, ClaimCheck, Validator};
use super::{AuthError, Credential};
use crate::config;

/// Prints the configuration, reachability and each token check's verdict,
/// reading the variables through `lookup`. Returns whether every check passed.
pub fn check_with(
    out: &mut dyn Write,
    lookup: impl Fn(&str) -> Option<String>,
) -> std::io::Result<bool> {
    let config = match AuthConfig::from_lookup(&lookup) {
        Ok(Some(config)) => config,
        Ok(None) => {
            writeln!(
                out,
                "OAuth2 authentication is off (`{}` is not true): every tool is open.",
                config::M4_OAUTH2_ENABLED
            )?;
            return Ok(true);
        }
        Err(e) => {
            writeln!(out, "configuration   FAIL  {e}")?;
            return Ok(false);
        }
    };
    let mut report = Report { out, passed: true };
    report.section("Configuration")?;
    print_config(report.out, &config)?;

    report.section("Provider")?;
    let agent = http_agent();
    // The server's own start-up plan for stdio, so the report cannot drift from it.
    let plan = config.plan(Credential::Configured);
    let discovered = if plan.discover {
        let outcome = discover(&agent, &config.issuer);
        report.verdict(
            "discovery",
            outcome
                .as_ref()
                .map(|_| discovery_url(&config.issuer))
                .map_err(|e| e.to_string()),
        )?;
        outcome.ok()
    } else {
        report.note("discovery", "skipped (`M4_OAUTH2_JWKS_URL` is set)")?;
        None
    };
    let jwks_url = config
        .jwks_url
        .clone()
        .or_else(|| discovered.as_ref().map(|d| d.jwks_uri.clone()));
    let keys = match jwks_url {
        None => {
            report.verdict("key set", Err("no key-set URL (discovery failed)".into()))?;
            None
        }
        Some(url) => {
            let outcome = http_get(&agent, &url).and_then(|doc| KeySet::parse(&doc));
            let keys = match outcome {
                Ok(keys) if keys.keys.is_empty() => {
                    report.verdict("key set", Err(format!("{url}: no usable signing key")))?;
                    None
                }
                Ok(keys) => {
                    report.verdict("key set", Ok(format!("{url}: {}", keys.kids().join(", "))))?;
                    Some(keys)
                }
                Err(e) => {
                    report.verdict("key set", Err(format!("{url}: {e}")))?;
                    None
                }
            };
            if let Some(keys) = &keys {
                for skipped in &keys.skipped {
                    report.note("  skipped", skipped)?;
                }
            }
            keys
        }
    };

    report.section("Token")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let token = match (&config.token, &config.client, &discovered) {
        (Some(token), _, _) => {
            report.note("source", &format!("`{}`", config::M4_OAUTH2_TOKEN))?;
            Some(token.expose().to_string())
        }
        (None, Some(credentials), Some(d)) if plan.client_credentials => match &d.token_endpoint {
            Some(endpoint) => {
                let source = ClientCredentialsSource::new(
                    endpoint.clone(),
                    credentials.clone(),
                    &config.required_scopes,
                    &config.audience,
                    agent.clone(),
                    Arc::clone(&clock),
                );
                let outcome = source.token();
                report.verdict(
                    "client credentials",
                    outcome
                        .as_ref()
                        .map(|_| format!("token obtained from {endpoint}"))
                        .map_err(|e| e.to_string()),
                )?;
                outcome.ok().map(|t| t.expose().to_string())
            }
            None => {
                report.verdict(
                    "client credentials",
                    Err("discovery has no `token_endpoint`".into()),
                )?;
                None
            }
        },
        _ => {
            report.verdict("token", Err(AuthError::MissingToken.to_string()))?;
            None
        }
    };
    if let Some(token) = token {
        check_token(
            &mut report,
            &config,
            &token,
            keys.as_ref(),
            clock.unix_seconds(),
        )?;
    }
    let passed = report.passed;
    writeln!(report.out)?;
    writeln!(
        report.out,
        "{}",
        if passed {
            "All OAuth2 checks passed."
        } else {
            "Some OAuth2 checks failed."
        }
    )?;
    Ok(passed)
}

fn check_token(
    report: &mut Report<'_>,
    config: &AuthConfig,
    token: &str,
    keys: Option<&KeySet>,
    now: u64,
) -> std::io::Result<()> {
    let parsed = match validate::parse(token) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.verdict("format", Err(e.to_string()))?;
            return Ok(());
        }
    };
    report.verdict("format", Ok("JWS compact serialization".into()))?;
    writeln!(
        report.out,
        "header:\n{}",
        pretty(&Value::Object(parsed.header.raw.clone()))
    )?;
    match keys {
        Some(keys) => report.verdict(
            "signature",
            parsed
                .verify_signature(keys)
                .map(|_| "valid".to_string())
                .map_err(|e| e.to_string()),
        )?,
        None => report.verdict("signature", Err("not checked: no key set".into()))?,
    }
    let claims = match parsed.claims() {
        Ok(claims) => claims,
        Err(e) => {
            report.verdict("claims", Err(e.to_string()))?;
            return Ok(());
        }
    };
    writeln!(
        report.out,
        "claims:\n{}",
        pretty(&Value::Object(claims.raw.clone()))
    )?;
    let validator = Validator::from_config(config);
    for check in ClaimCheck::ALL {
        let outcome = validator.check(check, &claims, now);
        let detail = match check {
            ClaimCheck::Profile if config.strict_rfc9068 => {
                "strict RFC 9068: `at+jwt`, `client_id`, `jti`, `iat`".to_string()
            }
            ClaimCheck::Profile => format!(
                "not demanded (`{}` is off); `typ` is {:?}",
                config::M4_OAUTH2_STRICT_RFC9068,
                claims.typ
            ),
            ClaimCheck::Exp => match claims.exp {
                Some(exp) if exp >= now => format!("expires in {} s", exp - now),
                Some(exp) => format!("expired {} s ago", now - exp),
                None => "absent".into(),
            },
            ClaimCheck::Scopes => format!("granted: {}", claims.scopes.join(" ")),
            ClaimCheck::Nbf => claims.nbf.map_or_else(
                || "absent".into(),
                |nbf| format!("valid since {} s", now.saturating_sub(nbf)),
            ),
            ClaimCheck::Iat => claims.iat.map_or_else(
                || "absent".into(),
                |iat| format!("issued {} s ago", now.saturating_sub(iat)),
            ),
            ClaimCheck::Iss => claims
                .iss
                .as_deref()
                .map_or_else(|| "absent".into(), |iss| format!("`{iss}`")),
            ClaimCheck::Aud => claims
                .aud
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        report.verdict(
            check.name(),
            outcome.map(|_| detail).map_err(|e| e.to_string()),
        )?;
    }
    Ok(())
}

fn print_config(out: &mut dyn Write, config: &AuthConfig) -> std::io::Result<()> {
    let on_off = |b: bool| if b { "on" } else { "OFF" };
    let rows: Vec<(&str, String)> = vec![
        (config::M4_OAUTH2_ISSUER_URL, config.issuer.clone()),
        (config::M4_OAUTH2_AUDIENCE, config.audience.clone()),
        (
            config::M4_OAUTH2_REQUIRED_SCOPES,
            config.required_scopes.join(" "),
        ),
        (
            config::M4_OAUTH2_JWKS_URL,
            config
                .jwks_url
                .as_ref()
                .map_or_else(|| "(discovered)".to_string(), |u| u.to_string()),
        ),
        (
            config::M4_OAUTH2_JWKS_CACHE_TTL,
            format!("{} s", config.jwks_ttl.as_secs()),
        ),
        (
            config::M4_OAUTH2_VALIDATE_EXP,
            on_off(config.validate_exp).into(),
        ),
        (
            config::M4_OAUTH2_VALIDATE_AUD,
            on_off(config.validate_aud).into(),
        ),
        (
            config::M4_OAUTH2_VALIDATE_ISS,
            on_off(config.validate_iss).into(),
        ),
        (
            config::M4_OAUTH2_STRICT_RFC9068,
            if config.strict_rfc9068 { "on" } else { "off" }.into(),
        ),
        (
            config::M4_OAUTH2_LEEWAY,
            format!("{} s", config.leeway.as_secs()),
        ),
        (
            config::M4_OAUTH2_CREDENTIAL_STORE,
            if config.file_store_only {
                "file (the sign-in is kept in a file readable by you alone)"
            } else {
                "os (the operating system's credential store; the file where there is none)"
            }
            .into(),
        ),
        (
            config::M4_OAUTH2_RATE_LIMIT_ENABLED,
            config.rate_limit.map_or_else(
                || "OFF".to_string(),
                |l| format!("{} calls per {} s per user", l.requests, l.window.as_secs()),
            ),
        ),
        (
            config::M4_OAUTH2_TOKEN,
            config.token.as_ref().map_or_else(
                || "(not set)".to_string(),
                |t| format!("set ({} characters, not shown)", t.expose().len()),
            ),
        ),
        (
            config::M4_OAUTH2_CLIENT_ID,
            config
                .client
                .as_ref()
                .map_or_else(|| "(not set)".to_string(), |c| c.client_id.clone()),
        ),
        (
            config::M4_OAUTH2_CLIENT_SECRET,
            if config.client.is_some() {
                "set (not shown)"
            } else {
                "(not set)"
            }
            .to_string(),
        ),
    ];
    for (name, value) in rows {
        writeln!(out, "  {name:<30} {value}")?;
    }
    Ok(())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_default()
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

struct Report<'a> {
    out: &'a mut dyn Write,
    passed: bool,
}

impl Report<'_> {
    fn section(&mut self, title: &str) -> std::io::Result<()> {
        writeln!(self.out, "\n{title}")
    }

    fn verdict(&mut self, name: &str, outcome: Result<String, String>) -> std::io::Result<()> {
        match outcome {
            Ok(detail) => writeln!(self.out, "  {name:<20} ok    {detail}"),
            Err(problem) => {
                self.passed = false;
                writeln!(self.out, "  {name:<20} FAIL  {problem}")
            }
        }
    }

    fn note(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "  {name:<20} {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_says_so() {
        let mut out = Vec::new();
        assert!(check_with(&mut out, |_| None).unwrap());
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("OAuth2 authentication is off")
        );
    }

    #[test]
    fn a_configuration_error_fails_the_check() {
        let mut out = Vec::new();
        let passed = check_with(&mut out, |n| {
            (n == "M4_OAUTH2_ENABLED").then(|| "maybe".to_string())
        })
        .unwrap();
        assert!(!passed);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("`M4_OAUTH2_ENABLED`")
        );
    }
}
