//! Server-initiated requests (`sampling/createMessage`, `elicitation/create`,
//! `roots/list`, `ping`) and the client's answers: ids are allocated and answers matched
//! per (session, request id), so a client can only answer what was sent to its own
//! session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::context::ClientRequester;
use crate::jsonrpc::{write_notification, write_request, Id, McpError};

type Waiter = oneshot::Sender<Result<Value, McpError>>;

/// Server-initiated requests waiting for the client's answer, keyed by session and request
/// id (a client can only answer requests sent to its own session).
///
/// Ids are `<prefix>-<n>` with a per-process random prefix, so requests issued by
/// different instances into one session never collide. The map is per process: an answer
/// that arrives at an instance without the waiter is a miss, which an HTTP transport
/// forwards on the bus (`SessionEvent::ClientResponse`) to the instance that has it.
pub struct Correlator {
    prefix: String,
    next: AtomicU64,
    pending: Mutex<HashMap<(Arc<str>, Id), Waiter>>,
}

impl Correlator {
    pub fn new(prefix: impl Into<String>) -> Self {
        Correlator { prefix: prefix.into(), next: AtomicU64::new(1), pending: Mutex::new(HashMap::new()) }
    }

    /// A correlator with a random id prefix (one per process).
    pub fn random() -> Self {
        let tag: u32 = rand::random();
        Self::new(format!("s{tag:08x}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Arc<str>, Id), Waiter>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocate an id and wait for its answer.
    pub fn register(&self, session: &Arc<str>) -> (Id, oneshot::Receiver<Result<Value, McpError>>) {
        let id = Id::Str(format!("{}-{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed)));
        let (tx, rx) = oneshot::channel();
        self.lock().insert((session.clone(), id.clone()), tx);
        (id, rx)
    }

    /// Deliver an answer; `false` when nobody here waits for it.
    pub fn resolve(&self, session: &str, id: &Id, answer: Result<Value, McpError>) -> bool {
        let waiter = self.lock().remove(&(Arc::from(session), id.clone()));
        match waiter {
            Some(w) => {
                let _ = w.send(answer);
                true
            }
            None => false,
        }
    }

    pub fn forget(&self, session: &Arc<str>, id: &Id) {
        self.lock().remove(&(session.clone(), id.clone()));
    }

    /// Fail everything a session still waits for (the session ended).
    pub fn drop_session(&self, session: &str) {
        self.lock().retain(|(s, _), _| &**s != session);
    }

    pub fn pending(&self) -> usize {
        self.lock().len()
    }
}

/// Sends server-initiated requests on a channel the transport writes to the client (the
/// stream of the POST that caused them, an HTTP+SSE stream, stdout) and waits for the
/// answer, with a timeout after which the request is cancelled.
pub struct LiveRequester {
    pub out: mpsc::Sender<Vec<u8>>,
    pub correlator: Arc<Correlator>,
    pub session: Arc<str>,
    pub timeout: Duration,
}

impl ClientRequester for LiveRequester {
    fn request(&self, method: &'static str, params: Value) -> BoxFuture<'_, Result<Value, McpError>> {
        Box::pin(async move {
            let (id, rx) = self.correlator.register(&self.session);
            let mut out = Vec::with_capacity(128);
            write_request(&mut out, &id, method, &params);
            if self.out.send(out).await.is_err() {
                self.correlator.forget(&self.session, &id);
                return Err(McpError::internal("the client is gone"));
            }
            match tokio::time::timeout(self.timeout, rx).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(McpError::internal("the session ended before the client answered")),
                Err(_) => {
                    self.correlator.forget(&self.session, &id);
                    let mut note = Vec::with_capacity(96);
                    let params = serde_json::json!({ "requestId": id, "reason": "timed out" });
                    write_notification(&mut note, "notifications/cancelled", &params);
                    let _ = self.out.try_send(note);
                    Err(McpError::internal(format!(
                        "the client did not answer {method} within {} s",
                        self.timeout.as_secs()
                    )))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn correlator_matches_session_and_id() {
        let c = Correlator::new("t");
        let a: Arc<str> = "A".into();
        let (id, rx) = c.register(&a);
        assert!(!c.resolve("B", &id, Ok(Value::Null)), "another session cannot answer");
        assert!(c.resolve("A", &id, Ok(serde_json::json!({"ok": true}))));
        assert_eq!(rx.await.unwrap().unwrap()["ok"], true);
        let (_id, rx) = c.register(&a);
        c.drop_session("A");
        assert!(rx.await.is_err());
        assert_eq!(c.pending(), 0);
    }
}
