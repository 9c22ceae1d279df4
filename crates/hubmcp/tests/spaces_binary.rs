//! The `hubmcp` binary with Gradio Spaces and authentication configured from the
//! environment, as an operator would: the Hub stand-in as `HF_ENDPOINT` and settings API,
//! the Spaces stand-in through `HUBMCP_SPACE_SCHEME/PORT/RESOLVE` and
//! `HUBMCP_SPACE_ALLOW_ADDRESSES=loopback`. With `HUBMCP_LOG=debug`, valid and invalid
//! tokens, proxied Space calls (token forwarded as `X-HF-Authorization`), 401s and 429s,
//! no token may appear anywhere in the server's stderr.

use std::process::Command;

use std::time::Duration;

use hub_standin::spaces::{spawn_spaces, SpacesConfig};
use hub_standin::{spawn, tokens, StandInConfig};
use serde_json::{json, Value};

mod common;
use common::{serve_binary, upstreams, ServedBinary, Upstreams, BIN};

fn serve(up: &Upstreams, extra: &[(&str, &str)]) -> ServedBinary {
    let port = up.spaces.port().to_string();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &up.hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &up.hub.datasets_server_url)
        .env("USER_CONFIG_API", up.hub.url("/api/settings/mcp"))
        .env("HUBMCP_SPACE_SCHEME", "http")
        .env("HUBMCP_SPACE_PORT", &port)
        .env("HUBMCP_SPACE_RESOLVE", "127.0.0.1")
        .env("HUBMCP_SPACE_ALLOW_ADDRESSES", "loopback")
        .env("HUBMCP_LOG", "debug")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HF_TOKEN");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    serve_binary(cmd)
}

fn post(
    s: &ServedBinary,
    query: &str,
    method: &str,
    params: Value,
    token: Option<&str>,
) -> reqwest::blocking::Response {
    let mut params = params;
    params["_meta"] = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                              "io.modelcontextprotocol/clientCapabilities": {}, "progressToken": "pt" });
    let mut r = reqwest::blocking::Client::new()
        .post(format!("{}/mcp{query}", s.base))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .timeout(Duration::from_secs(60));
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        r = r.header("mcp-name", name);
    }
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.body(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string()).send().unwrap()
}

fn result(res: reqwest::blocking::Response) -> Value {
    assert_eq!(res.status(), 200);
    let sse = res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream");
    let text = res.text().unwrap();
    let v: Value = if sse {
        serde_json::from_str(text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap()).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    assert!(v.get("error").is_none(), "{v}");
    v["result"].clone()
}

fn names(list: &Value) -> Vec<String> {
    list["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn spaces_auth_and_limits_from_the_environment_with_no_token_in_the_logs() {
    let up = upstreams();
    up.hub.set_user_settings(
        "alice",
        json!({ "builtInTools": ["hub_repo_search", "dynamic_space"],
                "spaceTools": [{ "name": "black-forest-labs/FLUX.1-Kontext-Dev" }] }),
    );
    let s = serve(
        &up,
        &[
            ("HUBMCP_RATE_ANONYMOUS_PER_MINUTE", "60"),
            ("HUBMCP_RATE_ANONYMOUS_BURST", "30"),
            ("DISABLE_TOOLS", "hub_repo_details"),
        ],
    );
    let alice = Some(tokens::ALICE_WRITE);

    // The user's settings select the tools, Spaces included.
    let list = result(post(&s, "", "tools/list", json!({}), alice));
    assert_eq!(
        names(&list),
        [
            "hf_fs",
            "hub_repo_search",
            "hf_whoami",
            "dynamic_space",
            "gr1_flux_1_kontext_dev_infer",
            "gr1_flux_1_kontext_dev__lambda_"
        ]
    );
    // Anonymous: the anonymous set minus DISABLE_TOOLS.
    let list = result(post(&s, "", "tools/list", json!({}), None));
    assert_eq!(names(&list), ["hf_fs", "hub_repo_search", "hf_whoami"]);

    // A proxied call with progress; the token reaches the Space as X-HF-Authorization.
    let r = result(post(
        &s,
        "",
        "tools/call",
        json!({ "name": "gr1_flux_1_kontext_dev_infer", "arguments": { "prompt": "p" } }),
        alice,
    ));
    assert!(r.get("isError").is_none(), "{r}");
    assert!(up.spaces.requests().iter().any(|r| r.forwarded_token() == Some(tokens::ALICE_WRITE)));
    let r = result(post(
        &s,
        "",
        "tools/call",
        json!({ "name": "dynamic_space",
        "arguments": { "operation": "invoke", "space_name": "evalstate/flux1_schnell", "parameters": "{\"prompt\": \"q\"}" } }),
        alice,
    ));
    assert!(r.get("isError").is_none(), "{r}");

    // An invalid token: 401 with the challenge; the metadata names the Hub.
    let res = post(&s, "?bouquet=search", "tools/list", json!({}), Some(tokens::INVALID));
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.starts_with(&format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp?bouquet=search\"",
            s.base
        )),
        "{challenge}"
    );
    assert!(!res.text().unwrap().contains(tokens::INVALID));
    let doc: Value =
        reqwest::blocking::get(format!("{}/.well-known/oauth-protected-resource", s.base)).unwrap().json().unwrap();
    assert_eq!(doc["authorization_servers"][0], up.hub.base_url);
    assert_eq!(post(&s, "?login", "tools/list", json!({}), None).status(), 401);

    // Anonymous requests beyond the burst: 429 with Retry-After.
    let mut limited = None;
    for _ in 0..40 {
        let res = post(&s, "", "server/discover", json!({}), None);
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
    }
    let limited = limited.expect("the anonymous burst is limited");
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Authenticated callers are unaffected.
    assert_eq!(post(&s, "", "tools/list", json!({}), Some(tokens::BOB_READ)).status(), 200);

    // Refusals and cache use are counted (never with a token or address).
    let metrics = reqwest::blocking::get(format!("{}/metrics", s.base)).unwrap().text().unwrap();
    assert!(metrics.contains("mcp_quota_rejections_total{reason=\"rate_limit\"}"), "{metrics}");
    for cache in ["whoami", "user_settings", "space_metadata", "space_schema", "catalog"] {
        assert!(metrics.contains(&format!("mcp_cache_lookups_total{{cache=\"{cache}\"")), "{cache}: {metrics}");
    }
    for t in [tokens::ALICE_WRITE, tokens::BOB_READ, tokens::INVALID] {
        assert!(!metrics.contains(t));
    }

    std::thread::sleep(Duration::from_millis(300));
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("DEBUG"), "debug logging is on");
    for t in [tokens::ALICE_WRITE, tokens::BOB_READ, tokens::INVALID] {
        assert!(!log.contains(t), "token {t} in the server's log");
    }
}

/// Without a settings API, signed-in callers get the hosted server's default Space
/// (`mcp-tools/Z-Image-Turbo`, here put behind a Spaces stand-in subdomain) unless
/// `--default-spaces` says otherwise; so do anonymous callers.
#[test]
fn default_spaces_without_a_settings_api() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let z = hub_standin::extra_spaces::ExtraSpace::parse("mcp-tools/Z-Image-Turbo=evalstate-flux1-schnell").unwrap();
    let hub = rt.block_on(spawn(StandInConfig { extra_spaces: vec![z], ..StandInConfig::default() }));
    let spaces = rt.block_on(spawn_spaces(SpacesConfig::default()));
    let start = |default_spaces: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--port", "0"])
            .env("HF_ENDPOINT", &hub.base_url)
            .env("HUBMCP_SPACE_SCHEME", "http")
            .env("HUBMCP_SPACE_PORT", spaces.port().to_string())
            .env("HUBMCP_SPACE_RESOLVE", "127.0.0.1")
            .env("HUBMCP_SPACE_ALLOW_ADDRESSES", "loopback")
            .env_remove("USER_CONFIG_API")
            .env_remove("HUBMCP_DEFAULT_SPACES")
            .env_remove("HUBMCP_TOOLSET")
            .env_remove("HF_TOKEN");
        if let Some(d) = default_spaces {
            cmd.args(["--default-spaces", d]);
        }
        serve_binary(cmd)
    };
    let s = start(None);
    let list = result(post(&s, "", "tools/list", json!({}), Some(tokens::ALICE_WRITE)));
    let gradio: Vec<&Value> =
        list["tools"].as_array().unwrap().iter().filter(|t| t["name"].as_str().unwrap().starts_with("gr1_")).collect();
    assert_eq!(gradio.len(), 1, "{list}");
    assert!(gradio[0]["title"].as_str().unwrap().starts_with("mcp-tools/Z-Image-Turbo - "), "{}", gradio[0]);
    // Anonymous callers too, as the hosted server's static settings give them.
    let anon = result(post(&s, "", "tools/list", json!({}), None));
    assert!(names(&anon).iter().any(|n| n.starts_with("gr1_")), "{anon}");
    drop(s);
    let s = start(Some("none"));
    let list = result(post(&s, "", "tools/list", json!({}), Some(tokens::ALICE_WRITE)));
    assert!(!names(&list).iter().any(|n| n.starts_with("gr")), "{list}");
    drop(s);
}

/// `HF_SKILLS_DIR` from the environment: the binary serves the fixture skills.
#[test]
fn skills_dir_from_the_environment() {
    let up = upstreams();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../hub/tests/fixtures/skills");
    let s = serve(&up, &[("HF_SKILLS_DIR", dir)]);
    let discover = result(post(&s, "", "server/discover", json!({}), None));
    assert_eq!(discover["capabilities"]["extensions"]["io.modelcontextprotocol/skills"]["directoryRead"], true);
    let skills = result(post(&s, "", "skills/list", json!({}), None));
    let names: Vec<&str> =
        skills["skills"].as_array().unwrap().iter().map(|k| k["frontmatter"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["paper-notes", "dataset-card", "hub-search"]);
    drop(s);
}

/// `PROXY_TOOLS_CSV` / `PROXY_TOKEN` from the environment: a second hubmcp (the conformance
/// toolset) proxied through the first, its tools listed for `?bouquet=proxy` and called.
#[test]
fn proxy_tools_from_the_environment() {
    let up = upstreams();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0", "--toolset", "conformance"]).env_remove("HUBMCP_TOOLSET");
    let proxied = serve_binary(cmd);
    let csv = std::env::temp_dir().join(format!("hubmcp-proxy-bin-{}.csv", std::process::id()));
    std::fs::write(&csv, format!("proxy_id,url,response_type\nconf,{},JSON\n", proxied.url)).unwrap();
    let s = serve(&up, &[("PROXY_TOOLS_CSV", csv.to_str().unwrap()), ("PROXY_TOKEN", "hf_proxy_list_token")]);
    let alice = Some(tokens::ALICE_WRITE);
    let list = result(post(&s, "?bouquet=proxy", "tools/list", json!({}), alice));
    assert!(names(&list).contains(&"test_simple_text".to_owned()), "{list}");
    assert!(!names(&result(post(&s, "", "tools/list", json!({}), alice))).contains(&"test_simple_text".to_owned()));
    let out =
        result(post(&s, "?bouquet=proxy", "tools/call", json!({ "name": "test_simple_text", "arguments": {} }), alice));
    assert!(out["content"][0]["text"].as_str().is_some_and(|t| !t.is_empty()), "{out}");
    assert!(!s.log.lock().unwrap().join("\n").contains("hf_proxy_list_token"), "PROXY_TOKEN never logged");
    drop(s);
    drop(proxied);
    let _ = std::fs::remove_file(csv);
}
