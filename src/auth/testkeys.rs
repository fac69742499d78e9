//! Fixture keys (tests/fixtures/auth/*.pem) and token minting, for unit tests and
//! benchmarks. Not used by m4 itself.
//!
//! Tokens are assembled by hand rather than through `jsonwebtoken::encode` so tests
//! can write any header (`alg: none`, `crit`, odd `typ`) the validator must refuse.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

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
