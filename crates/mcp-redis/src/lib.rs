//! mcp-engine's storage interfaces on Redis, so several instances of a server behind a
//! load balancer share one state: sessions ([`RedisSessionStore`]), resumable stream
//! history ([`RedisEventLog`]), change fan-out and cross-instance session routing
//! ([`RedisBus`]), rate limits and budgets ([`RedisLimits`]), and per-instance figures for a
//! cluster dashboard ([`cluster`]). Each behaves as the engine's in-memory counterpart.
//!
//! # Why redis-rs (not fred)
//! redis-rs is the long-maintained, most used Rust client; its `ConnectionManager` gives
//! exactly what we need (one multiplexed connection, reconnected in the background,
//! per-command response timeouts), `Script` does EVALSHA with a NOSCRIPT fallback, and
//! rustls TLS is a feature. fred offers more (pools, its own reconnect policies, client-side
//! caching) behind a larger API and dependency tree that we would not use: all our
//! multi-step operations are single Lua scripts, and every command is additionally bounded
//! by our own timeout.
//!
//! # Key layout (all under the configured prefix, default `hubmcp:`)
//! | key | type | TTL | what |
//! | --- | --- | --- | --- |
//! | `s:{id}` | string | idle timeout, refreshed by touch/update | a session's `SessionData` (JSON) |
//! | `sessions` | zset | 2 × idle timeout + 1 h, refreshed on every write | id → last use (Redis ms): the cap, and idle ids for `sweep` |
//! | `l:{sid}` | hash | event-log TTL | `h:{stream}` head sequence, `e:{stream}` ended |
//! | `lo:{sid}` | list | event-log TTL | the session's stream ids, oldest first |
//! | `l:{sid}:{stream}` | list | event-log TTL | the stream's retained events |
//! | `rl:{key}` | hash | time to refill | token bucket (tokens, last update) |
//! | `wb:{key}` | string | the window | uses in the current window |
//! | `inst:{id}` | hash | given by the publisher | an instance's figures and publish time |
//! | `t:{id}` | string | until the task record expires | a task's record (tasks extension) |
//! | `tasks` | zset | its newest task's expiry + 1 h | id → expiry (unix ms): the cluster-wide cap |
//! | `bus:changes`, `bus:sessions`, `bus:tasks` | channels | — | pub/sub, not keys |
//!
//! Every key either has a TTL or is deleted by the code that made it. Time inside scripts
//! is Redis `TIME`. Multi-key scripts assume one Redis (or one primary), not Redis Cluster.
//!
//! # While Redis is down
//! Every command is bounded by `command_timeout`; a timeout or connection error is
//! `StoreError::Unavailable` (never carrying the URL's password), and the connection is
//! re-established in the background, without giving up, with nothing to do by hand:
//! - sessions: `create`/`get`/`touch`/`update`/`delete` return `Unavailable`; `sweep`
//!   logs and returns no ids (idle sessions are announced by a later sweep);
//! - event log: `append`/`end`/`replay_after`/`head` return `Unavailable`;
//!   `remove_session` logs (the keys expire by their TTL);
//! - limits: `take`/`spend`/`refund` return `Unavailable` (callers fall back to their
//!   per-process limiters);
//! - bus: `publish`/`publish_session` never block; this instance's own change events are
//!   still delivered to its local listeners, session events are dropped and counted (see
//!   [`bus`]); the subscription comes back by itself;
//! - [`RedisClient::connect`] fails with `Unavailable` (refused, bad credentials, timeout).
//!
//! Needs Redis 6 or later (RESP3, `TIME` in scripts before writes).

pub mod bus;
pub mod client;
pub mod cluster;
pub mod config;
pub mod event_log;
pub mod limits;
mod scripts;
pub mod session;
pub mod task_store;
mod wire;

pub use bus::{BusStats, RedisBus};
pub use client::RedisClient;
pub use cluster::{instances, publish_instance};
pub use config::{redact_url, RedisConfig};
pub use event_log::RedisEventLog;
pub use limits::RedisLimits;
pub use session::RedisSessionStore;
pub use task_store::RedisTaskStore;
