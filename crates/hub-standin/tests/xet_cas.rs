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
    // Its resolve names the Xet hash and where to get a read token (Link and header forms).
    let head =
        cas.http.head(hub.url(&format!("/buckets/{bucket}/resolve/d.bin"))).bearer_auth(ALICE).send().await.unwrap();
    assert_eq!(head.headers()["x-xet-hash"], file.file_hash.hex().as_str());
    let route = hub.url(&format!("/api/buckets/{bucket}/xet-read-token"));
    assert_eq!(head.headers()["x-xet-refresh-route"], route.as_str());
    assert!(head.headers()["link"].to_str().unwrap().contains("rel=\"xet-auth\""));
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
    // No token for a bucket that does not exist.
    for kind in ["read", "write"] {
        let url = hub.url(&format!("/api/buckets/alice/no-such-bucket/xet-{kind}-token"));
        assert_eq!(cas.http.get(url).bearer_auth(ALICE).send().await.unwrap().status(), 404, "{kind}");
    }
}

/// Rebuilds `[offset, offset + len)` of a file from a reconstruction answer of either version.
async fn fetch_range(cas: &Cas, recon: &Value, len: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for term in recon["terms"].as_array().unwrap() {
        let (xorb, chunks) = (term["hash"].as_str().unwrap(), &term["range"]);
        // v1: fetch_info[xorb] = [{range, url, url_range}]; v2: xorbs[xorb] = [{url, ranges}].
        let (url, byte_range) = if let Some(list) = recon["fetch_info"][xorb].as_array() {
            let f = list.iter().find(|f| &f["range"] == chunks).expect("a fetch entry for the term");
            (f["url"].as_str().unwrap(), &f["url_range"])
        } else {
            let list = recon["xorbs"][xorb].as_array().expect("a v2 entry for the xorb");
            let (f, r) = list
                .iter()
                .flat_map(|f| f["ranges"].as_array().unwrap().iter().map(move |r| (f, r)))
                .find(|(_, r)| &r["chunks"] == chunks)
                .expect("a v2 range for the term");
            (f["url"].as_str().unwrap(), &r["bytes"])
        };
        let (a, b) = (byte_range["start"].as_u64().unwrap(), byte_range["end"].as_u64().unwrap());
        let part = cas.http.get(url).header("Range", format!("bytes={a}-{b}")).send().await.unwrap();
        assert_eq!(part.status(), 206);
        bytes.extend(xet_format::xorb::decode_range(&part.bytes().await.unwrap()).unwrap());
    }
    let skip = recon["offset_into_first_range"].as_u64().unwrap() as usize;
    bytes[skip..skip + len].to_vec()
}

#[tokio::test]
async fn v2_shards_stream_and_both_reconstructions_honour_range() {
    let hub = spawn(StandInConfig::default()).await;
    let bucket = new_bucket(&hub, "v2").await;
    let cas = cas_token(&hub, &bucket, "write").await;
    let content = data(500_000);
    let file = prepare(&content);
    for xorb in &file.xorbs {
        assert_eq!(cas.post(&format!("/v1/xorbs/default/{}", xorb.hash.hex()), xorb.bytes.clone()).await.status(), 200);
    }
    // v2 shard upload: NDJSON progress ending in the terminal `result` frame.
    let r = cas.post("/v2/shards", xet_format::shard::serialize(&file.shard)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "result");
    // A refused v2 shard is a plain 400 (no stream).
    let mut forged = file.shard.clone();
    forged.files[0].hash = file.xorbs[0].hash;
    assert_eq!(cas.post("/v2/shards", xet_format::shard::serialize(&forged)).await.status(), 400);

    let hex = file.file_hash.hex();
    let line = format!("{{\"type\":\"addFile\",\"path\":\"f.bin\",\"xetHash\":\"{hex}\",\"mtime\":0}}\n");
    let batch = |body: String| {
        cas.http.post(hub.url(&format!("/api/buckets/{bucket}/batch"))).bearer_auth(ALICE).body(body).send()
    };
    assert_eq!(batch(line).await.unwrap().status(), 200);
    // A corrupted hash is listed in `failed`: a 422 when every operation failed, a 200 naming
    // the failed one when others applied.
    let bad = "{\"type\":\"addFile\",\"path\":\"g.bin\",\"xetHash\":\"zz\",\"mtime\":0}\n".to_owned();
    let r = batch(bad.clone()).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["failed"][0]["path"], "g.bin");
    let good = format!("{{\"type\":\"addFile\",\"path\":\"h.bin\",\"xetHash\":\"{hex}\",\"mtime\":0}}\n");
    let r = batch(format!("{bad}{good}")).await.unwrap();
    assert_eq!(r.status(), 200);
    let failed = r.json::<Value>().await.unwrap()["failed"].clone();
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!(failed[0]["path"], "g.bin");
    let tree: Value = cas
        .http
        .get(hub.url(&format!("/api/buckets/{bucket}/tree?recursive=true")))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = tree.as_array().unwrap().iter().filter_map(|e| e["path"].as_str()).collect();
    assert!(paths.contains(&"h.bin") && !paths.contains(&"g.bin"), "{paths:?}");

    let read = cas_token(&hub, &bucket, "read").await;
    for version in ["v1", "v2"] {
        for (range, start, len) in [("bytes=123456-300000", 123_456, 176_545), ("bytes=-1000", 499_000, 1000)] {
            let r = read
                .http
                .get(format!("{}/{version}/reconstructions/{hex}", read.url))
                .bearer_auth(&read.token)
                .header("Range", range)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{version} {range}");
            let recon: Value = r.json().await.unwrap();
            assert_eq!(fetch_range(&read, &recon, len).await, &content[start..start + len], "{version} {range}");
        }
        let past_end = read
            .http
            .get(format!("{}/{version}/reconstructions/{hex}", read.url))
            .bearer_auth(&read.token)
            .header("Range", "bytes=600000-")
            .send()
            .await
            .unwrap();
        assert_eq!(past_end.status(), 416);
    }
    // A token the Hub never issued.
    let forged_token = read
        .http
        .get(format!("{}/v2/reconstructions/{hex}", read.url))
        .bearer_auth("xet_standin_00000000000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(forged_token.status(), 401);
}

#[tokio::test]
async fn xorbs_beyond_the_chunk_bound_are_refused() {
    let hub = spawn(StandInConfig::default()).await;
    let bucket = new_bucket(&hub, "bound").await;
    let cas = cas_token(&hub, &bucket, "write").await;
    // Correctly hashed xorbs of 8192 (the format's maximum) and 8193 distinct small chunks.
    for (n, status) in [(8192u32, 200), (8193, 400)] {
        let chunks: Vec<Vec<u8>> = (0..n).map(|i| i.to_le_bytes().to_vec()).collect();
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let (bytes, _) = xet_format::xorb::serialize(&refs);
        let pairs: Vec<_> = chunks.iter().map(|c| (xet_format::hash::chunk_hash(c), c.len() as u64)).collect();
        let hash = xet_format::hash::xorb_hash(&pairs);
        let r = cas.post(&format!("/v1/xorbs/default/{}", hash.hex()), bytes).await;
        assert_eq!(r.status(), status, "{n} chunks");
    }
}

#[tokio::test]
async fn a_refused_shard_registers_none_of_its_files() {
    let hub = spawn(StandInConfig::default()).await;
    let bucket = new_bucket(&hub, "atomic").await;
    let cas = cas_token(&hub, &bucket, "write").await;
    let file = prepare(&data(200_000));
    for xorb in &file.xorbs {
        assert_eq!(cas.post(&format!("/v1/xorbs/default/{}", xorb.hash.hex()), xorb.bytes.clone()).await.status(), 200);
    }
    // The good file next to a forged one whose hash sorts first, then last: either way the
    // shard is refused and the good file stays unknown. (All-0xff is the format's bookend.)
    for forged_hash in [[0u8; 32], [0xfe; 32]] {
        let mut shard = file.shard.clone();
        let mut forged = shard.files[0].clone();
        forged.hash = xet_format::MerkleHash(forged_hash);
        shard.files.push(forged);
        assert_eq!(cas.post("/v1/shards", xet_format::shard::serialize(&shard)).await.status(), 400);
    }
    let add =
        format!("{{\"type\":\"addFile\",\"path\":\"a.bin\",\"xetHash\":\"{}\",\"mtime\":0}}\n", file.file_hash.hex());
    let batch = || cas.http.post(hub.url(&format!("/api/buckets/{bucket}/batch"))).bearer_auth(ALICE).body(add.clone());
    assert_eq!(batch().send().await.unwrap().status(), 422);
    // The same file alone is accepted, and then known to the batch.
    assert_eq!(cas.post("/v1/shards", xet_format::shard::serialize(&file.shard)).await.status(), 200);
    assert_eq!(batch().send().await.unwrap().status(), 200);
}
