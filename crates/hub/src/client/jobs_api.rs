//! The Hugging Face Jobs API (`/api/jobs/…`, `/api/scheduled-jobs/…`): JSON calls that
//! create, change or delete (sent once — never retried, a retry could start a second job),
//! reads through the usual retried path, and the log stream (Server-Sent Events), opened here
//! and read by the caller for as long as it wants.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::Method;
use serde_json::Value;

use super::error::{classify, from_transport, ErrorContext, Service};
use super::{error_parts, HubClient, HubError, Token, UpstreamEvent};

impl HubClient {
    fn jobs_ctx(&self, what: String, token: &Token) -> ErrorContext {
        ErrorContext { what: Some(what), ..self.ctx(Some(token)) }
    }

    /// A Jobs API call: `segments` after `/api/` (each percent-encoded here), an optional
    /// JSON body. `what` names the subject in error messages ("job 'abc'"). A `GET` is
    /// retried like every read; anything else is sent exactly once.
    pub async fn jobs_call(
        &self,
        token: &str,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, HubError> {
        let token = Token::new(token).map_err(HubError::unusable_token)?;
        let mut all = vec!["api"];
        all.extend_from_slice(segments);
        let mut url = self.url(Service::Hub, &all);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        let ctx = self.jobs_ctx(what.to_owned(), &token);
        if method == Method::GET {
            let (v, _, _) = self.fetch_json(url, Some(&token), Service::Hub, ctx).await?;
            return Ok(v);
        }
        let started = Instant::now();
        let mut rb = self
            .http()
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, token.authorization_header())
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let host = url.host_str().unwrap_or("the Hub").to_owned();
        let result = match rb.send().await {
            Ok(resp) if resp.status().is_success() => Ok(resp),
            Ok(resp) => Err(classify(error_parts(resp).await, Service::Hub, &ctx)),
            Err(e) => Err(from_transport(&e, self.config().timeout, &host)),
        };
        let (status, outcome) = match &result {
            Ok(r) => (Some(r.status().as_u16()), "ok"),
            Err(e) => (e.status(), UpstreamEvent::outcome_of(e.status(), false)),
        };
        tracing::debug!(%method, url = %url, status, elapsed_ms = started.elapsed().as_millis() as u64, "hub jobs request");
        self.config().hook.emit(UpstreamEvent {
            service: Service::Hub.label(),
            outcome,
            status,
            elapsed: started.elapsed(),
        });
        let resp = result.map_err(|e| e.scrubbed(Some(&token)))?;
        let bytes = self.read_capped(resp, self.config().max_json_bytes, Some(&token)).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| HubError::invalid_response(format!("invalid JSON ({e})")))
    }

    /// Open a job's log stream (`text/event-stream`); the response is read by the caller.
    /// `limit` bounds the whole exchange, whatever the client's usual timeout.
    pub async fn jobs_log_stream(
        &self,
        token: &str,
        namespace: &str,
        job_id: &str,
        tail: Option<usize>,
        limit: Duration,
    ) -> Result<reqwest::Response, HubError> {
        let token = Token::new(token).map_err(HubError::unusable_token)?;
        let mut url = self.url(Service::Hub, &["api", "jobs", namespace, job_id, "logs"]);
        if let Some(t) = tail {
            url.query_pairs_mut().append_pair("tail", &t.to_string());
        }
        let ctx = self.jobs_ctx(format!("logs of job '{job_id}'"), &token);
        // Sent here rather than through `send`: the exchange may outlast the client's usual
        // timeout, and `limit` replaces it.
        let resp = self
            .http()
            .get(url.clone())
            .header(AUTHORIZATION, token.authorization_header())
            .header(ACCEPT, "text/event-stream")
            .timeout(limit)
            .send()
            .await
            .map_err(|e| from_transport(&e, limit, url.host_str().unwrap_or("the Hub")).scrubbed(Some(&token)))?;
        if !resp.status().is_success() {
            return Err(classify(error_parts(resp).await, Service::Hub, &ctx).scrubbed(Some(&token)));
        }
        Ok(resp)
    }
}
