//! The Hub calls the tools make: JSON endpoints of the Hub and the datasets-server, `Link`-paged
//! listings, file byte ranges, documentation pages and conditional Space info — all through
//! `HubClient::send`, so retries, error mapping and token handling are the same for each (only
//! `page_text`, a tokenless fetch of a public page, is a plain GET).

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::error::{ErrorContext, Service};
use super::types::*;
use super::{HubClient, HubError, Req, Token};

/// Largest public Markdown page read by `page_text`.
const PAGE_TEXT_MAX_BYTES: usize = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Input validation (before any request, with clear messages)
// ---------------------------------------------------------------------------------------------

fn valid_name_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 96
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Validate a repo id (`owner/name`, or a legacy single-segment id) and split it.
pub(crate) fn repo_segments(id: &str) -> Result<Vec<&str>, HubError> {
    let segs: Vec<&str> = id.split('/').collect();
    if segs.is_empty() || segs.len() > 2 || !segs.iter().all(|s| valid_name_segment(s)) {
        return Err(HubError::invalid_input(format!(
            "Invalid repo id '{id}': expected 'owner/name' (letters, digits, '-', '_', '.')."
        )));
    }
    Ok(segs)
}

fn check_revision(rev: &str) -> Result<(), HubError> {
    if rev.is_empty() || rev.len() > 256 || rev == "." || rev == ".." || rev.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(HubError::invalid_input(format!(
            "Invalid revision '{rev}': use a branch, tag or commit sha (default 'main')."
        )));
    }
    Ok(())
}

/// Split a repo-relative path into segments (leading/trailing `/` ignored).
fn path_segments(path: &str) -> Result<Vec<&str>, HubError> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let segs: Vec<&str> = trimmed.split('/').collect();
    if segs.iter().any(|s| s.is_empty() || *s == "." || *s == ".." || s.chars().any(char::is_control)) {
        return Err(HubError::invalid_input(format!(
            "Invalid path '{path}': use a repository-relative path like 'folder/file.txt'."
        )));
    }
    Ok(segs)
}

impl HubClient {
    pub(crate) fn repo_ctx(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: Option<&str>,
        token: Option<&Token>,
    ) -> ErrorContext {
        ErrorContext {
            repo: Some((kind, id.to_string())),
            revision: revision.map(str::to_string),
            path: path.map(str::to_string),
            ..self.ctx(token)
        }
    }

    fn what_ctx(&self, what: String, token: Option<&Token>) -> ErrorContext {
        ErrorContext { what: Some(what), ..self.ctx(token) }
    }

    /// `GET /api/spaces/{id}` revalidated with `If-None-Match: etag` (when given): a `304`
    /// gives [`Conditional::NotModified`], a `200` the fresh JSON and its `ETag`.
    pub async fn space_info_conditional(
        &self,
        id: &str,
        etag: Option<&str>,
        token: Option<&Token>,
    ) -> Result<Conditional<Value>, HubError> {
        let mut segs = vec!["api", RepoKind::Space.api_segment()];
        segs.extend(repo_segments(id)?);
        let url = self.url(Service::Hub, &segs);
        let ctx = self.repo_ctx(RepoKind::Space, id, None, None, token);
        let req = Req { ok_statuses: &[304], if_none_match: etag, ..Req::get_json(url, token, Service::Hub, ctx) };
        let resp = self.send(&req).await?;
        if resp.status().as_u16() == 304 {
            return Ok(Conditional::NotModified);
        }
        let new_etag = resp.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Conditional::Fresh { value: self.read_json(resp, token).await?, etag: new_etag })
    }

    // -----------------------------------------------------------------------------------------
    // Files
    // -----------------------------------------------------------------------------------------

    /// `{endpoint}/{prefix}{id}/resolve/{rev}/{path}`.
    pub fn resolve_url(&self, kind: RepoKind, id: &str, revision: Option<&str>, path: &str) -> Result<Url, HubError> {
        let rev = revision.unwrap_or("main");
        check_revision(rev)?;
        let file = path_segments(path)?;
        if file.is_empty() {
            return Err(HubError::invalid_input("A file path is required."));
        }
        let mut segs: Vec<&str> = Vec::new();
        match kind {
            RepoKind::Model => {}
            RepoKind::Dataset => segs.push("datasets"),
            RepoKind::Space => segs.push("spaces"),
        }
        segs.extend(repo_segments(id)?);
        segs.extend(["resolve", rev]);
        segs.extend(file);
        Ok(self.url(Service::Hub, &segs))
    }

    /// Up to `max_bytes` of a repository file from `offset` (HTTP `Range`); `max_bytes == 0`
    /// only reports the size (HEAD).
    #[allow(clippy::too_many_arguments)]
    pub async fn read_file(
        &self,
        token: Option<&str>,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<FileContent, HubError> {
        let token = parse_token(token)?;
        let token = token.as_ref();
        let url = self.resolve_url(kind, id, revision, path)?;
        let ctx = self.repo_ctx(kind, id, revision, Some(path), token);
        self.read_range(token, url, ctx, offset, max_bytes).await
    }

    /// Up to `max_bytes` of a storage bucket's file (`/buckets/{id}/resolve/{path}`) from
    /// `offset`; `max_bytes == 0` only reports the size (HEAD).
    pub async fn read_bucket_file(
        &self,
        token: Option<&str>,
        id: &str,
        path: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<FileContent, HubError> {
        let token = parse_token(token)?;
        let token = token.as_ref();
        let file = path_segments(path)?;
        if file.is_empty() {
            return Err(HubError::invalid_input("A file path is required."));
        }
        let mut segs = vec!["buckets"];
        segs.extend(repo_segments(id)?);
        segs.push("resolve");
        segs.extend(file);
        let url = self.url(Service::Hub, &segs);
        let ctx = ErrorContext { what: Some(format!("file '{path}' of bucket '{id}'")), ..self.ctx(token) };
        self.read_range(token, url, ctx, offset, max_bytes).await
    }

    async fn read_range(
        &self,
        token: Option<&Token>,
        url: Url,
        ctx: ErrorContext,
        offset: u64,
        max_bytes: u64,
    ) -> Result<FileContent, HubError> {
        let head_only = max_bytes == 0;
        let req = Req {
            method: if head_only { Method::HEAD } else { Method::GET },
            accept: None,
            range: (!head_only).then(|| format!("bytes={offset}-{}", offset.saturating_add(max_bytes - 1))),
            identity_encoding: true,
            ok_statuses: &[416],
            ..Req::get_json(url, token, Service::Hub, ctx)
        };
        let mut resp = self.send(&req).await?;
        let status = resp.status().as_u16();
        let url = resp.url().clone();
        let header = |name| {
            resp.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let etag = header(ETAG);
        let commit = header(reqwest::header::HeaderName::from_static("x-repo-commit"));
        let content_range = header(CONTENT_RANGE);
        let content_length: Option<u64> = header(CONTENT_LENGTH).and_then(|v| v.parse().ok());
        let range_total = content_range.as_deref().and_then(parse_content_range_total);

        let mut out =
            FileContent { bytes: Vec::new(), offset, total_size: None, truncated: false, content_type, commit, etag };
        match status {
            416 => {
                out.total_size = range_total;
                return Ok(out);
            }
            _ if head_only => {
                self.settle(&url, true);
                out.total_size = content_length;
                out.truncated = content_length.is_some_and(|t| t > 0);
                return Ok(out);
            }
            206 => {
                out.total_size = range_total;
            }
            _ => {
                // The server ignored the Range header: skip `offset` bytes ourselves.
                out.total_size = content_length;
            }
        }
        let mut to_skip = if status == 206 { 0 } else { offset };
        let cap = max_bytes as usize;
        let mut more = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            self.settle(&url, false);
            super::error::from_transport(&e, self.config().timeout, "the Hub").scrubbed(token)
        })? {
            let mut chunk: &[u8] = &chunk;
            if to_skip > 0 {
                let n = (to_skip as usize).min(chunk.len());
                chunk = &chunk[n..];
                to_skip -= n as u64;
            }
            let room = cap - out.bytes.len();
            if chunk.len() > room {
                out.bytes.extend_from_slice(&chunk[..room]);
                more = true;
                break;
            }
            out.bytes.extend_from_slice(chunk);
            if out.bytes.len() == cap && status != 206 {
                // Full-body response: there may be more; decide from the size if known.
                more = out.total_size.is_none_or(|t| t > offset + cap as u64);
                break;
            }
        }
        self.settle(&url, true);
        out.truncated = match out.total_size {
            Some(total) => offset + (out.bytes.len() as u64) < total,
            None => more,
        };
        Ok(out)
    }

    /// The URL `doc_page` would fetch: `/docs/...` paths and `huggingface.co/docs/...` URLs are
    /// mapped onto the configured endpoint; anything else is refused.
    pub fn doc_url(&self, url_or_path: &str) -> Result<Url, HubError> {
        let input = url_or_path.trim();
        let refuse = || {
            HubError::invalid_input(format!(
                "'{input}' is not a Hugging Face documentation URL (expected https://huggingface.co/docs/... or /docs/...)."
            ))
        };
        let endpoint = self.endpoint();
        let path_and_query = if input.starts_with("/docs/") {
            input.to_string()
        } else {
            let u = Url::parse(input).map_err(|_| refuse())?;
            let host = u.host_str().unwrap_or("");
            let same_as_endpoint = u.origin() == endpoint.origin();
            let official =
                matches!(u.scheme(), "https") && matches!(host, "huggingface.co" | "www.huggingface.co" | "hf.co");
            if !same_as_endpoint && !official {
                return Err(refuse());
            }
            u.path().to_string()
        };
        let path = path_and_query.split(['?', '#']).next().unwrap_or("").to_string();
        if !path.starts_with("/docs/") || path.split('/').any(|s| s == "..") {
            return Err(refuse());
        }
        let segs: Vec<String> =
            path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
        if segs.iter().any(|s| s == "." || s == "..") {
            return Err(refuse());
        }
        let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        Ok(self.url(Service::Hub, &refs))
    }

    /// Fetch a docs page as Markdown (`Accept: text/markdown`), up to `max_bytes`.
    pub async fn doc_page(&self, url_or_path: &str, max_bytes: usize) -> Result<DocPage, HubError> {
        let url = self.doc_url(url_or_path)?;
        let ctx = self.what_ctx(format!("documentation page {}", url.path()), None);
        let req = Req {
            accept: Some("text/markdown, text/plain;q=0.9, text/html;q=0.5"),
            ..Req::get_json(url.clone(), None, Service::Hub, ctx)
        };
        let mut resp = self.send(&req).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let total = resp.content_length();
        let mut bytes = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            self.settle(&url, false);
            super::error::from_transport(&e, self.config().timeout, "the Hub")
        })? {
            let room = max_bytes - bytes.len();
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        self.settle(&url, true);
        // Drop an incomplete trailing UTF-8 sequence cut by truncation.
        let content = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let mut b = e.into_bytes();
                if truncated && b.len() - valid < 4 {
                    b.truncate(valid);
                }
                String::from_utf8_lossy(&b).into_owned()
            }
        };
        Ok(DocPage { url: url.to_string(), content_type, content, truncated, total_bytes: total })
    }

    // -----------------------------------------------------------------------------------------
    // Raw pass-through
    // -----------------------------------------------------------------------------------------

    fn raw_url(&self, service: Service, path: &str, query: &[(&str, String)]) -> Result<Url, HubError> {
        if !path.starts_with('/') || path.contains("://") || path.split('/').any(|s| s == "..") {
            return Err(HubError::invalid_input(format!(
                "Invalid API path '{path}': it must start with '/' and stay on the Hub."
            )));
        }
        let segs: Vec<String> = path.trim_start_matches('/').split('/').map(percent_decode).collect();
        if segs.iter().any(|s| s == "." || s == "..") {
            return Err(HubError::invalid_input(format!("Invalid API path '{path}': dot segments are not allowed.")));
        }
        let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let mut url = self.url(service, &refs);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// GET a JSON endpoint of `service` (`path` like `/api/models/owner/name`, segments may be
    /// percent-encoded), with retries and error mapping.
    pub async fn get_json(
        &self,
        token: Option<&str>,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, HubError> {
        let token = parse_token(token)?;
        let token = token.as_ref();
        let url = self.raw_url(service, path, query)?;
        let dataset = query.iter().find(|(k, _)| *k == "dataset").map(|(_, v)| v.as_str());
        let ctx = match (service, dataset) {
            (Service::DatasetsServer, Some(d)) => self.repo_ctx(RepoKind::Dataset, d, None, None, token),
            (Service::DatasetsServer, None) => self.what_ctx("dataset viewer resource".into(), token),
            (Service::Hub, _) => self.what_ctx(format!("Hub resource {path}"), token),
        };
        Ok(self.fetch_json(url, token, service, ctx).await?.0)
    }

    /// A Hub JSON array endpoint, following `Link` pages until `max_items` items are collected.
    pub async fn list(
        &self,
        token: Option<&str>,
        path: &str,
        query: &[(&str, String)],
        max_items: usize,
    ) -> Result<Page, HubError> {
        let token = parse_token(token)?;
        let url = self.raw_url(Service::Hub, path, query)?;
        let ctx = self.what_ctx(format!("Hub resource {path}"), token.as_ref());
        self.paginate(url, max_items, token.as_ref(), Service::Hub, ctx).await
    }

    /// A documentation resource under `/docs/` as text and its content type; `Ok(None)` on 404.
    pub async fn doc_text(&self, path: &str, max_bytes: usize) -> Result<Option<(String, Option<String>)>, HubError> {
        match self.doc_page(path, max_bytes).await {
            Ok(p) => Ok(Some((p.content, p.content_type))),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A public Markdown page outside `/docs/` (e.g. `/papers/{id}.md`), fetched once without a
    /// token; `None` if unavailable.
    pub async fn page_text(&self, path: &str) -> Option<String> {
        let url = format!("{}{path}", self.web_base());
        let resp = self.http().get(url).header(ACCEPT, "text/markdown").send().await.ok()?;
        let md = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("markdown") || c.contains("text/plain"));
        if !resp.status().is_success() || !md {
            return None;
        }
        // Bounded like every other body: a runaway page is no page.
        let body = self.read_capped(resp, PAGE_TEXT_MAX_BYTES, None).await.ok()?;
        String::from_utf8(body).ok()
    }
}

/// The caller's token as the client sends it; a malformed one is refused before any request.
fn parse_token(token: Option<&str>) -> Result<Option<Token>, HubError> {
    token.map(Token::new).transpose().map_err(HubError::unusable_token)
}

/// `bytes 0-99/1234` or `bytes */1234` → 1234.
fn parse_content_range_total(v: &str) -> Option<u64> {
    v.trim().rsplit('/').next()?.trim().parse().ok()
}

/// Percent-encode one path segment (for paths handed to [`HubClient::get_json`]).
pub fn enc(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encode a `/`-separated path, keeping the separators.
pub fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(repo_segments("google-bert/bert-base-uncased").is_ok());
        assert!(repo_segments("gpt2").is_ok());
        assert!(repo_segments("a/b/c").is_err());
        assert!(repo_segments("../etc").is_err());
        assert!(repo_segments("a b/c").is_err());
        assert!(path_segments("a/../b").is_err());
        assert_eq!(path_segments("/a/b.txt").unwrap(), vec!["a", "b.txt"]);
        assert!(check_revision("refs/pr/1").is_ok());
        assert!(check_revision("").is_err());
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range_total("bytes 0-9/570"), Some(570));
        assert_eq!(parse_content_range_total("bytes */570"), Some(570));
        assert_eq!(parse_content_range_total("bytes 0-9/*"), None);
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("refs%2Fpr%2F1"), "refs/pr/1");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(enc_path("a b/c@d"), "a%20b/c%40d");
        assert_eq!(percent_decode(&enc_path("a b/c@d")), "a b/c@d");
    }

    #[test]
    fn resolve_urls() {
        let c = HubClient::new(
            super::super::HubClientConfig::default().with_endpoint("https://hub.example/prefix").unwrap(),
        )
        .unwrap();
        let u = c.resolve_url(RepoKind::Dataset, "o/n", Some("refs/pr/1"), "dir/a b.txt").unwrap();
        assert_eq!(u.as_str(), "https://hub.example/prefix/datasets/o/n/resolve/refs%2Fpr%2F1/dir/a%20b.txt");
        assert!(c.doc_url("https://evil.example/docs/hub").is_err());
        assert!(c.doc_url("https://huggingface.co/blog/x").is_err());
        assert!(c.doc_url("/docs/%2E%2E/api/whoami-v2").is_err());
        assert!(c.raw_url(Service::Hub, "/api/%2e%2e/x", &[]).is_err());
        assert_eq!(
            c.raw_url(Service::Hub, "/api/models/a/b/revision/refs%2Fpr%2F1", &[("x", "1".to_owned())])
                .unwrap()
                .as_str(),
            "https://hub.example/prefix/api/models/a/b/revision/refs%2Fpr%2F1?x=1"
        );
        assert_eq!(
            c.doc_url("https://huggingface.co/docs/hub/index#x").unwrap().as_str(),
            "https://hub.example/prefix/docs/hub/index"
        );
        assert_eq!(
            c.doc_url("/docs/transformers/quicktour").unwrap().as_str(),
            "https://hub.example/prefix/docs/transformers/quicktour"
        );
    }
}
