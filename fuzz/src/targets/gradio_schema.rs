//! A Space's MCP schema (`/gradio_api/mcp/schema`, untrusted JSON) → the tools hubmcp
//! lists: `parse_schema` (both forms), then `Gradio::add_space` (names, definitions,
//! `x-mcp-header` parameters) and a catalog of them. Input: one byte (Space position,
//! private flag), then the schema document. Invariants: no panic; every tool name is a
//! proxied-tool name of at most 49 characters of `[a-z0-9_]`; every definition carries an
//! object input schema.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use hubmcp_hub::client::{HubClient, HubClientConfig};
use hubmcp_hub::gradio::discovery::{SpaceMeta, SpaceSchema};
use hubmcp_hub::gradio::schema::{is_gradio_tool, parse_schema};
use hubmcp_hub::gradio::{Gradio, GradioConfig};
use mcp_engine::provider::Catalog;
use serde_json::Value;

use crate::Target;

pub const TARGET: Target = Target {
    name: "gradio_schema",
    about: "Gradio schema (array and object forms) → proxied tool names and definitions",
    run,
    dictionary: &[
        "[{\"name\":\"t\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\",\"properties\":{}}}]",
        "\"name\":\"",
        "\"inputSchema\":{",
        "\"properties\":{",
        "\"required\":[",
        "\"description\":\"",
        "\"_meta\":{",
        "\"x-mcp-header\":\"",
        "<lambda>",
        "-",
        ".",
        " ",
        "\u{e9}",
        "\u{1f600}",
        "\"type\":\"string\"",
    ],
};

fn gradio() -> &'static Arc<Gradio> {
    static GRADIO: OnceLock<Arc<Gradio>> = OnceLock::new();
    GRADIO.get_or_init(|| {
        let hub = HubClient::new(HubClientConfig::default()).expect("default Hub client");
        Gradio::new(hub, GradioConfig::default(), mcp_telemetry::Telemetry::disabled())
    })
}

fn run(data: &[u8]) {
    let Some((&flags, json)) = data.split_first() else { return };
    let Ok(doc) = serde_json::from_slice::<Value>(json) else { return };
    let Ok((form, tools)) = parse_schema(&doc) else { return };
    let index = usize::from(flags & 0x3f);
    let private = flags & 0x80 != 0;
    let meta = Arc::new(SpaceMeta {
        name: "owner/space".into(),
        subdomain: "owner-space".into(),
        private,
        sdk: Some("gradio".into()),
        hardware: Some(if flags & 0x40 != 0 { "zero-a10g" } else { "cpu-basic" }.into()),
        stage: Some("RUNNING".into()),
        title: None,
        emoji: Some("\u{1f600}".into()),
    });
    let schema = SpaceSchema { form, tools };
    let mut catalog = Catalog::new();
    gradio().add_space(&mut catalog, index, &meta, &schema, &HashSet::new());
    // Names that clean up alike (`a-b`, `a_b`) collapse into one tool, as on the hosted server.
    assert!(catalog.tools().len() <= schema.tools.len());
    assert!(schema.tools.is_empty() || !catalog.tools().is_empty());
    let prefix = format!("{}{}_", if private { "grp" } else { "gr" }, index + 1);
    for tool in catalog.tools() {
        let name = tool.name.clone();
        assert!(name.len() <= 49, "{name:?} is longer than 49");
        assert!(name.starts_with(&prefix) && is_gradio_tool(&name), "{name:?}");
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{name:?}");
        assert_eq!(tool.definition["inputSchema"]["type"], "object");
        assert!(tool.definition["inputSchema"]["properties"].is_object());
    }
}
