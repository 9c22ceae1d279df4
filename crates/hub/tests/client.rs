//! Hub client tests against the in-process stand-in.

use std::time::{Duration, Instant};

use hub_standin::{repos, spawn, tokens, FaultRule, StandIn, StandInConfig};
use hubmcp_hub::client::*;

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
    let cfg = HubClientConfig::default()
        .with_endpoint(&hub.base_url)
        .unwrap()
        .with_datasets_server(&hub.datasets_server_url)
        .unwrap()
        .with_retry(retry)
        .with_timeout(timeout);
    HubClient::new(cfg).unwrap()
}

fn tok(s: &str) -> Token {
    Token::new(s).unwrap()
}

fn params_search(q: &str) -> ListParams {
    ListParams { search: Some(q.into()), ..ListParams::default() }
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn follows_link_pagination_until_exhausted() {
    let (hub, client) = setup().await;
    let params = ListParams { page_size: Some(1), ..params_search("qwen") };
    let page = client.list_models(&params, 50, None).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"]);
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
    let params = ListParams { page_size: Some(1), ..params_search("qwen") };
    let page = client.list_models(&params, 2, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.truncated);
    assert!(page.next_url.as_deref().unwrap().contains("cursor="));
    assert_eq!(hub.requests_to("/api/models").len(), 2);

    // Default page size is min(max_items, 500): one request, truncated within the page.
    hub.clear_requests();
    let page = client.list_models(&ListParams::default(), 3, None).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.truncated);
    let reqs = hub.requests_to("/api/models");
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].query.as_deref().unwrap().contains("limit=3"));

    // Zero items requested: no request at all.
    hub.clear_requests();
    let page = client.list_models(&ListParams::default(), 0, None).await.unwrap();
    assert!(page.items.is_empty());
    assert!(hub.requests().is_empty());
}

#[tokio::test]
async fn list_params_are_sent_and_typed_models_parse() {
    let (hub, client) = setup().await;
    let params = ListParams {
        filters: vec!["mcp-server".into()],
        sort: Some("likes".into()),
        full: true,
        ..ListParams::default()
    };
    let page = client.list_spaces(&params, 10, None).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "black-forest-labs/FLUX.1-Kontext-Dev",
            "microsoft/OmniParser-v2",
            "evalstate/flux1_schnell",
            "standin-org/broken-mcp-demo"
        ]
    );
    let flux = &page.items[0];
    assert_eq!(flux.sdk.as_deref(), Some("gradio"));
    assert!(flux.runtime.as_ref().unwrap().is_running());
    assert!(flux.siblings.as_ref().unwrap().iter().any(|s| s.rfilename == "app.py"));
    let q = hub.requests_to("/api/spaces")[0].query.clone().unwrap();
    assert!(
        q.contains("filter=mcp-server")
            && q.contains("sort=likes")
            && q.contains("direction=-1")
            && q.contains("full=true"),
        "{q}"
    );

    // expand[] returns only the requested fields; full + expand is refused locally.
    let params = ListParams {
        expand: vec!["downloadsAllTime".into()],
        author: Some("google-bert".into()),
        ..ListParams::default()
    };
    let raw = client.list_repos_json(RepoKind::Model, &params, 5, None).await.unwrap();
    assert_eq!(raw.items.len(), 1);
    assert_eq!(raw.items[0]["downloadsAllTime"], 1893346213u64);
    assert!(raw.items[0].get("likes").is_none());
    let err = client
        .list_repos(
            RepoKind::Model,
            &ListParams { full: true, expand: vec!["likes".into()], ..ListParams::default() },
            5,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), HubErrorKind::InvalidInput);

    // Private repos are only listed for members.
    let anon = client
        .list_datasets(&ListParams { author: Some("standin-org".into()), ..Default::default() }, 10, None)
        .await
        .unwrap();
    let member = client
        .list_datasets(
            &ListParams { author: Some("standin-org".into()), ..Default::default() },
            10,
            Some(&tok(tokens::ALICE_WRITE)),
        )
        .await
        .unwrap();
    assert_eq!(anon.items.len() + 1, member.items.len());
}

// ---------------------------------------------------------------------------------------------
// Repo info, trees, files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn repo_info_and_renamed_repo() {
    let (_hub, client) = setup().await;
    let m = client.model_info(repos::RENAMED_MODEL, None, None).await.unwrap();
    assert_eq!(m.id, repos::PUBLIC_MODEL);
    assert_eq!(m.pipeline_tag.as_deref(), Some("fill-mask"));
    assert_eq!(m.gated, Gated::No);
    assert!(m.siblings.as_ref().unwrap().len() > 5);
    assert!(m.extra.contains_key("widgetData"));

    let gated = client.model_info(repos::GATED_MODEL, None, None).await.unwrap();
    assert_eq!(gated.gated, Gated::Manual);

    let tagged = client.repo_info(RepoKind::Model, repos::PUBLIC_MODEL, Some("v1.0"), None).await.unwrap();
    assert_eq!(tagged.sha(), Some("1dbc166cf8765166998eff31ade2eb64c8a40076"));

    let ds = client.dataset_info(repos::PUBLIC_DATASET, None, None).await.unwrap();
    assert!(ds.tags.iter().any(|t| t == "task_categories:text-classification"));
    let sp = client.space_info(repos::MCP_SPACE, None, None).await.unwrap();
    assert!(sp.tags.iter().any(|t| t == "mcp-server"));
}

#[tokio::test]
async fn lists_trees() {
    let (_hub, client) = setup().await;
    let root = client
        .list_tree(RepoKind::Model, repos::PUBLIC_MODEL, None, None, TreeOptions::default(), 100, None)
        .await
        .unwrap();
    assert!(root.items.iter().any(|e| e.is_dir() && e.path == "coreml"));
    let st = root.items.iter().find(|e| e.path == "model.safetensors").unwrap();
    assert_eq!(st.size, 440449768);
    assert_eq!(st.lfs.as_ref().unwrap().size, 440449768);

    let deep = client
        .list_tree(
            RepoKind::Model,
            repos::PUBLIC_MODEL,
            Some("main"),
            Some("coreml"),
            TreeOptions { recursive: true, expand: true },
            100,
            None,
        )
        .await
        .unwrap();
    assert!(deep.items.iter().all(|e| e.path.starts_with("coreml/")));
    assert!(deep.items.iter().any(|e| e.path.ends_with("Manifest.json")));
    assert!(deep.items.iter().all(|e| e.last_commit.is_some()));
}

#[tokio::test]
async fn reads_files_with_ranges_and_truncation() {
    let (hub, client) = setup().await;
    let full =
        client.read_file(RepoKind::Model, repos::PUBLIC_MODEL, None, "config.json", 1 << 20, None).await.unwrap();
    assert!(!full.truncated);
    assert_eq!(full.total_size, Some(full.bytes.len() as u64));
    assert!(full.text().unwrap().contains("\"model_type\": \"bert\""));
    assert_eq!(full.commit.as_deref(), Some("86b5e0934494bd15c9632b12f734a8a67f723594"));

    let head = client.read_file(RepoKind::Model, repos::PUBLIC_MODEL, None, "config.json", 20, None).await.unwrap();
    assert_eq!(head.bytes, full.bytes[..20]);
    assert!(head.truncated);
    assert_eq!(head.total_size, full.total_size);
    assert_eq!(hub.requests_to("/google-bert").last().unwrap().range.as_deref(), Some("bytes=0-19"));

    let mid =
        client.read_file_range(RepoKind::Model, repos::PUBLIC_MODEL, None, "config.json", 10, 5, None).await.unwrap();
    assert_eq!(mid.bytes, full.bytes[10..15]);
    assert_eq!(mid.offset, 10);

    let past_end = client
        .read_file_range(RepoKind::Model, repos::PUBLIC_MODEL, None, "config.json", 10_000, 5, None)
        .await
        .unwrap();
    assert!(past_end.bytes.is_empty() && !past_end.truncated);
    assert_eq!(past_end.total_size, full.total_size);

    // LFS file: the Hub redirects to a CDN; the Range survives the redirect.
    let lfs =
        client.read_file(RepoKind::Model, repos::PUBLIC_MODEL, None, "model.safetensors", 16, None).await.unwrap();
    assert_eq!(lfs.bytes.len(), 16);
    assert_eq!(lfs.total_size, Some(440449768));
    assert!(lfs.truncated);
    let cdn = hub.requests_to("/__cdn/").pop().expect("followed the CDN redirect");
    assert_eq!(cdn.range.as_deref(), Some("bytes=0-15"));

    // Size only.
    let size = client.read_file(RepoKind::Model, repos::PUBLIC_MODEL, None, "vocab.txt", 0, None).await.unwrap();
    assert_eq!(size.total_size, Some(231508));
    assert!(size.bytes.is_empty());

    // Datasets and Spaces use prefixed resolve URLs.
    let readme =
        client.read_file(RepoKind::Dataset, repos::PUBLIC_DATASET, None, "README.md", 4096, None).await.unwrap();
    assert!(readme.text().unwrap().contains("imdb"));
    let app = client.read_file(RepoKind::Space, repos::MCP_SPACE, None, "app.py", 4096, None).await.unwrap();
    assert!(app.text().unwrap().contains("mcp_server=True"));
}

// ---------------------------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn maps_repo_not_found() {
    let (hub, client) = setup().await;
    let e = client.model_info("nobody/nothing", None, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.error_code(), Some("RepoNotFound"));
    assert!(e.message().contains("nobody/nothing"));
    assert!(e.message().contains("set a valid HF token"));
    assert!(!e.is_retryable());
    // Not retried.
    assert_eq!(hub.requests_to("/api/models/nobody").len(), 1);

    let bob = tok(tokens::BOB_READ);
    let e = client.model_info(repos::PRIVATE_MODEL, None, Some(&bob)).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.status(), Some(404));
    assert!(e.message().contains("no access"));

    let alice = tok(tokens::ALICE_WRITE);
    let m = client.model_info(repos::PRIVATE_MODEL, None, Some(&alice)).await.unwrap();
    assert!(m.private);
}

#[tokio::test]
async fn maps_gated_repo() {
    let (_hub, client) = setup().await;
    let e = client.read_file(RepoKind::Model, repos::GATED_MODEL, None, "config.json", 100, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::GatedRepo);
    assert_eq!(e.status(), Some(401));
    assert!(e.message().contains("accept the conditions"), "{e}");

    let bob = tok(tokens::BOB_READ);
    let e =
        client.read_file(RepoKind::Model, repos::GATED_MODEL, None, "config.json", 100, Some(&bob)).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::GatedRepo);
    assert_eq!(e.status(), Some(403));
    assert!(e.message().contains("accept the conditions on the repo page"));
    assert!(e.message().contains("use a token with access"));
    assert!(e.server_message().unwrap().contains("not in the authorized list"));
    let j = e.to_json();
    assert_eq!(j["kind"], "gated_repo");
    assert_eq!(j["retryable"], false);

    let carol = tok(tokens::CAROL_FINEGRAINED);
    let ok =
        client.read_file(RepoKind::Model, repos::GATED_MODEL, None, "config.json", 100, Some(&carol)).await.unwrap();
    assert!(ok.text().unwrap().contains("LlamaForCausalLM"));
}

#[tokio::test]
async fn maps_revision_and_entry_not_found() {
    let (_hub, client) = setup().await;
    let e = client.model_info(repos::PUBLIC_MODEL, Some("does-not-exist"), None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RevisionNotFound);
    assert!(e.message().contains("'does-not-exist'"));

    let e = client
        .list_tree(RepoKind::Model, repos::PUBLIC_MODEL, Some("nope"), None, TreeOptions::default(), 10, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RevisionNotFound);

    let e =
        client.read_file(RepoKind::Model, repos::PUBLIC_MODEL, None, "missing/file.txt", 10, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::EntryNotFound);
    assert_eq!(e.status(), Some(404));
    assert!(e.message().contains("'missing/file.txt'"));

    let e = client
        .list_tree(RepoKind::Model, repos::PUBLIC_MODEL, None, Some("no-such-dir"), TreeOptions::default(), 10, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::EntryNotFound);

    // Invalid input never reaches the network.
    let e = client.model_info("../../api/whoami-v2", None, None).await.unwrap_err();
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
    let page = client.list_models(&params_search("gpt2"), 5, None).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(page.items[0].id, "openai-community/gpt2");
    assert_eq!(hub.requests_to("/api/models").len(), 2);
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
}

#[tokio::test]
async fn rate_limit_exhausting_attempts_is_reported() {
    let (hub, client) = setup().await;
    hub.inject(FaultRule::rate_limited("/api/whoami-v2", 10, 0));
    let e = client.whoami(&tok(tokens::ALICE_WRITE)).await.unwrap_err();
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
    let e = client.trending(None, 5, None).await.unwrap_err();
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
    let me = client.whoami(&tok(tokens::BOB_READ)).await.unwrap();
    assert_eq!(me.name, "bob");
    assert_eq!(hub.requests_to("/api/whoami-v2").len(), 3);

    hub.inject(FaultRule::server_error("/api/papers", 502, 10));
    let e = client.paper("2407.21783", None).await.unwrap_err();
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
    let e = client.model_info(repos::PUBLIC_MODEL, None, None).await.unwrap_err();
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
    let e = client.model_info("a/b", None, None).await.unwrap_err();
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
    let alice = tok(tokens::ALICE_WRITE);
    let me = client.whoami(&alice).await.unwrap();
    assert_eq!(me.name, "alice");
    assert_eq!(me.token_role(), Some("write"));
    assert_eq!(me.orgs[0].name, "standin-org");
    assert_eq!(me.orgs[0].role_in_org.as_deref(), Some("admin"));
    let req = hub.requests_to("/api/whoami-v2").pop().unwrap();
    assert_eq!(req.authorization.as_deref(), Some("Bearer hf_standin_alice_write"));
    assert!(req.user_agent.unwrap().starts_with("hubmcp/"));

    // Anonymous calls send no Authorization header.
    client.model_info(repos::PUBLIC_MODEL, None, None).await.unwrap();
    assert_eq!(hub.requests_to("/api/models/").pop().unwrap().authorization, None);

    // Rejected token: actionable message, token nowhere in Display / Debug / JSON.
    let bad = tok(tokens::INVALID);
    let e = client.model_info(repos::PUBLIC_MODEL, None, Some(&bad)).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::Unauthorized);
    assert!(e.message().contains("set a valid HF token") || e.message().contains("Set a valid HF token"));
    for rendered in [format!("{e}"), format!("{e:?}"), e.to_json().to_string(), format!("{bad:?}"), format!("{bad}")] {
        assert!(!rendered.contains(tokens::INVALID), "token leaked in: {rendered}");
    }
    let req = hub.requests().pop().unwrap();
    assert_eq!(req.bearer_token(), Some(tokens::INVALID));

    let bob = tok(tokens::BOB_READ);
    let e =
        client.read_file(RepoKind::Model, repos::GATED_MODEL, None, "config.json", 10, Some(&bob)).await.unwrap_err();
    for rendered in [format!("{e}"), format!("{e:?}"), e.to_json().to_string()] {
        assert!(!rendered.contains(tokens::BOB_READ));
    }
    // The client's Debug shows no token either (tokens are per call, never stored).
    assert!(!format!("{client:?}").contains("hf_"));
}

#[tokio::test]
async fn whoami_fine_grained_scopes() {
    let (_hub, client) = setup().await;
    let me = client.whoami(&tok(tokens::CAROL_FINEGRAINED)).await.unwrap();
    assert_eq!(me.token_role(), Some("fineGrained"));
    assert!(me.can_read_gated_repos());
    let fg = me.fine_grained().unwrap();
    assert_eq!(fg.global, ["discussion.write", "post.write"]);
    assert_eq!(fg.scoped[1].entity.name.as_deref(), Some("standin-org"));
    assert_eq!(fg.scoped[1].permissions, ["repo.content.read"]);

    let bob = client.whoami(&tok(tokens::BOB_READ)).await.unwrap();
    assert_eq!(bob.token_role(), Some("read"));
    assert!(bob.orgs.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Papers, docs, collections, discovery
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn papers() {
    let (_hub, client) = setup().await;
    let hits = client.search_papers("kazakh question answering", Some(5), None).await.unwrap();
    assert_eq!(hits[0].paper.id, "2404.04487");
    assert!(hits[0].highlighted_title.iter().any(|s| s.kind == "highlight"));

    let exact = client.search_papers("2407.21783", None, None).await.unwrap();
    assert_eq!(exact[0].paper.title, "The Llama 3 Herd of Models");

    // Daily papers page with p=, announced by a relative Link header.
    let params = DailyPapersParams { sort: Some("trending".into()), page_size: Some(2), ..Default::default() };
    let daily = client.daily_papers(&params, 5, None).await.unwrap();
    assert_eq!(daily.items.len(), 5);
    assert!(daily.truncated);
    assert_eq!(daily.items[0].paper.id, "2501.12948");
    assert_eq!(daily.items[0].submitted_by.as_ref().unwrap().user.as_deref(), Some("akhaliq"));

    let dated = client
        .daily_papers(&DailyPapersParams { date: Some("2024-08-01".into()), ..Default::default() }, 10, None)
        .await
        .unwrap();
    assert_eq!(dated.items.len(), 1);
    assert!(!dated.truncated);

    let p = client.paper("2407.21783", None).await.unwrap();
    assert_eq!(p.organization.unwrap().name, "meta-llama");
    let e = client.paper("9999.99999", None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
    assert!(e.message().contains("9999.99999"));
}

#[tokio::test]
async fn docs() {
    let (hub, client) = setup().await;
    let hits = client.search_docs("gated token", Some("hub"), Some(3), None).await.unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.product.as_deref() == Some("hub")));
    let url = hits[0].source_page_url.clone().unwrap();
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

    let e = client.doc_page("https://example.com/docs/hub", 100).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
    let e = client.doc_page("/docs/hub/no-such-page", 100).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
}

#[tokio::test]
async fn collections() {
    let (_hub, client) = setup().await;
    let anon = client
        .collections(&CollectionsParams { owner: Some("alice".into()), ..Default::default() }, 10, None)
        .await
        .unwrap();
    assert_eq!(anon.items.len(), 1);
    assert!(anon.items[0].items.len() <= 4);
    let alice = tok(tokens::ALICE_WRITE);
    let mine = client
        .collections(&CollectionsParams { owner: Some("alice".into()), ..Default::default() }, 10, Some(&alice))
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 2);

    let paged =
        client.collections(&CollectionsParams { page_size: Some(1), ..Default::default() }, 10, None).await.unwrap();
    assert_eq!(paged.items.len(), 2);

    let by_item = client
        .collections(&CollectionsParams { items: vec!["papers/2212.04356".into()], ..Default::default() }, 10, None)
        .await
        .unwrap();
    assert_eq!(by_item.items[0].slug, "alice/speech-and-vision-6701a2b3c4d5e6f708192a3b");

    let c = client.collection(repos::COLLECTION, None).await.unwrap();
    assert_eq!(c.owner.unwrap().name, "standin-org");
    assert_eq!(c.items.len(), 7);
    assert_eq!(c.items[0].note.as_ref().unwrap().text.as_deref(), Some("Strong general-purpose 7B chat model."));
    assert!(c.items.iter().any(|i| i.item_type == "paper" && i.id == "2407.21783"));

    let e = client.collection("alice/private-reading-list-6790b1c2d3e4f5a6b7c8d9e0", None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
}

#[tokio::test]
async fn trending_and_semantic_search() {
    let (hub, client) = setup().await;
    let t = client.trending(Some(RepoKind::Model), 3, None).await.unwrap();
    assert_eq!(t.len(), 3);
    assert!(t.iter().all(|i| i.kind() == Some(RepoKind::Model)));
    assert_eq!(t[0].repo_data.id, "Qwen/Qwen2.5-7B-Instruct");
    let all = client.trending(None, 20, None).await.unwrap();
    assert!(all.iter().any(|i| i.kind() == Some(RepoKind::Space)));
    assert!(hub.requests_to("/api/trending")[0].query.as_deref().unwrap().contains("type=model"));

    let hits = client
        .space_semantic_search(
            &SpaceSearchParams {
                query: "generate images".into(),
                filters: vec!["mcp-server".into()],
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.tags.iter().any(|t| t == "mcp-server")));
    assert!(hits.iter().all(|h| h.runtime.as_ref().unwrap().is_running()));
    assert!(hits[0].semantic_relevancy_score.unwrap() >= hits.last().unwrap().semantic_relevancy_score.unwrap());

    let with_broken = client
        .space_semantic_search(
            &SpaceSearchParams { query: "speech".into(), include_non_running: true, ..Default::default() },
            None,
        )
        .await
        .unwrap();
    assert!(with_broken.iter().any(|h| h.id == "standin-org/broken-mcp-demo"));
}

// ---------------------------------------------------------------------------------------------
// datasets-server
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn datasets_server() {
    let (_hub, client) = setup().await;
    let splits = client.ds_splits("openai/gsm8k", None, None).await.unwrap();
    assert_eq!(splits.configs(), ["main", "socratic"]);
    assert_eq!(splits.splits.len(), 4);

    let size = client.ds_size(repos::PUBLIC_DATASET, None, None).await.unwrap();
    assert_eq!(size.size.dataset.unwrap().num_rows, Some(14));
    assert_eq!(size.size.splits.len(), 3);
    let cfg_size = client.ds_size(repos::PUBLIC_DATASET, Some("plain_text"), None).await.unwrap();
    assert!(cfg_size.size.config.is_some());

    let rows = client.ds_rows(repos::PUBLIC_DATASET, "plain_text", "train", 6, 5, None).await.unwrap();
    assert_eq!(rows.rows.len(), 2);
    assert_eq!(rows.rows[0].row_idx, 6);
    assert_eq!(rows.num_rows_total, Some(8));
    assert_eq!(rows.features[1].name, "label");

    let first = client.ds_first_rows("ylecun/mnist", "mnist", "test", None).await.unwrap();
    assert_eq!(first.rows.len(), 2);
    assert_eq!(first.rows[0].row["image"]["width"], 28);

    let valid = client.ds_is_valid("ylecun/mnist", None).await.unwrap();
    assert!(valid.viewer && !valid.search);
    let info = client.ds_info("ylecun/mnist", Some("mnist"), None).await.unwrap();
    assert_eq!(info["dataset_info"]["config_name"], "mnist");
    let parquet = client.ds_parquet("openai/gsm8k", Some("main"), None).await.unwrap();
    assert_eq!(parquet.parquet_files.len(), 2);

    // Errors.
    let e = client.ds_splits(repos::GATED_DATASET, None, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::RepoNotFound);
    assert_eq!(e.error_code(), Some("ExternalUnauthenticatedError"));
    let ok = client.ds_splits(repos::GATED_DATASET, None, Some(&tok(tokens::ALICE_WRITE))).await.unwrap();
    assert_eq!(ok.splits.len(), 1);
    let e = client.ds_rows(repos::PUBLIC_DATASET, "plain_text", "nope", 0, 10, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::NotFound);
    assert!(e.message().contains("config and split names"));
    let e = client.ds_rows(repos::PUBLIC_DATASET, "plain_text", "train", 0, 101, None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);

    let raw = client.datasets_server_json("/splits", &[("dataset", "rajpurkar/squad")], None).await.unwrap();
    assert_eq!(raw["splits"][0]["config"], "plain_text");
}

#[tokio::test]
async fn raw_json_pass_through() {
    let (_hub, client) = setup().await;
    let v = client.get_json("/api/models/google-bert/bert-base-uncased", &[("expand[]", "likes")], None).await.unwrap();
    assert_eq!(v["id"], repos::PUBLIC_MODEL);
    assert!(v.get("likes").is_some());
    let page = client.paginate_json("/api/datasets", &[("limit", "2")], 4, None).await.unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(page.truncated);
    let e = client.get_json("https://evil.example/x", &[], None).await.unwrap_err();
    assert_eq!(e.kind(), HubErrorKind::InvalidInput);
}

#[tokio::test]
async fn client_is_cheap_to_clone_and_shares_the_pool() {
    let (hub, client) = setup().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move { c.model_info("openai-community/gpt2", None, None).await.map(|m| m.id) }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "openai-community/gpt2");
    }
    assert_eq!(hub.requests_to("/api/models/").len(), 8);
}
