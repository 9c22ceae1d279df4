//! Transports: how bytes arrive and leave. [`http`] (Streamable HTTP in both eras and
//! HTTP+SSE on one router) and [`stdio`]; [`sse`] is the Server-Sent Events framing they
//! share. What a message means is decided elsewhere: [`crate::prepare`] and the engine
//! for stateless requests, the session driver for session-era messages.

pub mod http;
pub mod sse;
pub mod stdio;
