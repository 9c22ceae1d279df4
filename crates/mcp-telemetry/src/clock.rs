//! A cheap monotonic clock for request latencies: the CPU's time-stamp counter on x86_64
//! when it is invariant (`nonstop_tsc`; calibrated once against `Instant`), else
//! `Instant`. Reading the TSC costs a few nanoseconds; two `Instant::now()` per request
//! cost tens of nanoseconds in a VM, a visible share of a 10 µs request.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Clock {
    origin: Instant,
    origin_ticks: u64,
    /// Nanoseconds per tick, as a 32.32 fixed-point number; `None`: ticks are nanoseconds
    /// since `origin` (the `Instant` fallback).
    ns_per_tick_q32: Option<u64>,
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// The process's clock (calibrated on first use, about 20 ms once).
pub fn clock() -> &'static Clock {
    CLOCK.get_or_init(Clock::calibrate)
}

#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // `__cpuid` is safe in newer Rust, unsafe in 1.85
fn invariant_tsc() -> bool {
    // CPUID 0x8000_0007, EDX bit 8: the TSC runs at a constant rate in every state.
    // SAFETY: cpuid is always available on x86_64.
    let max = unsafe { core::arch::x86_64::__cpuid(0x8000_0000) }.eax;
    max >= 0x8000_0007 && unsafe { core::arch::x86_64::__cpuid(0x8000_0007) }.edx & (1 << 8) != 0
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn tsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl Clock {
    fn calibrate() -> Clock {
        let origin = Instant::now();
        #[cfg(target_arch = "x86_64")]
        if invariant_tsc() && std::env::var_os("HUBMCP_NO_TSC").is_none() {
            let t0 = tsc();
            let i0 = Instant::now();
            std::thread::sleep(Duration::from_millis(20));
            let t1 = tsc();
            let ns = i0.elapsed().as_nanos() as u64;
            if t1 > t0 && ns > 0 {
                let q32 = ((u128::from(ns) << 32) / u128::from(t1 - t0)) as u64;
                if q32 > 0 {
                    return Clock { origin, origin_ticks: t0, ns_per_tick_q32: Some(q32) };
                }
            }
        }
        Clock { origin, origin_ticks: 0, ns_per_tick_q32: None }
    }

    /// The current tick.
    #[inline]
    pub fn now(&self) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if self.ns_per_tick_q32.is_some() {
            return tsc();
        }
        self.origin.elapsed().as_nanos() as u64
    }

    /// Nanoseconds between two ticks (0 if `to` is earlier, e.g. a tiny cross-core skew).
    #[inline]
    pub fn ns_between(&self, from: u64, to: u64) -> u64 {
        let ticks = to.saturating_sub(from);
        match self.ns_per_tick_q32 {
            Some(q) => ((u128::from(ticks) * u128::from(q)) >> 32) as u64,
            None => ticks,
        }
    }

    /// The `Instant` of a tick.
    pub fn instant(&self, tick: u64) -> Instant {
        self.origin + Duration::from_nanos(self.ns_between(self.origin_ticks, tick))
    }

    pub fn uses_tsc(&self) -> bool {
        self.ns_per_tick_q32.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_measure_time() {
        let c = clock();
        let a = c.now();
        let i = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let b = c.now();
        let real = i.elapsed().as_nanos() as u64;
        let measured = c.ns_between(a, b);
        assert!(measured.abs_diff(real) < real / 20 + 2_000_000, "measured {measured} ns, real {real} ns");
        assert_eq!(c.ns_between(b, a), 0);
        assert!(c.instant(b) >= c.instant(a));
    }
}
