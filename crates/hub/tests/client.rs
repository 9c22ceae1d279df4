//! Hub client tests against the in-process stand-in: the one access layer the tools use
//! (JSON endpoints, `Link` pagination, file ranges, docs pages), its retries and error mapping.

mod common;

use std::time::{Duration, Instant};

use common::client_config;
use hub_standin::{repos, spawn, tokens, FaultRule, StandIn, StandInConfig};
use hubmcp_hub::client::*;
use serde_json::Value;

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn setup() -> (StandIn, HubClient) {
    let hub = spawn(StandInConfig::default()).await;
    let client = client_for(&hub, fast_retry(), Duration::from_secs(10));
    (hub, client)
}

fn client_for(hub: &StandIn, retry: RetryPolicy, timeout: Duration) -> HubClient {
    HubClient::new(client_config(hub, timeout).with_retry(retry)).unwrap()
}

/// A query as the tools build it.
fn query(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

async fn hub_json(
    client: &HubClient,
    token: Option<&str>,
    path: &str,
    q: &[(&'static str, &str)],
) -> Result<Value, HubError> {
    client.get_json(token, Service::Hub, path, &query(q)).await
}

async fn ds_json(
    client: &HubClient,
    token: Option<&str>,
    path: &str,
    q: &[(&'static str, &str)],
) -> Result<Value, HubError> {
    client.get_json(token, Service::DatasetsServer, path, &query(q)).await
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn follows_link_pagination_until_exhausted() {
    let (hub, client) = setup().await;
    let page = client.list(None, "/api/models", &query(&[("search", "qwen"), ("limit", "1")]), 50).await.unwrap();
    assert_eq!(
        ids(&page.items),
        ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"]
    );
    assert!(!page.truncated);
    assert_eq!(page.next_url, None);
    let reqs = hub.requests_to("/api/models");
    assert_eq!(reqs.len(), 3, "{reqs:#?}");
    // Next pages are the Link URLs, followed verbatim (cursor included).
    assert!(reqs[1].query.as_deref().unwrap().contains("cursor="));
    assert!(reqs[1].query.as_deref().unwrap().contains("search=qwen"));
}

#[tokio::test]
async fn pagination_stops_at_max_items() {
    let (hub, client) = setup().await;
    let page = client.list(None, "/api/models", &query(&[("search", "qwen"), ("limit", "1")]), 2).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.truncated);
    assert!(page.next_url.as_deref().unwrap().contains("cursor="));
    assert_eq!(hub.requests_to("/api/models").len(), 2);

    // A page larger than what is asked for: one request, truncated within the page.
    hub.clear_requests();
    let page = client.list(None, "/api/models", &query(&[("limit", "3")]), 2).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.truncated);
    let reqs = hub.requests_to("/api/models");
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].query.as_deref().unwrap().contains("limit=3"));

    // Zero items requested: no request at all.
    hub.clear_requests();
    let page = client.list(None, "/api/models", &[], 0).await.unwrap();
    assert!(page.items.is_empty());
    assert!(hub.requests().is_empty());
}

#[tokio::test]
async fn list_params_are_sent_and_items_come_back_raw() {
    let (hub, client) = setup().await;
    let q = query(&[("filter", "mcp-server"), ("sort", "likes"), ("direction", "-1"), ("full", "true")]);
    let page = client.list(None, "/api/spaces", &q, 10).await.unwrap();
    assert_eq!(
        ids(&page.items),
        [
            "black-forest-labs/FLUX.1-Kontext-Dev",
            "microsoft/OmniParser-v2",
            "evalstate/flux1_schnell",
            "standin-org/broken-mcp-demo"
        ]
    );
    let flux = &page.items[0];
    assert_eq!(flux["sdk"], "gradio");
    assert_eq!(flux["runtime"]["stage"], "RUNNING");
    assert!(flux["siblings"].as_array().unwrap().iter().any(|s| s["rfilename"] == "app.py"));
    let q = hub.requests_to("/api/spaces")[0].query.clone().unwrap();
    assert!(
        q.contains("filter=mcp-server")
            && q.contains("sort=likes")
            && q.contains("direction=-1")
            && q.contains("full=true"),
        "{q}"
    );

    // expand[] returns only the requested fields.
    let q = query(&[("author", "google-bert"), ("expand[]", "downloadsAllTime")]);
    let raw = client.list(None, "/api/models", &q, 5).await.unwrap();
    assert_eq!(raw.items.len(), 1);
    assert_eq!(raw.items[0]["downloadsAllTime"], 1893346213u64);
    assert!(raw.items[0].get("likes").is_none());

    // Private repos are only listed for members.
    let q = query(&[("author", "standin-org")]);
    let anon = client.list(None, "/api/datasets", &q, 10).await.unwrap();
    let member = client.list(Some(tokens::ALICE_WRITE), "/api/datasets", &q, 10).await.unwrap();
    assert_eq!(anon.items.len() + 1, member.items.len());
}

// ---------------------------------------------------------------------------------------------
// Repo info, trees, files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn repo_info_and_renamed_repo() {
    let (_hub, client) = setup().await;
    let path = format!("/api/models/{}", repos::RENAMED_MODEL);
    let m = hub_json(&client, None, &path, &[]).await.unwrap();
    assert_eq!(m["id"], repos::PUBLIC_MODEL);
    assert_eq!(m["pipeline_tag"], "fill-mask");
    assert_eq!(m["gated"], false);
    assert!(m["siblings"].as_array().unwrap().len() > 5);
    assert!(m.get("widgetData").is_some());

    let gated = hub_json(&client, None, &format!("/api/models/{}", repos::GATED_MODEL), &[]).await.unwrap();
    assert_eq!(gated["gated"], "manual");

    let path = format!("/api/models/{}/revision/v1.0", repos::PUBLIC_MODEL);
    let tagged = hub_json(&client, None, &path, &[]).await.unwrap();
    assert_eq!(tagged["sha"], "1dbc166cf8765166998eff31ade2eb64c8a40076");

    let ds = hub_json(&client, None, &format!("/api/datasets/{}", repos::PUBLIC_DATASET), &[]).await.unwrap();
    assert!(strings(&ds["tags"]).contains(&"task_categories:text-classification"));
    let sp = hub_json(&client, None, &format!("/api/spaces/{}", repos::MCP_SPACE), &[]).await.unwrap();
    assert!(strings(&sp["tags"]).contains(&"mcp-server"));
}

#[tokio::test]
async fn lists_trees() {
    let (_hub, client) = setup().await;
    let root = client.list(None, &format!("/api/models/{}/tree/main", repos::PUBLIC_MODEL), &[], 100).await.unwrap();
    assert!(root.items.iter().any(|e| e["type"] == "directory" && e["path"] == "coreml"));
    let st = root.items.iter().find(|e| e["path"] == "model.safetensors").unwrap();
    assert_eq!(st["size"], 440449768);
    assert_eq!(st["lfs"]["size"], 440449768);

    let path = format!("/api/models/{}/tree/main/coreml", repos::PUBLIC_MODEL);
    let deep = client.list(None, &path, &query(&[("recursive", "true"), ("expand", "true")]), 100).await.unwrap();
    assert!(deep.items.iter().all(|e| e["path"].as_str().unwrap().starts_with("coreml/")));
    assert!(deep.items.iter().any(|e| e["path"].as_str().unwrap().ends_with("Manifest.json")));
    assert!(deep.items.iter().all(|e| e["lastCommit"].is_object()));
}

#[tokio::test]
async fn reads_files_with_ranges_and_truncation() {
    let (hub, client) = setup().await;
    let model = |path: &'static str, offset: u64, max: u64| {
        client.read_file(None, RepoKind::Model, repos::PUBLIC_MODEL, None, path, offset, max)
    };
    let full = model("config.json", 0, 1 << 20).await.unwrap();
    assert!(!full.truncated);
    assert_eq!(full.total_size, Some(full.bytes.len() as u64));
    assert!(full.text().unwrap().contains("\"model_type\": \"bert\""));
    assert_eq!(full.commit.as_deref(), Some("86b5e0934494bd15c9632b12f734a8a67f723594"));

    let head = model("config.json", 0, 20).await.unwrap();
    assert_eq!(head.bytes, full.bytes[..20]);
    assert!(head.truncated);
    assert_eq!(head.total_size, full.total_size);
    assert_eq!(hub.requests_to("/google-bert").last().unwrap().range.as_deref(), Some("bytes=0-19"));

    let mid = model("config.json", 10, 5).await.unwrap();
    assert_eq!(mid.bytes, full.bytes[10..15]);
    assert_eq!(mid.offset, 10);

    let past_end = model("config.json", 10_000, 5).await.unwrap();
    assert!(past_end.bytes.is_empty() && !past_end.truncated);
    assert_eq!(past_end.total_size, full.total_size);

    // LFS file: the Hub redirects to a CDN; the Range survives the redirect.
    let lfs = model("model.safetensors", 0, 16).await.unwrap();
    assert_eq!(lfs.bytes.len(), 16);
    assert_eq!(lfs.total_size, Some(440449768));
    assert!(lfs.truncated);
    let cdn = hub.requests_to("/__cdn/").pop().expect("followed the CDN redirect");
    assert_eq!(cdn.range.as_deref(), Some("bytes=0-15"));

    // Size only.
    let size = model("vocab.txt", 0, 0).await.unwrap();
    assert_eq!(size.total_size, Some(231508));
    assert!(size.bytes.is_empty());

    // Datasets and Spaces use prefixed resolve URLs.
    let readme =
        client.read_file(None, RepoKind::Dataset, repos::PUBLIC_DATASET, None, "README.md", 0, 4096).await.unwrap();
    assert!(readme.text().unwrap().contains("imdb"));
    let app = client.read_file(None, RepoKind::Space, repos::MCP_SPACE, None, "app.py", 0, 4096).await.unwrap();
    assert!(app.text().unwrap().contains("mcp_server=True"));
}

// ---------------------------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn maps_repo_not_found() {
    let (hub, client) = setup().await;
    let e = hub_json(&client, None, "/api/models/nobody/nothing", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.error_code(), Some("RepoNotFound"));
    assert!(e.message().contains("nobody/nothing"));
    assert!(e.message().contains("set a valid HF token"));
    assert!(!e.is_retryable());
    assert!(!e.had_token());
    // Not retried.
    assert_eq!(hub.requests_to("/api/models/nobody").len(), 1);

    let private = format!("/api/models/{}", repos::PRIVATE_MODEL);
    let e = hub_json(&client, Some(tokens::BOB_READ), &private, &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.status(), Some(404));
    assert!(e.message().contains("no access"));
    assert!(e.had_token());

    let m = hub_json(&client, Some(tokens::ALICE_WRITE), &private, &[]).await.unwrap();
    assert_eq!(m["private"], true);
}

#[tokio::test]
async fn maps_gated_repo() {
    let (_hub, client) = setup().await;
    let gated = |token: Option<&'static str>| {
        client.read_file(token, RepoKind::Model, repos::GATED_MODEL, None, "config.json", 0, 100)
    };
    let e = gated(None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::GatedRepo);
    assert_eq!(e.status(), Some(401));
    assert!(e.message().contains("accept the conditions"), "{e}");

    let e = gated(Some(tokens::BOB_READ)).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::GatedRepo);
    assert_eq!(e.status(), Some(403));
    assert!(e.message().contains("accept the conditions on the repo page"));
    assert!(e.message().contains("use a token with access"));
    assert!(e.server_message().unwrap().contains("not in the authorized list"));
    // The tools quote the Hub's own words.
    assert!(e.detail().contains("not in the authorized list"));
    let j = e.to_json();
    assert_eq!(j["kind"], "gated_repo");
    assert_eq!(j["retryable"], false);

    let ok = gated(Some(tokens::CAROL_FINEGRAINED)).await.unwrap();
    assert!(ok.text().unwrap().contains("LlamaForCausalLM"));
}

#[tokio::test]
async fn maps_revision_and_entry_not_found() {
    let (_hub, client) = setup().await;
    let path = format!("/api/models/{}/revision/does-not-exist", repos::PUBLIC_MODEL);
    let e = hub_json(&client, None, &path, &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RevisionNotFound);

    let e = client.list(None, &format!("/api/models/{}/tree/nope", repos::PUBLIC_MODEL), &[], 10).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RevisionNotFound);

    // With the revision known to the call, the message names it.
    let e = client
        .read_file(None, RepoKind::Model, repos::PUBLIC_MODEL, Some("does-not-exist"), "config.json", 0, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RevisionNotFound);
    assert!(e.message().contains("'does-not-exist'"));

    let e = client
        .read_file(None, RepoKind::Model, repos::PUBLIC_MODEL, None, "missing/file.txt", 0, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::EntryNotFound);
    assert_eq!(e.status(), Some(404));
    assert!(e.message().contains("'missing/file.txt'"));
    assert!(e.is_not_found());

    let path = format!("/api/models/{}/tree/main/no-such-dir", repos::PUBLIC_MODEL);
    let e = client.list(None, &path, &[], 10).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::EntryNotFound);

    // Invalid input never reaches the network.
    let e = hub_json(&client, None, "/api/models/../../api/whoami-v2", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
    let e = client.read_file(None, RepoKind::Model, "../../api/whoami-v2", None, "x", 0, 10).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Retries, rate limits, timeouts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retries_429_honouring_retry_after_then_succeeds() {
    let (hub, client) = setup().await;
    hub.inject(FaultRule::rate_limited("/api/models", 1, 1));
    let started = Instant::now();
    let page = client.list(None, "/api/models", &query(&[("search", "gpt2")]), 5).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(page.items[0]["id"], "openai-community/gpt2");
    assert_eq!(hub.requests_to("/api/models").len(), 2);
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
}

#[tokio::test]
async fn rate_limit_exhausting_attempts_is_reported() {
    let (hub, client) = setup().await;
    hub.inject(FaultRule::rate_limited("/api/whoami-v2", 10, 0));
    let e = hub_json(&client, Some(tokens::ALICE_WRITE), "/api/whoami-v2", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RateLimited);
    assert_eq!(e.status(), Some(429));
    assert!(e.is_retryable());
    assert!(e.message().contains("retry after 0 s"), "{e}");
    assert_eq!(hub.requests_to("/api/whoami-v2").len(), 3);

    // A Retry-After beyond the policy's cap is not waited for.
    hub.clear_faults();
    hub.clear_requests();
    hub.inject(FaultRule::rate_limited("/api/trending", 10, 120));
    let started = Instant::now();
    let e = hub_json(&client, None, "/api/trending", &[("type", "all"), ("limit", "5")]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(e.message().contains("retry after 120 s"));
    assert!(e.message().contains("Authenticated requests"));
    assert_eq!(hub.requests_to("/api/trending").len(), 1);
}

#[tokio::test]
async fn retries_5xx_then_succeeds() {
    let (hub, client) = setup().await;
    hub.inject(FaultRule::server_error("/api/whoami-v2", 503, 2));
    let me = hub_json(&client, Some(tokens::BOB_READ), "/api/whoami-v2", &[]).await.unwrap();
    assert_eq!(me["name"], "bob");
    assert_eq!(hub.requests_to("/api/whoami-v2").len(), 3);

    hub.inject(FaultRule::server_error("/api/papers", 502, 10));
    let e = hub_json(&client, None, "/api/papers/2407.21783", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::ServerError);
    assert_eq!(e.status(), Some(502));
    assert!(e.is_retryable());
    assert!(e.message().contains("HTTP 502"));
}

#[tokio::test]
async fn times_out_on_slow_endpoint_without_retrying() {
    let hub = spawn(StandInConfig::default()).await;
    let client = client_for(&hub, fast_retry(), Duration::from_millis(300));
    hub.inject(FaultRule::delay("/api/models/", Duration::from_secs(3), None));
    let started = Instant::now();
    let e = hub_json(&client, None, &format!("/api/models/{}", repos::PUBLIC_MODEL), &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::Timeout);
    assert!(e.is_retryable());
    assert!(e.message().contains("timed out after 0.3 s"), "{e}");
    assert!(e.message().contains("HF_API_TIMEOUT"));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(hub.requests_to("/api/models/").len(), 1);
}

#[tokio::test]
async fn connection_failures_are_retried_and_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let cfg =
        HubClientConfig::default().with_endpoint(&format!("http://127.0.0.1:{port}")).unwrap().with_retry(fast_retry());
    let client = HubClient::new(cfg).unwrap();
    let e = hub_json(&client, None, "/api/models/a/b", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::Connection);
    assert!(e.is_retryable());
    assert!(e.message().contains("127.0.0.1"));
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn forwards_token_as_bearer_and_never_leaks_it() {
    let (hub, client) = setup().await;
    let me = hub_json(&client, Some(tokens::ALICE_WRITE), "/api/whoami-v2", &[]).await.unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["auth"]["accessToken"]["role"], "write");
    assert_eq!(me["orgs"][0]["name"], "standin-org");
    assert_eq!(me["orgs"][0]["roleInOrg"], "admin");
    let req = hub.requests_to("/api/whoami-v2").pop().unwrap();
    assert_eq!(req.authorization.as_deref(), Some("Bearer hf_standin_alice_write"));
    assert!(req.user_agent.unwrap().starts_with("hubmcp/"));

    // Anonymous calls send no Authorization header.
    hub_json(&client, None, &format!("/api/models/{}", repos::PUBLIC_MODEL), &[]).await.unwrap();
    assert_eq!(hub.requests_to("/api/models/").pop().unwrap().authorization, None);

    // Rejected token: actionable message, token nowhere in Display / Debug / JSON.
    let bad = Token::new(tokens::INVALID).unwrap();
    let path = format!("/api/models/{}", repos::PUBLIC_MODEL);
    let e = hub_json(&client, Some(tokens::INVALID), &path, &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::Unauthorized);
    assert!(e.message().contains("set a valid HF token") || e.message().contains("Set a valid HF token"));
    for rendered in [format!("{e}"), format!("{e:?}"), e.to_json().to_string(), format!("{bad:?}"), format!("{bad}")] {
        assert!(!rendered.contains(tokens::INVALID), "token leaked in: {rendered}");
    }
    let req = hub.requests().pop().unwrap();
    assert_eq!(req.bearer_token(), Some(tokens::INVALID));

    let e = client
        .read_file(Some(tokens::BOB_READ), RepoKind::Model, repos::GATED_MODEL, None, "config.json", 0, 10)
        .await
        .unwrap_err();
    for rendered in [format!("{e}"), format!("{e:?}"), e.to_json().to_string(), e.detail()] {
        assert!(!rendered.contains(tokens::BOB_READ));
    }
    // A malformed token is refused before any request, as unauthorized.
    hub.clear_requests();
    let e = hub_json(&client, Some(""), "/api/whoami-v2", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::Unauthorized);
    assert!(e.had_token());
    assert!(hub.requests().is_empty());
    // The client's Debug shows no token either (tokens are per call, never stored).
    assert!(!format!("{client:?}").contains("hf_"));
}

#[tokio::test]
async fn whoami_fine_grained_scopes() {
    let (_hub, client) = setup().await;
    let me = hub_json(&client, Some(tokens::CAROL_FINEGRAINED), "/api/whoami-v2", &[]).await.unwrap();
    let token = &me["auth"]["accessToken"];
    assert_eq!(token["role"], "fineGrained");
    let fg = &token["fineGrained"];
    assert_eq!(fg["canReadGatedRepos"], true);
    assert_eq!(strings(&fg["global"]), ["discussion.write", "post.write"]);
    assert_eq!(fg["scoped"][1]["entity"]["name"], "standin-org");
    assert_eq!(strings(&fg["scoped"][1]["permissions"]), ["repo.content.read"]);

    let bob = hub_json(&client, Some(tokens::BOB_READ), "/api/whoami-v2", &[]).await.unwrap();
    assert_eq!(bob["auth"]["accessToken"]["role"], "read");
    assert!(bob["orgs"].as_array().is_none_or(|o| o.is_empty()));
}

// ---------------------------------------------------------------------------------------------
// Papers, docs, collections, discovery
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn papers() {
    let (_hub, client) = setup().await;
    let hits = hub_json(&client, None, "/api/papers/search", &[("q", "kazakh question answering"), ("limit", "5")])
        .await
        .unwrap();
    assert_eq!(hits[0]["paper"]["id"], "2404.04487");
    assert!(hits[0]["highlightedTitle"].as_array().unwrap().iter().any(|s| s["type"] == "highlight"));

    let exact = hub_json(&client, None, "/api/papers/search", &[("q", "2407.21783")]).await.unwrap();
    assert_eq!(exact[0]["paper"]["title"], "The Llama 3 Herd of Models");

    // Daily papers page with p=, announced by a relative Link header.
    let q = query(&[("sort", "trending"), ("p", "0"), ("limit", "2")]);
    let daily = client.list(None, "/api/daily_papers", &q, 5).await.unwrap();
    assert_eq!(daily.items.len(), 5);
    assert!(daily.truncated);
    assert_eq!(daily.items[0]["paper"]["id"], "2501.12948");
    assert_eq!(daily.items[0]["submittedBy"]["user"], "akhaliq");

    let q = query(&[("date", "2024-08-01"), ("p", "0"), ("limit", "10")]);
    let dated = client.list(None, "/api/daily_papers", &q, 10).await.unwrap();
    assert_eq!(dated.items.len(), 1);
    assert!(!dated.truncated);

    let p = hub_json(&client, None, "/api/papers/2407.21783", &[]).await.unwrap();
    assert_eq!(p["organization"]["name"], "meta-llama");
    let e = hub_json(&client, None, "/api/papers/9999.99999", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
    assert!(e.message().contains("9999.99999"));
}

#[tokio::test]
async fn docs() {
    let (hub, client) = setup().await;
    let q = [("q", "gated token"), ("limit", "3"), ("product", "hub")];
    let hits = hub_json(&client, None, "/api/docs/search", &q).await.unwrap();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["product"] == "hub"));
    let url = hits[0]["source_page_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://huggingface.co/docs/hub/"));

    // Official URLs are mapped onto the configured endpoint.
    let page = client.doc_page(&url, 100_000).await.unwrap();
    assert!(page.content.starts_with("# User access tokens"));
    assert!(page.content_type.unwrap().starts_with("text/markdown"));
    assert!(!page.truncated);
    assert!(page.url.starts_with(&hub.base_url));

    let short = client.doc_page("/docs/transformers/quicktour", 40).await.unwrap();
    assert_eq!(short.content.len(), 40);
    assert!(short.truncated);
    let (text, content_type) = client.doc_text("/docs/transformers/quicktour", 40).await.unwrap().unwrap();
    assert_eq!(text, short.content);
    assert!(content_type.unwrap().starts_with("text/markdown"));

    let e = client.doc_page("https://example.com/docs/hub", 100).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
    let e = client.doc_page("/docs/hub/no-such-page", 100).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
    assert_eq!(client.doc_text("/docs/hub/no-such-page", 100).await.unwrap(), None);
}

#[tokio::test]
async fn collections() {
    let (_hub, client) = setup().await;
    let q = query(&[("owner", "alice")]);
    let anon = client.list(None, "/api/collections", &q, 10).await.unwrap();
    assert_eq!(anon.items.len(), 1);
    assert!(anon.items[0]["items"].as_array().unwrap().len() <= 4);
    let mine = client.list(Some(tokens::ALICE_WRITE), "/api/collections", &q, 10).await.unwrap();
    assert_eq!(mine.items.len(), 2);

    let paged = client.list(None, "/api/collections", &query(&[("limit", "1")]), 10).await.unwrap();
    assert_eq!(paged.items.len(), 2);

    let by_item = client.list(None, "/api/collections", &query(&[("item", "papers/2212.04356")]), 10).await.unwrap();
    assert_eq!(by_item.items[0]["slug"], "alice/speech-and-vision-6701a2b3c4d5e6f708192a3b");

    let c = hub_json(&client, None, &format!("/api/collections/{}", repos::COLLECTION), &[]).await.unwrap();
    assert_eq!(c["owner"]["name"], "standin-org");
    let items = c["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(items[0]["note"]["text"], "Strong general-purpose 7B chat model.");
    assert!(items.iter().any(|i| i["type"] == "paper" && i["id"] == "2407.21783"));

    let path = "/api/collections/alice/private-reading-list-6790b1c2d3e4f5a6b7c8d9e0";
    let e = hub_json(&client, None, path, &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
}

#[tokio::test]
async fn trending_and_semantic_search() {
    let (hub, client) = setup().await;
    let t = hub_json(&client, None, "/api/trending", &[("type", "model"), ("limit", "3")]).await.unwrap();
    let t = t["recentlyTrending"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert!(t.iter().all(|i| i["repoType"] == "model"));
    assert_eq!(t[0]["repoData"]["id"], "Qwen/Qwen2.5-7B-Instruct");
    let all = hub_json(&client, None, "/api/trending", &[("type", "all"), ("limit", "20")]).await.unwrap();
    assert!(all["recentlyTrending"].as_array().unwrap().iter().any(|i| i["repoType"] == "space"));
    assert!(hub.requests_to("/api/trending")[0].query.as_deref().unwrap().contains("type=model"));

    let q = [("q", "generate images"), ("filter", "mcp-server")];
    let hits = hub_json(&client, None, "/api/spaces/semantic-search", &q).await.unwrap();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| strings(&h["tags"]).contains(&"mcp-server")));
    assert!(hits.iter().all(|h| h["runtime"]["stage"] == "RUNNING"));
    let score = |h: &Value| h["semanticRelevancyScore"].as_f64().unwrap();
    assert!(score(&hits[0]) >= score(hits.last().unwrap()));

    let q = [("q", "speech"), ("includeNonRunning", "true")];
    let with_broken = hub_json(&client, None, "/api/spaces/semantic-search", &q).await.unwrap();
    assert!(with_broken.as_array().unwrap().iter().any(|h| h["id"] == "standin-org/broken-mcp-demo"));
}

// ---------------------------------------------------------------------------------------------
// datasets-server
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn datasets_server() {
    let (_hub, client) = setup().await;
    let splits = ds_json(&client, None, "/splits", &[("dataset", "openai/gsm8k")]).await.unwrap();
    let splits = splits["splits"].as_array().unwrap();
    let mut configs: Vec<&str> = splits.iter().map(|s| s["config"].as_str().unwrap()).collect();
    configs.dedup();
    assert_eq!(configs, ["main", "socratic"]);
    assert_eq!(splits.len(), 4);

    let size = ds_json(&client, None, "/size", &[("dataset", repos::PUBLIC_DATASET)]).await.unwrap();
    assert_eq!(size["size"]["dataset"]["num_rows"], 14);
    assert_eq!(size["size"]["splits"].as_array().unwrap().len(), 3);
    let q = [("dataset", repos::PUBLIC_DATASET), ("config", "plain_text")];
    let cfg_size = ds_json(&client, None, "/size", &q).await.unwrap();
    assert!(cfg_size["size"]["config"].is_object());

    let q = [
        ("dataset", repos::PUBLIC_DATASET),
        ("config", "plain_text"),
        ("split", "train"),
        ("offset", "6"),
        ("length", "5"),
    ];
    let rows = ds_json(&client, None, "/rows", &q).await.unwrap();
    assert_eq!(rows["rows"].as_array().unwrap().len(), 2);
    assert_eq!(rows["rows"][0]["row_idx"], 6);
    assert_eq!(rows["num_rows_total"], 8);
    assert_eq!(rows["features"][1]["name"], "label");

    let q = [("dataset", "ylecun/mnist"), ("config", "mnist"), ("split", "test")];
    let first = ds_json(&client, None, "/first-rows", &q).await.unwrap();
    assert_eq!(first["rows"].as_array().unwrap().len(), 2);
    assert_eq!(first["rows"][0]["row"]["image"]["width"], 28);

    let valid = ds_json(&client, None, "/is-valid", &[("dataset", "ylecun/mnist")]).await.unwrap();
    assert!(valid["viewer"] == true && valid["search"] == false);
    let info = ds_json(&client, None, "/info", &[("dataset", "ylecun/mnist"), ("config", "mnist")]).await.unwrap();
    assert_eq!(info["dataset_info"]["config_name"], "mnist");
    let parquet = ds_json(&client, None, "/parquet", &[("dataset", "openai/gsm8k"), ("config", "main")]).await.unwrap();
    assert_eq!(parquet["parquet_files"].as_array().unwrap().len(), 2);

    // Errors.
    let gated = [("dataset", repos::GATED_DATASET)];
    let e = ds_json(&client, None, "/splits", &gated).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.error_code(), Some("ExternalUnauthenticatedError"));
    let ok = ds_json(&client, Some(tokens::ALICE_WRITE), "/splits", &gated).await.unwrap();
    assert_eq!(ok["splits"].as_array().unwrap().len(), 1);
    let q = [
        ("dataset", repos::PUBLIC_DATASET),
        ("config", "plain_text"),
        ("split", "nope"),
        ("offset", "0"),
        ("length", "10"),
    ];
    let e = ds_json(&client, None, "/rows", &q).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
    assert!(e.message().contains("config and split names"));

    let raw = ds_json(&client, None, "/splits", &[("dataset", "rajpurkar/squad")]).await.unwrap();
    assert_eq!(raw["splits"][0]["config"], "plain_text");
}

#[tokio::test]
async fn raw_json_pass_through() {
    let (_hub, client) = setup().await;
    let path = "/api/models/google-bert/bert-base-uncased";
    let v = hub_json(&client, None, path, &[("expand[]", "likes")]).await.unwrap();
    assert_eq!(v["id"], repos::PUBLIC_MODEL);
    assert!(v.get("likes").is_some());
    let page = client.list(None, "/api/datasets", &query(&[("limit", "2")]), 4).await.unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(page.truncated);
    let e = hub_json(&client, None, "https://evil.example/x", &[]).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
}

#[tokio::test]
async fn client_is_cheap_to_clone_and_shares_the_pool() {
    let (hub, client) = setup().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let v = c.get_json(None, Service::Hub, "/api/models/openai-community/gpt2", &[]).await?;
            Ok::<_, HubError>(v["id"].as_str().unwrap_or_default().to_owned())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "openai-community/gpt2");
    }
    assert_eq!(hub.requests_to("/api/models/").len(), 8);
}
