//! datasets-server (dataset viewer) calls and models.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::Service;
use super::types::{de, RepoKind};
use super::{HubClient, HubError, Token};

/// `/splits`: one entry per (config, split).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsSplits {
    #[serde(deserialize_with = "de::lenient_vec")]
    pub splits: Vec<DsSplit>,
    pub pending: Vec<Value>,
    pub failed: Vec<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsSplit {
    pub dataset: String,
    pub config: String,
    pub split: String,
}

impl DsSplits {
    /// Distinct config names, in order.
    pub fn configs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.splits {
            if !out.contains(&s.config.as_str()) {
                out.push(&s.config);
            }
        }
        out
    }
}

/// A size record (dataset, config or split level).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsSizeEntry {
    pub dataset: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_bytes_original_files: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_bytes_parquet_files: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_bytes_memory: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_rows: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_columns: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub estimated_num_rows: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsSizeInfo {
    /// Present for dataset-level requests.
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DsSizeEntry>,
    /// Present for config-level requests.
    #[serde(deserialize_with = "de::lenient_opt", skip_serializing_if = "Option::is_none")]
    pub config: Option<DsSizeEntry>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub configs: Vec<DsSizeEntry>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub splits: Vec<DsSizeEntry>,
}

/// `/size`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsSize {
    pub size: DsSizeInfo,
    pub pending: Vec<Value>,
    pub failed: Vec<Value>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub partial: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsFeature {
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub feature_idx: u64,
    pub name: String,
    /// The `datasets` feature type (`{"dtype": "string", "_type": "Value"}`, ...).
    #[serde(rename = "type")]
    pub feature_type: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsRow {
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub row_idx: u64,
    pub row: Map<String, Value>,
    #[serde(deserialize_with = "de::string_vec")]
    pub truncated_cells: Vec<String>,
}

/// `/rows`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsRows {
    #[serde(deserialize_with = "de::lenient_vec")]
    pub features: Vec<DsFeature>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub rows: Vec<DsRow>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_rows_total: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64", skip_serializing_if = "Option::is_none")]
    pub num_rows_per_page: Option<u64>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub partial: bool,
}

/// `/first-rows`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsFirstRows {
    pub dataset: String,
    pub config: String,
    pub split: String,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub features: Vec<DsFeature>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub rows: Vec<DsRow>,
    #[serde(deserialize_with = "de::opt_bool", skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// `/is-valid`: which viewer capabilities are available.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsIsValid {
    #[serde(deserialize_with = "de::bool_or_false")]
    pub preview: bool,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub viewer: bool,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub search: bool,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub filter: bool,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub statistics: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsParquetFile {
    pub dataset: String,
    pub config: String,
    pub split: String,
    pub url: String,
    pub filename: String,
    #[serde(deserialize_with = "de::u64_or_zero")]
    pub size: u64,
}

/// `/parquet`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsParquet {
    #[serde(deserialize_with = "de::lenient_vec")]
    pub parquet_files: Vec<DsParquetFile>,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub partial: bool,
}

fn non_empty<'a>(name: &str, v: &'a str) -> Result<&'a str, HubError> {
    let t = v.trim();
    if t.is_empty() {
        Err(HubError::invalid_input(format!("'{name}' is required.")))
    } else {
        Ok(t)
    }
}

impl HubClient {
    async fn ds_get<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        dataset: &str,
        query: &[(&str, &str)],
        token: Option<&Token>,
    ) -> Result<T, HubError> {
        let dataset = non_empty("dataset", dataset)?;
        super::api::repo_segments(dataset)?;
        let mut url = self.url(Service::DatasetsServer, &[endpoint]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("dataset", dataset);
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        let ctx =
            super::error::ErrorContext { repo: Some((RepoKind::Dataset, dataset.to_string())), ..self.ctx(token) };
        self.fetch_typed(url, token, Service::DatasetsServer, ctx).await
    }

    /// `/splits?dataset=&config=`.
    pub async fn ds_splits(
        &self,
        dataset: &str,
        config: Option<&str>,
        token: Option<&Token>,
    ) -> Result<DsSplits, HubError> {
        let q: Vec<(&str, &str)> = config.map(|c| ("config", c)).into_iter().collect();
        self.ds_get("splits", dataset, &q, token).await
    }

    /// `/size?dataset=&config=`.
    pub async fn ds_size(
        &self,
        dataset: &str,
        config: Option<&str>,
        token: Option<&Token>,
    ) -> Result<DsSize, HubError> {
        let q: Vec<(&str, &str)> = config.map(|c| ("config", c)).into_iter().collect();
        self.ds_get("size", dataset, &q, token).await
    }

    /// `/rows?dataset=&config=&split=&offset=&length=` (`length` ≤ 100).
    pub async fn ds_rows(
        &self,
        dataset: &str,
        config: &str,
        split: &str,
        offset: u64,
        length: u32,
        token: Option<&Token>,
    ) -> Result<DsRows, HubError> {
        if length == 0 || length > 100 {
            return Err(HubError::invalid_input("'length' must be between 1 and 100 rows."));
        }
        let (config, split) = (non_empty("config", config)?, non_empty("split", split)?);
        let (offset, length) = (offset.to_string(), length.to_string());
        self.ds_get(
            "rows",
            dataset,
            &[("config", config), ("split", split), ("offset", &offset), ("length", &length)],
            token,
        )
        .await
    }

    /// `/first-rows?dataset=&config=&split=`.
    pub async fn ds_first_rows(
        &self,
        dataset: &str,
        config: &str,
        split: &str,
        token: Option<&Token>,
    ) -> Result<DsFirstRows, HubError> {
        let (config, split) = (non_empty("config", config)?, non_empty("split", split)?);
        self.ds_get("first-rows", dataset, &[("config", config), ("split", split)], token).await
    }

    /// `/info?dataset=&config=` (raw: the shape is the `datasets` library's `DatasetInfo`).
    pub async fn ds_info(&self, dataset: &str, config: Option<&str>, token: Option<&Token>) -> Result<Value, HubError> {
        let q: Vec<(&str, &str)> = config.map(|c| ("config", c)).into_iter().collect();
        self.ds_get("info", dataset, &q, token).await
    }

    /// `/is-valid?dataset=`.
    pub async fn ds_is_valid(&self, dataset: &str, token: Option<&Token>) -> Result<DsIsValid, HubError> {
        self.ds_get("is-valid", dataset, &[], token).await
    }

    /// `/parquet?dataset=&config=`.
    pub async fn ds_parquet(
        &self,
        dataset: &str,
        config: Option<&str>,
        token: Option<&Token>,
    ) -> Result<DsParquet, HubError> {
        let q: Vec<(&str, &str)> = config.map(|c| ("config", c)).into_iter().collect();
        self.ds_get("parquet", dataset, &q, token).await
    }
}
