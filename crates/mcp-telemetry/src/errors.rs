//! A bounded ring of recent errors for the dashboard: JSON-RPC errors, tool results with
//! `isError`, and upstream failures. Messages are truncated; they never carry tokens
//! (tokens never reach error messages in the first place) and no caller identity is kept.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ErrorRecord {
    pub time: String,
    pub method: String,
    pub era: &'static str,
    pub transport: &'static str,
    pub client: String,
    /// The JSON-RPC error code; `None` for a tool result with `isError: true`.
    pub code: Option<i32>,
    /// The tool, for tool calls.
    pub tool: Option<String>,
    pub message: String,
}

pub struct ErrorRing {
    cap: usize,
    ring: Mutex<VecDeque<ErrorRecord>>,
}

pub const MAX_MESSAGE: usize = 300;

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl ErrorRing {
    pub fn new(cap: usize) -> Self {
        ErrorRing { cap: cap.max(1), ring: Mutex::new(VecDeque::with_capacity(cap.clamp(1, 1024))) }
    }

    pub fn push(&self, record: ErrorRecord) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() >= self.cap {
            ring.pop_front();
        }
        ring.push_back(record);
    }

    /// Newest first.
    pub fn recent(&self, limit: usize) -> Vec<ErrorRecord> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().take(limit).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest() {
        let r = ErrorRing::new(2);
        for i in 0..3 {
            r.push(ErrorRecord {
                time: String::new(),
                method: format!("m{i}"),
                era: "session",
                transport: "stdio",
                client: "c".into(),
                code: Some(-1),
                tool: None,
                message: "x".into(),
            });
        }
        let v: Vec<_> = r.recent(10).into_iter().map(|e| e.method).collect();
        assert_eq!(v, ["m2", "m1"]);
        assert_eq!(truncate("héllo", 2), "h…");
    }
}
