//! The Hub calls that change something: JSON and NDJSON POSTs (repository creation, the
//! commit API, buckets), the Git LFS upload path, and the existence probe a write makes before
//! it overwrites. They go through `HubClient::send` like every read — same error mapping and
//! token scrubbing — but are never retried (they are not idempotent).
//!
//! LFS uploads PUT the bytes to the URL the Hub's batch answer names (object storage): the
//! caller's token goes only to the Hub's own origin, never to that URL.

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};

use super::error::{ErrorContext, Service};
use super::types::RepoKind;
use super::{HubClient, HubError, HubErrorKind, Req, Token};

/// What a write is about, so error messages name it.
#[derive(Debug, Clone, Copy)]
pub enum WriteTarget<'a> {
    /// A repository, at a revision if known.
    Repo(RepoKind, &'a str, Option<&'a str>),
    /// A storage bucket (`owner/name`).
    Bucket(&'a str),
    /// A namespace-level call (creating something).
    Other(&'a str),
}

/// An object to send through Git LFS.
#[derive(Debug, Clone)]
pub struct LfsObject {
    /// Lower-case hex sha256 of the bytes.
    pub oid: String,
    pub bytes: Bytes,
}

fn parse_token(token: Option<&str>) -> Result<Option<Token>, HubError> {
    token.map(Token::new).transpose().map_err(HubError::unusable_token)
}

impl HubClient {
    fn write_ctx(&self, target: WriteTarget<'_>, token: Option<&Token>) -> ErrorContext {
        match target {
            WriteTarget::Repo(kind, id, rev) => self.repo_ctx(kind, id, rev, None, token),
            WriteTarget::Bucket(id) => self.what(format!("bucket '{id}'"), token),
            WriteTarget::Other(what) => self.what(what.to_owned(), token),
        }
    }

    async fn send_body(
        &self,
        token: Option<&str>,
        segments: &[&str],
        query: &[(&str, String)],
        body: (&'static str, Bytes),
        target: WriteTarget<'_>,
    ) -> Result<Value, HubError> {
        let token = parse_token(token)?;
        let token = token.as_ref();
        let mut url = self.url(Service::Hub, segments);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        let req = Req {
            method: Method::POST,
            body: Some(body),
            ..Req::get_json(url, token, Service::Hub, self.write_ctx(target, token))
        };
        let resp = self.send(&req).await?;
        let bytes = self.read_capped(resp, self.config().max_json_bytes, token).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| HubError::invalid_response(format!("invalid JSON ({e})")))
    }

    /// POST a JSON body to a Hub API path (already split into segments, not encoded).
    pub async fn post_json(
        &self,
        token: Option<&str>,
        segments: &[&str],
        query: &[(&str, String)],
        body: &Value,
        target: WriteTarget<'_>,
    ) -> Result<Value, HubError> {
        let bytes = Bytes::from(serde_json::to_vec(body).expect("JSON serializes"));
        self.send_body(token, segments, query, ("application/json", bytes), target).await
    }

    /// POST an NDJSON body (one JSON value per line): the commit API, bucket batches.
    pub async fn post_ndjson(
        &self,
        token: Option<&str>,
        segments: &[&str],
        query: &[(&str, String)],
        lines: &[Value],
        target: WriteTarget<'_>,
    ) -> Result<Value, HubError> {
        let mut body = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut body, line).expect("JSON serializes");
            body.push(b'\n');
        }
        self.send_body(token, segments, query, ("application/x-ndjson", Bytes::from(body)), target).await
    }

    /// Whether `path` exists at `revision` (a HEAD on its `/resolve/` URL; redirects to
    /// storage are not followed). An unknown revision is an error, a missing file is `false`.
    pub async fn file_exists(
        &self,
        token: Option<&str>,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: &str,
    ) -> Result<bool, HubError> {
        match self.read_file(token, kind, id, revision, path, 0, 0).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == HubErrorKind::EntryNotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `path` exists in bucket `id` (a HEAD on its `/resolve/` URL). A missing bucket is
    /// an error, a missing file is `false`.
    pub async fn bucket_file_exists(&self, token: Option<&str>, id: &str, path: &str) -> Result<bool, HubError> {
        match self.read_bucket_file(token, id, path, 0, 0).await {
            Ok(_) => Ok(true),
            Err(e)
                if e.kind() == HubErrorKind::EntryNotFound
                    || e.status() == Some(404) && e.kind() != HubErrorKind::RepoNotFound =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// POST NDJSON operations to bucket `id`'s batch API. The Hub lists operations it did not
    /// apply in `failed` — in a 200 (some failed) or a 422 (all failed) — which is an error here.
    pub async fn bucket_batch(&self, token: Option<&str>, id: &str, lines: &[Value]) -> Result<(), HubError> {
        let token = parse_token(token)?;
        let token = token.as_ref();
        let (owner, name) = id.split_once('/').ok_or_else(|| HubError::invalid_input("expected owner/name"))?;
        let mut body = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut body, line).expect("JSON serializes");
            body.push(b'\n');
        }
        let url = self.url(Service::Hub, &["api", "buckets", owner, name, "batch"]);
        let req = Req {
            method: Method::POST,
            body: Some(("application/x-ndjson", Bytes::from(body))),
            ok_statuses: &[422],
            ..Req::get_json(url, token, Service::Hub, self.write_ctx(WriteTarget::Bucket(id), token))
        };
        let resp = self.send(&req).await?;
        let status = resp.status().as_u16();
        let bytes = self.read_capped(resp, self.config().max_json_bytes, token).await?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let failed: Vec<String> = answer
            .get("failed")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .map(|x| {
                        let path = x.get("path").and_then(Value::as_str).unwrap_or("?");
                        match x.get("error").and_then(Value::as_str) {
                            Some(e) => format!("{path}: {e}"),
                            None => path.to_owned(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        if failed.is_empty() && status != 422 {
            return Ok(());
        }
        let detail = if failed.is_empty() { "no reason given".to_owned() } else { failed.join("; ") };
        Err(HubError::invalid_response(format!("the bucket batch was not applied ({detail})")).scrubbed(token))
    }

    /// Send `object` through the repository's Git LFS batch API: ask where to upload, PUT the
    /// bytes there (unless the Hub already has them) and verify. The commit that references
    /// the object (an `lfsFile` line) is the caller's next step.
    pub async fn upload_lfs(
        &self,
        token: Option<&str>,
        kind: RepoKind,
        id: &str,
        revision: &str,
        object: &LfsObject,
    ) -> Result<(), HubError> {
        let (owner, name) = id.split_once('/').ok_or_else(|| HubError::invalid_input("expected owner/name"))?;
        let repo_git = format!("{name}.git");
        let mut segments: Vec<&str> = match kind {
            RepoKind::Model => vec![],
            RepoKind::Dataset => vec!["datasets"],
            RepoKind::Space => vec!["spaces"],
        };
        segments.extend([owner, repo_git.as_str(), "info", "lfs", "objects", "batch"]);
        let size = object.bytes.len();
        let request = json!({
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{ "oid": object.oid, "size": size }],
            "hash_algo": "sha256",
            "ref": { "name": revision },
        });
        let body = Bytes::from(serde_json::to_vec(&request).expect("JSON serializes"));
        let answer = self
            .send_body(
                token,
                &segments,
                &[],
                ("application/vnd.git-lfs+json", body),
                WriteTarget::Repo(kind, id, Some(revision)),
            )
            .await?;
        let item = answer.get("objects").and_then(|o| o.get(0)).cloned().unwrap_or(Value::Null);
        if let Some(err) = item.get("error") {
            return Err(HubError::invalid_response(format!(
                "the Hub refused the LFS upload: {}",
                err.get("message").and_then(Value::as_str).unwrap_or("no reason given")
            )));
        }
        let Some(actions) = item.get("actions") else {
            return Ok(()); // Already stored.
        };
        if let Some(upload) = actions.get("upload") {
            self.lfs_action(token, upload, Method::PUT, object.bytes.clone(), "application/octet-stream").await?;
        }
        if let Some(verify) = actions.get("verify") {
            let body = Bytes::from(json!({ "oid": object.oid, "size": size }).to_string());
            self.lfs_action(token, verify, Method::POST, body, "application/vnd.git-lfs+json").await?;
        }
        Ok(())
    }

    /// One LFS action (`{href, header}`): the token is attached only when `href` is on the
    /// Hub's own origin.
    async fn lfs_action(
        &self,
        token: Option<&str>,
        action: &Value,
        method: Method,
        body: Bytes,
        content_type: &'static str,
    ) -> Result<(), HubError> {
        let href = action.get("href").and_then(Value::as_str).unwrap_or_default();
        let url = url::Url::parse(href).map_err(|_| HubError::invalid_response("an LFS action has no valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HubError::invalid_response("an LFS action URL is not http(s)"));
        }
        let mut rb = self.http().request(method, url.clone()).header(CONTENT_TYPE, content_type).body(body);
        if let Some(headers) = action.get("header").and_then(Value::as_object) {
            for (k, v) in headers {
                if let Some(v) = v.as_str() {
                    rb = rb.header(k.as_str(), v);
                }
            }
        }
        let token = parse_token(token)?;
        if let Some(t) = token.as_ref().filter(|_| url.origin() == self.endpoint().origin()) {
            rb = rb.header(AUTHORIZATION, t.authorization_header());
        }
        let resp = rb.send().await.map_err(|e| {
            HubError::invalid_response(format!("the LFS upload failed ({})", e.without_url())).scrubbed(token.as_ref())
        })?;
        if !resp.status().is_success() {
            return Err(HubError::invalid_response(format!(
                "the LFS upload was refused with HTTP {}",
                resp.status().as_u16()
            )));
        }
        Ok(())
    }
}
