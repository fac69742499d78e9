//! The provider's signing keys: parsing a JWK Set (RFC 7517) into ready-to-use
//! verification keys, and the cache that keeps them fresh.
//!
//! Owns key parsing, the cache's TTL, stale-key grace and the key-rotation refetch.
//! It does not look at tokens beyond the `kid` it is asked for, and it never fetches
//! a key location named inside a token (`jku`, `x5u`): only the configured or
//! discovered `jwks_uri` (RFC 8725 §3.10).
//!
//! Keys are parsed once per fetch; a lookup while the cache is fresh is a read lock
//! and an `Arc` clone, with no I/O.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::AuthError;
use super::clock::Clock;

/// Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
const MIN_RSA_BITS: usize = 2048;
/// Largest key-set document read, so a misbehaving endpoint cannot exhaust memory.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 20;

/// One verification key, with the single algorithm it may be used with.
#[derive(Debug, Clone)]
pub struct VerifyKey {
    pub kid: Option<String>,
    /// Decided by the key (its `alg`, or its type and curve), never by a token header.
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The usable keys of one JWK Set document.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    pub keys: Vec<VerifyKey>,
    /// Keys left out, with why (shown by `m4 auth check`, logged at debug).
    pub skipped: Vec<String>,
}

impl KeySet {
    /// Parses a JWK Set document. Keys m4 cannot use are skipped, not fatal: providers
    /// publish encryption keys and other algorithms beside their signing keys.
    pub fn parse(document: &[u8]) -> Result<KeySet, String> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|e| format!("the key set is not JSON ({e})"))?;
        let Some(entries) = value.get("keys").and_then(Value::as_array) else {
            return Err("the key set has no `keys` array".to_string());
        };
        let mut set = KeySet::default();
        for (i, entry) in entries.iter().enumerate() {
            match parse_key(entry) {
                Ok(key) => set.keys.push(key),
                Err(why) => {
                    let name = entry
                        .get("kid")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("#{i}"), |kid| format!("`{kid}`"));
                    set.skipped.push(format!("key {name}: {why}"));
                }
            }
        }
        Ok(set)
    }

    /// The key for a token: by `kid` when the token names one; without a `kid`, only
    /// when the set holds exactly one key, as guessing among several would let a token
    /// choose its key.
    pub fn find(&self, kid: Option<&str>) -> Option<&VerifyKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// Whether a lookup for `kid` could succeed after a refetch (a kid we do not have).
    fn lacks(&self, kid: Option<&str>) -> bool {
        kid.is_some() && self.find(kid).is_none()
    }

    /// The key ids, for diagnostics.
    pub fn kids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{} ({:?})", k.kid.as_deref().unwrap_or("no kid"), k.alg))
            .collect()
    }
}

fn parse_key(entry: &Value) -> Result<VerifyKey, String> {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    if let Some(usage) = entry.get("use")
        && usage.as_str() != Some("sig")
    {
        return Err(format!("`use` is {usage}, not \"sig\""));
    }
    if let Some(ops) = entry.get("key_ops") {
        let verify = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verify {
            return Err("`key_ops` does not include \"verify\"".to_string());
        }
    }
    if entry.get("d").is_some() {
        return Err("it contains private key material; a published key set must not".to_string());
    }
    let kid = match entry.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(other) => return Err(format!("`kid` is {other}, not a string")),
    };
    let declared = match entry.get("alg") {
        None => None,
        Some(Value::String(alg)) => Some(alg.as_str()),
        Some(other) => return Err(format!("`alg` is {other}, not a string")),
    };
    let (alg, key) = match text("kty") {
        Some("RSA") => {
            let n = b64_field(entry, "n")?;
            let e = b64_field(entry, "e")?;
            let bits = significant_bits(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "RSA modulus of {bits} bits is below {MIN_RSA_BITS}"
                ));
            }
            match declared {
                None | Some("RS256") => {}
                Some(other) => {
                    return Err(format!(
                        "algorithm `{other}` is not supported (RS256, ES256)"
                    ));
                }
            }
            (
                Algorithm::RS256,
                DecodingKey::from_rsa_raw_components(&n, &e),
            )
        }
        Some("EC") => {
            if text("crv") != Some("P-256") {
                return Err(format!(
                    "curve {:?} is not supported (P-256)",
                    entry.get("crv")
                ));
            }
            match declared {
                None | Some("ES256") => {}
                Some(other) => {
                    return Err(format!(
                        "algorithm `{other}` is not supported (RS256, ES256)"
                    ));
                }
            }
            let x = b64_field(entry, "x")?;
            let y = b64_field(entry, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("P-256 coordinates must be 32 bytes each".to_string());
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (Algorithm::ES256, DecodingKey::from_ec_der(&point))
        }
        // Symmetric (`oct`) keys never belong in a public key set: accepting one would
        // let anyone who read the set sign tokens (RFC 8725 §2.1).
        other => return Err(format!("key type {other:?} is not supported (RSA, EC)")),
    };
    Ok(VerifyKey { kid, alg, key })
}

fn b64_field(entry: &Value, name: &str) -> Result<Vec<u8>, String> {
    let raw = entry
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` is missing"))?;
    URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| format!("`{name}` is not base64url"))
}

fn significant_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
    }
}

/// Where key sets come from.
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// Fetches and parses the current key set (blocking).
    fn fetch(&self) -> Result<KeySet, String>;
    /// The URL or name shown in messages.
    fn location(&self) -> String;
}

/// A key set served over HTTP(S).
#[derive(Debug)]
pub struct HttpKeySource {
    pub url: url::Url,
    pub agent: ureq::Agent,
}

impl KeySource for HttpKeySource {
    fn fetch(&self) -> Result<KeySet, String> {
        let document = super::discovery::http_get(&self.agent, &self.url)?;
        KeySet::parse(&document)
    }

    fn location(&self) -> String {
        self.url.to_string()
    }
}

/// A key set held in memory (tests and benchmarks).
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Clone)]
pub struct StaticKeySource(pub String);

#[cfg(any(test, feature = "test-support"))]
impl KeySource for StaticKeySource {
    fn fetch(&self) -> Result<KeySet, String> {
        KeySet::parse(self.0.as_bytes())
    }

    fn location(&self) -> String {
        "(in memory)".to_string()
    }
}

/// Timing rules of the cache.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// Age after which the key set is refreshed.
    pub ttl: Duration,
    /// How long past the TTL the last good keys are still used while refreshes fail.
    /// Bounded so that a key the provider withdrew does not stay trusted forever
    /// because the provider is unreachable.
    pub grace: Duration,
    /// Minimum time between two fetches triggered by failure or an unknown `kid`,
    /// so a stream of bad tokens or a dead provider is not hammered.
    pub cooldown: Duration,
}

impl CachePolicy {
    /// The policy for a TTL: grace of one more TTL, cooldown of 10 s (or the TTL if shorter).
    pub fn for_ttl(ttl: Duration) -> CachePolicy {
        CachePolicy {
            ttl,
            grace: ttl,
            cooldown: Duration::from_secs(10).min(ttl),
        }
    }
}

#[derive(Debug, Clone)]
struct CacheState {
    keys: Arc<KeySet>,
    fetched_at: Instant,
    /// Last fetch attempt that was not a scheduled success (failure or unknown kid).
    last_unscheduled: Option<Instant>,
}

/// The JWKS cache: fresh keys without I/O, refresh after the TTL, one refetch for an
/// unknown `kid`, stale keys within the grace when the provider is down.
#[derive(Debug)]
pub struct JwksCache {
    source: Box<dyn KeySource>,
    policy: CachePolicy,
    clock: Arc<dyn Clock>,
    state: RwLock<CacheState>,
    /// Serialises fetches so concurrent calls on a stale cache fetch once.
    fetching: Mutex<()>,
}

impl JwksCache {
    /// Fetches the key set once; fails when it cannot be fetched or holds no usable key.
    pub fn load(
        source: Box<dyn KeySource>,
        policy: CachePolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<JwksCache, AuthError> {
        let keys = source
            .fetch()
            .map_err(|reason| AuthError::KeysUnavailable {
                location: source.location(),
                reason,
            })?;
        if keys.keys.is_empty() {
            return Err(AuthError::KeysUnavailable {
                location: source.location(),
                reason: format!(
                    "it holds no usable signing key ({})",
                    keys.skipped.join("; ")
                ),
            });
        }
        for why in &keys.skipped {
            tracing::debug!(location = %source.location(), "skipped a key: {why}");
        }
        let now = clock.now();
        Ok(JwksCache {
            source,
            policy,
            clock,
            state: RwLock::new(CacheState {
                keys: Arc::new(keys),
                fetched_at: now,
                last_unscheduled: None,
            }),
            fetching: Mutex::new(()),
        })
    }

    /// Where keys come from.
    pub fn location(&self) -> String {
        self.source.location()
    }

    /// The key set to verify a token carrying `kid` against. No I/O while the set is
    /// fresh and knows `kid`.
    pub fn keys_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>, AuthError> {
        let state = self.snapshot();
        let now = self.clock.now();
        let age = now.saturating_duration_since(state.fetched_at);
        if age < self.policy.ttl && !state.keys.lacks(kid) {
            return Ok(state.keys);
        }
        let refreshed = self.refresh(now, kid)?;
        Ok(refreshed.keys)
    }

    fn snapshot(&self) -> CacheState {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn refresh(&self, now: Instant, kid: Option<&str>) -> Result<CacheState, AuthError> {
        let _fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
        // Another caller may have refreshed while we waited for the lock.
        let state = self.snapshot();
        let age = now.saturating_duration_since(state.fetched_at);
        let stale = age >= self.policy.ttl;
        if !stale && !state.keys.lacks(kid) {
            return Ok(state);
        }
        let cooling = state
            .last_unscheduled
            .is_some_and(|at| now.saturating_duration_since(at) < self.policy.cooldown);
        if cooling {
            return self.usable_or_expired(state, age);
        }
        match self.source.fetch() {
            Ok(keys) if !keys.keys.is_empty() => {
                let fresh = CacheState {
                    keys: Arc::new(keys),
                    fetched_at: now,
                    // An unknown kid counts against the cooldown even on success: a
                    // refetch did not make that kid appear, another one soon will not either.
                    last_unscheduled: if stale { None } else { Some(now) },
                };
                if !stale {
                    tracing::info!(
                        location = %self.source.location(),
                        found = !fresh.keys.lacks(kid),
                        "OAuth2 key set refetched for a token with an unknown kid (key rotation?)"
                    );
                }
                *self.state.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
                Ok(fresh)
            }
            outcome => {
                let reason = match outcome {
                    Ok(_) => "it holds no usable signing key".to_string(),
                    Err(reason) => reason,
                };
                tracing::warn!(
                    location = %self.source.location(),
                    "could not refresh the OAuth2 key set ({reason}); keeping the last good keys"
                );
                let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
                guard.last_unscheduled = Some(now);
                let state = guard.clone();
                drop(guard);
                self.usable_or_expired(state, age)
                    .map_err(|_| AuthError::KeysUnavailable {
                        location: self.source.location(),
                        reason,
                    })
            }
        }
    }

    fn usable_or_expired(&self, state: CacheState, age: Duration) -> Result<CacheState, AuthError> {
        if age < self.policy.ttl + self.policy.grace {
            Ok(state)
        } else {
            Err(AuthError::KeysUnavailable {
                location: self.source.location(),
                reason: format!(
                    "the last good key set is {} s old, past its lifetime and grace",
                    age.as_secs()
                ),
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::auth::clock::ManualClock;
    use crate::auth::testkeys;

    /// A key source whose documents tests swap, counting fetches.
    #[derive(Debug, Default)]
    pub struct FakeSource {
        pub document: Mutex<Option<String>>,
        pub fetches: AtomicUsize,
    }

    impl FakeSource {
        pub fn set(&self, document: Option<String>) {
            *self.document.lock().unwrap() = document;
        }
    }

    impl KeySource for Arc<FakeSource> {
        fn fetch(&self) -> Result<KeySet, String> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            match self.document.lock().unwrap().as_ref() {
                Some(doc) => KeySet::parse(doc.as_bytes()),
                None => Err("connection refused".to_string()),
            }
        }
        fn location(&self) -> String {
            "fake://jwks".to_string()
        }
    }

    fn cache(source: &Arc<FakeSource>, clock: &Arc<ManualClock>) -> JwksCache {
        JwksCache::load(
            Box::new(Arc::clone(source)),
            CachePolicy {
                ttl: Duration::from_secs(100),
                grace: Duration::from_secs(50),
                cooldown: Duration::from_secs(10),
            },
            Arc::clone(clock) as Arc<dyn Clock>,
        )
        .unwrap()
    }

    fn setup(document: String) -> (Arc<FakeSource>, Arc<ManualClock>, JwksCache) {
        let source = Arc::new(FakeSource::default());
        source.set(Some(document));
        let clock = Arc::new(ManualClock::new(1_800_000_000));
        let cache = cache(&source, &clock);
        (source, clock, cache)
    }

    #[test]
    fn parses_rsa_and_ec_keys_and_takes_the_algorithm_from_the_key() {
        let set = KeySet::parse(testkeys::jwks(&["rsa-a", "ec-a"]).as_bytes()).unwrap();
        assert_eq!(set.keys.len(), 2, "{:?}", set.skipped);
        assert_eq!(set.find(Some("rsa-a")).unwrap().alg, Algorithm::RS256);
        assert_eq!(set.find(Some("ec-a")).unwrap().alg, Algorithm::ES256);
        assert!(set.find(Some("rsa-b")).is_none());
    }

    #[test]
    fn a_token_without_kid_matches_only_a_single_key_set() {
        let two = KeySet::parse(testkeys::jwks(&["rsa-a", "ec-a"]).as_bytes()).unwrap();
        assert!(two.find(None).is_none());
        let one = KeySet::parse(testkeys::jwks(&["rsa-a"]).as_bytes()).unwrap();
        assert_eq!(one.find(None).unwrap().kid.as_deref(), Some("rsa-a"));
    }

    #[test]
    fn skips_keys_it_must_not_use() {
        let rsa = testkeys::public_jwk("rsa-a");
        let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
            let mut key = rsa.as_object().unwrap().clone();
            f(&mut key);
            Value::Object(key)
        };
        let cases = [
            with(&|k| {
                k.insert("use".into(), "enc".into());
            }),
            with(&|k| {
                k.insert("alg".into(), "RS512".into());
            }),
            with(&|k| {
                k.insert("key_ops".into(), serde_json::json!(["encrypt"]));
            }),
            with(&|k| {
                k.insert("d".into(), "AAAA".into());
            }),
            serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}),
            serde_json::json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
            testkeys::public_jwk("rsa-1024"),
        ];
        for key in cases {
            let doc = serde_json::json!({ "keys": [key] }).to_string();
            let set = KeySet::parse(doc.as_bytes()).unwrap();
            assert!(set.keys.is_empty(), "accepted {key}");
            assert_eq!(set.skipped.len(), 1);
        }
    }

    #[test]
    fn rejects_a_document_that_is_not_a_key_set() {
        assert!(KeySet::parse(b"<html>").is_err());
        assert!(KeySet::parse(b"{\"issuer\": \"x\"}").is_err());
    }

    #[test]
    fn fresh_cache_does_no_io() {
        let (source, clock, cache) = setup(testkeys::jwks(&["rsa-a"]));
        for _ in 0..100 {
            cache.keys_for(Some("rsa-a")).unwrap();
        }
        clock.advance(Duration::from_secs(99));
        cache.keys_for(Some("rsa-a")).unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn refreshes_after_the_ttl() {
        let (source, clock, cache) = setup(testkeys::jwks(&["rsa-a"]));
        clock.advance(Duration::from_secs(100));
        source.set(Some(testkeys::jwks(&["rsa-b"])));
        let keys = cache.keys_for(Some("rsa-a")).unwrap();
        assert!(keys.find(Some("rsa-b")).is_some());
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn unknown_kid_triggers_one_refetch_then_cools_down() {
        let (source, clock, cache) = setup(testkeys::jwks(&["rsa-a"]));
        source.set(Some(testkeys::jwks(&["rsa-a", "rsa-b"])));
        assert!(
            cache
                .keys_for(Some("rsa-b"))
                .unwrap()
                .find(Some("rsa-b"))
                .is_some()
        );
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        // A stream of tokens with a kid nobody publishes: one fetch per cooldown.
        for _ in 0..50 {
            assert!(
                cache
                    .keys_for(Some("forged"))
                    .unwrap()
                    .find(Some("forged"))
                    .is_none()
            );
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(10));
        cache.keys_for(Some("forged")).unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn provider_down_keeps_last_good_keys_within_the_grace_then_fails() {
        let (source, clock, cache) = setup(testkeys::jwks(&["rsa-a"]));
        source.set(None);
        clock.advance(Duration::from_secs(120));
        assert!(
            cache
                .keys_for(Some("rsa-a"))
                .unwrap()
                .find(Some("rsa-a"))
                .is_some()
        );
        // Failed refresh: no retry on every call.
        cache.keys_for(Some("rsa-a")).unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(30));
        let err = cache.keys_for(Some("rsa-a")).unwrap_err().to_string();
        assert!(err.contains("fake://jwks"), "{err}");
        // Provider back: recovers.
        source.set(Some(testkeys::jwks(&["rsa-a"])));
        clock.advance(Duration::from_secs(10));
        assert!(cache.keys_for(Some("rsa-a")).is_ok());
    }

    #[test]
    fn load_fails_when_no_key_is_usable() {
        let source = Arc::new(FakeSource::default());
        source.set(Some(
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#.to_string(),
        ));
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let err = JwksCache::load(
            Box::new(source),
            CachePolicy::for_ttl(Duration::from_secs(60)),
            clock,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no usable signing key"), "{err}");
    }
}
