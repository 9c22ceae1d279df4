//! The toolset the official MCP conformance suite expects
//! (`@modelcontextprotocol/conformance`), built on the engine's provider API like any
//! other toolset. Tool names, texts and shapes follow the suite's scenario descriptions.

use std::time::Duration;

mod tasks;

use mcp_engine::context::{elicited_str, InputRequests};
use mcp_engine::provider::{Catalog, StaticProvider, Tool, ToolOutput};
use mcp_engine::{Audience, CacheHint, CallError, ChangeEvent, Ctx, JsonObject, LogLevel};
use serde_json::{json, Value};

/// A 1×1 red PNG.
pub const TEST_IMAGE_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
pub const TEST_AUDIO_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

pub fn capabilities() -> Value {
    json!({
        "tools": { "listChanged": true },
        "resources": { "subscribe": true, "listChanged": true },
        "prompts": { "listChanged": true },
        "logging": {},
        "completions": {}
    })
}

pub fn provider() -> StaticProvider {
    StaticProvider::new(catalog(), capabilities())
        .with_instructions("Conformance test server: tools, resources and prompts for the MCP conformance suite.")
}

fn no_args(name: &str, description: &str) -> Value {
    json!({ "name": name, "description": description, "inputSchema": { "type": "object", "properties": {} } })
}

fn text_schema(field: &str) -> Value {
    json!({ "type": "object", "properties": { field: { "type": "string" } }, "required": [field] })
}

fn arg_str(args: &serde_json::value::RawValue, key: &str) -> Option<String> {
    let v: Value = serde_json::from_str(args.get()).ok()?;
    v.get(key)?.as_str().map(str::to_owned)
}

fn elicit_result_text(prefix: &str, answer: &Value) -> String {
    format!(
        "{prefix}: action={}, content={}",
        answer.get("action").and_then(Value::as_str).unwrap_or("unknown"),
        answer.get("content").cloned().unwrap_or_else(|| json!({}))
    )
}

pub fn catalog() -> Catalog {
    let mut c = Catalog::new();
    c.list_cache = CacheHint::public(300_000);
    c.read_cache = CacheHint::private(300_000);
    tools(&mut c);
    resources(&mut c);
    prompts(&mut c);
    c.completion(|params, _| async move {
        const WORDS: &[&str] = &["paris", "park", "party", "pasta", "patio", "london", "lisbon", "hello", "world"];
        let prefix = params.pointer("/argument/value").and_then(Value::as_str).unwrap_or("").to_owned();
        let values: Vec<&str> = WORDS.iter().copied().filter(|w| w.starts_with(&prefix)).collect();
        let mut r = JsonObject::new();
        r.insert("completion".into(), json!({ "values": values, "total": values.len(), "hasMore": false }));
        Ok(r)
    });
    c
}

fn tools(c: &mut Catalog) {
    c.tool(Tool::new(no_args("test_simple_text", "Tests simple text content response"), |_, _| async {
        Ok(ToolOutput::text("This is a simple text response for testing."))
    }));
    c.tool(Tool::new(no_args("test_image_content", "Tests image content response"), |_, _| async {
        Ok(ToolOutput::content(vec![json!({ "type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png" })]))
    }));
    c.tool(Tool::new(no_args("test_audio_content", "Tests audio content response"), |_, _| async {
        Ok(ToolOutput::content(vec![json!({ "type": "audio", "data": TEST_AUDIO_BASE64, "mimeType": "audio/wav" })]))
    }));
    c.tool(Tool::new(no_args("test_embedded_resource", "Tests embedded resource content response"), |_, _| async {
        Ok(ToolOutput::content(vec![json!({ "type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."
        }})]))
    }));
    c.tool(Tool::new(
        no_args("test_multiple_content_types", "Tests response with multiple content types (text, image, resource)"),
        |_, _| async {
            Ok(ToolOutput::content(vec![
                json!({ "type": "text", "text": "Multiple content types test:" }),
                json!({ "type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png" }),
                json!({ "type": "resource", "resource": {
                    "uri": "test://mixed-content-resource", "mimeType": "application/json",
                    "text": json!({ "test": "data", "value": 123 }).to_string()
                }}),
            ]))
        },
    ));
    c.tool(Tool::new(
        no_args("test_tool_with_logging", "Tests tool that emits log messages during execution"),
        |_, ctx: Ctx| async move {
            for (i, msg) in
                ["Tool execution started", "Tool processing data", "Tool execution completed"].iter().enumerate()
            {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.log(LogLevel::Info, Some("conformance-test-server"), json!(msg)).await;
            }
            Ok(ToolOutput::text("Tool with logging executed successfully"))
        },
    ));
    c.tool(Tool::new(
        no_args("test_tool_with_progress", "Tests tool that reports progress notifications"),
        |_, ctx: Ctx| async move {
            for step in [0.0, 50.0, 100.0] {
                if step > 0.0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.progress(step, Some(100.0), Some(&format!("Completed step {step} of 100"))).await;
            }
            let token = ctx.request().progress_token.clone().unwrap_or(json!(0));
            let text = match token {
                Value::String(s) => s,
                other => other.to_string(),
            };
            Ok(ToolOutput::text(text))
        },
    ));
    c.tool(Tool::new(no_args("test_error_handling", "Tests error response handling"), |_, _| async {
        Ok(ToolOutput::error("This tool intentionally returns an error for testing"))
    }));
    c.tool(Tool::new(
        no_args(
            "test_reconnection",
            "Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream mid-call and send the result after client reconnects.",
        ),
        |_, ctx: Ctx| async move {
            // Session era over Streamable HTTP: the client resumes with Last-Event-ID and
            // gets the result from the event log. Elsewhere this is a no-op.
            ctx.close_stream();
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(ToolOutput::text(
                "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.",
            ))
        },
    ));
    c.tool(Tool::new(
        json!({ "name": "test_sampling", "description": "Tests server-initiated sampling (LLM completion request)",
                "inputSchema": { "type": "object", "properties": { "prompt": { "type": "string", "description": "The prompt to send to the LLM" } }, "required": ["prompt"] } }),
        |args, mut ctx: Ctx| async move {
            let prompt = arg_str(&args, "prompt").unwrap_or_default();
            let answers = ctx
                .request_input(InputRequests::new().sample("sampling", json!({
                    "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
                    "maxTokens": 100
                })))
                .await?;
            let text = answers["sampling"].pointer("/content/text").and_then(Value::as_str).unwrap_or("No response");
            Ok(ToolOutput::text(format!("LLM response: {text}")))
        },
    ));
    c.tool(Tool::new(
        json!({ "name": "test_elicitation", "description": "Tests server-initiated elicitation (user input request)",
                "inputSchema": { "type": "object", "properties": { "message": { "type": "string", "description": "The message to show the user" } }, "required": ["message"] } }),
        |args, mut ctx: Ctx| async move {
            let message = arg_str(&args, "message").unwrap_or_default();
            let schema = json!({ "type": "object", "properties": {
                "username": { "type": "string", "description": "User's response" },
                "email": { "type": "string", "description": "User's email address" }
            }, "required": ["username", "email"] });
            let answers = ctx.request_input(InputRequests::new().elicit("response", message, schema)).await?;
            Ok(ToolOutput::text(elicit_result_text("User response", &answers["response"])))
        },
    ));
    c.tool(Tool::new(
        no_args("test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034"),
        |_, mut ctx: Ctx| async move {
            let schema = json!({ "type": "object", "properties": {
                "name": { "type": "string", "description": "User name", "default": "John Doe" },
                "age": { "type": "integer", "description": "User age", "default": 30 },
                "score": { "type": "number", "description": "User score", "default": 95.5 },
                "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                "verified": { "type": "boolean", "description": "Verification status", "default": true }
            }, "required": [] });
            let answers = ctx
                .request_input(InputRequests::new().elicit("form", "Please review and update the form fields with defaults", schema))
                .await?;
            Ok(ToolOutput::text(elicit_result_text("Elicitation completed", &answers["form"])))
        },
    ));
    c.tool(Tool::new(
        no_args("test_elicitation_sep1330_enums", "Tests elicitation with enum schema improvements per SEP-1330"),
        |_, mut ctx: Ctx| async move {
            let schema = json!({ "type": "object", "properties": {
                "untitledSingle": { "type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"] },
                "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                    { "const": "value1", "title": "First Option" }, { "const": "value2", "title": "Second Option" }, { "const": "value3", "title": "Third Option" } ] },
                "legacyEnum": { "type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": { "anyOf": [
                    { "const": "value1", "title": "First Choice" }, { "const": "value2", "title": "Second Choice" }, { "const": "value3", "title": "Third Choice" } ] } }
            }, "required": [] });
            let answers = ctx
                .request_input(InputRequests::new().elicit("form", "Please select options from the enum fields", schema))
                .await?;
            Ok(ToolOutput::text(elicit_result_text("Elicitation completed", &answers["form"])))
        },
    ));
    c.tool(Tool::new(
        json!({
            "name": "json_schema_2020_12_tool",
            "description": "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": { "address": { "$anchor": "addressDef", "type": "object", "properties": { "street": { "type": "string" }, "city": { "type": "string" } } } },
                "properties": {
                    "name": { "type": "string" },
                    "address": { "$ref": "#/$defs/address" },
                    "contactMethod": { "type": "string", "enum": ["phone", "email"] },
                    "phone": { "type": "string" },
                    "email": { "type": "string" }
                },
                "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
                "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
                "then": { "required": ["phone"] },
                "else": { "required": ["email"] },
                "additionalProperties": false
            }
        }),
        |args, _| async move { Ok(ToolOutput::text(format!("JSON Schema 2020-12 tool called with: {}", args.get()))) },
    ));
    c.tool(Tool::new(
        json!({
            "name": "test_custom_header",
            "description": "Echoes a region that is mirrored into the Mcp-Param-Region header (SEP-2243)",
            "inputSchema": { "type": "object", "properties": {
                "region": { "type": "string", "description": "Region to echo", "x-mcp-header": "Region" }
            }, "required": ["region"] }
        }),
        |args, _| async move { Ok(ToolOutput::text(format!("Region: {}", arg_str(&args, "region").unwrap_or_default()))) },
    ));
    mrtr_tools(c);
    diagnostic_tools(c);
    tasks::task_tools(c);
}

/// Multi round-trip (SEP-2322) tools. Each is straight-line code: the engine replays it
/// with the answers gathered so far.
fn mrtr_tools(c: &mut Catalog) {
    c.tool(Tool::new(no_args("test_missing_capability", "Test tool requiring sampling"), |_, ctx: Ctx| async move {
        ctx.require_capability("sampling")?;
        Ok(ToolOutput::text("Success"))
    }));
    c.tool(Tool::new(
        no_args("test_input_required_result_elicitation", "MRTR: returns InputRequiredResult with elicitation request"),
        |_, mut ctx: Ctx| async move {
            let a = ctx
                .request_input(InputRequests::new().elicit("user_name", "What is your name?", text_schema("name")))
                .await?;
            let name = elicited_str(&a["user_name"], "name").unwrap_or("unknown");
            Ok(ToolOutput::text(format!("Hello, {name}!")))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_sampling", "MRTR: returns InputRequiredResult with sampling request"),
        |_, mut ctx: Ctx| async move {
            let a = ctx
                .request_input(InputRequests::new().sample("sample_request", json!({
                    "messages": [{ "role": "user", "content": { "type": "text", "text": "What is the capital of France?" } }],
                    "maxTokens": 100
                })))
                .await?;
            let text = a["sample_request"].pointer("/content/text").and_then(Value::as_str).unwrap_or("no response");
            Ok(ToolOutput::text(format!("Sampling result: {text}")))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_list_roots", "MRTR: returns InputRequiredResult with roots/list request"),
        |_, mut ctx: Ctx| async move {
            let a = ctx.request_input(InputRequests::new().list_roots("roots_request")).await?;
            let n = a["roots_request"].get("roots").and_then(Value::as_array).map_or(0, Vec::len);
            Ok(ToolOutput::text(format!("Found {n} root(s)")))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_request_state", "MRTR: returns InputRequiredResult with requestState"),
        |_, mut ctx: Ctx| async move {
            ctx.set_state(json!({ "kind": "request-state" }));
            let schema = json!({ "type": "object", "properties": { "ok": { "type": "boolean" } }, "required": ["ok"] });
            let a = ctx.request_input(InputRequests::new().elicit("confirm", "Please confirm", schema)).await?;
            let state_ok = ctx.state().and_then(|s| s.get("kind")).and_then(Value::as_str) == Some("request-state");
            let confirmed = a["confirm"].pointer("/content/ok").and_then(Value::as_bool) == Some(true);
            Ok(if state_ok && confirmed {
                ToolOutput::text("state-ok: requestState validated")
            } else {
                ToolOutput::error("confirmation declined")
            })
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_multiple_inputs", "MRTR: returns InputRequiredResult with multiple input requests"),
        |_, mut ctx: Ctx| async move {
            let a = ctx
                .request_input(
                    InputRequests::new()
                        .elicit("user_name", "What is your name?", text_schema("name"))
                        .sample("greeting", json!({
                            "messages": [{ "role": "user", "content": { "type": "text", "text": "Generate a greeting" } }],
                            "maxTokens": 50
                        }))
                        .list_roots("client_roots"),
                )
                .await?;
            let name = elicited_str(&a["user_name"], "name").unwrap_or("unknown");
            let greeting = a["greeting"].pointer("/content/text").and_then(Value::as_str).unwrap_or("Hello there!");
            let roots = a["client_roots"].get("roots").and_then(Value::as_array).map_or(0, Vec::len);
            Ok(ToolOutput::text(format!("Name: {name}; Greeting: {greeting}; Roots: {roots}")))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_multi_round", "MRTR: multi-round InputRequiredResult workflow"),
        |_, mut ctx: Ctx| async move {
            let a = ctx
                .request_input(InputRequests::new().elicit("step1", "Step 1: What is your name?", text_schema("name")))
                .await?;
            let name = elicited_str(&a["step1"], "name").unwrap_or("friend").to_owned();
            let b = ctx
                .request_input(InputRequests::new().elicit(
                    "step2",
                    "Step 2: What is your favorite color?",
                    text_schema("color"),
                ))
                .await?;
            let color = elicited_str(&b["step2"], "color").unwrap_or("unknown");
            Ok(ToolOutput::text(format!("Multi-round complete for {name} who likes {color}")))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_tampered_state", "MRTR: HMAC-signed requestState integrity test"),
        |_, mut ctx: Ctx| async move {
            ctx.set_state(json!({ "kind": "tamper-test" }));
            let schema = json!({ "type": "object", "properties": { "ok": { "type": "boolean" } }, "required": ["ok"] });
            ctx.request_input(InputRequests::new().elicit("confirm", "Please confirm", schema)).await?;
            Ok(ToolOutput::text("integrity-ok: state verified"))
        },
    ));
    c.tool(Tool::new(
        no_args("test_input_required_result_capabilities", "MRTR: respects client capabilities in inputRequests"),
        |_, mut ctx: Ctx| async move {
            let mut asks = InputRequests::new();
            let mut keys = Vec::new();
            if ctx.request().client_supports("elicitation") {
                asks = asks.elicit("elicit_input", "Elicitation input", text_schema("value"));
                keys.push("elicit_input");
            }
            if ctx.request().client_supports("sampling") {
                asks = asks.sample(
                    "sample_input",
                    json!({
                        "messages": [{ "role": "user", "content": { "type": "text", "text": "Sample request" } }],
                        "maxTokens": 50
                    }),
                );
                keys.push("sample_input");
            }
            if asks.is_empty() {
                return Ok(ToolOutput::text("No supported capabilities declared"));
            }
            ctx.request_input(asks).await?;
            Ok(ToolOutput::text(format!("capabilities-ok: received {}", keys.join(","))))
        },
    ));
}

/// Diagnostic tools the stateless scenarios drive.
fn diagnostic_tools(c: &mut Catalog) {
    c.tool(Tool::new(
        no_args("test_streaming_elicitation", "Diagnostic tool validating response progress streams"),
        |_, ctx: Ctx| async move {
            ctx.require_capability("elicitation")?;
            ctx.progress(50.0, Some(100.0), Some("halfway")).await;
            Ok(ToolOutput::text("Streaming complete"))
        },
    ));
    c.tool(Tool::new(no_args("test_logging_tool", "Diagnostic logging validator tool"), |_, ctx: Ctx| async move {
        ctx.log(LogLevel::Info, Some("conformance-test-server"), json!("Diagnostic trace logging activated")).await;
        Ok(ToolOutput::text("Logging evaluated"))
    }));
    c.tool(Tool::new(
        no_args("test_trigger_tool_change", "Announces a tool list change to listening clients"),
        |_, ctx: Ctx| async move {
            ctx.notify(ChangeEvent::ToolsListChanged(Audience::Everyone));
            Ok(ToolOutput::text("Mutation triggered"))
        },
    ));
    c.tool(Tool::new(
        no_args("test_trigger_prompt_change", "Announces a prompt list change to listening clients"),
        |_, ctx: Ctx| async move {
            ctx.notify(ChangeEvent::PromptsListChanged(Audience::Everyone));
            Ok(ToolOutput::text("Mutation triggered"))
        },
    ));
    c.tool(Tool::new(
        no_args("test_trigger_resource_update", "Announces an update of test://watched-resource"),
        |_, ctx: Ctx| async move {
            ctx.notify(ChangeEvent::ResourceUpdated { uri: "test://watched-resource".into() });
            Ok(ToolOutput::text("Mutation triggered"))
        },
    ));
}

fn contents(uri: &str, mime: &str, body: Value) -> JsonObject {
    let mut item = json!({ "uri": uri, "mimeType": mime });
    item.as_object_mut().expect("object").extend(body.as_object().expect("object").clone());
    let mut r = JsonObject::new();
    r.insert("contents".into(), json!([item]));
    r
}

fn resources(c: &mut Catalog) {
    c.resource(
        json!({ "uri": "test://static-text", "name": "static-text", "title": "Static Text Resource",
                "description": "A static text resource for testing", "mimeType": "text/plain" }),
        |r, _| async move {
            Ok(contents(&r.uri, "text/plain", json!({ "text": "This is the content of the static text resource." })))
        },
    );
    c.resource(
        json!({ "uri": "test://static-binary", "name": "static-binary", "title": "Static Binary Resource",
                "description": "A static binary resource (image) for testing", "mimeType": "image/png" }),
        |r, _| async move { Ok(contents(&r.uri, "image/png", json!({ "blob": TEST_IMAGE_BASE64 }))) },
    );
    c.resource(
        json!({ "uri": "test://watched-resource", "name": "watched-resource", "title": "Watched Resource",
                "description": "A resource clients can subscribe to", "mimeType": "text/plain" }),
        |r, _| async move { Ok(contents(&r.uri, "text/plain", json!({ "text": "Watched resource content" }))) },
    );
    c.resource_template(
        json!({ "uriTemplate": "test://template/{id}/data", "name": "template", "title": "Resource Template",
                "description": "A resource template with parameter substitution", "mimeType": "application/json" }),
        |r, _| async move {
            let id = r.variables.get("id").cloned().unwrap_or_default();
            let text = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") }).to_string();
            Ok(contents(&r.uri, "application/json", json!({ "text": text })))
        },
    );
}

fn user_message(content: Value) -> Value {
    json!({ "role": "user", "content": content })
}

fn messages(list: Vec<Value>) -> JsonObject {
    let mut r = JsonObject::new();
    r.insert("messages".into(), Value::Array(list));
    r
}

fn prompts(c: &mut Catalog) {
    c.prompt(
        json!({ "name": "test_simple_prompt", "title": "Simple Test Prompt", "description": "A simple prompt without arguments" }),
        |_, _| async { Ok(messages(vec![user_message(json!({ "type": "text", "text": "This is a simple prompt for testing." }))])) },
    );
    c.prompt(
        json!({ "name": "test_prompt_with_arguments", "title": "Prompt With Arguments", "description": "A prompt with required arguments",
                "arguments": [
                    { "name": "arg1", "description": "First test argument", "required": true },
                    { "name": "arg2", "description": "Second test argument", "required": true } ] }),
        |args, _| async move {
            let get = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
            let (Some(arg1), Some(arg2)) = (get("arg1"), get("arg2")) else {
                return Err(CallError::Protocol(mcp_engine::McpError::invalid_params("Missing required arguments arg1 and arg2")));
            };
            Ok(messages(vec![user_message(json!({ "type": "text", "text": format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'") }))]))
        },
    );
    c.prompt(
        json!({ "name": "test_prompt_with_embedded_resource", "title": "Prompt With Embedded Resource",
                "description": "A prompt that includes an embedded resource",
                "arguments": [{ "name": "resourceUri", "description": "URI of the resource to embed", "required": true }] }),
        |args, _| async move {
            let uri = args.get("resourceUri").and_then(Value::as_str).unwrap_or("test://example-resource").to_owned();
            Ok(messages(vec![
                user_message(json!({ "type": "resource", "resource": { "uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing." } })),
                user_message(json!({ "type": "text", "text": "Please process the embedded resource above." })),
            ]))
        },
    );
    c.prompt(
        json!({ "name": "test_prompt_with_image", "title": "Prompt With Image", "description": "A prompt that includes image content" }),
        |_, _| async {
            Ok(messages(vec![
                user_message(json!({ "type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png" })),
                user_message(json!({ "type": "text", "text": "Please analyze the image above." })),
            ]))
        },
    );
    c.prompt(
        json!({ "name": "test_input_required_result_prompt", "description": "MRTR: prompt that requires elicitation input" }),
        |_, mut ctx: Ctx| async move {
            let a = ctx
                .request_input(InputRequests::new().elicit("user_context", "What context should the prompt use?", text_schema("context")))
                .await?;
            let context = elicited_str(&a["user_context"], "context").unwrap_or("unknown");
            Ok(messages(vec![user_message(json!({ "type": "text", "text": format!("Prompt with context: {context}") }))]))
        },
    );
}
