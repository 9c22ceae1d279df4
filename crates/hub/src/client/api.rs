//! Hub API calls.

use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::error::{ErrorContext, Service};
use super::types::*;
use super::{typed_page, HubClient, HubError, Req, Token};

/// Default and maximum page size requested from list endpoints.
const MAX_PAGE_SIZE: usize = 500;

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
    fn repo_ctx(
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

    // -----------------------------------------------------------------------------------------
    // Repository listings
    // -----------------------------------------------------------------------------------------

    fn list_url(&self, kind: RepoKind, params: &ListParams, max_items: usize) -> Url {
        let mut url = self.url(Service::Hub, &["api", kind.api_segment()]);
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = params.search.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("search", s);
            }
            if let Some(a) = params.author.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("author", a);
            }
            for f in &params.filters {
                q.append_pair("filter", f);
            }
            if let Some(s) = params.sort.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("sort", s);
                q.append_pair("direction", &params.direction.unwrap_or(-1).to_string());
            } else if let Some(d) = params.direction {
                q.append_pair("direction", &d.to_string());
            }
            let limit = params.page_size.unwrap_or_else(|| max_items.min(MAX_PAGE_SIZE)).clamp(1, 1000);
            q.append_pair("limit", &limit.to_string());
            if params.full {
                q.append_pair("full", "true");
            }
            if params.card_data {
                q.append_pair("cardData", "true");
            }
            if params.config {
                q.append_pair("config", "true");
            }
            for e in &params.expand {
                q.append_pair("expand[]", e);
            }
            for (k, v) in &params.extra {
                q.append_pair(k, v);
            }
        }
        url
    }

    fn check_list_params(params: &ListParams) -> Result<(), HubError> {
        if params.full && !params.expand.is_empty() {
            return Err(HubError::invalid_input(
                "'full' and 'expand' cannot be combined: request specific fields with 'expand' only.",
            ));
        }
        Ok(())
    }

    /// Raw listing (`GET /api/{models,datasets,spaces}`), following `Link` pages up to `max_items`.
    pub async fn list_repos_json(
        &self,
        kind: RepoKind,
        params: &ListParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<Value>, HubError> {
        Self::check_list_params(params)?;
        let ctx = self.what_ctx(format!("{} listing", kind.as_str()), token);
        self.paginate_values(self.list_url(kind, params, max_items), max_items, token, Service::Hub, ctx).await
    }

    /// List/search repositories of any kind.
    pub async fn list_repos(
        &self,
        kind: RepoKind,
        params: &ListParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<RepoInfo>, HubError> {
        Ok(match kind {
            RepoKind::Model => self.list_models(params, max_items, token).await?.map(RepoInfo::Model),
            RepoKind::Dataset => self.list_datasets(params, max_items, token).await?.map(RepoInfo::Dataset),
            RepoKind::Space => self.list_spaces(params, max_items, token).await?.map(RepoInfo::Space),
        })
    }

    pub async fn list_models(
        &self,
        params: &ListParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<ModelInfo>, HubError> {
        typed_page(self.list_repos_json(RepoKind::Model, params, max_items, token).await?)
    }

    pub async fn list_datasets(
        &self,
        params: &ListParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<DatasetInfo>, HubError> {
        typed_page(self.list_repos_json(RepoKind::Dataset, params, max_items, token).await?)
    }

    pub async fn list_spaces(
        &self,
        params: &ListParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<SpaceInfo>, HubError> {
        typed_page(self.list_repos_json(RepoKind::Space, params, max_items, token).await?)
    }

    // -----------------------------------------------------------------------------------------
    // Repository info
    // -----------------------------------------------------------------------------------------

    /// Raw `GET /api/{kind}s/{id}[/revision/{rev}]` (`expand` selects fields, as on the Hub).
    pub async fn repo_info_json(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        expand: &[&str],
        token: Option<&Token>,
    ) -> Result<Value, HubError> {
        let mut segs = vec!["api", kind.api_segment()];
        segs.extend(repo_segments(id)?);
        if let Some(rev) = revision {
            check_revision(rev)?;
            segs.extend(["revision", rev]);
        }
        let mut url = self.url(Service::Hub, &segs);
        if !expand.is_empty() {
            let mut q = url.query_pairs_mut();
            for e in expand {
                q.append_pair("expand[]", e);
            }
        }
        let ctx = self.repo_ctx(kind, id, revision, None, token);
        Ok(self.fetch_json(url, token, Service::Hub, ctx).await?.0)
    }

    /// Repository info (typed by kind).
    pub async fn repo_info(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        token: Option<&Token>,
    ) -> Result<RepoInfo, HubError> {
        let v = self.repo_info_json(kind, id, revision, &[], token).await?;
        let shape_err = |e: serde_json::Error| HubError::invalid_response(format!("unexpected repo info ({e})"));
        Ok(match kind {
            RepoKind::Model => RepoInfo::Model(serde_json::from_value(v).map_err(shape_err)?),
            RepoKind::Dataset => RepoInfo::Dataset(serde_json::from_value(v).map_err(shape_err)?),
            RepoKind::Space => RepoInfo::Space(serde_json::from_value(v).map_err(shape_err)?),
        })
    }

    pub async fn model_info(
        &self,
        id: &str,
        revision: Option<&str>,
        token: Option<&Token>,
    ) -> Result<ModelInfo, HubError> {
        match self.repo_info(RepoKind::Model, id, revision, token).await? {
            RepoInfo::Model(m) => Ok(m),
            _ => unreachable!("kind-dispatched"),
        }
    }

    pub async fn dataset_info(
        &self,
        id: &str,
        revision: Option<&str>,
        token: Option<&Token>,
    ) -> Result<DatasetInfo, HubError> {
        match self.repo_info(RepoKind::Dataset, id, revision, token).await? {
            RepoInfo::Dataset(d) => Ok(d),
            _ => unreachable!("kind-dispatched"),
        }
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
        let req = Req {
            method: Method::GET,
            url,
            token,
            accept: Some("application/json"),
            range: None,
            identity_encoding: false,
            service: Service::Hub,
            ctx,
            ok_statuses: &[304],
            if_none_match: etag,
        };
        let resp = self.send(&req).await?;
        if resp.status().as_u16() == 304 {
            return Ok(Conditional::NotModified);
        }
        let new_etag = resp.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = self.read_capped(resp, self.config().max_json_bytes, token).await?;
        let value =
            serde_json::from_slice(&body).map_err(|e| HubError::invalid_response(format!("invalid JSON ({e})")))?;
        Ok(Conditional::Fresh { value, etag: new_etag })
    }

    pub async fn space_info(
        &self,
        id: &str,
        revision: Option<&str>,
        token: Option<&Token>,
    ) -> Result<SpaceInfo, HubError> {
        match self.repo_info(RepoKind::Space, id, revision, token).await? {
            RepoInfo::Space(s) => Ok(s),
            _ => unreachable!("kind-dispatched"),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Files
    // -----------------------------------------------------------------------------------------

    /// List files/folders under `path` (root if `None`) at `revision` (default `main`).
    #[allow(clippy::too_many_arguments)]
    pub async fn list_tree(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: Option<&str>,
        options: TreeOptions,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<TreeEntry>, HubError> {
        let rev = revision.unwrap_or("main");
        check_revision(rev)?;
        let mut segs = vec!["api", kind.api_segment()];
        segs.extend(repo_segments(id)?);
        segs.extend(["tree", rev]);
        segs.extend(path_segments(path.unwrap_or(""))?);
        let mut url = self.url(Service::Hub, &segs);
        {
            let mut q = url.query_pairs_mut();
            if options.recursive {
                q.append_pair("recursive", "true");
            }
            if options.expand {
                q.append_pair("expand", "true");
            }
        }
        let ctx = self.repo_ctx(kind, id, Some(rev), path, token);
        self.paginate(url, max_items, token, Service::Hub, ctx).await
    }

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

    /// Read the first `max_bytes` of a file (`truncated` tells whether there is more).
    pub async fn read_file(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: &str,
        max_bytes: u64,
        token: Option<&Token>,
    ) -> Result<FileContent, HubError> {
        self.read_file_range(kind, id, revision, path, 0, max_bytes, token).await
    }

    /// Read up to `max_bytes` of a file starting at byte `offset` (HTTP `Range`).
    /// `max_bytes == 0` only reports the size (HEAD).
    #[allow(clippy::too_many_arguments)]
    pub async fn read_file_range(
        &self,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: &str,
        offset: u64,
        max_bytes: u64,
        token: Option<&Token>,
    ) -> Result<FileContent, HubError> {
        let url = self.resolve_url(kind, id, revision, path)?;
        let ctx = self.repo_ctx(kind, id, revision, Some(path), token);
        let head_only = max_bytes == 0;
        let req = Req {
            method: if head_only { Method::HEAD } else { Method::GET },
            url,
            token,
            accept: None,
            range: (!head_only).then(|| format!("bytes={offset}-{}", offset.saturating_add(max_bytes - 1))),
            identity_encoding: true,
            service: Service::Hub,
            ctx,
            ok_statuses: &[416],
            if_none_match: None,
        };
        let mut resp = self.send(&req).await?;
        let status = resp.status().as_u16();
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
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| super::error::from_transport(&e, self.config().timeout, "the Hub").scrubbed(token))?
        {
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
        out.truncated = match out.total_size {
            Some(total) => offset + (out.bytes.len() as u64) < total,
            None => more,
        };
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // Users
    // -----------------------------------------------------------------------------------------

    /// `GET /api/whoami-v2` for `token`.
    pub async fn whoami(&self, token: &Token) -> Result<WhoAmI, HubError> {
        let url = self.url(Service::Hub, &["api", "whoami-v2"]);
        let ctx = self.what_ctx("account of this token".into(), Some(token));
        self.fetch_typed(url, Some(token), Service::Hub, ctx).await
    }

    // -----------------------------------------------------------------------------------------
    // Papers
    // -----------------------------------------------------------------------------------------

    pub async fn search_papers(
        &self,
        query: &str,
        limit: Option<usize>,
        token: Option<&Token>,
    ) -> Result<Vec<PaperSearchHit>, HubError> {
        if query.trim().is_empty() {
            return Err(HubError::invalid_input("A search query is required."));
        }
        let mut url = self.url(Service::Hub, &["api", "papers", "search"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("q", query.trim());
            if let Some(l) = limit {
                q.append_pair("limit", &l.clamp(1, 120).to_string());
            }
        }
        let ctx = self.what_ctx("paper search".into(), token);
        let v = self.fetch_json(url, token, Service::Hub, ctx).await?.0;
        let mut items = typed_page::<PaperSearchHit>(array_page(v)?)?.items;
        if let Some(l) = limit {
            items.truncate(l);
        }
        Ok(items)
    }

    /// Daily papers, following pages (`Link` or `p=`) up to `max_items`.
    pub async fn daily_papers(
        &self,
        params: &DailyPapersParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<DailyPaper>, HubError> {
        let mut url = self.url(Service::Hub, &["api", "daily_papers"]);
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [
                ("date", &params.date),
                ("week", &params.week),
                ("month", &params.month),
                ("submitter", &params.submitter),
                ("sort", &params.sort),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("p", "0");
            let limit = params.page_size.unwrap_or_else(|| max_items.min(100)).clamp(1, 100);
            q.append_pair("limit", &limit.to_string());
        }
        let ctx = self.what_ctx("daily papers".into(), token);
        self.paginate(url, max_items, token, Service::Hub, ctx).await
    }

    /// `GET /api/papers/{arxiv_id}`.
    pub async fn paper(&self, arxiv_id: &str, token: Option<&Token>) -> Result<Paper, HubError> {
        let id = arxiv_id.trim();
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(HubError::invalid_input(format!(
                "Invalid paper id '{arxiv_id}': expected an arXiv id like '2407.21783'."
            )));
        }
        let url = self.url(Service::Hub, &["api", "papers", id]);
        let ctx = self.what_ctx(format!("paper '{id}'"), token);
        self.fetch_typed(url, token, Service::Hub, ctx).await
    }

    // -----------------------------------------------------------------------------------------
    // Docs
    // -----------------------------------------------------------------------------------------

    /// Semantic docs search (`/api/docs/search`).
    pub async fn search_docs(
        &self,
        query: &str,
        product: Option<&str>,
        limit: Option<usize>,
        token: Option<&Token>,
    ) -> Result<Vec<DocsSearchHit>, HubError> {
        if query.trim().is_empty() {
            return Err(HubError::invalid_input("A search query is required."));
        }
        let mut url = self.url(Service::Hub, &["api", "docs", "search"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("q", query.trim());
            if let Some(l) = limit {
                q.append_pair("limit", &l.clamp(1, 100).to_string());
            }
            if let Some(p) = product.filter(|p| !p.is_empty()) {
                q.append_pair("product", p);
            }
        }
        let ctx = self.what_ctx("documentation search".into(), token);
        let v = self.fetch_json(url, token, Service::Hub, ctx).await?.0;
        Ok(typed_page::<DocsSearchHit>(array_page(v)?)?.items)
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
            method: Method::GET,
            url: url.clone(),
            token: None,
            accept: Some("text/markdown, text/plain;q=0.9, text/html;q=0.5"),
            range: None,
            identity_encoding: false,
            service: Service::Hub,
            ctx,
            ok_statuses: &[],
            if_none_match: None,
        };
        let mut resp = self.send(&req).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let total = resp.content_length();
        let mut bytes = Vec::new();
        let mut truncated = false;
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| super::error::from_transport(&e, self.config().timeout, "the Hub"))?
        {
            let room = max_bytes - bytes.len();
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
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
    // Collections
    // -----------------------------------------------------------------------------------------

    pub async fn collections(
        &self,
        params: &CollectionsParams,
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<Collection>, HubError> {
        let mut url = self.url(Service::Hub, &["api", "collections"]);
        {
            let mut q = url.query_pairs_mut();
            if let Some(o) = params.owner.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("owner", o);
            }
            for i in &params.items {
                q.append_pair("item", i);
            }
            if let Some(s) = params.q.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("q", s);
            }
            if let Some(s) = params.sort.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("sort", s);
            }
            let limit = params.page_size.unwrap_or_else(|| max_items.min(100)).clamp(1, 100);
            q.append_pair("limit", &limit.to_string());
        }
        let ctx = self.what_ctx("collection listing".into(), token);
        self.paginate(url, max_items, token, Service::Hub, ctx).await
    }

    /// `GET /api/collections/{namespace}/{slug}`.
    pub async fn collection(&self, slug: &str, token: Option<&Token>) -> Result<Collection, HubError> {
        let segs: Vec<&str> = slug.trim().trim_matches('/').split('/').collect();
        if segs.len() != 2 || !segs.iter().all(|s| valid_name_segment(s)) {
            return Err(HubError::invalid_input(format!(
                "Invalid collection slug '{slug}': expected 'namespace/title-id'."
            )));
        }
        let url = self.url(Service::Hub, &["api", "collections", segs[0], segs[1]]);
        let ctx = self.what_ctx(format!("collection '{slug}'"), token);
        self.fetch_typed(url, token, Service::Hub, ctx).await
    }

    // -----------------------------------------------------------------------------------------
    // Discovery
    // -----------------------------------------------------------------------------------------

    /// `GET /api/spaces/semantic-search`.
    pub async fn space_semantic_search(
        &self,
        params: &SpaceSearchParams,
        token: Option<&Token>,
    ) -> Result<Vec<SpaceSearchHit>, HubError> {
        if params.query.trim().is_empty() {
            return Err(HubError::invalid_input("A search query is required."));
        }
        let mut url = self.url(Service::Hub, &["api", "spaces", "semantic-search"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("q", params.query.trim());
            if let Some(s) = params.sdk.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("sdk", s);
            }
            for f in &params.filters {
                q.append_pair("filter", f);
            }
            if params.include_non_running {
                q.append_pair("includeNonRunning", "true");
            }
            if let Some(l) = params.limit {
                q.append_pair("limit", &l.clamp(1, 100).to_string());
            }
        }
        let ctx = self.what_ctx("Space search".into(), token);
        let v = self.fetch_json(url, token, Service::Hub, ctx).await?.0;
        let mut hits = typed_page::<SpaceSearchHit>(array_page(v)?)?.items;
        if let Some(l) = params.limit {
            hits.truncate(l);
        }
        Ok(hits)
    }

    /// `GET /api/trending?type=...&limit=...` (`kind = None` → all types).
    pub async fn trending(
        &self,
        kind: Option<RepoKind>,
        limit: usize,
        token: Option<&Token>,
    ) -> Result<Vec<TrendingItem>, HubError> {
        let mut url = self.url(Service::Hub, &["api", "trending"]);
        url.query_pairs_mut()
            .append_pair("type", kind.map(RepoKind::as_str).unwrap_or("all"))
            .append_pair("limit", &limit.clamp(1, 100).to_string());
        let ctx = self.what_ctx("trending listing".into(), token);
        let v = self.fetch_json(url, token, Service::Hub, ctx).await?.0;
        let list = match v {
            Value::Object(mut m) => m.remove("recentlyTrending").unwrap_or(Value::Null),
            other => other,
        };
        let mut items = typed_page::<TrendingItem>(array_page(list)?)?.items;
        items.truncate(limit);
        Ok(items)
    }

    // -----------------------------------------------------------------------------------------
    // Raw pass-through
    // -----------------------------------------------------------------------------------------

    fn raw_url(&self, service: Service, path: &str, query: &[(&str, &str)]) -> Result<Url, HubError> {
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

    /// GET any Hub JSON endpoint (`path` like `/api/models/owner/name`), with retries and error
    /// mapping. Path segments may be percent-encoded.
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)], token: Option<&Token>) -> Result<Value, HubError> {
        let url = self.raw_url(Service::Hub, path, query)?;
        let ctx = self.what_ctx(format!("Hub resource {path}"), token);
        Ok(self.fetch_json(url, token, Service::Hub, ctx).await?.0)
    }

    /// Like [`Self::get_json`] for array endpoints, following `Link` pages up to `max_items`.
    pub async fn paginate_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        max_items: usize,
        token: Option<&Token>,
    ) -> Result<Page<Value>, HubError> {
        let url = self.raw_url(Service::Hub, path, query)?;
        let ctx = self.what_ctx(format!("Hub resource {path}"), token);
        self.paginate_values(url, max_items, token, Service::Hub, ctx).await
    }

    /// GET any datasets-server JSON endpoint (`path` like `/splits`).
    pub async fn datasets_server_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: Option<&Token>,
    ) -> Result<Value, HubError> {
        let url = self.raw_url(Service::DatasetsServer, path, query)?;
        let dataset = query.iter().find(|(k, _)| *k == "dataset").map(|(_, v)| v.to_string());
        let ctx = match dataset {
            Some(d) => self.repo_ctx(RepoKind::Dataset, &d, None, None, token),
            None => self.what_ctx("dataset viewer resource".into(), token),
        };
        Ok(self.fetch_json(url, token, Service::DatasetsServer, ctx).await?.0)
    }
}

fn array_page(v: Value) -> Result<Page<Value>, HubError> {
    match v {
        Value::Array(items) => Ok(Page { items, truncated: false, next_url: None, skipped: 0 }),
        _ => Err(HubError::invalid_response("expected a JSON array")),
    }
}

/// `bytes 0-99/1234` or `bytes */1234` → 1234.
fn parse_content_range_total(v: &str) -> Option<u64> {
    v.trim().rsplit('/').next()?.trim().parse().ok()
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
            c.raw_url(Service::Hub, "/api/models/a/b/revision/refs%2Fpr%2F1", &[("x", "1")]).unwrap().as_str(),
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
