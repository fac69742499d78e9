//! Access-token validation: size, structure, header, signature, then claims.
//!
//! Owns the rules of RFC 7515/7519/8725/9068 as m4 applies them; it does no I/O (keys
//! come from the caller) and knows nothing of rate limits. Where `jsonwebtoken`'s
//! defaults are looser, the checks are done here instead, which is why only its
//! signature primitive ([`jsonwebtoken::crypto::verify`]) is used:
//!
//! - a token longer than [`MAX_TOKEN_BYTES`] is refused before it is decoded;
//! - the key decides the algorithm: a token whose `alg` differs from its key's is
//!   refused, `alg: none` and HMAC never pass (RFC 8725 §2.1, §3.1);
//! - the header `typ` may be absent, `JWT` or `at+jwt` (with or without `application/`,
//!   any case: RFC 7515 §4.1.9), which is what Auth0, Okta, Keycloak and Entra ID
//!   issue; any other explicit type (`dpop+jwt`, `logout+jwt`, `secevent+jwt`, ...) is
//!   another kind of token and is refused (RFC 8725 §3.11). The strict RFC 9068 profile
//!   (`M4_OAUTH2_STRICT_RFC9068`) demands `at+jwt` and `client_id`, `jti` and `iat`;
//! - `crit` naming anything is refused, as m4 understands no extension (RFC 7515 §4.1.11);
//! - `jku`, `x5u`, `jwk` and `x5c` in the header are ignored, never fetched or trusted;
//! - a token without `kid` is accepted only when the key set has a single key;
//! - `sub` is required, and `iss`, `aud` and `exp` too unless their
//!   `M4_OAUTH2_VALIDATE_*` check is off; `iat`, `nbf`, `jti`, `client_id` and `azp`
//!   are optional and type-checked when present; `nbf` is honoured, and `exp`, `nbf`
//!   and `iat` allow the configured clock-skew leeway; other claims are ignored;
//! - scopes come from `scope` (space-separated) and `scp` (an array, or a
//!   space-separated string as Entra ID sends it).
//!
//! Nothing read from a token before its signature is verified (`alg`, `typ`, `kid`)
//! reaches a message other than through [`sanitize`]: short, printable, no markup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::AuthError;
use super::config::AuthConfig;
use super::jwks::KeySet;

/// Largest token accepted, in bytes. Real access tokens are 1-3 KiB (Entra ID's with
/// group claims approach 8 KiB); anything larger is refused unread.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Characters of a token field (`alg`, `typ`, `kid`) echoed in a message at most.
pub const MAX_ECHOED_CHARS: usize = 32;

/// A token field made safe to show: at most [`MAX_ECHOED_CHARS`] characters of
/// `[A-Za-z0-9._+-/]`, anything else replaced by `?`, and `…` when cut.
pub fn sanitize(field: &str) -> String {
    sanitize_to(field, MAX_ECHOED_CHARS, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-' | '/')
    })
}

/// As [`sanitize`], for values read after the signature verified or from the
/// provider (issuer, audience, an error description): up to 200 characters,
/// printable ASCII and spaces, no backticks, angle brackets, quotes or backslashes.
pub fn sanitize_long(field: &str) -> String {
    sanitize_to(field, 200, |c| {
        (c.is_ascii_graphic() || c == ' ') && !matches!(c, '`' | '<' | '>' | '"' | '\\')
    })
}

fn sanitize_to(field: &str, max: usize, allowed: impl Fn(char) -> bool) -> String {
    let mut out: String = field
        .chars()
        .take(max)
        .map(|c| if allowed(c) { c } else { '?' })
        .collect();
    if field.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// What the header's `typ` says, as far as m4 distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// No `typ` (Okta).
    Absent,
    /// `JWT` (Auth0's default, Keycloak, Entra ID).
    Jwt,
    /// `at+jwt`: an access token by RFC 9068.
    AccessToken,
}

/// What a token's header says, once its rules have been checked.
#[derive(Debug, Clone)]
pub struct TokenHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: TokenType,
    /// The header as sent, for `m4 auth check`.
    pub raw: Map<String, Value>,
}

/// A structurally valid token, split into its parts.
#[derive(Debug)]
pub struct ParsedToken<'a> {
    pub header: TokenHeader,
    /// `base64(header).base64(payload)`, the signed bytes.
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Claims of a token whose signature verified, type-checked.
#[derive(Debug, Clone)]
pub struct Claims {
    /// `None` only when absent (refused later unless `M4_OAUTH2_VALIDATE_ISS` is off).
    pub iss: Option<String>,
    pub sub: String,
    /// Empty only when absent (refused later unless `M4_OAUTH2_VALIDATE_AUD` is off).
    pub aud: Vec<String>,
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: Option<u64>,
    pub jti: Option<String>,
    pub client_id: Option<String>,
    pub azp: Option<String>,
    /// Granted scopes, from `scope` and `scp`.
    pub scopes: Vec<String>,
    /// Whether `scope` or `scp` is present at all (an ID token has neither).
    pub has_scope_claim: bool,
    /// The header's `typ`, for the strict profile.
    pub typ: TokenType,
    /// All claims as sent, for `m4 auth check`.
    pub raw: Map<String, Value>,
}

/// Splits a compact JWS and checks its header. Anything that is not three base64url
/// parts with a JSON-object header (an opaque token, a JWE) is [`AuthError::Malformed`];
/// a token over [`MAX_TOKEN_BYTES`] is [`AuthError::TooLarge`] without being decoded.
pub fn parse(token: &str) -> Result<ParsedToken<'_>, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TooLarge { bytes: token.len() });
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(AuthError::Malformed);
    }
    let raw = decode_object(header).ok_or(AuthError::Malformed)?;
    let header_checked = check_header(raw)?;
    Ok(ParsedToken {
        header: header_checked,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload,
        signature,
    })
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The header `typ`, compared as a media type (RFC 7515 §4.1.9: case-insensitive,
/// `application/` may be left out).
fn token_type(typ: &str) -> Option<TokenType> {
    let short = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    if short.eq_ignore_ascii_case("jwt") {
        Some(TokenType::Jwt)
    } else if short.eq_ignore_ascii_case("at+jwt") {
        Some(TokenType::AccessToken)
    } else {
        None
    }
}

fn check_header(raw: Map<String, Value>) -> Result<TokenHeader, AuthError> {
    let alg = match raw.get("alg") {
        Some(Value::String(alg)) => alg,
        Some(_) => return Err(AuthError::InvalidHeader("`alg` is not a string".into())),
        None => return Err(AuthError::InvalidHeader("`alg` is missing".into())),
    };
    let alg = match alg.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        other if other.eq_ignore_ascii_case("none") => {
            return Err(AuthError::InvalidHeader(
                "`alg` is `none`: unsigned tokens are never accepted".into(),
            ));
        }
        other => {
            return Err(AuthError::InvalidHeader(format!(
                "algorithm `{}` is not accepted (RS256, ES256)",
                sanitize(other)
            )));
        }
    };
    let typ = match raw.get("typ") {
        None => TokenType::Absent,
        Some(Value::String(typ)) => token_type(typ).ok_or_else(|| {
            AuthError::InvalidHeader(format!(
                "`typ` is `{}`, so this is another kind of token, not an OAuth2 access token \
                 (m4 accepts no `typ`, `JWT` or `at+jwt`); send the access token your provider \
                 issues for m4's audience",
                sanitize(typ)
            ))
        })?,
        Some(_) => return Err(AuthError::InvalidHeader("`typ` is not a string".into())),
    };
    if raw.contains_key("crit") {
        return Err(AuthError::InvalidHeader(
            "`crit` lists extensions m4 does not implement".into(),
        ));
    }
    let kid = match raw.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AuthError::InvalidHeader("`kid` is not a string".into())),
    };
    Ok(TokenHeader { alg, kid, typ, raw })
}

impl ParsedToken<'_> {
    /// Verifies the signature with the key the `kid` names. The key's algorithm must be
    /// the header's: a token cannot pick how its signature is checked.
    pub fn verify_signature(&self, keys: &KeySet) -> Result<(), AuthError> {
        let kid = self.header.kid.as_deref();
        let Some(key) = keys.find(kid) else {
            return Err(AuthError::KeyNotFound(match kid {
                Some(kid) => format!(
                    "no key with kid `{}` in the provider's key set",
                    sanitize(kid)
                ),
                None => "the token has no `kid` and the key set has several keys".into(),
            }));
        };
        if key.alg != self.header.alg {
            return Err(AuthError::KeyNotFound(format!(
                "the token says `{:?}` but its key is for `{:?}`",
                self.header.alg, key.alg
            )));
        }
        match jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &key.key,
            key.alg,
        ) {
            Ok(true) => Ok(()),
            _ => Err(AuthError::InvalidSignature),
        }
    }

    /// Decodes and type-checks the claims. Call after [`Self::verify_signature`]:
    /// an unverified payload is attacker-controlled.
    pub fn claims(&self) -> Result<Claims, AuthError> {
        let raw = decode_object(self.payload).ok_or(AuthError::Malformed)?;
        Claims::from_map(raw, self.header.typ)
    }
}

/// Claims whose presence marks an OpenID Connect ID token (OIDC Core §2, §3.1.3.6),
/// and the Keycloak claim `typ: "ID"`.
const ID_TOKEN_CLAIMS: [&str; 5] = ["nonce", "at_hash", "c_hash", "auth_time", "sid"];

impl Claims {
    fn from_map(raw: Map<String, Value>, typ: TokenType) -> Result<Claims, AuthError> {
        let sub = optional_string(&raw, "sub")?.ok_or_else(|| missing("sub"))?;
        if sub.is_empty() {
            return Err(invalid("sub", "it is empty"));
        }
        let aud_error = || invalid("aud", "it must be a string or a non-empty array of strings");
        let aud = match raw.get("aud") {
            None => Vec::new(),
            Some(Value::String(aud)) => vec![aud.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(aud_error)?,
            Some(_) => return Err(aud_error()),
        };
        let mut scopes: Vec<String> = Vec::new();
        match raw.get("scope") {
            None => {}
            Some(Value::String(s)) => scopes.extend(split_scope(s)),
            Some(_) => return Err(invalid("scope", "it must be a space-separated string")),
        }
        match raw.get("scp") {
            None => {}
            Some(Value::String(s)) => scopes.extend(split_scope(s)),
            Some(Value::Array(items)) => {
                for item in items {
                    let s = item.as_str().ok_or_else(|| {
                        invalid(
                            "scp",
                            "it must be an array of strings or a space-separated string",
                        )
                    })?;
                    scopes.push(s.to_string());
                }
            }
            Some(_) => {
                return Err(invalid(
                    "scp",
                    "it must be an array of strings or a space-separated string",
                ));
            }
        }
        Ok(Claims {
            iss: optional_string(&raw, "iss")?,
            sub,
            aud,
            exp: numeric_date(&raw, "exp")?,
            nbf: numeric_date(&raw, "nbf")?,
            iat: numeric_date(&raw, "iat")?,
            jti: optional_string(&raw, "jti")?,
            client_id: optional_string(&raw, "client_id")?,
            azp: optional_string(&raw, "azp")?,
            scopes,
            has_scope_claim: raw.contains_key("scope") || raw.contains_key("scp"),
            typ,
            raw,
        })
    }

    /// Whether this looks like an OpenID Connect ID token rather than an access token:
    /// it grants no scope, and carries an ID-token claim or names its client as its
    /// only audience.
    pub fn looks_like_id_token(&self) -> bool {
        if self.has_scope_claim {
            return false;
        }
        ID_TOKEN_CLAIMS.iter().any(|c| self.raw.contains_key(*c))
            || self
                .raw
                .get("typ")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("ID"))
            || self
                .azp
                .as_ref()
                .is_some_and(|azp| self.aud.len() == 1 && self.aud[0] == *azp)
    }
}

fn split_scope(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(' ').filter(|s| !s.is_empty()).map(str::to_string)
}

fn invalid(claim: &'static str, problem: &str) -> AuthError {
    AuthError::InvalidClaim {
        claim,
        problem: problem.to_string(),
    }
}

fn missing(claim: &'static str) -> AuthError {
    invalid(
        claim,
        "it is missing, and an OAuth2 access token must carry it (RFC 9068 §2.2)",
    )
}

fn optional_string(
    raw: &Map<String, Value>,
    claim: &'static str,
) -> Result<Option<String>, AuthError> {
    match raw.get(claim) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(claim, "it must be a string")),
    }
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
fn numeric_date(raw: &Map<String, Value>, claim: &'static str) -> Result<Option<u64>, AuthError> {
    match raw.get(claim) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(n) = n.as_u64() {
                return Ok(Some(n));
            }
            match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Ok(Some(f as u64)),
                _ => Err(invalid(
                    claim,
                    "it must be a non-negative number of seconds (NumericDate)",
                )),
            }
        }
        Some(_) => Err(invalid(
            claim,
            "it must be a number of seconds since 1970 (NumericDate)",
        )),
    }
}

/// One claim check. Exhaustive: a check added here must be decided in
/// [`Validator::check`] and described by `m4 auth check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimCheck {
    /// The strict RFC 9068 profile, when `M4_OAUTH2_STRICT_RFC9068` is on.
    Profile,
    Exp,
    Nbf,
    Iat,
    Iss,
    Aud,
    Scopes,
}

impl ClaimCheck {
    /// Every check, in the order they run.
    pub const ALL: [ClaimCheck; 7] = [
        ClaimCheck::Profile,
        ClaimCheck::Exp,
        ClaimCheck::Nbf,
        ClaimCheck::Iat,
        ClaimCheck::Iss,
        ClaimCheck::Aud,
        ClaimCheck::Scopes,
    ];

    /// The name `m4 auth check` prints.
    pub fn name(self) -> &'static str {
        match self {
            ClaimCheck::Profile => "rfc9068",
            ClaimCheck::Exp => "exp",
            ClaimCheck::Nbf => "nbf",
            ClaimCheck::Iat => "iat",
            ClaimCheck::Iss => "iss",
            ClaimCheck::Aud => "aud",
            ClaimCheck::Scopes => "scopes",
        }
    }
}

/// The claim rules in force, prepared once.
#[derive(Debug, Clone)]
pub struct Validator {
    pub issuer: String,
    pub audience: String,
    pub required_scopes: Vec<String>,
    pub validate_exp: bool,
    pub validate_aud: bool,
    pub validate_iss: bool,
    /// The strict RFC 9068 profile: `typ: at+jwt`, `client_id`, `jti` and `iat` required.
    pub strict_rfc9068: bool,
    /// Clock-skew allowance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: u64,
}

impl Validator {
    /// The rules `config` sets: what the server and `m4 auth check` both apply.
    pub fn from_config(config: &AuthConfig) -> Validator {
        Validator {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            required_scopes: config.required_scopes.clone(),
            validate_exp: config.validate_exp,
            validate_aud: config.validate_aud,
            validate_iss: config.validate_iss,
            strict_rfc9068: config.strict_rfc9068,
            leeway: config.leeway.as_secs(),
        }
    }

    /// Full validation of `token` at Unix time `now`, with keys from `keys_for(kid)`.
    pub fn validate(
        &self,
        token: &str,
        keys_for: impl FnOnce(Option<&str>) -> Result<std::sync::Arc<KeySet>, AuthError>,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let parsed = parse(token)?;
        let keys = keys_for(parsed.header.kid.as_deref())?;
        parsed.verify_signature(&keys)?;
        let claims = parsed.claims()?;
        self.check_claims(&claims, now)?;
        Ok(claims)
    }

    /// Every claim check, in order; the first failure wins.
    pub fn check_claims(&self, claims: &Claims, now: u64) -> Result<(), AuthError> {
        for check in ClaimCheck::ALL {
            self.check(check, claims, now)?;
        }
        Ok(())
    }

    /// One claim check; `m4 auth check` runs them all and reports each.
    pub fn check(&self, check: ClaimCheck, claims: &Claims, now: u64) -> Result<(), AuthError> {
        match check {
            ClaimCheck::Profile => {
                if !self.strict_rfc9068 {
                    return Ok(());
                }
                if claims.typ != TokenType::AccessToken {
                    return Err(AuthError::InvalidHeader(
                        "`typ` is not `at+jwt`, which `M4_OAUTH2_STRICT_RFC9068` requires; \
                         turn the strict profile off unless your provider issues RFC 9068 tokens"
                            .into(),
                    ));
                }
                if claims.client_id.is_none() {
                    return Err(missing("client_id"));
                }
                if claims.jti.is_none() {
                    return Err(missing("jti"));
                }
                if claims.iat.is_none() {
                    return Err(missing("iat"));
                }
                Ok(())
            }
            ClaimCheck::Exp => match claims.exp {
                _ if !self.validate_exp => Ok(()),
                None => Err(missing("exp")),
                // RFC 7519 §4.1.4: not accepted "on or after" `exp`.
                Some(exp) if now >= exp.saturating_add(self.leeway) => Err(AuthError::Expired),
                Some(_) => Ok(()),
            },
            ClaimCheck::Nbf => match claims.nbf {
                Some(nbf) if now.saturating_add(self.leeway) < nbf => {
                    Err(AuthError::NotYetValid(nbf - now))
                }
                _ => Ok(()),
            },
            ClaimCheck::Iat => match claims.iat {
                Some(iat) if now.saturating_add(self.leeway) < iat => Err(invalid(
                    "iat",
                    "the token says it was issued in the future; check this machine's clock",
                )),
                _ => Ok(()),
            },
            ClaimCheck::Iss => match &claims.iss {
                _ if !self.validate_iss => Ok(()),
                None => Err(missing("iss")),
                Some(iss) if *iss != self.issuer => Err(AuthError::IssuerMismatch {
                    note: slash_note(&self.issuer, iss),
                    expected: self.issuer.clone(),
                    actual: sanitize_long(iss),
                }),
                Some(_) => Ok(()),
            },
            ClaimCheck::Aud => {
                if !self.validate_aud {
                    return Ok(());
                }
                if claims.aud.is_empty() {
                    return Err(missing("aud"));
                }
                if claims.aud.contains(&self.audience) {
                    return Ok(());
                }
                // An ID token names the client, not the API, and grants no scope.
                let note = claims
                    .aud
                    .iter()
                    .map(|a| slash_note(&self.audience, a))
                    .find(|n| !n.is_empty())
                    .or_else(|| (!claims.has_scope_claim).then(|| self.id_token_note()))
                    .unwrap_or_default();
                Err(AuthError::AudienceMismatch {
                    expected: self.audience.clone(),
                    actual: claims
                        .aud
                        .iter()
                        .take(10)
                        .map(|a| format!("`{}`", sanitize_long(a)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    note,
                })
            }
            ClaimCheck::Scopes => {
                let missing: Vec<String> = self
                    .required_scopes
                    .iter()
                    .filter(|s| !claims.scopes.contains(s))
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    let note = if claims.looks_like_id_token() {
                        self.id_token_note()
                    } else {
                        String::new()
                    };
                    Err(AuthError::MissingScopes { missing, note })
                }
            }
        }
    }

    fn id_token_note(&self) -> String {
        format!(
            "; this looks like an ID token; request an access token for audience `{}`",
            self.audience
        )
    }
}

/// Providers differ on a trailing slash in their issuer; say so when it is the only
/// difference, since it is invisible at a glance.
fn slash_note(expected: &str, actual: &str) -> String {
    if expected.trim_end_matches('/') == actual.trim_end_matches('/') {
        format!(
            " (the only difference is a trailing slash; comparison is exact, so configure `{}`)",
            sanitize_long(actual)
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::auth::testkeys::{
        self, AUDIENCE as AUD, ISSUER as ISS, NOW, PROVIDER_SHAPES, claims, header, sign,
    };

    fn validator() -> Validator {
        testkeys::validator()
    }

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::parse(testkeys::jwks(&["rsa-a", "ec-a"]).as_bytes()).unwrap())
    }

    fn check_with(v: &Validator, token: &str) -> Result<Claims, AuthError> {
        v.validate(token, |_| Ok(keys()), NOW)
    }

    fn check(token: &str) -> Result<Claims, AuthError> {
        check_with(&validator(), token)
    }

    fn strict() -> Validator {
        Validator {
            strict_rfc9068: true,
            ..validator()
        }
    }

    fn token_with(key: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
        let mut h = header(key);
        let mut c = claims(ISS, AUD, NOW);
        edit(&mut h, &mut c);
        sign(&h, &c, key)
    }

    fn provider(shape: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
        let (mut h, mut c) = testkeys::provider_fixture(shape, ISS, AUD, NOW, "rsa-a");
        edit(&mut h, &mut c);
        sign(&h, &c, "rsa-a")
    }

    fn message(result: Result<Claims, AuthError>) -> String {
        result.expect_err("token should be refused").to_string()
    }

    #[test]
    fn accepts_valid_rs256_and_es256_tokens() {
        for key in ["rsa-a", "ec-a"] {
            let claims = check(&token_with(key, |_, _| {})).unwrap();
            assert_eq!(claims.sub, "researcher-1");
            assert!(claims.scopes.contains(&"read:mimic-data".to_string()));
        }
    }

    #[test]
    fn every_provider_shape_is_accepted_with_its_scopes() {
        for shape in PROVIDER_SHAPES {
            let claims = check(&provider(shape, |_, _| {}))
                .unwrap_or_else(|e| panic!("{shape} refused: {e}"));
            assert!(
                claims.scopes.iter().any(|s| s == "read:mimic-data"),
                "{shape}: {:?}",
                claims.scopes
            );
            assert!(!claims.looks_like_id_token(), "{shape}");
        }
    }

    #[test]
    fn only_rfc9068_shapes_pass_the_strict_profile() {
        assert!(check_with(&strict(), &provider("auth0-rfc9068", |_, _| {})).is_ok());
        assert!(check_with(&strict(), &token_with("rsa-a", |_, _| {})).is_ok());
        for shape in PROVIDER_SHAPES.iter().filter(|s| **s != "auth0-rfc9068") {
            let text = message(check_with(&strict(), &provider(shape, |_, _| {})));
            assert!(
                text.contains("M4_OAUTH2_STRICT_RFC9068") || text.contains("missing"),
                "{shape}: {text}"
            );
        }
        for claim in ["client_id", "jti", "iat"] {
            let token = token_with("rsa-a", |_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            assert!(check(&token).is_ok(), "{claim} is optional by default");
            let text = message(check_with(&strict(), &token));
            assert!(
                text.contains(&format!("`{claim}`")) && text.contains("missing"),
                "{claim}: {text}"
            );
        }
    }

    #[test]
    fn opaque_and_malformed_tokens_are_not_jwts() {
        for token in [
            "",
            "opaque-token-abc123",
            "a.b",
            "a.b.c.d.e",
            "..",
            "e30.e30.",
            "!!!.e30.sig",
        ] {
            assert_eq!(
                message(check(token)),
                "Token is not a valid JWT format",
                "{token:?}"
            );
        }
    }

    #[test]
    fn a_token_over_the_size_cap_is_refused_before_decoding() {
        let pad = "x".repeat(MAX_TOKEN_BYTES);
        let token = token_with("rsa-a", |_, c| c["pad"] = json!(pad));
        assert!(token.len() > MAX_TOKEN_BYTES);
        let text = message(check(&token));
        assert!(text.starts_with("Token is too large"), "{text}");
        // Not decoded: a header that is not even base64 gives the same answer.
        let junk = format!("!!!.{}.sig", "A".repeat(MAX_TOKEN_BYTES));
        assert!(message(check(&junk)).starts_with("Token is too large"));
        let fits = token_with("rsa-a", |_, c| c["pad"] = json!("x".repeat(8 * 1024)));
        assert!(check(&fits).is_ok(), "an 11 KiB token is fine");
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let token = token_with("rsa-a", |_, _| {});
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            json!({"iss": ISS, "sub": "admin", "aud": AUD, "exp": NOW + 99999, "iat": NOW,
                   "jti": "x", "client_id": "x", "scope": "read:mimic-data"})
            .to_string(),
        );
        parts[1] = &forged;
        assert_eq!(message(check(&parts.join("."))), "Invalid token signature");
    }

    #[test]
    fn a_token_signed_by_another_key_with_a_known_kid_fails_the_signature() {
        let mut h = header("rsa-b");
        h["kid"] = json!("rsa-a");
        let token = sign(&h, &claims(ISS, AUD, NOW), "rsa-b");
        assert_eq!(message(check(&token)), "Invalid token signature");
    }

    #[test]
    fn rejects_token_signed_with_unknown_kid() {
        let token = token_with("rsa-b", |_, _| {});
        let text = message(check(&token));
        assert!(text.starts_with("Invalid token signature"), "{text}");
        assert!(text.contains("`rsa-b`"), "{text}");
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        // An ES256 header pointing at the RSA key: refused before any verification.
        let mut h = header("ec-a");
        h["kid"] = json!("rsa-a");
        let text = message(check(&sign(&h, &claims(ISS, AUD, NOW), "ec-a")));
        assert!(text.contains("its key is for `RS256`"), "{text}");
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let body = URL_SAFE_NO_PAD.encode(claims(ISS, AUD, NOW).to_string());
        for alg in ["none", "None", "HS256", "RS512", "PS256"] {
            let h = URL_SAFE_NO_PAD
                .encode(json!({"alg": alg, "typ": "at+jwt", "kid": "rsa-a"}).to_string());
            let text = message(check(&format!("{h}.{body}.c2ln")));
            assert!(text.starts_with("Invalid token header"), "{alg}: {text}");
        }
    }

    #[test]
    fn typ_may_be_absent_jwt_or_at_jwt_in_any_case() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/AT+JWT",
            "JWT",
            "jwt",
            "application/jwt",
        ] {
            let claims = check(&token_with("rsa-a", |h, _| h["typ"] = json!(typ)))
                .unwrap_or_else(|e| panic!("{typ}: {e}"));
            let expected = if typ.to_ascii_lowercase().contains("at+") {
                TokenType::AccessToken
            } else {
                TokenType::Jwt
            };
            assert_eq!(claims.typ, expected, "{typ}");
        }
        let claims = check(&token_with("rsa-a", |h, _| {
            h.as_object_mut().unwrap().remove("typ");
        }))
        .unwrap();
        assert_eq!(claims.typ, TokenType::Absent);
    }

    #[test]
    fn other_token_types_are_refused_by_name() {
        for typ in [
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "application/id_token+jwt",
            "at+jwt2",
            "",
        ] {
            let text = message(check(&token_with("rsa-a", |h, _| h["typ"] = json!(typ))));
            assert!(
                text.starts_with("Invalid token header: `typ` is")
                    && text.contains(&format!("`{typ}`"))
                    && text.contains("another kind of token"),
                "{typ}: {text}"
            );
        }
        let text = message(check(&token_with("rsa-a", |h, _| h["typ"] = json!(1))));
        assert!(text.contains("`typ` is not a string"), "{text}");
    }

    #[test]
    fn token_fields_in_messages_are_short_and_sanitised() {
        let hostile = format!("<script>\u{1b}[31m{}`", "k".repeat(500));
        for field in ["typ", "alg", "kid"] {
            let text = message(check(&token_with("rsa-a", |h, _| {
                h[field] = json!(hostile.clone())
            })));
            assert!(
                !text.contains("<script>")
                    && !text.contains('\u{1b}')
                    && !text.contains(&"k".repeat(40)),
                "{field}: {text}"
            );
            assert!(
                text.contains("?script?") && text.contains('…'),
                "{field}: {text}"
            );
        }
        assert_eq!(sanitize("RS256"), "RS256");
        assert_eq!(sanitize("a b`c"), "a?b?c");
        assert_eq!(sanitize(&"x".repeat(40)), format!("{}…", "x".repeat(32)));
        assert_eq!(sanitize("é"), "?");
    }

    #[test]
    fn crit_is_refused_and_header_key_locations_are_ignored() {
        let text = message(check(&token_with("rsa-a", |h, _| {
            h["crit"] = json!(["exp"])
        })));
        assert!(text.contains("`crit`"), "{text}");
        // A header `jwk`/`jku` naming the attacker's key changes nothing: the key set decides.
        let mut h = header("rsa-b");
        h["kid"] = json!("rsa-a");
        h["jku"] = json!("https://attacker.example/jwks");
        h["jwk"] = testkeys::public_jwk("rsa-b");
        let token = sign(&h, &claims(ISS, AUD, NOW), "rsa-b");
        assert_eq!(message(check(&token)), "Invalid token signature");
    }

    #[test]
    fn kid_is_required_when_the_key_set_has_several_keys() {
        let token = token_with("rsa-a", |h, _| {
            h.as_object_mut().unwrap().remove("kid");
        });
        assert!(message(check(&token)).contains("no `kid`"));
        let single = Arc::new(KeySet::parse(testkeys::jwks(&["rsa-a"]).as_bytes()).unwrap());
        assert!(validator().validate(&token, |_| Ok(single), NOW).is_ok());
    }

    #[test]
    fn expired_tokens_are_refused_after_the_leeway() {
        let token = token_with("rsa-a", |_, c| c["exp"] = json!(NOW - 30));
        assert!(check(&token).is_ok(), "within the 60 s leeway");
        let token = token_with("rsa-a", |_, c| c["exp"] = json!(NOW - 60));
        assert_eq!(message(check(&token)), "Token has expired");
        let mut lax = validator();
        lax.validate_exp = false;
        assert!(check_with(&lax, &token).is_ok());
    }

    #[test]
    fn not_before_is_honoured() {
        let token = token_with("rsa-a", |_, c| c["nbf"] = json!(NOW + 600));
        let text = message(check(&token));
        assert!(text.starts_with("Token is not yet valid"), "{text}");
        let token = token_with("rsa-a", |_, c| c["nbf"] = json!(NOW + 30));
        assert!(check(&token).is_ok(), "within leeway");
    }

    #[test]
    fn issued_in_the_future_is_refused() {
        let token = token_with("rsa-a", |_, c| c["iat"] = json!(NOW + 600));
        assert!(message(check(&token)).contains("`iat`"));
    }

    #[test]
    fn claims_are_type_checked_when_present() {
        let cases: [(&str, Value); 13] = [
            ("exp", json!("tomorrow")),
            ("exp", json!(-5)),
            ("nbf", json!(true)),
            ("iat", json!("now")),
            ("iss", json!(42)),
            ("sub", json!(["a"])),
            ("aud", json!([1, 2])),
            ("aud", json!([])),
            ("scope", json!(["read:mimic-data"])),
            ("scp", json!({"a": 1})),
            ("jti", json!(7)),
            ("client_id", json!(["m4"])),
            ("azp", json!(false)),
        ];
        for (claim, value) in cases {
            let text = message(check(&token_with("rsa-a", |_, c| c[claim] = value.clone())));
            assert!(
                text.contains(&format!("`{claim}`")),
                "{claim}={value}: {text}"
            );
        }
        let token = token_with("rsa-a", |_, c| c["exp"] = json!((NOW + 100) as f64 + 0.5));
        assert!(check(&token).is_ok(), "fractional NumericDate");
    }

    #[test]
    fn iss_sub_aud_exp_are_required_unless_their_check_is_off() {
        for claim in ["iss", "sub", "aud", "exp"] {
            let token = token_with("rsa-a", |_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            let text = message(check(&token));
            assert!(
                text.contains(&format!("`{claim}`")) && text.contains("missing"),
                "{claim}: {text}"
            );
        }
        let lax = Validator {
            validate_iss: false,
            validate_aud: false,
            validate_exp: false,
            ..validator()
        };
        for claim in ["iss", "aud", "exp"] {
            let token = token_with("rsa-a", |_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            assert!(
                check_with(&lax, &token).is_ok(),
                "{claim} with its check off"
            );
        }
        for claim in ["iat", "nbf", "jti", "client_id"] {
            let token = token_with("rsa-a", |_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            assert!(check(&token).is_ok(), "{claim} is optional");
        }
    }

    #[test]
    fn an_id_token_is_refused_with_advice() {
        // Audience = the client's own id: the audience check names what to request.
        let text = message(check(&provider("oidc-id-token", |_, _| {})));
        assert!(
            text.starts_with("Token audience mismatch")
                && text.contains(&format!(
                    "this looks like an ID token; request an access token for audience `{AUD}`"
                )),
            "{text}"
        );
        // Audience = the API (client and API registered as one app): the scope check does.
        let text = message(check(&provider("oidc-id-token", |_, c| {
            c["aud"] = json!(AUD)
        })));
        assert!(
            text.starts_with("Missing required scopes: read:mimic-data")
                && text.contains("this looks like an ID token"),
            "{text}"
        );
        // Keycloak marks its ID tokens with `typ: "ID"`.
        let text = message(check(&provider("keycloak", |_, c| {
            c["typ"] = json!("ID");
            c["aud"] = json!("m4-desktop");
            c.as_object_mut().unwrap().remove("scope");
        })));
        assert!(text.contains("this looks like an ID token"), "{text}");
        // An access token for another API is not called an ID token.
        let text = message(check(&provider("auth0-m2m", |_, c| {
            c["aud"] = json!("https://other.example/api")
        })));
        assert!(!text.contains("ID token"), "{text}");
    }

    #[test]
    fn claim_checks_are_an_exhaustive_list_with_distinct_names() {
        let names: Vec<&str> = ClaimCheck::ALL.iter().map(|c| c.name()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // Each check refuses something on its own.
        let v = strict();
        let refusing: [(ClaimCheck, Value); 7] = [
            (ClaimCheck::Profile, json!({"jti": null})),
            (ClaimCheck::Exp, json!({"exp": NOW - 3600})),
            (ClaimCheck::Nbf, json!({"nbf": NOW + 3600})),
            (ClaimCheck::Iat, json!({"iat": NOW + 3600})),
            (ClaimCheck::Iss, json!({"iss": "https://evil.example"})),
            (ClaimCheck::Aud, json!({"aud": "https://other.example"})),
            (ClaimCheck::Scopes, json!({"scope": "openid"})),
        ];
        for (check, edit) in refusing {
            let token = token_with("rsa-a", |_, c| {
                for (k, v) in edit.as_object().unwrap() {
                    if v.is_null() {
                        c.as_object_mut().unwrap().remove(k);
                    } else {
                        c[k] = v.clone();
                    }
                }
            });
            let parsed = parse(&token).unwrap();
            let claims = parsed.claims().unwrap();
            assert!(v.check(check, &claims, NOW).is_err(), "{}", check.name());
            let others_pass = ClaimCheck::ALL
                .iter()
                .filter(|c| **c != check)
                .all(|c| v.check(*c, &claims, NOW).is_ok());
            assert!(others_pass, "only {} refuses", check.name());
        }
    }

    #[test]
    fn issuer_mismatch_names_both_and_notes_a_trailing_slash() {
        let text = message(check(&token_with("rsa-a", |_, c| {
            c["iss"] = json!("https://evil.example")
        })));
        assert!(
            text.contains("`https://idp.example`") && text.contains("`https://evil.example`"),
            "{text}"
        );
        assert!(!text.contains("trailing slash"), "{text}");
        let text = message(check(&token_with("rsa-a", |_, c| {
            c["iss"] = json!("https://idp.example/")
        })));
        assert!(text.contains("trailing slash"), "{text}");
        let mut lax = validator();
        lax.validate_iss = false;
        assert!(check_with(&lax, &token_with("rsa-a", |_, c| c["iss"] = json!("x"))).is_ok());
    }

    #[test]
    fn audience_may_be_a_string_or_an_array_containing_it() {
        assert!(check(&token_with("rsa-a", |_, c| c["aud"] = json!(["other", AUD]))).is_ok());
        let text = message(check(&token_with("rsa-a", |_, c| {
            c["aud"] = json!(["other", "more"])
        })));
        assert_eq!(
            text,
            format!("Token audience mismatch: expected `{AUD}`, got `other`, `more`")
        );
        let mut lax = validator();
        lax.validate_aud = false;
        assert!(check_with(&lax, &token_with("rsa-a", |_, c| c["aud"] = json!("x"))).is_ok());
    }

    #[test]
    fn missing_scopes_are_named() {
        let mut v = validator();
        v.required_scopes = vec!["read:mimic-data".into(), "admin".into(), "export".into()];
        let token = token_with("rsa-a", |_, c| c["scope"] = json!("read:mimic-data export"));
        assert_eq!(
            message(check_with(&v, &token)),
            "Missing required scopes: admin"
        );
        let token = token_with("rsa-a", |_, c| {
            c.as_object_mut().unwrap().remove("scope");
            c["scp"] = json!(["read:mimic-data", "admin", "export"]);
        });
        assert!(check_with(&v, &token).is_ok(), "scp array");
        // Microsoft Entra sends `scp` as one space-separated string.
        let token = token_with("rsa-a", |_, c| {
            c.as_object_mut().unwrap().remove("scope");
            c["scp"] = json!("read:mimic-data admin export");
        });
        assert!(check_with(&v, &token).is_ok(), "scp string");
        let token = token_with("rsa-a", |_, c| c["scope"] = json!("openid"));
        assert_eq!(
            message(check_with(&v, &token)),
            "Missing required scopes: read:mimic-data, admin, export"
        );
    }

    #[test]
    fn messages_never_contain_the_token() {
        let token = token_with("rsa-a", |_, c| c["aud"] = json!("other"));
        let signature = token.rsplit('.').next().unwrap();
        let text = message(check(&token));
        assert!(
            !text.contains(signature) && !text.contains(&token[..20]),
            "{text}"
        );
    }
}
