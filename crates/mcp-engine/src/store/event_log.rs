//! The per-stream event log: every JSON-RPC message sent on a resumable SSE stream is
//! appended here before it is written to the socket, so a client that lost the stream can
//! reconnect with `GET` + `Last-Event-ID` and get exactly the events it missed — of that
//! stream and no other.
//!
//! Event ids encode their stream: `<stream>-<seq>`, where `<stream>` is unique within the
//! session (random for request streams, [`PUSH_STREAM`] for the server-push GET stream) and
//! `<seq>` counts from 1 per stream. Sequence 0 names the priming event, which carries no
//! data and is never stored.

use bytes::Bytes;

use super::StoreError;
use futures_util::future::BoxFuture;

/// The stream id of a session's server-push (GET) stream.
pub const PUSH_STREAM: &str = "g";

/// One logged event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    /// The JSON-RPC message.
    pub data: Bytes,
}

/// The events of one stream after a given sequence number.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    pub events: Vec<StoredEvent>,
    /// The stream has ended (its request was answered or abandoned): nothing will follow.
    pub ended: bool,
}

/// Append-and-replay storage for resumable streams.
pub trait EventLog: Send + Sync + 'static {
    /// Append a message to a stream and return its sequence number. `last` marks the
    /// message that ends the stream (a request's response).
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: Bytes,
        last: bool,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Mark a stream ended without a final message (e.g. its request was cancelled).
    fn end<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The events after `after`. `None` when the stream is unknown or the events right
    /// after `after` are no longer retained (an exact replay is impossible).
    fn replay_after<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<Replay>, StoreError>>;

    /// The newest sequence number of a stream (0 when it has none).
    fn head<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Forget everything of a session.
    fn remove_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()>;
}

/// `<stream>-<seq>`.
pub fn event_id(stream: &str, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Split an event id into its stream and sequence number.
pub fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.trim().rsplit_once('-')?;
    if stream.is_empty() || !stream.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some((stream, seq.parse().ok()?))
}

/// A new request-stream id: 12 random lower-case alphanumerics (~62 bits).
pub fn new_stream_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip() {
        let s = new_stream_id();
        assert_eq!(parse_event_id(&event_id(&s, 42)), Some((s.as_str(), 42)));
        assert_eq!(parse_event_id("g-0"), Some(("g", 0)));
        assert_eq!(parse_event_id("nonsense"), None);
        assert_eq!(parse_event_id("-3"), None);
        assert_eq!(parse_event_id("a b-3"), None);
        assert_eq!(parse_event_id("abc-x"), None);
    }
}
