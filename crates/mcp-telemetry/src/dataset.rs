//! The client-behaviour dataset as the rest of the process sees it: client slots and
//! behaviour flags, input requests, and the dataset's JSON-lines file (load, save).

use std::sync::atomic::Ordering::Relaxed;

use serde_json::Value;

use crate::clients::{flag, ClientRecord};
use crate::{Exporter, Telemetry};

impl Telemetry {
    pub fn client_slot(&self, client_info: Option<&Value>) -> u32 {
        self.inner.clients.slot_of(client_info)
    }

    pub fn client_key(&self, slot: u32) -> String {
        self.inner.clients.entry(slot).key().to_owned()
    }

    /// Record a behaviour of the client implementation in `slot`.
    pub fn client_flag(&self, slot: u32, bits: u32) {
        if self.inner.enabled {
            self.inner.clients.entry(slot).set_flag(bits);
        }
    }

    /// Record a behaviour of the client described by `client_info`.
    pub fn flag(&self, client_info: Option<&Value>, bits: u32) {
        if self.inner.enabled {
            self.client_flag(self.client_slot(client_info), bits);
        }
    }

    /// A session-era server-to-client request (sampling, elicitation, roots) was sent, and
    /// whether the client answered it.
    pub fn input_request(&self, slot: u32, answered: bool) {
        if !self.inner.enabled {
            return;
        }
        let c = self.inner.clients.entry(slot);
        c.set_flag(flag::INPUT_ASKED);
        self.inner.input[2].fetch_add(1, Relaxed);
        if answered {
            c.set_flag(flag::INPUT_ANSWERED);
            self.inner.input[3].fetch_add(1, Relaxed);
        }
    }

    /// A 2026-07-28 request carried `inputResponses`.
    pub fn input_answered(&self, slot: u32) {
        if self.inner.enabled {
            self.inner.clients.entry(slot).set_flag(flag::INPUT_ANSWERED);
            self.inner.input[1].fetch_add(1, Relaxed);
        }
    }

    pub fn client_records(&self) -> Vec<ClientRecord> {
        self.inner.clients.records()
    }

    pub fn clients_known(&self) -> usize {
        self.inner.clients.known()
    }

    /// Merge a saved dataset (JSON lines) into the live table.
    pub fn load_clients(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let records: Vec<ClientRecord> =
            text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
        self.inner.clients.absorb(&records);
        Ok(records.len())
    }

    /// Write the dataset as JSON lines, atomically (temporary file, then rename).
    pub fn save_clients(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let records = self.client_records();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, jsonl(&records))?;
        std::fs::rename(&tmp, path)?;
        Ok(records.len())
    }

    pub fn parquet(&self) -> Option<&Exporter> {
        self.inner.parquet.as_ref()
    }
}

/// Records as JSON lines.
pub fn jsonl(records: &[ClientRecord]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(r).expect("records serialize"));
        out.push('\n');
    }
    out
}
