//! Transports: framing, era detection and HTTP hygiene. One module per transport or
//! concern.

pub(crate) mod gate;
pub mod guard;
pub mod http;
pub mod http_session;
pub mod http_sse;
pub mod hub;
pub(crate) mod push;
pub mod sse;
pub mod stdio;
pub(crate) mod streams;
