//! Cost of OAuth2 on every tool call: token validation with a cached key (RS256,
//! ES256, the signature verified every time), the whole `authorize_configured()`
//! (stdio: token, verified-cache hit, claim checks, rate limit), `authorize(bearer)`
//! over 500 users' bearers (HTTP: every bearer a cache hit), and the rate limiter alone.
//!
//! Run: `cargo bench --bench auth_bench` (with `CARGO_TARGET_DIR` as in the README).
//! Besides criterion's estimates it prints a plain per-call median for each case,
//! measured over batches. It asserts nothing: timings on shared machines are noisy.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use m4::auth::Authenticator;
use m4::auth::client_credentials::TokenSource;
use m4::auth::clock::{Clock, SystemClock};
use m4::auth::config::Secret;
use m4::auth::jwks::{CachePolicy, JwksCache, KeySet, StaticKeySource};
use m4::auth::rate_limit::RateLimiter;
use m4::auth::testkeys::{self, AUDIENCE as AUD, ISSUER as ISS};

fn now() -> u64 {
    SystemClock.unix_seconds()
}

fn token_for(sub: &str, key: &str) -> String {
    let mut claims = testkeys::claims(ISS, AUD, now());
    claims["sub"] = serde_json::json!(sub);
    testkeys::sign(&testkeys::header(key), &claims, key)
}

/// An authenticator with the in-memory fixture keys and no practical rate limit,
/// started with `token` configured (stdio), or for per-request bearers (`None`).
fn authenticator(token: Option<&str>) -> Authenticator {
    let config = testkeys::config(&[("M4_OAUTH2_RATE_LIMIT_REQUESTS", "4000000000")]);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = Authenticator::new(config, Arc::clone(&clock));
    let keys = JwksCache::load(
        Box::new(StaticKeySource(testkeys::jwks(&["rsa-a", "ec-a"]))),
        CachePolicy::for_ttl(Duration::from_secs(3600)),
        clock,
    )
    .expect("keys");
    match token {
        Some(token) => auth.start_with(keys, TokenSource::Static(Arc::new(Secret::new(token)))),
        None => auth.start_per_request_with(keys),
    }
    .expect("start");
    auth
}

/// Median per-call time over `batches` batches of `per_batch` calls.
fn median_per_call(name: &str, batches: usize, per_batch: u32, mut f: impl FnMut()) {
    let mut samples: Vec<Duration> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed() / per_batch
        })
        .collect();
    samples.sort();
    println!(
        "{name:<44} median per call = {:>8.2} µs",
        samples[samples.len() / 2].as_secs_f64() * 1e6
    );
}

fn bench(c: &mut Criterion) {
    let keys =
        Arc::new(KeySet::parse(testkeys::jwks(&["rsa-a", "ec-a"]).as_bytes()).expect("key set"));
    let v = testkeys::validator();
    for key in ["rsa-a", "ec-a"] {
        let t = token_for("researcher-1", key);
        let name = format!("auth/validate/{:?}", testkeys::algorithm(key));
        let run = || {
            black_box(
                v.validate(black_box(&t), |_| Ok(Arc::clone(&keys)), now())
                    .expect("valid"),
            );
        };
        median_per_call(&name, 51, 200, run);
        c.bench_function(&name, |b| b.iter(run));
    }

    let auth = authenticator(Some(&token_for("researcher-1", "rsa-a")));
    let run = || {
        black_box(auth.authorize_configured().expect("authorized"));
    };
    median_per_call("auth/authorize_configured/RS256 (same token)", 51, 200, run);
    c.bench_function("auth/authorize_configured/RS256", |b| b.iter(run));

    // HTTP: the bearer arrives as a string with every request; 500 users' bearers
    // cycle through the verified cache (all hits after the first round).
    let auth = authenticator(None);
    let bearers: Vec<String> = (0..500)
        .map(|i| format!("Bearer {}", token_for(&format!("user-{i}"), "rsa-a")))
        .collect();
    let mut i = 0usize;
    let mut run = || {
        i = (i + 1) % bearers.len();
        black_box(auth.authorize(&bearers[i]).expect("authorized"));
    };
    median_per_call(
        "auth/authorize/RS256 (500 cached bearers)",
        51,
        500,
        &mut run,
    );
    c.bench_function("auth/authorize/RS256 cached bearers", |b| b.iter(&mut run));

    let start = Instant::now();
    let limiter = RateLimiter::new(u32::MAX, Duration::from_secs(3600), start);
    let users: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    for user in &users {
        limiter.check(user, start).expect("admitted");
    }
    let mut i = 0usize;
    let mut run = || {
        i = (i + 1) % users.len();
        black_box(limiter.check(&users[i], start).is_ok());
    };
    median_per_call("auth/rate_limit/10k users", 51, 10_000, &mut run);
    c.bench_function("auth/rate_limit/10k users", |b| b.iter(&mut run));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
