//! The provider API: how an integration tells the engine what it serves.
//!
//! A [`Provider`] answers one question per request: "which [`Catalog`] does this caller
//! see?". A static toolset builds one catalog at start-up and hands out the same `Arc`
//! every time; an integration that selects tools per user (or learns of proxied tools at
//! run time) computes or caches a catalog per caller. Everything after that — listing
//! with pagination, header validation, capability checks, input requests, result
//! stamping — is the engine's job, identical for every provider.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::Value;

use futures_util::future::BoxFuture;

use crate::context::{CallError, Ctx};
use crate::headers::{header_params_of, HeaderParam};
use crate::jsonrpc::{JsonObject, McpError};
use crate::protocol::RequestInfo;

/// The arguments of a tool call, exactly as the client sent them.
pub type Arguments = Box<RawValue>;

pub type ToolHandler = Arc<dyn Fn(Arguments, Ctx) -> BoxFuture<'static, Result<ToolOutput, CallError>> + Send + Sync>;
pub type ResourceHandler =
    Arc<dyn Fn(ResourceRead, Ctx) -> BoxFuture<'static, Result<JsonObject, CallError>> + Send + Sync>;
pub type PromptHandler =
    Arc<dyn Fn(JsonObject, Ctx) -> BoxFuture<'static, Result<JsonObject, CallError>> + Send + Sync>;
pub type CompletionHandler =
    Arc<dyn Fn(Value, Arc<RequestInfo>) -> BoxFuture<'static, Result<JsonObject, McpError>> + Send + Sync>;
/// A request method the engine does not define (an extension's, e.g. `skills/list`):
/// the request's params in, the result object out (the engine stamps it like any result).
pub type MethodHandler =
    Arc<dyn Fn(Value, Arc<RequestInfo>) -> BoxFuture<'static, Result<JsonObject, McpError>> + Send + Sync>;

/// Supplies the catalog a request sees. Called once per catalog-dependent request.
pub trait Provider: Send + Sync + 'static {
    fn catalog<'a>(&'a self, request: &'a RequestInfo) -> BoxFuture<'a, Result<Arc<Catalog>, McpError>>;

    /// Server-wide capabilities, the same for every caller (`tools`, `resources`, …).
    fn capabilities(&self) -> Value;

    /// Server instructions for the model, if any.
    /// Instructions for this caller (`initialize`, `server/discover`), e.g. naming the
    /// signed-in user; `None`: the server-wide [`Provider::instructions`].
    fn instructions_for(&self, _caller: &crate::protocol::Caller) -> Option<String> {
        None
    }

    fn instructions(&self) -> Option<String> {
        None
    }
}

/// A provider that serves one fixed catalog.
pub struct StaticProvider {
    catalog: Arc<Catalog>,
    capabilities: Value,
    instructions: Option<String>,
}

impl StaticProvider {
    pub fn new(catalog: Catalog, capabilities: Value) -> Self {
        StaticProvider { catalog: Arc::new(catalog), capabilities, instructions: None }
    }
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }
}

impl Provider for StaticProvider {
    fn catalog<'a>(&'a self, _: &'a RequestInfo) -> BoxFuture<'a, Result<Arc<Catalog>, McpError>> {
        let catalog = self.catalog.clone();
        Box::pin(async move { Ok(catalog) })
    }
    fn capabilities(&self) -> Value {
        self.capabilities.clone()
    }
    fn instructions(&self) -> Option<String> {
        self.instructions.clone()
    }
}

/// A caching hint (2026-07-28 `ttlMs` / `cacheScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHint {
    pub ttl_ms: u64,
    pub public: bool,
}

impl CacheHint {
    pub const NONE: CacheHint = CacheHint { ttl_ms: 0, public: false };
    pub fn public(ttl_ms: u64) -> Self {
        CacheHint { ttl_ms, public: true }
    }
    pub fn private(ttl_ms: u64) -> Self {
        CacheHint { ttl_ms, public: false }
    }
    pub fn scope(&self) -> &'static str {
        if self.public {
            "public"
        } else {
            "private"
        }
    }
}

/// A tool's definition plus its handler.
pub struct Tool {
    pub name: String,
    /// The full `Tool` object as listed (name, title, description, inputSchema, …).
    pub definition: JsonObject,
    /// The definition serialized once, so listing is a copy, not a re-serialization.
    pub(crate) listed: Box<RawValue>,
    /// Parameters mirrored into `Mcp-Param-*` headers (from `x-mcp-header`).
    pub header_params: Vec<HeaderParam>,
    pub handler: ToolHandler,
    /// Whether a call may (or must) become a task (the tasks extension). The handler is
    /// the same either way: a task runs it in a spawned task.
    pub task_support: TaskSupport,
    /// The task is created only when the handler calls [`Ctx::continue_as_task`] (after
    /// gathering input synchronously); otherwise as soon as the call arrives.
    pub task_on_request: bool,
}

/// Whether calls of a tool become tasks when the client negotiated the tasks extension
/// (`io.modelcontextprotocol/tasks`) on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSupport {
    /// Always answered synchronously.
    #[default]
    Forbidden,
    /// A task when the client negotiated the extension, a plain result otherwise.
    Optional,
    /// Only as a task: a client without the extension gets -32021.
    Required,
}

impl Tool {
    /// Build a tool from its definition object (must contain `name` and `inputSchema`).
    pub fn new<F, Fut>(definition: Value, handler: F) -> Tool
    where
        F: Fn(Arguments, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, CallError>> + Send + 'static,
    {
        let handler: ToolHandler = Arc::new(move |args, ctx| Box::pin(handler(args, ctx)));
        Tool::from_parts(definition, handler)
    }

    pub fn from_parts(definition: Value, handler: ToolHandler) -> Tool {
        let Value::Object(mut definition) = definition else { panic!("a tool definition must be an object") };
        let name = definition.get("name").and_then(Value::as_str).expect("a tool needs a name").to_owned();
        definition.entry("inputSchema").or_insert_with(|| serde_json::json!({ "type": "object", "properties": {} }));
        let header_params = header_params_of(&definition["inputSchema"]);
        let listed = serde_json::value::to_raw_value(&definition).expect("tool definition serializes");
        Tool {
            name,
            definition,
            listed,
            header_params,
            handler,
            task_support: TaskSupport::Forbidden,
            task_on_request: false,
        }
    }

    /// Let calls of this tool become tasks (see [`TaskSupport`]).
    pub fn with_task_support(mut self, support: TaskSupport) -> Tool {
        self.task_support = support;
        self
    }

    /// Create the task only when the handler calls [`Ctx::continue_as_task`]: input
    /// requested before that is gathered synchronously (`input_required` rounds on
    /// `tools/call`), then the call continues as a task.
    pub fn creating_task_on_request(mut self) -> Tool {
        self.task_on_request = true;
        self
    }
}

/// What a tool returns.
pub enum ToolOutput {
    /// A `CallToolResult` object (`content`, optional `structuredContent`, `isError`).
    Result(JsonObject),
    /// A result forwarded verbatim from elsewhere (e.g. a proxied upstream server).
    Raw(Box<RawValue>),
}

impl ToolOutput {
    /// A result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(vec![serde_json::json!({ "type": "text", "text": text.into() })])
    }
    pub fn content(content: Vec<Value>) -> Self {
        let mut o = JsonObject::new();
        o.insert("content".into(), Value::Array(content));
        ToolOutput::Result(o)
    }
    /// Markdown for people plus `structuredContent` for programs.
    pub fn structured(text: impl Into<String>, structured: Value) -> Self {
        let mut o = JsonObject::new();
        o.insert("content".into(), serde_json::json!([{ "type": "text", "text": text.into() }]));
        o.insert("structuredContent".into(), structured);
        ToolOutput::Result(o)
    }
    /// A tool-level failure the model should see (`isError: true`), not a protocol error.
    pub fn error(text: impl Into<String>) -> Self {
        let mut o = JsonObject::new();
        o.insert("content".into(), serde_json::json!([{ "type": "text", "text": text.into() }]));
        o.insert("isError".into(), Value::Bool(true));
        ToolOutput::Result(o)
    }
}

/// A `resources/read` request as a handler sees it.
pub struct ResourceRead {
    pub uri: String,
    /// Variables bound by a resource template (empty for a static resource).
    pub variables: HashMap<String, String>,
}

pub struct Resource {
    pub uri: String,
    pub definition: JsonObject,
    pub handler: ResourceHandler,
}

pub struct ResourceTemplate {
    pub uri_template: String,
    pub definition: JsonObject,
    pub handler: ResourceHandler,
}

pub struct Prompt {
    pub name: String,
    pub definition: JsonObject,
    pub handler: PromptHandler,
}

/// Everything one caller can see: tools, resources, templates, prompts, completions.
pub struct Catalog {
    tools: Vec<Arc<Tool>>,
    tool_index: HashMap<String, usize>,
    /// Tools that can be called by name but are not listed.
    unlisted: HashMap<String, Arc<Tool>>,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
    completion: Option<CompletionHandler>,
    /// Extension methods by wire name (requests the method table calls `other`).
    methods: HashMap<String, MethodHandler>,
    /// Hint for list results (tools/list, prompts/list, resources/list, templates).
    pub list_cache: CacheHint,
    /// Default hint for resources/read results (a handler's own ttlMs/cacheScope wins).
    pub read_cache: CacheHint,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            tools: Vec::new(),
            tool_index: HashMap::new(),
            unlisted: HashMap::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completion: None,
            methods: HashMap::new(),
            list_cache: CacheHint::NONE,
            read_cache: CacheHint::NONE,
        }
    }
}

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a tool. Tools are listed in the order they are added, so listing and
    /// pagination are deterministic. A later tool with the same name replaces the earlier.
    pub fn tool(&mut self, tool: Tool) -> &mut Self {
        self.add_tool(Arc::new(tool))
    }

    pub fn add_tool(&mut self, tool: Arc<Tool>) -> &mut Self {
        match self.tool_index.get(&tool.name) {
            Some(&i) => self.tools[i] = tool,
            None => {
                self.tool_index.insert(tool.name.clone(), self.tools.len());
                self.tools.push(tool);
            }
        }
        self
    }

    pub fn resource<F, Fut>(&mut self, definition: Value, handler: F) -> &mut Self
    where
        F: Fn(ResourceRead, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JsonObject, CallError>> + Send + 'static,
    {
        let Value::Object(definition) = definition else { panic!("a resource definition must be an object") };
        let uri = definition.get("uri").and_then(Value::as_str).expect("a resource needs a uri").to_owned();
        let handler: ResourceHandler = Arc::new(move |r, c| Box::pin(handler(r, c)));
        self.resources.push(Resource { uri, definition, handler });
        self
    }

    pub fn resource_template<F, Fut>(&mut self, definition: Value, handler: F) -> &mut Self
    where
        F: Fn(ResourceRead, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JsonObject, CallError>> + Send + 'static,
    {
        let Value::Object(definition) = definition else { panic!("a template definition must be an object") };
        let uri_template =
            definition.get("uriTemplate").and_then(Value::as_str).expect("a template needs uriTemplate").to_owned();
        let handler: ResourceHandler = Arc::new(move |r, c| Box::pin(handler(r, c)));
        self.templates.push(ResourceTemplate { uri_template, definition, handler });
        self
    }

    pub fn prompt<F, Fut>(&mut self, definition: Value, handler: F) -> &mut Self
    where
        F: Fn(JsonObject, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JsonObject, CallError>> + Send + 'static,
    {
        let Value::Object(definition) = definition else { panic!("a prompt definition must be an object") };
        let name = definition.get("name").and_then(Value::as_str).expect("a prompt needs a name").to_owned();
        let handler: PromptHandler = Arc::new(move |a, c| Box::pin(handler(a, c)));
        self.prompts.push(Prompt { name, definition, handler });
        self
    }

    pub fn completion<F, Fut>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(Value, Arc<RequestInfo>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JsonObject, McpError>> + Send + 'static,
    {
        self.completion = Some(Arc::new(move |p, r| Box::pin(handler(p, r))));
        self
    }

    /// Serve a request method the engine does not define, in both eras. The server
    /// declares the extension it belongs to in its capabilities; a method the engine
    /// defines cannot be replaced this way.
    pub fn method<F, Fut>(&mut self, name: &str, handler: F) -> &mut Self
    where
        F: Fn(Value, Arc<RequestInfo>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JsonObject, McpError>> + Send + 'static,
    {
        self.methods.insert(name.to_owned(), Arc::new(move |p, r| Box::pin(handler(p, r))));
        self
    }

    pub fn find_method(&self, name: &str) -> Option<&MethodHandler> {
        self.methods.get(name)
    }

    pub fn tools(&self) -> &[Arc<Tool>] {
        &self.tools
    }
    /// A listed tool, else an unlisted one.
    pub fn find_tool(&self, name: &str) -> Option<&Arc<Tool>> {
        self.tool_index.get(name).map(|&i| &self.tools[i]).or_else(|| self.unlisted.get(name))
    }

    /// Let a tool be called by name without listing it (a listed tool of the same name wins).
    pub fn add_unlisted_tool(&mut self, tool: Arc<Tool>) -> &mut Self {
        self.unlisted.insert(tool.name.clone(), tool);
        self
    }
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }
    pub fn templates(&self) -> &[ResourceTemplate] {
        &self.templates
    }
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }
    pub fn find_prompt(&self, name: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.name == name)
    }
    pub fn completion_handler(&self) -> Option<&CompletionHandler> {
        self.completion.as_ref()
    }

    /// Find the handler for a URI: an exact resource first, then the first matching template.
    pub fn resolve_resource(&self, uri: &str) -> Option<(ResourceHandler, HashMap<String, String>)> {
        if let Some(r) = self.resources.iter().find(|r| r.uri == uri) {
            return Some((r.handler.clone(), HashMap::new()));
        }
        self.templates.iter().find_map(|t| match_template(&t.uri_template, uri).map(|vars| (t.handler.clone(), vars)))
    }
}

/// Match a URI against a level-1 RFC 6570 template (`{var}` expansions only). A variable
/// matches a non-empty run of characters other than `/`.
pub fn match_template(template: &str, uri: &str) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut rest = uri;
    let mut t = template;
    while !t.is_empty() {
        if let Some(after_brace) = t.strip_prefix('{') {
            let close = after_brace.find('}')?;
            let name = &after_brace[..close];
            t = &after_brace[close + 1..];
            // The literal that follows the variable (up to the next variable) bounds it.
            let literal_end = t.find('{').unwrap_or(t.len());
            let literal = &t[..literal_end];
            let value_end = if literal.is_empty() { rest.find('/').unwrap_or(rest.len()) } else { rest.find(literal)? };
            let value = &rest[..value_end];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            vars.insert(name.to_owned(), value.to_owned());
            rest = &rest[value_end..];
        } else {
            let literal_end = t.find('{').unwrap_or(t.len());
            let literal = &t[..literal_end];
            rest = rest.strip_prefix(literal)?;
            t = &t[literal_end..];
        }
    }
    rest.is_empty().then_some(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match() {
        let v = match_template("test://template/{id}/data", "test://template/123/data").unwrap();
        assert_eq!(v["id"], "123");
        assert!(match_template("test://template/{id}/data", "test://template//data").is_none());
        assert!(match_template("test://template/{id}/data", "test://template/1/2/data").is_none());
        let v = match_template("hf://{kind}/{id}", "hf://models/gpt2").unwrap();
        assert_eq!((v["kind"].as_str(), v["id"].as_str()), ("models", "gpt2"));
        assert!(match_template("a://{x}", "b://y").is_none());
    }

    #[test]
    fn tools_keep_insertion_order_and_replace_by_name() {
        let mut c = Catalog::new();
        for name in ["b", "a", "c", "a"] {
            c.tool(Tool::new(serde_json::json!({ "name": name }), |_, _| async { Ok(ToolOutput::text("x")) }));
        }
        let names: Vec<_> = c.tools().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert!(c.find_tool("c").is_some());
        assert_eq!(c.find_tool("a").unwrap().definition["inputSchema"]["type"], "object");
    }
}
