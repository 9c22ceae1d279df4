//! Outages through the control endpoint, as an out-of-process test would drive them: a
//! period of misbehaviour starts, matches only what it names, and ends (cleared or expired).

use std::time::Duration;

use hub_standin::{spawn, StandInConfig};

#[tokio::test]
async fn outages_start_match_and_end_over_http() {
    let hub = spawn(StandInConfig::default()).await;
    let http = reqwest::Client::new();
    let control = hub.url("/__standin/outages");
    let models = hub.url("/api/models?search=bert");
    assert_eq!(http.get(&models).send().await.unwrap().status(), 200);

    // 429 with Retry-After on /api/models only.
    let r = http
        .post(&control)
        .body(r#"{"kind":"rate_limited","retry_after_secs":9,"path_prefix":"/api/models"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http.get(&models).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "9");
    assert_eq!(http.get(hub.url("/api/datasets")).send().await.unwrap().status(), 200);
    let listed: serde_json::Value = http.get(&control).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["kind"], "rate_limited");
    assert_eq!(http.post(&control).body(r#"{"kind":"nope"}"#).send().await.unwrap().status(), 400);

    // Cleared: normal again.
    assert_eq!(http.delete(&control).send().await.unwrap().status(), 204);
    assert_eq!(http.get(&models).send().await.unwrap().status(), 200);

    // A reset mid-body: the headers arrive, the body breaks off.
    http.post(&control).body(r#"{"kind":"reset"}"#).send().await.unwrap();
    let r = http.get(&models).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "the body must break off");
    http.delete(&control).send().await.unwrap();

    // A huge body is announced in Content-Length; malformed JSON does not parse.
    http.post(&control).body(r#"{"kind":"huge","bytes":1073741824}"#).send().await.unwrap();
    let r = http.get(&models).send().await.unwrap();
    assert_eq!(r.content_length(), Some(1 << 30));
    drop(r);
    http.delete(&control).send().await.unwrap();
    http.post(&control).body(r#"{"kind":"malformed_json"}"#).send().await.unwrap();
    let body = http.get(&models).send().await.unwrap().bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    http.delete(&control).send().await.unwrap();

    // An outage with a duration ends by itself (polled: no timing assertion).
    http.post(&control).body(r#"{"kind":"server_error","status":502,"duration_ms":300}"#).send().await.unwrap();
    assert_eq!(http.get(&models).send().await.unwrap().status(), 502);
    let mut status = 502;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = http.get(&models).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "the outage never ended");
    hub.shutdown().await;
}
