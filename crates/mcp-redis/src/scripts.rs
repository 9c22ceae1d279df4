//! Every Lua script the crate runs, in one place. A script runs atomically in Redis, so
//! each one is a multi-command step that must not interleave with another instance's
//! (a capped create, a compare-and-set, an append that numbers its event). Time inside a
//! script comes from Redis `TIME` (allowed before writes since Redis 5's effect
//! replication), so the instances' clocks never matter.
//!
//! Conventions: `now` is Redis time in milliseconds; a session's index score is its last
//! use; a session is live while `now - score <= idle`.

use std::sync::LazyLock;

use redis::Script;

macro_rules! now_ms {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// Create a session unless the cap of live sessions is reached (cluster-wide, atomic).
/// Idle ids stay in the index for `sweep` to announce; only if nobody sweeps and they pile
/// up past twice the cap are the oldest dropped here, unannounced, to keep it bounded.
/// KEYS: index, session key. ARGV: id, data, idle ms, max live, index TTL ms, session key
/// prefix. Returns 1 created, 0 full, -1 id collision.
pub(crate) const CREATE_SESSION: &str = concat!(
    now_ms!(),
    r#"
local idle = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local live = redis.call('ZCOUNT', KEYS[1], now - idle, '+inf')
if live >= max then return 0 end
if redis.call('ZCARD', KEYS[1]) >= 2 * max + 16 then
  local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - idle), 'LIMIT', 0, 64)
  for _, id in ipairs(stale) do
    redis.call('ZREM', KEYS[1], id)
    redis.call('DEL', ARGV[6] .. id)
  end
end
if not redis.call('SET', KEYS[2], ARGV[2], 'PX', idle, 'NX') then return -1 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1
"#
);

/// Mark a session used now (key TTL and index score together) and return its data.
/// KEYS: index, session key. ARGV: id, idle ms, index TTL ms. Returns the data or nil.
pub(crate) const TOUCH_SESSION: &str = concat!(
    now_ms!(),
    r#"
local v = redis.call('GET', KEYS[2])
if not v then return false end
local idle = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[2], idle)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return v
"#
);

/// Compare-and-set for `update`: write the new data only if the stored data is still what
/// the closure saw; refresh the session's idle timer like `touch`.
/// KEYS: index, session key. ARGV: id, old data, new data, idle ms, index TTL ms.
/// Returns {0} gone, {1, current} conflict, {2} written.
pub(crate) const CAS_SESSION: &str = concat!(
    now_ms!(),
    r#"
local cur = redis.call('GET', KEYS[2])
if not cur then return {0} end
if cur ~= ARGV[2] then return {1, cur} end
local idle = tonumber(ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'PX', idle)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {2}
"#
);

/// Live sessions (used within the idle timeout). KEYS: index. ARGV: idle ms.
pub(crate) const COUNT_LIVE: &str = concat!(
    now_ms!(),
    r#"
return redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')
"#
);

/// Delete a session. KEYS: index, session key. ARGV: id. Returns 1 if its data existed.
pub(crate) const DELETE_SESSION: &str = r#"
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
"#;

/// Remove up to ARGV[3] sessions idle for longer than ARGV[1] ms from the index and delete
/// their data; returns the removed ids. Atomic, so each id is returned to exactly one
/// caller across all instances. KEYS: index. ARGV: idle ms, session key prefix, batch.
pub(crate) const SWEEP_SESSIONS: &str = concat!(
    now_ms!(),
    r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])), 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', ARGV[2] .. id)
end
return ids
"#
);

/// Append an event, numbered by Redis, to a bounded stream of a session; a new stream
/// evicts the session's oldest beyond the cap. KEYS: meta hash, stream order list, stream
/// list. ARGV: stream, data, last (1/0), max events, max streams, ttl ms, stream key
/// prefix. Returns the sequence number.
pub(crate) const APPEND_EVENT: &str = r#"
local h = 'h:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], h) == 0 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  while redis.call('LLEN', KEYS[2]) > tonumber(ARGV[5]) do
    local old = redis.call('LPOP', KEYS[2])
    redis.call('DEL', ARGV[7] .. old)
    redis.call('HDEL', KEYS[1], 'h:' .. old, 'e:' .. old)
  end
end
local seq = redis.call('HINCRBY', KEYS[1], h, 1)
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'e:' .. ARGV[1], 1) end
local ttl = tonumber(ARGV[6])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return seq
"#;

/// Mark a stream ended (registering it, with no events, if it is new).
/// KEYS: meta hash, stream order list, stream list. ARGV: stream, max streams, ttl ms,
/// stream key prefix.
pub(crate) const END_STREAM: &str = r#"
local h = 'h:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], h) == 0 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  while redis.call('LLEN', KEYS[2]) > tonumber(ARGV[2]) do
    local old = redis.call('LPOP', KEYS[2])
    redis.call('DEL', ARGV[4] .. old)
    redis.call('HDEL', KEYS[1], 'h:' .. old, 'e:' .. old)
  end
  redis.call('HSET', KEYS[1], h, 0)
end
redis.call('HSET', KEYS[1], 'e:' .. ARGV[1], 1)
local ttl = tonumber(ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return 1
"#;

/// The events after ARGV[2], or nil when the stream is unknown or they are no longer all
/// retained. KEYS: meta hash, stream list. ARGV: stream, after.
/// Returns {ended (0/1), {events…}} or nil.
pub(crate) const REPLAY_STREAM: &str = r#"
local head = redis.call('HGET', KEYS[1], 'h:' .. ARGV[1])
if not head then return false end
head = tonumber(head)
local after = tonumber(ARGV[2])
if after > head then return false end
local first = head - redis.call('LLEN', KEYS[2]) + 1
if after + 1 < first then return false end
local ended = redis.call('HEXISTS', KEYS[1], 'e:' .. ARGV[1])
return {ended, redis.call('LRANGE', KEYS[2], after + 1 - first, -1)}
"#;

/// Forget a session's event log: every stream list, the order list and the meta hash.
/// KEYS: meta hash, stream order list. ARGV: stream key prefix.
pub(crate) const REMOVE_LOG: &str = r#"
for _, s in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[1] .. s)
end
return redis.call('DEL', KEYS[1], KEYS[2])
"#;

/// Token bucket (tokens + last update, in ms of Redis time): refill, then take one.
/// KEYS: bucket. ARGV: capacity, tokens per ms.
/// Returns {1, remaining} or {0, ms until one token}.
pub(crate) const TAKE_TOKEN: &str = concat!(
    now_ms!(),
    r#"
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(b[1]) or cap
local elapsed = now - (tonumber(b[2]) or now)
if elapsed < 0 then elapsed = 0 end
tokens = math.min(cap, tokens + elapsed * rate)
local allowed, out = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed, out = 1, math.floor(tokens)
else
  out = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 't', tokens, 'u', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / rate) + 1000)
return {allowed, out}
"#
);

/// Spend one unit of a fixed-window budget unless exhausted (the counter never exceeds
/// the budget). KEYS: counter. ARGV: uses, window ms.
/// Returns {1, remaining, ms to reset} or {0, 0, ms to reset}.
pub(crate) const SPEND_BUDGET: &str = r#"
local uses = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= uses then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return {0, 0, ttl}
end
used = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {1, uses - used, ttl}
"#;

/// Give back one unit of the current window (never below zero; the TTL is kept).
/// KEYS: counter.
pub(crate) const REFUND_BUDGET: &str = r#"
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"#;

/// Publish an instance's figures with Redis' timestamp. KEYS: instance key.
/// ARGV: data, ttl ms.
pub(crate) const PUBLISH_INSTANCE: &str = concat!(
    now_ms!(),
    r#"
redis.call('HSET', KEYS[1], 'd', ARGV[1], 't', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"#
);

/// Read an instance's figures and their age. KEYS: instance key.
/// Returns {data, age ms} or nil.
pub(crate) const READ_INSTANCE: &str = concat!(
    now_ms!(),
    r#"
local v = redis.call('HMGET', KEYS[1], 'd', 't')
if not v[1] then return false end
return {v[1], now - tonumber(v[2] or now)}
"#
);

/// The scripts, hashed once per process (redis-rs sends EVALSHA and loads on NOSCRIPT).
/// Create a task unless the cluster-wide cap is reached; expired ids leave the index
/// first. KEYS: index, task key. ARGV: id, record, ttl ms, expires-at (unix ms), now (unix
/// ms), max tasks, index grace ms. Returns 1 created, 0 full, -1 id collision.
pub(crate) const CREATE_TASK: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[5]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[6]) then return 0 end
if not redis.call('SET', KEYS[2], ARGV[2], 'PX', tonumber(ARGV[3]), 'NX') then return -1 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[4]), ARGV[1])
local keep = tonumber(ARGV[3]) + tonumber(ARGV[7])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1
"#;

/// Replace a task record if it is still the one the caller read (optimistic update),
/// with its new expiry. KEYS: index, task key. ARGV: id, old, new, ttl ms, expires-at,
/// index grace ms. Returns 2 written, 0 gone, or the current record (a conflict).
pub(crate) const CAS_TASK: &str = r#"
local cur = redis.call('GET', KEYS[2])
if not cur then return 0 end
if cur ~= ARGV[2] then return cur end
redis.call('SET', KEYS[2], ARGV[3], 'PX', tonumber(ARGV[4]))
redis.call('ZADD', KEYS[1], tonumber(ARGV[5]), ARGV[1])
local keep = tonumber(ARGV[4]) + tonumber(ARGV[6])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 2
"#;

pub(crate) struct Scripts {
    pub create: Script,
    pub count_live: Script,
    pub touch: Script,
    pub cas: Script,
    pub delete: Script,
    pub sweep: Script,
    pub append: Script,
    pub end: Script,
    pub replay: Script,
    pub remove_log: Script,
    pub take: Script,
    pub spend: Script,
    pub refund: Script,
    pub publish_instance: Script,
    pub read_instance: Script,
    pub create_task: Script,
    pub cas_task: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    create: Script::new(CREATE_SESSION),
    count_live: Script::new(COUNT_LIVE),
    touch: Script::new(TOUCH_SESSION),
    cas: Script::new(CAS_SESSION),
    delete: Script::new(DELETE_SESSION),
    sweep: Script::new(SWEEP_SESSIONS),
    append: Script::new(APPEND_EVENT),
    end: Script::new(END_STREAM),
    replay: Script::new(REPLAY_STREAM),
    remove_log: Script::new(REMOVE_LOG),
    take: Script::new(TAKE_TOKEN),
    spend: Script::new(SPEND_BUDGET),
    refund: Script::new(REFUND_BUDGET),
    publish_instance: Script::new(PUBLISH_INSTANCE),
    read_instance: Script::new(READ_INSTANCE),
    create_task: Script::new(CREATE_TASK),
    cas_task: Script::new(CAS_TASK),
});
