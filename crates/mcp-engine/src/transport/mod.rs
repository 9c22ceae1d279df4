//! Transports: framing, era detection and HTTP hygiene. One module per transport.

pub mod guard;
pub mod http;
pub mod sse;
pub mod stdio;
