//! MCP Apps (SEP-1865) of proxied Spaces, as the hosted server passes them on: a Space tool
//! whose `_meta.ui.resourceUri` names a `ui://` page keeps its `_meta` in the proxied
//! definition, with that URI rewritten to a hubmcp resource
//! (`ui://hf-mcp-proxy/gradio-<subdomain>/<base64url of the Space's URI>`). The resource
//! (`text/html;profile=mcp-app`) is listed with the caller's tools and read from the Space
//! over MCP (`resources/read`, the caller's token forwarded as for calls), its contents
//! carrying the local URI — so clients that render apps show the Space's app.

use std::sync::Arc;

use base64::Engine as _;
use mcp_engine::jsonrpc::{JsonObject, McpError};
use mcp_engine::provider::Catalog;
use serde_json::{json, Value};

use super::discovery::SpaceMeta;
use super::Gradio;

/// The MIME type of an MCP App page.
pub const APP_MIME: &str = "text/html;profile=mcp-app";

/// A tool's app: its `_meta` with the URI rewritten, the Space's URI and the local one.
pub struct App {
    pub meta: Value,
    pub upstream_uri: String,
    pub local_uri: String,
}

/// The app a tool's `_meta` names, if any.
pub fn app_of(meta: &Value, space: &SpaceMeta) -> Option<App> {
    let upstream = meta.get("ui")?.get("resourceUri")?.as_str()?;
    if !upstream.starts_with("ui://") {
        return None;
    }
    let proxy_id: String = format!("gradio-{}", space.subdomain)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    let local = format!(
        "ui://hf-mcp-proxy/{proxy_id}/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(upstream.as_bytes())
    );
    let mut rewritten = meta.clone();
    rewritten["ui"]["resourceUri"] = local.clone().into();
    Some(App { meta: rewritten, upstream_uri: upstream.to_owned(), local_uri: local })
}

/// List the app's page as a resource of the catalog, read from the Space.
pub fn add_resource(
    catalog: &mut Catalog,
    gradio: &Arc<Gradio>,
    space: &Arc<SpaceMeta>,
    tool: &str,
    title: &str,
    app: App,
) {
    if catalog.resources().iter().any(|r| r.uri == app.local_uri) {
        return;
    }
    let definition = json!({
        "uri": app.local_uri,
        "name": format!("gradio-app:{tool}"),
        "title": title,
        "description": format!("MCP App resource proxied from {}.", space.name),
        "mimeType": APP_MIME,
    });
    let (gradio, space, upstream): (Arc<Gradio>, Arc<SpaceMeta>, Arc<str>) =
        (gradio.clone(), space.clone(), app.upstream_uri.into());
    catalog.resource(definition, move |read, ctx| {
        let (gradio, space, upstream) = (gradio.clone(), space.clone(), upstream.clone());
        async move {
            let result = super::proxy::read_resource(&gradio, &space, &upstream, &ctx)
                .await
                .map_err(|m| McpError::internal(m))?;
            let Value::Object(mut result) = result else {
                return Err(
                    McpError::internal(format!("The Space {} answered a malformed resource.", space.name)).into()
                );
            };
            let mut out = JsonObject::new();
            let mut contents = result.remove("contents").unwrap_or_else(|| json!([]));
            if let Value::Array(items) = &mut contents {
                for c in items.iter_mut().filter(|c| c.is_object()) {
                    c["uri"] = read.uri.clone().into();
                }
            }
            out.insert("contents".into(), contents);
            if let Some(meta) = result.remove("_meta").filter(Value::is_object) {
                out.insert("_meta".into(), meta);
            }
            Ok(out)
        }
    });
}
