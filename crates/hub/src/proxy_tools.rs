//! Tools of other MCP servers served through hubmcp, as the hosted server's `PROXY_TOOLS_CSV`:
//! a CSV (a file, or an `https://` URL) of `proxy_id,url,response_type` rows (`#` comments
//! and a `proxy_id` header skipped; `response_type` `JSON` or `SSE`, both read alike). At
//! start each server's `tools/list` is fetched over Streamable HTTP with `PROXY_TOKEN`; a
//! server with one tool exposes it as `<proxy_id>`, one with several as the upstream names.
//! Signed-in callers see them with the `proxy` bouquet or mix (or a settings entry naming
//! the proxy id or tool); calls go to that server with the caller's token (`Authorization`
//! and `X-HF-Authorization`), through the Spaces' session pool, timeouts and size limits.
//! A tool's MCP App page (`_meta.ui.resourceUri`) is listed and read like a Space's.

use std::sync::Arc;
use std::time::Duration;

use mcp_engine::provider::{Catalog, Tool, ToolOutput};
use mcp_engine::Ctx;
use serde_json::{json, Value};

use crate::gradio::apps::{self, App, PageReader};
use crate::gradio::proxy::{self, ResultOptions, Target, UpstreamRequest};
use crate::gradio::Gradio;

/// How long loading one server's tools may take.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest CSV accepted.
const MAX_CSV_BYTES: usize = 1024 * 1024;

/// One row of the CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySource {
    pub proxy_id: String,
    pub url: url::Url,
}

/// One proxied tool, built once.
pub struct ProxyTool {
    pub proxy_id: String,
    pub name: String,
    pub tool: Arc<Tool>,
    app: Option<(App, PageReader, String)>,
}

/// Every proxied tool (empty without `PROXY_TOOLS_CSV`).
#[derive(Default)]
pub struct ProxyTools {
    pub tools: Vec<ProxyTool>,
}

impl ProxyTools {
    /// Add the tools `picked` names (`proxy` = all; else proxy ids or tool names), minus
    /// disabled ones, with their app pages.
    pub fn add_to(&self, catalog: &mut Catalog, picked: &[String], disabled: &std::collections::HashSet<String>) {
        for t in &self.tools {
            let chosen = picked.iter().any(|p| p == "proxy" || *p == t.proxy_id || *p == t.name);
            if !chosen || disabled.contains(&t.name) {
                continue;
            }
            catalog.add_tool(t.tool.clone());
            if let Some((app, reader, title)) = &t.app {
                let description = format!("MCP App resource proxied from {}.", t.proxy_id);
                let name = format!("proxy-app:{}", t.name);
                apps::add_page(catalog, &name, title, &description, &app.local_uri, reader.clone());
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

/// Parse the CSV; bad rows are skipped with a warning.
pub fn parse_csv(content: &str) -> Vec<ProxySource> {
    let mut out: Vec<ProxySource> = Vec::new();
    for line in content.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let fields = csv_fields(line);
        let [id, url, kind, ..] = fields.as_slice() else {
            tracing::warn!("proxy tools CSV: a row with fewer than 3 fields is skipped");
            continue;
        };
        if id.eq_ignore_ascii_case("proxy_id") {
            continue;
        }
        if id.is_empty() || out.iter().any(|s| s.proxy_id == *id) {
            tracing::warn!(proxy_id = %id, "proxy tools CSV: an empty or duplicate proxy id is skipped");
            continue;
        }
        let Some(url) = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https")) else {
            tracing::warn!(proxy_id = %id, "proxy tools CSV: an invalid URL is skipped");
            continue;
        };
        if !matches!(kind.to_ascii_uppercase().as_str(), "JSON" | "SSE") {
            tracing::warn!(proxy_id = %id, "proxy tools CSV: response_type must be JSON or SSE");
            continue;
        }
        out.push(ProxySource { proxy_id: id.clone(), url });
    }
    out
}

/// Fields of one CSV line (double quotes group, `""` is a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut current, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        fields.push(current.trim().to_owned());
    }
    fields
}

/// The client proxied servers are reached with: operator-configured URLs, so no Space
/// address policy, but no redirects and no environment proxies.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(crate::client::default_user_agent())
        .build()
        .expect("reqwest client builds")
}

/// Read the CSV (`https://` URL or file) and load every server's tools. Failures are
/// logged and leave that server out.
pub async fn load(source: &str, token: Option<&str>, gradio: &Arc<Gradio>) -> ProxyTools {
    let http = client();
    let content = if source.starts_with("https://") {
        let fetched = async {
            let resp = http.get(source).timeout(LOAD_TIMEOUT).send().await.map_err(|e| e.to_string())?;
            if !resp.status().is_success() {
                return Err(format!("HTTP {}", resp.status().as_u16()));
            }
            let body = crate::gradio::discovery::read_capped(resp, MAX_CSV_BYTES).await?;
            String::from_utf8(body.to_vec()).map_err(|_| "not UTF-8".to_owned())
        };
        fetched.await
    } else {
        tokio::fs::read_to_string(source).await.map_err(|e| e.to_string())
    };
    let content = match content {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("proxy tools CSV unreadable: {e}");
            return ProxyTools::default();
        }
    };
    let mut tools = Vec::new();
    for s in parse_csv(&content) {
        match tokio::time::timeout(LOAD_TIMEOUT, list_tools(&http, gradio, &s, token)).await {
            Ok(Ok(listed)) if listed.is_empty() => {
                tracing::error!(proxy_id = %s.proxy_id, "proxied server lists no tools")
            }
            Ok(Ok(listed)) => {
                let single = listed.len() == 1;
                for t in listed {
                    if let Some(t) = build(&http, gradio, &s, t, single) {
                        tools.push(t);
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(proxy_id = %s.proxy_id, "proxied server's tools unavailable: {e}"),
            Err(_) => tracing::error!(proxy_id = %s.proxy_id, "proxied server's tools: timed out"),
        }
    }
    tracing::info!(tools = tools.len(), "proxy tools loaded");
    ProxyTools { tools }
}

fn target(s: &ProxySource) -> Target<'_> {
    Target { url: s.url.clone(), pool_key: format!("proxy:{}", s.proxy_id), label: &s.proxy_id, bearer: true }
}

/// Every page of the server's `tools/list`.
async fn list_tools(
    http: &reqwest::Client,
    gradio: &Gradio,
    s: &ProxySource,
    token: Option<&str>,
) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let request = UpstreamRequest::List { cursor: cursor.as_deref() };
        let raw = proxy::send(http, gradio, target(s), request, None, token).await?;
        let page: Value = serde_json::from_str(raw.get()).map_err(|_| "a malformed tools/list".to_owned())?;
        out.extend(page["tools"].as_array().cloned().unwrap_or_default());
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    Ok(out)
}

fn build(http: &reqwest::Client, gradio: &Arc<Gradio>, s: &ProxySource, t: Value, single: bool) -> Option<ProxyTool> {
    let upstream: Arc<str> = t["name"].as_str()?.into();
    if t["inputSchema"]["type"] != "object" {
        tracing::error!(proxy_id = %s.proxy_id, tool = %upstream, "proxied tool without an object input schema");
        return None;
    }
    let name = if single { s.proxy_id.clone() } else { upstream.to_string() };
    let title = format!("{} - {}", s.proxy_id, upstream);
    let description =
        t["description"].as_str().map_or_else(|| format!("Streamable HTTP proxy tool for {upstream}."), str::to_owned);
    let mut definition = json!({
        "name": name, "title": title, "description": description, "inputSchema": t["inputSchema"],
        "annotations": { "title": title, "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false,
                         "openWorldHint": true },
    });
    let mut app = None;
    if let Some(meta) = t.get("_meta").filter(|m| m.is_object()) {
        match apps::app_at(meta, &s.proxy_id) {
            Some(found) => {
                definition["_meta"] = found.meta.clone();
                let (http, gradio, source, uri): (_, _, _, Arc<str>) =
                    (http.clone(), gradio.clone(), s.clone(), found.upstream_uri.as_str().into());
                let reader: PageReader = Arc::new(move |ctx: Ctx| {
                    let (http, gradio, source, uri) = (http.clone(), gradio.clone(), source.clone(), uri.clone());
                    Box::pin(async move {
                        let token = ctx.request().caller.bearer.clone();
                        let request = UpstreamRequest::Read { uri: &uri };
                        let raw =
                            proxy::send(&http, &gradio, target(&source), request, Some(&ctx), token.as_deref()).await?;
                        serde_json::from_str(raw.get()).map_err(|_| "a malformed resource".to_owned())
                    })
                });
                app = Some((found, reader, title.clone()));
            }
            None => definition["_meta"] = meta.clone(),
        }
    }
    let (http, gradio, source) = (http.clone(), gradio.clone(), s.clone());
    let tool = Tool::new(definition, move |args, ctx: Ctx| {
        let (http, gradio, source, upstream) = (http.clone(), gradio.clone(), source.clone(), upstream.clone());
        async move {
            let token = ctx.request().caller.bearer.clone();
            let request = UpstreamRequest::Call { tool: &upstream, arguments: &args };
            Ok(match proxy::send(&http, &gradio, target(&source), request, Some(&ctx), token.as_deref()).await {
                Ok(raw) => proxy::post_process(raw, None, ResultOptions::default(), token.as_deref()),
                Err(message) => ToolOutput::error(message),
            })
        }
    });
    Some(ProxyTool { proxy_id: s.proxy_id.clone(), name, tool: Arc::new(tool), app })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_header_comments_quotes_and_refusals() {
        let csv = "proxy_id,url,response_type\n# comment\nsearch,https://a.example/mcp,JSON\n\
                   \"q,uoted\",\"http://b.example/mcp\",sse\nsearch,https://dup.example/mcp,JSON\n\
                   bad,ftp://x/mcp,JSON\nkind,https://c.example/mcp,XML\nshort,https://d.example\n";
        let rows = parse_csv(csv);
        let ids: Vec<&str> = rows.iter().map(|r| r.proxy_id.as_str()).collect();
        assert_eq!(ids, ["search", "q,uoted"]);
        assert_eq!(rows[1].url.as_str(), "http://b.example/mcp");
    }
}
