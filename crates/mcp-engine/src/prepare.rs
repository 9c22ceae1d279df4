//! A stateless (2026-07-28) request's description, from its `_meta` and — over HTTP —
//! its headers: the same checks, in the same order, for every transport. A request that
//! fails them is refused before dispatch and reported to the observer as an error of its
//! method.

use std::sync::Arc;

use crate::dispatch::Engine;
use crate::headers::{check_standard, header_text, names};
use crate::jsonrpc::McpError;
use crate::method::Method;
use crate::protocol::{
    unsupported_version, validate_stateless_meta, Caller, Era, HttpRequestParts, Params, RequestInfo, Transport,
};

/// Validate a stateless request and describe it for its handler. `http` carries the
/// request's headers when it came over HTTP (version and `Mcp-*` headers must then agree
/// with the body).
pub fn prepare_stateless(
    engine: &Engine,
    method: &str,
    params: &mut Params<'_>,
    caller: Caller,
    transport: Transport,
    http: Option<HttpRequestParts>,
) -> Result<Arc<RequestInfo>, McpError> {
    match check(engine, method, params, http.as_ref()) {
        Ok(meta) => Ok(Arc::new(RequestInfo {
            era: Era::Stateless,
            transport,
            protocol_version: meta.protocol_version,
            method: method.to_owned(),
            client_capabilities: meta.client_capabilities,
            client_info: meta.client_info,
            log_level: meta.log_level,
            progress_token: meta.progress_token,
            caller,
            http,
        })),
        Err(e) => {
            engine.observer().rejected(Method::parse(method), Era::Stateless, transport, &e);
            Err(e)
        }
    }
}

fn check(
    engine: &Engine,
    method: &str,
    params: &mut Params<'_>,
    http: Option<&HttpRequestParts>,
) -> Result<crate::protocol::StatelessMeta, McpError> {
    let header_version = match http {
        None => None,
        Some(h) => match header_text(&h.headers, &names::MCP_PROTOCOL_VERSION)? {
            None => return Err(McpError::header_mismatch("Missing required header MCP-Protocol-Version")),
            Some(v) => Some(v),
        },
    };
    let meta = validate_stateless_meta(params.meta.take())?;
    if let Some(header_version) = header_version {
        if header_version != meta.protocol_version {
            return Err(McpError::header_mismatch(format!(
                "Header mismatch: MCP-Protocol-Version '{header_version}' does not match _meta protocolVersion '{}'",
                meta.protocol_version
            )));
        }
    }
    let supported = engine.stateless_versions();
    if !supported.contains(&meta.protocol_version.as_str()) {
        return Err(unsupported_version(&meta.protocol_version, supported));
    }
    if let Some(h) = http {
        let target = params.name.as_deref().or(params.uri.as_deref()).or(params.task_id.as_deref());
        check_standard(&h.headers, method, target)?;
    }
    Ok(meta)
}
