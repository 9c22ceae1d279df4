//! MCP Apps (SEP-1865) of proxied Spaces, as the hosted server passes them on: a Space tool
//! whose `_meta.ui.resourceUri` names a `ui://` page keeps its `_meta` in the proxied
//! definition, with that URI rewritten to a hubmcp resource
//! (`ui://hf-mcp-proxy/gradio-<subdomain>/<base64url of the Space's URI>`). The resource
//! (`text/html;profile=mcp-app`) is listed with the caller's tools and read from the Space
//! over MCP (`resources/read`, the caller's token forwarded as for calls), its contents
//! carrying the local URI — so clients that render apps show the Space's app.

use std::sync::Arc;

use base64::Engine as _;
use futures_util::future::BoxFuture;
use mcp_engine::jsonrpc::{JsonObject, McpError};
use mcp_engine::provider::Catalog;
use mcp_engine::Ctx;
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

/// The app a Space tool's `_meta` names, if any.
pub fn app_of(meta: &Value, space: &SpaceMeta) -> Option<App> {
    app_at(meta, &format!("gradio-{}", space.subdomain))
}

/// The app a tool's `_meta` names, its local URI under `ui://hf-mcp-proxy/<proxy id>/`.
pub fn app_at(meta: &Value, proxy_id: &str) -> Option<App> {
    let upstream = meta.get("ui")?.get("resourceUri")?.as_str()?;
    if !upstream.starts_with("ui://") {
        return None;
    }
    let proxy_id: String =
        proxy_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect();
    let local = format!(
        "ui://hf-mcp-proxy/{proxy_id}/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(upstream.as_bytes())
    );
    let mut rewritten = meta.clone();
    rewritten["ui"]["resourceUri"] = local.clone().into();
    Some(App { meta: rewritten, upstream_uri: upstream.to_owned(), local_uri: local })
}

/// Reads an app page upstream: the upstream `ReadResourceResult`, or why there is none.
pub type PageReader = Arc<dyn Fn(Ctx) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

/// List the app's page of a Space tool as a resource of the catalog, read from the Space.
pub fn add_resource(
    catalog: &mut Catalog,
    gradio: &Arc<Gradio>,
    space: &Arc<SpaceMeta>,
    tool: &str,
    title: &str,
    app: App,
) {
    let (gradio, space2, upstream): (Arc<Gradio>, Arc<SpaceMeta>, Arc<str>) =
        (gradio.clone(), space.clone(), app.upstream_uri.as_str().into());
    let reader: PageReader = Arc::new(move |ctx| {
        let (gradio, space, upstream) = (gradio.clone(), space2.clone(), upstream.clone());
        Box::pin(async move { super::proxy::read_resource(&gradio, &space, &upstream, &ctx).await })
    });
    let description = format!("MCP App resource proxied from {}.", space.name);
    add_page(catalog, &format!("gradio-app:{tool}"), title, &description, &app.local_uri, reader);
}

/// List an app page as a resource (once per URI), its contents read by `reader` and
/// given the local URI.
pub fn add_page(
    catalog: &mut Catalog,
    name: &str,
    title: &str,
    description: &str,
    local_uri: &str,
    reader: PageReader,
) {
    if catalog.resources().iter().any(|r| r.uri == local_uri) {
        return;
    }
    let definition = json!({
        "uri": local_uri, "name": name, "title": title, "description": description, "mimeType": APP_MIME,
    });
    catalog.resource(definition, move |read, ctx| {
        let reader = reader.clone();
        async move {
            let result = reader(ctx).await.map_err(McpError::internal)?;
            let Value::Object(mut result) = result else {
                return Err(McpError::internal("The upstream server answered a malformed resource.").into());
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
