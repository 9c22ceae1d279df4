//! A curated list of Spaces for `dynamic_space`'s `discover` operation (hf-mcp-server's
//! `DYNAMIC_SPACE_DATA`): a CSV of `space_id,category,description` lines at a URL the
//! operator chooses, fetched on each `discover` (small, bounded, 10 s).
//!
//! The URL must be `https` unless `ALLOW_PERMISSIVE_URLS` allows `http`; it may not
//! resolve to an internal address unless the Space network allows that address class or
//! trusts the host name (`ALLOW_INTERNAL_ADDRESS_HOSTS`). Redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::discovery::read_capped;
use super::net::{Refused, SpaceNetwork};

/// Where the list lives.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceListSource {
    pub url: Url,
}

impl SpaceListSource {
    /// `url` checked against the scheme policy (`http` only when `allow_http`).
    pub fn parse(url: &str, allow_http: bool) -> Result<Self, String> {
        let url = Url::parse(url.trim()).map_err(|e| format!("DYNAMIC_SPACE_DATA is not a URL: {e}"))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => return Err("DYNAMIC_SPACE_DATA must be https (ALLOW_PERMISSIVE_URLS=true allows http)".into()),
            other => return Err(format!("DYNAMIC_SPACE_DATA: unsupported scheme {other}")),
        }
        if url.host_str().is_none() {
            return Err("DYNAMIC_SPACE_DATA has no host".into());
        }
        Ok(SpaceListSource { url })
    }
}

/// One listed Space.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedSpace {
    pub id: String,
    pub category: String,
    pub description: String,
}

const MAX_BYTES: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The client for the list: any host, addresses checked like Space connections.
pub fn client(net: &SpaceNetwork) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PublicResolver { net: net.clone() }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(crate::client::default_user_agent())
        .build()
        .expect("reqwest client builds")
}

/// Fetch and parse the list.
pub async fn fetch(
    http: &reqwest::Client,
    net: &SpaceNetwork,
    source: &SpaceListSource,
) -> Result<Vec<ListedSpace>, String> {
    // A literal address never reaches the resolver: check it here.
    if let Some(host) = source.url.host_str() {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if !net.internal_host_allowed(bare) {
                net.check_address(ip).map_err(|e| e.to_string())?;
            }
        }
    }
    let resp = http.get(source.url.clone()).send().await.map_err(|e| {
        if e.is_timeout() {
            "timed out".to_owned()
        } else {
            "could not connect".to_owned()
        }
    })?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    let body = read_capped(resp, MAX_BYTES).await?;
    Ok(parse_csv(&String::from_utf8_lossy(&body)))
}

/// `space_id,category,description` lines; the description may be quoted and contain commas.
pub fn parse_csv(text: &str) -> Vec<ListedSpace> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.trim().splitn(3, ',');
            let (id, category, description) = (parts.next()?.trim(), parts.next()?.trim(), parts.next()?.trim());
            let description = description.strip_prefix('"').and_then(|d| d.strip_suffix('"')).unwrap_or(description);
            (!id.is_empty() && !category.is_empty() && !description.is_empty()).then(|| ListedSpace {
                id: id.to_owned(),
                category: category.to_owned(),
                description: description.to_owned(),
            })
        })
        .collect()
}

struct PublicResolver {
    net: SpaceNetwork,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let net = self.net.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Refused(format!("cannot resolve {host}: {e}")))?
                .collect();
            if !net.internal_host_allowed(&host) {
                for a in &addrs {
                    net.check_address(a.ip()).map_err(|e| Refused(format!("{host}: {e}")))?;
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_and_url_policy() {
        let list = parse_csv("a/b,Image Generation,\"Makes, images\"\nc/d,OCR,Reads text\n\nbroken line\n");
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].description, "Makes, images");
        assert_eq!(list[1], ListedSpace { id: "c/d".into(), category: "OCR".into(), description: "Reads text".into() });
        assert!(SpaceListSource::parse("https://example.com/s.csv", false).is_ok());
        assert!(SpaceListSource::parse("http://example.com/s.csv", false).is_err());
        assert!(SpaceListSource::parse("http://example.com/s.csv", true).is_ok());
        assert!(SpaceListSource::parse("file:///etc/passwd", true).is_err());
    }

    #[tokio::test]
    async fn internal_addresses_are_refused_unless_allowed() {
        let net = SpaceNetwork::default();
        let source = SpaceListSource::parse("http://127.0.0.1:9/list.csv", true).unwrap();
        let e = fetch(&client(&net), &net, &source).await.unwrap_err();
        assert!(e.contains("loopback"), "{e}");
    }
}
