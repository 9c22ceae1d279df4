//! Outbound requests never reach internal addresses (issue #15, item 6): every loopback,
//! private, link-local and metadata address form is refused as a Space's DNS answer; the
//! address spellings an attacker could write (decimal, octal, hex, IPv6-mapped) are
//! refused as Space hosts and as redirect targets; the Space client follows no redirect;
//! the Hub client follows none to an internal host; the Xet storage address a bucket upload
//! is handed (`casUrl`) obeys the same rule, and the HF token never goes there. A canary
//! listener on 127.0.0.2 proves that refused redirects and addresses connect nowhere.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hubmcp_hub::client::{HubClient, HubClientConfig, Service};
use hubmcp_hub::gradio::net::{is_internal_address, space_client, AllowedAddresses, SpaceNetwork};
use reqwest::dns::{Name, Resolve};

/// Every internal address form, as a resolver might answer.
const INTERNAL: &[&str] = &[
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.0.1",
    "192.168.255.254",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "169.254.170.2",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "fd00::1",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "fec0::1",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a00:1",
    "2002:7f00:1::1",
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378::1",
    "224.0.0.1",
    "255.255.255.255",
];

#[test]
fn every_internal_address_is_classified_internal() {
    for a in INTERNAL {
        assert!(is_internal_address(a.parse().unwrap()), "{a} passed as public");
    }
    for a in ["8.8.8.8", "52.1.2.3", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
        assert!(!is_internal_address(a.parse().unwrap()), "{a} refused");
    }
}

#[tokio::test]
async fn a_space_name_resolving_to_any_internal_address_is_refused() {
    for a in INTERNAL {
        let ip: IpAddr = a.parse().unwrap();
        // `resolve` stands for the DNS answer: the same check runs on whatever DNS says.
        let net = SpaceNetwork { resolve: Some(ip), ..SpaceNetwork::default() };
        let name: Name = "some-space.hf.space".parse().unwrap();
        let err = match net.resolver().resolve(name).await {
            Ok(mut addrs) => panic!("{a} resolved to {:?}", addrs.next()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("refusing to connect"), "{a}: {err}");
    }
}

#[tokio::test]
async fn address_spellings_are_not_space_hosts() {
    let net = SpaceNetwork { resolve: Some("8.8.8.8".parse().unwrap()), ..SpaceNetwork::default() };
    for host in [
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "[::1]",
        "::1",
        "[::ffff:127.0.0.1]",
        "169.254.169.254",
        "metadata.google.internal",
        "localhost",
        "10.0.0.1",
        "hf.space.evil.example",
        "x.hf.space.127.0.0.1.nip.io",
    ] {
        assert!(!net.host_allowed(host), "{host} allowed as a Space host");
        if let Ok(name) = host.parse::<Name>() {
            assert!(net.resolver().resolve(name).await.is_err(), "{host} resolved");
        }
        // As a subdomain label it is refused, or (`2130706433`, `0x7f000001`) becomes a name
        // inside the Space domain, whose DNS answer the resolver then checks.
        if let Ok(u) = net.url(host, "/gradio_api/mcp/") {
            let inside = matches!(u.host(), Some(url::Host::Domain(d)) if d.ends_with(".hf.space"));
            assert!(inside, "{host} became {u}");
        }
    }
}

/// A listener that counts connections (and answers none).
fn canary(ip: &str) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind((ip, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (port, hits)
}

/// A server on 127.0.0.1 answering `GET /r/<n>` with a redirect to `targets[n]` and
/// `/ok` with `{}`.
fn redirector(targets: Vec<String>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = req.split(' ').nth(1).unwrap_or("/").to_owned();
            let resp = match path.strip_prefix("/r/").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => format!(
                    "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    targets[i]
                ),
                None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
                    .to_owned(),
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    port
}

#[tokio::test]
async fn the_hub_client_follows_no_redirect_to_an_internal_host() {
    let (cport, hits) = canary("127.0.0.2");
    let targets: Vec<String> = [
        format!("http://127.0.0.2:{cport}/"),
        format!("http://2130706434:{cport}/"),
        format!("http://0x7f000002:{cport}/"),
        format!("http://0177.0.0.2:{cport}/"),
        format!("http://127.2:{cport}/"),
        format!("http://[::ffff:127.0.0.2]:{cport}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://metadata.google.internal/computeMetadata/v1/".to_owned(),
        format!("http://localhost:{cport}/"),
        "http://10.0.0.1/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        "/ok".to_owned(),
    ]
    .into();
    let n = targets.len();
    let port = redirector(targets);
    let config = HubClientConfig::default()
        .with_endpoint(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    let client = HubClient::new(config).unwrap();
    for i in 0..n - 1 {
        let err = client.get_json(None, Service::Hub, &format!("/r/{i}"), &[]).await.unwrap_err();
        assert!(err.to_string().contains("internal address"), "redirect {i}: {err}");
    }
    // A redirect that stays on the Hub's own host is followed.
    let ok = client.get_json(None, Service::Hub, &format!("/r/{}", n - 1), &[]).await.unwrap();
    assert_eq!(ok, serde_json::json!({}));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a refused redirect reached the canary");
}

#[tokio::test]
async fn the_space_client_follows_no_redirect() {
    let (cport, hits) = canary("127.0.0.2");
    let port = redirector(vec![format!("http://127.0.0.2:{cport}/")]);
    let net = SpaceNetwork {
        scheme: "http".into(),
        port: Some(port),
        resolve: Some("127.0.0.1".parse().unwrap()),
        allow: AllowedAddresses::parse("loopback").unwrap(),
        ..SpaceNetwork::default()
    };
    let client = space_client(&net, Duration::from_secs(3));
    let res = client.get(net.url("a-space", "/r/0").unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // An IP-literal URL never passes the Space policy's resolver: only built URLs are used,
    // and a name outside the domain is refused even when loopback is allowed.
    let name: Name = "localhost".parse().unwrap();
    assert!(net.resolver().resolve(name).await.is_err());
}

/// `(path, Authorization)` of each request seen.
type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A Hub on 127.0.0.1 whose Xet token for bucket `x/<i>` names `cas[i]` as its storage (`{hub}`
/// stands for its own address); any other path (its own `/cas/`) redirects to the canary.
/// Records each request's path and `Authorization`.
fn xet_hub(cas: Vec<String>, canary_port: u16) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let cas: Vec<String> = cas.iter().map(|c| c.replace("{hub}", &format!("127.0.0.1:{port}"))).collect();
    let seen: Seen = Default::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = req.split(' ').nth(1).unwrap_or("/").to_owned();
            let auth = req
                .lines()
                .find_map(|l| l.strip_prefix("authorization: ").or_else(|| l.strip_prefix("Authorization: ")))
                .unwrap_or_default()
                .to_owned();
            record.lock().unwrap().push((path.clone(), auth));
            let index = path.strip_prefix("/api/buckets/x/").and_then(|r| r.split('/').next()?.parse::<usize>().ok());
            let resp = match index {
                Some(i) => {
                    let body = serde_json::json!({ "accessToken": "xet_short_lived", "exp": 4102444800u64, "casUrl": cas[i] })
                        .to_string();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                }
                None => format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.2:{canary_port}/v1/shards\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_bucket_upload_goes_to_no_internal_storage_address_and_never_with_the_hf_token() {
    use xet_format::upload::PreparedXorb;
    let (cport, hits) = canary("127.0.0.2");
    let cas: Vec<String> = vec![
        format!("http://127.0.0.2:{cport}/"),
        format!("http://2130706434:{cport}/"),
        format!("http://[::ffff:127.0.0.2]:{cport}/"),
        "http://169.254.169.254/latest/".to_owned(),
        format!("http://localhost:{cport}/"),
        "http://10.0.0.1/".to_owned(),
        format!("http://user:pw@127.0.0.2:{cport}/"),
        "file:///etc/passwd".to_owned(),
        // On the Hub's own host (allowed), but that storage redirects to the canary.
        "http://{hub}/cas/".to_owned(),
    ];
    let n = cas.len();
    let (port, seen) = xet_hub(cas, cport);
    let config = HubClientConfig::default()
        .with_endpoint(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    let client = HubClient::new(config).unwrap();
    let xorb = || vec![PreparedXorb { hash: xet_format::MerkleHash([7; 32]), bytes: vec![1, 2, 3] }];
    let shard = xet_format::shard::Shard::default();
    for i in 0..n - 1 {
        let err =
            client.upload_to_bucket_xet(Some("hf_caller_token"), &format!("x/{i}"), xorb(), &shard).await.unwrap_err();
        assert!(err.to_string().contains("Xet storage URL"), "casUrl {i}: {err}");
    }
    let last = client.upload_to_bucket_xet(Some("hf_caller_token"), &format!("x/{}", n - 1), xorb(), &shard).await;
    assert!(last.is_err(), "the storage's redirect to an internal address is not followed");
    assert!(seen.lock().unwrap().iter().any(|(p, _)| p.starts_with("/cas/v1/xorbs/default/")), "the xorb was sent");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "an upload reached an internal address");
    for (path, auth) in seen.lock().unwrap().iter() {
        if path.starts_with("/api/") {
            assert_eq!(auth, "Bearer hf_caller_token", "{path}");
        } else {
            assert_eq!(auth, "Bearer xet_short_lived", "the storage got the HF token: {path}");
        }
    }
}
