//! What a user of huggingface.co/mcp relies on beyond the tools, against the `hubmcp`
//! binary over real TCP: the Server Card and AI Catalog (validated against the extension's
//! JSON Schema when `../shared` is present), the welcome page and `/` redirect, CORS
//! consistent with the Host/Origin guard, and hf-mcp-server's environment variable names
//! (`CORS_ALLOWED_ORIGINS`, `MCP_ALLOWED_HOSTS`, `MCP_STRICT_COMPLIANCE`, `HSTS`,
//! `HF_API_TIMEOUT` in milliseconds, `DEFAULT_HF_TOKEN`, `WEB_APP_PORT`).
//! The browser side (a page completing a `tools/call` with `fetch`) is `tests/browser/`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

mod common;
use common::{serve_binary, ServedBinary, BIN};

/// `hubmcp serve` (hub toolset, Hub at an address nothing answers: none of these requests
/// reaches the Hub) with `env`.
fn serve(args: &[&str], env: &[(&str, &str)]) -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .args(args)
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("CORS_ALLOWED_ORIGINS")
        .env_remove("MCP_ALLOWED_HOSTS")
        .env_remove("HSTS")
        .env_remove("MCP_STRICT_COMPLIANCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    serve_binary(cmd)
}

fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    let mut r = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap().get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().unwrap()
}

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

/// The extension's schema, from `HUBMCP_SHARED_DIR` or `../shared` beside the checkout.
fn card_schema() -> Option<Value> {
    let dir = std::env::var_os("HUBMCP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = dir.join("mcp-schema/ext-server-card/schema.json");
    let text = std::fs::read_to_string(&path).ok()?;
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    // The file only has `$defs`; validate against its ServerCard definition.
    schema["$ref"] = json!("#/$defs/ServerCard");
    Some(schema)
}

fn assert_valid_card(card: &Value) {
    match card_schema() {
        Some(schema) => {
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&schema)
                .unwrap();
            let errors: Vec<String> =
                validator.iter_errors(card).map(|e| format!("{e} at {}", e.instance_path)).collect();
            assert!(errors.is_empty(), "server card fails the schema: {errors:?}\n{card}");
            // And the schema is not vacuous: a card without `name` fails it.
            let mut broken = card.clone();
            broken.as_object_mut().unwrap().remove("name");
            assert!(!validator.is_valid(&broken));
        }
        None => eprintln!(
            "SKIPPED schema validation: ../shared/mcp-schema/ext-server-card/schema.json not found \
             (set HUBMCP_SHARED_DIR); the card's own checks below still run"
        ),
    }
}

#[test]
fn server_card_and_ai_catalog() {
    let s = serve(&[], &[]);
    let card_url = format!("{}/server-card", s.url);
    let r = get(&card_url, &[("accept", "application/mcp-server-card+json")]);
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type").as_deref(), Some("application/mcp-server-card+json"));
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("*"));
    assert!(header(&r, "cache-control").unwrap().contains("max-age="));
    let etag = header(&r, "etag").expect("ETag");
    let card: Value = r.json().unwrap();
    assert_valid_card(&card);
    assert_eq!(card["name"], "huggingface.co/mcp");
    assert_eq!(card["title"], "Hugging Face");
    assert_eq!(card["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(card["websiteUrl"], "https://huggingface.co/mcp");
    assert_eq!(card["icons"][0]["src"], "https://huggingface.co/favicon.ico");
    let remotes = card["remotes"].as_array().unwrap();
    assert_eq!(remotes[0]["type"], "streamable-http");
    assert_eq!(remotes[0]["url"], s.url.as_str());
    let versions = remotes[0]["supportedProtocolVersions"].to_string();
    assert!(versions.contains("2026-07-28") && versions.contains("2024-11-05"), "{versions}");
    assert_eq!(remotes[1]["type"], "sse");
    assert_eq!(remotes[1]["url"], format!("{}/sse", s.base));
    assert!(!remotes[1]["supportedProtocolVersions"].to_string().contains("2026-07-28"));

    // Conditional GET: the same tag → 304 without a body; another tag → the card again.
    let r = get(&card_url, &[("if-none-match", &format!("\"other\", {etag}"))]);
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()));
    assert!(r.bytes().unwrap().is_empty());
    assert_eq!(get(&card_url, &[("if-none-match", "\"other\"")]).status(), 200);

    // The well-known location serves the same document.
    let r = get(&format!("{}/.well-known/mcp/server-card.json", s.base), &[]);
    assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()));
    assert_eq!(r.json::<Value>().unwrap(), card);

    // Public: any origin reads it (the endpoint itself refuses that origin), a preflight
    // is answered; a foreign Host is still refused (DNS rebinding).
    let r = get(&card_url, &[("origin", "https://elsewhere.example")]);
    assert_eq!((r.status().as_u16(), header(&r, "access-control-allow-origin")), (200, Some("*".into())));
    let pre = Client::new()
        .request(reqwest::Method::OPTIONS, &card_url)
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert!(header(&pre, "access-control-allow-headers").unwrap().contains("If-None-Match"));
    assert_eq!(get(&s.url, &[("origin", "https://elsewhere.example")]).status(), 403);
    assert_eq!(get(&card_url, &[("host", "evil.example")]).status(), 403);

    // Behind a proxy: the card names the public scheme.
    let r = get(&card_url, &[("x-forwarded-proto", "https")]);
    let proxied: Value = r.json().unwrap();
    assert!(proxied["remotes"][0]["url"].as_str().unwrap().starts_with("https://127.0.0.1:"));

    // The AI Catalog lists the card by URL.
    let r = get(&format!("{}/.well-known/ai-catalog.json", s.base), &[]);
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type").as_deref(), Some("application/ai-catalog+json"));
    let catalog: Value = r.json().unwrap();
    assert_eq!(catalog["specVersion"], "1.0");
    let entry = &catalog["entries"][0];
    assert_eq!(entry["type"], "application/mcp-server-card+json");
    assert!(entry["identifier"].as_str().unwrap().starts_with("urn:air:127.0.0.1:mcp:"));
    assert_eq!(entry["url"], card_url.as_str());
}

#[test]
fn server_card_settings() {
    let s = serve(
        &["--disable-http-sse", "--public-url", "https://mcp.example.org"],
        &[
            ("HUBMCP_CARD_NAME", "org.example/hub"),
            ("HUBMCP_CARD_TITLE", "Example Hub"),
            ("HUBMCP_CARD_DESCRIPTION", "Our Hub mirror."),
            ("HUBMCP_CARD_WEBSITE", ""),
            ("HUBMCP_CARD_ICONS", "https://example.org/a.png,https://example.org/b.svg"),
        ],
    );
    let card: Value = get(&format!("{}/server-card", s.url), &[]).json().unwrap();
    assert_valid_card(&card);
    assert_eq!((card["name"].as_str(), card["title"].as_str()), (Some("org.example/hub"), Some("Example Hub")));
    assert_eq!(card["description"], "Our Hub mirror.");
    assert!(card.get("websiteUrl").is_none());
    assert_eq!(card["icons"].as_array().unwrap().len(), 2);
    // HTTP+SSE disabled: one remote, at the public URL.
    assert_eq!(
        card["remotes"],
        json!([{ "type": "streamable-http", "url": "https://mcp.example.org/mcp",
        "supportedProtocolVersions": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] }])
    );

    let off = serve(&["--disable-server-card"], &[]);
    assert_eq!(get(&format!("{}/server-card", off.url), &[]).status(), 404);
    assert_eq!(get(&format!("{}/.well-known/ai-catalog.json", off.base), &[]).status(), 404);

    // A name the schema would refuse stops the server at start, saying why.
    let out = Command::new(BIN).args(["serve", "--port", "0", "--card-name", "hubmcp"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reverse-DNS"));
}

#[test]
fn browsers_get_a_welcome_page_and_strict_mode_a_405() {
    let s = serve(&[], &[]);
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let r = get(&s.url, &[("accept", html)]);
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").unwrap().starts_with("text/html"));
    let page = r.text().unwrap();
    assert!(page.contains(&s.url) && page.contains("Hugging Face Hub"), "{page}");
    // MCP clients still get 405 for a GET without a session.
    assert_eq!(get(&s.url, &[("accept", "text/event-stream")]).status(), 405);
    let r = get(&format!("{}/", s.base), &[("accept", html)]);
    assert_eq!((r.status().as_u16(), header(&r, "location")), (302, Some("/mcp".into())));

    let strict = serve(&[], &[("MCP_STRICT_COMPLIANCE", "true")]);
    assert_eq!(get(&strict.url, &[("accept", html)]).status(), 405);
    assert_eq!(get(&format!("{}/", strict.base), &[("accept", html)]).status(), 404);
}

fn post_list(url: &str, headers: &[(&str, &str)]) -> Response {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let mut r = Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body.to_string()).send().unwrap()
}

fn preflight(url: &str, origin: &str) -> Response {
    Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,mcp-protocol-version,mcp-method,authorization")
        .send()
        .unwrap()
}

#[test]
fn cors_follows_the_origin_guard_and_upstream_names() {
    let s = serve(&[], &[("CORS_ALLOWED_ORIGINS", "https://app.example.com, https://*.tools.example")]);
    for origin in ["https://app.example.com", "https://a.tools.example", "http://localhost:5173"] {
        let pre = preflight(&s.url, origin);
        assert_eq!(pre.status(), 204, "{origin}");
        assert_eq!(header(&pre, "access-control-allow-origin").as_deref(), Some(origin));
        assert!(header(&pre, "access-control-allow-methods").unwrap().contains("POST"));
        assert!(header(&pre, "access-control-allow-headers").unwrap().contains("mcp-protocol-version"));
        let r = post_list(&s.url, &[("origin", origin)]);
        assert_eq!(r.status(), 200, "{origin}");
        assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some(origin));
        let exposed = header(&r, "access-control-expose-headers").unwrap();
        for h in ["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"] {
            assert!(exposed.contains(h), "{exposed}");
        }
    }
    // Not on the list: refused by the guard, preflight and request alike, no CORS grant.
    // (The default list, https://huggingface.co, is replaced by CORS_ALLOWED_ORIGINS.)
    for origin in
        ["https://evil.example.com", "http://app.example.com", "https://tools.example", "https://huggingface.co"]
    {
        let pre = preflight(&s.url, origin);
        assert_eq!(pre.status(), 403, "{origin}");
        assert!(header(&pre, "access-control-allow-origin").is_none());
        assert_eq!(post_list(&s.url, &[("origin", origin)]).status(), 403, "{origin}");
    }
    // Without an Origin (every non-browser client) nothing changes.
    let r = post_list(&s.url, &[]);
    assert_eq!(r.status(), 200);
    assert!(header(&r, "access-control-allow-origin").is_none());
    // A 401 challenge is readable by the page (WWW-Authenticate exposed).
    let r = post_list(&format!("{}?login", s.url), &[("origin", "https://app.example.com")]);
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://app.example.com"));

    // hf-mcp-server's default list when CORS_ALLOWED_ORIGINS is unset.
    let d = serve(&[], &[]);
    assert_eq!(post_list(&d.url, &[("origin", "https://huggingface.co")]).status(), 200);
    assert_eq!(post_list(&d.url, &[("origin", "https://evil.example.com")]).status(), 403);
}

#[test]
fn mcp_allowed_hosts_and_hsts() {
    let s = serve(&[], &[("MCP_ALLOWED_HOSTS", "mcp.example.org,*.internal.example"), ("HSTS", "true")]);
    let health = format!("{}/healthz", s.base);
    for host in ["mcp.example.org", "a.internal.example", "localhost:3000", "127.0.0.1"] {
        let r = get(&health, &[("host", host)]);
        assert_eq!(r.status(), 200, "{host}");
        assert_eq!(header(&r, "strict-transport-security").as_deref(), Some("max-age=31536000; includeSubDomains"));
    }
    assert_eq!(get(&health, &[("host", "evil.example")]).status(), 403);
    assert_eq!(get(&health, &[("host", "internal.example")]).status(), 403);
    // As in hf-mcp-server, an allowed host is also an allowed browser origin.
    let r = post_list(&s.url, &[("origin", "https://mcp.example.org")]);
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://mcp.example.org"));
    // Without HSTS, no header.
    let plain = serve(&[], &[]);
    assert!(header(&get(&format!("{}/healthz", plain.base), &[]), "strict-transport-security").is_none());
}

#[test]
fn upstream_units_and_names() {
    // HF_API_TIMEOUT is milliseconds: a value in seconds (hubmcp's old unit) is refused at
    // start rather than taken for a 12 ms timeout.
    for v in ["12.5", "30"] {
        let out = Command::new(BIN).args(["serve", "--port", "0"]).env("HF_API_TIMEOUT", v).output().unwrap();
        assert!(!out.status.success(), "HF_API_TIMEOUT={v} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("milliseconds"), "{v}");
    }
    // WEB_APP_PORT picks the port when HUBMCP_PORT / --port are not given.
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").env("WEB_APP_PORT", "0").env_remove("HUBMCP_PORT").env("HF_ENDPOINT", "http://127.0.0.1:9");
    let s = serve_binary(cmd);
    assert!(!s.url.contains(":3000/"), "{}", s.url);
    assert_eq!(get(&format!("{}/healthz", s.base), &[]).status(), 200);
}

#[test]
fn stdio_uses_default_hf_token() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = rt.block_on(hub_standin::spawn(hub_standin::StandInConfig::default()));
    let mut child = Command::new(BIN)
        .arg("stdio")
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("DEFAULT_HF_TOKEN", hub_standin::tokens::BOB_READ)
        .env_remove("HF_TOKEN")
        .env_remove("HUBMCP_TOOLSET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let call = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": "hf_whoami", "arguments": {},
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    writeln!(stdin, "{call}").unwrap();
    stdin.flush().unwrap();
    let who = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "stdout closed");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["id"] == 7 {
            break v;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(who["result"]["structuredContent"]["account"]["name"], "bob", "{who}");
    assert!(hub.requests().iter().any(|r| r.bearer_token() == Some(hub_standin::tokens::BOB_READ)));
}

/// `ALLOW_INTERNAL_ADDRESS_HOSTS` lets trusted Space names resolve to internal addresses
/// (here the Spaces stand-in on loopback, with no `HUBMCP_SPACE_ALLOW_ADDRESSES`), and
/// `GRADIO_SKIP_INITIALIZE=true` sends `tools/call` to a Space without `initialize`.
#[test]
fn gradio_settings_under_upstream_names() {
    use hub_standin::spaces::{spawn_spaces, SpacesConfig};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = rt.block_on(hub_standin::spawn(hub_standin::StandInConfig::default()));
    let spaces = rt.block_on(spawn_spaces(SpacesConfig::default()));
    let start = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--port", "0"])
            .env("HF_ENDPOINT", &hub.base_url)
            .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
            .env("HUBMCP_SPACE_SCHEME", "http")
            .env("HUBMCP_SPACE_PORT", spaces.port().to_string())
            .env("HUBMCP_SPACE_RESOLVE", "127.0.0.1")
            .env_remove("HUBMCP_SPACE_ALLOW_ADDRESSES")
            .env_remove("HUBMCP_TOOLSET");
        for (k, v) in env {
            cmd.env(k, v);
        }
        serve_binary(cmd)
    };
    let rpc = |s: &ServedBinary, method: &str, params: Value| -> Value {
        stateless_rpc(&format!("{}?gradio=black-forest-labs/FLUX.1-Kontext-Dev", s.url), method, params)
    };
    let space_tools = |list: &Value| {
        list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"].as_str().unwrap().starts_with("gr1_"))
            .count()
    };

    // Loopback Spaces without either setting: refused, so no Space tools.
    let plain = start(&[]);
    assert_eq!(space_tools(&rpc(&plain, "tools/list", json!({}))), 0);
    drop(plain);

    let s = start(&[("ALLOW_INTERNAL_ADDRESS_HOSTS", "*.hf.space"), ("GRADIO_SKIP_INITIALIZE", "true")]);
    assert!(space_tools(&rpc(&s, "tools/list", json!({}))) > 0);
    spaces.clear_requests();
    let r = rpc(&s, "tools/call", json!({ "name": "gr1_flux_1_kontext_dev_infer", "arguments": { "prompt": "p" } }));
    // The stand-in's Spaces are session-era MCP servers (real Gradio's is stateless), so
    // this call without a handshake is refused by the Space (400) — what matters is what
    // was sent.
    assert!(r.get("error").is_none(), "{r}");
    let methods: Vec<String> = spaces.requests().into_iter().filter_map(|r| r.rpc_method).collect();
    assert!(methods.contains(&"tools/call".to_owned()), "{methods:?}");
    assert!(!methods.contains(&"initialize".to_owned()), "handshake despite GRADIO_SKIP_INITIALIZE: {methods:?}");
}

/// `DYNAMIC_SPACE_DATA` (with `ALLOW_PERMISSIVE_URLS` for an `http` URL): `dynamic_space`
/// offers `discover`, listing the operator's CSV, instead of `find`.
#[test]
fn dynamic_space_data_lists_the_operators_spaces() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let list_url = format!("http://127.0.0.1:{}/spaces.csv", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "evalstate/flux1_schnell,Image Generation,\"Fast images, from text\"\nmicrosoft/OmniParser-v2,OCR,Parses screens\n";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = rt.block_on(hub_standin::spawn(hub_standin::StandInConfig::default()));
    let start = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--port", "0"])
            .env("HF_ENDPOINT", &hub.base_url)
            .env("HUBMCP_SPACE_ALLOW_ADDRESSES", "loopback")
            .env_remove("HUBMCP_TOOLSET");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    // An http list without ALLOW_PERMISSIVE_URLS is refused at start.
    let out = start(&[("DYNAMIC_SPACE_DATA", &list_url)]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ALLOW_PERMISSIVE_URLS"));

    let s = serve_binary(start(&[("DYNAMIC_SPACE_DATA", &list_url), ("ALLOW_PERMISSIVE_URLS", "true")]));
    let rpc = |method: &str, params: Value| -> Value {
        stateless_rpc(&format!("{}?bouquet=dynamic_space", s.url), method, params)
    };
    let list = rpc("tools/list", json!({}));
    let tool =
        list["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "dynamic_space").unwrap().clone();
    assert_eq!(
        tool["inputSchema"]["properties"]["operation"]["enum"],
        json!(["discover", "view_parameters", "invoke"])
    );
    assert!(tool["inputSchema"]["properties"].get("search_query").is_none());
    let call = |args: Value| rpc("tools/call", json!({ "name": "dynamic_space", "arguments": args }))["result"].clone();
    let r = call(json!({ "operation": "discover" }));
    assert!(r.get("isError").is_none(), "{r}");
    let ids: Vec<&str> =
        r["structuredContent"]["results"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["evalstate/flux1_schnell", "microsoft/OmniParser-v2"]);
    assert_eq!(r["structuredContent"]["results"][0]["description"], "Fast images, from text");
    assert_eq!(call(json!({ "operation": "find", "search_query": "x" }))["isError"], true);
    let usage = call(json!({}));
    let usage = usage["content"][0]["text"].as_str().unwrap();
    assert!(usage.contains("\"operation\": \"discover\"") && !usage.contains("search_query"), "{usage}");
}

/// One 2026-07-28 request to `url` as Alice (write token), its JSON answer.
fn stateless_rpc(url: &str, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                              "io.modelcontextprotocol/clientCapabilities": {} });
    let mut r = Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .header("authorization", format!("Bearer {}", hub_standin::tokens::ALICE_WRITE));
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        r = r.header("mcp-name", name);
    }
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    r.body(body.to_string()).send().unwrap().json().unwrap()
}
