//! Request rate limits and per-key budgets, generic over what a key means (a caller's
//! identity hash, a client address, …).
//!
//! * [`RateLimiter`]: token buckets (burst capacity, steady refill), one per key, with
//!   separate defaults for anonymous and authenticated keys. The transports check it once
//!   per HTTP request; a refusal becomes HTTP 429 with `Retry-After` and `RateLimit-*`
//!   headers.
//! * [`WindowBudget`]: a number of uses per fixed window per key (e.g. calls of expensive
//!   tools per user per hour), with the time the window resets.
//!
//! Both are sharded maps behind short-lived `std::sync::Mutex`es (never held across an
//! await), so the hot path is a hash, one uncontended lock and a few arithmetic
//! operations. Idle entries are swept when a shard grows past its bound, so memory stays
//! proportional to the number of recently active keys.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

const SHARDS: usize = 32;
/// Entries per shard before idle ones are swept.
const SWEEP_AT: usize = 4096;

/// A steady rate with a burst allowance: `burst` requests at once, refilled at
/// `per_minute` requests per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_minute: u32, burst: u32) -> Rate {
        Rate { per_minute, burst }
    }
    /// Never limited.
    pub const UNLIMITED: Rate = Rate { per_minute: 0, burst: 0 };

    pub fn is_unlimited(&self) -> bool {
        self.per_minute == 0
    }
    fn capacity(&self) -> f64 {
        self.burst.max(1) as f64
    }
    fn per_second(&self) -> f64 {
        self.per_minute as f64 / 60.0
    }
}

/// Request limits for the HTTP transports.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Per client address, for requests without a validated identity.
    pub anonymous: Rate,
    /// Per caller identity (e.g. a token hash).
    pub authenticated: Rate,
    /// Take the client address from the first `X-Forwarded-For` entry (only behind a
    /// proxy that sets it; otherwise clients could pick their own key).
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            anonymous: Rate::new(300, 60),
            authenticated: Rate::new(1200, 200),
            trust_forwarded_for: false,
        }
    }
}

/// Who a limit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A validated caller identity (never a raw credential).
    Caller(String),
    /// A client address (anonymous callers).
    Address(IpAddr),
}

impl LimitKey {
    pub fn is_authenticated(&self) -> bool {
        matches!(self, LimitKey::Caller(_))
    }
}

/// The outcome of a rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Allowed {
        limit: u32,
        remaining: u32,
    },
    Limited {
        limit: u32,
        /// When one more request will be admitted.
        retry_after: Duration,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Sharded<V> {
    shards: Vec<Mutex<HashMap<LimitKey, V>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl<V> Sharded<V> {
    fn new() -> Self {
        Sharded {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
    fn shard(&self, key: &LimitKey) -> MutexGuard<'_, HashMap<LimitKey, V>> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }
}

/// Token buckets keyed by [`LimitKey`]; see the module docs.
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Sharded<Bucket>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter { config, buckets: Sharded::new() }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Take one request from `key`'s bucket.
    pub fn check(&self, key: &LimitKey) -> Decision {
        self.check_at(key, Instant::now())
    }

    pub fn rate_for(&self, key: &LimitKey) -> Rate {
        if key.is_authenticated() {
            self.config.authenticated
        } else {
            self.config.anonymous
        }
    }

    pub(crate) fn check_at(&self, key: &LimitKey, now: Instant) -> Decision {
        let rate = self.rate_for(key);
        if rate.is_unlimited() {
            return Decision::Allowed { limit: 0, remaining: u32::MAX };
        }
        let capacity = rate.capacity();
        let per_second = rate.per_second();
        let limit = rate.burst.max(1);
        let mut shard = self.buckets.shard(key);
        if shard.len() >= SWEEP_AT && !shard.contains_key(key) {
            // A bucket that would be full again carries no information: drop it.
            shard.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = shard.entry(key.clone()).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed { limit, remaining: bucket.tokens.floor() as u32 }
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Decision::Limited { limit, retry_after: Duration::from_secs_f64(wait.max(0.001)) }
        }
    }

    /// Keys currently tracked (for tests and diagnostics).
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// A budget of uses per fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Uses per window; 0 means unlimited.
    pub uses: u32,
    pub window: Duration,
}

/// The outcome of spending from a [`WindowBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    Allowed { remaining: u32, resets_in: Duration },
    Exhausted { limit: u32, resets_in: Duration },
}

struct Window {
    started: Instant,
    used: u32,
}

/// Per-key counters over fixed windows; see the module docs.
pub struct WindowBudget {
    anonymous: Budget,
    authenticated: Budget,
    windows: Sharded<Window>,
}

impl WindowBudget {
    pub fn new(anonymous: Budget, authenticated: Budget) -> Self {
        WindowBudget { anonymous, authenticated, windows: Sharded::new() }
    }

    pub fn budget_for(&self, key: &LimitKey) -> Budget {
        if key.is_authenticated() {
            self.authenticated
        } else {
            self.anonymous
        }
    }

    /// Use one unit of `key`'s budget, if any is left in the current window.
    pub fn spend(&self, key: &LimitKey) -> Spend {
        self.spend_at(key, Instant::now())
    }

    pub(crate) fn spend_at(&self, key: &LimitKey, now: Instant) -> Spend {
        let budget = self.budget_for(key);
        let window = budget.window.max(Duration::from_millis(1));
        if budget.uses == 0 {
            return Spend::Allowed { remaining: u32::MAX, resets_in: window };
        }
        let mut shard = self.windows.shard(key);
        if shard.len() >= SWEEP_AT && !shard.contains_key(key) {
            shard.retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        let w = shard.entry(key.clone()).or_insert(Window { started: now, used: 0 });
        if now.saturating_duration_since(w.started) >= window {
            w.started = now;
            w.used = 0;
        }
        let resets_in = window.saturating_sub(now.saturating_duration_since(w.started));
        if w.used >= budget.uses {
            return Spend::Exhausted { limit: budget.uses, resets_in };
        }
        w.used += 1;
        Spend::Allowed { remaining: budget.uses - w.used, resets_in }
    }

    /// Give back one unit (e.g. the call was refused before any upstream work).
    pub fn refund(&self, key: &LimitKey) {
        let mut shard = self.windows.shard(key);
        if let Some(w) = shard.get_mut(key) {
            w.used = w.used.saturating_sub(1);
        }
    }
}

impl std::fmt::Debug for dyn SharedLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLimits")
    }
}

/// Limits shared by every instance of a deployment (e.g. on Redis): the same token
/// buckets and window budgets as [`RateLimiter`] and [`WindowBudget`], kept where all
/// instances count together, so N instances do not grant N times a caller's limit.
/// `key` is [`LimitKey::storage_key`] prefixed by what is limited (`rate:`, `budget:`…).
/// An `Err` means the shared counters are unreachable: callers fall back to their
/// per-process limiters (and say so in a metric) rather than refuse or admit everyone.
pub trait SharedLimits: Send + Sync + 'static {
    /// Take one token from `key`'s bucket of `rate`.
    fn take<'a>(&'a self, key: &'a str, rate: Rate) -> BoxFuture<'a, Result<Decision, crate::store::StoreError>>;
    /// Spend one unit of `key`'s window budget.
    fn spend<'a>(&'a self, key: &'a str, budget: Budget) -> BoxFuture<'a, Result<Spend, crate::store::StoreError>>;
    /// Give back one unit of the current window.
    fn refund<'a>(&'a self, key: &'a str, budget: Budget) -> BoxFuture<'a, Result<(), crate::store::StoreError>>;
}

impl LimitKey {
    /// A stable string for shared storage (an identity hash or an address; never a token).
    pub fn storage_key(&self) -> String {
        match self {
            LimitKey::Caller(id) => format!("c:{id}"),
            LimitKey::Address(ip) => format!("a:{ip}"),
        }
    }
}

/// Seconds to wait, rounded up (for `Retry-After`).
pub fn retry_after_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 {
        s + 1
    } else {
        s.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u8) -> LimitKey {
        LimitKey::Address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
    }

    #[test]
    fn bucket_allows_burst_then_refills() {
        let l = RateLimiter::new(RateLimitConfig {
            anonymous: Rate::new(60, 3),
            authenticated: Rate::new(600, 10),
            trust_forwarded_for: false,
        });
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.check_at(&ip(1), t0), Decision::Allowed { limit: 3, remaining: 2 - i });
        }
        let Decision::Limited { retry_after, limit } = l.check_at(&ip(1), t0) else { panic!("limited") };
        assert_eq!(limit, 3);
        assert!(retry_after <= Duration::from_secs(1) && retry_after > Duration::from_millis(900), "{retry_after:?}");
        // Another key is independent; an authenticated key has its own, larger bucket.
        assert!(l.check_at(&ip(2), t0).is_allowed());
        let user = LimitKey::Caller("abc".into());
        for _ in 0..10 {
            assert!(l.check_at(&user, t0).is_allowed());
        }
        assert!(!l.check_at(&user, t0).is_allowed());
        // One request per second refills.
        assert!(l.check_at(&ip(1), t0 + Duration::from_millis(1001)).is_allowed());
        assert!(!l.check_at(&ip(1), t0 + Duration::from_millis(1002)).is_allowed());
    }

    #[test]
    fn unlimited_rate_never_limits() {
        let l = RateLimiter::new(RateLimitConfig {
            anonymous: Rate::UNLIMITED,
            authenticated: Rate::UNLIMITED,
            trust_forwarded_for: false,
        });
        for _ in 0..10_000 {
            assert!(l.check(&ip(1)).is_allowed());
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn idle_buckets_are_swept() {
        let l = RateLimiter::new(RateLimitConfig {
            anonymous: Rate::new(6000, 1),
            authenticated: Rate::new(6000, 1),
            trust_forwarded_for: false,
        });
        let t0 = Instant::now();
        for i in 0..(SWEEP_AT * SHARDS * 2) as u32 {
            l.check_at(&LimitKey::Caller(i.to_string()), t0 + Duration::from_millis(i as u64));
        }
        assert!(l.tracked() < SWEEP_AT * SHARDS + SHARDS, "{}", l.tracked());
    }

    #[test]
    fn window_budget_counts_and_resets() {
        let b = WindowBudget::new(
            Budget { uses: 2, window: Duration::from_secs(60) },
            Budget { uses: 5, window: Duration::from_secs(60) },
        );
        let t0 = Instant::now();
        assert!(matches!(b.spend_at(&ip(1), t0), Spend::Allowed { remaining: 1, .. }));
        assert!(matches!(b.spend_at(&ip(1), t0), Spend::Allowed { remaining: 0, .. }));
        let Spend::Exhausted { limit, resets_in } = b.spend_at(&ip(1), t0 + Duration::from_secs(10)) else {
            panic!("exhausted")
        };
        assert_eq!((limit, resets_in), (2, Duration::from_secs(50)));
        b.refund(&ip(1));
        assert!(matches!(b.spend_at(&ip(1), t0 + Duration::from_secs(10)), Spend::Allowed { .. }));
        assert!(matches!(b.spend_at(&ip(1), t0 + Duration::from_secs(60)), Spend::Allowed { remaining: 1, .. }));
        assert!(matches!(b.spend_at(&LimitKey::Caller("u".into()), t0), Spend::Allowed { remaining: 4, .. }));
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(0)), 1);
    }
}
