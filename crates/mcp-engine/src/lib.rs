//! A reusable Model Context Protocol engine: protocol types, dispatch, transports and
//! stores. It knows nothing of any particular integration; integrations implement
//! [`provider::Provider`].
//!
//! Request flow: a transport frames and classifies a message ([`transport`]), builds a
//! [`dispatch::Call`], and the [`dispatch::Engine`] routes it to the provider's
//! [`provider::Catalog`], whose handlers run with a [`context::Ctx`].

// `McpError` is the JSON-RPC error every layer returns; it stays unboxed so the common
// error paths allocate nothing extra.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod context;
pub mod dispatch;
pub mod headers;
pub mod jsonrpc;
pub mod limits;
pub mod method;
pub mod notify;
pub mod observe;
pub mod prepare;
pub mod protocol;
pub mod provider;
pub mod seal;
pub mod server;
pub mod session;
pub mod store;
pub mod tasks;
pub mod transport;

pub use context::{elicited_str, CallError, Ctx, InputRequests};
pub use dispatch::{Engine, EngineConfig};
pub use jsonrpc::{JsonObject, McpError};
pub use method::Method;
pub use notify::{Audience, ChangeEvent, InMemoryBus, NotificationBus, SessionEvent, TaskSignal};
pub use observe::{NoObserver, Observer};
pub use protocol::{LogLevel, RequestInfo, ServerInfo};
pub use provider::{Arguments, CacheHint, Catalog, Provider, StaticProvider, TaskSupport, Tool, ToolOutput};
pub use seal::Sealer;
pub use tasks::{TaskConfig, TASKS_EXTENSION};
