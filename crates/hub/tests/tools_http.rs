//! Every Hub tool through the full server over a real TCP port (2026-07-28 `tools/call`
//! and one session-era exchange), against the Hub stand-in: arguments out of range, unknown,
//! private and gated repositories, continuation with offsets, output truncation, upstream
//! timeouts, 429s and 5xx — each giving a useful tool result, with the server staying
//! healthy — listings that span several `Link` pages (a stand-in with a small page size),
//! including a later page failing, and the caller's token forwarded to the Hub but never echoed.

mod common;

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{client_config, is_error, serve, server_info, text, Served};
use hub_standin::{repos, spawn, tokens, FaultRule, StandIn, StandInConfig};
use hubmcp_hub::HubProvider;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

/// The Hub toolset served over HTTP against a stand-in.
struct Harness {
    hub: StandIn,
    server: Served,
}

impl Deref for Harness {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.server
    }
}

impl Harness {
    async fn start() -> Harness {
        Harness::with_timeout(Duration::from_secs(10)).await
    }

    async fn with_timeout(timeout: Duration) -> Harness {
        Harness::with(StandInConfig::default(), timeout).await
    }

    /// A stand-in whose list endpoints and trees answer at most `max_page_size` items per page.
    async fn paged(max_page_size: usize) -> Harness {
        let config = StandInConfig { max_page_size: Some(max_page_size), ..StandInConfig::default() };
        Harness::with(config, Duration::from_secs(10)).await
    }

    async fn with(standin: StandInConfig, timeout: Duration) -> Harness {
        let hub = spawn(standin).await;
        let provider = Arc::new(HubProvider::new(client_config(&hub, timeout)).unwrap());
        let engine = Engine::builder(provider, server_info()).build();
        Harness { hub, server: serve(engine, HttpConfig::default()).await }
    }

    async fn stop(self) {
        self.server.stop().await;
    }

    /// A stateless-era request; returns the JSON-RPC response.
    async fn rpc(&self, method: &str, params: Value, token: Option<&str>) -> Value {
        self.rpc_full("", method, params, token, json!({})).await.1
    }

    /// `tools/call`; returns the `CallToolResult` (panics on a protocol error).
    async fn call(&self, tool: &str, args: Value, token: Option<&str>) -> Value {
        self.call_at("", tool, args, token).await
    }

    async fn fs(&self, ops: &[&[&str]], token: Option<&str>) -> Value {
        let ops: Vec<Value> = ops.iter().map(|o| json!({ "cmd": o[0], "args": &o[1..] })).collect();
        self.call("hf_fs", json!({ "operations": ops }), token).await
    }
}

/// The per-operation results of an hf_fs call.
fn ops(result: &Value) -> Vec<Value> {
    result["structuredContent"]["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn lists_the_four_tools_with_schemas_and_instructions() {
    let h = Harness::start().await;
    let resp = h.rpc("tools/list", json!({}), None).await;
    let tools = resp["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami"]);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{}", t["name"]);
        assert_eq!(t["outputSchema"]["type"], "object", "{}", t["name"]);
        assert_eq!(t["annotations"]["readOnlyHint"], true);
    }
    let search = &tools[1]["inputSchema"]["properties"];
    for arg in ["query", "repo_types", "author", "filters", "sort", "limit"] {
        assert!(search.get(arg).is_some(), "hub_repo_search lacks {arg}");
    }
    let details = &tools[2]["inputSchema"]["properties"];
    for arg in ["repo_ids", "repo_type", "operations", "config", "split", "offset", "limit"] {
        assert!(details.get(arg).is_some(), "hub_repo_details lacks {arg}");
    }
    let discover = h.rpc("server/discover", json!({}), None).await;
    let instructions = discover["result"]["instructions"].as_str().unwrap();
    assert!(instructions.contains("hf_fs") && instructions.contains("hub_repo_search"));
    h.stop().await;
}

#[tokio::test]
async fn whoami_anonymous_authenticated_and_rejected_tokens() {
    let h = Harness::start().await;
    let anon = h.call("hf_whoami", json!({}), None).await;
    assert!(!is_error(&anon));
    assert_eq!(anon["structuredContent"]["status"], "anonymous");
    assert!(anon["structuredContent"]["guidance"].as_str().unwrap().contains("HF_TOKEN"));

    let alice = h.call("hf_whoami", json!({}), Some(tokens::ALICE_WRITE)).await;
    let s = &alice["structuredContent"];
    assert_eq!(s["status"], "authenticated");
    assert_eq!(s["account"]["name"], "alice");
    assert_eq!(s["credential"]["role"], "write");
    assert_eq!(s["organizations"][0]["name"], "standin-org");
    assert!(!alice.to_string().contains(tokens::ALICE_WRITE));
    assert!(!alice.to_string().contains("alice@example.com"), "email is not exposed");

    let carol = h.call("hf_whoami", json!({}), Some(tokens::CAROL_FINEGRAINED)).await;
    assert_eq!(carol["structuredContent"]["credential"]["role"], "fine_grained");
    assert!(!carol["structuredContent"]["credential"]["permissions"]["scoped"].as_array().unwrap().is_empty());

    let bad = h.call("hf_whoami", json!({}), Some(tokens::INVALID)).await;
    assert!(is_error(&bad));
    assert!(text(&bad).contains("rejected") && text(&bad).contains("Retry: not with the same token"));
    assert!(!bad.to_string().contains(tokens::INVALID));

    // The token reached the Hub as a bearer token.
    let seen = h.hub.requests_to("/api/whoami-v2");
    assert!(seen.iter().any(|r| r.bearer_token() == Some(tokens::ALICE_WRITE)));
    h.stop().await;
}

#[tokio::test]
async fn repo_search_types_limits_and_partial_failures() {
    let h = Harness::start().await;
    let r = h.call("hub_repo_search", json!({ "query": "bert", "limit": 5 }), None).await;
    assert!(!is_error(&r));
    let groups = r["structuredContent"]["groups"].as_array().unwrap();
    assert_eq!(groups.iter().map(|g| g["repo_type"].as_str().unwrap()).collect::<Vec<_>>(), ["model", "dataset"]);
    assert!(text(&r).contains(&format!("https://hf.co/{}", repos::PUBLIC_MODEL)));
    let first = &groups[0]["results"][0];
    assert_eq!(first["id"], repos::PUBLIC_MODEL);
    assert_eq!(first["url"], format!("https://hf.co/{}", repos::PUBLIC_MODEL));

    let spaces = h.call("hub_repo_search", json!({ "repo_types": ["space"], "sort": "likes", "limit": 2 }), None).await;
    let g = &spaces["structuredContent"]["groups"][0];
    assert_eq!(g["repo_type"], "space");
    assert!(g["results"].as_array().unwrap().len() <= 2);
    let q = h.hub.requests_to("/api/spaces").last().unwrap().query.clone().unwrap();
    assert!(q.contains("sort=likes") && q.contains("direction=-1") && q.contains("limit=2"), "{q}");

    for bad in [
        json!({ "limit": 0 }),
        json!({ "limit": 101 }),
        json!({ "limit": 2.5 }),
        json!({ "sort": "stars" }),
        json!({ "repo_types": ["paper"] }),
        json!({ "repo_types": [] }),
    ] {
        let r = h.call("hub_repo_search", bad.clone(), None).await;
        assert!(is_error(&r), "{bad} should be rejected: {r}");
        assert!(text(&r).contains("Retry: not with the same arguments"), "{}", text(&r));
    }

    // One type failing upstream still returns the other, with a retryable note.
    h.hub.inject(FaultRule::server_error("/api/datasets", 503, 10));
    let partial = h.call("hub_repo_search", json!({ "query": "bert" }), None).await;
    assert!(!is_error(&partial));
    let groups = partial["structuredContent"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["results"].as_array().unwrap().len(), 1);
    assert_eq!(groups[1]["retryable"], true);
    assert!(text(&partial).contains("temporarily unavailable"));
    h.hub.clear_faults();
    let healthy = h.call("hub_repo_search", json!({ "query": "imdb", "repo_types": ["dataset"] }), None).await;
    assert_eq!(healthy["structuredContent"]["groups"][0]["results"][0]["id"], repos::PUBLIC_DATASET);
    h.stop().await;
}

#[tokio::test]
async fn repo_details_overviews_unknown_private_and_gated() {
    let h = Harness::start().await;
    let r = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_MODEL, "nobody/nothing", repos::MCP_SPACE] }),
            None,
        )
        .await;
    assert!(!is_error(&r));
    let repos_out = r["structuredContent"]["repositories"].as_array().unwrap();
    assert_eq!(repos_out[0]["status"], "ok");
    assert_eq!(repos_out[0]["matches"][0]["repo_type"], "model");
    assert_eq!(repos_out[1]["status"], "error");
    assert!(repos_out[1]["error"].as_str().unwrap().contains("Could not find repo 'nobody/nothing'"));
    assert_eq!(repos_out[2]["matches"][0]["repo_type"], "space");
    assert_eq!(r["structuredContent"]["results_shared"], 2);
    let t = text(&r);
    assert!(t.find(repos::PUBLIC_MODEL).unwrap() < t.find("nobody/nothing").unwrap());

    // Only unknown ids: a tool error, not a protocol error.
    let none = h.call("hub_repo_details", json!({ "repo_ids": ["nobody/nothing"], "repo_type": "model" }), None).await;
    assert!(is_error(&none));
    assert!(text(&none).contains("Retry: no"), "{}", text(&none));

    // Private: invisible anonymously, visible to a member.
    let anon =
        h.call("hub_repo_details", json!({ "repo_ids": [repos::PRIVATE_MODEL], "repo_type": "model" }), None).await;
    assert!(is_error(&anon));
    assert!(text(&anon).contains("private") && text(&anon).contains("token"));
    let alice =
        h.call("hub_repo_details", json!({ "repo_ids": [repos::PRIVATE_MODEL] }), Some(tokens::ALICE_WRITE)).await;
    assert!(!is_error(&alice), "{}", text(&alice));
    assert!(text(&alice).contains("🔐 Private"));

    // Gated: metadata is public and says it is gated.
    let gated = h.call("hub_repo_details", json!({ "repo_ids": [repos::GATED_MODEL] }), None).await;
    assert!(!is_error(&gated));
    assert!(text(&gated).contains("🔒 Gated"));

    for bad in [
        json!({ "repo_ids": [] }),
        json!({ "repo_ids": (0..11).map(|i| format!("a/b{i}")).collect::<Vec<_>>() }),
        json!({ "repo_ids": ["a/b"], "operations": ["everything"] }),
        json!({ "repo_ids": ["a/b"], "offset": -1 }),
        json!({}),
    ] {
        let r = h.call("hub_repo_details", bad.clone(), None).await;
        assert!(is_error(&r), "{bad} should be rejected");
    }

    let mismatch = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_MODEL], "repo_type": "model", "operations": ["dataset_preview"] }),
            None,
        )
        .await;
    assert!(text(&mismatch).contains("only apply to dataset repos"));
    h.stop().await;
}

#[tokio::test]
async fn repo_details_dataset_structure_and_preview() {
    let h = Harness::start().await;
    let st = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["overview", "dataset_structure"] }),
            None,
        )
        .await;
    assert!(!is_error(&st));
    let m = &st["structuredContent"]["repositories"][0]["matches"][0];
    assert!(m["overview"].is_object());
    let splits = m["structure"]["splits"].as_array().unwrap();
    assert!(splits.iter().any(|s| s["split"] == "train"));
    assert!(text(&st).contains("### Configs and Splits") && text(&st).contains("### Schema Preview"));

    // A failing datasets-server view is a warning quoting the status, not a failed repository.
    h.hub.inject(FaultRule::server_error("/datasets-server/size", 503, 10));
    let degraded = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_structure"] }),
            None,
        )
        .await;
    assert!(!is_error(&degraded));
    assert!(
        degraded.to_string().contains("Could not fetch size information from Dataset Viewer: 503: ")
            && degraded.to_string().contains("A retry may help."),
        "{degraded}"
    );
    h.hub.clear_faults();

    // Several splits: the preview asks for config and split, listing them.
    let ask = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_preview"] }),
            None,
        )
        .await;
    assert!(text(&ask).contains("requires `config` and `split`") && text(&ask).contains("`plain_text` / `train`"));

    let config = splits[0]["config"].as_str().unwrap();
    let pv = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_preview"],
            "config": config, "split": "train", "offset": 1, "limit": 2 }),
            None,
        )
        .await;
    let preview = &pv["structuredContent"]["repositories"][0]["matches"][0]["preview"];
    let rows = preview["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["row_index"], 1);
    let q = h.hub.requests_to("/datasets-server/rows").last().unwrap().query.clone().unwrap();
    assert!(q.contains("offset=1") && q.contains("length=2"), "{q}");

    // An oversized limit is clamped to 100, not refused.
    let big = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_preview"],
            "config": config, "split": "train", "limit": 5000 }),
            None,
        )
        .await;
    assert!(!is_error(&big));
    assert!(h.hub.requests_to("/datasets-server/rows").last().unwrap().query.clone().unwrap().contains("length=100"));

    let wrong = h
        .call(
            "hub_repo_details",
            json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_preview"],
            "config": config, "split": "nope" }),
            None,
        )
        .await;
    assert!(text(&wrong).contains("was not found") && text(&wrong).contains("Available options"));
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_batch_keeps_input_order_and_isolates_errors() {
    let h = Harness::start().await;
    let model = format!("hf://models/{}", repos::PUBLIC_MODEL);
    let readme = format!("{model}/README.md");
    let mut batch: Vec<Vec<String>> = Vec::new();
    for i in 0..30 {
        batch.push(match i % 5 {
            0 => vec!["stat".into(), readme.clone()],
            1 => vec!["ls".into(), model.clone()],
            2 => vec!["cat".into(), format!("{model}/does-not-exist.txt")],
            3 => vec!["frob".into(), model.clone()],
            _ => vec!["ls".into(), "hf://".into()],
        });
    }
    let refs: Vec<Vec<&str>> = batch.iter().map(|o| o.iter().map(String::as_str).collect()).collect();
    let refs: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let r = h.fs(&refs, None).await;
    assert!(!is_error(&r));
    let items = ops(&r);
    assert_eq!(items.len(), 30);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["index"], i);
        match i % 5 {
            0 => assert_eq!(item["result"]["type"], "file"),
            1 => assert!(item["result"]["entries"].as_array().unwrap().len() > 5),
            2 => {
                assert_eq!(item["error"]["code"], "HF_FS_NOT_FOUND");
                assert_eq!(item["error"]["retryable"], false);
            }
            3 => assert_eq!(item["error"]["code"], "HF_FS_INVALID_ARGUMENT"),
            _ => assert_eq!(item["result"]["op"], "ls"),
        }
    }
    let t = text(&r);
    assert!(t.find("## Operation 1\n").unwrap() < t.find("## Operation 30\n").unwrap());

    // 31 operations, an empty batch, unknown fields: rejected as tool errors.
    let too_many: Vec<&[&str]> = (0..31).map(|_| &["ls", "hf://"][..]).collect();
    let r = h.fs(&too_many, None).await;
    assert!(is_error(&r) && text(&r).contains("at most") || text(&r).contains("1 to 30"), "{}", text(&r));
    let r = h.call("hf_fs", json!({ "operations": [] }), None).await;
    assert!(is_error(&r));
    let r = h.call("hf_fs", json!({ "operations": [{ "cmd": "ls", "args": ["hf://"], "extra": 1 }] }), None).await;
    assert!(is_error(&r));
    // All operations failing: isError, still with per-operation errors.
    let r = h
        .fs(&[&["ls", "hf://models/o/r", "--limit", "0"], &["cat", "hf://models/o/r/x", "--max-bytes", "90000"]], None)
        .await;
    assert!(is_error(&r));
    assert!(ops(&r).iter().all(|o| o["error"]["code"] == "HF_FS_INVALID_ARGUMENT"));
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_limits_continuation_and_truncation() {
    let h = Harness::start().await;
    let model = format!("hf://models/{}", repos::PUBLIC_MODEL);

    // ls --limit truncates with a note; --offset continues.
    let r = h
        .fs(
            &[
                &["ls", &model, "--recursive", "--limit", "3"],
                &["ls", &model, "--recursive", "--limit", "3", "--offset", "3"],
            ],
            None,
        )
        .await;
    let items = ops(&r);
    let first = &items[0]["result"];
    assert_eq!(first["entries"].as_array().unwrap().len(), 3);
    assert_eq!(first["truncated"], true);
    assert_eq!(first["truncation_reason"], "entry_limit");
    let second = &items[1]["result"]["entries"];
    assert_ne!(first["entries"][0]["path"], second[0]["path"]);

    // cat pages through a file with next_offset; the pieces rebuild the whole file.
    let readme = format!("{model}/README.md");
    let whole = h.fs(&[&["cat", &readme, "--max-bytes", "0"]], None).await;
    let full = ops(&whole)[0]["result"]["content"].as_str().unwrap().to_owned();
    let mut rebuilt = String::new();
    let mut offset = 0u64;
    for _ in 0..50 {
        let off = offset.to_string();
        let r = h.fs(&[&["cat", &readme, "--offset", &off, "--max-bytes", "100"]], None).await;
        let res = &ops(&r)[0]["result"];
        rebuilt.push_str(res["content"].as_str().unwrap());
        match res["next_offset"].as_u64() {
            Some(n) => offset = n,
            None => break,
        }
    }
    assert_eq!(rebuilt, full);

    // An 80 KB read is cut to the ~20,000-token budget (the hosted server's) with a note and a
    // resumable offset.
    let tok = format!("{model}/tokenizer.json");
    let r = h.fs(&[&["cat", &tok, "--max-bytes", "80000"]], None).await;
    let res = &ops(&r)[0]["result"];
    assert_eq!(res["truncation_reason"], "output_budget");
    let got = res["content"].as_str().unwrap().len() as u64;
    assert!(got < 80_000 && got > 20_000, "{got}");
    assert_eq!(res["next_offset"].as_u64(), Some(got));
    assert!(text(&r).contains("20000") || text(&r).contains("20,000"));
    assert!(got > 12_500 * 4, "more than the other tools' budget: {got}");
    assert!(text(&r).len() < 20_000 * 4 + 2_000);
    assert_eq!(r["structuredContent"]["truncated"], true);

    // Several large reads: later ones are compacted, marked output_truncated.
    let r = h
        .fs(
            &[&["cat", &tok, "--max-bytes", "60000"], &["cat", &tok, "--max-bytes", "60000", "--offset", "60000"]],
            None,
        )
        .await;
    let items = ops(&r);
    assert!(items[1]["output_truncated"] == true || items[1]["result"]["truncation_reason"] == "output_budget");
    assert!(serde_json::to_string(&r["structuredContent"]).unwrap().len() < 20_000 * 4 + 10_000);

    // Out-of-range flags.
    for args in [
        vec!["ls", model.as_str(), "--limit", "10001"],
        vec!["search", "hf://models", "x", "--limit", "1001"],
        vec!["cat", readme.as_str(), "--max-bytes", "80001"],
        vec!["ls", "hf://models/trending", "--limit", "21"],
        vec!["attach", "hf://models/o/r/a.png", "--max-bytes", "9000000"],
    ] {
        let r = h.fs(&[&args], None).await;
        assert_eq!(ops(&r)[0]["error"]["code"], "HF_FS_INVALID_ARGUMENT", "{args:?}");
    }
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_images_binary_gated_and_private() {
    let h = Harness::start().await;
    let sdxl = "hf://models/stabilityai/stable-diffusion-xl-base-1.0";
    let png = format!("{sdxl}/01.png");
    let r = h.fs(&[&["attach", &png], &["attach", &format!("{sdxl}/README.md")], &["cat", &png]], None).await;
    let images: Vec<&Value> = r["content"].as_array().unwrap().iter().filter(|c| c["type"] == "image").collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["mimeType"], "image/png");
    let bytes = base64::engine::general_purpose::STANDARD.decode(images[0]["data"].as_str().unwrap()).unwrap();
    let items = ops(&r);
    assert_eq!(items[0]["result"]["bytes"].as_u64().unwrap(), bytes.len() as u64);
    assert!(bytes.len() as u64 <= 8 * 1024 * 1024);
    assert_eq!(items[1]["error"]["code"], "HF_FS_IMAGE_ONLY");
    assert_eq!(items[2]["error"]["code"], "HF_FS_TEXT_ONLY");
    assert_eq!(items[2]["error"]["suggestedOperation"], "attach");

    // Two attachments of ~4.6 MB: the second exceeds the call's 8 MiB budget.
    let r = h.fs(&[&["attach", &png], &["attach", &png]], None).await;
    let items = ops(&r);
    assert_eq!(items[0]["status"], "success");
    assert_eq!(items[1]["error"]["code"], "HF_FS_ATTACHMENT_BUDGET_EXCEEDED");

    let weights = format!("hf://models/{}/model.safetensors", repos::PUBLIC_MODEL);
    let r = h.fs(&[&["cat", &weights], &["stat", &weights]], None).await;
    assert_eq!(ops(&r)[0]["error"]["code"], "HF_FS_TEXT_ONLY");
    assert_eq!(ops(&r)[1]["result"]["lfs"], true);

    // Gated: anonymous and a user without access are told what to do; a user with access reads it.
    let gated = format!("hf://models/{}/config.json", repos::GATED_MODEL);
    for token in [None, Some(tokens::BOB_READ)] {
        let r = h.fs(&[&["cat", &gated]], token).await;
        let e = &ops(&r)[0]["error"];
        assert_eq!(e["code"], "HF_FS_ACCESS_DENIED", "{token:?}");
        assert!(e["message"].as_str().unwrap().contains("gated"));
        assert!(e["recovery"].as_str().unwrap().contains("access"));
    }
    let r = h.fs(&[&["cat", &gated]], Some(tokens::ALICE_WRITE)).await;
    assert!(ops(&r)[0]["result"]["content"].as_str().unwrap().contains('{'));

    // Private: not found anonymously (with a hint), listed for a member.
    let private = format!("hf://models/{}", repos::PRIVATE_MODEL);
    let r = h.fs(&[&["ls", &private], &["stat", &private]], None).await;
    assert_eq!(ops(&r)[0]["error"]["code"], "HF_FS_NOT_FOUND");
    assert!(ops(&r)[0]["error"]["recovery"].as_str().unwrap().contains("token"));
    assert_eq!(ops(&r)[1]["result"]["exists"], false);
    let r = h.fs(&[&["ls", &private]], Some(tokens::CAROL_FINEGRAINED)).await;
    assert_eq!(ops(&r)[0]["status"], "success");
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_roots_papers_docs_collections_and_trending() {
    let h = Harness::start().await;
    let r = h
        .fs(
            &[
                &["ls", "hf://"],
                &["cat", "hf://README.md"],
                &["ls", "hf://models/trending"],
                &["search", "hf://datasets", "imdb"],
                &["search", "hf://spaces", "image", "--kind", "mcp"],
                &["ls", &format!("hf://models/{}", repos::PUBLIC_MODEL.split('/').next().unwrap())],
                &["search", "hf://papers", "bert"],
                &["ls", "hf://papers/trending"],
                &["ls", "hf://papers/daily/latest"],
                &["cat", "hf://papers/1810.04805/metadata.json"],
                &["cat", "hf://papers/1810.04805/paper.md"],
                &["search", "hf://docs", "access tokens"],
                &["search", "hf://collections", "llm"],
                &["ls", &format!("hf://collections/{}/items", repos::COLLECTION)],
                &["find", &format!("hf://datasets/{}", repos::PUBLIC_DATASET), "--name", "*.parquet"],
                &["ls", "hf://buckets"],
            ],
            None,
        )
        .await;
    let items = ops(&r);
    let ok = |i: usize| {
        assert_eq!(items[i]["status"], "success", "operation {i}: {}", items[i]);
        &items[i]["result"]
    };
    assert_eq!(ok(0)["entries"].as_array().unwrap().len(), 8);
    assert!(ok(1)["content"].as_str().unwrap().contains("hf://"));
    assert!(ok(2)["entries"].as_array().unwrap().iter().all(|e| e["type"] == "repo"));
    assert_eq!(ok(3)["entries"][0]["path"], repos::PUBLIC_DATASET);
    assert!(ok(4)["entries"].as_array().unwrap().iter().any(|e| e["path"] == repos::MCP_SPACE));
    assert!(!ok(5)["entries"].as_array().unwrap().is_empty());
    assert_eq!(ok(6)["entries"][0]["uri"], "hf://papers/1810.04805");
    assert!(!ok(7)["entries"].as_array().unwrap().is_empty());
    assert!(!ok(8)["entries"].as_array().unwrap().is_empty());
    assert!(ok(9)["content"].as_str().unwrap().contains("\"id\": \"1810.04805\""));
    assert!(ok(10)["content"].as_str().unwrap().starts_with("# BERT"));
    let doc = ok(11)["entries"][0]["uri"].as_str().unwrap().to_owned();
    assert!(doc.starts_with("hf://docs/"), "{doc}");
    assert!(!ok(12)["entries"].as_array().unwrap().is_empty());
    assert!(ok(13)["entries"].as_array().unwrap().iter().all(|e| e["type"] == "link" && e["target_uri"].is_string()));
    assert!(ok(14)["entries"].as_array().unwrap().iter().all(|e| e["path"].as_str().unwrap().ends_with(".parquet")));
    // Buckets are listed per owner.
    assert!(items[15]["error"]["message"].as_str().unwrap().contains("explicit owner"), "{}", items[15]);

    // A docs URI from search reads as Markdown.
    let r = h.fs(&[&["cat", &doc]], None).await;
    assert!(ops(&r)[0]["result"]["content"].as_str().unwrap().contains('#'), "{}", text(&r));
    h.stop().await;
}

#[tokio::test]
async fn upstream_timeouts_give_a_retryable_result_and_the_server_recovers() {
    let h = Harness::with_timeout(Duration::from_millis(500)).await;
    h.hub.inject(FaultRule::delay("/api/models", Duration::from_secs(3), Some(1)));
    let started = Instant::now();
    let r = h.call("hub_repo_search", json!({ "query": "bert", "repo_types": ["model"] }), None).await;
    assert!(started.elapsed() < Duration::from_secs(3), "the call waited for the slow Hub");
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("did not answer in time") && t.contains("Retry: yes"), "{t}");

    h.hub.inject(FaultRule::delay("/api/models/", Duration::from_secs(3), Some(1)));
    let r = h.fs(&[&["ls", &format!("hf://models/{}", repos::PUBLIC_MODEL)], &["ls", "hf://"]], None).await;
    let items = ops(&r);
    assert_eq!(items[0]["error"]["code"], "HF_FS_UPSTREAM_TIMEOUT");
    assert_eq!(items[0]["error"]["retryable"], true);
    assert_eq!(items[1]["status"], "success");

    // Follow-up calls succeed.
    let r = h.call("hub_repo_search", json!({ "query": "bert", "repo_types": ["model"] }), None).await;
    assert!(!is_error(&r));
    let r = h.fs(&[&["ls", &format!("hf://models/{}", repos::PUBLIC_MODEL)]], None).await;
    assert_eq!(ops(&r)[0]["status"], "success");
    h.stop().await;
}

#[tokio::test]
async fn rate_limits_are_retried_or_explained_and_the_server_recovers() {
    let h = Harness::start().await;
    // A short Retry-After is honoured by the client: the call succeeds.
    h.hub.inject(FaultRule::rate_limited("/api/whoami-v2", 1, 1));
    let r = h.call("hf_whoami", json!({}), Some(tokens::BOB_READ)).await;
    assert_eq!(r["structuredContent"]["status"], "authenticated");
    assert_eq!(h.hub.requests_to("/api/whoami-v2").len(), 2);

    // A long Retry-After is reported with the wait, not slept through.
    h.hub.inject(FaultRule::rate_limited("/api/models", 50, 120));
    let started = Instant::now();
    let r = h.call("hub_repo_search", json!({ "query": "bert", "repo_types": ["model"] }), None).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("rate-limited") && t.contains("120 s") && t.contains("HF_TOKEN"), "{t}");
    let r = h.fs(&[&["search", "hf://models", "bert"]], None).await;
    assert_eq!(ops(&r)[0]["error"]["code"], "HF_FS_RATE_LIMITED");
    assert_eq!(ops(&r)[0]["error"]["retryable"], true);
    let r = h.call("hub_repo_details", json!({ "repo_ids": [repos::PUBLIC_MODEL], "repo_type": "model" }), None).await;
    assert!(is_error(&r) && text(&r).contains("rate-limited"));
    let r = h.call("hf_whoami", json!({}), Some(tokens::BOB_READ)).await;
    assert_eq!(r["structuredContent"]["status"], "authenticated", "other endpoints are unaffected");

    h.hub.clear_faults();
    let r = h.call("hub_repo_search", json!({ "query": "bert", "repo_types": ["model"] }), None).await;
    assert!(!is_error(&r));
    h.stop().await;
}

#[tokio::test]
async fn the_callers_token_is_forwarded_and_never_echoed() {
    let h = Harness::start().await;
    let token = tokens::ALICE_WRITE;
    let private = format!("hf://models/{}", repos::PRIVATE_MODEL);
    let results = vec![
        h.call("hf_whoami", json!({}), Some(token)).await,
        h.call(
            "hub_repo_search",
            json!({ "author": "standin-org", "repo_types": ["model", "dataset", "space"] }),
            Some(token),
        )
        .await,
        h.call("hub_repo_details", json!({ "repo_ids": [repos::PRIVATE_MODEL, repos::GATED_DATASET] }), Some(token))
            .await,
        h.fs(
            &[&["ls", &private], &["cat", &format!("{private}/README.md")], &["search", "hf://papers", "bert"]],
            Some(token),
        )
        .await,
    ];
    for r in &results {
        assert!(!r.to_string().contains(token), "token echoed in {r}");
    }
    let search = &results[1]["structuredContent"]["groups"][0]["results"];
    assert!(
        search.as_array().unwrap().iter().any(|m| m["id"] == repos::PRIVATE_MODEL),
        "private model visible to alice"
    );
    let seen = h.hub.requests();
    assert!(!seen.is_empty());
    let hub_calls: Vec<_> = seen.iter().filter(|r| !r.path.starts_with("/__")).collect();
    assert!(
        hub_calls.iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {token}"))),
        "every Hub request carried the caller's token"
    );
    // Another caller without a token: nothing leaks across callers.
    let _ = h.fs(&[&["ls", "hf://models/trending"]], None).await;
    assert!(h.hub.requests_to("/api/trending").last().unwrap().authorization.is_none());
    h.stop().await;
}

#[tokio::test]
async fn session_era_http_calls_the_hub_tools() {
    let h = Harness::start().await;
    let post = |session: Option<&str>, body: Value| {
        let mut r = h
            .http
            .post(&h.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", format!("Bearer {}", tokens::BOB_READ))
            .body(body.to_string());
        if let Some(s) = session {
            r = r.header("mcp-session-id", s).header("mcp-protocol-version", "2025-06-18");
        }
        r
    };
    async fn json_of(res: reqwest::Response) -> Value {
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let text = res.text().await.unwrap();
        if ct.starts_with("text/event-stream") {
            serde_json::from_str(text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap()).unwrap()
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let res = post(None, init).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let init = json_of(res).await;
    assert!(init["result"]["instructions"].as_str().unwrap().contains("hf_fs"));
    let res =
        post(Some(&sid), json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).send().await.unwrap();
    assert!(res.status().is_success());
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "hf_whoami", "arguments": {} } });
    let res = json_of(post(Some(&sid), call).send().await.unwrap()).await;
    assert_eq!(res["result"]["structuredContent"]["account"]["name"], "bob");
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "hf_fs",
        "arguments": { "operations": [{ "cmd": "cat", "args": [format!("hf://models/{}/config.json", repos::GATED_MODEL)] }] } } });
    let res = json_of(post(Some(&sid), call).send().await.unwrap()).await;
    assert_eq!(res["result"]["structuredContent"]["results"][0]["error"]["code"], "HF_FS_ACCESS_DENIED");
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Listings across several `Link` pages
// ---------------------------------------------------------------------------------------------

/// What the Hub lists for `path_and_query` in one page (an uncapped stand-in): the order a
/// paged walk must reproduce.
async fn one_page(path_and_query: &str) -> Vec<Value> {
    let hub = spawn(StandInConfig::default()).await;
    let r = reqwest::get(hub.url(path_and_query)).await.unwrap();
    assert_eq!(r.status(), 200, "{path_and_query}");
    assert!(r.headers().get("link").is_none(), "{path_and_query} fits one page");
    r.json().await.unwrap()
}

fn ids_of(items: &[Value], key: &str) -> Vec<String> {
    items.iter().map(|i| i[key].as_str().unwrap().to_owned()).collect()
}

/// The result ids of each `hub_repo_search` group.
fn group_ids(r: &Value) -> Vec<Vec<String>> {
    r["structuredContent"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| ids_of(g["results"].as_array().unwrap(), "id"))
        .collect()
}

fn assert_no_duplicates(ids: &[String]) {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "{id} listed twice in {ids:?}");
    }
}

/// Requests to exactly `path` (not the paths below it), in arrival order.
fn listing_requests(hub: &StandIn, path: &str) -> Vec<hub_standin::RecordedRequest> {
    hub.requests().into_iter().filter(|r| r.path == path).collect()
}

#[tokio::test]
async fn repo_search_collects_every_link_page_in_order() {
    let h = Harness::paged(2).await;
    let types = ["model", "dataset", "space"];
    let r = h.call("hub_repo_search", json!({ "repo_types": types, "sort": "likes", "limit": 100 }), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    for (t, got) in types.iter().zip(group_ids(&r)) {
        let want = ids_of(&one_page(&format!("/api/{t}s?sort=likes&direction=-1&limit=1000")).await, "id");
        assert!(want.len() > 2, "{t}s need several pages of 2");
        assert_eq!(got, want, "{t}s: every repo, in the Hub's order");
        assert_no_duplicates(&got);
        // One request per page of 2; the pages after the first are the Link URLs, verbatim.
        let reqs = listing_requests(&h.hub, &format!("/api/{t}s"));
        assert_eq!(reqs.len(), want.len().div_ceil(2), "{t}s: {reqs:#?}");
        assert!(!reqs[0].query.as_deref().unwrap().contains("cursor="));
        for later in &reqs[1..] {
            let q = later.query.as_deref().unwrap();
            assert!(q.contains("cursor=") && q.contains("sort=likes") && q.contains("limit=100"), "{q}");
        }
    }
    assert_eq!(r["structuredContent"]["truncated"], false);
    assert!(text(&r).contains(&format!("https://hf.co/{}", repos::PUBLIC_MODEL)));

    // A limit between pages: exactly `limit` repos, and no page fetched beyond the one that
    // completes them.
    h.hub.clear_requests();
    let r = h.call("hub_repo_search", json!({ "repo_types": ["model"], "sort": "likes", "limit": 5 }), None).await;
    let want = ids_of(&one_page("/api/models?sort=likes&direction=-1&limit=1000").await, "id");
    assert_eq!(group_ids(&r)[0], want[..5]);
    assert_eq!(listing_requests(&h.hub, "/api/models").len(), 3);

    // A query matching more repos than one page.
    let r = h.call("hub_repo_search", json!({ "query": "qwen", "repo_types": ["model"] }), None).await;
    let want = ids_of(&one_page("/api/models?search=qwen&limit=1000").await, "id");
    assert_eq!(want.len(), 3);
    assert_eq!(group_ids(&r)[0], want);
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_ls_find_and_stat_walk_tree_pages() {
    let h = Harness::paged(3).await;
    let id = repos::PUBLIC_MODEL;
    let model = format!("hf://models/{id}");
    let tree = format!("/api/models/{id}/tree/main");
    let all = ids_of(&one_page(&format!("{tree}?recursive=true")).await, "path");
    let root = ids_of(&one_page(&tree).await, "path");
    assert!(all.len() > 12 && root.len() > 6, "{all:?}");
    let json_files: Vec<String> = all.iter().filter(|p| p.ends_with(".json")).cloned().collect();
    let last_root_file = root.last().unwrap().clone();

    let r = h
        .fs(
            &[
                &["ls", &model, "--recursive"],
                &["ls", &model],
                &["find", &model, "--name", "*.json"],
                &["stat", &format!("{model}/{last_root_file}")],
                &["ls", &model, "--recursive", "--limit", "4", "--offset", "3"],
            ],
            None,
        )
        .await;
    assert!(!is_error(&r));
    let items = ops(&r);
    let paths = |i: usize| {
        assert_eq!(items[i]["status"], "success", "operation {i}: {}", items[i]);
        ids_of(items[i]["result"]["entries"].as_array().unwrap(), "path")
    };
    assert_eq!(paths(0), all, "recursive ls lists the whole tree, in order");
    assert_no_duplicates(&paths(0));
    assert_eq!(paths(1), root);
    assert_eq!(paths(2), json_files);
    assert!(items[0]["result"].get("truncated").is_none() && items[2]["result"].get("truncated").is_none());
    // The root's last entry is on its last page: stat walks there to find it.
    assert_eq!(items[3]["result"]["exists"], true, "{}", items[3]);
    assert_eq!(items[3]["result"]["path"], last_root_file);
    assert_eq!(paths(4), all[3..7]);
    assert_eq!(items[4]["result"]["truncated"], true);

    // Every tree page after the first was requested through its Link URL.
    let reqs = listing_requests(&h.hub, &tree);
    let later: Vec<&str> = reqs.iter().filter_map(|r| r.query.as_deref()).filter(|q| q.contains("cursor=")).collect();
    // Whole recursive walks (ls, find): all pages; the windowed ls stops after offset + limit + 1
    // entries (3 pages); ls and stat walk the root.
    let pages = |n: usize| n.div_ceil(3);
    assert_eq!(reqs.len(), 2 * pages(all.len()) + 3 + 2 * pages(root.len()), "{reqs:#?}");
    assert_eq!(later.len(), reqs.len() - 5);
    assert!(later.iter().filter(|q| q.contains("recursive=true")).count() == 2 * (pages(all.len()) - 1) + 2);
    h.stop().await;
}

#[tokio::test]
async fn a_failing_later_page_gives_a_useful_result_and_the_server_recovers() {
    let h = Harness::paged(2).await;
    let models = ids_of(&one_page("/api/models?sort=likes&direction=-1&limit=1000").await, "id");
    let search = json!({ "repo_types": ["model"], "sort": "likes", "limit": 100 });

    // One 503 on page 2: the client retries that page alone; nothing is lost or repeated.
    h.hub.inject(FaultRule::server_error("/api/models", 503, 1).when_query_contains("cursor="));
    let r = h.call("hub_repo_search", search.clone(), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(group_ids(&r)[0], models);
    let reqs = listing_requests(&h.hub, "/api/models");
    assert_eq!(reqs.len(), models.len().div_ceil(2) + 1);
    assert_eq!(reqs[1].path_and_query, reqs[2].path_and_query, "page 2 retried verbatim");

    // Page 2 rate-limited for longer than the client waits: a tool error that says when a retry
    // helps, without sleeping through the Retry-After.
    h.hub.clear_requests();
    h.hub.inject(FaultRule::rate_limited("/api/models", 50, 120).when_query_contains("cursor="));
    let started = Instant::now();
    let r = h.call("hub_repo_search", search.clone(), None).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("rate-limited") && t.contains("Retry: yes, after about 120 s"), "{t}");
    let reqs = listing_requests(&h.hub, "/api/models");
    assert_eq!(reqs.len(), 2, "page 1, then page 2 once: {reqs:#?}");
    assert!(reqs[1].query.as_deref().unwrap().contains("cursor="));
    // With another type selected, that type's results still arrive; the failed one says retry.
    let r = h.call("hub_repo_search", json!({ "repo_types": ["model", "dataset"], "limit": 100 }), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let groups = r["structuredContent"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["retryable"], true);
    assert!(groups[0]["error"].as_str().unwrap().contains("rate-limited"));
    let datasets = ids_of(&one_page("/api/datasets?limit=1000").await, "id");
    assert_eq!(ids_of(groups[1]["results"].as_array().unwrap(), "id"), datasets);

    // A tree page that keeps failing: that operation fails as retryable, the rest of the batch
    // succeeds.
    let model = format!("hf://models/{}", repos::PUBLIC_MODEL);
    let tree = format!("/api/models/{}/tree/", repos::PUBLIC_MODEL);
    h.hub.clear_faults();
    h.hub.inject(FaultRule::server_error(&tree, 503, 50).when_query_contains("cursor="));
    let r = h.fs(&[&["ls", &model, "--recursive"], &["ls", "hf://"]], None).await;
    assert!(!is_error(&r));
    let items = ops(&r);
    assert_eq!(items[0]["error"]["code"], "HF_FS_UPSTREAM_UNAVAILABLE", "{}", items[0]);
    assert_eq!(items[0]["error"]["retryable"], true);
    assert!(text(&r).contains("Retry helps: yes"), "{}", text(&r));
    assert_eq!(items[1]["status"], "success");

    // Once the Hub recovers, the same calls return everything.
    h.hub.clear_faults();
    let r = h.call("hub_repo_search", search, None).await;
    assert_eq!(group_ids(&r)[0], models);
    let r = h.fs(&[&["ls", &model, "--recursive"]], None).await;
    let all = ids_of(&one_page(&format!("{tree}main?recursive=true")).await, "path");
    assert_eq!(ids_of(ops(&r)[0]["result"]["entries"].as_array().unwrap(), "path"), all);
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_says_when_a_tree_is_larger_than_it_reads() {
    // Pages of one entry: the client follows at most 200 pages, fewer than the 241 entries of
    // the dataset's train/ directory, the way a tree of more than 50,000 entries is cut on the Hub.
    let h = Harness::paged(1).await;
    let ds = format!("hf://datasets/{}", repos::LARGE_TREE_DATASET);
    let csv = format!("{ds}/train/metadata.csv");
    let r = h
        .fs(
            &[
                &["find", &ds, "--name", "*.csv"],
                &["ls", &format!("{ds}/train"), "--glob", "*.csv"],
                &["ls", &format!("{ds}/train")],
                &["stat", &csv],
                &["cat", &csv],
                &["stat", &format!("{ds}/train/00239.jpg")],
                &["stat", &format!("{ds}/train/nothing.txt")],
            ],
            None,
        )
        .await;
    let items = ops(&r);
    let ok = |i: usize| {
        assert_eq!(items[i]["status"], "success", "operation {i}: {}", items[i]);
        &items[i]["result"]
    };
    // Listings that stopped early say so, instead of passing for complete.
    for i in [0, 1, 2] {
        assert_eq!(ok(i)["truncated"], true, "operation {i}: {}", items[i]);
        assert_eq!(ok(i)["truncation_reason"], "provider_limit", "operation {i}");
        assert!(ok(i)["truncation_message"].as_str().unwrap().contains("subdirectory"), "{}", items[i]);
    }
    assert!(ok(0).get("warnings").is_none(), "no 'try another glob' hint for an unfinished scan");
    // Files past the scanned part of their directory are still found and read.
    assert_eq!(ok(3)["exists"], true, "{}", items[3]);
    assert_eq!(ok(3)["type"], "file");
    assert!(ok(4)["content"].as_str().unwrap().starts_with("file_name,label"), "{}", items[4]);
    assert_eq!(ok(5)["exists"], true, "{}", items[5]);
    assert_eq!(ok(5)["size"], 2048);
    assert_eq!(ok(6)["exists"], false, "{}", items[6]);
    h.stop().await;
}
