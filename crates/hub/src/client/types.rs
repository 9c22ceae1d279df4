//! The few shapes the Hub access layer hands out: repository kinds, pages of raw JSON items,
//! file byte ranges, documentation pages and conditional answers. Response bodies stay
//! `serde_json::Value`: the tools read the fields they need, tolerant of the Hub's drift.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl fmt::Display for RepoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A page (or several, followed through `Link` headers) of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub items: Vec<Value>,
    /// More items exist beyond `max_items` (or beyond the last page fetched).
    pub truncated: bool,
    /// URL of the next page when `truncated` because of a `Link` header (opaque).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_url: Option<String>,
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

/// The outcome of a conditional (`If-None-Match`) request.
#[derive(Debug, Clone, PartialEq)]
pub enum Conditional<T> {
    NotModified,
    Fresh { value: T, etag: Option<String> },
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
