//! Per-request tool selection: which built-in tools and which Gradio Spaces a caller sees.
//!
//! Precedence (as the hosted server):
//! 1. `?bouquet=` / `x-mcp-bouquet` — a built-in bouquet *replaces* the selection; user
//!    settings are not consulted and Spaces come only from `gradio`.
//! 2. `?mix=` / `x-mcp-mix` — bouquets *added* to the user's settings (comma-separated).
//! 3. The user's settings from `USER_CONFIG_API` (fetched with the caller's token, cached
//!    for a short TTL) — `builtInTools` and `spaceTools`.
//! 4. Defaults: all built-in tools and the default Spaces for an authenticated caller when no
//!    settings API is configured (anonymous callers: their set and the default Spaces); the
//!    anonymous set otherwise (and when the settings API fails).
//!
//! Then: `?gradio=owner/space,…` / `x-mcp-gradio` adds Spaces (before the settings' ones,
//! duplicates removed), `gradio=none` removes them all; `hf_fs` and `hf_whoami` are always
//! present; anonymous callers only see the anonymous built-ins; `DISABLE_TOOLS` hides tools
//! (and, being absent from the catalog, calls to them are rejected).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mcp_engine::RequestInfo;
use mcp_telemetry::Telemetry;
use serde::Deserialize;
use serde_json::Value;

use crate::cache::{Lookup, TtlCache};
use crate::gradio::discovery::valid_space_name;
use crate::tools::{create_repo, dynamic_space, hf_fs, hf_fs_write, hf_jobs, repo_details, repo_search, whoami};

/// How long a failed settings fetch is remembered.
const FAILURE_TTL: Duration = Duration::from_secs(10);

/// Built-in tools in listing order.
pub const BUILTINS: &[&str] = &[
    hf_fs::NAME,
    repo_search::NAME,
    repo_details::NAME,
    whoami::NAME,
    dynamic_space::NAME,
    create_repo::NAME,
    hf_fs_write::NAME,
    hf_jobs::NAME,
];

/// What an authenticated caller gets without settings, and the `all` bouquet: every built-in
/// but `hf_fs_write`, which (as on the hosted server) is enabled by the `hf_files` setting.
pub const DEFAULT_AUTHENTICATED: &[&str] = &[
    hf_fs::NAME,
    repo_search::NAME,
    repo_details::NAME,
    whoami::NAME,
    dynamic_space::NAME,
    create_repo::NAME,
    hf_jobs::NAME,
];

/// The user setting (`builtInTools` entry) that enables `hf_fs_write`, as upstream.
pub const HF_FILES_FLAG: &str = "hf_files";

/// Built-ins anonymous callers may see.
pub const ANONYMOUS_VISIBLE: &[&str] = &[hf_fs::NAME, repo_search::NAME, repo_details::NAME, whoami::NAME];

/// Always listed (dependencies of the others, and the identity tool).
const ALWAYS: &[&str] = &[hf_fs::NAME, whoami::NAME];

/// The built-in tools of a bouquet; `None` for an unknown name.
pub fn bouquet(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "hf_api" => &[repo_search::NAME, create_repo::NAME, repo_details::NAME, hf_fs::NAME],
        "search" => &[repo_search::NAME],
        "docs" | "files" => &[hf_fs::NAME],
        "spaces" => &[repo_search::NAME, create_repo::NAME, repo_details::NAME, hf_fs::NAME, dynamic_space::NAME],
        "dynamic_space" => &[dynamic_space::NAME],
        "hub_repo_details" | "detail" => &[repo_details::NAME],
        // The hosted server's `skills` bouquet: the tools its skills drive.
        "skills" => &[repo_details::NAME, repo_search::NAME, hf_fs::NAME, hf_jobs::NAME],
        "all" => DEFAULT_AUTHENTICATED,
        "write" => &[create_repo::NAME],
        // Upstream's research bouquet, without its sandbox tools (not served here).
        "research" => &[hf_fs_write::NAME, create_repo::NAME, repo_details::NAME],
        "jobs" => &[hf_jobs::NAME],
        // Flags and selections without built-ins (image filtering is read per call).
        "no_gradio_images" | "proxy" => &[],
        _ => return None,
    })
}

/// A set of built-ins as a bitmask over [`BUILTINS`] (the assertion below keeps them fitting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Builtins(pub u16);

const _: () = assert!(BUILTINS.len() <= u16::BITS as usize);

impl Builtins {
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Builtins {
        let mut m = 0u16;
        for n in names {
            let n = if n == HF_FILES_FLAG { hf_fs_write::NAME } else { n };
            if let Some(i) = BUILTINS.iter().position(|b| *b == n) {
                m |= 1 << i;
            }
        }
        Builtins(m)
    }
    pub fn contains(&self, name: &str) -> bool {
        BUILTINS.iter().position(|b| *b == name).is_some_and(|i| self.0 & (1 << i) != 0)
    }
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        BUILTINS.iter().enumerate().filter(move |(i, _)| self.0 & (1 << i) != 0).map(|(_, n)| *n)
    }
    fn union(self, other: Builtins) -> Builtins {
        Builtins(self.0 | other.0)
    }
    fn intersect(self, other: Builtins) -> Builtins {
        Builtins(self.0 & other.0)
    }
}

/// A user's settings, as the settings API returns them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct UserSettings {
    #[serde(rename = "builtInTools", default)]
    pub built_in_tools: Vec<String>,
    #[serde(rename = "spaceTools", default)]
    pub space_tools: Vec<SpaceToolSetting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpaceToolSetting {
    pub name: String,
    #[serde(default)]
    pub subdomain: Option<String>,
    #[serde(default)]
    pub emoji: Option<String>,
}

/// Selection settings, with defaults.
#[derive(Debug, Clone)]
pub struct SelectionConfig {
    /// `USER_CONFIG_API`: per-user settings, fetched with the caller's token.
    pub user_config_api: Option<url::Url>,
    pub settings_ttl: Duration,
    pub settings_timeout: Duration,
    /// `DISABLE_TOOLS`: tool names (built-in or `gr…`) hidden from everyone.
    pub disabled: HashSet<String>,
    /// Spaces every authenticated caller without settings gets (none by default).
    pub default_spaces: Vec<String>,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            user_config_api: None,
            settings_ttl: Duration::from_secs(60),
            settings_timeout: Duration::from_secs(5),
            disabled: HashSet::new(),
            default_spaces: Vec::new(),
        }
    }
}

/// What one request selected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selection {
    pub builtins: Builtins,
    /// Space ids (`owner/name`) in order; their position gives the `gr{N}` index.
    pub spaces: Vec<String>,
    /// Proxied tools asked for (signed-in callers only): `proxy` (the bouquet or mix) for
    /// all, or settings entries that may name a proxy id or tool ([`crate::proxy_tools`]).
    pub proxy: Vec<String>,
}

/// The selection parameters of a request (query parameters win over headers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pub bouquet: Option<String>,
    pub mix: Vec<String>,
    pub gradio: Option<String>,
}

impl Params {
    pub fn of(info: &RequestInfo) -> Params {
        let get = |q: &str, h: &str| {
            info.query_param(q).or_else(|| info.header(h).map(str::to_owned)).map(|v| v.trim().to_owned())
        };
        let list = |v: Option<String>| -> Vec<String> {
            v.map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
        };
        // `?mix=a&mix=b` adds both (the hosted server reads every value).
        let mixes = info.query_params("mix");
        let mix = if mixes.is_empty() { list(get("mix", "x-mcp-mix")) } else { list(Some(mixes.join(","))) };
        Params {
            bouquet: get("bouquet", "x-mcp-bouquet").filter(|b| !b.is_empty()),
            mix,
            gradio: get("gradio", "x-mcp-gradio").filter(|g| !g.is_empty()),
        }
    }
}

/// Space ids of a `gradio` parameter (`none` → empty; malformed entries skipped).
pub fn parse_gradio(param: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in param.split(',').map(str::trim) {
        if !e.is_empty() && !e.eq_ignore_ascii_case("none") && valid_space_name(e) && !out.iter().any(|o| o == e) {
            out.push(e.to_owned());
        }
    }
    out
}

/// Computes selections; owns the settings cache.
pub struct Selector {
    config: SelectionConfig,
    http: reqwest::Client,
    /// token hash → settings (`None`: the API failed or returned nothing usable).
    settings: TtlCache<Arc<str>, Option<Arc<UserSettings>>>,
    telemetry: Telemetry,
}

/// A selection and whether the caller's settings changed since they were last fetched.
pub struct Selected {
    pub selection: Selection,
    pub settings_changed: bool,
}

impl Selector {
    pub fn new(config: SelectionConfig, telemetry: Telemetry) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.settings_timeout)
            .user_agent(crate::client::default_user_agent())
            .build()
            .expect("reqwest client builds");
        let settings = TtlCache::new(config.settings_ttl, 100_000);
        Selector { config, http, settings, telemetry }
    }

    pub fn config(&self) -> &SelectionConfig {
        &self.config
    }

    pub fn disabled(&self) -> &HashSet<String> {
        &self.config.disabled
    }

    /// Built-ins a caller may call by name even when not selected: every one that is not
    /// disabled (for anonymous callers, of those they may see).
    pub fn callable(&self, authenticated: bool) -> Builtins {
        let all = if authenticated { BUILTINS } else { ANONYMOUS_VISIBLE };
        let enabled = all.iter().copied().filter(|n| !self.config.disabled.contains(*n));
        Builtins::from_names(enabled)
    }

    /// Fetch (or reuse) the caller's settings. `changed` is true when a refetch found
    /// settings different from the previous ones.
    async fn user_settings(&self, id: &Arc<str>, token: &str) -> (Option<Arc<UserSettings>>, bool) {
        let Some(url) = &self.config.user_config_api else { return (None, false) };
        let previous = match self.settings.lookup(id) {
            Lookup::Fresh(s) => {
                self.telemetry.cache("user_settings", true);
                return (s, false);
            }
            Lookup::Stale(s) => Some(s),
            Lookup::Missing => None,
        };
        self.telemetry.cache("user_settings", false);
        let fetched = async {
            let resp = self
                .http
                .get(url.clone())
                .header("accept", "application/json")
                .header("cache-control", "no-cache")
                .header("authorization", crate::gradio::discovery::sensitive_bearer(token))
                .send()
                .await
                .ok()?;
            if !resp.status().is_success() {
                tracing::debug!(status = resp.status().as_u16(), "user settings unavailable; using the fallback");
                return None;
            }
            let body = crate::gradio::discovery::read_capped(resp, 1024 * 1024).await.ok()?;
            let v: Value = serde_json::from_slice(&body).ok()?;
            serde_json::from_value::<UserSettings>(v).ok().map(Arc::new)
        }
        .await;
        // Any difference from what the caller last saw changes their list (settings edited,
        // or the API recovering from a failure that had given them the fallback set).
        let changed = previous.as_ref().is_some_and(|p| p.as_deref() != fetched.as_deref());
        // A failure is remembered briefly, so a transient error does not stick for the TTL.
        let ttl = if fetched.is_some() { self.settings.ttl() } else { self.settings.ttl().min(FAILURE_TTL) };
        self.settings.insert_with_ttl(id.clone(), fetched.clone(), ttl);
        (fetched, changed)
    }

    /// The selection of one request.
    pub async fn select(&self, info: &RequestInfo) -> Selected {
        let params = Params::of(info);
        let authenticated = info.caller.bearer.is_some();
        let mut settings_changed = false;
        let chosen_bouquet = params.bouquet.as_deref().and_then(|b| bouquet(b).map(|tools| (b, tools)));

        let mut proxy: Vec<String> = Vec::new();
        if params.bouquet.as_deref() == Some("proxy") || params.mix.iter().any(|m| m == "proxy") {
            proxy.push("proxy".into());
        }
        let (mut builtins, settings_spaces): (Builtins, Vec<String>) = match chosen_bouquet {
            Some((_, tools)) => (Builtins::from_names(tools.iter().copied()), Vec::new()),
            None => {
                let base = match (&info.caller.id, &info.caller.bearer) {
                    (Some(id), Some(token)) if self.config.user_config_api.is_some() => {
                        let (s, changed) = self.user_settings(id, token).await;
                        settings_changed = changed;
                        s.map(|s| {
                            let others = s
                                .built_in_tools
                                .iter()
                                .filter(|t| !BUILTINS.contains(&t.as_str()) && *t != HF_FILES_FLAG);
                            proxy.extend(others.cloned());
                            let tools = Builtins::from_names(s.built_in_tools.iter().map(String::as_str));
                            let spaces = s.space_tools.iter().map(|t| t.name.clone()).collect();
                            (tools, spaces)
                        })
                    }
                    _ if authenticated => Some((
                        Builtins::from_names(DEFAULT_AUTHENTICATED.iter().copied()),
                        self.config.default_spaces.clone(),
                    )),
                    // Without a settings API the hosted server's static settings give anonymous
                    // callers the default Spaces too.
                    _ if self.config.user_config_api.is_none() => Some((
                        Builtins::from_names(ANONYMOUS_VISIBLE.iter().copied()),
                        self.config.default_spaces.clone(),
                    )),
                    _ => None,
                };
                let (mut tools, spaces) =
                    base.unwrap_or_else(|| (Builtins::from_names(ANONYMOUS_VISIBLE.iter().copied()), Vec::new()));
                for m in &params.mix {
                    if let Some(extra) = bouquet(m) {
                        tools = tools.union(Builtins::from_names(extra.iter().copied()));
                    }
                }
                (tools, spaces)
            }
        };
        builtins = builtins.union(Builtins::from_names(ALWAYS.iter().copied()));
        if !authenticated {
            builtins = builtins.intersect(Builtins::from_names(ANONYMOUS_VISIBLE.iter().copied()));
        }
        builtins = Builtins(builtins.0 & !Builtins::from_names(self.config.disabled.iter().map(String::as_str)).0);

        let spaces = match params.gradio.as_deref() {
            Some(g) if g.trim().eq_ignore_ascii_case("none") => Vec::new(),
            gradio => {
                let mut spaces = gradio.map(parse_gradio).unwrap_or_default();
                for s in settings_spaces {
                    if valid_space_name(&s) && !spaces.contains(&s) {
                        spaces.push(s);
                    }
                }
                spaces
            }
        };
        if !authenticated {
            proxy.clear();
        }
        Selected { selection: Selection { builtins, spaces, proxy }, settings_changed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_engine::protocol::{Caller, Era, HttpRequestParts, Transport};

    fn info(query: &str, token: Option<&str>) -> RequestInfo {
        RequestInfo {
            era: Era::Stateless,
            transport: Transport::StreamableHttp,
            protocol_version: "2026-07-28".into(),
            method: "tools/list".into(),
            client_capabilities: serde_json::json!({}),
            client_info: None,
            log_level: None,
            progress_token: None,
            caller: mcp_engine::auth::unvalidated_caller(token),
            http: Some(HttpRequestParts { headers: Default::default(), query: Some(query.into()), remote: None }),
        }
    }

    fn names(s: &Selection) -> Vec<&'static str> {
        s.builtins.names().collect()
    }

    #[tokio::test]
    async fn precedence() {
        let sel = Selector::new(SelectionConfig::default(), Telemetry::disabled());
        let anon = sel.select(&info("", None)).await.selection;
        assert_eq!(names(&anon), ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami"]);
        let auth = sel.select(&info("", Some("t"))).await.selection;
        assert_eq!(names(&auth), DEFAULT_AUTHENTICATED);
        // bouquet replaces (hf_fs and hf_whoami stay).
        let s = sel.select(&info("bouquet=search", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hub_repo_search", "hf_whoami"]);
        let s = sel.select(&info("bouquet=dynamic_space", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hf_whoami", "dynamic_space"]);
        // …but anonymous callers never see dynamic_space.
        let s = sel.select(&info("bouquet=dynamic_space", None)).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hf_whoami"]);
        // An unknown bouquet is ignored; mix adds.
        let s = sel.select(&info("bouquet=nope&mix=dynamic_space", Some("t"))).await.selection;
        assert_eq!(names(&s), DEFAULT_AUTHENTICATED);
        // The write tools: create_repo in write/all, hf_fs_write only through hf_files (research);
        // never for anonymous callers.
        let s = sel.select(&info("bouquet=write", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hf_whoami", "create_repo"]);
        let s = sel.select(&info("bouquet=all", Some("t"))).await.selection;
        assert!(s.builtins.contains("create_repo") && !s.builtins.contains("hf_fs_write"));
        let s = sel.select(&info("bouquet=research", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hub_repo_details", "hf_whoami", "create_repo", "hf_fs_write"]);
        let s = sel.select(&info("bouquet=research", None)).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hub_repo_details", "hf_whoami"]);
        assert!(Builtins::from_names(["hf_files"]).contains("hf_fs_write"));
        let s = sel.select(&info("mix=search", None)).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami"]);
        // gradio adds Spaces, none removes them, bad ids are skipped.
        let s = sel.select(&info("gradio=a/b,bad,c/d,a/b", None)).await.selection;
        assert_eq!(s.spaces, ["a/b", "c/d"]);
        let s = sel.select(&info("gradio=none", None)).await.selection;
        assert!(s.spaces.is_empty());
        let s = sel.select(&info("bouquet=search&gradio=x/y", Some("t"))).await.selection;
        assert_eq!(s.spaces, ["x/y"]);
    }

    #[tokio::test]
    async fn disabled_tools_are_hidden() {
        let config = SelectionConfig {
            disabled: ["hub_repo_search".to_owned(), "hf_whoami".to_owned()].into(),
            ..SelectionConfig::default()
        };
        let sel = Selector::new(config, Telemetry::disabled());
        let s = sel.select(&info("bouquet=search", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs"]);
        // The write tools are governed like every other tool.
        let config = SelectionConfig {
            disabled: ["create_repo".to_owned(), "hf_fs_write".to_owned()].into(),
            ..SelectionConfig::default()
        };
        let sel = Selector::new(config, Telemetry::disabled());
        let s = sel.select(&info("bouquet=research", Some("t"))).await.selection;
        assert_eq!(names(&s), ["hf_fs", "hub_repo_details", "hf_whoami"]);
    }

    #[test]
    fn header_params() {
        let mut i = info("", None);
        i.http.as_mut().unwrap().headers.insert("x-mcp-bouquet", "docs".parse().unwrap());
        i.http.as_mut().unwrap().headers.insert("x-mcp-mix", "search, spaces".parse().unwrap());
        let p = Params::of(&i);
        assert_eq!(p.bouquet.as_deref(), Some("docs"));
        assert_eq!(p.mix, ["search", "spaces"]);
        let _ = Caller::anonymous();
    }
}
