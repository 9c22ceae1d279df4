//! The fixture catalogue: parsed once from the JSON/Markdown files embedded from `fixtures/`.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const MODELS: &str = include_str!("../fixtures/models.json");
const DATASETS: &str = include_str!("../fixtures/datasets.json");
const SPACES: &str = include_str!("../fixtures/spaces.json");
const USERS: &str = include_str!("../fixtures/users.json");
const PAPERS: &str = include_str!("../fixtures/papers.json");
const COLLECTIONS: &str = include_str!("../fixtures/collections.json");
const DATASETS_SERVER: &str = include_str!("../fixtures/datasets_server.json");

/// (product, page path, markdown). Served under `/docs/{product}/{path}`.
const DOC_PAGES: &[(&str, &str, &str)] = &[
    ("hub", "index", include_str!("../fixtures/docs/hub-index.md")),
    ("hub", "security-tokens", include_str!("../fixtures/docs/hub-security-tokens.md")),
    ("hub", "spaces-mcp-servers", include_str!("../fixtures/docs/hub-spaces-mcp-servers.md")),
    ("transformers", "quicktour", include_str!("../fixtures/docs/transformers-quicktour.md")),
    ("datasets", "loading", include_str!("../fixtures/docs/datasets-loading.md")),
    ("dataset-viewer", "quick_start", include_str!("../fixtures/docs/dataset-viewer-quick_start.md")),
];

/// Repository type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Model,
    Dataset,
    Space,
}

impl Kind {
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Dataset => "dataset",
            Kind::Space => "space",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Model => "models",
            Kind::Dataset => "datasets",
            Kind::Space => "spaces",
        }
    }
    /// Prefix of web/resolve URLs (`""`, `"datasets/"`, `"spaces/"`).
    pub fn url_prefix(self) -> &'static str {
        match self {
            Kind::Model => "",
            Kind::Dataset => "datasets/",
            Kind::Space => "spaces/",
        }
    }
    pub fn from_plural(s: &str) -> Option<Kind> {
        match s {
            "models" => Some(Kind::Model),
            "datasets" => Some(Kind::Dataset),
            "spaces" => Some(Kind::Space),
            _ => None,
        }
    }
    pub fn from_singular(s: &str) -> Option<Kind> {
        match s {
            "model" => Some(Kind::Model),
            "dataset" => Some(Kind::Dataset),
            "space" => Some(Kind::Space),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LfsInfo {
    pub sha256: String,
    pub size: u64,
    pub pointer_size: u64,
}

#[derive(Debug, Clone)]
pub struct RepoFile {
    pub path: String,
    /// Literal content; `None` means synthetic content of `size` bytes is generated.
    pub content: Option<String>,
    pub size: u64,
    pub oid: String,
    pub lfs: Option<LfsInfo>,
    pub xet_hash: Option<String>,
    pub last_commit: Value,
    /// Seed for synthetic content.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub kind: Kind,
    pub id: String,
    pub owner: String,
    pub private: bool,
    /// `None` = not gated, `Some("auto"|"manual")`.
    pub gated: Option<String>,
    pub sha: String,
    pub info: Map<String, Value>,
    pub files: Vec<RepoFile>,
    pub revisions: BTreeMap<String, String>,
    pub accepted_by: Vec<String>,
    pub semantic: Map<String, Value>,
}

impl Repo {
    pub fn num(&self, key: &str) -> i64 {
        self.info.get(key).and_then(Value::as_i64).unwrap_or(0)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.info.get(key).and_then(Value::as_str)
    }
    pub fn tags(&self) -> Vec<&str> {
        self.info
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
    /// A field of the repo card's metadata (`cardData`).
    pub fn card(&self, key: &str) -> Option<&Value> {
        self.info.get("cardData").and_then(|c| c.get(key))
    }
    /// A Space's runtime stage (`NO_APP_FILE` when it has none).
    pub fn runtime_stage(&self) -> &str {
        self.info.get("runtime").and_then(|r| r.get("stage")).and_then(Value::as_str).unwrap_or("NO_APP_FILE")
    }
    pub fn used_storage(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
    /// Resolve a revision name (branch, tag, full or >=7-char abbreviated sha) to a commit sha.
    pub fn resolve_revision(&self, rev: &str) -> Option<String> {
        if rev == "main" || rev == self.sha {
            return Some(self.sha.clone());
        }
        if let Some(sha) = self.revisions.get(rev) {
            return Some(sha.clone());
        }
        if rev.len() >= 7 && rev.len() < 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
            if self.sha.starts_with(rev) {
                return Some(self.sha.clone());
            }
            if let Some(sha) = self.revisions.values().find(|s| s.starts_with(rev)) {
                return Some(sha.clone());
            }
        }
        if rev.len() == 40 && self.revisions.values().any(|s| s == rev) {
            return Some(rev.to_string());
        }
        None
    }
    pub fn file(&self, path: &str) -> Option<&RepoFile> {
        self.files.iter().find(|f| f.path == path)
    }
    pub fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.files.iter().any(|f| f.path.starts_with(&prefix))
    }
}

#[derive(Debug, Clone, Default)]
pub struct RepoSet {
    pub repos: Vec<Repo>,
    pub aliases: HashMap<String, String>,
}

impl RepoSet {
    pub fn get(&self, id: &str) -> Option<&Repo> {
        self.repos.iter().find(|r| r.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct TokenRec {
    pub user: String,
    pub auth: Value,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub whoami: Map<String, Value>,
    pub orgs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DailyRec {
    pub paper: String,
    pub published_at: String,
    pub num_comments: i64,
}

#[derive(Debug, Clone)]
pub struct DocPage {
    pub product: String,
    pub path: String,
    pub title: String,
    pub markdown: String,
}

#[derive(Debug, Clone)]
pub struct DocChunk {
    pub product: String,
    pub page_path: String,
    pub page_title: String,
    pub heading: Option<String>,
    pub anchor: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct CollectionRec {
    pub slug: String,
    pub owner: String,
    pub private: bool,
    /// Collection object without `owner`/`items` expansion.
    pub raw: Map<String, Value>,
    pub items: Vec<Map<String, Value>>,
}

#[derive(Debug, Clone)]
pub struct DsSplit {
    pub split: String,
    pub num_bytes_parquet_files: u64,
    pub num_bytes_memory: u64,
    pub rows: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct DsConfig {
    pub config: String,
    pub num_bytes_original_files: u64,
    pub info: Map<String, Value>,
    pub features: Vec<Value>,
    pub splits: Vec<DsSplit>,
}

#[derive(Debug, Clone)]
pub struct DsDataset {
    pub is_valid: Value,
    pub configs: Vec<DsConfig>,
}

#[derive(Debug)]
pub struct Catalogue {
    pub models: RepoSet,
    pub datasets: RepoSet,
    pub spaces: RepoSet,
    pub users: HashMap<String, User>,
    pub tokens: HashMap<String, TokenRec>,
    pub papers: Vec<Map<String, Value>>,
    pub daily: Vec<DailyRec>,
    pub docs: Vec<DocPage>,
    pub doc_chunks: Vec<DocChunk>,
    pub collection_owners: Map<String, Value>,
    pub collections: Vec<CollectionRec>,
    pub ds: HashMap<String, DsDataset>,
    /// LFS sha256 → (kind, repo id, path).
    pub lfs_index: HashMap<String, (Kind, String, String)>,
}

impl Catalogue {
    pub fn repos(&self, kind: Kind) -> &RepoSet {
        match kind {
            Kind::Model => &self.models,
            Kind::Dataset => &self.datasets,
            Kind::Space => &self.spaces,
        }
    }
    pub fn paper(&self, id: &str) -> Option<&Map<String, Value>> {
        self.papers.iter().find(|p| p.get("id").and_then(Value::as_str) == Some(id))
    }
    pub fn user_for_token(&self, token: &str) -> Option<(&User, &TokenRec)> {
        let rec = self.tokens.get(token)?;
        let user = self.users.get(&rec.user)?;
        Some((user, rec))
    }
}

pub fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn seed_of(s: &str) -> u64 {
    let hex = hex_sha256(&[s.as_bytes()]);
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0x9e37_79b9_7f4a_7c15)
}

#[derive(Deserialize)]
struct RawRepoFile {
    path: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    lfs: bool,
    #[serde(default, rename = "lastCommit")]
    last_commit: Option<Value>,
}

/// `count` files without content named by `pattern` (`{i}`: the 0-padded index), for trees
/// larger than one listing page or a client's scan limits without hand-writing every entry.
#[derive(Deserialize)]
struct GeneratedFiles {
    pattern: String,
    count: usize,
    size: u64,
    #[serde(default)]
    lfs: bool,
}

impl GeneratedFiles {
    fn files(&self) -> impl Iterator<Item = RawRepoFile> + '_ {
        (0..self.count).map(|i| RawRepoFile {
            path: self.pattern.replace("{i}", &format!("{i:05}")),
            content: None,
            size: Some(self.size),
            lfs: self.lfs,
            last_commit: None,
        })
    }
}

#[derive(Deserialize)]
struct RawRepo {
    info: Map<String, Value>,
    #[serde(default)]
    files: Vec<RawRepoFile>,
    #[serde(default, rename = "generatedFiles")]
    generated_files: Option<GeneratedFiles>,
    #[serde(default)]
    revisions: BTreeMap<String, String>,
    #[serde(default, rename = "acceptedBy")]
    accepted_by: Vec<String>,
    #[serde(default)]
    semantic: Map<String, Value>,
}

#[derive(Deserialize)]
struct RawRepoSet {
    #[serde(default)]
    aliases: HashMap<String, String>,
    repos: Vec<RawRepo>,
}

fn build_repo_set(kind: Kind, src: &str) -> RepoSet {
    let raw: RawRepoSet =
        serde_json::from_str(src).unwrap_or_else(|e| panic!("invalid {} fixture: {e}", kind.plural()));
    let repos = raw
        .repos
        .into_iter()
        .map(|r| {
            let id = r.info["id"].as_str().expect("fixture repo without id").to_string();
            let owner = id.split('/').next().unwrap_or_default().to_string();
            let sha = r.info["sha"].as_str().expect("fixture repo without sha").to_string();
            let last_modified = r.info.get("lastModified").cloned().unwrap_or(Value::Null);
            let generated = r.generated_files.iter().flat_map(GeneratedFiles::files);
            let mut files: Vec<RepoFile> = r
                .files
                .into_iter()
                .chain(generated)
                .map(|f| {
                    let key = format!("{}:{}:{}", kind.singular(), id, f.path);
                    let size = match (&f.content, f.size) {
                        (Some(c), _) => c.len() as u64,
                        (None, Some(s)) => s,
                        (None, None) => 0,
                    };
                    let (oid, lfs, xet_hash) = if f.lfs {
                        let sha256 = hex_sha256(&[b"lfs:", key.as_bytes(), size.to_string().as_bytes()]);
                        let pointer_size = 125 + size.to_string().len() as u64;
                        let oid = hex_sha256(&[b"pointer:", sha256.as_bytes()])[..40].to_string();
                        let xet = hex_sha256(&[b"xet:", sha256.as_bytes()]);
                        (oid, Some(LfsInfo { sha256, size, pointer_size }), Some(xet))
                    } else if let Some(c) = &f.content {
                        let header = format!("blob {}\0", c.len());
                        (hex_sha256(&[header.as_bytes(), c.as_bytes()])[..40].to_string(), None, None)
                    } else {
                        (hex_sha256(&[b"blob-synthetic:", key.as_bytes()])[..40].to_string(), None, None)
                    };
                    let last_commit = f.last_commit.unwrap_or_else(|| {
                        serde_json::json!({
                            "id": sha,
                            "title": "Upload folder using huggingface_hub",
                            "date": last_modified,
                        })
                    });
                    RepoFile {
                        seed: seed_of(&key),
                        path: f.path,
                        content: f.content,
                        size,
                        oid,
                        lfs,
                        xet_hash,
                        last_commit,
                    }
                })
                .collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            let gated = match r.info.get("gated") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            Repo {
                kind,
                private: r.info.get("private").and_then(Value::as_bool).unwrap_or(false),
                gated,
                id,
                owner,
                sha,
                info: r.info,
                files,
                revisions: r.revisions,
                accepted_by: r.accepted_by,
                semantic: r.semantic,
            }
        })
        .collect();
    RepoSet { repos, aliases: raw.aliases }
}

#[derive(Deserialize)]
struct RawUsers {
    users: Map<String, Value>,
    tokens: HashMap<String, RawToken>,
}

#[derive(Deserialize)]
struct RawToken {
    user: String,
    auth: Value,
}

#[derive(Deserialize)]
struct RawPapers {
    papers: Vec<Map<String, Value>>,
    daily: Vec<RawDaily>,
}

#[derive(Deserialize)]
struct RawDaily {
    paper: String,
    #[serde(rename = "publishedAt")]
    published_at: String,
    #[serde(default, rename = "numComments")]
    num_comments: i64,
}

#[derive(Deserialize)]
struct RawCollections {
    owners: Map<String, Value>,
    collections: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
struct RawDs {
    datasets: BTreeMap<String, RawDsDataset>,
}

#[derive(Deserialize)]
struct RawDsDataset {
    #[serde(rename = "isValid")]
    is_valid: Value,
    configs: Vec<RawDsConfig>,
}

#[derive(Deserialize)]
struct RawDsConfig {
    config: String,
    num_bytes_original_files: u64,
    #[serde(default)]
    info: Map<String, Value>,
    features: Vec<Value>,
    splits: Vec<RawDsSplit>,
}

#[derive(Deserialize)]
struct RawDsSplit {
    split: String,
    num_bytes_parquet_files: u64,
    num_bytes_memory: u64,
    rows: Vec<Value>,
}

/// GitHub-style heading anchor.
pub fn anchor_of(heading: &str) -> String {
    let mut out = String::new();
    for c in heading.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == ' ' || c == '-' {
            out.push('-');
        } else if c == '_' {
            out.push('_');
        }
    }
    out
}

fn build_docs() -> (Vec<DocPage>, Vec<DocChunk>) {
    let mut pages = Vec::new();
    let mut chunks = Vec::new();
    for (product, path, md) in DOC_PAGES {
        let title = md.lines().find_map(|l| l.strip_prefix("# ")).unwrap_or(path).trim().to_string();
        // Split into sections at "## " headings; the text before the first one belongs to the H1.
        let mut heading: Option<String> = None;
        let mut buf = String::new();
        let mut in_code = false;
        let mut flush = |heading: &Option<String>, buf: &mut String| {
            let text = buf.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() {
                chunks.push(DocChunk {
                    product: product.to_string(),
                    page_path: path.to_string(),
                    page_title: title.clone(),
                    anchor: Some(anchor_of(heading.as_deref().unwrap_or(&title))),
                    heading: heading.clone(),
                    text,
                });
            }
            buf.clear();
        };
        for line in md.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code {
                if let Some(h) = line.strip_prefix("## ") {
                    flush(&heading, &mut buf);
                    heading = Some(h.trim().to_string());
                    continue;
                }
                if line.starts_with("# ") {
                    continue;
                }
            }
            buf.push_str(line);
            buf.push('\n');
        }
        flush(&heading, &mut buf);
        pages.push(DocPage { product: product.to_string(), path: path.to_string(), title, markdown: md.to_string() });
    }
    (pages, chunks)
}

fn build() -> Catalogue {
    let models = build_repo_set(Kind::Model, MODELS);
    let datasets = build_repo_set(Kind::Dataset, DATASETS);
    let spaces = build_repo_set(Kind::Space, SPACES);

    let raw_users: RawUsers = serde_json::from_str(USERS).expect("invalid users fixture");
    let users = raw_users
        .users
        .into_iter()
        .map(|(name, v)| {
            let whoami = v.as_object().cloned().unwrap_or_default();
            let orgs = whoami
                .get("orgs")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string)).collect())
                .unwrap_or_default();
            (name.clone(), User { name, whoami, orgs })
        })
        .collect();
    let tokens = raw_users.tokens.into_iter().map(|(t, r)| (t, TokenRec { user: r.user, auth: r.auth })).collect();

    let raw_papers: RawPapers = serde_json::from_str(PAPERS).expect("invalid papers fixture");
    let daily = raw_papers
        .daily
        .into_iter()
        .map(|d| DailyRec { paper: d.paper, published_at: d.published_at, num_comments: d.num_comments })
        .collect();

    let (docs, doc_chunks) = build_docs();

    let raw_cols: RawCollections = serde_json::from_str(COLLECTIONS).expect("invalid collections fixture");
    let collections = raw_cols
        .collections
        .into_iter()
        .map(|mut c| {
            let items = c
                .remove("items")
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| v.as_object().cloned())
                .collect();
            CollectionRec {
                slug: c["slug"].as_str().unwrap_or_default().to_string(),
                owner: c["owner"].as_str().unwrap_or_default().to_string(),
                private: c.get("private").and_then(Value::as_bool).unwrap_or(false),
                raw: c,
                items,
            }
        })
        .collect();

    let raw_ds: RawDs = serde_json::from_str(DATASETS_SERVER).expect("invalid datasets-server fixture");
    let ds = raw_ds
        .datasets
        .into_iter()
        .map(|(name, d)| {
            (
                name,
                DsDataset {
                    is_valid: d.is_valid,
                    configs: d
                        .configs
                        .into_iter()
                        .map(|c| DsConfig {
                            config: c.config,
                            num_bytes_original_files: c.num_bytes_original_files,
                            info: c.info,
                            features: c.features,
                            splits: c
                                .splits
                                .into_iter()
                                .map(|s| DsSplit {
                                    split: s.split,
                                    num_bytes_parquet_files: s.num_bytes_parquet_files,
                                    num_bytes_memory: s.num_bytes_memory,
                                    rows: s.rows,
                                })
                                .collect(),
                        })
                        .collect(),
                },
            )
        })
        .collect();

    let mut lfs_index = HashMap::new();
    for set in [&models, &datasets, &spaces] {
        for repo in &set.repos {
            for f in &repo.files {
                if let Some(lfs) = &f.lfs {
                    lfs_index.insert(lfs.sha256.clone(), (repo.kind, repo.id.clone(), f.path.clone()));
                }
            }
        }
    }

    Catalogue {
        models,
        datasets,
        spaces,
        users,
        tokens,
        papers: raw_papers.papers,
        daily,
        docs,
        doc_chunks,
        collection_owners: raw_cols.owners,
        collections,
        ds,
        lfs_index,
    }
}

/// The process-wide catalogue (immutable; built on first use).
pub fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(build)
}

/// Deterministic synthetic bytes for files without literal content.
pub fn synthetic_bytes(file: &RepoFile, start: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    if file.lfs.is_some() {
        // Pseudo-random binary content (splitmix64 over 8-byte blocks).
        let mut i = start;
        while out.len() < len {
            let block = i / 8;
            let mut z = file.seed ^ block.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let bytes = z.to_le_bytes();
            out.push(bytes[(i % 8) as usize]);
            i += 1;
        }
    } else {
        let line = format!("synthetic stand-in content of {}\n", file.path);
        let line = line.as_bytes();
        for k in 0..len as u64 {
            out.push(line[((start + k) % line.len() as u64) as usize]);
        }
    }
    out
}
