//! Fixture keys (tests/fixtures/auth/*.pem), provider-shaped token fixtures
//! (tests/fixtures/auth/providers/*.json) and token minting, for unit tests,
//! integration tests and benchmarks. Only built with `cfg(test)` or the
//! `test-support` feature: never part of the shipped binary.
//!
//! Tokens are assembled by hand rather than through `jsonwebtoken::encode` so tests
//! can write any header (`alg: none`, `crit`, odd `typ`) the validator must refuse.
//! Fixtures panic on a broken fixture file: they are test code.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::config::AuthConfig;
use super::validate::Validator;

/// Issuer of the unit-test and benchmark tokens.
pub const ISSUER: &str = "https://idp.example";
/// Audience of the unit-test and benchmark tokens.
pub const AUDIENCE: &str = "https://m4.example/api";
/// A fixed "now" for unit tests (2027-01-15).
pub const NOW: u64 = 1_800_000_000;

/// The provider shapes in tests/fixtures/auth/providers, each accepted as an access
/// token with the default settings.
pub const PROVIDER_SHAPES: [&str; 7] = [
    "auth0-default",
    "auth0-m2m",
    "auth0-rfc9068",
    "okta-custom-as",
    "keycloak",
    "entra-v2",
    "entra-v1",
];

/// The configuration for [`ISSUER`] and [`AUDIENCE`] with the defaults, plus `extra`
/// variables (`M4_OAUTH2_*` name, value).
pub fn config(extra: &[(&str, &str)]) -> AuthConfig {
    let mut vars: Vec<(String, String)> = vec![
        ("M4_OAUTH2_ENABLED".into(), "true".into()),
        ("M4_OAUTH2_ISSUER_URL".into(), ISSUER.into()),
        ("M4_OAUTH2_AUDIENCE".into(), AUDIENCE.into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AuthConfig::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test configuration parses")
    .expect("auth is on")
}

/// The validator of [`config`]`(&[])`: scope `read:mimic-data`, 60 s leeway.
pub fn validator() -> Validator {
    Validator::from_config(&config(&[]))
}

/// Folder of the fixture keys.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/auth")
}

/// The algorithm a fixture key signs with (`ec-*` → ES256, else RS256).
pub fn algorithm(name: &str) -> Algorithm {
    if name.starts_with("ec-") {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    }
}

/// The private key of fixture `name` (`rsa-a`, `rsa-b`, `ec-a`, `ec-b`, `rsa-1024`).
pub fn encoding_key(name: &str) -> EncodingKey {
    let path = fixtures_dir().join(format!("{name}.pem"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    match algorithm(name) {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The public JWK of fixture `name`, with `kid` = `name`, `use` = `sig` and its `alg`.
pub fn public_jwk(name: &str) -> Value {
    // A key the crypto backend refuses to load (RSA-1024) ships as a ready JWK.
    let ready = fixtures_dir().join(format!("{name}.jwk.json"));
    if let Ok(text) = std::fs::read_to_string(&ready) {
        let mut value: Value = serde_json::from_str(&text).expect("fixture JWK is JSON");
        value["kid"] = json!(name);
        value["use"] = json!("sig");
        return value;
    }
    let alg = algorithm(name);
    let jwk = Jwk::from_encoding_key(&encoding_key(name), alg).expect("public JWK");
    let mut value = serde_json::to_value(jwk).expect("JWK as JSON");
    value["kid"] = json!(name);
    value["use"] = json!("sig");
    value
}

/// A JWK Set document with the public keys of `names`.
pub fn jwks(names: &[&str]) -> String {
    json!({ "keys": names.iter().map(|n| public_jwk(n)).collect::<Vec<_>>() }).to_string()
}

/// Signs `header` + `claims` with fixture `key` using the header's `alg` if it is one
/// the key can produce, else the key's own algorithm.
pub fn sign(header: &Value, claims: &Value, key: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &encoding_key(key), algorithm(key))
            .expect("sign");
    format!("{message}.{signature}")
}

/// A header as a provider following RFC 9068 writes it.
pub fn header(key: &str) -> Value {
    json!({ "alg": format!("{:?}", algorithm(key)), "typ": "at+jwt", "kid": key })
}

/// Claims of a valid RFC 9068 access token issued at `now`, valid for an hour.
pub fn claims(issuer: &str, audience: &str, now: u64) -> Value {
    json!({
        "iss": issuer,
        "sub": "researcher-1",
        "aud": audience,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "jti": "token-1",
        "client_id": "m4-tests",
        "scope": "openid read:mimic-data",
    })
}

/// Header and claims of provider fixture `name` (see [`PROVIDER_SHAPES`]), with
/// `$ISSUER`, `$AUDIENCE` and `$KID` replaced, and `$NOW`, `$NOW+N`, `$NOW-N` made
/// numbers relative to `now`.
pub fn provider_fixture(
    name: &str,
    issuer: &str,
    audience: &str,
    now: u64,
    key: &str,
) -> (Value, Value) {
    let path = fixtures_dir()
        .join("providers")
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut fixture: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    substitute(&mut fixture, issuer, audience, now, key);
    (fixture["header"].take(), fixture["claims"].take())
}

/// Provider fixture `name` signed with fixture key `key` (its `alg` is the fixture's).
pub fn mint_provider(name: &str, issuer: &str, audience: &str, now: u64, key: &str) -> String {
    let (header, claims) = provider_fixture(name, issuer, audience, now, key);
    sign(&header, &claims, key)
}

fn substitute(value: &mut Value, issuer: &str, audience: &str, now: u64, key: &str) {
    match value {
        Value::String(s) => {
            let replaced = match s.as_str() {
                "$ISSUER" => json!(issuer),
                "$AUDIENCE" => json!(audience),
                "$KID" => json!(key),
                "$NOW" => json!(now),
                other => match other.strip_prefix("$NOW") {
                    Some(offset) => {
                        let n: i64 = offset
                            .trim_start_matches('+')
                            .parse()
                            .unwrap_or_else(|_| panic!("bad time placeholder {other}"));
                        json!(now.saturating_add_signed(n))
                    }
                    None => return,
                },
            };
            *value = replaced;
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute(v, issuer, audience, now, key)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute(v, issuer, audience, now, key)),
        _ => {}
    }
}
