//! Skills over MCP (SEP-2640) through the full server on a real TCP port, in both eras:
//! a fixture skills directory (`tests/fixtures/skills`) served as `skill://` resources —
//! `resources/list` paginated, `resources/read` (text and blob, bytes matching the files and
//! the digests `skills/list` publishes), `skills/list` / `skills/get`,
//! `resources/directory/read`, the capability declaration, and invalid skills skipped.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::{client_config, serve, server_info, Served};
use hub_standin::{spawn, StandInConfig};
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Engine, EngineConfig};
use serde_json::{json, Value};
use sha2::Digest as _;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/skills")
}

async fn start(page_size: usize) -> (hub_standin::StandIn, Served) {
    let hub = spawn(StandInConfig::default()).await;
    let skills = hubmcp_hub::skills::load(&fixtures(), Default::default()).unwrap();
    let options = HubOptions { skills: Some(Arc::new(skills)), ..HubOptions::default() };
    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let provider = Arc::new(HubProvider::with_options(client, options));
    let config = EngineConfig { page_size, ..EngineConfig::default() };
    let engine = Engine::builder(provider, server_info()).config(config).build();
    (hub, serve(engine, HttpConfig::default()).await)
}

/// A stateless request (`Mcp-Name` = the URI of a `resources/read`); the JSON-RPC answer,
/// whatever the HTTP status (errors are checked by code).
async fn rpc(s: &Served, method: &str, params: Value) -> Value {
    let mut req = s.request("", method, params.clone(), None, json!({}));
    if method == "resources/read" {
        req = req.header("mcp-name", params["uri"].as_str().unwrap());
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Every page of `resources/list`, following `nextCursor`.
async fn all_resources(s: &Served) -> (Vec<Value>, usize) {
    let (mut out, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({ "cursor": c }));
        let r = rpc(s, "resources/list", params).await;
        out.extend(r["result"]["resources"].as_array().unwrap().iter().cloned());
        pages += 1;
        match r["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (out, pages),
        }
    }
}

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[tokio::test]
async fn stateless_skills_resources_listing_reading_and_methods() {
    let (_hub, s) = start(2).await;
    let discover = rpc(&s, "server/discover", json!({})).await;
    let caps = &discover["result"]["capabilities"];
    assert_eq!(caps["extensions"]["io.modelcontextprotocol/skills"], json!({ "directoryRead": true }), "{caps}");
    assert!(caps["resources"].is_object(), "{caps}");

    // resources/list: every file of the three valid skills, over several pages of 2.
    let (resources, pages) = all_resources(&s).await;
    let mut uris: Vec<&str> = resources.iter().map(|r| r["uri"].as_str().unwrap()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "skill://acme/paper-notes/SKILL.md",
            "skill://dataset-card/SKILL.md",
            "skill://dataset-card/assets/icon.png",
            "skill://hub-search/SKILL.md",
            "skill://hub-search/references/QUERIES.md",
            "skill://hub-search/scripts/find.py",
        ]
    );
    assert_eq!(pages, 3);
    let md = resources.iter().find(|r| r["uri"] == "skill://hub-search/SKILL.md").unwrap();
    assert_eq!(md["name"], "hub-search");
    assert_eq!(md["mimeType"], "text/markdown");
    assert!(md["description"].as_str().unwrap().starts_with("Find models and datasets"));

    // resources/read: text as text, binary as base64, both the files' bytes.
    let r = rpc(&s, "resources/read", json!({ "uri": "skill://hub-search/references/QUERIES.md" })).await;
    let c = &r["result"]["contents"][0];
    assert_eq!(c["text"].as_str().unwrap().as_bytes(), file("hub-search/references/QUERIES.md"));
    assert_eq!(c["mimeType"], "text/markdown");
    let r = rpc(&s, "resources/read", json!({ "uri": "skill://dataset-card/assets/icon.png" })).await;
    let c = &r["result"]["contents"][0];
    assert_eq!(c["mimeType"], "image/png");
    let blob = base64::engine::general_purpose::STANDARD.decode(c["blob"].as_str().unwrap()).unwrap();
    assert_eq!(blob, file("dataset-card/assets/icon.png"));
    let r = rpc(&s, "resources/read", json!({ "uri": "skill://broken/SKILL.md" })).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    // skills/list: the entries with verbatim frontmatter and complete, correct digests.
    let r = rpc(&s, "skills/list", json!({})).await;
    let result = &r["result"];
    assert_eq!(result["cacheScope"], "public", "{r}");
    assert!(result["ttlMs"].as_u64().unwrap() > 0);
    let skills = result["skills"].as_array().unwrap();
    let names: Vec<&str> = skills.iter().map(|k| k["frontmatter"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["paper-notes", "dataset-card", "hub-search"]);
    let hub_search = &skills[2];
    assert_eq!(hub_search["uri"], "skill://hub-search/SKILL.md");
    assert_eq!(hub_search["frontmatter"]["metadata"], json!({ "version": "1.0" }));
    assert_eq!(hub_search["frontmatter"]["license"], "Apache-2.0");
    assert_eq!(
        skills[1]["frontmatter"]["description"],
        "Summarise a dataset: structure first, then a few preview rows.\n"
    );
    assert_eq!(skills[0]["frontmatter"]["description"], "Take notes on a paper: read hf://papers/ID/paper.md first.");
    let digests: Vec<(String, String)> = hub_search["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["uri"].as_str().unwrap().to_owned(), r["digest"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(digests.len(), 3);
    for (uri, digest) in &digests {
        let rel = uri.strip_prefix("skill://").unwrap();
        assert_eq!(digest, &sha(&file(rel)), "{uri}");
    }
    let r = rpc(&s, "skills/list", json!({ "cursor": "banana" })).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    // skills/get: the same entry; an unknown skill is -32602.
    let r = rpc(&s, "skills/get", json!({ "uri": "skill://hub-search/SKILL.md" })).await;
    assert_eq!(&r["result"]["skill"], hub_search);
    let r = rpc(&s, "skills/get", json!({ "uri": "skill://nope/SKILL.md" })).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    // resources/directory/read: direct children, directories as inode/directory.
    let r = rpc(&s, "resources/directory/read", json!({ "uri": "skill://hub-search" })).await;
    let children: Vec<(String, String)> = r["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["uri"].as_str().unwrap().to_owned(), c["mimeType"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        children,
        [
            ("skill://hub-search/SKILL.md".to_owned(), "text/markdown".to_owned()),
            ("skill://hub-search/references".to_owned(), "inode/directory".to_owned()),
            ("skill://hub-search/scripts".to_owned(), "inode/directory".to_owned()),
        ]
    );
    let r = rpc(&s, "resources/directory/read", json!({ "uri": "skill://hub-search/scripts/" })).await;
    assert_eq!(r["result"]["resources"][0]["uri"], "skill://hub-search/scripts/find.py");
    let r = rpc(&s, "resources/directory/read", json!({ "uri": "skill://nowhere" })).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    s.stop().await;
}

#[tokio::test]
async fn session_era_serves_the_same_skills() {
    let (_hub, s) = start(100).await;
    let post = |sid: Option<&str>, body: Value| {
        let mut r = s
            .http
            .post(&s.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(sid) = sid {
            r = r.header("mcp-session-id", sid).header("mcp-protocol-version", "2025-11-25");
        }
        r
    };
    async fn json_of(res: reqwest::Response) -> Value {
        let text = res.text().await.unwrap();
        let data = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap_or(&text);
        serde_json::from_str(data).unwrap()
    }
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let res = post(None, init).send().await.unwrap();
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let init = json_of(res).await;
    assert_eq!(
        init["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/skills"]["directoryRead"], true,
        "{init}"
    );
    post(Some(&sid), json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).send().await.unwrap();
    let list = json_of(
        post(Some(&sid), json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/list" })).send().await.unwrap(),
    )
    .await;
    assert_eq!(list["result"]["resources"].as_array().unwrap().len(), 6, "{list}");
    assert!(list["result"].get("nextCursor").is_none());
    let skills = json_of(
        post(Some(&sid), json!({ "jsonrpc": "2.0", "id": 2, "method": "skills/list", "params": {} }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(skills["result"]["skills"].as_array().unwrap().len(), 3, "{skills}");
    assert!(skills["result"].get("ttlMs").is_none(), "no caching attributes in the session era");
    let read = json!({ "jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": { "uri": "skill://acme/paper-notes/SKILL.md" } });
    let read = json_of(post(Some(&sid), read).send().await.unwrap()).await;
    assert_eq!(read["result"]["contents"][0]["text"].as_str().unwrap().as_bytes(), file("acme/paper-notes/SKILL.md"));
    // The `skills` bouquet: the hosted server's tools for skills (less hf_jobs), plus hf_whoami.
    let (_, r) = s.rpc_full("?bouquet=skills", "tools/list", json!({}), None, json!({})).await;
    let mut tools: Vec<&str> =
        r["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    tools.sort();
    assert_eq!(tools, ["hf_fs", "hf_whoami", "hub_repo_details", "hub_repo_search"]);
    s.stop().await;
}

#[tokio::test]
async fn without_skills_there_is_no_extension_and_no_skill_methods() {
    let hub = spawn(StandInConfig::default()).await;
    let provider = Arc::new(HubProvider::new(client_config(&hub, Duration::from_secs(10))).unwrap());
    let s = serve(Engine::builder(provider, server_info()).build(), HttpConfig::default()).await;
    let discover = rpc(&s, "server/discover", json!({})).await;
    assert!(discover["result"]["capabilities"].get("extensions").is_none(), "{discover}");
    let res = s.request("", "skills/list", json!({}), None, json!({})).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32601, "{body}");
    s.stop().await;
}
