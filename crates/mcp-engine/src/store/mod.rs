//! Where state lives: sessions, the per-stream event log used for replay, tasks (the
//! tasks extension, [`task`]) and (in [`crate::notify`]) notification fan-out. Each is a trait with an in-memory
//! implementation ([`memory`]); a shared implementation (e.g. Redis) can replace them
//! without touching transports or tool code, so any instance can serve any session.
//!
//! Rules for implementations and their callers:
//! - Everything stored is serializable ([`SessionData`], event payloads are bytes).
//! - Callers never hold a lock or a borrowed reference across a store call; the futures
//!   are `Send` and own or borrow only their arguments.
//! - A store may lose a session at any time (expiry, another instance's DELETE); callers
//!   treat "not found" as the session having ended.

pub mod event_log;
pub mod memory;
pub mod session;
pub mod task;
pub mod task_memory;

pub use event_log::{EventLog, Replay, StoredEvent};
pub use memory::{MemoryEventLog, MemorySessionStore};
pub use session::{new_session_id, PushClaim, SessionData, SessionStore};
pub use task::{TaskMutation, TaskRecord, TaskStatus, TaskStore, TaskStoreError, Updated};
pub use task_memory::MemoryTaskStore;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The cap on live sessions is reached.
    #[error("the server holds its maximum of {max} live sessions")]
    Full { max: usize },
    /// The backing store could not be reached.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}
