//! A page for people who open the endpoint in a browser: a `GET` that asks for HTML (and
//! neither SSE nor JSON, as MCP clients do) gets a short page saying how to connect,
//! instead of a bare 405; `/` redirects to the endpoint. The integration supplies its own
//! introduction (`intro_html`); the rest — the endpoint URL and client configurations —
//! is generic.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};

#[derive(Debug, Clone, Default)]
pub struct WelcomeConfig {
    /// HTML shown under the title (trusted: written by the integration, not by callers).
    pub intro_html: Option<String>,
}

/// Does this GET come from a browser tab rather than an MCP client?
pub(crate) fn is_browser(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    accept.contains("text/html") && !accept.contains("text/event-stream") && !accept.contains("application/json")
}

/// The page for a server titled `title` whose endpoint is `endpoint_url`.
pub(crate) fn page(config: &WelcomeConfig, title: &str, endpoint_url: &str) -> Response {
    let title = escape(title);
    let url = escape(endpoint_url);
    let intro = config.intro_html.as_deref().unwrap_or("<p>A Model Context Protocol (MCP) server.</p>");
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
pre{{background:#f4f4f5;padding:.6rem;overflow-x:auto}}code{{font-size:.9em}}</style></head>
<body><h1>{title}</h1>
{intro}
<p>This address is an MCP endpoint: add it to an MCP client rather than opening it in a browser.</p>
<p><code id="endpoint">{url}</code></p>
<h2>Connect</h2>
<p>VS Code (<code>.vscode/mcp.json</code>):</p>
<pre>{{ "servers": {{ "mcp": {{ "type": "http", "url": "{url}" }} }} }}</pre>
<p>Cursor (<code>~/.cursor/mcp.json</code>):</p>
<pre>{{ "mcpServers": {{ "mcp": {{ "url": "{url}" }} }} }}</pre>
<p>Claude Code: <code>claude mcp add --transport http mcp {url}</code></p>
<p>Clients that only speak stdio: <code>npx -y mcp-remote {url}</code></p>
<p>Server card: <a href="{url}/server-card">{url}/server-card</a></p>
</body></html>
"#
    );
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_told_apart_from_clients() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, accept.parse().unwrap());
            is_browser(&h)
        };
        assert!(with("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        assert!(!with("text/event-stream"));
        assert!(!with("application/json, text/event-stream"));
        assert!(!with("*/*"));
        assert!(!is_browser(&HeaderMap::new()));
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
