//! The engine: one instance per process, shared by every transport. It routes a parsed
//! request to the provider's catalog and turns the outcome into a reply. Transports own
//! framing (HTTP status, SSE, stdio lines) and era detection; the engine owns semantics.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::context::{CallError, ClientRequester, Ctx, InputMode, InputRequired, StreamControl};
use crate::headers::check_params;
use crate::jsonrpc::{write_notification, Id, JsonObject, McpError};
use crate::method::Method;
use crate::notify::{ChangeEvent, InMemoryBus, NotificationBus, SubscriptionFilter};
use crate::observe::{NoObserver, Observer, Outcome, RequestEnd, Seen, StreamGuard, StreamKind, ToolNote};
use crate::protocol::{
    Era, Params, RequestInfo, ServerInfo, META_SERVER_INFO, META_SUBSCRIPTION_ID, SESSION_VERSIONS, STATELESS_VERSIONS,
};
use crate::provider::{CacheHint, Catalog, Provider, ResourceRead, ToolOutput};
use crate::seal::{Opened, Sealer};
use crate::store::TaskStore;
use crate::tasks::methods::{CallMode, Started};
use crate::tasks::{TaskConfig, TaskRuntime, TASKS_EXTENSION};

/// Engine settings with production defaults.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Items per page of tools/list, prompts/list, resources/list.
    pub page_size: usize,
    /// Caching hint on `server/discover`.
    pub discover_cache: CacheHint,
    /// How long a sealed `requestState` stays valid.
    pub request_state_ttl: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            page_size: 100,
            discover_cache: CacheHint::public(300_000),
            request_state_ttl: Duration::from_secs(15 * 60),
        }
    }
}

/// The MCP engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn Provider>,
    info: ServerInfo,
    capabilities: Value,
    instructions: Option<String>,
    /// `"_meta":{"io.modelcontextprotocol/serverInfo":{…}}`, serialized once.
    meta_fragment: Vec<u8>,
    server_info: Value,
    sealer: Sealer,
    bus: Arc<dyn NotificationBus>,
    config: EngineConfig,
    shutdown: CancellationToken,
    observer: Arc<dyn Observer>,
    /// The tasks extension, when served.
    tasks: Option<Arc<TaskRuntime>>,
    /// `capabilities` plus the extensions the engine itself serves: the stateless era's
    /// view (`server/discover`). The session era never sees the extensions.
    stateless_capabilities: Value,
}

/// What a request produced.
pub enum Reply {
    /// A serialized result object (already stamped for its era).
    Result(Vec<u8>),
    Error(McpError),
    /// A `subscriptions/listen` stream.
    Listen(Listener),
}

/// One request, ready for the engine.
pub struct Call<'a> {
    pub id: Id,
    pub method: Cow<'a, str>,
    pub params: Params<'a>,
    pub info: Arc<RequestInfo>,
    /// Where request-scoped notifications (progress, logs) go, if the transport can
    /// deliver them.
    pub events: Option<mpsc::Sender<Vec<u8>>>,
    /// Session era: how to reach the client with server-initiated requests.
    pub requester: Option<Arc<dyn ClientRequester>>,
    /// Cancelled when the client abandons the request.
    pub cancel: CancellationToken,
    /// Session era over resumable streams: lets the handler close its stream early.
    pub stream: Option<Arc<dyn StreamControl>>,
}

pub struct EngineBuilder {
    provider: Arc<dyn Provider>,
    info: ServerInfo,
    sealer: Option<Sealer>,
    bus: Option<Arc<dyn NotificationBus>>,
    config: EngineConfig,
    observer: Option<Arc<dyn Observer>>,
    tasks: Option<(Arc<dyn TaskStore>, TaskConfig)>,
}

impl EngineBuilder {
    /// Serve the tasks extension (`io.modelcontextprotocol/tasks`) with task state in
    /// `store`: tools that declare task support become tasks for clients that negotiate it.
    pub fn tasks(mut self, store: Arc<dyn TaskStore>, config: TaskConfig) -> Self {
        self.tasks = Some((store, config));
        self
    }
    pub fn sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }
    pub fn bus(mut self, bus: Arc<dyn NotificationBus>) -> Self {
        self.bus = Some(bus);
        self
    }
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }
    /// Who observes requests, sessions and streams (metrics, logs); default: nobody.
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }
    pub fn build(self) -> Engine {
        let server_info = self.info.to_json();
        let mut meta_fragment = br#""_meta":{""#.to_vec();
        meta_fragment.extend_from_slice(META_SERVER_INFO.as_bytes());
        meta_fragment.extend_from_slice(b"\":");
        serde_json::to_writer(&mut meta_fragment, &server_info).expect("server info");
        meta_fragment.push(b'}');
        let mut instructions = self.provider.instructions();
        if instructions.is_none() {
            instructions = self.info.instructions.clone();
        }
        let sealer = self.sealer.unwrap_or_else(|| Sealer::random(self.config.request_state_ttl));
        let bus: Arc<dyn NotificationBus> = self.bus.unwrap_or_else(|| Arc::new(InMemoryBus::default()));
        let capabilities = self.provider.capabilities();
        let mut stateless_capabilities = capabilities.clone();
        if self.tasks.is_some() {
            if let Value::Object(caps) = &mut stateless_capabilities {
                let extensions = caps.entry("extensions").or_insert_with(|| Value::Object(JsonObject::new()));
                if let Value::Object(extensions) = extensions {
                    extensions.insert(TASKS_EXTENSION.into(), Value::Object(JsonObject::new()));
                }
            }
        }
        let tasks = self.tasks.map(|(store, config)| Arc::new(TaskRuntime::new(store, config, bus.clone())));
        Engine {
            inner: Arc::new(Inner {
                capabilities,
                stateless_capabilities,
                tasks,
                provider: self.provider,
                info: self.info,
                instructions,
                meta_fragment,
                server_info,
                sealer,
                bus,
                config: self.config,
                shutdown: CancellationToken::new(),
                observer: self.observer.unwrap_or_else(|| Arc::new(NoObserver)),
            }),
        }
    }
}

impl Engine {
    pub fn builder(provider: Arc<dyn Provider>, info: ServerInfo) -> EngineBuilder {
        EngineBuilder {
            provider,
            info,
            sealer: None,
            bus: None,
            config: EngineConfig::default(),
            observer: None,
            tasks: None,
        }
    }

    pub fn observer(&self) -> &dyn Observer {
        &*self.inner.observer
    }

    pub fn server_info(&self) -> &ServerInfo {
        &self.inner.info
    }
    pub fn capabilities(&self) -> &Value {
        &self.inner.capabilities
    }
    pub fn instructions(&self) -> Option<&str> {
        self.inner.instructions.as_deref()
    }
    pub fn bus(&self) -> &Arc<dyn NotificationBus> {
        &self.inner.bus
    }
    /// Fired when the server begins shutting down; long-lived streams end gracefully.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// The versions the server accepts on the stateless path.
    pub fn stateless_versions(&self) -> &'static [&'static str] {
        STATELESS_VERSIONS
    }

    /// A top-level server capability, or (an identifier with `/`) a served extension.
    fn has_capability(&self, cap: &str) -> bool {
        let caps = &self.inner.stateless_capabilities;
        if cap.contains('/') {
            caps.get("extensions").and_then(|e| e.get(cap)).is_some()
        } else {
            caps.get(cap).is_some()
        }
    }

    /// The tasks extension's machinery, when the engine serves it.
    pub(crate) fn tasks(&self) -> Option<&Arc<TaskRuntime>> {
        self.inner.tasks.as_ref()
    }

    /// Serve one request of either era, bracketed by the observer's `begin` / `end`.
    pub async fn dispatch<'a>(&self, call: Call<'a>) -> Reply {
        let method = Method::parse(&call.method);
        let observer = &*self.inner.observer;
        let Some(probe) = observer.begin(method, &call.info) else {
            return self.route_guarded(method, call, &mut ToolNote::default(), None).await;
        };
        let client = probe.client;
        if call.params.input_responses.is_some() {
            observer.input_answered(client);
        }
        let info = probe.wants_info.then(|| call.info.clone());
        let mut note = ToolNote::<'a>::default();
        let reply = self.route_guarded(method, call, &mut note, Some(client)).await;
        let (outcome, error) = match &reply {
            Reply::Result(r) if r.starts_with(br#"{"resultType":"input_required""#) => (Outcome::InputRequired, None),
            Reply::Result(_) | Reply::Listen(_) => (Outcome::Ok, None),
            Reply::Error(e) => (Outcome::Error, Some(e)),
        };
        let tool = (note.slot.is_some() || note.name.is_some()).then_some(&note);
        observer.end(probe, RequestEnd { info: info.as_deref(), seen: Seen::default(), outcome, error, tool });
        reply
    }

    /// [`Engine::route`], with a panicking handler answered -32603 (HTTP 500 where the
    /// status is the error's) instead of tearing down the connection or the session's
    /// task. The panic's text goes to the panic hook (the log), never into the reply.
    async fn route_guarded<'a>(
        &self,
        method: Method,
        call: Call<'a>,
        note: &mut ToolNote<'a>,
        client: Option<u32>,
    ) -> Reply {
        use futures_util::FutureExt as _;
        let routed = std::panic::AssertUnwindSafe(self.route(method, call, note, client));
        routed.catch_unwind().await.unwrap_or_else(|_| {
            Reply::Error(
                McpError::internal("Internal error: the request handler failed")
                    .with_status(http::StatusCode::INTERNAL_SERVER_ERROR),
            )
        })
    }

    async fn route<'a>(&self, method: Method, call: Call<'a>, note: &mut ToolNote<'a>, client: Option<u32>) -> Reply {
        let era = call.info.era;
        if !method.served_in(era) {
            let name = &*call.method;
            return Reply::Error(if era == Era::Stateless && method.removed_in_stateless() {
                McpError::new(
                    crate::jsonrpc::code::METHOD_NOT_FOUND,
                    format!("Method not found: {name} was removed in protocol revision 2026-07-28"),
                )
            } else {
                McpError::method_not_found(name)
            });
        }
        if let Some(cap) = method.spec().capability {
            if !self.has_capability(cap) {
                return Reply::Error(McpError::method_not_found(&call.method));
            }
        }
        let outcome: Result<Reply, McpError> = match method {
            Method::ServerDiscover => Ok(self.discover(&call.info.caller)),
            Method::ToolsList => self.list_tools(&call).await,
            Method::ToolsCall => Ok(self.call_tool(call, note, client).await),
            Method::PromptsList => self.list_prompts(&call).await,
            Method::PromptsGet => Ok(self.get_prompt(call, client).await),
            Method::ResourcesList => self.list_resources(&call).await,
            Method::ResourcesTemplatesList => self.list_templates(&call).await,
            Method::ResourcesRead => Ok(self.read_resource(call, client).await),
            Method::CompletionComplete => self.complete(&call).await,
            Method::SubscriptionsListen => self.listen(&call, client),
            Method::TasksGet | Method::TasksUpdate | Method::TasksCancel => self.task_method(method, &call).await,
            Method::Ping => Ok(Reply::Result(b"{}".to_vec())),
            Method::Other => self.extension_method(&call).await,
            // The session driver answers initialize and the session operations itself.
            Method::Initialize
            | Method::LoggingSetLevel
            | Method::ResourcesSubscribe
            | Method::ResourcesUnsubscribe => Err(McpError::method_not_found(&call.method)),
        };
        outcome.unwrap_or_else(Reply::Error)
    }

    // ----- results ------------------------------------------------------------------

    /// Serialize a result, adding what the stateless era requires: `resultType`, the server
    /// identity in `_meta`, and caching hints on cacheable methods.
    pub(crate) fn finish(&self, era: Era, method: &str, mut result: JsonObject, cache: Option<CacheHint>) -> Reply {
        let mut out = Vec::with_capacity(256);
        if era == Era::Session {
            serde_json::to_writer(&mut out, &result).expect("result serializes");
            return Reply::Result(out);
        }
        if let Some(Value::Object(meta)) = result.get_mut("_meta") {
            meta.entry(META_SERVER_INFO).or_insert_with(|| self.inner.server_info.clone());
        }
        serde_json::to_writer(&mut out, &result).expect("result serializes");
        // The stamps are appended as bytes rather than inserted into the map: no key or
        // value allocations on the hot path. A field the handler set itself wins.
        out.pop();
        let mut sep = if out.len() > 1 { "," } else { "" };
        let mut stamp = |out: &mut Vec<u8>, fragment: &[u8]| {
            out.extend_from_slice(sep.as_bytes());
            out.extend_from_slice(fragment);
            sep = ",";
        };
        if !result.contains_key("resultType") {
            stamp(&mut out, br#""resultType":"complete""#);
        }
        if Method::parse(method).spec().cacheable {
            let hint = cache.unwrap_or(CacheHint::NONE);
            if !result.contains_key("ttlMs") {
                stamp(&mut out, format!(r#""ttlMs":{}"#, hint.ttl_ms).as_bytes());
            }
            if !result.contains_key("cacheScope") {
                stamp(&mut out, format!(r#""cacheScope":"{}""#, hint.scope()).as_bytes());
            }
        }
        if !result.contains_key("_meta") {
            stamp(&mut out, &self.inner.meta_fragment);
        }
        out.push(b'}');
        Reply::Result(out)
    }

    /// Append the `_meta` fragment to a serialized object that has none.
    fn splice_meta(&self, out: &mut Vec<u8>) {
        debug_assert_eq!(out.last(), Some(&b'}'));
        out.pop();
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(&self.inner.meta_fragment);
        out.push(b'}');
    }

    /// Stamp a result that arrived as raw JSON without re-parsing its values.
    pub(crate) fn finish_raw(&self, era: Era, raw: &RawValue) -> Reply {
        if era == Era::Session {
            return Reply::Result(raw.get().as_bytes().to_vec());
        }
        let keys: BTreeMap<Cow<'_, str>, &RawValue> = match serde_json::from_str(raw.get()) {
            Ok(k) => k,
            Err(_) => return Reply::Error(McpError::internal("upstream result is not a JSON object")),
        };
        if keys.contains_key("_meta") {
            // Rare: merge through a full parse.
            let map: JsonObject = serde_json::from_str(raw.get()).expect("checked above");
            return self.finish(era, "tools/call", map, None);
        }
        let mut out = raw.get().trim_end().as_bytes().to_vec();
        out.pop();
        let empty = keys.is_empty();
        if !keys.contains_key("resultType") {
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(br#""resultType":"complete""#);
        }
        out.push(b'}');
        self.splice_meta(&mut out);
        Reply::Result(out)
    }

    fn discover(&self, caller: &crate::protocol::Caller) -> Reply {
        let mut r = JsonObject::new();
        r.insert("supportedVersions".into(), serde_json::json!(STATELESS_VERSIONS));
        r.insert("capabilities".into(), self.inner.stateless_capabilities.clone());
        let personal = self.inner.provider.instructions_for(caller);
        let mut cache = self.inner.config.discover_cache;
        if personal.is_some() {
            // Instructions naming the caller are theirs alone.
            cache = CacheHint::private(cache.ttl_ms);
        }
        if let Some(i) = personal.or_else(|| self.inner.instructions.clone()) {
            r.insert("instructions".into(), i.into());
        }
        self.finish(Era::Stateless, "server/discover", r, Some(cache))
    }

    /// The `initialize` result for the session era, negotiating the version.
    pub fn initialize_result(
        &self,
        requested: Option<&str>,
        caller: Option<&crate::protocol::Caller>,
    ) -> (String, Vec<u8>) {
        let version = requested.filter(|v| SESSION_VERSIONS.contains(v)).unwrap_or(SESSION_VERSIONS[0]).to_owned();
        let mut r = JsonObject::new();
        r.insert("protocolVersion".into(), version.clone().into());
        r.insert("capabilities".into(), self.inner.capabilities.clone());
        r.insert("serverInfo".into(), self.inner.server_info.clone());
        let personal = caller.and_then(|c| self.inner.provider.instructions_for(c));
        if let Some(i) = personal.or_else(|| self.inner.instructions.clone()) {
            r.insert("instructions".into(), i.into());
        }
        (version, serde_json::to_vec(&r).expect("serializes"))
    }

    // ----- lists --------------------------------------------------------------------

    async fn catalog(&self, info: &RequestInfo) -> Result<Arc<Catalog>, McpError> {
        self.inner.provider.catalog(info).await
    }

    fn page_bounds(&self, cursor: Option<&str>, len: usize) -> Result<(usize, usize, Option<String>), McpError> {
        let start = match cursor {
            None => 0,
            Some(c) => {
                decode_cursor(c).filter(|&s| s <= len).ok_or_else(|| McpError::invalid_params("Invalid cursor"))?
            }
        };
        let end = (start + self.inner.config.page_size.max(1)).min(len);
        let next = (end < len).then(|| encode_cursor(end));
        Ok((start, end, next))
    }

    async fn list_tools(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let tools = catalog.tools();
        let (start, end, next) = self.page_bounds(call.params.cursor.as_deref(), tools.len())?;
        // Tool definitions are pre-serialized; write the list directly.
        let mut out =
            Vec::with_capacity(256 + tools[start..end].iter().map(|t| t.listed.get().len() + 1).sum::<usize>());
        out.extend_from_slice(br#"{"tools":["#);
        for (i, tool) in tools[start..end].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(tool.listed.get().as_bytes());
        }
        out.push(b']');
        if let Some(next) = next {
            out.extend_from_slice(br#","nextCursor":"#);
            serde_json::to_writer(&mut out, &next).expect("string");
        }
        if call.info.era == Era::Stateless {
            let hint = catalog.list_cache;
            out.extend_from_slice(br#","resultType":"complete","ttlMs":"#);
            out.extend_from_slice(hint.ttl_ms.to_string().as_bytes());
            out.extend_from_slice(br#","cacheScope":""#);
            out.extend_from_slice(hint.scope().as_bytes());
            out.extend_from_slice(b"\"}");
            self.splice_meta(&mut out);
        } else {
            out.push(b'}');
        }
        Ok(Reply::Result(out))
    }

    fn list_of(
        &self,
        call: &Call<'_>,
        key: &str,
        items: Vec<&JsonObject>,
        cache: CacheHint,
    ) -> Result<Reply, McpError> {
        let (start, end, next) = self.page_bounds(call.params.cursor.as_deref(), items.len())?;
        let mut r = JsonObject::new();
        r.insert(key.into(), Value::Array(items[start..end].iter().map(|d| Value::Object((*d).clone())).collect()));
        if let Some(next) = next {
            r.insert("nextCursor".into(), next.into());
        }
        Ok(self.finish(call.info.era, &call.method, r, Some(cache)))
    }

    async fn list_prompts(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let items = catalog.prompts().iter().map(|p| &p.definition).collect();
        self.list_of(call, "prompts", items, catalog.list_cache)
    }

    async fn list_resources(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let items = catalog.resources().iter().map(|r| &r.definition).collect();
        self.list_of(call, "resources", items, catalog.list_cache)
    }

    async fn list_templates(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let items = catalog.templates().iter().map(|t| &t.definition).collect();
        self.list_of(call, "resourceTemplates", items, catalog.list_cache)
    }

    // ----- calls with input rounds -----------------------------------------------------

    /// Build the handler context, opening the sealed state of earlier rounds.
    fn context(&self, call: &mut Call<'_>, target: &str, client: Option<u32>) -> Result<Ctx, McpError> {
        let input = match call.info.era {
            Era::Stateless => {
                let Opened { state, mut answers } = match &call.params.request_state {
                    Some(sealed) => self.inner.sealer.open(sealed, &call.method, target, call.info.caller.binding())?,
                    None => Opened::default(),
                };
                if let Some(raw) = call.params.input_responses {
                    let fresh: JsonObject = serde_json::from_str(raw.get())
                        .map_err(|_| McpError::invalid_params("Invalid params: inputResponses must be an object"))?;
                    for (key, answer) in fresh {
                        if !answer.is_object() {
                            return Err(McpError::invalid_params(format!(
                                "Invalid params: inputResponses.{key} must be a result object"
                            )));
                        }
                        answers.insert(key, answer);
                    }
                }
                let events = call.events.take();
                return Ok(Ctx::new(
                    call.info.clone(),
                    events,
                    InputMode::Replay { answers },
                    state,
                    self.inner.bus.clone(),
                    call.cancel.clone(),
                    None,
                ));
            }
            Era::Session => match (call.requester.take(), client) {
                (Some(r), Some(client)) if self.inner.observer.observes_input() => {
                    InputMode::Live(Arc::new(ObservedRequester {
                        inner: r,
                        observer: self.inner.observer.clone(),
                        client,
                    }))
                }
                (Some(r), _) => InputMode::Live(r),
                (None, _) => InputMode::Unavailable,
            },
        };
        Ok(Ctx::new(
            call.info.clone(),
            call.events.take(),
            input,
            None,
            self.inner.bus.clone(),
            call.cancel.clone(),
            call.stream.take(),
        ))
    }

    /// Turn an interrupted call into an `input_required` result with a sealed state.
    fn input_required(&self, call_method: &str, target: &str, info: &RequestInfo, ir: InputRequired) -> Reply {
        let sealed = self.inner.sealer.seal(call_method, target, info.caller.binding(), ir.state, ir.answers);
        let mut r = JsonObject::new();
        r.insert("resultType".into(), "input_required".into());
        r.insert("inputRequests".into(), Value::Object(ir.requests));
        r.insert("requestState".into(), sealed.into());
        self.finish(Era::Stateless, call_method, r, None)
    }

    fn call_error(&self, method: &str, target: &str, info: &RequestInfo, e: CallError) -> Reply {
        match e {
            CallError::Protocol(e) => Reply::Error(e),
            CallError::InputRequired(ir) if info.era == Era::Stateless => self.input_required(method, target, info, ir),
            CallError::InputRequired(_) => {
                Reply::Error(McpError::internal("input requests cannot be answered on this transport"))
            }
        }
    }

    async fn call_tool<'a>(&self, mut call: Call<'a>, note: &mut ToolNote<'a>, client: Option<u32>) -> Reply {
        let Some(name) = call.params.name.clone() else {
            return Reply::Error(McpError::invalid_params("Invalid params: tools/call needs a tool name"));
        };
        let catalog = match self.catalog(&call.info).await {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        let Some(tool) = catalog.find_tool(&name).cloned() else {
            return Reply::Error(McpError::invalid_params(format!("Unknown tool: {name}")));
        };
        // Only names the catalog knows become labels: user input never grows a label set.
        if client.is_some() {
            note.slot = self.inner.observer.tool_slot(&name);
            note.name = Some(name.clone());
        }
        let arguments: Box<RawValue> = match call.params.arguments {
            Some(raw) if raw.get().trim_start().starts_with('{') => raw.to_owned(),
            Some(raw) if raw.get().trim() == "null" => empty_object(),
            None => empty_object(),
            Some(_) => return Reply::Error(McpError::invalid_params("Invalid params: arguments must be an object")),
        };
        if call.info.era == Era::Stateless && !tool.header_params.is_empty() {
            if let Some(http) = &call.info.http {
                let args: Value = serde_json::from_str(arguments.get()).unwrap_or(Value::Null);
                if let Err(e) = check_params(&http.headers, &tool.header_params, Some(&args)) {
                    return Reply::Error(e);
                }
            }
        }
        let mode = match self.call_mode(&tool, &call.info) {
            Ok(m) => m,
            Err(e) => return Reply::Error(e),
        };
        if let CallMode::Task = mode {
            return self.start_task(&tool, arguments, &call.info).await;
        }
        let ctx = match self.context(&mut call, &name, client) {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        let outcome = match mode {
            CallMode::TaskOnRequest => match self.start_task_on_request(&tool, arguments, ctx).await {
                Started::Task(reply) => return reply,
                Started::Ended(outcome) => outcome,
            },
            _ => (tool.handler)(arguments, ctx).await,
        };
        match outcome {
            Ok(ToolOutput::Result(r)) => {
                // A scan of the few top-level keys (no hashing of the key).
                if client.is_some() && r.iter().any(|(k, v)| k == "isError" && v == &Value::Bool(true)) {
                    note.tool_error = Some(tool_error_text(&r));
                }
                self.finish(call.info.era, "tools/call", r, None)
            }
            Ok(ToolOutput::Raw(raw)) => {
                if client.is_some() && raw_is_error(raw.get()) {
                    note.tool_error = Some("the tool returned isError".into());
                }
                self.finish_raw(call.info.era, &raw)
            }
            Err(e) => self.call_error("tools/call", &name, &call.info, e),
        }
    }

    async fn get_prompt(&self, mut call: Call<'_>, client: Option<u32>) -> Reply {
        let Some(name) = call.params.name.clone() else {
            return Reply::Error(McpError::invalid_params("Invalid params: prompts/get needs a prompt name"));
        };
        let catalog = match self.catalog(&call.info).await {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        let Some(handler) = catalog.find_prompt(&name).map(|p| p.handler.clone()) else {
            return Reply::Error(McpError::invalid_params(format!("Unknown prompt: {name}")));
        };
        #[derive(Deserialize, Default)]
        struct PromptParams {
            #[serde(default)]
            arguments: Option<JsonObject>,
        }
        let args = match call.params.typed::<PromptParams>() {
            Ok(p) => p.arguments.unwrap_or_default(),
            Err(e) => return Reply::Error(e),
        };
        let ctx = match self.context(&mut call, &name, client) {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        match handler(args, ctx).await {
            Ok(r) => self.finish(call.info.era, "prompts/get", r, None),
            Err(e) => self.call_error("prompts/get", &name, &call.info, e),
        }
    }

    async fn read_resource(&self, mut call: Call<'_>, client: Option<u32>) -> Reply {
        let Some(uri) = call.params.uri.clone() else {
            return Reply::Error(McpError::invalid_params("Invalid params: resources/read needs a uri"));
        };
        let catalog = match self.catalog(&call.info).await {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        let Some((handler, variables)) = catalog.resolve_resource(&uri) else {
            return Reply::Error(
                McpError::invalid_params(format!("Resource not found: {uri}"))
                    .with_data(serde_json::json!({ "uri": uri })),
            );
        };
        let ctx = match self.context(&mut call, &uri, client) {
            Ok(c) => c,
            Err(e) => return Reply::Error(e),
        };
        match handler(ResourceRead { uri: uri.to_string(), variables }, ctx).await {
            Ok(r) => self.finish(call.info.era, "resources/read", r, Some(catalog.read_cache)),
            Err(e) => self.call_error("resources/read", &uri, &call.info, e),
        }
    }

    async fn complete(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let params: Value = call.params.typed()?;
        if params.get("ref").is_none() || params.get("argument").is_none() {
            return Err(McpError::invalid_params("Invalid params: completion/complete needs ref and argument"));
        }
        let result = match catalog.completion_handler() {
            Some(h) => h(params, call.info.clone()).await?,
            None => {
                let mut r = JsonObject::new();
                r.insert("completion".into(), serde_json::json!({ "values": [], "total": 0, "hasMore": false }));
                r
            }
        };
        Ok(self.finish(call.info.era, "completion/complete", result, None))
    }

    /// A method the table does not define: the catalog's extension method of that name.
    async fn extension_method(&self, call: &Call<'_>) -> Result<Reply, McpError> {
        let catalog = self.catalog(&call.info).await?;
        let Some(handler) = catalog.find_method(&call.method) else {
            return Err(McpError::method_not_found(&call.method));
        };
        let params: Value = call.params.typed()?;
        let result = handler(params, call.info.clone()).await?;
        Ok(self.finish(call.info.era, &call.method, result, None))
    }

    // ----- subscriptions ----------------------------------------------------------------

    fn listen(&self, call: &Call<'_>, client: Option<u32>) -> Result<Reply, McpError> {
        #[derive(Deserialize, Default)]
        struct ListenParams {
            #[serde(default)]
            notifications: Option<SubscriptionFilter>,
        }
        let requested = call.params.typed::<ListenParams>()?.notifications.unwrap_or_default();
        if !requested.task_ids.is_empty() && self.tasks().is_some() && !crate::tasks::client_negotiated(&call.info) {
            return Err(crate::tasks::missing_extension());
        }
        let filter = requested.honored(&self.inner.stateless_capabilities);
        let tasks = match (filter.task_ids.is_empty(), self.tasks()) {
            (false, Some(runtime)) => {
                Some(TaskFollow { changes: runtime.watch(), owner: call.info.caller.binding().to_owned() })
            }
            _ => None,
        };
        Ok(Reply::Listen(Listener {
            tasks,
            id: call.id.clone(),
            caller: call.info.caller.id.clone(),
            receiver: self.inner.bus.subscribe(),
            filter,
            engine: self.clone(),
            client,
            _open: match client {
                Some(c) => self.inner.observer.stream_opened(StreamKind::Listen, None, Some(c)),
                None => StreamGuard::none(),
            },
        }))
    }
}

/// The first text of a tool result with `isError`, for the recent-errors view.
fn tool_error_text(r: &JsonObject) -> String {
    let text = r
        .get("content")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find_map(|b| b.get("text").and_then(Value::as_str)))
        .unwrap_or("the tool returned isError");
    // Observers bound what they keep; this only avoids copying a huge text.
    text.chars().take(MAX_ERROR_TEXT).collect()
}

/// Longest tool error text handed to observers.
const MAX_ERROR_TEXT: usize = 300;

/// Is a raw tool result one with `"isError": true`? (A top-level scan, no parse.)
pub fn raw_is_error(raw: &str) -> bool {
    let mut rest = raw;
    while let Some(i) = rest.find("\"isError\"") {
        let after = rest[i + 9..].trim_start();
        if let Some(v) = after.strip_prefix(':') {
            if v.trim_start().starts_with("true") {
                return true;
            }
        }
        rest = &rest[i + 9..];
    }
    false
}

/// Wraps a session-era requester to tell the observer whether the client answered.
struct ObservedRequester {
    inner: Arc<dyn ClientRequester>,
    observer: Arc<dyn Observer>,
    client: u32,
}

impl ClientRequester for ObservedRequester {
    fn request(
        &self,
        method: &'static str,
        params: Value,
    ) -> futures_util::future::BoxFuture<'_, Result<Value, McpError>> {
        Box::pin(async move {
            let r = self.inner.request(method, params).await;
            self.observer.input_request(self.client, r.is_ok());
            r
        })
    }
}

impl From<Result<Arc<ChangeEvent>, broadcast::error::RecvError>> for Heard {
    fn from(r: Result<Arc<ChangeEvent>, broadcast::error::RecvError>) -> Heard {
        match r {
            Ok(e) => Heard::Change(e),
            Err(broadcast::error::RecvError::Lagged(_)) => Heard::Lagged,
            Err(broadcast::error::RecvError::Closed) => Heard::Closed,
        }
    }
}

/// An open `subscriptions/listen` stream: the acknowledgement first, then every change
/// the filter asks for, each tagged with the subscription id.
pub struct Listener {
    id: Id,
    caller: Option<Arc<str>>,
    receiver: broadcast::Receiver<Arc<ChangeEvent>>,
    filter: SubscriptionFilter,
    engine: Engine,
    /// The client's telemetry slot, and the open-stream count this listener holds.
    client: Option<u32>,
    _open: StreamGuard,
    /// Following tasks (`taskIds`): their changes, and whose tasks they must be.
    tasks: Option<TaskFollow>,
}

struct TaskFollow {
    changes: broadcast::Receiver<Arc<str>>,
    owner: String,
}

/// What a listener heard next.
enum Heard {
    Change(Arc<ChangeEvent>),
    Task(Arc<str>),
    /// Missed some: list-changed notifications are idempotent and a task notification
    /// carries the full state, so go on.
    Lagged,
    Closed,
}

impl Listener {
    pub fn id(&self) -> &Id {
        &self.id
    }

    fn tag(&self) -> JsonObject {
        let mut meta = JsonObject::new();
        meta.insert(META_SUBSCRIPTION_ID.into(), serde_json::to_value(&self.id).expect("id"));
        meta
    }

    /// `notifications/subscriptions/acknowledged` with the honored filter.
    pub fn acknowledgement(&self) -> Vec<u8> {
        let mut params = JsonObject::new();
        params.insert("_meta".into(), Value::Object(self.tag()));
        params.insert("notifications".into(), serde_json::to_value(&self.filter).expect("filter"));
        let mut out = Vec::new();
        write_notification(&mut out, "notifications/subscriptions/acknowledged", &Value::Object(params));
        out
    }

    /// Wait for the next notification this subscription wants.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            let heard = match &mut self.tasks {
                None => Heard::from(self.receiver.recv().await),
                Some(t) => tokio::select! {
                    e = self.receiver.recv() => Heard::from(e),
                    id = t.changes.recv() => match id {
                        Ok(id) => Heard::Task(id),
                        Err(broadcast::error::RecvError::Lagged(_)) => Heard::Lagged,
                        Err(broadcast::error::RecvError::Closed) => Heard::Closed,
                    },
                },
            };
            let event = match heard {
                Heard::Change(e) => e,
                Heard::Task(id) => match self.task_notification(&id).await {
                    Some(n) => return Some(n),
                    None => continue,
                },
                Heard::Lagged => continue,
                Heard::Closed => return None,
            };
            if !self.filter.wants(&event, self.caller.as_deref()) {
                continue;
            }
            self.engine.inner.observer.change_sent(&event, None, self.client);
            let mut params = JsonObject::new();
            params.insert("_meta".into(), Value::Object(self.tag()));
            if let ChangeEvent::ResourceUpdated { uri } = &*event {
                params.insert("uri".into(), uri.clone().into());
            }
            let mut out = Vec::new();
            write_notification(&mut out, event.method(), &Value::Object(params));
            return Some(out);
        }
    }

    /// `notifications/tasks` for a followed task of this caller: the full `DetailedTask`.
    async fn task_notification(&self, id: &str) -> Option<Vec<u8>> {
        if !self.filter.task_ids.iter().any(|t| t == id) {
            return None;
        }
        let follow = self.tasks.as_ref()?;
        let mut params = self.engine.tasks()?.notification(id, &follow.owner).await?;
        params.insert("_meta".into(), Value::Object(self.tag()));
        let mut out = Vec::new();
        write_notification(&mut out, "notifications/tasks", &Value::Object(params));
        Some(out)
    }

    /// The graceful-closure response to the listen request.
    pub fn closing_result(&self) -> Vec<u8> {
        let mut r = JsonObject::new();
        r.insert("resultType".into(), "complete".into());
        let mut meta = self.tag();
        meta.insert(META_SERVER_INFO.into(), self.engine.inner.server_info.clone());
        r.insert("_meta".into(), Value::Object(meta));
        serde_json::to_vec(&r).expect("serializes")
    }
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("valid JSON")
}

/// The opaque list cursor of an offset (public for the fuzz targets only).
#[doc(hidden)]
pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// The offset of a client's list cursor (public for the fuzz targets only).
#[doc(hidden)]
pub fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes).ok()?.strip_prefix("o:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_error_detection() {
        assert!(raw_is_error(r#"{"content":[],"isError" : true}"#));
        assert!(!raw_is_error(r#"{"content":[{"type":"text","text":"\"isError\": true"}],"isError":false}"#));
        assert!(!raw_is_error(r#"{"content":[]}"#));
    }
}
