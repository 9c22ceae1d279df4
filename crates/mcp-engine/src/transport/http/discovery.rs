//! Pre-connection discovery: the MCP Server Card (SEP-2127) at `<endpoint>/server-card`
//! and `/.well-known/mcp/server-card.json`, and an AI Catalog listing it at
//! `/.well-known/ai-catalog.json`.
//!
//! Both are public read-only metadata: any origin may read them (`Access-Control-Allow-Origin:
//! *`), only the `Host` is checked. The card names what a client sees once connected — the
//! server's version, its transports (`remotes`, with the protocol versions each serves) —
//! so it is built from the same settings as the endpoints; the base URL comes from the
//! configured public URL or else the request's `Host`, which is why each response carries
//! an `ETag` of its own bytes and honours `If-None-Match`.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use sha2::Digest as _;

use super::guard::{GuardConfig, GuardLayer};
use crate::protocol::SESSION_VERSIONS;

pub const SERVER_CARD_SCHEMA: &str = "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json";
pub const SERVER_CARD_MEDIA_TYPE: &str = "application/mcp-server-card+json";
pub const AI_CATALOG_MEDIA_TYPE: &str = "application/ai-catalog+json";
pub const WELL_KNOWN_CARD: &str = "/.well-known/mcp/server-card.json";
pub const WELL_KNOWN_CATALOG: &str = "/.well-known/ai-catalog.json";

/// An icon of the card (`src` is an `https:` or `data:` URI).
#[derive(Debug, Clone, PartialEq)]
pub struct CardIcon {
    pub src: String,
    pub mime_type: Option<String>,
    pub sizes: Vec<String>,
}

/// What the card says about the server beyond what the transport knows.
#[derive(Debug, Clone)]
pub struct ServerCardConfig {
    /// Reverse-DNS name with one slash (`com.example/weather`).
    pub name: String,
    /// 1–100 characters.
    pub description: String,
    pub title: Option<String>,
    pub website_url: Option<String>,
    pub icons: Vec<CardIcon>,
    /// Base URL clients reach the server at (`https://mcp.example.com`); `None`: from each
    /// request's `Host` and `X-Forwarded-Proto`.
    pub public_url: Option<String>,
    /// The AI Catalog entry's identifier; `None`: `urn:air:<host>:mcp:<name after the slash>`.
    pub catalog_identifier: Option<String>,
    /// `Cache-Control: max-age` of both documents.
    pub max_age_seconds: u32,
}

impl ServerCardConfig {
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        ServerCardConfig {
            name: name.into(),
            description: description.into(),
            title: None,
            website_url: None,
            icons: Vec::new(),
            public_url: None,
            catalog_identifier: None,
            max_age_seconds: 3600,
        }
    }

    /// What the schema would refuse, said before the server starts.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = self.name.len() >= 3
            && self.name.len() <= 200
            && self.name.split('/').count() == 2
            && self.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"./-_".contains(&b))
            && !self.name.split('/').next().unwrap_or("").contains('_')
            && self.name.split('/').all(|part| !part.is_empty());
        if !name_ok {
            return Err(format!("server card name {:?} is not reverse-DNS `namespace/name`", self.name));
        }
        let chars = |s: &str| s.chars().count();
        if !(1..=100).contains(&chars(&self.description)) {
            return Err("server card description must have 1 to 100 characters".into());
        }
        if self.title.as_deref().is_some_and(|t| !(1..=100).contains(&chars(t))) {
            return Err("server card title must have 1 to 100 characters".into());
        }
        for url in self.website_url.iter().chain(self.icons.iter().map(|i| &i.src)) {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("data:")) {
                return Err(format!("server card URL {url:?} is not absolute"));
            }
        }
        Ok(())
    }
}

/// What the card's `remotes` describe: the endpoint paths and protocol versions served.
pub(crate) struct Endpoints {
    pub path: String,
    /// The HTTP+SSE transport's GET path, when served.
    pub sse_path: Option<String>,
    pub stateless_versions: &'static [&'static str],
}

struct Discovery {
    card: ServerCardConfig,
    endpoints: Endpoints,
    version: String,
}

/// The card and catalog routes, with their own guard (Host only) and CORS (any origin).
pub(crate) fn routes(card: ServerCardConfig, endpoints: Endpoints, version: String, guard: GuardConfig) -> Router {
    let card_path = format!("{}/server-card", endpoints.path.trim_end_matches('/'));
    let d = Arc::new(Discovery { card, endpoints, version });
    let serve_card = {
        let d = d.clone();
        move |req: Request| {
            let d = d.clone();
            async move { d.respond(req.method(), req.headers(), SERVER_CARD_MEDIA_TYPE, |base| d.card_json(base)) }
        }
    };
    let serve_catalog = {
        let d = d.clone();
        move |req: Request| {
            let d = d.clone();
            async move { d.respond(req.method(), req.headers(), AI_CATALOG_MEDIA_TYPE, |base| d.catalog_json(base)) }
        }
    };
    let card_route = get(serve_card.clone()).options(serve_card.clone());
    Router::new()
        .route(&card_path, card_route.clone())
        .route(WELL_KNOWN_CARD, card_route)
        .route(WELL_KNOWN_CATALOG, get(serve_catalog.clone()).options(serve_catalog))
        .layer(GuardLayer::hosts_only(guard))
}

impl Discovery {
    fn base(&self, headers: &HeaderMap) -> String {
        crate::auth::base_url(self.card.public_url.as_deref(), headers)
    }

    /// The Server Card for clients reaching us at `base`.
    fn card_json(&self, base: &str) -> Value {
        let c = &self.card;
        let mut card = json!({
            "$schema": SERVER_CARD_SCHEMA,
            "name": c.name,
            "version": self.version,
            "description": c.description,
        });
        let o = card.as_object_mut().expect("object");
        if let Some(t) = &c.title {
            o.insert("title".into(), t.as_str().into());
        }
        if let Some(w) = &c.website_url {
            o.insert("websiteUrl".into(), w.as_str().into());
        }
        if !c.icons.is_empty() {
            let icons = c.icons.iter().map(|i| {
                let mut icon = json!({ "src": i.src });
                if let Some(m) = &i.mime_type {
                    icon["mimeType"] = m.as_str().into();
                }
                if !i.sizes.is_empty() {
                    icon["sizes"] = json!(i.sizes);
                }
                icon
            });
            o.insert("icons".into(), Value::Array(icons.collect()));
        }
        let e = &self.endpoints;
        let all: Vec<&str> = e.stateless_versions.iter().chain(SESSION_VERSIONS).copied().collect();
        let mut remotes = vec![
            json!({ "type": "streamable-http", "url": format!("{base}{}", e.path), "supportedProtocolVersions": all }),
        ];
        if let Some(sse) = &e.sse_path {
            remotes.push(
                json!({ "type": "sse", "url": format!("{base}{sse}"), "supportedProtocolVersions": SESSION_VERSIONS }),
            );
        }
        o.insert("remotes".into(), Value::Array(remotes));
        card
    }

    /// The AI Catalog: one entry, this server's card by URL.
    fn catalog_json(&self, base: &str) -> Value {
        let short = self.card.name.rsplit('/').next().unwrap_or(&self.card.name);
        let host = base.split_once("://").map_or(base, |(_, h)| h);
        let host =
            host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        let identifier = self.card.catalog_identifier.clone().unwrap_or_else(|| format!("urn:air:{host}:mcp:{short}"));
        json!({
            "specVersion": "1.0",
            "entries": [{
                "identifier": identifier,
                "type": SERVER_CARD_MEDIA_TYPE,
                "url": format!("{base}{}/server-card", self.endpoints.path.trim_end_matches('/')),
            }]
        })
    }

    /// GET (with `If-None-Match`) or a CORS preflight, for a document built for this
    /// request's base URL.
    fn respond(
        &self,
        method: &Method,
        headers: &HeaderMap,
        media: &'static str,
        build: impl Fn(&str) -> Value,
    ) -> Response {
        if method == Method::OPTIONS {
            let mut r = StatusCode::NO_CONTENT.into_response();
            public_cors(r.headers_mut());
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type, If-None-Match"));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
            return r;
        }
        let body = serde_json::to_vec(&build(&self.base(headers))).expect("json");
        let etag =
            format!("\"{}\"", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&body)));
        let fresh =
            headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|list| {
                list.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
            });
        let mut r =
            if fresh { StatusCode::NOT_MODIFIED.into_response() } else { (StatusCode::OK, body).into_response() };
        let h = r.headers_mut();
        if !fresh {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        }
        h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("base64 is a valid header"));
        let cache = format!("public, max-age={}", self.card.max_age_seconds);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_str(&cache).expect("ascii"));
        // Without a configured public URL the body names the request's host and scheme.
        h.insert(header::VARY, HeaderValue::from_static("X-Forwarded-Proto"));
        public_cors(h);
        r
    }
}

/// The CORS headers of a document every origin may read.
fn public_cors(h: &mut HeaderMap) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_schema_would_refuse_are_refused_at_start() {
        assert!(ServerCardConfig::new("com.example/weather", "Weather.").validate().is_ok());
        assert!(ServerCardConfig::new("huggingface.co/mcp", "Hub.").validate().is_ok());
        assert!(ServerCardConfig::new("hubmcp", "no slash").validate().is_err());
        assert!(ServerCardConfig::new("a/b/c", "two slashes").validate().is_err());
        assert!(ServerCardConfig::new("com.example/x", "").validate().is_err());
        assert!(ServerCardConfig::new("com.example/x", "d".repeat(101)).validate().is_err());
    }
}
