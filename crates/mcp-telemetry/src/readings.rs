//! Reading the figures back for the JSON API, the dashboard and the Prometheus text:
//! sums over the flattened series arrays, `ok` derived from histogram counts.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::clients::{ERAS, TRANSPORTS};
use crate::connections::STREAM_KINDS;
use crate::errors::ErrorRecord;
use crate::metrics::HistSnapshot;
use crate::{Telemetry, METHODS, NE, NM, NO, NT, TOOL_OUTCOMES, UPSTREAM_OUTCOMES};
use mcp_engine::observe::Outcome;

impl Telemetry {
    pub fn recent_errors(&self, limit: usize) -> Vec<ErrorRecord> {
        self.inner.errors.recent(limit)
    }

    /// Requests of one series by outcome: `ok` is the histogram's count minus the others.
    pub(crate) fn series_counts(&self, series: usize) -> ([u64; NO], HistSnapshot) {
        let h = self.inner.latency[series].snapshot();
        let mut counts = [0; NO];
        for (o, c) in counts.iter_mut().enumerate().skip(1) {
            *c = self.inner.requests[series * NO + o].load(Relaxed);
        }
        counts[0] = h.count().saturating_sub(counts[1..].iter().sum());
        (counts, h)
    }

    /// Per method: requests by outcome and the latency histogram, over eras and transports.
    pub fn methods(&self) -> Vec<(&'static str, [u64; NO], HistSnapshot)> {
        let mut out = Vec::new();
        for (m, name) in METHODS.iter().enumerate() {
            let mut counts = [0; NO];
            let mut h = HistSnapshot::default();
            for series in (m * NE * NT)..((m + 1) * NE * NT) {
                let (c, sh) = self.series_counts(series);
                for (a, b) in counts.iter_mut().zip(c) {
                    *a += b;
                }
                h.add(&sh);
            }
            if counts.iter().sum::<u64>() > 0 {
                out.push((*name, counts, h));
            }
        }
        out
    }

    /// Requests by (era, transport).
    #[allow(clippy::needless_range_loop)] // indices address the flattened series arrays
    pub fn by_era_transport(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut out = Vec::new();
        for e in 0..NE {
            for t in 0..NT {
                let mut n = 0;
                for m in 0..NM {
                    n += self.inner.latency[(m * NE + e) * NT + t].snapshot().count();
                }
                out.push((ERAS[e], TRANSPORTS[t], n));
            }
        }
        out
    }

    /// Per tool: calls by outcome and latency.
    pub fn tools(&self) -> Vec<(Arc<str>, Vec<u64>, HistSnapshot)> {
        let k = TOOL_OUTCOMES.len();
        self.inner
            .tools
            .names()
            .into_iter()
            .enumerate()
            .map(|(slot, name)| {
                let h = self.inner.tool_latency[slot].snapshot();
                let mut counts = (0..k).map(|o| self.inner.tool_calls[slot * k + o].load(Relaxed)).collect::<Vec<_>>();
                counts[0] = h.count().saturating_sub(counts[1..].iter().sum());
                (name, counts, h)
            })
            .filter(|(_, c, _)| c.iter().sum::<u64>() > 0)
            .collect()
    }

    pub fn totals(&self) -> (u64, u64) {
        let all = self.inner.latency.iter().map(|h| h.snapshot().count()).sum();
        let errors =
            (0..NM * NE * NT).map(|s| self.inner.requests[s * NO + Outcome::Error as usize].load(Relaxed)).sum();
        (all, errors)
    }

    pub fn streams_open(&self) -> Vec<(&'static str, i64)> {
        STREAM_KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, self.inner.connections.streams_open[i].load(Relaxed).max(0)))
            .collect()
    }

    pub fn list_changed_sent(&self) -> u64 {
        self.inner.list_changed.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub fn upstream_totals(&self) -> (u64, u64) {
        let k = UPSTREAM_OUTCOMES.len();
        let mut calls = 0;
        let mut failures = 0;
        for (i, c) in self.inner.upstream.iter().enumerate() {
            let n = c.load(Relaxed);
            calls += n;
            if i % k != 0 {
                failures += n;
            }
        }
        (calls, failures)
    }
}
