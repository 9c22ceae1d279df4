//! How to reach Redis, and how to talk about it without leaking the password.
//!
//! A Redis URL may carry credentials (`redis://user:password@host:port/db`, or `?password=`
//! on a unix socket). Nothing in this crate prints the URL itself: `Debug`, `Display`,
//! logs and every error use [`RedisConfig::redacted_url`], and error texts that come from
//! the driver pass through [`Redactor::scrub`] as a second line of defence.

use std::fmt;
use std::time::Duration;

/// Where the shared state lives and how long to wait for it.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[user[:password]@]host[:port][/db]`, `rediss://…` for TLS (rustls, system
    /// roots; `SSL_CERT_FILE` is honoured), or `redis+unix:///path`. RESP3 is used unless
    /// the URL says `?protocol=resp2` (for a server older than Redis 6).
    pub url: String,
    /// Prepended to every key and channel, so several deployments can share one Redis.
    pub prefix: String,
    /// Bound on establishing a connection.
    pub connect_timeout: Duration,
    /// Bound on every command (or script, or pipeline); past it the operation fails with
    /// `StoreError::Unavailable`.
    pub command_timeout: Duration,
}

impl RedisConfig {
    pub const DEFAULT_PREFIX: &'static str = "hubmcp:";
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

    /// A configuration with the defaults: prefix `hubmcp:`, 2 s to connect, 1 s per command.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            command_timeout: Self::DEFAULT_COMMAND_TIMEOUT,
        }
    }

    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    pub fn with_timeouts(mut self, connect: Duration, command: Duration) -> Self {
        self.connect_timeout = connect;
        self.command_timeout = command;
        self
    }

    /// The URL with its password (if any) replaced by `***`: safe to log.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    pub(crate) fn redactor(&self) -> Redactor {
        Redactor { secrets: secrets_of(&self.url), redacted: self.redacted_url() }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish()
    }
}

impl fmt::Display for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url())
    }
}

const MASK: &str = "***";

fn is_password_param(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "pass" | "password")
}

/// `redis://user:***@host:port/db`. An unparseable URL is not echoed at all.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else { return "<unparseable redis URL>".to_owned() };
    if url.password().is_some() {
        let _ = url.set_password(Some(MASK));
    }
    if url.query_pairs().any(|(k, _)| is_password_param(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_password_param(&k) { MASK.to_owned() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Every form in which the URL's secret could appear in a message.
fn secrets_of(raw: &str) -> Vec<String> {
    let mut out = vec![raw.to_owned()];
    if let Ok(url) = url::Url::parse(raw) {
        if let Some(p) = url.password() {
            out.push(p.to_owned());
            if let Ok(decoded) = std::str::from_utf8(&percent_decode(p)) {
                out.push(decoded.to_owned());
            }
        }
        for (k, v) in url.query_pairs() {
            if is_password_param(&k) && !v.is_empty() {
                out.push(v.into_owned());
            }
        }
    }
    out.retain(|s| !s.is_empty() && s != MASK);
    // Longest first, so the whole URL is replaced before its parts.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Removes the configured URL's secrets from any text before it leaves the crate.
#[derive(Clone)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
    redacted: String,
}

impl Redactor {
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (i, s) in self.secrets.iter().enumerate() {
            // The first (longest) secret is the whole URL: show its redacted form instead.
            let with = if i == 0 && s.contains("://") { self.redacted.as_str() } else { MASK };
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), with);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_everywhere() {
        let c = RedisConfig::new("redis://alice:s3cr%40t@cache.internal:6380/2");
        assert_eq!(c.redacted_url(), "redis://alice:***@cache.internal:6380/2");
        assert!(!format!("{c:?}").contains("s3cr"));
        assert!(!format!("{c}").contains("s3cr"));
        let r = c.redactor();
        let msg = r.scrub("failed: redis://alice:s3cr%40t@cache.internal:6380/2 said s3cr@t and s3cr%40t");
        assert!(!msg.contains("s3cr"), "{msg}");
        assert!(msg.contains("redis://alice:***@cache.internal:6380/2"), "{msg}");

        assert_eq!(redact_url("redis://:pw@h:1"), "redis://:***@h:1");
        assert_eq!(redact_url("rediss://h:1/0"), "rediss://h:1/0");
        let unix = redact_url("redis+unix:///tmp/r.sock?db=1&pass=hunter2");
        assert!(!unix.contains("hunter2") && unix.contains("db=1"), "{unix}");
        assert_eq!(redact_url("not a url with pw"), "<unparseable redis URL>");
    }

    #[test]
    fn defaults() {
        let c = RedisConfig::new("redis://127.0.0.1");
        assert_eq!(c.prefix, "hubmcp:");
        assert_eq!(c.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.command_timeout, Duration::from_secs(1));
    }
}
