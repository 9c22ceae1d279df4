//! Rate limits and budgets counted across all instances: with N instances behind a load
//! balancer a caller still gets one bucket and one budget, not N.
//!
//! - Token bucket at `{prefix}rl:{key}` (hash: tokens, last update), refilled and taken in
//!   one script on Redis time, so the instances' clocks do not matter; the TTL is the time
//!   to refill completely (a full bucket carries no information).
//! - Fixed window at `{prefix}wb:{key}`: a counter that expires with its window; a spend
//!   past the budget does not count, so refunds and exactness hold: N concurrent spends
//!   against a budget of K admit exactly min(N, K).
//!
//! Semantics are those of the engine's `RateLimiter` and `WindowBudget`.

use std::time::Duration;

use futures_util::future::BoxFuture;
use mcp_engine::limits::{Budget, Decision, Rate, SharedLimits, Spend};
use mcp_engine::store::StoreError;

use crate::client::RedisClient;
use crate::scripts::SCRIPTS;

/// [`SharedLimits`] on Redis; see the module docs.
pub struct RedisLimits {
    client: RedisClient,
}

impl RedisLimits {
    pub fn new(client: RedisClient) -> Self {
        RedisLimits { client }
    }
}

fn window_ms(budget: Budget) -> u64 {
    (budget.window.as_millis() as u64).max(1)
}

fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, u32::MAX as i64) as u32
}

impl SharedLimits for RedisLimits {
    fn take<'a>(&'a self, key: &'a str, rate: Rate) -> BoxFuture<'a, Result<Decision, StoreError>> {
        Box::pin(async move {
            if rate.is_unlimited() {
                return Ok(Decision::Allowed { limit: 0, remaining: u32::MAX });
            }
            let limit = rate.burst.max(1);
            let per_ms = f64::from(rate.per_minute) / 60_000.0;
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.take.prepare_invoke();
            inv.key(self.client.key(&format!("rl:{key}"))).arg(limit).arg(per_ms.to_string());
            let (allowed, n): (i64, i64) = self.client.run("rate limit", inv.invoke_async(&mut c)).await?;
            Ok(if allowed == 1 {
                Decision::Allowed { limit, remaining: clamp_u32(n) }
            } else {
                Decision::Limited { limit, retry_after: Duration::from_millis(n.max(1) as u64) }
            })
        })
    }

    fn spend<'a>(&'a self, key: &'a str, budget: Budget) -> BoxFuture<'a, Result<Spend, StoreError>> {
        Box::pin(async move {
            let window = window_ms(budget);
            if budget.uses == 0 {
                return Ok(Spend::Allowed { remaining: u32::MAX, resets_in: Duration::from_millis(window) });
            }
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.spend.prepare_invoke();
            inv.key(self.client.key(&format!("wb:{key}"))).arg(budget.uses).arg(window);
            let (allowed, remaining, ttl): (i64, i64, i64) =
                self.client.run("spend budget", inv.invoke_async(&mut c)).await?;
            let resets_in = Duration::from_millis(ttl.max(0) as u64);
            Ok(if allowed == 1 {
                Spend::Allowed { remaining: clamp_u32(remaining), resets_in }
            } else {
                Spend::Exhausted { limit: budget.uses, resets_in }
            })
        })
    }

    fn refund<'a>(&'a self, key: &'a str, budget: Budget) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if budget.uses == 0 {
                return Ok(());
            }
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.refund.prepare_invoke();
            inv.key(self.client.key(&format!("wb:{key}")));
            self.client.run::<i64>("refund budget", inv.invoke_async(&mut c)).await.map(|_| ())
        })
    }
}
