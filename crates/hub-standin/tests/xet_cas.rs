//! The stand-in's Xet CAS refuses what the real one refuses: a xorb whose bytes do not hash to
//! its name, a shard naming a xorb never uploaded or with a wrong verification hash, a
//! request without a token (401), a read token writing (403), one bucket's token reading
//! another's files; and it serves what an upload stored, by signed `Range` URLs.

use hub_standin::{spawn, StandIn, StandInConfig};
use serde_json::Value;
use xet_format::upload::prepare;

const ALICE: &str = "hf_standin_alice_write";

struct Cas {
    http: reqwest::Client,
    url: String,
    token: String,
}

async fn cas_token(hub: &StandIn, bucket: &str, kind: &str) -> Cas {
    let http = reqwest::Client::new();
    let r =
        http.get(hub.url(&format!("/api/buckets/{bucket}/xet-{kind}-token"))).bearer_auth(ALICE).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-xet-access-token"));
    let v: Value = r.json().await.unwrap();
    Cas { http, url: v["casUrl"].as_str().unwrap().to_owned(), token: v["accessToken"].as_str().unwrap().to_owned() }
}

impl Cas {
    async fn post(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.url)).bearer_auth(&self.token).body(body).send().await.unwrap()
    }
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.token).send().await.unwrap()
    }
}

async fn new_bucket(hub: &StandIn, name: &str) -> String {
    let r = reqwest::Client::new()
        .post(hub.url(&format!("/api/buckets/alice/{name}")))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    format!("alice/{name}")
}

fn data(n: usize) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect()
}

#[tokio::test]
async fn uploads_are_checked_and_served_back() {
    let hub = spawn(StandInConfig::default()).await;
    let bucket = new_bucket(&hub, "cas").await;
    let cas = cas_token(&hub, &bucket, "write").await;
    let file = prepare(&data(300_000));
    let xorb = &file.xorbs[0];
    let xorb_path = format!("/v1/xorbs/default/{}", xorb.hash.hex());
    let shard = xet_format::shard::serialize(&file.shard);

    // No token, and a token that is not one.
    let anon = cas.http.post(format!("{}{xorb_path}", cas.url)).body(xorb.bytes.clone()).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    // A xorb under another xorb's name, and garbage.
    let wrong = format!("/v1/xorbs/default/{}", file.file_hash.hex());
    assert_eq!(cas.post(&wrong, xorb.bytes.clone()).await.status(), 400);
    assert_eq!(cas.post(&xorb_path, b"not a xorb".to_vec()).await.status(), 400);
    // The shard before its xorb.
    assert_eq!(cas.post("/v1/shards", shard.clone()).await.status(), 400);

    let r = cas.post(&xorb_path, xorb.bytes.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["was_inserted"], true);
    assert_eq!(cas.post(&xorb_path, xorb.bytes.clone()).await.json::<Value>().await.unwrap()["was_inserted"], false);

    // A verification hash that does not match the chunks.
    let mut forged = file.shard.clone();
    forged.files[0].verification[0] = file.file_hash;
    assert_eq!(cas.post("/v1/shards", xet_format::shard::serialize(&forged)).await.status(), 400);
    assert_eq!(cas.post("/v1/shards", shard).await.status(), 200);

    // Registered in the bucket by its hash, then rebuilt by reconstruction + signed ranges.
    let line =
        format!("{{\"type\":\"addFile\",\"path\":\"d.bin\",\"xetHash\":\"{}\",\"mtime\":0}}\n", file.file_hash.hex());
    let r = cas
        .http
        .post(hub.url(&format!("/api/buckets/{bucket}/batch")))
        .bearer_auth(ALICE)
        .body(line)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let read = cas_token(&hub, &bucket, "read").await;
    let recon: Value = read.get(&format!("/v1/reconstructions/{}", file.file_hash.hex())).await.json().await.unwrap();
    let mut rebuilt = Vec::new();
    for term in recon["terms"].as_array().unwrap() {
        let fetch = &recon["fetch_info"][term["hash"].as_str().unwrap()][0];
        let (a, b) = (fetch["url_range"]["start"].as_u64().unwrap(), fetch["url_range"]["end"].as_u64().unwrap());
        let unsigned = fetch["url"].as_str().unwrap().split('?').next().unwrap().to_owned();
        assert_eq!(read.http.get(&unsigned).send().await.unwrap().status(), 403, "xorb URLs are signed");
        let part = read
            .http
            .get(fetch["url"].as_str().unwrap())
            .header("Range", format!("bytes={a}-{b}"))
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), 206);
        rebuilt.extend(xet_format::xorb::decode_range(&part.bytes().await.unwrap()).unwrap());
    }
    assert_eq!(rebuilt, data(300_000));

    // A read token cannot write; another bucket's token cannot read this file.
    assert_eq!(read.post(&xorb_path, xorb.bytes.clone()).await.status(), 403);
    let other = cas_token(&hub, &new_bucket(&hub, "other").await, "read").await;
    assert_eq!(other.get(&format!("/v1/reconstructions/{}", file.file_hash.hex())).await.status(), 404);
    // A read-only Hub token gets no write token.
    let r = cas
        .http
        .get(hub.url(&format!("/api/buckets/{bucket}/xet-write-token")))
        .bearer_auth("hf_standin_bob_read")
        .send()
        .await
        .unwrap();
    assert!(r.status() == 403 || r.status() == 404, "{}", r.status());
}
