//! The metric registry: fixed-size arrays of atomics (counters, gauges, histograms with
//! fixed buckets) indexed by bounded label sets, and a small Prometheus text encoder.
//!
//! Recording is lock-free: a request touches a handful of `fetch_add`s on preallocated
//! atomics. Dynamic label values (tool names, cache names, quota reasons) go through a
//! [`LabelSet`] that admits the first `cap` distinct values and maps the rest to `other`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

/// Histogram bucket upper bounds, in microseconds (the `+Inf` bucket follows).
pub const BUCKETS_US: [u64; 21] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];
const NBUCKETS: usize = BUCKETS_US.len() + 1;

/// A latency histogram with fixed buckets; count is the sum of the buckets.
pub struct Histogram {
    buckets: [AtomicU64; NBUCKETS],
    sum_us: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: std::array::from_fn(|_| AtomicU64::new(0)), sum_us: AtomicU64::new(0) }
    }
}

impl Histogram {
    #[inline]
    pub fn observe_us(&self, us: u64) {
        let i = BUCKETS_US.partition_point(|&b| b < us);
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    pub fn snapshot(&self) -> HistSnapshot {
        HistSnapshot {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Relaxed)),
            sum_us: self.sum_us.load(Relaxed),
        }
    }
}

/// A point-in-time copy of a histogram (non-cumulative bucket counts).
#[derive(Clone, Copy)]
pub struct HistSnapshot {
    pub buckets: [u64; NBUCKETS],
    pub sum_us: u64,
}

impl Default for HistSnapshot {
    fn default() -> Self {
        HistSnapshot { buckets: [0; NBUCKETS], sum_us: 0 }
    }
}

impl HistSnapshot {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn add(&mut self, other: &HistSnapshot) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.sum_us += other.sum_us;
    }

    /// The `q` quantile in microseconds, interpolated linearly within its bucket (as
    /// Prometheus' `histogram_quantile` does); `None` when empty.
    pub fn quantile_us(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut before = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n > 0 && (before + n) as f64 >= rank {
                let Some(&upper) = BUCKETS_US.get(i) else {
                    return Some(*BUCKETS_US.last().expect("buckets") as f64);
                };
                let lower = if i == 0 { 0 } else { BUCKETS_US[i - 1] };
                let frac = ((rank - before as f64) / n as f64).clamp(0.0, 1.0);
                return Some(lower as f64 + (upper - lower) as f64 * frac);
            }
            before += n;
        }
        Some(*BUCKETS_US.last().expect("buckets") as f64)
    }

    pub fn mean_us(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_us as f64 / n as f64)
    }
}

pub fn counters(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

pub fn gauges(n: usize) -> Box<[AtomicI64]> {
    (0..n).map(|_| AtomicI64::new(0)).collect()
}

pub fn histograms(n: usize) -> Box<[Histogram]> {
    (0..n).map(|_| Histogram::default()).collect()
}

/// Label values admitted at run time: the first `cap` distinct values get their own slot,
/// everything after that shares the last slot, `other`. Lookups take a read lock only.
pub struct LabelSet {
    id: usize,
    cap: usize,
    index: RwLock<HashMap<Box<str>, usize>>,
    names: RwLock<Vec<Arc<str>>>,
}

pub const OTHER: &str = "other";

thread_local! {
    /// (label set id, hash of the value, slot) of the last lookup on this thread.
    static LAST_LABEL: std::cell::Cell<(usize, u64, usize)> = const { std::cell::Cell::new((0, 0, 0)) };
}

impl LabelSet {
    pub fn new(cap: usize) -> Self {
        LabelSet {
            id: super::clients::next_table_id(),
            cap,
            index: RwLock::new(HashMap::new()),
            names: RwLock::new(Vec::new()),
        }
    }

    /// Slots to allocate per metric: `cap` values plus `other`.
    pub fn slots(&self) -> usize {
        self.cap + 1
    }

    pub fn other(&self) -> usize {
        self.cap
    }

    /// The slot of `value`, admitting it if there is room.
    pub fn slot(&self, value: &str) -> usize {
        // Per-thread one-entry cache (the same tool is called over and over).
        let h = super::clients::raw_hash(value, "");
        if let Some(s) = LAST_LABEL.with(|c| {
            let (set, hash, slot) = c.get();
            (set == self.id && hash == h).then_some(slot)
        }) {
            return s;
        }
        let slot = self.lookup(value);
        LAST_LABEL.with(|c| c.set((self.id, h, slot)));
        slot
    }

    fn lookup(&self, value: &str) -> usize {
        if let Some(&i) = self.index.read().unwrap_or_else(|e| e.into_inner()).get(value) {
            return i;
        }
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = index.get(value) {
            return i;
        }
        if index.len() >= self.cap || value == OTHER || value.len() > 128 {
            return self.cap;
        }
        let i = index.len();
        index.insert(value.into(), i);
        self.names.write().unwrap_or_else(|e| e.into_inner()).push(Arc::from(value));
        i
    }

    /// The admitted values in slot order, then `other`.
    pub fn names(&self) -> Vec<Arc<str>> {
        let mut v = self.names.read().unwrap_or_else(|e| e.into_inner()).clone();
        v.push(Arc::from(OTHER));
        v
    }

    /// The name of a slot (`other` for the overflow slot).
    pub fn name(&self, slot: usize) -> Arc<str> {
        self.names.read().unwrap_or_else(|e| e.into_inner()).get(slot).cloned().unwrap_or_else(|| Arc::from(OTHER))
    }
}

// ----- Prometheus text format (version 0.0.4) -----------------------------------------

/// Writes metric families in the Prometheus text exposition format.
pub struct Encoder {
    pub out: String,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder { out: String::with_capacity(16 * 1024) }
    }
}

pub type Labels<'a> = &'a [(&'a str, &'a str)];

impl Encoder {
    pub fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn labels(&mut self, labels: Labels<'_>, extra: Option<(&str, &str)>) {
        if labels.is_empty() && extra.is_none() {
            return;
        }
        self.out.push('{');
        let mut first = true;
        for (k, v) in labels.iter().copied().chain(extra) {
            if !first {
                self.out.push(',');
            }
            first = false;
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('}');
    }

    pub fn sample(&mut self, name: &str, labels: Labels<'_>, value: impl std::fmt::Display) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {value}");
    }

    /// A histogram series: cumulative `_bucket`s in seconds, `_sum`, `_count`.
    pub fn histogram(&mut self, name: &str, labels: Labels<'_>, h: &HistSnapshot) {
        let mut cumulative = 0;
        let bucket = format!("{name}_bucket");
        for (i, n) in h.buckets.iter().enumerate() {
            cumulative += n;
            let le = match BUCKETS_US.get(i) {
                Some(us) => seconds(*us),
                None => "+Inf".to_owned(),
            };
            self.out.push_str(&bucket);
            self.labels(labels, Some(("le", &le)));
            let _ = writeln!(self.out, " {cumulative}");
        }
        self.sample(&format!("{name}_sum"), labels, seconds(h.sum_us));
        self.sample(&format!("{name}_count"), labels, cumulative);
    }
}

/// Microseconds as a decimal number of seconds (`2500` → `0.0025`).
pub fn seconds(us: u64) -> String {
    let s = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_owned()
}

fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_interpolate_within_buckets() {
        let h = Histogram::default();
        for _ in 0..90 {
            h.observe_us(80); // (50, 100]
        }
        for _ in 0..10 {
            h.observe_us(4_000); // (2500, 5000]
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        let p50 = s.quantile_us(0.5).unwrap();
        assert!((50.0..=100.0).contains(&p50), "{p50}");
        let p99 = s.quantile_us(0.99).unwrap();
        assert!((2_500.0..=5_000.0).contains(&p99), "{p99}");
        assert!(HistSnapshot::default().quantile_us(0.5).is_none());
        h.observe_us(u64::MAX / 4);
        assert_eq!(h.snapshot().quantile_us(1.0), Some(60_000_000.0));
    }

    #[test]
    fn label_set_is_bounded() {
        let l = LabelSet::new(2);
        assert_eq!(l.slot("a"), 0);
        assert_eq!(l.slot("b"), 1);
        assert_eq!(l.slot("a"), 0);
        assert_eq!(l.slot("c"), 2);
        assert_eq!(l.slot("d"), l.other());
        assert_eq!(l.names().iter().map(|s| &**s).collect::<Vec<_>>(), ["a", "b", "other"]);
    }

    #[test]
    fn encoder_writes_the_text_format() {
        let mut e = Encoder::default();
        e.header("x_total", "counter", "Things.");
        e.sample("x_total", &[("method", "tools/call"), ("q", "a\"b")], 3);
        let h = Histogram::default();
        h.observe_us(30);
        e.histogram("x_seconds", &[("m", "a")], &h.snapshot());
        let out = e.out;
        assert!(out.contains("# TYPE x_total counter\n"));
        assert!(out.contains("x_total{method=\"tools/call\",q=\"a\\\"b\"} 3\n"));
        assert!(out.contains("x_seconds_bucket{m=\"a\",le=\"0.00005\"} 1\n"));
        assert!(out.contains("x_seconds_bucket{m=\"a\",le=\"+Inf\"} 1\n"));
        assert!(out.contains("x_seconds_sum{m=\"a\"} 0.00003\n"));
        assert!(out.contains("x_seconds_count{m=\"a\"} 1\n"));
        assert_eq!(seconds(60_000_000), "60");
    }
}
