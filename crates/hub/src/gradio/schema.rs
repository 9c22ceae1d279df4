//! Gradio MCP schemas (`GET /gradio_api/mcp/schema`) and the names proxied tools get.
//!
//! Two forms exist: the array form of current Gradio
//! (`[{name, description, inputSchema, meta}]`) and the object form of older 5.x releases
//! (`{tool_name: inputSchema-with-description}`). Both normalise to [`SpaceTool`]s; tools
//! whose name contains `<lambda` (anonymous Gradio functions) are dropped.

use serde_json::{json, Map, Value};

/// One tool a Space exposes.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceTool {
    /// The upstream tool name (called as is).
    pub name: String,
    pub description: String,
    /// Always an object schema with `properties` (and `required` when present).
    pub input_schema: Value,
    /// The tool's `_meta`, when the schema carried one.
    pub meta: Option<Value>,
}

/// Which form the schema had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaForm {
    Array,
    Object,
}

/// name, description, input schema, `_meta`.
type RawTool = (String, Option<String>, Value, Option<Value>);

/// Parse a schema document. Errors describe the problem (never containing secrets).
pub fn parse_schema(doc: &Value) -> Result<(SchemaForm, Vec<SpaceTool>), String> {
    let (form, raw): (SchemaForm, Vec<RawTool>) = match doc {
        Value::Array(items) => {
            let tools = items
                .iter()
                .filter_map(|t| {
                    let name = t.get("name")?.as_str()?.to_owned();
                    let schema = t.get("inputSchema")?.clone();
                    let desc = t.get("description").and_then(Value::as_str).map(str::to_owned);
                    let meta = t.get("_meta").filter(|m| m.is_object()).cloned();
                    Some((name, desc, schema, meta))
                })
                .collect();
            (SchemaForm::Array, tools)
        }
        Value::Object(map) => {
            let tools = map
                .iter()
                .filter(|(_, s)| s.is_object())
                .map(|(name, s)| {
                    let desc = s.get("description").and_then(Value::as_str).map(str::to_owned);
                    (name.clone(), desc, s.clone(), None)
                })
                .collect();
            (SchemaForm::Object, tools)
        }
        _ => return Err("the schema is neither an array nor an object".into()),
    };
    let tools: Vec<SpaceTool> = raw
        .into_iter()
        .filter(|(name, ..)| !name.to_ascii_lowercase().contains("<lambda") && !name.is_empty())
        .map(|(name, desc, schema, meta)| {
            let description = desc.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| format!("{name} tool"));
            SpaceTool { input_schema: normalize_input_schema(&schema), name, description, meta }
        })
        .collect();
    if tools.is_empty() {
        return Err("no tools found in the schema".into());
    }
    Ok((form, tools))
}

fn normalize_input_schema(s: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    let props = s.get("properties").filter(|p| p.is_object()).cloned().unwrap_or_else(|| json!({}));
    out.insert("properties".into(), props);
    if let Some(req) = s.get("required").filter(|r| r.is_array()) {
        out.insert("required".into(), req.clone());
    }
    out.into()
}

/// The name of a proxied tool: `gr{N}_{tool}` (`grp{N}_` for private Spaces), N being the
/// Space's 1-based position in the selection, at most 49 characters. Long names keep
/// their first 20 and last characters around the tool's index, as the hosted server does.
pub fn tool_name(tool: &str, space_index: usize, private: bool, tool_index: usize) -> String {
    let prefix = if private { "grp" } else { "gr" };
    let n = (space_index + 1).to_string();
    let max = 49 - prefix.len() - n.len() - 1;
    let mut sanitized = String::with_capacity(tool.len());
    let mut last_underscore = false;
    for c in tool.chars() {
        let mapped = match c {
            '-' | '.' | ' ' | '\t' => '_',
            c if c.is_ascii_alphanumeric() || c == '_' => c.to_ascii_lowercase(),
            _ => '_',
        };
        // Runs of separators collapse to one underscore.
        if mapped == '_' && last_underscore && matches!(c, '-' | '.' | ' ' | '\t') {
            continue;
        }
        last_underscore = mapped == '_';
        sanitized.push(mapped);
    }
    if sanitized.is_empty() {
        sanitized = "unknown".into();
    }
    if sanitized.len() > max {
        let idx = format!("{tool_index}_");
        let keep_end = max - idx.len() - 20 - 1;
        sanitized = format!("{idx}{}_{}", &sanitized[..20], &sanitized[sanitized.len() - keep_end..]);
    }
    format!("{prefix}{n}_{sanitized}")
}

/// Does this tool name belong to a proxied Space tool?
pub fn is_gradio_tool(name: &str) -> bool {
    let rest = name.strip_prefix("grp").or_else(|| name.strip_prefix("gr"));
    rest.and_then(|r| r.split_once('_')).is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse() {
        let array = json!([
            {"name": "FLUX_1_Kontext_Dev_infer", "description": "Edit", "inputSchema": {"type": "object",
              "properties": {"prompt": {"type": "string"}}}, "meta": {"mcp_type": "tool"}},
            {"name": "FLUX_1_Kontext_Dev__lambda_", "inputSchema": {"type": "object", "properties": {}}},
            {"name": "x<lambda>", "inputSchema": {}},
            {"description": "no name"}
        ]);
        let (form, tools) = parse_schema(&array).unwrap();
        assert_eq!(form, SchemaForm::Array);
        assert_eq!(tools.len(), 2);
        assert_eq!(tools[0].input_schema["properties"]["prompt"]["type"], "string");
        assert_eq!(tools[1].description, "FLUX_1_Kontext_Dev__lambda_ tool");

        let object = json!({"evalstate_flux1_schnellinfer": {"type": "object", "properties": {"prompt":
            {"type": "string"}}, "required": ["prompt"], "description": ""}});
        let (form, tools) = parse_schema(&object).unwrap();
        assert_eq!(form, SchemaForm::Object);
        assert_eq!(tools[0].name, "evalstate_flux1_schnellinfer");
        assert_eq!(tools[0].input_schema["required"][0], "prompt");
        assert!(parse_schema(&json!({})).is_err());
        assert!(parse_schema(&json!([])).is_err());
        assert!(parse_schema(&json!("x")).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(tool_name("flux1_schnell", 0, false, 0), "gr1_flux1_schnell");
        assert_eq!(tool_name("EasyGhibli", 1, false, 0), "gr2_easyghibli");
        assert_eq!(tool_name("private.model", 2, true, 0), "grp3_private_model");
        let long = tool_name("FLUX_1_Kontext_Dev_infer_with_a_really_long_endpoint_name", 0, false, 3);
        assert!(long.len() <= 49, "{long} ({})", long.len());
        assert!(long.starts_with("gr1_3_flux_1_kontext_dev_i_"), "{long}");
        assert!(long.ends_with("endpoint_name"), "{long}");
        for i in [0, 9, 99, 999] {
            assert!(tool_name(&"x".repeat(200), i, true, 12).len() <= 49);
        }
        assert!(is_gradio_tool("gr1_x") && is_gradio_tool("grp12_y"));
        assert!(!is_gradio_tool("hub_repo_search") && !is_gradio_tool("gr_x") && !is_gradio_tool("grpx_1"));
    }
}
