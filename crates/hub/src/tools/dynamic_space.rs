//! `dynamic_space`: find MCP-capable Spaces, view a Space's parameters, and invoke it —
//! without adding the Space to the caller's tool list first.
//!
//! * `find` — semantic search over Gradio Spaces tagged `mcp-server`; or, when the operator
//!   configured a curated list (`DYNAMIC_SPACE_DATA`), `discover` — that list instead;
//! * `view_parameters` — the first tool of the Space, when its schema is simple (strings,
//!   numbers, booleans, enums, arrays of primitives, shallow objects, files as URLs);
//! * `invoke` — validates the `parameters` JSON against that schema, applies defaults,
//!   and proxies the call like a `gr…` tool (progress relayed, budget charged). A Space on
//!   GPU hardware asks the user to confirm first when the client declares elicitation:
//!   one `ctx.request_input` that becomes an `input_required` result on the 2026-07-28 wire
//!   and a server-initiated `elicitation/create` in the session era.

use std::sync::Arc;

use mcp_engine::provider::{TaskSupport, Tool, ToolOutput};
use mcp_engine::{CallError, Ctx, InputRequests};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::format::escape_md;
use super::shell::token_of;
use crate::client::{HubError, Service, Token};
use crate::gradio::discovery::{Failure, SpaceMeta};
use crate::gradio::schema::SpaceTool;
use crate::gradio::Gradio;

pub const NAME: &str = "dynamic_space";
const VIEW: &str = "view_parameters";
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 1000;

const FILE_HELP: &str =
    "Provide a publicly accessible URL (http:// or https://) for the file input. Previously generated URLs are usable.";

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Dynamically use Hugging Face Spaces",
        "description": "Find (semantic/task search), inspect (view parameter schema) and dynamically invoke Hugging \
            Face Spaces. Call with no operation for full usage instructions.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "operation": { "type": "string", "enum": ["find", VIEW, "invoke"], "description": "Operation to execute." },
                "space_name": { "type": "string", "description": "Space ID (format: \"username/space-name\"). Required for operation = view_parameters or invoke." },
                "parameters": { "type": "string", "description": "Required for invoke operation: JSON object string of parameters" },
                "search_query": { "type": "string", "description": "For find operation: Search query or task category (e.g. \"Image Generation\", \"OCR\", \"FLUX image generation\") to find MCP-enabled Spaces. Call with blank query to see task hints." },
                "limit": { "type": "number", "description": "For find operation: Maximum number of results to return (default: 10)" }
            }
        },
        "annotations": {
            "title": "Dynamically use Hugging Face Spaces",
            "destructiveHint": true, "idempotentHint": false, "readOnlyHint": false, "openWorldHint": true
        }
    })
}

/// The definition when a curated Space list replaces `find` with `discover` (the
/// arguments hf-mcp-server offers in that mode).
pub fn discover_definition() -> Value {
    let mut d = definition();
    d["description"] = json!(
        "Discover (curated list), inspect (view parameter schema) and dynamically invoke Hugging \
        Face Spaces. Call with no operation for full usage instructions."
    );
    d["inputSchema"] = json!({
        "type": "object",
        "properties": {
            "operation": { "type": "string", "enum": ["discover", VIEW, "invoke"], "description": "Operation to perform." },
            "space_name": { "type": "string", "description": "Space ID (format: \"username/space-name\"). Required for \"view_parameters\" and \"invoke\" operations." },
            "parameters": { "type": "string", "description": "JSON object string of parameters. Only used for \"invoke\" operation." }
        }
    });
    d
}

const FIND_USAGE: &str = "### find
Find MCP-enabled Spaces for a task: `{\"operation\": \"find\", \"search_query\": \"image generation\", \"limit\": 10}`";
const DISCOVER_USAGE: &str = "### discover
List the Spaces available here: `{\"operation\": \"discover\"}`";

const USAGE: &str = "# Gradio Space Interaction

Dynamically interact with any Gradio MCP Space. Find spaces, view space parameter schemas, and invoke spaces.
Supported parameter types: strings, numbers, booleans, enums, arrays of primitives, shallow objects, and files (as URLs).
To use spaces with complex schemas, add them from huggingface.co/settings/mcp.

## Available Operations

### find
Find MCP-enabled Spaces for a task: `{\"operation\": \"find\", \"search_query\": \"image generation\", \"limit\": 10}`

### view_parameters
Display the parameter schema of a Space's first tool: `{\"operation\": \"view_parameters\", \"space_name\": \"evalstate/flux1_schnell\"}`

### invoke
Execute a Space's first tool: `{\"operation\": \"invoke\", \"space_name\": \"evalstate/flux1_schnell\", \"parameters\": \"{\\\"prompt\\\": \\\"a cute cat\\\"}\"}`

## Workflow
1. `find` Spaces for your task
2. `view_parameters` to see what a Space accepts
3. `invoke` with the required parameters

For parameters that accept files, provide a publicly accessible URL (http:// or https://). Default values are applied \
to missing optional parameters; unknown parameters produce warnings but are passed through. Spaces on GPU hardware \
spend the user's GPU quota; the user is asked to confirm when the client supports it.
";

const TASK_HINTS: &str = "Here are some examples of tasks that dynamic spaces can perform: Image Generation, Video \
Generation, Text Generation, Visual QA, Language Translation, Speech Synthesis, 3D Modeling, Object Detection, Text \
Analysis, Image Editing, Code Generation, Question Answering, Background Removal, OCR, Image Captioning, Music \
Generation, Style Transfer.\n\nTo find MCP-enabled Spaces for a task, call this operation with a search query, e.g. \
`{\"operation\": \"find\", \"search_query\": \"image generation\"}`.";

#[derive(Deserialize, Default)]
struct Args {
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    space_name: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    search_query: Option<String>,
    #[serde(default)]
    limit: Option<f64>,
}

/// The Hub's semantic search over Spaces.
const SEMANTIC_SEARCH: &str = "/api/spaces/semantic-search";

/// `invoke` runs a Space call (seconds to minutes on ZeroGPU), so clients may take the
/// call as a task (tasks extension).
pub fn tool(gradio: Arc<Gradio>) -> Tool {
    let definition = if gradio.config.space_list.is_some() { discover_definition() } else { definition() };
    Tool::new(definition, move |args, ctx: Ctx| {
        let gradio = gradio.clone();
        async move {
            let args: Args = match serde_json::from_str(args.get()) {
                Ok(a) => a,
                Err(e) => return Ok(ToolOutput::error(format!("Invalid arguments: {e}"))),
            };
            run(&gradio, args, ctx).await
        }
    })
    .with_task_support(TaskSupport::Optional)
}

async fn run(gradio: &Gradio, args: Args, ctx: Ctx) -> Result<ToolOutput, CallError> {
    let listed = gradio.config.space_list.is_some();
    let Some(op) = args.operation.as_deref().map(str::to_ascii_lowercase) else {
        if listed {
            return Ok(ToolOutput::text(
                USAGE.replace(FIND_USAGE, DISCOVER_USAGE).replace("1. `find`", "1. `discover`"),
            ));
        }
        return Ok(ToolOutput::text(USAGE));
    };
    let search = if listed { "discover" } else { "find" };
    match op.as_str() {
        "discover" if listed => Ok(discover(gradio).await),
        "find" if !listed => Ok(find(gradio, &args, &ctx).await),
        VIEW => Ok(view(gradio, &args, &ctx).await),
        "invoke" => invoke(gradio, &args, ctx).await,
        other => Ok(ToolOutput::error(format!(
            "Unknown operation: \"{other}\"\nAvailable operations: {search}, {VIEW}, invoke\n\nCall this tool with no \
             operation for full usage instructions."
        ))),
    }
}

/// The operator's curated list, as a table.
async fn discover(gradio: &Gradio) -> ToolOutput {
    let (Some(source), Some(http)) = (&gradio.config.space_list, &gradio.space_list_http) else {
        return ToolOutput::error("No Space list is configured.");
    };
    let list = match crate::gradio::space_list::fetch(http, &gradio.config.network, source).await {
        Ok(list) => list,
        Err(e) => return ToolOutput::error(format!("Error fetching space list from {}: {e}", source.url)),
    };
    if list.is_empty() {
        return ToolOutput::text("No spaces available in the configured list.");
    }
    let mut md = format!(
        "**Available Spaces:**\n\nThese spaces can be invoked using the `dynamic_space` tool.\nUse `\"operation\": \
         \"{VIEW}\"` to inspect a space's parameters before invoking.\n\n| Space ID | Category | Description |\n\
         |----------|----------|-------------|\n"
    );
    for s in &list {
        md.push_str(&format!(
            "| `{}` | {} | {} |\n",
            escape_md(&s.id),
            escape_md(&s.category),
            escape_md(&s.description)
        ));
    }
    let items: Vec<Value> =
        list.iter().map(|s| json!({ "id": s.id, "category": s.category, "description": s.description })).collect();
    ToolOutput::structured(md, json!({ "results": items }))
}

async fn find(gradio: &Gradio, args: &Args, ctx: &Ctx) -> ToolOutput {
    let Some(query) = args.search_query.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
        return ToolOutput::text(TASK_HINTS);
    };
    // As the hosted server: at most 1000, the Hub's own page of hits cut to the limit.
    let limit = args.limit.map(|l| l.clamp(1.0, MAX_LIMIT as f64) as usize).unwrap_or(DEFAULT_LIMIT);
    // A malformed token searches anonymously, as the public search allows.
    let token = token_of(ctx).filter(|t| Token::new(&**t).is_ok());
    let q = [
        ("q", query.chars().take(250).collect::<String>()),
        ("sdk", "gradio".to_owned()),
        ("filter", "mcp-server".to_owned()),
    ];
    let hits = match gradio.discovery.hub().get_json(token.as_deref(), Service::Hub, SEMANTIC_SEARCH, &q).await {
        Ok(Value::Array(hits)) => hits.into_iter().filter(|h| h.is_object()).collect::<Vec<_>>(),
        Ok(_) => {
            return ToolOutput::error(format!(
                "Error discovering spaces: {}",
                HubError::invalid_response("expected a JSON array").message()
            ))
        }
        Err(e) => {
            return ToolOutput::error(format!(
                "Error discovering spaces: {}",
                super::explain::explain(&e, "the Space search")
            ))
        }
    };
    let truncated = hits.len() > limit;
    let hits: Vec<Value> = hits.into_iter().take(limit).collect();
    if hits.is_empty() {
        return ToolOutput::text(format!(
            "No MCP-enabled Spaces found for \"{query}\".\n\nTry broader search terms (e.g. \"image generation\"), \
             task-focused queries (e.g. \"object detection\") or another task category."
        ));
    }
    let mut md = format!(
        "# MCP Space Find Results for \"{}\" ({})\n\nThese MCP-enabled Spaces can be invoked using the \
         `dynamic_space` tool.\nUse `\"operation\": \"{VIEW}\"` to inspect a space's parameters before invoking.\n\n\
         | Space | Description | Space ID | Category | Likes | Trending | Relevance |\n\
         |-------|-------------|----------|----------|-------|----------|-----------|\n",
        escape_md(query),
        if truncated { format!("Showing the first {} results", hits.len()) } else { format!("{} results", hits.len()) }
    );
    let mut items = Vec::new();
    for h in &hits {
        let text = |key: &str| h.get(key).and_then(Value::as_str).map(str::to_owned);
        let id = text("id").unwrap_or_default();
        let title = text("title").unwrap_or_else(|| "Untitled".into());
        let desc = text("ai_short_description")
            .or_else(|| text("shortDescription"))
            .unwrap_or_else(|| "No description".into());
        let category = text("ai_category");
        let likes = h.get("likes").and_then(Value::as_u64);
        let trending = h.get("trendingScore").and_then(|t| t.as_i64().or_else(|| t.as_f64().map(|f| f.round() as i64)));
        let score = h.get("semanticRelevancyScore").and_then(Value::as_f64);
        let relevance = score.map_or("N/A".to_owned(), |s| format!("{:.1}%", s * 100.0));
        md.push_str(&format!(
            "| [{}](https://hf.co/spaces/{}) | {} | `{}` | `{}` | {} | {} | {} |\n",
            escape_md(&title),
            id,
            escape_md(&desc),
            escape_md(&id),
            escape_md(category.as_deref().unwrap_or("-")),
            likes.map_or("-".into(), |l| l.to_string()),
            trending.map_or("-".into(), |t| t.to_string()),
            relevance
        ));
        items.push(json!({ "id": id, "title": title, "description": desc, "category": category,
            "likes": likes, "relevance": score }));
    }
    ToolOutput::structured(md, json!({ "query": query, "results": items }))
}

/// The Space's first tool, or a result explaining why there is none.
async fn first_tool(gradio: &Gradio, name: Option<&str>, ctx: &Ctx) -> Result<(Arc<SpaceMeta>, SpaceTool), ToolOutput> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Err(ToolOutput::error("space_name is required (format: \"username/space-name\")."));
    };
    let token = token_of(ctx);
    let meta = gradio.discovery.meta(name, token.as_deref()).await.map_err(|e| {
        let mut m = format!("Error fetching parameters for space '{name}': {}", e.message);
        if e.failure == Failure::NotFound {
            m.push_str(
                "\n\nNote: The space MUST be an MCP enabled space. Use `dynamic_space` with operation `find` (or \
                 `hub_repo_search` with repo_types [\"space\"]) to find Spaces.",
            );
        }
        ToolOutput::error(m)
    })?;
    let schema = gradio
        .discovery
        .schema(&meta, token.as_deref())
        .await
        .map_err(|e| ToolOutput::error(format!("Error fetching parameters for space '{name}': {}", e.message)))?;
    match schema.tools.first() {
        Some(t) => Ok((meta, t.clone())),
        None => Err(ToolOutput::error(format!("Error: No tools found for space '{name}'."))),
    }
}

struct Param {
    name: String,
    kind: String,
    description: Option<String>,
    required: bool,
    default: Option<Value>,
    allowed: Option<Vec<Value>>,
    file: bool,
}

fn is_file(p: &Value) -> bool {
    p.get("title").and_then(Value::as_str) == Some("FileData")
        || p.get("title").and_then(Value::as_str) == Some("ImageData")
        || p.get("format").and_then(Value::as_str).is_some_and(|f| f.contains("url to a file"))
}

/// The parameters of a simple schema, or why it is not simple.
fn analyze(tool: &SpaceTool) -> Result<Vec<Param>, String> {
    let props = tool.input_schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let required: Vec<&str> = tool
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, p) in &props {
        let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
        let mut param = Param {
            name: name.clone(),
            kind: ty.to_owned(),
            description: p.get("description").and_then(Value::as_str).map(str::to_owned),
            required: required.contains(&name.as_str()),
            default: p.get("default").cloned(),
            allowed: p.get("enum").and_then(Value::as_array).filter(|e| !e.is_empty()).cloned(),
            file: false,
        };
        if is_file(p) {
            param.kind = "string (file URL)".into();
            param.file = true;
        } else if let Some(e) = &param.allowed {
            param.kind = format!("enum ({} values)", e.len());
        } else {
            match ty {
                "string" | "number" | "integer" | "boolean" => {}
                "object" => match p.get("properties").and_then(Value::as_object) {
                    Some(nested)
                        if nested
                            .values()
                            .any(|n| matches!(n.get("type").and_then(Value::as_str), Some("object" | "array"))) =>
                    {
                        return Err(format!("Parameter \"{name}\" has complex type: deeply nested object (2+ levels)"))
                    }
                    Some(_) => param.kind = "object (shallow)".into(),
                    None => {
                        return Err(format!("Parameter \"{name}\" has complex type: object without defined properties"))
                    }
                },
                "array" => match p.get("items").and_then(|i| i.get("type")).and_then(Value::as_str) {
                    Some("object") => return Err(format!("Parameter \"{name}\" has complex type: array of objects")),
                    Some("array") => return Err(format!("Parameter \"{name}\" has complex type: nested arrays")),
                    Some(t) => param.kind = format!("array<{t}>"),
                    None => param.kind = "array<any>".into(),
                },
                "" => return Err(format!("Parameter \"{name}\" has complex type: unknown type")),
                _ => {}
            }
        }
        out.push(param);
    }
    Ok(out)
}

fn complex_error(space: &str, reason: &str) -> ToolOutput {
    ToolOutput::error(format!(
        "The Space '{space}' has a schema too complex for dynamic use: {reason}.\n\nAdd it to your tools at \
         https://huggingface.co/settings/mcp (or with ?gradio={space}) to call it directly."
    ))
}

async fn view(gradio: &Gradio, args: &Args, ctx: &Ctx) -> ToolOutput {
    let (meta, tool) = match first_tool(gradio, args.space_name.as_deref(), ctx).await {
        Ok(x) => x,
        Err(out) => return out,
    };
    let params = match analyze(&tool) {
        Ok(p) => p,
        Err(reason) => return complex_error(&meta.name, &reason),
    };
    let mut sorted: Vec<&Param> = params.iter().collect();
    sorted.sort_by(|a, b| b.required.cmp(&a.required).then_with(|| a.name.cmp(&b.name)));
    let mut md = format!("# Parameters for: {}\n\n**Description:** {}\n\n", tool.name, tool.description);
    if meta.is_gpu() {
        md.push_str(&format!(
            "**Hardware:** {} (GPU: invoking spends the user's GPU quota)\n\n",
            meta.hardware.as_deref().unwrap_or("gpu")
        ));
    }
    md.push_str("## Parameters:\n\n");
    for p in &sorted {
        md.push_str(&format!(
            "### {} {}\n- **Type:** {}\n",
            p.name,
            if p.required { "[REQUIRED]" } else { "[OPTIONAL]" },
            p.kind
        ));
        if let Some(d) = &p.description {
            md.push_str(&format!("- **Description:** {d}\n"));
        }
        if let Some(d) = &p.default {
            md.push_str(&format!("- **Default:** {d}\n"));
        }
        if let Some(e) = &p.allowed {
            md.push_str(&format!(
                "- **Allowed values:** {}\n",
                e.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        if p.file {
            md.push_str(&format!("- **Note:** {FILE_HELP}\n"));
        }
        md.push('\n');
    }
    let example: Map<String, Value> =
        params.iter().filter(|p| p.required).map(|p| (p.name.clone(), example_value(p))).collect();
    md.push_str(&format!(
        "## Usage Example:\n\n```json\n{}\n```\n",
        serde_json::to_string_pretty(&json!({
            "operation": "invoke", "space_name": meta.name,
            "parameters": serde_json::to_string(&example).unwrap_or_default()
        }))
        .unwrap_or_default()
    ));
    let structured = json!({
        "space": meta.name, "tool": tool.name, "gpu": meta.is_gpu(),
        "parameters": params.iter().map(|p| json!({ "name": p.name, "type": p.kind, "required": p.required,
            "default": p.default, "enum": p.allowed, "description": p.description })).collect::<Vec<_>>()
    });
    ToolOutput::structured(md, structured)
}

fn example_value(p: &Param) -> Value {
    if p.file {
        return json!("https://example.com/input.png");
    }
    if let Some(e) = p.allowed.as_ref().and_then(|e| e.first()) {
        return e.clone();
    }
    match p.kind.split(['<', ' ']).next().unwrap_or("") {
        "number" | "integer" => json!(1),
        "boolean" => json!(true),
        "array" => json!([]),
        "object" => json!({}),
        _ => json!("example"),
    }
}

fn type_ok(p: &Param, v: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    if p.file {
        return v.is_string();
    }
    if let Some(e) = &p.allowed {
        return e.contains(v);
    }
    match p.kind.split(['<', ' ']).next().unwrap_or("") {
        "string" => v.is_string(),
        "number" | "integer" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

async fn invoke(gradio: &Gradio, args: &Args, mut ctx: Ctx) -> Result<ToolOutput, CallError> {
    if ctx.request().query_param("gradio").as_deref() == Some("none")
        || ctx.request().header("x-mcp-gradio") == Some("none")
    {
        return Ok(ToolOutput::error(format!(
            "The invoke operation is disabled because gradio=none is set. To use invoke, remove gradio=none from \
             your headers or set gradio to a space ID. You can still use operation={VIEW} to inspect the tool schema."
        )));
    }
    let mut input: Map<String, Value> = match &args.parameters {
        None => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                return Ok(ToolOutput::error("Error: Invalid JSON in parameters: Parameters must be a JSON object."))
            }
            Err(e) => {
                return Ok(ToolOutput::error(format!(
                "Error: Invalid JSON in parameters.\n\nExpected format: {{\"param1\": \"value\", \"param2\": 123}}\n\
                     Note: Use double quotes, no trailing commas.\n\n{e}"
            )))
            }
        },
        Some(_) => return Ok(ToolOutput::error("Error: parameters must be a JSON object string.")),
    };
    let (meta, tool) = match first_tool(gradio, args.space_name.as_deref(), &ctx).await {
        Ok(x) => x,
        Err(out) => return Ok(out),
    };
    let params = match analyze(&tool) {
        Ok(p) => p,
        Err(reason) => return Ok(complex_error(&meta.name, &reason)),
    };
    let mut errors = Vec::new();
    for p in params.iter().filter(|p| p.required) {
        if input.get(&p.name).is_none_or(Value::is_null) {
            errors.push(format!("Missing required parameter: \"{}\"", p.name));
        }
    }
    let mut warnings = Vec::new();
    for (k, v) in &input {
        match params.iter().find(|p| &p.name == k) {
            None => warnings.push(format!("Unknown parameter: \"{k}\" (will be passed through)")),
            Some(p) if !type_ok(p, v) => errors.push(format!("Parameter \"{k}\" should be type {}", p.kind)),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Ok(ToolOutput::error(format!(
            "Invalid parameters for space '{}':\n{}\n\nUse operation={VIEW} to see the parameter schema.",
            meta.name,
            errors.iter().map(|e| format!("- {e}")).collect::<Vec<_>>().join("\n")
        )));
    }
    for p in &params {
        if !p.required && !input.contains_key(&p.name) {
            if let Some(d) = &p.default {
                input.insert(p.name.clone(), d.clone());
            }
        }
    }

    // GPU Spaces spend the user's quota: ask first, when the client can be asked.
    if meta.is_gpu() && ctx.request().client_supports("elicitation") {
        let message = format!(
            "Run the Space {} on {} hardware? This uses your Hugging Face GPU (ZeroGPU) quota.",
            meta.name,
            meta.hardware.as_deref().unwrap_or("GPU")
        );
        let schema = json!({
            "type": "object",
            "properties": { "confirm": { "type": "boolean", "title": "Run on GPU", "default": true,
                "description": "Run this Space now" } },
            "required": ["confirm"]
        });
        let answers = ctx.request_input(InputRequests::new().elicit("confirm_gpu", message, schema)).await?;
        let answer = answers.get("confirm_gpu").cloned().unwrap_or(Value::Null);
        let accepted = answer.get("action").and_then(Value::as_str) == Some("accept")
            && answer.get("content").and_then(|c| c.get("confirm")).and_then(Value::as_bool) != Some(false);
        if !accepted {
            return Ok(ToolOutput::structured(
                format!("The user did not confirm running the Space {}; nothing was run.", meta.name),
                json!({ "space": meta.name, "invoked": false, "reason": "not_confirmed" }),
            ));
        }
    }

    let arguments = serde_json::value::to_raw_value(&input).expect("object serializes");
    let out = gradio.call(&meta, &tool.name, &arguments, &ctx).await;
    Ok(with_warnings(out, &warnings))
}

fn with_warnings(out: ToolOutput, warnings: &[String]) -> ToolOutput {
    if warnings.is_empty() {
        return out;
    }
    let mut result = match out {
        ToolOutput::Result(r) => r,
        ToolOutput::Raw(raw) => match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Object(o)) => o,
            _ => return ToolOutput::Raw(raw),
        },
    };
    let text = format!(
        "{}\n{}\n",
        if warnings.len() == 1 { "Warning:" } else { "Warnings:" },
        warnings.iter().map(|w| format!("- {w}")).collect::<Vec<_>>().join("\n")
    );
    let content = result.entry("content").or_insert_with(|| json!([]));
    if let Value::Array(items) = content {
        items.insert(0, json!({ "type": "text", "text": text }));
    }
    ToolOutput::Result(result)
}
