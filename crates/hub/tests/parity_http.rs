//! Same results and limits as the hosted server, over a real TCP port against the Hub
//! stand-in: repeated `?mix=` values, built-ins callable by name when not selected (but
//! not when disabled), `hf_fs attach` refused under `no_image_content` (query or header)
//! with the hosted error, `dynamic_space find`'s limit, and `hf_whoami`'s OAuth scopes and
//! fine-grained restrictions.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{client_config, is_error, serve, server_info, text, Served};
use hub_standin::{spawn, tokens, StandIn, StandInConfig};
use hubmcp_hub::selection::SelectionConfig;
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

/// A settings API (bob: only `hub_repo_search`) and `DISABLE_TOOLS=dynamic_space`.
async fn start() -> (StandIn, Served) {
    let hub = spawn(StandInConfig::default()).await;
    hub.set_user_settings("bob", json!({ "builtInTools": ["hub_repo_search"], "spaceTools": [] }));
    let selection = SelectionConfig {
        user_config_api: Some(url::Url::parse(&hub.url("/api/settings/mcp")).unwrap()),
        disabled: ["dynamic_space".to_owned()].into(),
        ..SelectionConfig::default()
    };
    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let provider = Arc::new(HubProvider::with_options(client, HubOptions { selection, ..HubOptions::default() }));
    let served = serve(Engine::builder(provider, server_info()).build(), HttpConfig::default()).await;
    (hub, served)
}

async fn names(s: &Served, query: &str, token: Option<&str>) -> Vec<String> {
    let (_, r) = s.rpc_full(query, "tools/list", json!({}), token, json!({})).await;
    r["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn repeated_mix_values_are_all_honoured() {
    let (_hub, s) = start().await;
    let bob = Some(tokens::BOB_READ);
    assert_eq!(names(&s, "", bob).await, ["hf_fs", "hub_repo_search", "hf_whoami"]);
    let mixed = names(&s, "?mix=hub_repo_details&mix=search", bob).await;
    assert_eq!(mixed, ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami"]);
    let mixed = names(&s, "?mix=search&mix=hub_repo_details", bob).await;
    assert!(mixed.contains(&"hub_repo_details".to_owned()), "the second value counts too: {mixed:?}");
    s.stop().await;
}

#[tokio::test]
async fn unselected_builtins_are_callable_but_disabled_ones_are_not() {
    let (_hub, s) = start().await;
    let bob = Some(tokens::BOB_READ);
    assert!(!names(&s, "", bob).await.contains(&"hub_repo_details".to_owned()));
    let out = s.call_at("", "hub_repo_details", json!({ "repo_ids": [hub_standin::repos::PUBLIC_MODEL] }), bob).await;
    assert!(!is_error(&out), "{out}");
    assert!(text(&out).contains("bert"), "{}", text(&out));
    // Anonymous callers may call what anonymous callers may see.
    let out = s
        .call_at("?bouquet=search", "hub_repo_details", json!({ "repo_ids": [hub_standin::repos::PUBLIC_MODEL] }), None)
        .await;
    assert!(!is_error(&out), "{out}");
    // DISABLE_TOOLS still refuses.
    let res = s
        .request(
            "",
            "tools/call",
            json!({ "name": "dynamic_space", "arguments": { "operation": "find" } }),
            bob,
            json!({}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn no_image_content_stops_hf_fs_attach() {
    let (_hub, s) = start().await;
    let png = "hf://models/stabilityai/stable-diffusion-xl-base-1.0/01.png";
    let args = json!({ "operations": [{ "cmd": "attach", "args": [png] }, { "cmd": "stat", "args": [png] }] });
    let out = s.call_at("", "hf_fs", args.clone(), None).await;
    assert!(out["content"].as_array().unwrap().iter().any(|c| c["type"] == "image"), "attach works by default");

    let check = |out: &Value| {
        assert!(out["content"].as_array().unwrap().iter().all(|c| c["type"] != "image"), "{out}");
        let results = out["structuredContent"]["results"].as_array().unwrap();
        let e = &results[0]["error"];
        assert_eq!(e["code"], "HF_FS_IMAGE_CONTENT_DISABLED", "{out}");
        assert_eq!(e["message"], "Image content is disabled for this MCP request by x-mcp-no-image-content.");
        assert_eq!(e["suggestedOperation"], "stat");
        assert_eq!(results[1]["status"], "success", "other operations still run");
    };
    check(&s.call_at("?no_image_content=true", "hf_fs", args.clone(), None).await);
    let params = json!({ "name": "hf_fs", "arguments": args });
    let res = s
        .request("", "tools/call", params, None, json!({}))
        .header("x-mcp-no-image-content", "true")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    check(&body["result"]);
    s.stop().await;
}

#[tokio::test]
async fn dynamic_space_find_limits_like_the_hosted_server() {
    let hub = spawn(StandInConfig::default()).await;
    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let s = serve(
        Engine::builder(Arc::new(HubProvider::with_client(client)), server_info()).build(),
        HttpConfig::default(),
    )
    .await;
    let alice = Some(tokens::ALICE_WRITE);
    let all = s.call_at("", "dynamic_space", json!({ "operation": "find", "search_query": "image" }), alice).await;
    let found = all["structuredContent"]["results"].as_array().map_or(0, Vec::len);
    assert!(found >= 2, "the stand-in has several MCP Spaces: {}", text(&all));
    let one = s
        .call_at("", "dynamic_space", json!({ "operation": "find", "search_query": "image", "limit": 1 }), alice)
        .await;
    assert!(text(&one).contains("(Showing the first 1 results)"), "{}", text(&one));
    // The Hub is asked as the hosted server asks it: no `limit` (hits are cut here).
    let searches: Vec<_> = hub.requests().into_iter().filter(|r| r.path == "/api/spaces/semantic-search").collect();
    assert_eq!(searches.len(), 2);
    assert!(searches.iter().all(|r| !r.path_and_query.contains("limit=")), "{:?}", searches[0].path_and_query);
    s.stop().await;
}

#[tokio::test]
async fn whoami_reports_oauth_scopes_and_fine_grained_restrictions() {
    let (_hub, s) = start().await;
    let out = s.call_at("", "hf_whoami", json!({}), Some(tokens::BOB_OAUTH)).await;
    let c = &out["structuredContent"]["credential"];
    assert_eq!(c["type"], "oauth", "{out}");
    assert_eq!(c["scopes"], json!(["openid", "profile", "inference-api", "manage-repos"]));
    assert!(text(&out).contains("### Granted OAuth scopes"), "{}", text(&out));
    assert!(!text(&out).contains(tokens::BOB_OAUTH) && !out.to_string().contains("eyJ"), "never the token");

    let out = s.call_at("", "hf_whoami", json!({}), Some(tokens::CAROL_FINEGRAINED)).await;
    let scoped = &out["structuredContent"]["credential"]["permissions"]["scoped"];
    assert_eq!(
        scoped[0]["restrictions"],
        json!([{ "resource_type": "inference_endpoint", "patterns": ["carol-*-prod", "carol-eval"] }]),
        "{out}"
    );
    assert!(scoped[1].get("restrictions").is_none());
    assert!(text(&out).contains("`carol-*-prod`"), "{}", text(&out));
    s.stop().await;
}

/// A datasets-server answering `/splits` and `/rows` with the given cells (one `text` column).
async fn datasets_server(cells: Vec<String>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::get;
    let rows: Vec<Value> = cells
        .into_iter()
        .enumerate()
        .map(|(i, t)| json!({ "row_idx": i, "row": { "text": t }, "truncated_cells": [] }))
        .collect();
    let n = rows.len();
    let app = axum::Router::new()
        .route(
            "/splits",
            get(|| async {
                axum::Json(
                    json!({ "splits": [{ "dataset": "stanfordnlp/imdb", "config": "default", "split": "train" }],
                                   "pending": [], "failed": [] }),
                )
            }),
        )
        .route(
            "/rows",
            get(move || {
                let rows = rows.clone();
                async move {
                    axum::Json(json!({ "features": [{ "feature_idx": 0, "name": "text",
                                       "type": { "dtype": "string", "_type": "Value" } }],
                                       "rows": rows, "num_rows_total": n, "num_rows_per_page": 100, "partial": false }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

#[tokio::test]
async fn dataset_previews_keep_whole_cells_up_to_the_hosted_row_table_cap() {
    let hub = spawn(StandInConfig::default()).await;
    let long_cell = "a".repeat(2_000);
    let (ds, task) = datasets_server(vec![long_cell.clone(), "b".repeat(70_000), "c".into()]).await;
    let config = client_config(&hub, Duration::from_secs(10)).with_datasets_server(&ds).unwrap();
    let provider = Arc::new(HubProvider::with_client(HubClient::new(config).unwrap()));
    let s = serve(Engine::builder(provider, server_info()).build(), HttpConfig::default()).await;
    let args =
        json!({ "repo_ids": [hub_standin::repos::PUBLIC_DATASET], "operations": ["dataset_preview"], "limit": 3 });
    let out = s.call_at("", "hub_repo_details", args, None).await;
    let md = text(&out);
    // A 2,000-character cell is shown whole (no per-cell cut), the 70,000-character row is
    // beyond the 66,000-character table cap, and the hosted server's note says so.
    assert!(md.contains(&format!("| 0 | {long_cell} |")), "{}", &md[..md.len().min(3000)]);
    assert!(!md.contains("bbbbbbbbbb"), "the row beyond the cap is not shown");
    assert!(md.contains("Row preview output was truncated after approximately 66,000 characters."), "{md:.3000}");

    // A first row alone beyond the cap is shown cut, not dropped.
    let (ds, task2) = datasets_server(vec!["d".repeat(80_000)]).await;
    let config = client_config(&hub, Duration::from_secs(10)).with_datasets_server(&ds).unwrap();
    let provider = Arc::new(HubProvider::with_client(HubClient::new(config).unwrap()));
    let s2 = serve(Engine::builder(provider, server_info()).build(), HttpConfig::default()).await;
    let args = json!({ "repo_ids": [hub_standin::repos::PUBLIC_DATASET], "operations": ["dataset_preview"] });
    let md = text(&s2.call_at("", "hub_repo_details", args, None).await);
    let cut = md.lines().find(|l| l.starts_with("| 0 | ddd")).expect("the first row, cut");
    assert!(cut.ends_with("… |") && cut.len() < 66_000 && cut.len() > 60_000, "{}", cut.len());
    s.stop().await;
    s2.stop().await;
    task.abort();
    task2.abort();
}

#[tokio::test]
async fn collections_have_history_json() {
    let (hub, s) = start().await;
    let coll = format!("hf://collections/{}", hub_standin::repos::COLLECTION);
    let ops = json!({ "operations": [
        { "cmd": "ls", "args": [coll] },
        { "cmd": "cat", "args": [format!("{coll}/history.json")] },
        { "cmd": "stat", "args": [format!("{coll}/history.json")] },
        { "cmd": "cat", "args": [format!("{coll}/nope.json")] }
    ] });
    let out = s.call_at("", "hf_fs", ops, None).await;
    let results = out["structuredContent"]["results"].as_array().unwrap().clone();
    let names: Vec<&str> =
        results[0]["result"]["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["metadata.json", "items", "history.json"], "{out}");
    let content: Value = serde_json::from_str(results[1]["result"]["content"].as_str().unwrap()).unwrap();
    assert!(!content["history"].as_array().unwrap().is_empty(), "{content}");
    let slug = hub_standin::repos::COLLECTION.split('/').nth(1).unwrap();
    assert!(hub.requests().iter().any(|r| r.path.ends_with(&format!("{slug}/history"))));
    assert_eq!(results[2]["result"]["type"], "file");
    assert!(results[3]["error"]["message"].as_str().unwrap().contains("metadata.json, history.json, and items"));
    s.stop().await;
}
