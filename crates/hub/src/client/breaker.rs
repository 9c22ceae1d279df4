//! A circuit breaker per upstream host, so a dead Space or a Hub outage does not make every
//! request wait out its whole timeout budget.
//!
//! * **Closed** (the normal state): calls go through; `failure_threshold` consecutive
//!   failures — timeouts, connection errors, resets, 5xx; never a 4xx, which is an answer —
//!   open the circuit.
//! * **Open**: calls fail at once with "`host` is failing; retry after N s" for `open_for`.
//! * **Half-open**: after that, one call goes through as a probe (the others keep failing
//!   fast); its success closes the circuit, its failure opens it again. A probe that never
//!   reports (its caller was cancelled) is replaced by another after `open_for`.
//!
//! Only hosts with a recent failure have an entry (a success removes it), so the map stays
//! small; it is capped anyway at `max_hosts` (Spaces are many). The clock is a parameter of
//! the inner functions, so tests drive the state machine without sleeping. State changes
//! and fast failures go to the [`UpstreamHook`] (metrics).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::hook::UpstreamHook;

/// When a host's circuit opens and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failures that open a host's circuit; 0 disables the breaker.
    pub failure_threshold: u32,
    /// How long an open circuit fails fast before one probe is let through.
    pub open_for: Duration,
    /// Hosts with a failure on record at most (beyond it, new failures are not tracked).
    pub max_hosts: usize,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failure_threshold: 5, open_for: Duration::from_secs(30), max_hosts: 4096 }
    }
}

/// The state of one host's circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

/// What the breaker reports for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerEvent {
    /// A circuit of `service` (`hub`, `datasets_server`, `space`) changed state.
    Moved { service: &'static str, from: CircuitState, to: CircuitState },
    /// A call was refused because its host's circuit is open.
    FastFail { service: &'static str },
}

/// A call refused without being sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitOpen {
    pub host: String,
    /// When a probe will be let through (at least 1 s, for the message).
    pub retry_after: Duration,
}

impl CircuitOpen {
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is failing; retry after {} s", self.host, self.retry_after_secs())
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

impl State {
    fn public(self) -> CircuitState {
        match self {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

struct Entry {
    service: &'static str,
    state: State,
}

/// The circuits of every upstream host of one process.
pub struct Breakers {
    config: BreakerConfig,
    hosts: Mutex<HashMap<String, Entry>>,
    hook: UpstreamHook,
}

impl fmt::Debug for Breakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakers").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Breakers {
    pub fn new(config: BreakerConfig, hook: UpstreamHook) -> Self {
        Breakers { config, hosts: Mutex::new(HashMap::new()), hook }
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// May a call to `host` go out now?
    pub fn admit(&self, service: &'static str, host: &str) -> Result<(), CircuitOpen> {
        self.admit_at(service, host, Instant::now())
    }

    /// The outcome of a call to `host`: `healthy` when the host answered (any status below
    /// 500), not when it timed out, failed to connect, broke off, or answered 5xx.
    pub fn record(&self, service: &'static str, host: &str, healthy: bool) {
        self.record_at(service, host, healthy, Instant::now())
    }

    /// The state of `host`'s circuit.
    pub fn state(&self, host: &str) -> CircuitState {
        self.lock().get(host).map_or(CircuitState::Closed, |e| e.state.public())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit_at(&self, service: &'static str, host: &str, now: Instant) -> Result<(), CircuitOpen> {
        if self.config.failure_threshold == 0 {
            return Ok(());
        }
        let open_for = self.config.open_for;
        let mut hosts = self.lock();
        let Some(entry) = hosts.get_mut(host) else { return Ok(()) };
        let refused = match entry.state {
            State::Closed { .. } => None,
            State::Open { until } if now < until => Some(until - now),
            State::HalfOpen { probe_since } if now < probe_since + open_for => {
                // A probe is out; its answer decides. Meanwhile: fail fast.
                Some(probe_since + open_for - now)
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                let from = entry.state.public();
                entry.state = State::HalfOpen { probe_since: now };
                drop(hosts);
                if from != CircuitState::HalfOpen {
                    self.hook.circuit(BreakerEvent::Moved { service, from, to: CircuitState::HalfOpen });
                }
                return Ok(());
            }
        };
        drop(hosts);
        match refused {
            None => Ok(()),
            Some(wait) => {
                self.hook.circuit(BreakerEvent::FastFail { service });
                Err(CircuitOpen { host: host.to_owned(), retry_after: wait })
            }
        }
    }

    fn record_at(&self, service: &'static str, host: &str, healthy: bool, now: Instant) {
        if self.config.failure_threshold == 0 {
            return;
        }
        let mut hosts = self.lock();
        let moved = if healthy {
            match hosts.remove(host) {
                Some(Entry { state: state @ (State::Open { .. } | State::HalfOpen { .. }), service }) => {
                    Some((service, state.public(), CircuitState::Closed))
                }
                _ => None,
            }
        } else {
            if !hosts.contains_key(host) && hosts.len() >= self.config.max_hosts.max(1) {
                // Full: forget a host that is merely counting failures, else do not track.
                let Some(victim) =
                    hosts.iter().find(|(_, e)| matches!(e.state, State::Closed { .. })).map(|(k, _)| k.clone())
                else {
                    return;
                };
                hosts.remove(&victim);
            }
            let entry = hosts.entry(host.to_owned()).or_insert(Entry { service, state: State::Closed { failures: 0 } });
            let open = State::Open { until: now + self.config.open_for };
            match entry.state {
                State::Closed { failures } if failures + 1 >= self.config.failure_threshold => {
                    entry.state = open;
                    Some((entry.service, CircuitState::Closed, CircuitState::Open))
                }
                State::Closed { failures } => {
                    entry.state = State::Closed { failures: failures + 1 };
                    None
                }
                State::HalfOpen { .. } => {
                    entry.state = open;
                    Some((entry.service, CircuitState::HalfOpen, CircuitState::Open))
                }
                // A late failure of a call admitted before the circuit opened changes nothing.
                State::Open { .. } => None,
            }
        };
        drop(hosts);
        if let Some((service, from, to)) = moved {
            tracing::info!(host, from = from.as_str(), to = to.as_str(), "upstream circuit");
            self.hook.circuit(BreakerEvent::Moved { service, from, to });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn breakers(events: Arc<Mutex<Vec<BreakerEvent>>>) -> Breakers {
        let hook = UpstreamHook::default().with_circuits(move |e| events.lock().unwrap().push(*e));
        Breakers::new(BreakerConfig { failure_threshold: 3, open_for: Duration::from_secs(10), max_hosts: 2 }, hook)
    }

    #[test]
    fn opens_after_consecutive_failures_and_probes_when_half_open() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let b = breakers(events.clone());
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let h = "hub.test";
        // Two failures, a success, two failures: never three in a row, stays closed.
        for (s, ok) in [(0, false), (1, false), (2, true), (3, false), (4, false)] {
            assert!(b.admit_at("hub", h, at(s)).is_ok());
            b.record_at("hub", h, ok, at(s));
        }
        assert_eq!(b.state(h), CircuitState::Closed);
        b.record_at("hub", h, false, at(5));
        assert_eq!(b.state(h), CircuitState::Open);
        // Open: fail fast, saying when to retry.
        let e = b.admit_at("hub", h, at(8)).unwrap_err();
        assert_eq!(e.retry_after, Duration::from_secs(7));
        assert_eq!(e.to_string(), "hub.test is failing; retry after 7 s");
        // Another host is unaffected.
        assert!(b.admit_at("hub", "other.test", at(8)).is_ok());
        // After open_for: one probe goes through, the next call still fails fast.
        assert!(b.admit_at("hub", h, at(15)).is_ok());
        assert_eq!(b.state(h), CircuitState::HalfOpen);
        assert!(b.admit_at("hub", h, at(16)).is_err());
        // The probe fails: open again for a full period.
        b.record_at("hub", h, false, at(16));
        assert_eq!(b.state(h), CircuitState::Open);
        assert_eq!(b.admit_at("hub", h, at(20)).unwrap_err().retry_after, Duration::from_secs(6));
        // The next probe succeeds: closed, and calls flow.
        assert!(b.admit_at("hub", h, at(26)).is_ok());
        b.record_at("hub", h, true, at(27));
        assert_eq!(b.state(h), CircuitState::Closed);
        assert!(b.admit_at("hub", h, at(27)).is_ok());
        use BreakerEvent::*;
        use CircuitState::*;
        let s = "hub";
        assert_eq!(
            *events.lock().unwrap(),
            vec![
                Moved { service: s, from: Closed, to: Open },
                FastFail { service: s },
                Moved { service: s, from: Open, to: HalfOpen },
                FastFail { service: s },
                Moved { service: s, from: HalfOpen, to: Open },
                FastFail { service: s },
                Moved { service: s, from: Open, to: HalfOpen },
                Moved { service: s, from: HalfOpen, to: Closed },
            ]
        );
    }

    #[test]
    fn a_lost_probe_is_replaced_and_4xx_style_successes_close() {
        let b = breakers(Arc::default());
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for s in 0..3 {
            b.record_at("space", "a.hf.space", false, at(s));
        }
        assert!(b.admit_at("space", "a.hf.space", at(12)).is_ok()); // the probe, never reported
        assert!(b.admit_at("space", "a.hf.space", at(13)).is_err());
        assert!(b.admit_at("space", "a.hf.space", at(22)).is_ok()); // a new probe
        b.record_at("space", "a.hf.space", true, at(22));
        assert_eq!(b.state("a.hf.space"), CircuitState::Closed);
    }

    #[test]
    fn bounded_and_disableable() {
        let b = breakers(Arc::default());
        let now = Instant::now();
        for h in ["a", "b", "c"] {
            b.record_at("space", h, false, now);
        }
        assert!(b.lock().len() <= 2);
        for _ in 0..3 {
            b.record_at("space", "c", false, now);
        }
        assert_eq!(b.state("c"), CircuitState::Open);
        let off = Breakers::new(BreakerConfig { failure_threshold: 0, ..BreakerConfig::default() }, Default::default());
        for _ in 0..10 {
            off.record_at("hub", "x", false, now);
        }
        assert!(off.admit_at("hub", "x", now).is_ok());
    }
}
