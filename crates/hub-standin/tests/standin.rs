//! Behaviour of the stand-in itself (the client crate's tests exercise the API surface).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hub_standin::{spawn, tokens, FaultAction, FaultRule, StandInConfig};

#[tokio::test]
async fn records_requests_with_authorization() {
    let hub = spawn(StandInConfig::default()).await;
    let http = reqwest::Client::new();
    let r = http.get(hub.url("/api/whoami-v2")).bearer_auth(tokens::ALICE_WRITE).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(hub.url("/api/models?search=bert&limit=1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let log = hub.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].bearer_token(), Some(tokens::ALICE_WRITE));
    assert_eq!(log[1].authorization, None);
    assert_eq!(log[1].path_and_query, "/api/models?search=bert&limit=1");
    hub.clear_requests();
    assert!(hub.requests().is_empty());
}

#[tokio::test]
async fn hub_style_errors_and_invalid_tokens() {
    let hub = spawn(StandInConfig::default()).await;
    let http = reqwest::Client::new();
    let r = http.get(hub.url("/api/models/nobody/nothing")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-error-code"], "RepoNotFound");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "Repository not found");
    let r = http.get(hub.url("/api/models/nobody/nothing")).bearer_auth(tokens::BOB_READ).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http.get(hub.url("/api/models")).bearer_auth(tokens::INVALID).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(hub.url("/api/whoami-v2")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn fault_rules_count_down_and_delay() {
    let hub = spawn(StandInConfig::default()).await;
    let http = reqwest::Client::new();
    hub.inject(FaultRule::rate_limited("/api/models", 2, 3));
    for _ in 0..2 {
        let r = http.get(hub.url("/api/models")).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "3");
    }
    assert_eq!(http.get(hub.url("/api/models")).send().await.unwrap().status(), 200);

    hub.inject(FaultRule::server_error("/api/spaces", 502, 1).for_method("GET"));
    assert_eq!(http.get(hub.url("/api/spaces")).send().await.unwrap().status(), 502);
    assert_eq!(http.get(hub.url("/api/spaces")).send().await.unwrap().status(), 200);

    hub.inject(FaultRule::delay("/api/datasets", Duration::from_millis(300), Some(1)));
    let t = Instant::now();
    assert_eq!(http.get(hub.url("/api/datasets")).send().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Stateless query triggers and the control endpoint.
    let r = http.get(hub.url("/api/models?__standin_status=503&__standin_retry_after=1")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let rule = FaultRule {
        path_prefix: "/api/trending".into(),
        method: None,
        query_contains: None,
        times: Some(1),
        action: FaultAction::Status { status: 500, retry_after: None, error_code: None, message: None },
    };
    let body = serde_json::to_string(&rule).unwrap();
    let r = http
        .post(hub.url("/__standin/faults"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(http.get(hub.url("/api/trending")).send().await.unwrap().status(), 500);
    assert_eq!(http.get(hub.url("/api/trending")).send().await.unwrap().status(), 200);
    let log: serde_json::Value = http.get(hub.url("/__standin/requests")).send().await.unwrap().json().await.unwrap();
    assert!(log.as_array().unwrap().iter().all(|r| !r["path"].as_str().unwrap().starts_with("/__standin")));
}

/// The `Link: <url>; rel="next"` target of a response, if any.
fn next_link(r: &reqwest::Response) -> Option<String> {
    let v = r.headers().get("link")?.to_str().ok()?;
    Some(v.strip_prefix('<')?.split_once('>')?.0.to_string())
}

#[tokio::test]
async fn max_page_size_caps_list_pages_and_links_the_rest() {
    let hub = spawn(StandInConfig { max_page_size: Some(2), ..StandInConfig::default() }).await;
    let http = reqwest::Client::new();
    // Walk /api/models?limit=100 by following the Link header verbatim.
    let mut url = hub.url("/api/models?limit=100&sort=id&direction=1");
    let mut ids = Vec::new();
    for _ in 0..20 {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let next = next_link(&r);
        let page: Vec<serde_json::Value> = r.json().await.unwrap();
        assert!(page.len() <= 2, "page of {}", page.len());
        ids.extend(page.iter().map(|m| m["id"].as_str().unwrap().to_string()));
        match next {
            Some(n) => {
                assert!(n.contains("limit=100") && n.contains("cursor="), "{n}");
                url = n;
            }
            None => break,
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "every public model once, in order");
    assert_eq!(ids.len(), 9);

    // Trees page the same way; a smaller `limit` still wins.
    let tree = "/api/models/google-bert/bert-base-uncased/tree/main?recursive=true";
    let r = http.get(hub.url(tree)).send().await.unwrap();
    assert!(next_link(&r).is_some());
    assert_eq!(r.json::<Vec<serde_json::Value>>().await.unwrap().len(), 2);
    let r = http.get(hub.url(&format!("{tree}&limit=1"))).send().await.unwrap();
    assert_eq!(r.json::<Vec<serde_json::Value>>().await.unwrap().len(), 1);

    // A fault narrowed to later pages leaves the first page alone.
    hub.inject(FaultRule::server_error("/api/datasets", 503, 1).when_query_contains("cursor="));
    let r = http.get(hub.url("/api/datasets")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page2 = next_link(&r).unwrap();
    assert_eq!(http.get(&page2).send().await.unwrap().status(), 503);
    assert_eq!(http.get(&page2).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn configurable_datasets_server_prefix() {
    let hub = spawn(StandInConfig { datasets_server_prefix: "ds".into(), ..StandInConfig::default() }).await;
    assert!(hub.datasets_server_url.ends_with("/ds"));
    let r = reqwest::get(format!("{}/is-valid?dataset=stanfordnlp/imdb", hub.datasets_server_url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(format!("{}/rows?dataset=stanfordnlp/imdb", hub.datasets_server_url)).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["x-error-code"], "MissingRequiredParameter");
}

#[test]
fn binary_prints_listening_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub-standin"))
        .args(["--port", "0", "--host", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let parsed = line.trim().strip_prefix("listening on http://127.0.0.1:").and_then(|p| p.parse::<u16>().ok());
    let _ = child.kill();
    let _ = child.wait();
    let port = parsed.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(port > 0);
}
