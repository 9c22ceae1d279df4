//! What integrations record directly: upstream HTTP calls, cache lookups and quota
//! rejections, each under a bounded set of label values the integration names.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::{Telemetry, UPSTREAM_OUTCOMES};

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
