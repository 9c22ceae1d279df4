//! The HTTP gate over a real TCP port: bearer validation through an `Authenticator`
//! (401 + `WWW-Authenticate: Bearer resource_metadata="…"` in both eras and on HTTP+SSE),
//! RFC 9728 metadata, `?login` forcing the challenge, and request rate limits (429 with
//! `Retry-After`, separate buckets for anonymous addresses and authenticated callers).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use mcp_engine::auth::{token_hash, AuthConfig, AuthRejection, Authenticator, ProtectedResource};
use mcp_engine::limits::{Rate, RateLimitConfig};
use mcp_engine::protocol::Caller;
use mcp_engine::provider::{Catalog, StaticProvider, Tool, ToolOutput};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Ctx, Engine};
use serde_json::{json, Value};

mod common;
use common::{serve_on_local_port, stateless_meta, stateless_request, test_server_info, RunningServer};

/// Accepts `good-*` tokens; counts validations.
struct TestAuth(AtomicUsize);

impl Authenticator for TestAuth {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Caller, AuthRejection>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if bearer.starts_with("good-") {
                Ok(Caller { id: Some(token_hash(bearer).into()), bearer: Some(bearer.into()) })
            } else {
                Err(AuthRejection::invalid_token("the token is not valid"))
            }
        })
    }
}

async fn start(auth: AuthConfig, limits: Option<RateLimitConfig>) -> RunningServer {
    let mut c = Catalog::new();
    c.tool(Tool::new(json!({ "name": "who" }), |_, ctx: Ctx| async move {
        Ok(ToolOutput::text(ctx.request().caller.id.as_deref().unwrap_or("anonymous").to_owned()))
    }));
    let provider = Arc::new(StaticProvider::new(c, json!({ "tools": {} })));
    let engine = Engine::builder(provider, test_server_info()).build();
    let http = HttpConfig { auth, limits, ..HttpConfig::default() };
    serve_on_local_port(engine, http, Duration::from_secs(2)).await
}

fn auth_config(counter: Arc<TestAuth>) -> AuthConfig {
    AuthConfig {
        authenticator: Some(counter),
        resource: Some(ProtectedResource {
            authorization_servers: vec!["https://hub.example".into()],
            scopes_supported: vec!["openid".into(), "profile".into()],
            resource_name: Some("test server".into()),
            resource_documentation: None,
            public_url: None,
        }),
        force_params: AuthConfig::default_force_params(),
    }
}

/// A 2026-07-28 `tools/call` of `who`, with `token` as the bearer when given.
async fn stateless(client: &reqwest::Client, url: &str, token: Option<&str>) -> reqwest::Response {
    let params = json!({ "name": "who", "arguments": {} });
    let mut r = stateless_request(client, url, 1, "tools/call", Some("who"), params, stateless_meta(json!({})));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.send().await.unwrap()
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn invalid_tokens_get_the_challenge_valid_ones_an_identity() {
    let counter = Arc::new(TestAuth(AtomicUsize::new(0)));
    let s = start(auth_config(counter.clone()), None).await;
    let client = reqwest::Client::new();
    let url = format!("{}/mcp", s.base);

    let r = stateless(&client, &url, Some("good-alice")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["content"][0]["text"], token_hash("good-alice"));

    let r = stateless(&client, &format!("{url}?bouquet=search"), Some("bad-token-123")).await;
    assert_eq!(r.status(), 401);
    let c = challenge(&r);
    let expected =
        format!("Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp?bouquet=search\"", s.base);
    assert!(c.starts_with(&expected), "{c}");
    assert!(c.contains("error=\"invalid_token\""), "{c}");
    let text = r.text().await.unwrap();
    assert!(!text.contains("bad-token-123"), "{text}");

    // Anonymous works; ?login (and ?auth) force the challenge for anonymous callers only.
    assert_eq!(stateless(&client, &url, None).await.status(), 200);
    for q in ["?login", "?auth=1", "?bouquet=all&login="] {
        let r = stateless(&client, &format!("{url}{q}"), None).await;
        assert_eq!(r.status(), 401, "{q}");
        assert!(challenge(&r).starts_with("Bearer resource_metadata=\""), "{q}");
    }
    assert_eq!(stateless(&client, &format!("{url}?login"), Some("good-alice")).await.status(), 200);

    // Session era: initialize with a bad token → 401; HTTP+SSE likewise.
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", "Bearer nope")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).contains("resource_metadata"));
    let r = client.get(format!("{}/sse", s.base)).header("authorization", "Bearer nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", "Bearer good-bob")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_some());
    assert!(counter.0.load(Ordering::SeqCst) >= 4);
    s.stop().await;
}

#[tokio::test]
async fn protected_resource_metadata_is_served() {
    let s = start(auth_config(Arc::new(TestAuth(AtomicUsize::new(0)))), None).await;
    let client = reqwest::Client::new();
    for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"] {
        let r = client.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let doc: Value = r.json().await.unwrap();
        assert_eq!(doc["resource"], format!("{}/mcp", s.base));
        assert_eq!(doc["authorization_servers"], json!(["https://hub.example"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc["scopes_supported"], json!(["openid", "profile"]));
    }
    s.stop().await;
    // Without a configured resource there is no metadata route, and ?login changes nothing.
    let s = start(AuthConfig::default(), None).await;
    let r = client.get(format!("{}/.well-known/oauth-protected-resource", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(stateless(&client, &format!("{}/mcp?login", s.base), None).await.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let limits =
        RateLimitConfig { anonymous: Rate::new(60, 3), authenticated: Rate::new(60, 5), trust_forwarded_for: false };
    let s = start(auth_config(Arc::new(TestAuth(AtomicUsize::new(0)))), Some(limits)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/mcp", s.base);
    for _ in 0..3 {
        assert_eq!(stateless(&client, &url, None).await.status(), 200);
    }
    let r = stateless(&client, &url, None).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("retry in"), "{body}");
    // An authenticated caller has its own, larger bucket.
    for _ in 0..5 {
        assert_eq!(stateless(&client, &url, Some("good-carol")).await.status(), 200);
    }
    assert_eq!(stateless(&client, &url, Some("good-carol")).await.status(), 429);
    assert_eq!(stateless(&client, &url, Some("good-dave")).await.status(), 200);
    // One request per second refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(stateless(&client, &url, None).await.status(), 200);
    s.stop().await;
}
