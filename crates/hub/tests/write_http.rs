//! The tools that change the Hub — `create_repo` and `hf_fs_write` — end to end: the full
//! server over real TCP against the Hub stand-in (which speaks the write API), in both eras,
//! with whoami authentication. Covers who sees them, what a read-only token is told, the
//! Hub's conflicts and missing repositories, LFS uploads, pull requests, bucket puts through
//! Xet storage (xorbs, shard, `addFile`), and the confirmation of destructive operations
//! (accepted, declined, cancelled, not asked, turned off).

mod common;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use common::{client_config, json_or_first_event, serve, server_info, session_post, text, Served, Sse};
use hub_standin::{spawn, tokens, StandIn, StandInConfig};
use hubmcp_hub::auth::{WhoamiAuthenticator, WhoamiConfig};
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::auth::AuthConfig;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

const ALICE: Option<&str> = Some(tokens::ALICE_WRITE);
const BOB: Option<&str> = Some(tokens::BOB_READ);
const CAROL: Option<&str> = Some(tokens::CAROL_FINEGRAINED);
/// Both write tools (upstream's `research` bouquet: `hf_files`, `create_repo`, details).
const Q: &str = "?bouquet=research";

struct H {
    hub: StandIn,
    server: Served,
    /// Every tool result seen, to check no token ever appears in one.
    seen: std::sync::Mutex<Vec<String>>,
}

impl Deref for H {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.server
    }
}

impl H {
    async fn start(confirm_destructive: bool) -> H {
        let hub = spawn(StandInConfig::default()).await;
        let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
        let options = HubOptions { confirm_destructive, ..HubOptions::default() };
        let provider = Arc::new(HubProvider::with_options(client.clone(), options));
        let engine = Engine::builder(provider, server_info()).build();
        let auth = AuthConfig {
            authenticator: Some(Arc::new(WhoamiAuthenticator::new(client, WhoamiConfig::default()))),
            ..AuthConfig::default()
        };
        let server = serve(engine, HttpConfig { auth, ..HttpConfig::default() }).await;
        H { hub, server, seen: Default::default() }
    }

    /// A stateless `tools/call`; `caps` are the client capabilities declared.
    async fn call_with(&self, tool: &str, args: Value, token: Option<&str>, caps: Value, extra: Value) -> Value {
        let mut params = json!({ "name": tool, "arguments": args });
        if let Value::Object(m) = extra {
            params.as_object_mut().unwrap().extend(m);
        }
        let (_, resp) = self.rpc_full(Q, "tools/call", params, token, caps).await;
        assert!(resp.get("error").is_none(), "{tool}: protocol error {resp}");
        self.seen.lock().unwrap().push(resp.to_string());
        resp["result"].clone()
    }

    async fn call(&self, tool: &str, args: Value, token: Option<&str>) -> Value {
        self.call_with(tool, args, token, json!({}), json!({})).await
    }

    async fn put(&self, uri: &str, content: &str, extra: &[&str]) -> Value {
        let mut args = vec![uri.to_owned()];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.call("hf_fs_write", json!({ "cmd": "put", "args": args, "content": content }), ALICE).await
    }

    /// A file of a written repository, straight from the stand-in (`None`: 404).
    async fn raw(&self, path: &str) -> Option<Vec<u8>> {
        let res = self
            .http
            .get(self.hub.url(path))
            .header("authorization", format!("Bearer {}", tokens::ALICE_WRITE))
            .send()
            .await
            .unwrap();
        (res.status() == 200).then_some(res.bytes().await.unwrap().to_vec())
    }

    async fn create(&self, uri: &str) {
        let r = self.call("create_repo", json!({ "uri": uri }), ALICE).await;
        assert_eq!(r["isError"], Value::Null, "{r}");
    }

    async fn stop(self) {
        let seen = self.seen.lock().unwrap().join("\n");
        for t in [tokens::ALICE_WRITE, tokens::BOB_READ, tokens::CAROL_FINEGRAINED] {
            assert!(!seen.contains(t), "a token appeared in a tool result");
        }
        for r in self.cas_uploads() {
            let t = r.bearer_token().expect("CAS uploads carry the Xet access token");
            assert!(!seen.contains(t), "a Xet access token appeared in a tool result");
        }
        self.server.stop().await;
    }
}

fn structured(r: &Value) -> &Value {
    &r["structuredContent"]
}

fn names(tools: &Value) -> Vec<&str> {
    tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn write_tools_need_an_authenticated_caller_and_say_what_they_do() {
    let h = H::start(true).await;
    let anon = h.rpc(Q, "tools/list", None).await;
    assert!(!names(&anon).iter().any(|n| *n == "create_repo" || *n == "hf_fs_write"), "{anon}");
    let alice = h.rpc(Q, "tools/list", ALICE).await;
    assert!(names(&alice).contains(&"create_repo") && names(&alice).contains(&"hf_fs_write"));
    // Without a selection: create_repo (every built-in, as upstream), hf_fs_write only with hf_files.
    let default = h.rpc("", "tools/list", ALICE).await;
    assert!(names(&default).contains(&"create_repo") && !names(&default).contains(&"hf_fs_write"));
    let write = h.rpc("?bouquet=write", "tools/list", ALICE).await;
    assert_eq!(names(&write), ["hf_fs", "hf_whoami", "create_repo"]);
    // Truthful annotations.
    let tools = alice["result"]["tools"].as_array().unwrap();
    let ann = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap()["annotations"].clone();
    assert_eq!(ann("hf_fs_write")["destructiveHint"], true);
    assert_eq!(ann("hf_fs_write")["readOnlyHint"], false);
    assert_eq!(ann("create_repo")["destructiveHint"], false);
    assert_eq!(ann("create_repo")["readOnlyHint"], false);
    assert_eq!(ann("create_repo")["idempotentHint"], false);
    // A call by an anonymous caller is refused: the tool is not in its catalog.
    let (_, r) = h
        .rpc_full(
            Q,
            "tools/call",
            json!({ "name": "create_repo", "arguments": { "uri": "hf://models/x/y" } }),
            None,
            json!({}),
        )
        .await;
    assert!(r.get("error").is_some() || r["result"]["isError"] == true, "{r}");
    h.stop().await;
}

impl H {
    async fn rpc(&self, query: &str, method: &str, token: Option<&str>) -> Value {
        self.rpc_full(query, method, json!({}), token, json!({})).await.1
    }
}

#[tokio::test]
async fn create_repo_creates_duplicates_and_explains_refusals() {
    let h = H::start(true).await;
    let r = h.call("create_repo", json!({ "uri": "hf://models/alice/fresh", "private": true }), ALICE).await;
    assert_eq!(structured(&r)["action"], "created", "{r}");
    assert_eq!(structured(&r)["repo"], "alice/fresh");
    assert!(text(&r).starts_with("# create_repo created") && text(&r).contains("URL: "), "{r}");
    // Private: bob cannot see it; alice reads it through hf_fs.
    assert!(h.hub.url("/api/models/alice/fresh").contains("127.0.0.1"));
    let stat =
        h.call("hf_fs", json!({ "operations": [{ "cmd": "ls", "args": ["hf://models/alice/fresh"] }] }), ALICE).await;
    assert!(text(&stat).contains(".gitattributes"), "{stat}");
    // Listed under its owner (for those who may see it).
    let ls = |token| h.call("hf_fs", json!({ "operations": [{ "cmd": "ls", "args": ["hf://models/alice"] }] }), token);
    assert!(text(&ls(ALICE).await).contains("alice/fresh"));
    assert!(!text(&ls(BOB).await).contains("alice/fresh"));
    // Taken: the Hub's 409, as an error result.
    let again = h.call("create_repo", json!({ "uri": "hf://models/alice/fresh" }), ALICE).await;
    assert_eq!(again["isError"], true);
    assert!(text(&again).contains("conflict"), "{again}");
    // A Space with an SDK, a dataset in an org, a bucket.
    let space = h.call("create_repo", json!({ "uri": "hf://spaces/alice/demo", "sdk": "gradio" }), ALICE).await;
    assert_eq!(structured(&space)["repo_type"], "space", "{space}");
    let info: Value = serde_json::from_slice(&h.raw("/api/spaces/alice/demo").await.unwrap()).unwrap();
    assert_eq!(info["sdk"], "gradio");
    let ds = h.call("create_repo", json!({ "uri": "hf://datasets/standin-org/notes" }), ALICE).await;
    assert_eq!(structured(&ds)["repo_type"], "dataset", "{ds}");
    let bucket = h.call("create_repo", json!({ "uri": "hf://buckets/alice/scratch2", "private": true }), ALICE).await;
    assert_eq!(structured(&bucket)["repo_type"], "bucket", "{bucket}");
    assert!(structured(&bucket)["url"].as_str().unwrap().ends_with("/buckets/alice/scratch2"));
    // Duplication of a Space; visibility kept unless set.
    let dup = h
        .call(
            "create_repo",
            json!({ "uri": "hf://spaces/alice/kontext", "source_uri": "hf://spaces/black-forest-labs/FLUX.1-Kontext-Dev" }),
            ALICE,
        )
        .await;
    assert_eq!(structured(&dup)["action"], "duplicated", "{dup}");
    assert_eq!(structured(&dup)["source_repo"], "black-forest-labs/FLUX.1-Kontext-Dev");
    assert!(h.raw("/spaces/alice/kontext/resolve/main/app.py").await.is_some());
    // Argument checks as upstream.
    for (args, needle) in [
        (json!({ "uri": "hf://models/alice/x", "sdk": "gradio" }), "only valid when creating a Space"),
        (json!({ "uri": "hf://models/alice/x/file.txt" }), "not a file path"),
        (json!({ "uri": "hf://models/alice" }), "not a namespace"),
        (json!({ "uri": "hf://models/alice/x", "source_uri": "hf://datasets/stanfordnlp/imdb" }), "must match"),
        (json!({ "uri": "hf://models/alice/x", "source_uri": "hf://buckets/alice/scratch" }), "bucket"),
    ] {
        let r = h.call("create_repo", args.clone(), ALICE).await;
        assert_eq!(r["isError"], true, "{args}: {r}");
        assert!(text(&r).contains(needle), "{args}: {}", text(&r));
    }
    // A missing source: 404.
    let r = h
        .call("create_repo", json!({ "uri": "hf://models/alice/y", "source_uri": "hf://models/alice/missing" }), ALICE)
        .await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("not found"), "{r}");
    // Read-only tokens: the missing scope is named.
    let r = h.call("create_repo", json!({ "uri": "hf://models/bob/x" }), BOB).await;
    assert_eq!(r["isError"], true);
    let t = text(&r);
    assert!(t.contains("Missing scope: `write`") && t.contains("role 'read'"), "{t}");
    let r = h.call("create_repo", json!({ "uri": "hf://models/carol/x" }), CAROL).await;
    assert!(text(&r).contains("repo.write"), "{r}");
    // Someone else's namespace.
    let r = h.call("create_repo", json!({ "uri": "hf://models/google-bert/x" }), ALICE).await;
    assert!(text(&r).contains("lacks write access to `google-bert`"), "{r}");
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_write_commits_reads_back_and_reports_the_hubs_refusals() {
    let h = H::start(true).await;
    h.create("hf://models/alice/w").await;
    let r = h.put("hf://models/alice/w/notes/a.md", "# hello\n", &["-m", "add notes"]).await;
    assert_eq!(r["isError"], Value::Null, "{r}");
    let s = structured(&r);
    assert_eq!(s["op"], "put");
    assert_eq!(s["bytes"], 8);
    assert_eq!(s["message"], "add notes");
    let first = s["commit"]["oid"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 40);
    assert!(text(&r).starts_with("# hf_fs_write put"), "{r}");
    // Read back through hf_fs (the same stand-in routes as any repository).
    let cat = h
        .call("hf_fs", json!({ "operations": [{ "cmd": "cat", "args": ["hf://models/alice/w/notes/a.md"] }] }), ALICE)
        .await;
    assert!(text(&cat).contains("# hello"), "{cat}");
    // Binary through --base64.
    let r = h.put("hf://models/alice/w/blob.dat", "AAEC/w==", &["--base64"]).await;
    assert_eq!(structured(&r)["bytes"], 4, "{r}");
    assert_eq!(h.raw("/alice/w/resolve/main/blob.dat").await.unwrap(), vec![0, 1, 2, 255]);
    let r = h.put("hf://models/alice/w/bad.dat", "not base64!", &["--base64"]).await;
    assert!(text(&r).contains("valid standard base64"), "{r}");
    // A file the Hub wants in LFS (pattern *.bin) goes through the LFS batch API.
    let r = h.put("hf://models/alice/w/weights.bin", "0123456789", &[]).await;
    assert_eq!(structured(&r)["lfs"], true, "{r}");
    assert_eq!(h.raw("/alice/w/resolve/main/weights.bin").await.unwrap(), b"0123456789");
    let tree: Value = serde_json::from_slice(&h.raw("/api/models/alice/w/tree/main").await.unwrap()).unwrap();
    let entry = tree.as_array().unwrap().iter().find(|e| e["path"] == "weights.bin").unwrap().clone();
    assert_eq!(entry["lfs"]["size"], 10, "{entry}");
    let uploads: Vec<_> = h.hub.requests_to("/__lfs/").into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(uploads.len(), 1);
    assert!(uploads[0].authorization.is_none(), "the token went to storage");
    // A pull request leaves main untouched.
    let r = h.put("hf://models/alice/w/notes/a.md", "proposal", &["--create-pr", "--description", "why"]).await;
    let pr = structured(&r)["pull_request_url"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(pr.ends_with("/discussions/1"), "{pr}");
    assert_eq!(h.raw("/alice/w/resolve/main/notes/a.md").await.unwrap(), b"# hello\n");
    assert_eq!(h.raw("/alice/w/resolve/refs%2Fpr%2F1/notes/a.md").await.unwrap(), b"proposal");
    // Optimistic concurrency: a stale --parent-commit is a 409, explained.
    let r = h.put("hf://models/alice/w/late.txt", "late", &["--parent-commit", &first]).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("no longer at the parent commit"), "{r}");
    assert!(h.raw("/alice/w/resolve/main/late.txt").await.is_none());
    let head: Value = serde_json::from_slice(&h.raw("/api/models/alice/w").await.unwrap()).unwrap();
    let r = h.put("hf://models/alice/w/late.txt", "late", &["--parent-commit", head["sha"].as_str().unwrap()]).await;
    assert_eq!(r["isError"], Value::Null, "{r}");
    // Branches: --branch and URI@REV are the same; a missing branch is explained; conflicts refused.
    let r = h.put("hf://models/alice/w/x.txt", "x", &["--branch", "nope"]).await;
    assert!(text(&r).contains("Branch `nope` does not exist"), "{r}");
    let r = h.put("hf://models/alice/w@dev/x.txt", "x", &["--branch", "main"]).await;
    assert!(text(&r).contains("not both"), "{r}");
    // 404: no such repository.
    let r = h.put("hf://models/alice/missing/x.txt", "x", &[]).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("not found"), "{r}");
    // 403: read-only token, with the missing scope named; the file is not written.
    let r = h
        .call("hf_fs_write", json!({ "cmd": "put", "args": ["hf://models/alice/w/bob.txt"], "content": "b" }), BOB)
        .await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("Missing scope: `write`"), "{r}");
    assert!(h.raw("/alice/w/resolve/main/bob.txt").await.is_none());
    // rm (no elicitation declared: not asked, as upstream).
    let r = h.call("hf_fs_write", json!({ "cmd": "rm", "args": ["hf://models/alice/w/blob.dat"] }), ALICE).await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    assert!(h.raw("/alice/w/resolve/main/blob.dat").await.is_none());
    let r = h.call("hf_fs_write", json!({ "cmd": "rm", "args": ["hf://models/alice/w/blob.dat"] }), ALICE).await;
    assert_eq!(r["isError"], true, "{r}");
    // Grammar errors.
    let r = h.call("hf_fs_write", json!({ "cmd": "put", "args": ["hf://models/alice/w/x"] }), ALICE).await;
    assert!(text(&r).contains("put requires content"), "{r}");
    h.stop().await;
}

#[tokio::test]
async fn destructive_writes_are_confirmed_in_the_stateless_era() {
    let h = H::start(true).await;
    h.create("hf://models/alice/c").await;
    h.put("hf://models/alice/c/keep.txt", "v1", &[]).await;
    let caps = json!({ "elicitation": {} });
    let rm = json!({ "cmd": "rm", "args": ["hf://models/alice/c/keep.txt"] });
    let first = h.call_with("hf_fs_write", rm.clone(), ALICE, caps.clone(), json!({})).await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    let ask = &first["inputRequests"]["confirm_destructive"];
    assert_eq!(ask["method"], "elicitation/create");
    assert!(ask["params"]["message"].as_str().unwrap().contains("Delete `keep.txt`"), "{ask}");
    assert!(h.raw("/alice/c/resolve/main/keep.txt").await.is_some(), "deleted before confirmation");
    let round = |answer: Value| json!({ "requestState": first["requestState"], "inputResponses": { "confirm_destructive": answer } });
    // Declined and cancelled: "not done", not an error, nothing changed.
    for (answer, word) in [
        (json!({ "action": "decline" }), "declined"),
        (json!({ "action": "accept", "content": { "confirm": false } }), "declined"),
        (json!({ "action": "cancel" }), "cancelled"),
    ] {
        let r = h.call_with("hf_fs_write", rm.clone(), ALICE, caps.clone(), round(answer)).await;
        assert_eq!(r["isError"], Value::Null, "{r}");
        assert_eq!(structured(&r)["done"], false);
        assert_eq!(structured(&r)["confirmation"], word);
        assert!(text(&r).contains(&format!("the user {word} the confirmation")), "{r}");
        assert!(h.raw("/alice/c/resolve/main/keep.txt").await.is_some());
    }
    // Accepted: done.
    let r = h
        .call_with(
            "hf_fs_write",
            rm.clone(),
            ALICE,
            caps.clone(),
            round(json!({ "action": "accept", "content": { "confirm": true } })),
        )
        .await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    assert!(h.raw("/alice/c/resolve/main/keep.txt").await.is_none());

    // put: a new file is not confirmed; overwriting one on main is; a PR is not.
    let put = |path: &str, extra: &[&str]| {
        let mut args = vec![format!("hf://models/alice/c/{path}")];
        args.extend(extra.iter().map(|s| s.to_string()));
        json!({ "cmd": "put", "args": args, "content": "v2" })
    };
    let r = h.call_with("hf_fs_write", put("new.txt", &[]), ALICE, caps.clone(), json!({})).await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    let r = h.call_with("hf_fs_write", put("new.txt", &[]), ALICE, caps.clone(), json!({})).await;
    assert_eq!(r["resultType"], "input_required", "{r}");
    assert!(r["inputRequests"]["confirm_destructive"]["params"]["message"].as_str().unwrap().contains("Overwrite"));
    let r = h.call_with("hf_fs_write", put("new.txt", &["--create-pr"]), ALICE, caps.clone(), json!({})).await;
    assert!(structured(&r)["pull_request_url"].is_string(), "{r}");
    h.stop().await;
}

#[tokio::test]
async fn confirmation_can_be_turned_off() {
    let h = H::start(false).await;
    h.create("hf://models/alice/off").await;
    h.put("hf://models/alice/off/a.txt", "a", &[]).await;
    let r = h
        .call_with(
            "hf_fs_write",
            json!({ "cmd": "rm", "args": ["hf://models/alice/off/a.txt"] }),
            ALICE,
            json!({ "elicitation": {} }),
            json!({}),
        )
        .await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    assert!(h.raw("/alice/off/resolve/main/a.txt").await.is_none());
    h.stop().await;
}

#[tokio::test]
async fn buckets_rm_with_confirmation() {
    let h = H::start(true).await;
    let caps = json!({ "elicitation": {} });
    let rm = json!({ "cmd": "rm", "args": ["hf://buckets/standin-org/training-logs/runs/2026-01-02/metrics.jsonl"] });
    let first = h.call_with("hf_fs_write", rm.clone(), ALICE, caps.clone(), json!({})).await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    let again = json!({ "requestState": first["requestState"],
        "inputResponses": { "confirm_destructive": { "action": "accept", "content": { "confirm": true } } } });
    let r = h.call_with("hf_fs_write", rm, ALICE, caps, again).await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    assert!(h.raw("/buckets/standin-org/training-logs/resolve/runs/2026-01-02/metrics.jsonl").await.is_none());
    let r = h.put("hf://buckets/alice/scratch/x.txt", "x", &["--create-pr"]).await;
    assert!(text(&r).contains("not supported for bucket writes"), "{r}");
    let r = h.put("hf://buckets/alice/scratch/x.txt", "x", &["--branch", "dev"]).await;
    assert!(text(&r).contains("branch is not supported for bucket writes"), "{r}");
    h.stop().await;
}

/// Bytes that do not compress or repeat, from a fixed seed (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

impl H {
    /// A bucket file's `paths-info` entry, straight from the stand-in.
    async fn bucket_entry(&self, id: &str, path: &str) -> Value {
        let res = self
            .http
            .post(self.hub.url(&format!("/api/buckets/{id}/paths-info")))
            .header("authorization", format!("Bearer {}", tokens::ALICE_WRITE))
            .json(&json!({ "paths": [path] }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()[0].clone()
    }

    /// `hf_fs cat` of a bucket file, as alice.
    async fn cat(&self, uri: &str) -> Value {
        let ops = json!({ "operations": [{ "cmd": "cat", "args": [uri] }] });
        let r = self.call("hf_fs", ops, ALICE).await;
        r["structuredContent"]["results"][0].clone()
    }

    /// The recorded requests to the Xet storage (CAS) upload endpoints.
    fn cas_uploads(&self) -> Vec<hub_standin::RecordedRequest> {
        self.hub
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && (r.path.contains("/v1/xorbs/") || r.path.ends_with("/v1/shards")))
            .collect()
    }
}

#[tokio::test]
async fn buckets_put_text_and_base64_through_xet() {
    let h = H::start(true).await;
    // Text: uploaded, registered, readable with hf_fs, and its xetHash is the file's Xet hash.
    let r = h.put("hf://buckets/alice/scratch/notes/hello.txt", "hello, bucket\n", &["-m", "ignored by buckets"]).await;
    assert_eq!(r["isError"], Value::Null, "{r}");
    let s = structured(&r);
    assert_eq!(
        (s["repo_type"].as_str(), s["bytes"].as_u64(), s["done"].as_bool()),
        (Some("bucket"), Some(14), Some(true))
    );
    assert!(s.get("commit").is_none(), "buckets have no commits: {r}");
    assert!(text(&r).starts_with("# hf_fs_write put\n\nPath: `notes/hello.txt`\nRepo: `alice/scratch`\nType: `bucket`"));
    let entry = h.bucket_entry("alice/scratch", "notes/hello.txt").await;
    assert_eq!(entry["xetHash"], xet_format::upload::prepare(b"hello, bucket\n").file_hash.hex(), "{entry}");
    let cat = h.cat("hf://buckets/alice/scratch/notes/hello.txt").await;
    assert_eq!(cat["result"]["content"], "hello, bucket\n", "{cat}");
    // The CAS saw every xorb before the shard, each with the Xet access token, never an HF token.
    let cas = h.cas_uploads();
    let shard_at = cas.iter().position(|r| r.path.ends_with("/v1/shards")).expect("a shard upload");
    assert!(shard_at > 0 && cas[..shard_at].iter().all(|r| r.path.contains("/v1/xorbs/default/")), "{cas:?}");
    for r in &cas {
        let bearer = r.bearer_token().expect("the CAS gets a bearer token");
        assert!(![tokens::ALICE_WRITE, tokens::BOB_READ, tokens::CAROL_FINEGRAINED].contains(&bearer));
    }

    // Base64, 300 KB of noise: several chunks (and the bytes come back exactly).
    let data = noise(300 * 1024, 0x9e37_79b9_7f4a_7c15);
    let prepared = xet_format::upload::prepare(&data);
    let chunks: usize = prepared.shard.xorbs.iter().map(|x| x.chunks.len()).sum();
    assert!(chunks > 1, "the file should span several chunks, got {chunks}");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let r = h.put("hf://buckets/alice/scratch/blobs/noise.bin", &b64, &["--base64"]).await;
    assert_eq!(r["isError"], Value::Null, "{r}");
    assert_eq!(structured(&r)["bytes"], data.len());
    assert_eq!(h.raw("/buckets/alice/scratch/resolve/blobs/noise.bin").await.as_deref(), Some(&data[..]));
    assert_eq!(h.bucket_entry("alice/scratch", "blobs/noise.bin").await["xetHash"], prepared.file_hash.hex());
    let stat = h
        .call(
            "hf_fs",
            json!({ "operations": [{ "cmd": "stat", "args": ["hf://buckets/alice/scratch/blobs/noise.bin"] }] }),
            ALICE,
        )
        .await;
    assert_eq!(stat["structuredContent"]["results"][0]["result"]["size"], data.len(), "{stat}");

    // A read-only or unscoped token: the missing scope is named, nothing is written.
    for token in [BOB, CAROL] {
        let r = h
            .call(
                "hf_fs_write",
                json!({ "cmd": "put", "args": ["hf://buckets/standin-org/training-logs/new.txt"], "content": "x" }),
                token,
            )
            .await;
        assert_eq!(r["isError"], true, "{r}");
        assert!(text(&r).contains("Missing scope: `write`"), "{r}");
    }
    assert!(h.raw("/buckets/standin-org/training-logs/resolve/new.txt").await.is_none());
    // A bucket that does not exist.
    let r = h.put("hf://buckets/alice/no-such-bucket/a.txt", "x", &[]).await;
    assert_eq!(r["isError"], true, "{r}");
    h.stop().await;
}

#[tokio::test]
async fn xet_uploads_are_retried_being_content_addressed() {
    let h = H::start(true).await;
    h.hub.inject(hub_standin::FaultRule::server_error("/xet-cas/v1/xorbs/", 503, 1).for_method("POST"));
    h.hub.inject(hub_standin::FaultRule::server_error("/xet-cas/v1/shards", 503, 1).for_method("POST"));
    let r = h.put("hf://buckets/alice/scratch/retried.txt", "again", &[]).await;
    assert_eq!(r["isError"], Value::Null, "{r}");
    let cas = h.cas_uploads();
    assert_eq!(cas.iter().filter(|r| r.path.ends_with("/v1/shards")).count(), 2, "{cas:?}");
    assert_eq!(h.raw("/buckets/alice/scratch/resolve/retried.txt").await.as_deref(), Some(&b"again"[..]));
    h.stop().await;
}

#[tokio::test]
async fn bucket_overwrites_are_confirmed() {
    let h = H::start(true).await;
    let caps = json!({ "elicitation": {} });
    let uri = "hf://buckets/alice/scratch/notes.txt"; // seeded: "private notes\n"
    let put = |content: &str| json!({ "cmd": "put", "args": [uri], "content": content });
    // A new file is not a question.
    let r = h
        .call_with(
            "hf_fs_write",
            json!({ "cmd": "put", "args": ["hf://buckets/alice/scratch/new.txt"], "content": "n" }),
            ALICE,
            caps.clone(),
            json!({}),
        )
        .await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    // Declined: nothing changes (and nothing was uploaded before the question).
    let first = h.call_with("hf_fs_write", put("v2"), ALICE, caps.clone(), json!({})).await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    let message =
        first["inputRequests"]["confirm_destructive"]["params"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("Overwrite `notes.txt` in bucket `alice/scratch`"), "{first}");
    let uploads = h.cas_uploads().len();
    let no = json!({ "requestState": first["requestState"],
        "inputResponses": { "confirm_destructive": { "action": "decline" } } });
    let r = h.call_with("hf_fs_write", put("v2"), ALICE, caps.clone(), no).await;
    assert_eq!(
        (structured(&r)["done"].clone(), structured(&r)["confirmation"].clone()),
        (json!(false), json!("declined")),
        "{r}"
    );
    assert_eq!(h.cas_uploads().len(), uploads, "a declined overwrite uploads nothing");
    assert_eq!(h.raw("/buckets/alice/scratch/resolve/notes.txt").await.as_deref(), Some(&b"private notes\n"[..]));
    // Accepted: replaced.
    let first = h.call_with("hf_fs_write", put("v2"), ALICE, caps.clone(), json!({})).await;
    let yes = json!({ "requestState": first["requestState"],
        "inputResponses": { "confirm_destructive": { "action": "accept", "content": { "confirm": true } } } });
    let r = h.call_with("hf_fs_write", put("v2"), ALICE, caps, yes).await;
    assert_eq!(structured(&r)["done"], true, "{r}");
    assert_eq!(h.raw("/buckets/alice/scratch/resolve/notes.txt").await.as_deref(), Some(&b"v2"[..]));
    h.stop().await;
}

// ----- session era ---------------------------------------------------------------------------

fn post(h: &H, session: Option<&str>, body: Value) -> reqwest::RequestBuilder {
    session_post(&h.http, &format!("{}{Q}", h.url), tokens::ALICE_WRITE, session, &body)
}

async fn open_session(h: &H) -> String {
    common::open_session(&h.http, &format!("{}{Q}", h.url), tokens::ALICE_WRITE).await
}

#[tokio::test]
async fn destructive_writes_are_confirmed_in_the_session_era() {
    let h = H::start(true).await;
    h.create("hf://models/alice/s").await;
    h.put("hf://models/alice/s/a.txt", "a", &[]).await;
    let sid = open_session(&h).await;
    // create_repo in the session era too (a plain JSON answer or an SSE stream).
    let call = json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": { "name": "create_repo",
        "arguments": { "uri": "hf://datasets/alice/session-made" } } });
    let res = post(&h, Some(&sid), call).send().await.unwrap();
    let created = json_or_first_event(res).await;
    assert_eq!(created["result"]["structuredContent"]["repo"], "alice/session-made", "{created}");
    assert!(h.raw("/api/datasets/alice/session-made").await.is_some());
    for (id, answer, gone) in [
        (5, json!({ "action": "decline" }), false),
        (6, json!({ "action": "cancel" }), false),
        (7, json!({ "action": "accept", "content": { "confirm": true } }), true),
    ] {
        let call = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "hf_fs_write",
            "arguments": { "cmd": "rm", "args": ["hf://models/alice/s/a.txt"] } } });
        let res = post(&h, Some(&sid), call).send().await.unwrap();
        let mut sse = Sse::new(res);
        let req = sse.message().await;
        assert_eq!(req["method"], "elicitation/create", "{req}");
        assert!(req["params"]["message"].as_str().unwrap().contains("Delete `a.txt`"));
        let reply = json!({ "jsonrpc": "2.0", "id": req["id"], "result": answer });
        assert_eq!(post(&h, Some(&sid), reply).send().await.unwrap().status(), 202);
        let done = sse.message().await;
        assert_eq!(done["id"], id, "{done}");
        let result = &done["result"];
        assert_eq!(result["isError"], Value::Null, "{done}");
        assert_eq!(result["structuredContent"]["done"], gone, "{done}");
        h.seen.lock().unwrap().push(done.to_string());
        assert_eq!(h.raw("/alice/s/resolve/main/a.txt").await.is_none(), gone);
    }
    h.stop().await;
}

#[tokio::test]
async fn bucket_puts_in_the_session_era() {
    let h = H::start(true).await;
    let sid = open_session(&h).await;
    let call = |id: u64, content: &str| {
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "hf_fs_write",
            "arguments": { "cmd": "put", "args": ["hf://buckets/alice/scratch/session.txt"], "content": content } } })
    };
    // A new file: written without a question.
    let res = post(&h, Some(&sid), call(10, "one")).send().await.unwrap();
    let done = json_or_first_event(res).await;
    assert_eq!(done["result"]["structuredContent"]["done"], true, "{done}");
    h.seen.lock().unwrap().push(done.to_string());
    assert_eq!(h.raw("/buckets/alice/scratch/resolve/session.txt").await.as_deref(), Some(&b"one"[..]));
    // Overwriting: asked over the stream; declined keeps the file, accepted replaces it.
    for (id, answer, content) in [
        (11, json!({ "action": "decline" }), &b"one"[..]),
        (12, json!({ "action": "accept", "content": { "confirm": true } }), &b"two"[..]),
    ] {
        let res = post(&h, Some(&sid), call(id, "two")).send().await.unwrap();
        let mut sse = Sse::new(res);
        let req = sse.message().await;
        assert_eq!(req["method"], "elicitation/create", "{req}");
        assert!(req["params"]["message"].as_str().unwrap().contains("Overwrite `session.txt` in bucket"), "{req}");
        let reply = json!({ "jsonrpc": "2.0", "id": req["id"], "result": answer });
        assert_eq!(post(&h, Some(&sid), reply).send().await.unwrap().status(), 202);
        let done = sse.message().await;
        assert_eq!(done["id"], id, "{done}");
        assert_eq!(done["result"]["isError"], Value::Null, "{done}");
        h.seen.lock().unwrap().push(done.to_string());
        assert_eq!(h.raw("/buckets/alice/scratch/resolve/session.txt").await.as_deref(), Some(content));
    }
    h.stop().await;
}

#[tokio::test]
async fn hf_fs_browses_buckets() {
    let h = H::start(true).await;
    let ops = json!({ "operations": [
        { "cmd": "ls", "args": ["hf://buckets/standin-org"] },
        { "cmd": "ls", "args": ["hf://buckets/standin-org/training-logs"] },
        { "cmd": "ls", "args": ["hf://buckets/standin-org/training-logs/runs"] },
        { "cmd": "find", "args": ["hf://buckets/standin-org/training-logs", "--name", "*.jsonl"] },
        { "cmd": "stat", "args": ["hf://buckets/standin-org/training-logs/README.md"] },
        { "cmd": "stat", "args": ["hf://buckets/standin-org/training-logs/runs"] },
        { "cmd": "stat", "args": ["hf://buckets/standin-org/training-logs/absent.txt"] },
        { "cmd": "cat", "args": ["hf://buckets/standin-org/training-logs/runs/2026-01-01/metrics.jsonl", "--offset", "1", "--max-bytes", "9"] },
        { "cmd": "ls", "args": ["hf://buckets/alice"] },
        { "cmd": "cat", "args": ["hf://buckets/standin-org/training-logs@v1/README.md"] },
        { "cmd": "search", "args": ["hf://buckets/standin-org", "logs"] },
        { "cmd": "attach", "args": ["hf://buckets/standin-org/training-logs/runs/2026-01-01/loss.png"] },
    ] });
    let r = h.call("hf_fs", ops.clone(), BOB).await;
    let items = r["structuredContent"]["results"].as_array().unwrap().clone();
    let ok = |i: usize| {
        assert_eq!(items[i]["status"], "success", "operation {i}: {}", items[i]);
        items[i]["result"].clone()
    };
    let paths = |v: Value| -> Vec<String> {
        v["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect()
    };
    let listed = ok(0);
    assert_eq!(paths(listed.clone()), ["standin-org/training-logs"]);
    assert_eq!(listed["entries"][0]["type"], "bucket");
    assert_eq!(listed["entries"][0]["uri"], "hf://buckets/standin-org/training-logs");
    assert_eq!(paths(ok(1)), ["README.md", "runs"]);
    assert_eq!(ok(1)["entries"][1]["type"], "dir");
    assert_eq!(paths(ok(2)), ["runs/2026-01-01", "runs/2026-01-02"]);
    assert_eq!(paths(ok(3)), ["runs/2026-01-01/metrics.jsonl", "runs/2026-01-02/metrics.jsonl"]);
    assert_eq!((ok(4)["type"].clone(), ok(4)["size"].clone()), (json!("file"), json!(57)));
    assert_eq!(ok(5)["type"], "dir");
    assert_eq!(ok(6)["exists"], false);
    let cat = ok(7);
    assert_eq!(cat["content"], "\"step\": 1", "{cat}");
    assert_eq!(cat["next_offset"], 10);
    // bob does not see alice's private bucket; alice does.
    assert_eq!(paths(ok(8)), Vec::<String>::new());
    assert!(items[9]["error"]["message"].as_str().unwrap().contains("revision marker"), "{}", items[9]);
    assert_eq!(items[10]["status"], "error", "{}", items[10]);
    assert_eq!(ok(11)["mime_type"], "image/png");
    let image = r["content"].as_array().unwrap().iter().find(|c| c["type"] == "image").expect("image content").clone();
    assert_eq!(image["mimeType"], "image/png");
    assert!(image["data"].as_str().unwrap().starts_with("iVBORw0KGgo"), "{image}");
    let r = h.call("hf_fs", json!({ "operations": [{ "cmd": "ls", "args": ["hf://buckets/alice"] }] }), ALICE).await;
    assert_eq!(r["structuredContent"]["results"][0]["result"]["entries"][0]["path"], "alice/scratch", "{r}");
    h.stop().await;
}
