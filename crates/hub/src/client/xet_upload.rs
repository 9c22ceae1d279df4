//! Uploading one prepared file to a bucket's Xet storage (CAS): ask the Hub for a write token
//! (`GET /api/buckets/{id}/xet-write-token`, with the caller's HF token), then POST every xorb
//! (`/v1/xorbs/default/{hash}`) and, once all are stored, the shard that registers the file
//! (`/v1/shards`) to the `casUrl` the Hub named. Registering the file in the bucket (the batch
//! `addFile` line) is the caller's next step.
//!
//! Tokens: the HF token goes only to the Hub; the CAS gets the short-lived Xet access token
//! (as `Authorization: Bearer`, a header marked sensitive), held in a [`Token`] so it is never
//! printed, and both are scrubbed from any error.
//!
//! The `casUrl` comes from upstream, so it passes the rule redirects follow
//! ([`super::redirect`]): http(s), no credentials in it, and no internal address unless it is
//! the Hub's own host (a Hub deployment or stand-in on a private network). Redirects from the
//! CAS go through the same client and policy.
//!
//! Xorb and shard uploads are content-addressed (uploading twice stores once), so unlike other
//! writes they are retried like reads; the token request is a GET and is retried as one.

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;
use url::Url;
use xet_format::shard::Shard;
use xet_format::upload::PreparedXorb;

use super::error::{ErrorContext, Service};
use super::redirect::internal_host;
use super::{HubClient, HubError, Req, Token};

/// What the Hub's token endpoint answers: where the CAS is, and the token it takes.
struct XetWriteToken {
    access: Token,
    cas_url: Url,
}

impl HubClient {
    /// Store `file`'s xorbs and shard in the Xet storage of bucket `id` (`owner/name`);
    /// the xorbs' bytes are consumed, the shard is kept (the caller reads the file hash).
    pub async fn upload_to_bucket_xet(
        &self,
        token: Option<&str>,
        id: &str,
        xorbs: Vec<PreparedXorb>,
        shard: &Shard,
    ) -> Result<(), HubError> {
        let xet = self.xet_write_token(token, id).await?;
        let ctx = self.what(format!("the Xet storage of bucket '{id}'"), Some(&xet.access));
        for xorb in xorbs {
            let url = cas_url(&xet.cas_url, &["v1", "xorbs", "default", &xorb.hash.hex()]);
            self.cas_post(&xet.access, url, Bytes::from(xorb.bytes), &ctx).await?;
        }
        let shard = Bytes::from(xet_format::shard::serialize(shard));
        self.cas_post(&xet.access, cas_url(&xet.cas_url, &["v1", "shards"]), shard, &ctx).await?;
        Ok(())
    }

    async fn xet_write_token(&self, token: Option<&str>, id: &str) -> Result<XetWriteToken, HubError> {
        let token = token.map(Token::new).transpose().map_err(HubError::unusable_token)?;
        let (owner, name) = id.split_once('/').ok_or_else(|| HubError::invalid_input("expected owner/name"))?;
        let url = self.url(Service::Hub, &["api", "buckets", owner, name, "xet-write-token"]);
        let ctx = self.what(format!("bucket '{id}'"), token.as_ref());
        let (answer, headers, _) = self.fetch_json(url, token.as_ref(), Service::Hub, ctx).await?;
        // The body's fields, else the same values as `X-Xet-*` response headers.
        let field = |k: &str, header: &str| {
            answer
                .get(k)
                .and_then(Value::as_str)
                .or_else(|| headers.get(header).and_then(|v| v.to_str().ok()))
                .filter(|s| !s.is_empty())
        };
        let access = field("accessToken", "x-xet-access-token")
            .and_then(|t| Token::new(t).ok())
            .ok_or_else(|| HubError::invalid_response("the Xet write token answer has no usable accessToken"))?;
        let cas_url = field("casUrl", "x-xet-cas-url")
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| HubError::invalid_response("the Xet write token answer has no valid casUrl"))?;
        self.check_cas_url(&cas_url)?;
        Ok(XetWriteToken { access, cas_url })
    }

    /// The outbound rule for the upstream-supplied CAS address (see the module doc).
    fn check_cas_url(&self, url: &Url) -> Result<(), HubError> {
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(HubError::invalid_response("the Xet storage URL is not http(s)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HubError::invalid_response("the Xet storage URL carries credentials; refusing it"));
        }
        if internal_host(url) && url.host_str() != self.endpoint().host_str() {
            return Err(HubError::invalid_response("the Xet storage URL names an internal address; refusing it"));
        }
        Ok(())
    }

    /// One CAS upload; its JSON answer (`was_inserted`, `result`) carries nothing we need.
    async fn cas_post(&self, access: &Token, url: Url, body: Bytes, ctx: &ErrorContext) -> Result<(), HubError> {
        let req = Req {
            method: Method::POST,
            body: Some(("application/octet-stream", body)),
            retry_safe: true,
            ..Req::get_json(url, Some(access), Service::Hub, ctx.clone())
        };
        let resp = self.send(&req).await?;
        self.read_capped(resp, self.config().max_json_bytes, Some(access)).await?;
        Ok(())
    }
}

/// `base` + path segments, keeping any path `base` already has.
fn cas_url(base: &Url, segments: &[&str]) -> Url {
    let mut u = base.clone();
    u.set_query(None);
    u.set_fragment(None);
    if let Ok(mut s) = u.path_segments_mut() {
        s.pop_if_empty().extend(segments);
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::HubClientConfig;

    fn client(endpoint: &str) -> HubClient {
        HubClient::new(HubClientConfig { endpoint: Url::parse(endpoint).unwrap(), ..HubClientConfig::default() })
            .unwrap()
    }

    #[test]
    fn cas_urls_keep_their_base_path() {
        let u = cas_url(&Url::parse("https://cas.example/prefix/?x=1").unwrap(), &["v1", "shards"]);
        assert_eq!(u.as_str(), "https://cas.example/prefix/v1/shards");
        let u = cas_url(&Url::parse("https://cas.example").unwrap(), &["v1", "xorbs", "default", "ab"]);
        assert_eq!(u.as_str(), "https://cas.example/v1/xorbs/default/ab");
    }

    #[test]
    fn upstream_cas_urls_obey_the_outbound_rule() {
        let hub = client("https://huggingface.co");
        let ok = |u: &str| hub.check_cas_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://cas-server.xethub.hf.co"));
        for bad in [
            "http://169.254.169.254/latest",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://0x7f000001/",
            "https://user:pw@cas-server.xethub.hf.co/",
            "ftp://cas-server.xethub.hf.co/",
            "file:///etc/passwd",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        // A Hub on a private network may name a CAS on its own host.
        let local = client("http://127.0.0.1:9000");
        assert!(local.check_cas_url(&Url::parse("http://127.0.0.1:9001/").unwrap()).is_ok());
        assert!(local.check_cas_url(&Url::parse("http://10.0.0.1/").unwrap()).is_err());
    }
}
