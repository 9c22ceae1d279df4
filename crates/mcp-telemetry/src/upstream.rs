//! What integrations record directly: upstream HTTP calls, cache lookups and quota
//! rejections, each under a bounded set of label values the integration names.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::{Telemetry, UPSTREAM_OUTCOMES};

/// Circuit states counted by the `mcp_upstream_circuits` gauge (closed is the rest).
const CIRCUIT_GAUGES: [&str; 2] = ["open", "half_open"];

impl Telemetry {
    /// One upstream HTTP request (an attempt): `service` is named by the integration
    /// (admitted up to the label cap, like cache names), `outcome` from
    /// [`UPSTREAM_OUTCOMES`] (others count as `error`).
    pub fn upstream(&self, service: &str, outcome: &str, elapsed: Duration) {
        if !self.inner.enabled {
            return;
        }
        let s = self.inner.services.slot(service);
        let o = UPSTREAM_OUTCOMES.iter().position(|x| *x == outcome).unwrap_or(UPSTREAM_OUTCOMES.len() - 1);
        self.inner.upstream[s * UPSTREAM_OUTCOMES.len() + o].fetch_add(1, Relaxed);
        self.inner.upstream_latency[s].observe_us(elapsed.as_micros() as u64);
    }

    /// A circuit of `service` moved between states (`closed`, `open`, `half_open`): the
    /// gauges count open and half-open circuits per service.
    pub fn circuit(&self, service: &str, from: &str, to: &str) {
        if !self.inner.enabled {
            return;
        }
        let s = self.inner.services.slot(service);
        if let Some(i) = CIRCUIT_GAUGES.iter().position(|g| *g == from) {
            let _ = self.inner.circuits[s * 3 + i].fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
        }
        if let Some(i) = CIRCUIT_GAUGES.iter().position(|g| *g == to) {
            self.inner.circuits[s * 3 + i].fetch_add(1, Relaxed);
        }
    }

    /// A call to `service` refused at once because its host's circuit is open.
    pub fn circuit_fast_fail(&self, service: &str) {
        if self.inner.enabled {
            let s = self.inner.services.slot(service);
            self.inner.circuits[s * 3 + 2].fetch_add(1, Relaxed);
        }
    }

    /// Per service: (name, open circuits, half-open circuits, calls failed fast).
    pub fn circuits(&self) -> Vec<(String, u64, u64, u64)> {
        let c = &self.inner.circuits;
        self.inner
            .services
            .names()
            .iter()
            .enumerate()
            .map(|(s, name)| {
                (name.to_string(), c[s * 3].load(Relaxed), c[s * 3 + 1].load(Relaxed), c[s * 3 + 2].load(Relaxed))
            })
            .collect()
    }

    /// A cache lookup (`cache` names are admitted up to the label cap).
    pub fn cache(&self, cache: &str, hit: bool) {
        if self.inner.enabled {
            let slot = self.inner.caches.slot(cache);
            self.inner.cache_lookups[slot * 2 + usize::from(!hit)].fetch_add(1, Relaxed);
        }
    }

    /// A task was created (`None`) or ended on this instance (`Some`).
    pub fn task(&self, ended: Option<mcp_engine::store::TaskStatus>) {
        use mcp_engine::store::TaskStatus;
        if !self.inner.enabled {
            return;
        }
        let i = match ended {
            None => 0,
            Some(TaskStatus::Completed) => 1,
            Some(TaskStatus::Failed) => 2,
            Some(TaskStatus::Cancelled) => 3,
            Some(_) => return,
        };
        self.inner.tasks[i].fetch_add(1, Relaxed);
    }

    /// (created, completed, failed, cancelled) tasks.
    pub fn tasks(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.inner.tasks[i].load(Relaxed))
    }

    /// Shared limits could not be reached; this process's limiter decided.
    pub fn limits_fallback(&self) {
        if self.inner.enabled {
            self.inner.limits_fallbacks.fetch_add(1, Relaxed);
        }
    }

    pub fn limits_fallbacks(&self) -> u64 {
        self.inner.limits_fallbacks.load(Relaxed)
    }

    /// A request refused by a quota or rate limit.
    pub fn quota_rejected(&self, reason: &str) {
        if self.inner.enabled {
            self.inner.quota_rejections[self.inner.quotas.slot(reason)].fetch_add(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use mcp_engine::store::TaskStatus;

    use crate::Telemetry;

    #[test]
    fn circuits_are_gauged_per_service() {
        let t = Telemetry::default();
        t.circuit("space", "closed", "open");
        t.circuit("space", "closed", "open");
        t.circuit("space", "open", "half_open");
        t.circuit("hub", "closed", "open");
        t.circuit("hub", "open", "half_open");
        t.circuit("hub", "half_open", "closed");
        t.circuit_fast_fail("space");
        let text = t.prometheus();
        assert!(text.contains(r#"mcp_upstream_circuits{service="space",state="open"} 1"#), "{text}");
        assert!(text.contains(r#"mcp_upstream_circuits{service="space",state="half_open"} 1"#));
        assert!(text.contains(r#"mcp_upstream_circuits{service="hub",state="open"} 0"#));
        assert!(text.contains(r#"mcp_upstream_circuits{service="hub",state="half_open"} 0"#));
        assert!(text.contains(r#"mcp_upstream_fast_failures_total{service="space"} 1"#));
    }

    #[test]
    fn tasks_are_counted_by_state() {
        let t = Telemetry::default();
        t.task(None);
        t.task(None);
        t.task(Some(TaskStatus::Completed));
        t.task(Some(TaskStatus::Cancelled));
        t.task(Some(TaskStatus::Working)); // not an end: ignored
        let text = t.prometheus();
        assert!(text.contains(r#"mcp_tasks_total{state="created"} 2"#), "{text}");
        assert!(text.contains(r#"mcp_tasks_total{state="completed"} 1"#));
        assert!(text.contains(r#"mcp_tasks_total{state="failed"} 0"#));
        assert!(text.contains(r#"mcp_tasks_total{state="cancelled"} 1"#));
    }
}
