//! Which redirects the Hub client follows. The Hub redirects downloads to its CDN and
//! renamed repositories to their new name; nothing it says should send this server to an
//! internal address. A redirect to a loopback, private, link-local or otherwise reserved
//! address (in any spelling the URL parser normalizes: `127.1`, `2130706433`,
//! `0x7f000001`, `0177.0.0.1`, `[::ffff:127.0.0.1]`), or to `localhost` / `*.internal`
//! names, is not followed — unless it stays on the host the request started at (a Hub
//! deployment or stand-in on a private network). At most [`MAX_REDIRECTS`] hops.

use reqwest::redirect::{Attempt, Policy};
use url::{Host, Url};

use crate::gradio::net::is_internal_address;

pub const MAX_REDIRECTS: usize = 5;

pub fn policy() -> Policy {
    Policy::custom(decide)
}

fn decide(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().len() >= MAX_REDIRECTS {
        return attempt.error("too many redirects");
    }
    let origin = attempt.previous().first().and_then(Url::host_str).map(str::to_owned);
    let target = attempt.url();
    if internal_host(target) && target.host_str().map(str::to_owned) != origin {
        return attempt.error("redirect to an internal address refused");
    }
    attempt.follow()
}

/// Does the URL name an internal host (by address, or by a name reserved for one)?
pub fn internal_host(url: &Url) -> bool {
    match url.host() {
        None => true,
        Some(Host::Ipv4(v4)) => is_internal_address(v4.into()),
        Some(Host::Ipv6(v6)) => is_internal_address(v6.into()),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal") || d.ends_with(".local")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_hosts_in_every_spelling() {
        for u in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://localhost:8080/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
        ] {
            assert!(internal_host(&Url::parse(u).unwrap()), "{u}");
        }
        for u in ["https://cdn-lfs.hf.co/x", "https://huggingface.co/api/models/x", "http://8.8.8.8/"] {
            assert!(!internal_host(&Url::parse(u).unwrap()), "{u}");
        }
    }
}
