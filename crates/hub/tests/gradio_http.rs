//! Per-user tool selection, Gradio Spaces as proxied tools, `dynamic_space`, authentication
//! and quotas — through the full server over real TCP ports, against the Hub stand-in and
//! the Spaces stand-in (Gradio-like MCP servers on `*.hf.space`, resolved to loopback and
//! allowed by configuration).

mod common;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use common::{client_config, serve, server_info, session_post, text, Served, Sse};
use futures_util::future::BoxFuture;
use hub_standin::spaces::{spawn_spaces, SpaceMode, SpacesConfig, SpacesStandIn};
use hub_standin::{spawn, tokens, StandIn, StandInConfig};
use hubmcp_hub::auth::{WhoamiAuthenticator, WhoamiConfig};
use hubmcp_hub::gradio::net::{AllowedAddresses, SpaceNetwork};
use hubmcp_hub::gradio::GradioConfig;
use hubmcp_hub::selection::SelectionConfig;
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::auth::{AuthConfig, ProtectedResource};
use mcp_engine::limits::{Budget, Decision, Rate, SharedLimits, Spend};
use mcp_engine::notify::{InMemoryBus, NotificationBus};
use mcp_engine::store::StoreError;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

const KONTEXT: &str = "black-forest-labs/FLUX.1-Kontext-Dev";
const KONTEXT_SUB: &str = "black-forest-labs-flux-1-kontext-dev";
const OMNI: &str = "microsoft/OmniParser-v2";
const SCHNELL: &str = "evalstate/flux1_schnell";
const SCHNELL_SUB: &str = "evalstate-flux1-schnell";
const PRIVATE_TTS: &str = "standin-org/private-tts";
const BROKEN: &str = "standin-org/broken-mcp-demo";

struct Opts {
    gradio: GradioConfig,
    selection: SelectionConfig,
    settings_api: bool,
}

/// Defaults, with loopback allowed (the Spaces stand-in runs on 127.0.0.1).
fn opts() -> Opts {
    let mut gradio = GradioConfig::default();
    gradio.network.allow = AllowedAddresses { loopback: true, ..Default::default() };
    Opts { gradio, selection: SelectionConfig::default(), settings_api: true }
}

/// The Hub toolset with Gradio Spaces and whoami authentication, served over HTTP against
/// the Hub and Spaces stand-ins.
struct H {
    hub: StandIn,
    spaces: SpacesStandIn,
    server: Served,
}

impl Deref for H {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.server
    }
}

impl H {
    async fn start() -> H {
        H::with(opts()).await
    }

    async fn with(o: Opts) -> H {
        let hub = spawn(StandInConfig::default()).await;
        let spaces = spawn_spaces(SpacesConfig::default()).await;
        let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
        let mut gradio = o.gradio;
        gradio.network = SpaceNetwork {
            scheme: "http".into(),
            domain: "hf.space".into(),
            port: Some(spaces.port()),
            resolve: gradio.network.resolve.or(Some("127.0.0.1".parse().unwrap())),
            allow: gradio.network.allow,
            internal_hosts: gradio.network.internal_hosts.clone(),
        };
        let mut selection = o.selection;
        if o.settings_api {
            selection.user_config_api = Some(url::Url::parse(&hub.url("/api/settings/mcp")).unwrap());
        }
        let bus: Arc<dyn NotificationBus> = Arc::new(InMemoryBus::default());
        let options =
            HubOptions { selection, gradio, bus: Some(bus.clone()), telemetry: None, ..HubOptions::default() };
        let provider = Arc::new(HubProvider::with_options(client.clone(), options));
        let tasks = Arc::new(mcp_engine::store::MemoryTaskStore::new(100));
        let engine = Engine::builder(provider, server_info()).bus(bus).tasks(tasks, Default::default()).build();
        let auth = AuthConfig {
            authenticator: Some(Arc::new(WhoamiAuthenticator::new(client, WhoamiConfig::default()))),
            resource: Some(ProtectedResource {
                authorization_servers: vec![hub.base_url.clone()],
                scopes_supported: vec!["openid".into(), "profile".into()],
                resource_name: Some("hubmcp".into()),
                resource_documentation: None,
                public_url: None,
            }),
            force_params: AuthConfig::default_force_params(),
        };
        let server = serve(engine, HttpConfig { auth, ..HttpConfig::default() }).await;
        H { hub, spaces, server }
    }

    async fn stop(self) {
        self.server.stop().await;
    }

    async fn rpc(&self, query: &str, method: &str, params: Value, token: Option<&str>) -> Value {
        self.rpc_full(query, method, params, token, json!({})).await.1
    }

    async fn tools(&self, query: &str, token: Option<&str>) -> Vec<String> {
        let r = self.rpc(query, "tools/list", json!({}), token).await;
        r["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn list(&self, query: &str, token: Option<&str>) -> Vec<Value> {
        let r = self.rpc(query, "tools/list", json!({}), token).await;
        r["result"]["tools"].as_array().unwrap().clone()
    }

    async fn call(&self, query: &str, tool: &str, args: Value, token: Option<&str>) -> Value {
        self.call_at(query, tool, args, token).await
    }
}

fn gradio_tools(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).filter(|n| n.starts_with("gr")).collect()
}

const BUILTINS_AUTH: [&str; 5] = ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami", "dynamic_space"];
const BUILTINS_ANON: [&str; 4] = ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami"];

#[tokio::test]
async fn anonymous_and_authenticated_lists() {
    let h = H::start().await;
    assert_eq!(h.tools("", None).await, BUILTINS_ANON);
    assert_eq!(h.tools("", Some(tokens::BOB_READ)).await, BUILTINS_AUTH);
    h.hub.set_user_settings(
        "alice",
        json!({ "builtInTools": ["hub_repo_search", "dynamic_space"],
                "spaceTools": [{ "name": KONTEXT, "subdomain": KONTEXT_SUB, "emoji": "⚡" }, { "name": OMNI }] }),
    );
    let tools = h.list("", Some(tokens::ALICE_WRITE)).await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // The settings' built-ins (plus hf_fs and hf_whoami), then each Space's tools in order;
    // Gradio's anonymous `lambda` endpoints are proxied too (only `<lambda` names are dropped).
    assert_eq!(
        names,
        [
            "hf_fs",
            "hub_repo_search",
            "hf_whoami",
            "dynamic_space",
            "gr1_flux_1_kontext_dev_infer",
            "gr1_flux_1_kontext_dev__lambda_",
            "gr2_omniparser_v2_process"
        ]
    );
    let kontext = &tools[4];
    assert!(kontext["title"].as_str().unwrap().starts_with(KONTEXT), "{kontext}");
    assert!(kontext["description"].as_str().unwrap().ends_with(&format!("(from {KONTEXT})")));
    assert_eq!(kontext["inputSchema"]["properties"]["prompt"]["type"], "string");
    assert!(names.iter().all(|n| n.len() <= 49));
    // The older object-form schema works, anonymously too.
    let names = h.tools(&format!("?gradio={SCHNELL}"), None).await;
    assert_eq!(gradio_tools(&names), ["gr1_evalstate_flux1_schnellinfer"]);
    // A broken Space (schema 503) and an unknown one are skipped; the others keep their positions.
    let names = h.tools(&format!("?gradio={BROKEN},nobody/none,{SCHNELL}"), None).await;
    assert_eq!(gradio_tools(&names), ["gr3_evalstate_flux1_schnellinfer"]);
    h.stop().await;
}

#[tokio::test]
async fn selection_precedence() {
    let h = H::start().await;
    let alice = Some(tokens::ALICE_WRITE);
    h.hub.set_user_settings("alice", json!({ "builtInTools": ["hub_repo_details"], "spaceTools": [{ "name": OMNI }] }));
    // Settings.
    let names = h.tools("", alice).await;
    assert_eq!(names, ["hf_fs", "hub_repo_details", "hf_whoami", "gr1_omniparser_v2_process"]);
    // A bouquet replaces them (no settings Spaces either) …
    assert_eq!(h.tools("?bouquet=search", alice).await, ["hf_fs", "hub_repo_search", "hf_whoami"]);
    // … except Spaces named explicitly.
    let names = h.tools(&format!("?bouquet=search&gradio={SCHNELL}"), alice).await;
    assert_eq!(names, ["hf_fs", "hub_repo_search", "hf_whoami", "gr1_evalstate_flux1_schnellinfer"]);
    // The header works like the query parameter; the query wins.
    let r = h
        .http
        .post(&h.url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .header("x-mcp-bouquet", "dynamic_space")
        .header("authorization", format!("Bearer {}", tokens::ALICE_WRITE))
        .body(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } }).to_string())
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let names: Vec<&str> =
        v["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hf_fs", "hf_whoami", "dynamic_space"]);
    // mix adds to the settings; gradio adds Spaces before the settings' ones; none removes all.
    let names = h.tools(&format!("?mix=search,dynamic_space&gradio={SCHNELL}"), alice).await;
    assert_eq!(
        names,
        [
            "hf_fs",
            "hub_repo_search",
            "hub_repo_details",
            "hf_whoami",
            "dynamic_space",
            "gr1_evalstate_flux1_schnellinfer",
            "gr2_omniparser_v2_process"
        ]
    );
    assert_eq!(h.tools("?gradio=none", alice).await, ["hf_fs", "hub_repo_details", "hf_whoami"]);
    // Anonymous callers: the anonymous set, whatever they ask for; no settings are fetched.
    assert_eq!(h.tools("?bouquet=all", None).await, BUILTINS_ANON);
    assert_eq!(h.tools("?mix=dynamic_space", None).await, BUILTINS_ANON);
    assert!(h.hub.requests_to("/api/settings/mcp").iter().all(|r| r.bearer_token() == Some(tokens::ALICE_WRITE)));
    // The settings API failing falls back to the anonymous set.
    h.hub.inject(hub_standin::FaultRule::server_error("/api/settings/mcp", 500, 10));
    assert_eq!(h.tools("", Some(tokens::BOB_READ)).await, BUILTINS_ANON);
    h.stop().await;
}

#[tokio::test]
async fn disabled_tools_are_hidden_and_rejected() {
    let mut o = opts();
    o.selection.disabled = ["hub_repo_details".to_owned(), "gr1_evalstate_flux1_schnellinfer".to_owned()].into();
    let h = H::with(o).await;
    let names = h.tools(&format!("?gradio={SCHNELL},{OMNI}"), None).await;
    assert_eq!(names, ["hf_fs", "hub_repo_search", "hf_whoami", "gr2_omniparser_v2_process"]);
    for tool in ["hub_repo_details", "gr1_evalstate_flux1_schnellinfer"] {
        let r =
            h.rpc(&format!("?gradio={SCHNELL}"), "tools/call", json!({ "name": tool, "arguments": {} }), None).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
    }
    assert!(h.spaces.requests().iter().all(|r| r.rpc_method.is_none()), "no call reached a Space");
    h.stop().await;
}

#[tokio::test]
async fn proxied_call_relays_progress_forwards_the_token_and_passes_content_through() {
    let h = H::start().await;
    let q = format!("?gradio={KONTEXT}");
    let params = json!({ "name": "gr1_flux_1_kontext_dev_infer", "arguments": { "prompt": "add a hat", "steps": 4 },
                         "_meta": { "progressToken": "p1" } });
    let (notes, resp) = h.rpc_full(&q, "tools/call", params, Some(tokens::ALICE_WRITE), json!({})).await;
    let result = &resp["result"];
    assert!(result.get("isError").is_none(), "{resp}");
    // Three upstream progress events, relayed on the caller's request stream with its token.
    let progress: Vec<&Value> = notes.iter().filter(|n| n["method"] == "notifications/progress").collect();
    assert_eq!(progress.len(), 3, "{notes:?}");
    assert!(progress.iter().all(|p| p["params"]["progressToken"] == "p1"));
    assert_eq!(progress[2]["params"]["progress"], 3.0);
    assert_eq!(progress[2]["params"]["total"], 3.0);
    // Image content passes through; file URLs point at the replica that produced them.
    assert_eq!(result["content"][0]["type"], "image");
    assert_eq!(result["content"][0]["mimeType"], "image/png");
    let t = text(result);
    assert!(t.contains(&format!("https://{KONTEXT_SUB}.hf.space/--replicas/r7k2p/gradio_api/file=")), "{t}");
    assert!(t.contains("\"prompt\":\"add a hat\""), "{t}");
    assert!(!t.contains(tokens::ALICE_WRITE));
    // Upstream: initialize, initialized, tools/call, all with the caller's token as
    // X-HF-Authorization and never as Authorization; the replica is sent back after initialize.
    // The session is kept for the caller's next call (no DELETE).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mcp_requests = |h: &H| -> Vec<hub_standin::spaces::SpaceRequest> {
        h.spaces.requests_to(KONTEXT_SUB).into_iter().filter(|r| r.path == "/gradio_api/mcp/").collect()
    };
    let methods = |m: &[hub_standin::spaces::SpaceRequest]| -> Vec<String> {
        m.iter().map(|r| r.rpc_method.clone().unwrap_or_else(|| r.method.clone())).collect()
    };
    let mcp = mcp_requests(&h);
    assert_eq!(methods(&mcp), ["initialize", "notifications/initialized", "tools/call"]);
    assert!(mcp.iter().all(|r| r.forwarded_token() == Some(tokens::ALICE_WRITE)), "{mcp:?}");
    assert!(mcp.iter().all(|r| r.authorization.is_none()));
    assert!(mcp[1..].iter().all(|r| r.proxied_replica.as_deref() == Some("black-r7k2p")), "{mcp:?}");
    assert!(mcp[1..].iter().all(|r| r.mcp_session_id.is_some()));
    let alice_session = mcp[2].mcp_session_id.clone();
    // The same caller's next call reuses the session: one request.
    h.spaces.clear_requests();
    let r = h.call(&q, "gr1_flux_1_kontext_dev_infer", json!({ "prompt": "again" }), Some(tokens::ALICE_WRITE)).await;
    assert!(r.get("isError").is_none(), "{r}");
    let mcp = mcp_requests(&h);
    assert_eq!(methods(&mcp), ["tools/call"]);
    assert_eq!(mcp[0].mcp_session_id, alice_session);
    // Another token never gets that session.
    h.spaces.clear_requests();
    let r = h.call(&q, "gr1_flux_1_kontext_dev_infer", json!({ "prompt": "b" }), Some(tokens::BOB_READ)).await;
    assert!(r.get("isError").is_none(), "{r}");
    let mcp = mcp_requests(&h);
    assert_eq!(methods(&mcp), ["initialize", "notifications/initialized", "tools/call"]);
    assert!(mcp[1..].iter().all(|r| r.mcp_session_id.is_some() && r.mcp_session_id != alice_session), "{mcp:?}");
    assert!(mcp.iter().all(|r| r.forwarded_token() == Some(tokens::BOB_READ)));
    // Anonymous callers forward no token, and their sessions are not kept (DELETE).
    h.spaces.clear_requests();
    let r = h.call(&q, "gr1_flux_1_kontext_dev_infer", json!({ "prompt": "x" }), None).await;
    assert!(r.get("isError").is_none(), "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(h.spaces.requests().iter().all(|r| r.x_hf_authorization.is_none()));
    assert_eq!(methods(&mcp_requests(&h)), ["initialize", "notifications/initialized", "tools/call", "DELETE"]);
    // ?no_image_content=true drops images.
    let r = h.call(&format!("{q}&no_image_content=true"), "gr1_flux_1_kontext_dev_infer", json!({}), None).await;
    assert!(r["content"].as_array().unwrap().iter().all(|c| c["type"] != "image"), "{r}");
    h.stop().await;
}

#[tokio::test]
async fn private_spaces_need_access_and_are_never_cached() {
    let h = H::start().await;
    let q = format!("?gradio={PRIVATE_TTS}");
    // carol belongs to standin-org: grp-prefixed tool, audio passes through.
    let names = h.tools(&q, Some(tokens::CAROL_FINEGRAINED)).await;
    assert_eq!(gradio_tools(&names), ["grp1_private_tts_speak"]);
    let r = h.call(&q, "grp1_private_tts_speak", json!({ "text": "hello" }), Some(tokens::CAROL_FINEGRAINED)).await;
    assert!(r.get("isError").is_none(), "{r}");
    assert_eq!(r["content"][0]["type"], "audio");
    assert_eq!(r["content"][0]["mimeType"], "audio/wav");
    // bob cannot see it, anonymous callers neither.
    assert!(gradio_tools(&h.tools(&q, Some(tokens::BOB_READ)).await).is_empty());
    assert!(gradio_tools(&h.tools(&q, None).await).is_empty());
    // Every listing fetched metadata and schema again (with carol's token).
    let schema_fetches =
        h.spaces.requests_to("standin-org-private-tts").iter().filter(|r| r.path.ends_with("/schema")).count();
    h.tools(&q, Some(tokens::CAROL_FINEGRAINED)).await;
    let after = h.spaces.requests_to("standin-org-private-tts");
    let schema: Vec<_> = after.iter().filter(|r| r.path.ends_with("/schema")).collect();
    assert_eq!(schema.len(), schema_fetches + 1);
    assert!(schema.iter().all(|r| r.forwarded_token() == Some(tokens::CAROL_FINEGRAINED) && r.if_none_match.is_none()));
    h.stop().await;
}

#[tokio::test]
async fn space_caches_expire_and_revalidate_with_etags() {
    let mut o = opts();
    o.gradio.metadata_ttl = Duration::from_millis(300);
    o.gradio.schema_ttl = Duration::from_millis(300);
    let h = H::with(o).await;
    let q = format!("?gradio={SCHNELL}");
    let schema_requests = |h: &H| -> Vec<hub_standin::spaces::SpaceRequest> {
        h.spaces.requests_to(SCHNELL_SUB).into_iter().filter(|r| r.path.ends_with("/schema")).collect()
    };
    let meta_requests = |h: &H| h.hub.requests_to("/api/spaces/evalstate/flux1_schnell");
    h.tools(&q, None).await;
    h.tools(&q, None).await;
    assert_eq!(schema_requests(&h).len(), 1, "second listing served from cache");
    assert_eq!(meta_requests(&h).len(), 1);
    // Stale: revalidated with If-None-Match, answered 304, entries kept.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let names = h.tools(&q, None).await;
    assert_eq!(gradio_tools(&names), ["gr1_evalstate_flux1_schnellinfer"]);
    let s = schema_requests(&h);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].if_none_match.as_deref(), Some("\"evalstate-flux1-schnell-v1\""));
    assert_eq!(s[1].status, 304);
    let m = meta_requests(&h);
    assert_eq!(m.len(), 2);
    assert!(m[1].if_none_match.is_some(), "{m:?}");
    // A changed schema is picked up after the TTL.
    h.spaces.bump_schema(SCHNELL_SUB);
    let tools = h.list(&q, None).await;
    assert!(tools.last().unwrap()["inputSchema"]["properties"].get("revision_2").is_none(), "still cached");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let tools = h.list(&q, None).await;
    assert!(tools.last().unwrap()["inputSchema"]["properties"].get("revision_2").is_some());
    assert_eq!(schema_requests(&h).last().unwrap().status, 200);
    h.stop().await;
}

#[tokio::test]
async fn a_refused_pooled_session_falls_back_to_a_fresh_handshake() {
    let h = H::start().await;
    let q = format!("?gradio={KONTEXT}");
    let tool = "gr1_flux_1_kontext_dev_infer";
    let alice = Some(tokens::ALICE_WRITE);
    assert!(h.call(&q, tool, json!({}), alice).await.get("isError").is_none());
    // The Space now answers 404 to tools/call (as for a session it forgot): the pooled session
    // is dropped, a new handshake runs, and the call is tried once more on the new session.
    h.spaces.clear_requests();
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::HttpError(404));
    let r = h.call(&q, tool, json!({}), alice).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(text(&r).contains("HTTP 404"), "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mcp: Vec<_> = h.spaces.requests_to(KONTEXT_SUB).into_iter().filter(|r| r.path == "/gradio_api/mcp/").collect();
    let methods: Vec<_> = mcp.iter().map(|r| r.rpc_method.clone().unwrap_or_else(|| r.method.clone())).collect();
    assert_eq!(methods, ["tools/call", "initialize", "notifications/initialized", "tools/call", "DELETE"], "{mcp:?}");
    assert_ne!(mcp[0].mcp_session_id, mcp[3].mcp_session_id, "a new session for the retry");
    // Once the Space is healthy again, calls work (on a fresh session: the failed one was closed).
    h.spaces.reset_modes();
    assert!(h.call(&q, tool, json!({}), alice).await.get("isError").is_none());
    h.stop().await;
}

#[tokio::test]
async fn slow_and_failing_upstreams_become_error_results() {
    let mut o = opts();
    o.gradio.call_timeout = Duration::from_millis(400);
    let h = H::with(o).await;
    let q = format!("?gradio={KONTEXT}");
    let tool = "gr1_flux_1_kontext_dev_infer";
    // Progress (asked for by the caller) keeps a long call alive: 6 steps of 200 ms (1.2 s >
    // the 400 ms timeout).
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::Normal { steps: 6, interval: Duration::from_millis(200) });
    let params = json!({ "name": tool, "arguments": {}, "_meta": { "progressToken": "keepalive" } });
    let r = h.rpc(&q, "tools/call", params, None).await;
    assert!(r["result"].get("isError").is_none(), "{r}");
    // Without progress asked, none comes, and the same silence is abandoned.
    let r = h.call(&q, tool, json!({}), None).await;
    assert_eq!(r["isError"], true, "{r}");
    // Silence past the timeout is abandoned.
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::Silent { delay: Duration::from_secs(3) });
    let started = std::time::Instant::now();
    let r = h.call(&q, tool, json!({}), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("neither a result nor progress"), "{r}");
    assert!(started.elapsed() < Duration::from_secs(2));
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::ToolError);
    let r = h.call(&q, tool, json!({}), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("CUDA out of memory"), "{r}");
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::HttpError(502));
    let r = h.call(&q, tool, json!({}), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("HTTP 502"), "{r}");
    h.spaces.set_mode(KONTEXT_SUB, SpaceMode::Disconnect);
    let r = h.call(&q, tool, json!({}), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("closed before it returned a result"), "{r}");
    // The server stays healthy.
    h.spaces.reset_modes();
    let r = h.call(&q, tool, json!({}), None).await;
    assert!(r.get("isError").is_none(), "{r}");
    h.stop().await;
}

#[tokio::test]
async fn outbound_policy_refuses_internal_addresses() {
    // Loopback not allowed: the Space resolves to 127.0.0.1 and is refused.
    let mut o = opts();
    o.gradio.network.allow = AllowedAddresses::default();
    let h = H::with(o).await;
    assert!(gradio_tools(&h.tools(&format!("?gradio={SCHNELL}"), None).await).is_empty());
    let r = h
        .call(
            "",
            "dynamic_space",
            json!({ "operation": "view_parameters", "space_name": SCHNELL }),
            Some(tokens::ALICE_WRITE),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("refused") && text(&r).contains("loopback"), "{r}");
    assert!(h.spaces.requests().is_empty(), "nothing reached the Space");
    h.stop().await;
    // Private and link-local (cloud metadata) addresses too.
    for ip in ["10.0.0.7", "169.254.169.254"] {
        let mut o = opts();
        o.gradio.network.allow = AllowedAddresses { loopback: true, ..Default::default() };
        o.gradio.network.resolve = Some(ip.parse().unwrap());
        let h = H::with(o).await;
        let r = h
            .call(
                "",
                "dynamic_space",
                json!({ "operation": "view_parameters", "space_name": SCHNELL }),
                Some(tokens::ALICE_WRITE),
            )
            .await;
        assert_eq!(r["isError"], true);
        assert!(text(&r).contains("refused"), "{ip}: {r}");
        h.stop().await;
    }
}

#[tokio::test]
async fn space_call_budgets_are_enforced_per_caller() {
    let mut o = opts();
    o.gradio.budget_anonymous = Budget { uses: 2, window: Duration::from_secs(600) };
    o.gradio.budget_authenticated = Budget { uses: 3, window: Duration::from_secs(600) };
    let h = H::with(o).await;
    let q = format!("?gradio={SCHNELL}");
    let tool = "gr1_evalstate_flux1_schnellinfer";
    for _ in 0..2 {
        let r = h.call(&q, tool, json!({ "prompt": "x" }), None).await;
        assert!(r.get("isError").is_none(), "{r}");
    }
    let r = h.call(&q, tool, json!({ "prompt": "x" }), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("budget exhausted"), "{r}");
    let resets = r["structuredContent"]["resetsInSeconds"].as_u64().unwrap();
    assert!((590..=600).contains(&resets), "{resets}");
    // Authenticated callers have their own (larger) budget.
    for _ in 0..3 {
        let r = h.call(&q, tool, json!({ "prompt": "x" }), Some(tokens::BOB_READ)).await;
        assert!(r.get("isError").is_none(), "{r}");
    }
    let r = h.call(&q, tool, json!({ "prompt": "x" }), Some(tokens::BOB_READ)).await;
    assert_eq!(r["isError"], true);
    // Refused calls never reached the Space.
    let calls = h.spaces.requests().iter().filter(|r| r.rpc_method.as_deref() == Some("tools/call")).count();
    assert_eq!(calls, 5);
    h.stop().await;
}

/// Budgets counted together, as Redis counts them for several instances: one counter per
/// key for the whole window (enough for a test that ends within it).
#[derive(Default)]
struct Together(std::sync::Mutex<std::collections::HashMap<String, u32>>);

impl SharedLimits for Together {
    fn take<'a>(&'a self, _: &'a str, rate: Rate) -> BoxFuture<'a, Result<Decision, StoreError>> {
        Box::pin(async move { Ok(Decision::Allowed { limit: rate.burst, remaining: rate.burst }) })
    }
    fn spend<'a>(&'a self, key: &'a str, budget: Budget) -> BoxFuture<'a, Result<Spend, StoreError>> {
        Box::pin(async move {
            let mut used = self.0.lock().unwrap();
            let n = used.entry(key.to_owned()).or_default();
            if *n >= budget.uses {
                return Ok(Spend::Exhausted { limit: budget.uses, resets_in: budget.window });
            }
            *n += 1;
            Ok(Spend::Allowed { remaining: budget.uses - *n, resets_in: budget.window })
        })
    }
    fn refund<'a>(&'a self, _: &'a str, _: Budget) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Shared limits that cannot be reached (Redis down).
struct Unreachable;

impl SharedLimits for Unreachable {
    fn take<'a>(&'a self, _: &'a str, _: Rate) -> BoxFuture<'a, Result<Decision, StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
    fn spend<'a>(&'a self, _: &'a str, _: Budget) -> BoxFuture<'a, Result<Spend, StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
    fn refund<'a>(&'a self, _: &'a str, _: Budget) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
}

#[tokio::test]
async fn space_call_budgets_are_counted_by_all_instances_together() {
    let shared: Arc<dyn SharedLimits> = Arc::new(Together::default());
    let instance = || {
        let mut o = opts();
        o.gradio.budget_anonymous = Budget { uses: 2, window: Duration::from_secs(600) };
        o.gradio.shared_limits = Some(shared.clone());
        H::with(o)
    };
    let (a, b) = (instance().await, instance().await);
    let q = format!("?gradio={SCHNELL}");
    let tool = "gr1_evalstate_flux1_schnellinfer";
    for h in [&a, &b] {
        let r = h.call(&q, tool, json!({ "prompt": "x" }), None).await;
        assert!(r.get("isError").is_none(), "{r}");
    }
    // Each instance alone would allow a second call; together the budget of 2 is spent.
    for h in [&a, &b] {
        let r = h.call(&q, tool, json!({ "prompt": "x" }), None).await;
        assert!(text(&r).contains("budget exhausted"), "{r}");
    }
    a.stop().await;
    b.stop().await;
    // Unreachable shared limits: this process's budget decides.
    let mut o = opts();
    o.gradio.budget_anonymous = Budget { uses: 1, window: Duration::from_secs(600) };
    o.gradio.shared_limits = Some(Arc::new(Unreachable));
    let h = H::with(o).await;
    assert!(h.call(&q, tool, json!({ "prompt": "x" }), None).await.get("isError").is_none());
    assert!(text(&h.call(&q, tool, json!({ "prompt": "x" }), None).await).contains("budget exhausted"));
    h.stop().await;
}

/// A ZeroGPU Space's tool may be taken as a task (tasks extension): created at once,
/// polled with tasks/get, the Space's result inlined when it completes.
#[tokio::test]
async fn gpu_space_tools_can_run_as_tasks() {
    let h = H::start().await;
    let q = format!("?gradio={SCHNELL}");
    let tool = "gr1_evalstate_flux1_schnellinfer";
    let caps = json!({ "extensions": { mcp_engine::TASKS_EXTENSION: {} } });
    let (_, r) =
        h.rpc_full(&q, "tools/call", json!({ "name": tool, "arguments": { "prompt": "x" } }), None, caps.clone()).await;
    assert_eq!(r["result"]["resultType"], "task", "{r}");
    let task = r["result"]["taskId"].as_str().unwrap().to_owned();
    let mut done = Value::Null;
    for _ in 0..500 {
        let (_, t) = h.rpc_full(&q, "tasks/get", json!({ "taskId": task }), None, caps.clone()).await;
        if t["result"]["status"] == "completed" {
            done = t;
            break;
        }
        assert_eq!(t["result"]["status"], "working", "{t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(text(&done["result"]["result"]).contains("prompt"), "{done}");
    h.stop().await;
}

#[tokio::test]
async fn dynamic_space_finds_views_and_invokes_with_gpu_confirmation() {
    let h = H::start().await;
    let alice = Some(tokens::ALICE_WRITE);
    let r =
        h.call("", "dynamic_space", json!({ "operation": "find", "search_query": "image generation" }), alice).await;
    assert!(r.get("isError").is_none(), "{r}");
    let ids: Vec<&str> =
        r["structuredContent"]["results"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&SCHNELL), "{ids:?}");
    assert!(!ids.contains(&"mteb/leaderboard"), "only MCP Spaces: {ids:?}");

    let r = h.call("", "dynamic_space", json!({ "operation": "view_parameters", "space_name": SCHNELL }), alice).await;
    let t = text(&r);
    assert!(t.contains("### prompt [REQUIRED]") && t.contains("num_inference_steps"), "{t}");
    assert_eq!(r["structuredContent"]["gpu"], true);

    // Invalid parameters are explained without calling the Space.
    let r = h
        .call(
            "",
            "dynamic_space",
            json!({ "operation": "invoke", "space_name": SCHNELL, "parameters": "{\"seed\": 1}" }),
            alice,
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("Missing required parameter: \"prompt\""), "{r}");

    // A GPU Space asks first when the client can be asked: input_required …
    let invoke = json!({ "name": "dynamic_space", "arguments": { "operation": "invoke", "space_name": SCHNELL,
                         "parameters": "{\"prompt\": \"a cat\", \"extra\": 1}" } });
    let caps = json!({ "elicitation": {} });
    let (_, first) = h.rpc_full("", "tools/call", invoke.clone(), alice, caps.clone()).await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let ask = &result["inputRequests"]["confirm_gpu"];
    assert_eq!(ask["method"], "elicitation/create");
    assert!(ask["params"]["message"].as_str().unwrap().contains("GPU"));
    assert!(h.spaces.requests_to(SCHNELL_SUB).iter().all(|r| r.rpc_method.as_deref() != Some("tools/call")));
    // … declined: nothing runs.
    let mut again = invoke.clone();
    again["requestState"] = result["requestState"].clone();
    again["inputResponses"] = json!({ "confirm_gpu": { "action": "decline" } });
    let (_, declined) = h.rpc_full("", "tools/call", again.clone(), alice, caps.clone()).await;
    assert_eq!(declined["result"]["structuredContent"]["invoked"], false, "{declined}");
    // … accepted: the Space runs with defaults applied and a warning for the unknown parameter.
    again["inputResponses"] = json!({ "confirm_gpu": { "action": "accept", "content": { "confirm": true } } });
    let (_, done) = h.rpc_full("", "tools/call", again, alice, caps).await;
    let t = text(&done["result"]);
    assert!(t.contains("Unknown parameter: \"extra\""), "{t}");
    assert!(t.contains("\"num_inference_steps\":4") && t.contains("\"prompt\":\"a cat\""), "{t}");
    assert_eq!(done["result"]["content"][1]["type"], "image", "{done}");
    // A client without elicitation is not asked.
    let (_, direct) = h.rpc_full("", "tools/call", invoke, alice, json!({})).await;
    assert_eq!(direct["result"]["resultType"], "complete", "{direct}");
    assert!(text(&direct["result"]).contains("\"prompt\":\"a cat\""));
    // gradio=none disables invoke.
    let r = h
        .call(
            "?gradio=none",
            "dynamic_space",
            json!({ "operation": "invoke", "space_name": SCHNELL, "parameters": "{}" }),
            alice,
        )
        .await;
    assert!(text(&r).contains("disabled because gradio=none"), "{r}");
    h.stop().await;
}

// ----- session era ---------------------------------------------------------------------------

fn post(h: &H, query: &str, session: Option<&str>, token: &str, body: Value) -> reqwest::RequestBuilder {
    session_post(&h.http, &format!("{}{query}", h.url), token, session, &body)
}

async fn open_session(h: &H, query: &str, token: &str) -> String {
    common::open_session(&h.http, &format!("{}{query}", h.url), token).await
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn session_era_gpu_confirmation_is_a_server_initiated_elicitation() {
    let h = H::start().await;
    let token = tokens::ALICE_WRITE;
    let sid = open_session(&h, "", token).await;
    let call = json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": { "name": "dynamic_space",
        "arguments": { "operation": "invoke", "space_name": SCHNELL, "parameters": "{\"prompt\": \"legacy\"}" },
        "_meta": { "progressToken": 77 } } });
    let mut sse = Sse::new(post(&h, "", Some(&sid), token, call).send().await.unwrap());
    let req = sse.message_within(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create", "{req}");
    let answer =
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "confirm": true } } });
    assert_eq!(post(&h, "", Some(&sid), token, answer).send().await.unwrap().status(), 202);
    let mut progress = 0;
    loop {
        let m = sse.message_within(WAIT).await.unwrap();
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], 77);
            progress += 1;
            continue;
        }
        assert_eq!(m["id"], 5);
        assert!(text(&m["result"]).contains("\"prompt\":\"legacy\""), "{m}");
        break;
    }
    assert_eq!(progress, 3);
    h.stop().await;
}

#[tokio::test]
async fn settings_changes_announce_list_changed_to_that_user() {
    let mut o = opts();
    o.selection.settings_ttl = Duration::from_millis(200);
    let h = H::with(o).await;
    let alice = tokens::ALICE_WRITE;
    h.hub.set_user_settings("alice", json!({ "builtInTools": ["hub_repo_search"], "spaceTools": [] }));
    // A session-era session with its push stream, and a stateless listener for alice; bob listens too.
    let sid = open_session(&h, "", alice).await;
    let get = h
        .http
        .get(&h.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-11-25")
        .header("authorization", format!("Bearer {alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let mut push = Sse::new(get);
    let listen = |token: &str| {
        h.request(
            "",
            "subscriptions/listen",
            json!({ "notifications": { "toolsListChanged": true } }),
            Some(token),
            json!({}),
        )
        .send()
    };
    let mut listener = Sse::new(listen(alice).await.unwrap());
    let ack = listener.message_within(WAIT).await.unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    let mut bob = Sse::new(listen(tokens::BOB_READ).await.unwrap());
    bob.message_within(WAIT).await.unwrap();

    assert_eq!(h.tools("", Some(alice)).await, ["hf_fs", "hub_repo_search", "hf_whoami"]);
    h.hub.set_user_settings(
        "alice",
        json!({ "builtInTools": ["hub_repo_search"], "spaceTools": [{ "name": SCHNELL }] }),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The next request of alice refetches her settings, sees the change, and announces it.
    let names = h.tools("", Some(alice)).await;
    assert_eq!(gradio_tools(&names), ["gr1_evalstate_flux1_schnellinfer"]);
    let n = push.message_within(WAIT).await.unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed", "{n}");
    let n = listener.message_within(WAIT).await.unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed", "{n}");
    // Bob's listener hears nothing of alice's change.
    assert!(tokio::time::timeout(Duration::from_millis(300), bob.message_within(WAIT)).await.is_err());
    // The session sees the new list too.
    let list = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" });
    let v: Value = post(&h, "", Some(&sid), alice, list).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> =
        v["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"gr1_evalstate_flux1_schnellinfer"), "{names:?}");
    h.stop().await;
}

#[tokio::test]
async fn tokens_are_validated_with_whoami_and_cached_by_hash() {
    let h = H::start().await;
    // An invalid token: 401 with the challenge naming the metadata document.
    let r =
        h.request("?bouquet=search", "tools/list", json!({}), Some(tokens::INVALID), json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge.split(',').next().unwrap(),
        format!("Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp?bouquet=search\"", h.base)
    );
    assert!(!r.text().await.unwrap().contains(tokens::INVALID));
    // The metadata names the Hub as the authorization server.
    let doc: Value = h
        .http
        .get(format!("{}/.well-known/oauth-protected-resource/mcp", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["authorization_servers"], json!([h.hub.base_url]));
    assert_eq!(doc["resource"], format!("{}/mcp", h.base));
    // ?login makes anonymous requests authenticate.
    let r = h.request("?login", "tools/list", json!({}), None, json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // A valid token is checked once, then served from the cache (also the invalid verdict).
    for _ in 0..3 {
        h.tools("", Some(tokens::BOB_READ)).await;
        let r = h.request("", "tools/list", json!({}), Some(tokens::INVALID), json!({})).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let whoami = h.hub.requests_to("/api/whoami-v2");
    assert_eq!(whoami.iter().filter(|r| r.bearer_token() == Some(tokens::BOB_READ)).count(), 1);
    assert_eq!(whoami.iter().filter(|r| r.bearer_token() == Some(tokens::INVALID)).count(), 1);
    // When the Hub cannot check tokens, requests proceed (and are checked again soon).
    h.hub.inject(hub_standin::FaultRule::server_error("/api/whoami-v2", 503, 20));
    assert_eq!(h.tools("", Some(tokens::CAROL_FINEGRAINED)).await, BUILTINS_AUTH);
    h.stop().await;
}

#[tokio::test]
async fn oversized_space_answers_are_refused() {
    let mut o = opts();
    o.gradio.max_response_bytes = 300;
    let h = H::with(o).await;
    let q = format!("?gradio={SCHNELL}");
    let r = h.call(&q, "gr1_evalstate_flux1_schnellinfer", json!({ "prompt": "x" }), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("exceeded the limit of 300 bytes"), "{r}");
    h.stop().await;
    let mut o = opts();
    o.gradio.max_schema_bytes = 100;
    let h = H::with(o).await;
    assert!(gradio_tools(&h.tools(&q, None).await).is_empty(), "a schema over the limit is not used");
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// MCP Apps (SEP-1865): a Space tool's `ui://` page, passed on and read through hubmcp
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mcp_app_meta_is_passed_on_and_its_page_read_through_hubmcp() {
    use base64::Engine as _;
    use hub_standin::spaces::{APP_HTML, APP_URI};
    let h = H::start().await;
    let q = format!("?gradio={OMNI}");
    let token = Some(tokens::BOB_READ);
    let tools = h.list(&q, token).await;
    let tool = tools.iter().find(|t| t["name"].as_str().unwrap().starts_with("gr1_")).unwrap();
    let local = tool["_meta"]["ui"]["resourceUri"].as_str().unwrap_or_else(|| panic!("{tool}")).to_owned();
    let encoded = local.strip_prefix("ui://hf-mcp-proxy/gradio-microsoft-omniparser-v2/").unwrap();
    let upstream = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).unwrap();
    assert_eq!(upstream, APP_URI.as_bytes());
    // Remote tools carry the hosted server's conservative hints.
    assert_eq!(tool["annotations"]["destructiveHint"], true);
    assert_eq!(tool["annotations"]["readOnlyHint"], false);
    // Without the Space in the selection there is no app resource.
    let r = h.rpc("", "resources/list", json!({}), token).await;
    assert_eq!(r["result"]["resources"], json!([]), "{r}");

    let r = h.rpc(&q, "resources/list", json!({}), token).await;
    let resources = r["result"]["resources"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(resources.len(), 1, "{r}");
    assert_eq!(resources[0]["uri"], local.as_str());
    assert_eq!(resources[0]["mimeType"], "text/html;profile=mcp-app");
    assert_eq!(resources[0]["name"], format!("gradio-app:{}", tool["name"].as_str().unwrap()));

    h.spaces.clear_requests();
    let res = h
        .request(&q, "resources/read", json!({ "uri": local }), token, json!({}))
        .header("mcp-name", &local)
        .send()
        .await
        .unwrap();
    let r: Value = res.json().await.unwrap();
    let content = &r["result"]["contents"][0];
    assert_eq!(content["uri"], local.as_str(), "{r}");
    assert_eq!(content["text"], APP_HTML);
    assert_eq!(content["mimeType"], "text/html;profile=mcp-app");
    let reads: Vec<_> = h
        .spaces
        .requests_to("microsoft-omniparser-v2")
        .into_iter()
        .filter(|r| r.rpc_method.as_deref() == Some("resources/read"))
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].forwarded_token(), Some(tokens::BOB_READ), "the caller's token reaches the Space");
    h.stop().await;
}

#[tokio::test]
async fn instructions_name_the_signed_in_user_as_upstream() {
    let h = H::start().await;
    let r = h.rpc("", "server/discover", json!({}), Some(tokens::ALICE_WRITE)).await;
    let i = r["result"]["instructions"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(i.starts_with("Hugging Face tools are being used by authenticated user 'alice'."), "{i}");
    assert!(i.contains("hf_fs"), "the tool guidance follows");
    assert_eq!(r["result"]["cacheScope"], "private", "instructions naming a user are not shared");
    let r = h.rpc("", "server/discover", json!({}), None).await;
    let i = r["result"]["instructions"].as_str().unwrap();
    assert!(i.starts_with("The Hugging Face tools are being used anonymously and rate limits apply."), "{i}");
    // The session era's initialize says the same.
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let res = h
        .http
        .post(&h.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {}", tokens::BOB_READ))
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    let data = body.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap_or(&body);
    let v: Value = serde_json::from_str(data).unwrap();
    let i = v["result"]["instructions"].as_str().unwrap();
    assert!(i.starts_with("Hugging Face tools are being used by authenticated user 'bob'."), "{i}");
    h.stop().await;
}
