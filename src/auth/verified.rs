//! The "already verified" cache: tokens whose signature checked out, so a client that
//! sends the same token on every call pays for the RSA or ECDSA verification once.
//!
//! Owns only the memory of past verifications. It never holds a token: entries are
//! keyed by the SHA-256 of the token's bytes, so a dump of the process holds no
//! credential that this cache put there. It is bounded ([`CAPACITY`], least recently
//! used evicted first), an entry ends at its token's `exp`, and the whole cache is
//! emptied when the key set changes (a refresh or a rotation), since a verification
//! is only as good as the keys it was made with. Claims that depend on time or on the
//! configuration (`exp`, `nbf`, `iss`, `aud`, scopes) are not decided here: the caller
//! checks them on every call, hit or miss.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

use super::jwks::KeySet;
use super::validate::Claims;

/// Tokens remembered at most. A stdio session has one; an HTTP server one per
/// active user, and a miss only costs one verification.
pub const CAPACITY: usize = 1024;
/// Longest an entry lives when its token has no `exp` (`M4_OAUTH2_VALIDATE_EXP=false`).
pub const NO_EXP_LIFETIME_SECS: u64 = 300;

/// SHA-256 of a token: what the cache is keyed by.
pub type TokenDigest = [u8; 32];

/// The digest of `token`.
pub fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug)]
struct Entry {
    claims: Arc<Claims>,
    /// Unix seconds from which the entry is dropped.
    until: u64,
}

#[derive(Debug)]
struct State {
    /// The key set every entry was verified against; a different one empties the cache.
    keys: Option<Arc<KeySet>>,
    entries: LruCache<TokenDigest, Entry>,
}

/// Verified tokens by digest. `Send + Sync`; one short `Mutex` section per call.
#[derive(Debug)]
pub struct VerifiedCache {
    state: Mutex<State>,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache::with_capacity(CAPACITY)
    }
}

impl VerifiedCache {
    /// A cache holding at most `capacity` tokens (at least one).
    pub fn with_capacity(capacity: usize) -> VerifiedCache {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        VerifiedCache {
            state: Mutex::new(State {
                keys: None,
                entries: LruCache::new(capacity),
            }),
        }
    }

    /// The claims of a token with this digest verified against `keys`, if remembered
    /// and not past its `exp` at Unix time `now`.
    pub fn get(&self, token: &TokenDigest, keys: &Arc<KeySet>, now: u64) -> Option<Arc<Claims>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            // The key set changed: nothing remembered was verified with it.
            state.entries.clear();
            state.keys = None;
            return None;
        }
        match state.entries.get(token) {
            Some(entry) if now < entry.until => Some(Arc::clone(&entry.claims)),
            Some(_) => {
                state.entries.pop(token);
                None
            }
            None => None,
        }
    }

    /// Remembers that the token with this digest verified against `keys`. A token
    /// already expired is not remembered. A key set other than the one in use empties
    /// the cache first.
    pub fn insert(&self, token: TokenDigest, keys: &Arc<KeySet>, claims: Arc<Claims>, now: u64) {
        let until = claims
            .exp
            .unwrap_or_else(|| now.saturating_add(NO_EXP_LIFETIME_SECS));
        if until <= now {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            state.entries.clear();
            state.keys = Some(Arc::clone(keys));
        }
        state.entries.put(token, Entry { claims, until });
    }

    /// Tokens remembered now.
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::auth::validate::TokenType;

    const NOW: u64 = 1_800_000_000;

    fn claims(exp: Option<u64>) -> Arc<Claims> {
        Arc::new(Claims {
            iss: Some("https://idp.example".into()),
            sub: "researcher-1".into(),
            aud: vec!["https://m4.example/api".into()],
            exp,
            nbf: None,
            iat: None,
            jti: None,
            client_id: None,
            azp: None,
            scopes: vec![],
            has_scope_claim: false,
            typ: TokenType::Absent,
            raw: Map::new(),
        })
    }

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::default())
    }

    #[test]
    fn a_repeated_token_is_a_hit_and_another_is_a_miss() {
        let cache = VerifiedCache::default();
        let keys = keys();
        let a = digest("token-a");
        assert!(cache.get(&a, &keys, NOW).is_none());
        cache.insert(a, &keys, claims(Some(NOW + 60)), NOW);
        let hits = (0..100)
            .filter(|_| cache.get(&a, &keys, NOW).is_some())
            .count();
        assert_eq!(hits, 100);
        assert!(cache.get(&digest("token-b"), &keys, NOW).is_none());
    }

    #[test]
    fn an_entry_ends_at_the_token_exp() {
        let cache = VerifiedCache::default();
        let keys = keys();
        let a = digest("token-a");
        cache.insert(a, &keys, claims(Some(NOW + 60)), NOW);
        assert!(cache.get(&a, &keys, NOW + 59).is_some());
        assert!(cache.get(&a, &keys, NOW + 60).is_none());
        assert!(cache.is_empty(), "the expired entry is dropped, not kept");
        cache.insert(a, &keys, claims(Some(NOW)), NOW);
        assert!(cache.is_empty(), "an expired token is not remembered");
        cache.insert(a, &keys, claims(None), NOW);
        assert!(cache.get(&a, &keys, NOW + NO_EXP_LIFETIME_SECS).is_none());
    }

    #[test]
    fn a_new_key_set_empties_the_cache() {
        let cache = VerifiedCache::default();
        let (old, new) = (keys(), keys());
        let a = digest("token-a");
        cache.insert(a, &old, claims(Some(NOW + 60)), NOW);
        assert!(
            cache.get(&a, &new, NOW).is_none(),
            "verified with other keys"
        );
        assert!(
            cache.is_empty(),
            "dropped as soon as the new key set is seen"
        );
        cache.insert(a, &old, claims(Some(NOW + 60)), NOW);
        cache.insert(digest("token-b"), &new, claims(Some(NOW + 60)), NOW);
        assert_eq!(cache.len(), 1, "entries of the old key set are gone");
        assert!(cache.get(&a, &old, NOW).is_none());
    }

    #[test]
    fn the_bound_is_respected_least_recently_used_first() {
        let cache = VerifiedCache::with_capacity(3);
        let keys = keys();
        for i in 0..10 {
            cache.insert(digest(&format!("t{i}")), &keys, claims(Some(NOW + 60)), NOW);
            assert!(cache.len() <= 3);
        }
        assert!(cache.get(&digest("t9"), &keys, NOW).is_some());
        assert!(cache.get(&digest("t0"), &keys, NOW).is_none());
    }

    #[test]
    fn keys_are_digests_not_tokens() {
        let d = digest("header.payload.signature");
        assert_eq!(hex::encode(d).len(), 64);
        assert_ne!(&d[..], b"header.payload.signature".as_slice());
    }
}
