//! A small generic hook on every upstream HTTP attempt (Hub, datasets-server, Spaces) and on
//! every circuit-breaker event, for metrics. The client knows nothing of what receives them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::breaker::BreakerEvent;

/// One upstream HTTP attempt.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamEvent {
    /// `hub`, `datasets_server` or `space`.
    pub service: &'static str,
    /// `ok`, `client_error`, `rate_limited`, `server_error`, `timeout` or `network`.
    pub outcome: &'static str,
    pub status: Option<u16>,
    pub elapsed: Duration,
}

impl UpstreamEvent {
    /// The outcome label of an HTTP status (`None`: no response).
    pub fn outcome_of(status: Option<u16>, timed_out: bool) -> &'static str {
        match status {
            _ if timed_out => "timeout",
            None => "network",
            Some(429) => "rate_limited",
            Some(s) if s >= 500 => "server_error",
            Some(s) if s >= 400 => "client_error",
            Some(_) => "ok",
        }
    }
}

type Listener = dyn Fn(&UpstreamEvent) + Send + Sync;
type CircuitListener = dyn Fn(&BreakerEvent) + Send + Sync;

/// Receives [`UpstreamEvent`]s and [`BreakerEvent`]s; the default does nothing.
#[derive(Clone, Default)]
pub struct UpstreamHook {
    attempts: Option<Arc<Listener>>,
    circuits: Option<Arc<CircuitListener>>,
}

impl UpstreamHook {
    pub fn new(f: impl Fn(&UpstreamEvent) + Send + Sync + 'static) -> Self {
        UpstreamHook { attempts: Some(Arc::new(f)), circuits: None }
    }

    /// Also receive the circuit breaker's state changes and fast failures.
    pub fn with_circuits(mut self, f: impl Fn(&BreakerEvent) + Send + Sync + 'static) -> Self {
        self.circuits = Some(Arc::new(f));
        self
    }

    #[inline]
    pub fn emit(&self, event: UpstreamEvent) {
        if let Some(f) = &self.attempts {
            f(&event);
        }
    }

    #[inline]
    pub fn circuit(&self, event: BreakerEvent) {
        if let Some(f) = &self.circuits {
            f(&event);
        }
    }
}

impl fmt::Debug for UpstreamHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.attempts.is_some() { "UpstreamHook(set)" } else { "UpstreamHook(none)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        assert_eq!(UpstreamEvent::outcome_of(Some(200), false), "ok");
        assert_eq!(UpstreamEvent::outcome_of(Some(304), false), "ok");
        assert_eq!(UpstreamEvent::outcome_of(Some(404), false), "client_error");
        assert_eq!(UpstreamEvent::outcome_of(Some(429), false), "rate_limited");
        assert_eq!(UpstreamEvent::outcome_of(Some(503), false), "server_error");
        assert_eq!(UpstreamEvent::outcome_of(None, true), "timeout");
        assert_eq!(UpstreamEvent::outcome_of(None, false), "network");
    }
}
