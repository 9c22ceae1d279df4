//! Proxy tools (`PROXY_TOOLS_CSV`): two MCP servers stood up in the test (the engine over
//! Streamable HTTP on real ports) proxied through the Hub toolset — tools listed at load with
//! `PROXY_TOKEN`, named `<proxy_id>` for a one-tool server and by upstream name otherwise,
//! shown to signed-in callers for the `proxy` bouquet or mix (not otherwise, not
//! anonymously), called with the caller's token, `DISABLE_TOOLS` honoured, and a proxied
//! tool's MCP App page listed and read through hubmcp.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client_config, serve, server_info, text, Served};
use hub_standin::{spawn, tokens};
use hubmcp_hub::selection::SelectionConfig;
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::provider::{Catalog, StaticProvider, Tool, ToolOutput};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

const PROXY_TOKEN: &str = "hf_proxy_loader_token";
const PAGE: &str = "<html><body>multi app</body></html>";

/// Which bearer each upstream method saw.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn record(seen: &Seen, method: &str, bearer: Option<&str>) {
    seen.lock().unwrap().push((method.to_owned(), bearer.map(str::to_owned)));
}

/// An upstream MCP server: `one` has a single tool, `multi` two (one an MCP App).
async fn upstream(multi: bool, seen: Seen) -> Served {
    let mut c = Catalog::new();
    let s = seen.clone();
    c.tool(Tool::new(
        json!({ "name": "shout", "description": "Upper-cases text.",
                "inputSchema": { "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"] } }),
        move |args, ctx| {
            let s = s.clone();
            async move {
                record(&s, "tools/call", ctx.request().caller.bearer.as_deref());
                let v: Value = serde_json::from_str(args.get()).unwrap();
                Ok(ToolOutput::text(v["text"].as_str().unwrap_or_default().to_uppercase()))
            }
        },
    ));
    if multi {
        c.tool(Tool::new(
            json!({ "name": "board", "inputSchema": { "type": "object", "properties": {} },
                    "_meta": { "ui": { "resourceUri": "ui://multi/board.html" } } }),
            |_, _| async { Ok(ToolOutput::text("board shown")) },
        ));
        let s = seen.clone();
        c.resource(
            json!({ "uri": "ui://multi/board.html", "name": "board", "mimeType": "text/html;profile=mcp-app" }),
            move |r, ctx| {
                let s = s.clone();
                async move {
                    record(&s, "resources/read", ctx.request().caller.bearer.as_deref());
                    let mut o = serde_json::Map::new();
                    o.insert(
                        "contents".into(),
                        json!([{ "uri": r.uri, "mimeType": "text/html;profile=mcp-app", "text": PAGE }]),
                    );
                    Ok(o)
                }
            },
        );
    }
    // The provider sees every request's caller: record the token tools/list came with.
    struct Recording(StaticProvider, Seen);
    impl mcp_engine::provider::Provider for Recording {
        fn catalog<'a>(
            &'a self,
            request: &'a mcp_engine::RequestInfo,
        ) -> futures_util::future::BoxFuture<'a, Result<Arc<Catalog>, mcp_engine::jsonrpc::McpError>> {
            if request.method == "tools/list" {
                record(&self.1, "tools/list", request.caller.bearer.as_deref());
            }
            self.0.catalog(request)
        }
        fn capabilities(&self) -> Value {
            self.0.capabilities()
        }
    }
    let caps = json!({ "tools": {}, "resources": {} });
    let provider = Arc::new(Recording(StaticProvider::new(c, caps), seen));
    serve(Engine::builder(provider, server_info()).build(), HttpConfig::default()).await
}

#[tokio::test]
async fn proxied_servers_tools_are_listed_called_and_their_apps_read() {
    let hub = spawn(Default::default()).await;
    let (seen_one, seen_multi): (Seen, Seen) = Default::default();
    let one = upstream(false, seen_one.clone()).await;
    let multi = upstream(true, seen_multi.clone()).await;
    let dir = std::env::temp_dir().join(format!("hubmcp-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("proxy.csv");
    std::fs::write(
        &csv,
        format!("proxy_id,url,response_type\n# two servers\nloud,{},JSON\nmulti,{},SSE\nbroken,http://127.0.0.1:1/mcp,JSON\n", one.url, multi.url),
    )
    .unwrap();

    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let mut provider = HubProvider::with_client(client);
    provider.load_proxy_tools(csv.to_str().unwrap(), Some(PROXY_TOKEN)).await;
    let s = serve(Engine::builder(Arc::new(provider), server_info()).build(), HttpConfig::default()).await;

    // Loaded with PROXY_TOKEN (as bearer), from both servers; the broken one left out.
    for seen in [&seen_one, &seen_multi] {
        let seen = seen.lock().unwrap();
        assert!(seen.iter().any(|(m, b)| m == "tools/list" && b.as_deref() == Some(PROXY_TOKEN)), "{seen:?}");
    }

    let names = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> =
            r["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    let bob = Some(tokens::BOB_READ);
    let (_, r) = s.rpc_full("?bouquet=proxy", "tools/list", json!({}), bob, json!({})).await;
    assert_eq!(names(&r), ["board", "hf_fs", "hf_whoami", "loud", "shout"], "{r}");
    let loud = r["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "loud").unwrap().clone();
    assert_eq!(loud["title"], "loud - shout");
    assert_eq!(loud["description"], "Upper-cases text.");
    assert_eq!(loud["inputSchema"]["required"], json!(["text"]));
    assert_eq!(loud["annotations"]["destructiveHint"], true);
    let (_, r) = s.rpc_full("?mix=proxy", "tools/list", json!({}), bob, json!({})).await;
    assert!(names(&r).contains(&"loud".to_owned()) && names(&r).contains(&"hub_repo_search".to_owned()));
    let (_, r) = s.rpc_full("", "tools/list", json!({}), bob, json!({})).await;
    assert!(!names(&r).contains(&"loud".to_owned()), "not without the proxy bouquet or mix");
    let (_, r) = s.rpc_full("?bouquet=proxy", "tools/list", json!({}), None, json!({})).await;
    assert!(!names(&r).contains(&"loud".to_owned()), "not for anonymous callers");

    // A call goes to its server with the caller's token.
    let out = s.call_at("?bouquet=proxy", "loud", json!({ "text": "hub" }), bob).await;
    assert_eq!(text(&out), "HUB", "{out}");
    let out = s.call_at("?bouquet=proxy", "shout", json!({ "text": "two" }), bob).await;
    assert_eq!(text(&out), "TWO", "{out}");
    assert!(seen_one.lock().unwrap().contains(&("tools/call".into(), Some(tokens::BOB_READ.into()))));
    assert!(seen_multi.lock().unwrap().contains(&("tools/call".into(), Some(tokens::BOB_READ.into()))));

    // The app page of `board`, listed and read through hubmcp.
    let (_, r) = s.rpc_full("?bouquet=proxy", "tools/list", json!({}), bob, json!({})).await;
    let board = r["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "board").unwrap().clone();
    let local = board["_meta"]["ui"]["resourceUri"].as_str().unwrap().to_owned();
    assert!(local.starts_with("ui://hf-mcp-proxy/multi/"), "{local}");
    let (_, r) = s.rpc_full("?bouquet=proxy", "resources/list", json!({}), bob, json!({})).await;
    assert_eq!(r["result"]["resources"][0]["uri"], local.as_str(), "{r}");
    assert_eq!(r["result"]["resources"][0]["name"], "proxy-app:board");
    let res = s
        .request("?bouquet=proxy", "resources/read", json!({ "uri": local }), bob, json!({}))
        .header("mcp-name", &local)
        .send()
        .await
        .unwrap();
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["result"]["contents"][0]["text"], PAGE, "{r}");
    assert_eq!(r["result"]["contents"][0]["uri"], local.as_str());
    assert!(seen_multi.lock().unwrap().contains(&("resources/read".into(), Some(tokens::BOB_READ.into()))));

    s.stop().await;
    one.stop().await;
    multi.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn disabled_proxy_tools_are_hidden_and_rejected() {
    let hub = spawn(Default::default()).await;
    let one = upstream(false, Seen::default()).await;
    let csv = std::env::temp_dir().join(format!("hubmcp-proxy-disabled-{}.csv", std::process::id()));
    std::fs::write(&csv, format!("loud,{},JSON\n", one.url)).unwrap();
    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let selection = SelectionConfig { disabled: ["loud".to_owned()].into(), ..SelectionConfig::default() };
    let mut provider = HubProvider::with_options(client, HubOptions { selection, ..HubOptions::default() });
    provider.load_proxy_tools(csv.to_str().unwrap(), None).await;
    let s = serve(Engine::builder(Arc::new(provider), server_info()).build(), HttpConfig::default()).await;
    let bob = Some(tokens::BOB_READ);
    let (_, r) = s.rpc_full("?bouquet=proxy", "tools/list", json!({}), bob, json!({})).await;
    assert!(!r.to_string().contains("\"loud\""), "{r}");
    let res = s
        .request(
            "?bouquet=proxy",
            "tools/call",
            json!({ "name": "loud", "arguments": { "text": "x" } }),
            bob,
            json!({}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("error").is_some() || body["result"]["isError"] == true, "{body}");
    s.stop().await;
    one.stop().await;
    let _ = std::fs::remove_file(csv);
}
