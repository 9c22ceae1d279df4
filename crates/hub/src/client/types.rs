//! Typed-but-tolerant Hub response models.
//!
//! Every struct uses `#[serde(default)]` (missing fields are fine), ignores unknown fields (the
//! repo-level models keep them in `extra` for pass-through), and numeric/boolean fields accept
//! `null` or slightly different JSON types. Field names follow the Hub's mixed conventions.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Lenient field deserializers.
pub(crate) mod de {
    use super::*;

    fn num_u64(v: &Value) -> Option<u64> {
        match v {
            Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(num_u64))
    }

    pub fn u64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(opt_u64(d)?.unwrap_or(0))
    }

    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(matches!(Option::<Value>::deserialize(d)?, Some(Value::Bool(true))))
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        })
    }

    /// String, or a number rendered as a string; anything else → `None`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    /// Array of strings (non-strings skipped), a single string, or null.
    pub fn string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(a)) => a
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => vec![s],
            _ => Vec::new(),
        })
    }

    pub fn opt_string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => string_vec(v).map(Some).map_err(serde::de::Error::custom),
        }
    }

    /// A `Vec<T>` where items that fail to parse are skipped (and `null` is an empty list).
    pub fn lenient_vec<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(a)) => a.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect(),
            _ => Vec::new(),
        })
    }

    pub fn opt_lenient_vec<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
        d: D,
    ) -> Result<Option<Vec<T>>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(a)) => Some(a.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect()),
            _ => None,
        })
    }

    /// An optional object that is dropped (→ `None`) if it does not parse.
    pub fn lenient_opt<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
        Ok(Option::<Value>::deserialize(d)?.and_then(|v| serde_json::from_value(v).ok()))
    }
}

/// Repository type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    Model,
    Dataset,
    Space,
}

impl RepoKind {
    /// `"model"`, `"dataset"`, `"space"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
            RepoKind::Space => "space",
        }
    }
    /// API path segment: `"models"`, `"datasets"`, `"spaces"`.
    pub fn api_segment(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
            RepoKind::Space => "spaces",
        }
    }
    /// Prefix of web / resolve URLs: `""`, `"datasets/"`, `"spaces/"`.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
            RepoKind::Space => "spaces/",
        }
    }
    /// Accepts singular or plural, any case.
    pub fn parse(s: &str) -> Option<RepoKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "model" | "models" => Some(RepoKind::Model),
            "dataset" | "datasets" => Some(RepoKind::Dataset),
            "space" | "spaces" => Some(RepoKind::Space),
            _ => None,
        }
    }
}

impl fmt::Display for RepoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `gated`: `false | "auto" | "manual"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Gated {
    #[default]
    No,
    Auto,
    Manual,
    /// Unknown future value (kept verbatim).
    Other(String),
}

impl Gated {
    pub fn is_gated(&self) -> bool {
        !matches!(self, Gated::No)
    }
}

impl<'de> Deserialize<'de> for Gated {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => match s.as_str() {
                "auto" => Gated::Auto,
                "manual" => Gated::Manual,
                "" | "false" => Gated::No,
                _ => Gated::Other(s),
            },
            Some(Value::Bool(true)) => Gated::Other("true".into()),
            _ => Gated::No,
        })
    }
}

impl Serialize for Gated {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Gated::No => s.serialize_bool(false),
            Gated::Auto => s.serialize_str("auto"),
            Gated::Manual => s.serialize_str("manual"),
            Gated::Other(v) => s.serialize_str(v),
        }
    }
}

/// A file of `siblings` (`blobs=true` adds size / blobId / lfs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sibling {
    pub rfilename: String,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(rename = "blobId", skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub lfs: Option<SiblingLfs>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiblingLfs {
    pub sha256: String,
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub size: u64,
    #[serde(rename = "pointerSize", deserialize_with = "de::opt_u64")]
    pub pointer_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SafeTensorsInfo {
    pub parameters: BTreeMap<String, u64>,
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub total: u64,
}

/// One inference provider serving a model (normalized from the object or array form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InferenceProviderMapping {
    pub provider: String,
    #[serde(rename = "providerId", skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

fn provider_mappings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<InferenceProviderMapping>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(a)) => a.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect(),
        Some(Value::Object(m)) => m
            .into_iter()
            .filter_map(|(provider, v)| {
                let mut e: InferenceProviderMapping = serde_json::from_value(v).ok()?;
                e.provider = provider;
                Some(e)
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A model, as listed by `/api/models` or described by `/api/models/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelInfo {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    pub gated: Gated,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub disabled: bool,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    #[serde(rename = "downloadsAllTime", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub downloads_all_time: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(rename = "trendingScore", deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<i64>,
    #[serde(deserialize_with = "de::string_vec")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_name: Option<String>,
    #[serde(rename = "cardData", skip_serializing_if = "Option::is_none")]
    pub card_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(rename = "transformersInfo", skip_serializing_if = "Option::is_none")]
    pub transformers_info: Option<Value>,
    #[serde(deserialize_with = "de::opt_lenient_vec", skip_serializing_if = "Option::is_none")]
    pub siblings: Option<Vec<Sibling>>,
    #[serde(deserialize_with = "de::opt_string_vec", skip_serializing_if = "Option::is_none")]
    pub spaces: Option<Vec<String>>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub safetensors: Option<SafeTensorsInfo>,
    #[serde(rename = "usedStorage", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub used_storage: Option<u64>,
    #[serde(deserialize_with = "de::opt_string", skip_serializing_if = "Option::is_none")]
    pub inference: Option<String>,
    #[serde(
        rename = "inferenceProviderMapping",
        deserialize_with = "provider_mappings",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inference_provider_mapping: Vec<InferenceProviderMapping>,
    /// Every other field, verbatim (`widgetData`, `model-index`, `mask_token`, `gguf`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A dataset, as listed by `/api/datasets` or described by `/api/datasets/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatasetInfo {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    pub gated: Gated,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub disabled: bool,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    #[serde(rename = "downloadsAllTime", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub downloads_all_time: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(rename = "trendingScore", deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<i64>,
    #[serde(deserialize_with = "de::string_vec")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    #[serde(deserialize_with = "de::opt_string", skip_serializing_if = "Option::is_none")]
    pub paperswithcode_id: Option<String>,
    #[serde(rename = "cardData", skip_serializing_if = "Option::is_none")]
    pub card_data: Option<Value>,
    #[serde(deserialize_with = "de::opt_lenient_vec", skip_serializing_if = "Option::is_none")]
    pub siblings: Option<Vec<Sibling>>,
    #[serde(rename = "usedStorage", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub used_storage: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpaceHardware {
    pub current: Option<String>,
    pub requested: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpaceDomain {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(rename = "isCustom", deserialize_with = "de::opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_custom: Option<bool>,
}

/// `runtime` of a Space.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpaceRuntime {
    /// `RUNNING`, `BUILDING`, `PAUSED`, `SLEEPING`, `RUNTIME_ERROR`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub hardware: Option<SpaceHardware>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Value>,
    #[serde(rename = "gcTimeout", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub gc_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Value>,
    #[serde(rename = "devMode", deserialize_with = "de::opt_bool", skip_serializing_if = "Option::is_none")]
    pub dev_mode: Option<bool>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub domains: Vec<SpaceDomain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl SpaceRuntime {
    pub fn is_running(&self) -> bool {
        self.stage.as_deref().is_some_and(|s| s.starts_with("RUNNING"))
    }
}

/// A Space, as listed by `/api/spaces` or described by `/api/spaces/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpaceInfo {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    pub gated: Gated,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub disabled: bool,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(rename = "trendingScore", deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<i64>,
    /// `gradio`, `streamlit`, `docker`, `static`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    #[serde(deserialize_with = "de::string_vec")]
    pub tags: Vec<String>,
    #[serde(rename = "cardData", skip_serializing_if = "Option::is_none")]
    pub card_data: Option<Value>,
    #[serde(deserialize_with = "de::opt_lenient_vec", skip_serializing_if = "Option::is_none")]
    pub siblings: Option<Vec<Sibling>>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub runtime: Option<SpaceRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    #[serde(deserialize_with = "de::opt_string_vec", skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    #[serde(deserialize_with = "de::opt_string_vec", skip_serializing_if = "Option::is_none")]
    pub datasets: Option<Vec<String>>,
    #[serde(rename = "usedStorage", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub used_storage: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Any repository (for kind-generic calls).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RepoInfo {
    Model(ModelInfo),
    Dataset(DatasetInfo),
    Space(SpaceInfo),
}

impl RepoInfo {
    pub fn kind(&self) -> RepoKind {
        match self {
            RepoInfo::Model(_) => RepoKind::Model,
            RepoInfo::Dataset(_) => RepoKind::Dataset,
            RepoInfo::Space(_) => RepoKind::Space,
        }
    }
    pub fn id(&self) -> &str {
        match self {
            RepoInfo::Model(m) => &m.id,
            RepoInfo::Dataset(d) => &d.id,
            RepoInfo::Space(s) => &s.id,
        }
    }
    pub fn likes(&self) -> Option<u64> {
        match self {
            RepoInfo::Model(m) => m.likes,
            RepoInfo::Dataset(d) => d.likes,
            RepoInfo::Space(s) => s.likes,
        }
    }
    pub fn private(&self) -> bool {
        match self {
            RepoInfo::Model(m) => m.private,
            RepoInfo::Dataset(d) => d.private,
            RepoInfo::Space(s) => s.private,
        }
    }
    pub fn gated(&self) -> &Gated {
        match self {
            RepoInfo::Model(m) => &m.gated,
            RepoInfo::Dataset(d) => &d.gated,
            RepoInfo::Space(s) => &s.gated,
        }
    }
    pub fn tags(&self) -> &[String] {
        match self {
            RepoInfo::Model(m) => &m.tags,
            RepoInfo::Dataset(d) => &d.tags,
            RepoInfo::Space(s) => &s.tags,
        }
    }
    pub fn sha(&self) -> Option<&str> {
        match self {
            RepoInfo::Model(m) => m.sha.as_deref(),
            RepoInfo::Dataset(d) => d.sha.as_deref(),
            RepoInfo::Space(s) => s.sha.as_deref(),
        }
    }
    pub fn siblings(&self) -> Option<&[Sibling]> {
        match self {
            RepoInfo::Model(m) => m.siblings.as_deref(),
            RepoInfo::Dataset(d) => d.siblings.as_deref(),
            RepoInfo::Space(s) => s.siblings.as_deref(),
        }
    }
}

/// Parameters of `/api/{models,datasets,spaces}` listings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub search: Option<String>,
    pub author: Option<String>,
    /// Tag filters (`filter=`), e.g. `text-classification`, `dataset:imdb`, `mcp-server`.
    pub filters: Vec<String>,
    /// `trendingScore`, `downloads`, `likes`, `createdAt`, `lastModified`, ...
    pub sort: Option<String>,
    /// `-1` (descending, the Hub default) or `1`.
    pub direction: Option<i32>,
    /// `full=true` (cannot be combined with `expand`).
    pub full: bool,
    /// `cardData=true`.
    pub card_data: bool,
    /// `config=true` (models).
    pub config: bool,
    /// `expand[]=...`: return only `_id`, `id` and these fields.
    pub expand: Vec<String>,
    /// Page size (`limit=`); defaults to `min(max_items, 500)`.
    pub page_size: Option<usize>,
    /// Any other query parameters (`pipeline_tag`, `library`, `gated`, `models`, ...).
    pub extra: Vec<(String, String)>,
}

/// A page (or several, followed through `Link` headers) of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// More items exist beyond `max_items` (or beyond the last page fetched).
    pub truncated: bool,
    /// URL of the next page when `truncated` because of a `Link` header (opaque).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_url: Option<String>,
    /// Items that did not match the typed model and were skipped.
    pub skipped: usize,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            truncated: self.truncated,
            next_url: self.next_url,
            skipped: self.skipped,
        }
    }
}

/// `type` of a tree entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeEntryType {
    #[default]
    File,
    Directory,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeLfs {
    pub oid: String,
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub size: u64,
    #[serde(rename = "pointerSize", deserialize_with = "de::opt_u64")]
    pub pointer_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LastCommit {
    pub id: String,
    pub title: Option<String>,
    pub date: Option<String>,
}

/// An entry of `/api/{type}s/{id}/tree/{rev}/{path}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeEntry {
    #[serde(rename = "type")]
    pub entry_type: TreeEntryType,
    pub oid: String,
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub size: u64,
    pub path: String,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub lfs: Option<TreeLfs>,
    #[serde(rename = "xetHash", skip_serializing_if = "Option::is_none")]
    pub xet_hash: Option<String>,
    #[serde(rename = "lastCommit", deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<LastCommit>,
    #[serde(rename = "securityFileStatus", skip_serializing_if = "Option::is_none")]
    pub security_file_status: Option<Value>,
}

impl TreeEntry {
    pub fn is_file(&self) -> bool {
        self.entry_type == TreeEntryType::File
    }
    pub fn is_dir(&self) -> bool {
        self.entry_type == TreeEntryType::Directory
    }
}

/// Options of [`super::HubClient::list_tree`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeOptions {
    pub recursive: bool,
    /// Adds `lastCommit` / `securityFileStatus` (slower on the Hub; smaller pages).
    pub expand: bool,
}

/// Contents (or a byte range) of a repository file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileContent {
    pub bytes: Vec<u8>,
    /// Offset of `bytes` within the file.
    pub offset: u64,
    /// Full file size, when the server reported it.
    pub total_size: Option<u64>,
    /// `true` if the file continues after `offset + bytes.len()`.
    pub truncated: bool,
    pub content_type: Option<String>,
    /// `X-Repo-Commit` (commit the revision resolved to), when reported.
    pub commit: Option<String>,
    pub etag: Option<String>,
}

impl FileContent {
    /// The bytes as UTF-8, dropping an incomplete trailing character (cut by truncation).
    /// `None` if the content is not valid UTF-8 (likely binary).
    pub fn text(&self) -> Option<&str> {
        match std::str::from_utf8(&self.bytes) {
            Ok(s) => Some(s),
            Err(e) if e.error_len().is_none() && self.truncated => {
                std::str::from_utf8(&self.bytes[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        }
    }
    /// Heuristic: NUL bytes or invalid UTF-8 in the sample.
    pub fn is_probably_binary(&self) -> bool {
        self.bytes.contains(&0) || self.text().is_none()
    }
}

// ---------------------------------------------------------------------------------------------
// whoami-v2
// ---------------------------------------------------------------------------------------------

/// `/api/whoami-v2`. Deliberately has no catch-all field: nothing token-like is ever kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhoAmI {
    /// `user`, `org` or `app`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: String,
    pub fullname: Option<String>,
    pub email: Option<String>,
    #[serde(rename = "emailVerified", deserialize_with = "de::opt_bool")]
    pub email_verified: Option<bool>,
    #[serde(rename = "canPay", deserialize_with = "de::opt_bool")]
    pub can_pay: Option<bool>,
    #[serde(rename = "isPro", deserialize_with = "de::opt_bool")]
    pub is_pro: Option<bool>,
    #[serde(rename = "periodEnd", deserialize_with = "de::opt_i64")]
    pub period_end: Option<i64>,
    #[serde(rename = "avatarUrl")]
    pub avatar_url: Option<String>,
    #[serde(rename = "billingMode")]
    pub billing_mode: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub orgs: Vec<WhoAmIOrg>,
    #[serde(deserialize_with = "de::lenient_opt")]
    pub auth: Option<WhoAmIAuth>,
}

impl WhoAmI {
    /// `read`, `write` or `fineGrained` (None for OAuth / app tokens without accessToken).
    pub fn token_role(&self) -> Option<&str> {
        self.auth.as_ref()?.access_token.as_ref()?.role.as_deref()
    }
    pub fn fine_grained(&self) -> Option<&FineGrained> {
        self.auth.as_ref()?.access_token.as_ref()?.fine_grained.as_ref()
    }
    /// Whether the token may read gated repos the user has access to.
    pub fn can_read_gated_repos(&self) -> bool {
        match self.token_role() {
            Some("fineGrained") => self.fine_grained().and_then(|f| f.can_read_gated_repos).unwrap_or(false),
            Some(_) => true,
            None => false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceGroup {
    pub id: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhoAmIOrg {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: String,
    pub fullname: Option<String>,
    pub email: Option<String>,
    #[serde(rename = "canPay", deserialize_with = "de::opt_bool")]
    pub can_pay: Option<bool>,
    #[serde(rename = "avatarUrl")]
    pub avatar_url: Option<String>,
    #[serde(rename = "periodEnd", deserialize_with = "de::opt_i64")]
    pub period_end: Option<i64>,
    /// `admin`, `write`, `contributor`, `read`.
    #[serde(rename = "roleInOrg")]
    pub role_in_org: Option<String>,
    pub plan: Option<String>,
    #[serde(rename = "securityRestrictions", deserialize_with = "de::string_vec")]
    pub security_restrictions: Vec<String>,
    #[serde(rename = "resourceGroups", deserialize_with = "de::lenient_vec")]
    pub resource_groups: Vec<ResourceGroup>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhoAmIAuth {
    /// `access_token`, `app_token`, `oauth`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(rename = "accessToken", deserialize_with = "de::lenient_opt")]
    pub access_token: Option<AccessTokenInfo>,
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<String>,
}

/// Metadata of the token used (never the token itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessTokenInfo {
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    pub role: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    pub expiration: Option<String>,
    #[serde(rename = "fineGrained", deserialize_with = "de::lenient_opt")]
    pub fine_grained: Option<FineGrained>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FineGrained {
    #[serde(rename = "canReadGatedRepos", deserialize_with = "de::opt_bool")]
    pub can_read_gated_repos: Option<bool>,
    #[serde(deserialize_with = "de::string_vec")]
    pub global: Vec<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub scoped: Vec<ScopedPermissions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScopedPermissions {
    pub entity: PermissionEntity,
    #[serde(deserialize_with = "de::string_vec")]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermissionEntity {
    #[serde(rename = "_id")]
    pub id: Option<String>,
    /// `user`, `org`, `model`, `dataset`, `space`, `collection`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Papers
// ---------------------------------------------------------------------------------------------

/// A Hub user reference (`user` is the username).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HubUser {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "avatarUrl", skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(rename = "isPro", deserialize_with = "de::opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_pro: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fullname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// An organization / user reference with a `name` (papers, collections, Spaces).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OwnerRef {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fullname: Option<String>,
    #[serde(rename = "avatarUrl", skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaperAuthor {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub hidden: bool,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub user: Option<HubUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A paper (`/api/papers/{id}` body, `.paper` of search / daily items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Paper {
    /// arXiv id.
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub authors: Vec<PaperAuthor>,
    #[serde(rename = "publishedAt", skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    #[serde(rename = "submittedOnDailyAt", skip_serializing_if = "Option::is_none")]
    pub submitted_on_daily_at: Option<String>,
    #[serde(
        rename = "submittedOnDailyBy",
        deserialize_with = "de::lenient_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub submitted_on_daily_by: Option<HubUser>,
    #[serde(deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub upvotes: Option<i64>,
    #[serde(rename = "discussionId", skip_serializing_if = "Option::is_none")]
    pub discussion_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_summary: Option<String>,
    #[serde(deserialize_with = "de::string_vec", skip_serializing_if = "Vec::is_empty")]
    pub ai_keywords: Vec<String>,
    #[serde(rename = "githubRepo", skip_serializing_if = "Option::is_none")]
    pub github_repo: Option<String>,
    #[serde(rename = "githubStars", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub github_stars: Option<u64>,
    #[serde(rename = "projectPage", skip_serializing_if = "Option::is_none")]
    pub project_page: Option<String>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub organization: Option<OwnerRef>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HighlightSegment {
    /// `text` or `highlight`.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
}

/// An item of `/api/papers/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaperSearchHit {
    pub paper: Paper,
    #[serde(rename = "publishedAt", skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    #[serde(rename = "numComments", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_comments: Option<u64>,
    #[serde(rename = "highlightedTitle", deserialize_with = "de::lenient_vec")]
    pub highlighted_title: Vec<HighlightSegment>,
    #[serde(rename = "highlightedSummary", deserialize_with = "de::lenient_vec")]
    pub highlighted_summary: Vec<HighlightSegment>,
}

/// An item of `/api/daily_papers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DailyPaper {
    pub paper: Paper,
    /// When it was added to Daily Papers.
    #[serde(rename = "publishedAt", skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    #[serde(rename = "numComments", deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_comments: Option<u64>,
    #[serde(rename = "submittedBy", deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<HubUser>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub organization: Option<OwnerRef>,
}

/// Parameters of `/api/daily_papers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailyPapersParams {
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// `YYYY-Www`.
    pub week: Option<String>,
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub submitter: Option<String>,
    /// `publishedAt` or `trending`.
    pub sort: Option<String>,
    /// Page size (`limit=`); defaults to `min(max_items, 100)`.
    pub page_size: Option<usize>,
}

// ---------------------------------------------------------------------------------------------
// Docs
// ---------------------------------------------------------------------------------------------

/// A hit of `/api/docs/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocsSearchHit {
    pub text: String,
    pub product: Option<String>,
    pub heading1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading5: Option<String>,
    pub source_page_url: Option<String>,
    pub source_page_title: Option<String>,
}

/// A documentation page fetched as Markdown (or HTML when the server ignores `Accept`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocPage {
    /// The URL actually requested.
    pub url: String,
    pub content_type: Option<String>,
    pub content: String,
    pub truncated: bool,
    pub total_bytes: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Collections
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionNote {
    pub html: Option<String>,
    pub text: Option<String>,
}

/// An item of a collection: a model, dataset, Space, paper or collection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionItem {
    /// Id of the item *in the collection*.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Repo id, arXiv id or collection slug.
    pub id: String,
    /// `model`, `dataset`, `space`, `paper`, `collection`.
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub note: Option<CollectionNote>,
    /// The item's own fields (likes, downloads, title, ...), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `/api/collections/{slug}` (list items carry at most 4 items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Collection {
    pub slug: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerRef>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub items: Vec<CollectionItem>,
    #[serde(rename = "lastUpdated", skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    #[serde(deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub upvotes: Option<i64>,
    #[serde(rename = "shareUrl", skip_serializing_if = "Option::is_none")]
    pub share_url: Option<String>,
}

/// Parameters of `/api/collections`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionsParams {
    pub owner: Option<String>,
    /// Items the collections must contain, as `models/owner/name`, `papers/2407.21783`, ...
    pub items: Vec<String>,
    pub q: Option<String>,
    /// `lastModified`, `trending`, `upvotes`.
    pub sort: Option<String>,
    pub page_size: Option<usize>,
}

// ---------------------------------------------------------------------------------------------
// Trending, Space semantic search
// ---------------------------------------------------------------------------------------------

/// `repoData` of a `/api/trending` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrendingRepo {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    pub gated: Gated,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    #[serde(rename = "trendingScore", deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_tag: Option<String>,
    #[serde(deserialize_with = "de::string_vec", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "shortDescription", skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An item of `/api/trending`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrendingItem {
    #[serde(rename = "repoType")]
    pub repo_type: String,
    #[serde(rename = "repoData")]
    pub repo_data: TrendingRepo,
}

impl TrendingItem {
    pub fn kind(&self) -> Option<RepoKind> {
        RepoKind::parse(&self.repo_type)
    }
}

/// A hit of `/api/spaces/semantic-search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpaceSearchHit {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(rename = "trendingScore", deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<i64>,
    #[serde(rename = "shortDescription", skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_short_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_category: Option<String>,
    #[serde(
        rename = "semanticRelevancyScore",
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub semantic_relevancy_score: Option<f64>,
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub runtime: Option<SpaceRuntime>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub private: bool,
    #[serde(deserialize_with = "de::string_vec", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The outcome of a conditional (`If-None-Match`) request.
#[derive(Debug, Clone, PartialEq)]
pub enum Conditional<T> {
    NotModified,
    Fresh { value: T, etag: Option<String> },
}

/// Parameters of `/api/spaces/semantic-search`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpaceSearchParams {
    pub query: String,
    /// `gradio`, `docker`, ...
    pub sdk: Option<String>,
    /// Required tags, e.g. `mcp-server`.
    pub filters: Vec<String>,
    pub include_non_running: bool,
    pub limit: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_model_info() {
        let m: ModelInfo = serde_json::from_value(json!({
            "_id": "x", "id": "a/b", "likes": "12", "downloads": null, "gated": "manual",
            "tags": "single", "trendingScore": 3.7, "private": null,
            "inferenceProviderMapping": {"together": {"status": "live", "providerId": "p", "task": "t"}},
            "siblings": [{"rfilename": "a"}, 42], "model-index": null, "widgetData": [{"text": "hi"}]
        }))
        .unwrap();
        assert_eq!(m.likes, Some(12));
        assert_eq!(m.downloads, None);
        assert_eq!(m.gated, Gated::Manual);
        assert_eq!(m.tags, vec!["single"]);
        assert_eq!(m.trending_score, Some(4));
        assert!(!m.private);
        assert_eq!(m.inference_provider_mapping[0].provider, "together");
        assert_eq!(m.siblings.as_ref().unwrap().len(), 1);
        assert!(m.extra.contains_key("widgetData"));
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["gated"], "manual");
        assert_eq!(back["model-index"], Value::Null);

        let list_form: ModelInfo = serde_json::from_value(json!({
            "id": "a/b", "gated": false,
            "inferenceProviderMapping": [{"provider": "together", "providerId": "p", "status": "live"}]
        }))
        .unwrap();
        assert_eq!(list_form.gated, Gated::No);
        assert_eq!(list_form.inference_provider_mapping[0].provider_id.as_deref(), Some("p"));
    }

    #[test]
    fn whoami_drops_unknown_token_fields() {
        let w: WhoAmI = serde_json::from_value(json!({
            "type": "user", "name": "u",
            "auth": {"type": "access_token", "accessToken": {"displayName": "d", "role": "write", "token": "hf_secret"}}
        }))
        .unwrap();
        assert_eq!(w.token_role(), Some("write"));
        assert!(!serde_json::to_string(&w).unwrap().contains("hf_secret"));
        assert!(!format!("{w:?}").contains("hf_secret"));
    }

    #[test]
    fn truncated_utf8() {
        let c = FileContent {
            bytes: "héllo".as_bytes()[..2].to_vec(),
            offset: 0,
            total_size: Some(6),
            truncated: true,
            content_type: None,
            commit: None,
            etag: None,
        };
        assert_eq!(c.text(), Some("h"));
        assert!(!c.is_probably_binary());
    }
}
