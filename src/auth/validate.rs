//! Access-token validation: structure, header, signature, then claims.
//!
//! Owns the rules of RFC 7515/7519/8725/9068 as m4 applies them; it does no I/O (keys
//! come from the caller) and knows nothing of rate limits. Where `jsonwebtoken`'s
//! defaults are looser, the checks are done here instead, which is why only its
//! signature primitive ([`jsonwebtoken::crypto::verify`]) is used:
//!
//! - the key decides the algorithm: a token whose `alg` differs from its key's is
//!   refused, `alg: none` and HMAC never pass (RFC 8725 §2.1, §3.1);
//! - `typ` must be `at+jwt` (RFC 9068 §2.1, §4), so an ID token or another kind of JWT
//!   signed by the same provider is not accepted as an access token (RFC 8725 §3.11);
//! - `crit` naming anything is refused, as m4 understands no extension (RFC 7515 §4.1.11);
//! - `jku`, `x5u`, `jwk` and `x5c` in the header are ignored, never fetched or trusted;
//! - a token without `kid` is accepted only when the key set has a single key;
//! - every registered claim is type-checked, the RFC 9068 required ones (`iss`, `exp`,
//!   `aud`, `sub`, `client_id`, `iat`, `jti`) must be present, `nbf` is honoured, and
//!   `exp`, `nbf` and `iat` allow the configured clock-skew leeway.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::AuthError;
use super::jwks::KeySet;

/// What a token's header says, once its rules have been checked.
#[derive(Debug, Clone)]
pub struct TokenHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
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

/// Claims of an accepted token.
#[derive(Debug, Clone)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: u64,
    pub scopes: Vec<String>,
    /// All claims as sent, for `m4 auth check`.
    pub raw: Map<String, Value>,
}

/// Splits a compact JWS and checks its header. Anything that is not three base64url
/// parts with a JSON-object header (an opaque token, a JWE) is [`AuthError::Malformed`].
pub fn parse(token: &str) -> Result<ParsedToken<'_>, AuthError> {
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
                "algorithm `{other}` is not accepted (RS256, ES256)"
            )));
        }
    };
    match raw.get("typ") {
        Some(Value::String(typ))
            if typ.eq_ignore_ascii_case("at+jwt")
                || typ.eq_ignore_ascii_case("application/at+jwt") => {}
        Some(Value::String(typ)) => {
            return Err(AuthError::InvalidHeader(format!(
                "`typ` is `{typ}`, not `at+jwt`: this is not an OAuth2 access token (RFC 9068); \
                 ask your provider for a JWT access token, not an ID token"
            )));
        }
        Some(_) => return Err(AuthError::InvalidHeader("`typ` is not a string".into())),
        None => {
            return Err(AuthError::InvalidHeader(
                "`typ` is missing; an OAuth2 access token must say `at+jwt` (RFC 9068)".into(),
            ));
        }
    }
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
    Ok(TokenHeader { alg, kid, raw })
}

impl ParsedToken<'_> {
    /// Verifies the signature with the key the `kid` names. The key's algorithm must be
    /// the header's: a token cannot pick how its signature is checked.
    pub fn verify_signature(&self, keys: &KeySet) -> Result<(), AuthError> {
        let kid = self.header.kid.as_deref();
        let Some(key) = keys.find(kid) else {
            return Err(AuthError::KeyNotFound(match kid {
                Some(kid) => format!("no key with kid `{kid}` in the provider's key set"),
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
        Claims::from_map(raw)
    }
}

impl Claims {
    fn from_map(raw: Map<String, Value>) -> Result<Claims, AuthError> {
        let iss = required_string(&raw, "iss")?;
        let sub = required_string(&raw, "sub")?;
        if sub.is_empty() {
            return Err(invalid("sub", "it is empty"));
        }
        required_string(&raw, "client_id")?;
        required_string(&raw, "jti")?;
        let aud = match raw.get("aud") {
            Some(Value::String(aud)) => vec![aud.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("aud", "it must be a string or an array of strings"))?,
            Some(_) => return Err(invalid("aud", "it must be a string or an array of strings")),
            None => return Err(missing("aud")),
        };
        let exp = numeric_date(&raw, "exp")?;
        let nbf = numeric_date(&raw, "nbf")?;
        let iat = numeric_date(&raw, "iat")?.ok_or_else(|| missing("iat"))?;
        let mut scopes: Vec<String> = Vec::new();
        match raw.get("scope") {
            None => {}
            Some(Value::String(s)) => {
                scopes.extend(s.split(' ').filter(|s| !s.is_empty()).map(str::to_string))
            }
            Some(_) => return Err(invalid("scope", "it must be a space-separated string")),
        }
        // `scp` is what Okta and Azure AD use: an array, or a string in some tenants.
        match raw.get("scp") {
            None => {}
            Some(Value::String(s)) => {
                scopes.extend(s.split(' ').filter(|s| !s.is_empty()).map(str::to_string))
            }
            Some(Value::Array(items)) => {
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| invalid("scp", "it must be an array of strings"))?;
                    scopes.push(s.to_string());
                }
            }
            Some(_) => return Err(invalid("scp", "it must be an array of strings")),
        }
        Ok(Claims {
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            scopes,
            raw,
        })
    }
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

fn required_string(raw: &Map<String, Value>, claim: &'static str) -> Result<String, AuthError> {
    match raw.get(claim) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(invalid(claim, "it must be a string")),
        None => Err(missing(claim)),
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

/// The claim rules in force, prepared once.
#[derive(Debug, Clone)]
pub struct Validator {
    pub issuer: String,
    pub audience: String,
    pub required_scopes: Vec<String>,
    pub validate_exp: bool,
    pub validate_aud: bool,
    pub validate_iss: bool,
    /// Clock-skew allowance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: u64,
}

/// The names of the claim checks, in the order they run.
pub const CLAIM_CHECKS: [&str; 6] = ["exp", "nbf", "iat", "iss", "aud", "scopes"];

impl Validator {
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
        for check in CLAIM_CHECKS {
            self.check_claim(check, claims, now)?;
        }
        Ok(())
    }

    /// One claim check by name (see [`CLAIM_CHECKS`]); `m4 auth check` runs them all.
    pub fn check_claim(&self, check: &str, claims: &Claims, now: u64) -> Result<(), AuthError> {
        match check {
            "exp" if self.validate_exp => match claims.exp {
                None => Err(missing("exp")),
                // RFC 7519 §4.1.4: not accepted "on or after" `exp`.
                Some(exp) if now >= exp.saturating_add(self.leeway) => Err(AuthError::Expired),
                Some(_) => Ok(()),
            },
            "nbf" => match claims.nbf {
                Some(nbf) if now.saturating_add(self.leeway) < nbf => {
                    Err(AuthError::NotYetValid(nbf - now))
                }
                _ => Ok(()),
            },
            "iat" if now.saturating_add(self.leeway) < claims.iat => Err(invalid(
                "iat",
                "the token says it was issued in the future; check this machine's clock",
            )),
            "iss" if self.validate_iss && claims.iss != self.issuer => {
                Err(AuthError::IssuerMismatch {
                    note: slash_note(&self.issuer, &claims.iss),
                    expected: self.issuer.clone(),
                    actual: claims.iss.clone(),
                })
            }
            "aud" if self.validate_aud && !claims.aud.contains(&self.audience) => {
                let note = claims
                    .aud
                    .iter()
                    .map(|a| slash_note(&self.audience, a))
                    .find(|n| !n.is_empty())
                    .unwrap_or_default();
                Err(AuthError::AudienceMismatch {
                    expected: self.audience.clone(),
                    actual: claims
                        .aud
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    note,
                })
            }
            "scopes" => {
                let missing: Vec<String> = self
                    .required_scopes
                    .iter()
                    .filter(|s| !claims.scopes.contains(s))
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(AuthError::MissingScopes { missing })
                }
            }
            _ => Ok(()),
        }
    }
}

/// Providers differ on a trailing slash in their issuer; say so when it is the only
/// difference, since it is invisible at a glance.
fn slash_note(expected: &str, actual: &str) -> String {
    if expected.trim_end_matches('/') == actual.trim_end_matches('/') {
        format!(
            " (the only difference is a trailing slash; comparison is exact, so configure `{actual}`)"
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
    use crate::auth::testkeys::{self, claims, header, sign};

    const ISS: &str = "https://idp.example";
    const AUD: &str = "https://m4.example/api";
    const NOW: u64 = 1_800_000_000;

    fn validator() -> Validator {
        Validator {
            issuer: ISS.into(),
            audience: AUD.into(),
            required_scopes: vec!["read:mimic-data".into()],
            validate_exp: true,
            validate_aud: true,
            validate_iss: true,
            leeway: 60,
        }
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

    fn token_with(key: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
        let mut h = header(key);
        let mut c = claims(ISS, AUD, NOW);
        edit(&mut h, &mut c);
        sign(&h, &c, key)
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
    fn typ_must_be_at_jwt() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            assert!(
                check(&token_with("rsa-a", |h, _| h["typ"] = json!(typ))).is_ok(),
                "{typ}"
            );
        }
        for typ in [json!("JWT"), json!(1)] {
            let text = message(check(&token_with("rsa-a", |h, _| h["typ"] = typ.clone())));
            assert!(text.contains("`typ`"), "{text}");
        }
        let text = message(check(&token_with("rsa-a", |h, _| {
            h.as_object_mut().unwrap().remove("typ");
        })));
        assert!(text.contains("`typ` is missing"), "{text}");
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
    fn claims_are_type_checked() {
        let cases: [(&str, Value); 9] = [
            ("exp", json!("tomorrow")),
            ("exp", json!(-5)),
            ("nbf", json!(true)),
            ("iat", json!("now")),
            ("iss", json!(42)),
            ("sub", json!(["a"])),
            ("aud", json!([1, 2])),
            ("scope", json!(["read:mimic-data"])),
            ("scp", json!({"a": 1})),
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
    fn rfc9068_required_claims_must_be_present() {
        for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"] {
            let token = token_with("rsa-a", |_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            let text = message(check(&token));
            assert!(
                text.contains(&format!("`{claim}`")) && text.contains("missing"),
                "{claim}: {text}"
            );
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
        assert!(
            text.contains("audience mismatch") && text.contains("`other`, `more`"),
            "{text}"
        );
        assert!(text.contains(&format!("`{AUD}`")), "{text}");
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
