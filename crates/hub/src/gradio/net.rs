//! Outbound safety for calls to Spaces: which hosts may be reached, which addresses they
//! may resolve to, and how large an answer may be.
//!
//! * URLs are only ever built as `{scheme}://{subdomain}.{domain}[:{port}]/gradio_api/…`
//!   from a validated subdomain label (`[a-z0-9-]`, no dots), so a Space cannot point the
//!   server at another host; redirects are not followed and proxies from the environment
//!   are not used.
//! * Every connection goes through [`PolicyResolver`]: names outside `*.{domain}` are
//!   refused, and an address that is loopback, private (RFC 1918, unique-local, CGNAT),
//!   link-local, unspecified, multicast or otherwise reserved is refused unless its class is
//!   explicitly allowed. The check is on the resolved address actually connected to, so DNS
//!   rebinding cannot sneak past it.
//! * `resolve` optionally maps every `*.{domain}` name to one address (a local stand-in in
//!   tests, a private ingress in some deployments); the address policy still applies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Address classes that are refused unless allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllowedAddresses {
    pub loopback: bool,
    /// RFC 1918, IPv6 unique-local (fc00::/7), CGNAT (100.64/10).
    pub private: bool,
    /// 169.254/16, fe80::/10.
    pub link_local: bool,
}

impl AllowedAddresses {
    /// Parse `loopback,private,link-local` (also `none`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut a = AllowedAddresses::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "loopback" => a.loopback = true,
                "private" => a.private = true,
                "link-local" | "link_local" | "linklocal" => a.link_local = true,
                "none" => {}
                other => return Err(format!("unknown address class {other:?} (use loopback, private, link-local)")),
            }
        }
        Ok(a)
    }
}

/// Where Spaces live and how to reach them.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceNetwork {
    /// `https` in production; `http` for a local stand-in.
    pub scheme: String,
    /// The Space domain: `{subdomain}.{domain}` (default `hf.space`).
    pub domain: String,
    /// A non-default port (stand-ins).
    pub port: Option<u16>,
    /// Resolve every `*.{domain}` name to this address instead of using DNS.
    pub resolve: Option<IpAddr>,
    pub allow: AllowedAddresses,
    /// Host names (exact, or `*.suffix`) trusted to resolve to any address class
    /// (hf-mcp-server's `ALLOW_INTERNAL_ADDRESS_HOSTS`); lower case, no trailing dot.
    pub internal_hosts: Vec<String>,
}

impl Default for SpaceNetwork {
    fn default() -> Self {
        SpaceNetwork {
            scheme: "https".into(),
            domain: "hf.space".into(),
            port: None,
            resolve: None,
            allow: AllowedAddresses::default(),
            internal_hosts: Vec::new(),
        }
    }
}

/// Why an address or URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Refused {}

/// A Space subdomain: one DNS label of lowercase letters, digits and hyphens.
pub fn valid_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl SpaceNetwork {
    fn domain(&self) -> String {
        self.domain.trim().trim_matches('.').to_ascii_lowercase()
    }

    /// `{scheme}://{subdomain}.{domain}[:port]{path}` for a valid subdomain.
    pub fn url(&self, subdomain: &str, path: &str) -> Result<url::Url, Refused> {
        if !valid_subdomain(subdomain) {
            return Err(Refused(format!("'{subdomain}' is not a valid Space subdomain")));
        }
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let u = format!("{}://{subdomain}.{}{port}{path}", self.scheme, self.domain());
        url::Url::parse(&u).map_err(|_| Refused(format!("cannot build a Space URL for '{subdomain}'")))
    }

    /// Is `host` inside the Space domain (a strict subdomain of it)?
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let domain = self.domain();
        host.strip_suffix(&domain).and_then(|h| h.strip_suffix('.')).is_some_and(valid_subdomain)
    }

    /// Is `host` trusted to resolve to internal addresses?
    pub fn internal_host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.internal_hosts.iter().any(|entry| match entry.strip_prefix("*.") {
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|h| h.len() > 1 && h.ends_with('.')),
            None => host == *entry,
        })
    }

    /// Refuse addresses of classes that are not allowed.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), Refused> {
        match classify(ip) {
            Class::Public => Ok(()),
            Class::Loopback if self.allow.loopback => Ok(()),
            Class::Private if self.allow.private => Ok(()),
            Class::LinkLocal if self.allow.link_local => Ok(()),
            class => Err(Refused(format!("refusing to connect to a {} address", class.describe()))),
        }
    }

    /// The resolver every Space connection uses.
    pub fn resolver(&self) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver { net: self.clone() })
    }
}

/// Is `ip` anything but a public address (loopback, private, link-local, reserved, or an
/// IPv6 form carrying such an IPv4 address)?
pub fn is_internal_address(ip: IpAddr) -> bool {
    classify(ip) != Class::Public
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Public,
    Loopback,
    Private,
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation, benchmarking, reserved.
    Reserved,
}

impl Class {
    fn describe(self) -> &'static str {
        match self {
            Class::Public => "public",
            Class::Loopback => "loopback",
            Class::Private => "private",
            Class::LinkLocal => "link-local",
            Class::Reserved => "reserved",
        }
    }
}

fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            classify_v6(v6)
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let o = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
        Class::Private
    } else if ip.is_link_local() {
        Class::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
    {
        Class::Reserved
    } else {
        Class::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    let s = ip.segments();
    let o = ip.octets();
    // Addresses that carry an IPv4 address a gateway will connect to are as internal as
    // that address: NAT64 (64:ff9b::/96; the local-use 64:ff9b:1::/48 embeds it at a
    // deployment-chosen place, so it is refused) and 6to4 (2002::/16).
    if s[0] == 0x64 && s[1] == 0xff9b {
        return if s[2..6] == [0, 0, 0, 0] {
            classify_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
        } else {
            Class::Reserved
        };
    }
    if s[0] == 0x2002 {
        return classify_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if ip.is_loopback() {
        Class::Loopback
    } else if (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfec0 {
        // Unique-local, and the deprecated site-local fec0::/10.
        Class::Private
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Class::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] == 0)
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])
        || s[0] == 0
    {
        // ::/8 holds the unspecified, loopback, IPv4-compatible and other special forms;
        // 2001::/32 is Teredo (an obfuscated IPv4 inside), 100::/64 discard-only.
        Class::Reserved
    } else {
        Class::Public
    }
}

/// A DNS resolver that enforces [`SpaceNetwork`]'s host and address policy.
pub struct PolicyResolver {
    net: SpaceNetwork,
}

impl PolicyResolver {
    async fn lookup(net: SpaceNetwork, host: String) -> Result<Vec<SocketAddr>, Refused> {
        if !net.host_allowed(&host) {
            return Err(Refused(format!("{host} is outside the Space domain {}", net.domain())));
        }
        let addrs: Vec<SocketAddr> = match net.resolve {
            Some(ip) => vec![SocketAddr::new(ip, 0)],
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Refused(format!("cannot resolve {host}: {e}")))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(Refused(format!("{host} has no address")));
        }
        // Every address must pass: a name mixing public and internal answers is refused,
        // unless the name is trusted with internal addresses.
        if net.internal_host_allowed(&host) {
            return Ok(addrs);
        }
        for a in &addrs {
            net.check_address(a.ip()).map_err(|e| Refused(format!("{host}: {e}")))?;
        }
        Ok(addrs)
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let net = self.net.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = PolicyResolver::lookup(net, host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A reqwest client for Spaces: policy resolver, no redirects, no environment proxies.
pub fn space_client(net: &SpaceNetwork, connect_timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(net.resolver())
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .user_agent(crate::client::default_user_agent())
        .build()
        .expect("reqwest client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_and_hosts() {
        let net = SpaceNetwork::default();
        assert!(valid_subdomain("evalstate-flux1-schnell"));
        for bad in ["", "a.b", "A", "-x", "x-", "a/b", "evil.com#", "a b"] {
            assert!(!valid_subdomain(bad), "{bad}");
        }
        assert_eq!(net.url("abc", "/gradio_api/mcp/").unwrap().as_str(), "https://abc.hf.space/gradio_api/mcp/");
        assert!(net.url("evil.com/x", "/").is_err());
        assert!(net.host_allowed("abc.hf.space"));
        assert!(net.host_allowed("abc.hf.space."));
        assert!(!net.host_allowed("hf.space"));
        assert!(!net.host_allowed("a.b.hf.space"));
        assert!(!net.host_allowed("abc.hf.space.evil.com"));
        assert!(!net.host_allowed("evilhf.space"));
        let local =
            SpaceNetwork { scheme: "http".into(), port: Some(8080), domain: "spaces.test".into(), ..net.clone() };
        assert_eq!(local.url("x", "/p").unwrap().as_str(), "http://x.spaces.test:8080/p");
    }

    #[test]
    fn address_classes() {
        let net = SpaceNetwork::default();
        let refused = |s: &str| net.check_address(s.parse().unwrap()).is_err();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
            "::",
            "::127.0.0.1",
            "fec0::1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:a9fe:a9fe::",
            "2001:0:4136:e378::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "52.1.2.3", "64:ff9b::808:808", "2002:808:808::"] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
        let lo = SpaceNetwork { allow: AllowedAddresses::parse("loopback").unwrap(), ..net };
        assert!(lo.check_address("127.0.0.1".parse().unwrap()).is_ok());
        assert!(lo.check_address("10.0.0.1".parse().unwrap()).is_err());
        assert!(AllowedAddresses::parse("loopback,bogus").is_err());
    }

    #[tokio::test]
    async fn resolver_applies_the_policy() {
        let net = SpaceNetwork { resolve: Some("127.0.0.1".parse().unwrap()), ..SpaceNetwork::default() };
        let e = PolicyResolver::lookup(net.clone(), "abc.hf.space".into()).await.unwrap_err();
        assert!(e.0.contains("loopback"), "{e}");
        let e = PolicyResolver::lookup(net.clone(), "example.com".into()).await.unwrap_err();
        assert!(e.0.contains("outside the Space domain"), "{e}");
        let ok = SpaceNetwork { allow: AllowedAddresses { loopback: true, ..Default::default() }, ..net.clone() };
        let a = PolicyResolver::lookup(ok, "abc.hf.space".into()).await.unwrap();
        assert_eq!(a[0].ip().to_string(), "127.0.0.1");
        // ALLOW_INTERNAL_ADDRESS_HOSTS: a trusted name may resolve internally, others not.
        let trusted = SpaceNetwork { internal_hosts: vec!["*.hf.space".into()], ..net.clone() };
        assert!(PolicyResolver::lookup(trusted.clone(), "abc.hf.space".into()).await.is_ok());
        let one = SpaceNetwork { internal_hosts: vec!["abc.hf.space".into()], ..net };
        assert!(PolicyResolver::lookup(one.clone(), "abc.hf.space".into()).await.is_ok());
        assert!(PolicyResolver::lookup(one, "xyz.hf.space".into()).await.is_err());
    }
}
