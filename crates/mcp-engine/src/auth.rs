//! Authentication for the HTTP transports: how a request's bearer credential becomes a
//! [`Caller`], and how a server tells clients where to get one (OAuth 2.0 Protected
//! Resource Metadata, RFC 9728, as the MCP authorization specification requires).
//!
//! The engine knows no identity provider. An integration supplies an [`Authenticator`]
//! that validates a bearer token (typically against its identity service, with a cache);
//! the transports call it for every HTTP request that carries `Authorization: Bearer …`
//! and answer a rejection with `401` and
//! `WWW-Authenticate: Bearer resource_metadata="…/.well-known/oauth-protected-resource/mcp"`.
//! Without an authenticator a bearer is accepted as is and identified by its hash (the
//! engine's historical behaviour; integrations forward it upstream, which validates it).
//!
//! Anonymous requests are served unless the URL carries one of the force parameters
//! (`?login`, `?auth`, `?forceauth`), which turns them into the same 401 challenge so
//! that clients start their OAuth flow.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use sha2::Digest;

use crate::protocol::Caller;
use futures_util::future::BoxFuture;

/// Why a credential was not accepted. The description is shown to the client: it must
/// never contain the credential.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRejection {
    /// 401 for a missing/invalid/expired credential, 403 for insufficient rights, 503
    /// when validation itself is unavailable and the integration chooses to fail closed.
    pub status: StatusCode,
    /// RFC 6750 error code (`invalid_token`, `insufficient_scope`), if any.
    pub error: Option<&'static str>,
    pub description: String,
    /// For 503: when to retry.
    pub retry_after: Option<Duration>,
}

impl AuthRejection {
    pub fn invalid_token(description: impl Into<String>) -> Self {
        AuthRejection {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: description.into(),
            retry_after: None,
        }
    }
    pub fn unavailable(description: impl Into<String>, retry_after: Duration) -> Self {
        AuthRejection {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: None,
            description: description.into(),
            retry_after: Some(retry_after),
        }
    }
}

/// Turns a bearer credential into a caller identity, or rejects it.
pub trait Authenticator: Send + Sync + 'static {
    /// Called only when the request carries a non-empty bearer token. The returned
    /// caller's `id` must be stable for the credential and non-secret (e.g. a hash);
    /// `bearer` is what integrations may forward upstream.
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Caller, AuthRejection>>;
}

/// What the server publishes about itself as an OAuth protected resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedResource {
    /// Authorization servers (issuer URLs) clients obtain tokens from.
    pub authorization_servers: Vec<String>,
    /// `scopes_supported` in the metadata (omitted when empty).
    pub scopes_supported: Vec<String>,
    pub resource_name: Option<String>,
    pub resource_documentation: Option<String>,
    /// The public base URL of this server (scheme + host, e.g. `https://mcp.example.com`).
    /// When unset it is derived from each request's `Host` (and `X-Forwarded-Proto`).
    pub public_url: Option<String>,
}

/// Authentication settings of the HTTP transports.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// Validates bearer tokens; `None` accepts any bearer as is (identified by its hash).
    pub authenticator: Option<Arc<dyn Authenticator>>,
    /// Served at `/.well-known/oauth-protected-resource` and
    /// `/.well-known/oauth-protected-resource<path>`, and named in 401 challenges.
    pub resource: Option<ProtectedResource>,
    /// Query parameters that force the 401 challenge for anonymous requests.
    pub force_params: Vec<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("authenticator", &self.authenticator.as_ref().map(|_| "…"))
            .field("resource", &self.resource)
            .field("force_params", &self.force_params)
            .finish()
    }
}

impl AuthConfig {
    /// Query parameters that ask for the authentication challenge (`?login`), as hosted
    /// MCP servers commonly accept them.
    pub fn default_force_params() -> Vec<String> {
        vec!["login".into(), "auth".into(), "forceauth".into()]
    }
}

/// The non-secret identity of a bearer token: the first 128 bits of its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The bearer token of an `Authorization` header (`Bearer` scheme, any case), if any.
pub fn bearer_of(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(rest.trim()).filter(|t| !t.is_empty())
}

/// A caller identified by the hash of its bearer, without validation.
pub fn unvalidated_caller(bearer: Option<&str>) -> Caller {
    match bearer {
        None => Caller::anonymous(),
        Some(t) => Caller { id: Some(token_hash(t).into()), bearer: Some(t.into()) },
    }
}

/// Does the query string carry one of `params` (with or without a value)?
pub fn forces_auth(query: Option<&str>, params: &[String]) -> bool {
    let Some(q) = query else { return false };
    q.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        params.iter().any(|p| p == key)
    })
}

/// The base URL clients reach this server at.
pub fn public_base(resource: &ProtectedResource, headers: &HeaderMap) -> String {
    base_url(resource.public_url.as_deref(), headers)
}

/// The configured public base URL, or else the one the request names (`Host`, and
/// `X-Forwarded-Proto` when it says `http` or `https`).
pub fn base_url(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(u) = public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|p| p.split(',').next().unwrap_or("http").trim())
        .filter(|p| *p == "http" || *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// The metadata URL for the MCP endpoint at `path`, carrying the request's query (so a
/// client that re-connects after authorizing keeps its tool selection parameters).
pub fn metadata_url(base: &str, path: &str, query: Option<&str>) -> String {
    let mut u = format!("{base}/.well-known/oauth-protected-resource{path}");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        u.push('?');
        u.push_str(q);
    }
    u
}

/// The `WWW-Authenticate` value of a challenge.
pub fn challenge(metadata_url: &str, rejection: Option<&AuthRejection>) -> String {
    let quote = |s: &str| s.replace(['"', '\\'], "");
    let mut v = format!("Bearer resource_metadata=\"{}\"", quote(metadata_url));
    if let Some(r) = rejection {
        if let Some(e) = r.error {
            v.push_str(&format!(", error=\"{e}\""));
        }
        if !r.description.is_empty() {
            let d: String = r.description.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).collect();
            v.push_str(&format!(", error_description=\"{}\"", quote(&d)));
        }
    }
    v
}

/// The RFC 9728 metadata document for the resource at `base` + `path`.
pub fn metadata_document(resource: &ProtectedResource, base: &str, path: &str) -> Value {
    let mut doc = json!({
        "resource": format!("{base}{path}"),
        "authorization_servers": resource.authorization_servers,
        "bearer_methods_supported": ["header"],
    });
    if !resource.scopes_supported.is_empty() {
        doc["scopes_supported"] = json!(resource.scopes_supported);
    }
    if let Some(n) = &resource.resource_name {
        doc["resource_name"] = json!(n);
    }
    if let Some(d) = &resource.resource_documentation {
        doc["resource_documentation"] = json!(d);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_is_a_hash_never_the_token() {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, "Bearer hf_secret_token".parse().unwrap());
        let c = unvalidated_caller(bearer_of(&h));
        assert!(!c.id.as_deref().unwrap().contains("hf_secret"));
        assert_eq!(c.bearer.as_deref(), Some("hf_secret_token"));
        assert!(unvalidated_caller(bearer_of(&HeaderMap::new())).id.is_none());
    }

    #[test]
    fn bearer_parsing_and_hash() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_of(&h), None);
        h.insert(http::header::AUTHORIZATION, "bearer  hf_abc ".parse().unwrap());
        assert_eq!(bearer_of(&h), Some("hf_abc"));
        h.insert(http::header::AUTHORIZATION, "Basic xyz".parse().unwrap());
        assert_eq!(bearer_of(&h), None);
        h.insert(http::header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_of(&h), None);
        let c = unvalidated_caller(Some("hf_secret"));
        assert_eq!(c.id.as_deref().unwrap().len(), 32);
        assert!(!c.id.as_deref().unwrap().contains("secret"));
    }

    #[test]
    fn force_params_and_challenge() {
        let p = AuthConfig::default_force_params();
        assert!(forces_auth(Some("login"), &p));
        assert!(forces_auth(Some("bouquet=search&auth=1"), &p));
        assert!(!forces_auth(Some("loginx=1&bouquet=search"), &p));
        assert!(!forces_auth(None, &p));
        let url = metadata_url("https://x.example", "/mcp", Some("bouquet=search"));
        assert_eq!(url, "https://x.example/.well-known/oauth-protected-resource/mcp?bouquet=search");
        let r = AuthRejection::invalid_token("The token is \"invalid\"");
        assert_eq!(
            challenge(&url, Some(&r)),
            "Bearer resource_metadata=\"https://x.example/.well-known/oauth-protected-resource/mcp?bouquet=search\", \
             error=\"invalid_token\", error_description=\"The token is invalid\""
        );
    }

    #[test]
    fn metadata_names_the_authorization_server() {
        let r = ProtectedResource {
            authorization_servers: vec!["https://auth.example.com".into()],
            scopes_supported: vec!["openid".into()],
            resource_name: Some("example".into()),
            resource_documentation: None,
            public_url: None,
        };
        let mut h = HeaderMap::new();
        h.insert(http::header::HOST, "127.0.0.1:3000".parse().unwrap());
        let base = public_base(&r, &h);
        assert_eq!(base, "http://127.0.0.1:3000");
        let d = metadata_document(&r, &base, "/mcp");
        assert_eq!(d["resource"], "http://127.0.0.1:3000/mcp");
        assert_eq!(d["authorization_servers"][0], "https://auth.example.com");
        assert_eq!(d["scopes_supported"][0], "openid");
    }
}
