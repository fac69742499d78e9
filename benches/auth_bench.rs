//! Cost of OAuth2 on every tool call: token validation with a cached key (RS256,
//! ES256), the whole `authorize()` (token, cache lookup, validation, rate limit),
//! and the rate limiter alone.
//!
//! Run: `cargo bench --bench auth_bench` (with `CARGO_TARGET_DIR` as in the README).
//! Besides criterion's estimates it prints a plain per-call median for each case,
//! measured over batches. It asserts nothing: timings on shared machines are noisy.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use m4::auth::client_credentials::TokenSource;
use m4::auth::clock::{Clock, SystemClock};
use m4::auth::config::{AuthConfig, Secret};
use m4::auth::jwks::{CachePolicy, JwksCache, KeySet, StaticKeySource};
use m4::auth::rate_limit::RateLimiter;
use m4::auth::validate::Validator;
use m4::auth::{Authenticator, testkeys};

const ISS: &str = "https://idp.example";
const AUD: &str = "https://m4.example/api";

fn now() -> u64 {
    SystemClock.unix_seconds()
}

fn token(key: &str) -> String {
    testkeys::sign(
        &testkeys::header(key),
        &testkeys::claims(ISS, AUD, now()),
        key,
    )
}

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

fn authenticator(token: &str) -> Authenticator {
    let config = AuthConfig::from_lookup(|name| {
        match name {
            "M4_OAUTH2_ENABLED" => Some("true"),
            "M4_OAUTH2_ISSUER_URL" => Some(ISS),
            "M4_OAUTH2_AUDIENCE" => Some(AUD),
            "M4_OAUTH2_RATE_LIMIT_REQUESTS" => Some("4000000000"),
            _ => None,
        }
        .map(str::to_string)
    })
    .expect("config")
    .expect("auth on");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = Authenticator::new(config, Arc::clone(&clock));
    let keys = JwksCache::load(
        Box::new(StaticKeySource(testkeys::jwks(&["rsa-a", "ec-a"]))),
        CachePolicy::for_ttl(Duration::from_secs(3600)),
        clock,
    )
    .expect("keys");
    auth.start_with(keys, TokenSource::Static(Arc::new(Secret::new(token))))
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
        "{name:<40} median per call = {:>8.2} µs",
        samples[samples.len() / 2].as_secs_f64() * 1e6
    );
}

fn bench(c: &mut Criterion) {
    let keys =
        Arc::new(KeySet::parse(testkeys::jwks(&["rsa-a", "ec-a"]).as_bytes()).expect("key set"));
    let v = validator();
    for key in ["rsa-a", "ec-a"] {
        let t = token(key);
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

    let auth = authenticator(&token("rsa-a"));
    let run = || {
        black_box(auth.authorize().expect("authorized"));
    };
    median_per_call("auth/authorize/RS256 (per call, same token)", 51, 200, run);
    c.bench_function("auth/authorize/RS256", |b| b.iter(run));

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
