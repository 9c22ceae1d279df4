//! Spaces described on the command line (`--space owner/name=subdomain[,private]`), so the
//! stand-in can put a real Space server — a Gradio app started by a test or a benchmark —
//! behind its catalogue without changing the fixtures every other test counts on.
//!
//! Only `GET /api/spaces/{owner}/{name}` (plus `/runtime` and `/host`) answers for them, in
//! the shape of the fixtures' Spaces: a running Gradio Space tagged `mcp-server` on
//! `cpu-basic`. A private one is visible only to tokens of `owner` or of its members, like
//! the catalogue's private repositories.

use serde_json::{json, Value};

use crate::Caller;

/// One Space added on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraSpace {
    /// `owner/name`.
    pub id: String,
    pub subdomain: String,
    pub private: bool,
}

impl ExtraSpace {
    /// Parse `owner/name=subdomain[,private]`.
    pub fn parse(s: &str) -> Result<ExtraSpace, String> {
        let (id, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected owner/name=subdomain[,private]"))?;
        let mut parts = rest.split(',').map(str::trim);
        let subdomain = parts.next().unwrap_or_default().to_owned();
        let (owner, name) = id.split_once('/').ok_or_else(|| format!("{id:?} is not owner/name"))?;
        if owner.is_empty() || name.is_empty() || name.contains('/') {
            return Err(format!("{id:?} is not owner/name"));
        }
        if subdomain.is_empty() || !subdomain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!("{subdomain:?} is not a subdomain label"));
        }
        let mut private = false;
        for p in parts {
            match p {
                "private" => private = true,
                other => return Err(format!("unknown Space option {other:?} (only `private`)")),
            }
        }
        Ok(ExtraSpace { id: id.to_owned(), subdomain, private })
    }

    fn owner(&self) -> &str {
        self.id.split_once('/').map_or("", |(o, _)| o)
    }

    pub(crate) fn visible_to(&self, caller: &Caller) -> bool {
        if !self.private {
            return true;
        }
        match caller.user() {
            Some(u) => u.name == self.owner() || u.orgs.iter().any(|o| o == self.owner()),
            None => false,
        }
    }

    pub(crate) fn runtime(&self) -> Value {
        json!({ "stage": "RUNNING", "hardware": { "current": "cpu-basic", "requested": "cpu-basic" },
                "replicas": { "current": 1, "requested": 1 },
                "domains": [{ "domain": format!("{}.hf.space", self.subdomain), "stage": "READY" }] })
    }

    /// The `/api/spaces/{id}` answer.
    pub(crate) fn info(&self) -> Value {
        let name = self.id.split_once('/').map_or("", |(_, n)| n);
        json!({
            "_id": format!("extra-{}", self.subdomain), "id": self.id, "author": self.owner(),
            "sha": "0000000000000000000000000000000000000000", "lastModified": "2026-01-01T00:00:00.000Z",
            "private": self.private, "gated": false, "disabled": false,
            "host": format!("https://{}.hf.space", self.subdomain), "subdomain": self.subdomain,
            "likes": 0, "sdk": "gradio", "tags": ["gradio", "mcp-server", "region:us"],
            "cardData": { "title": name, "emoji": "🧪", "sdk": "gradio", "app_file": "app.py" },
            "runtime": self.runtime(), "createdAt": "2026-01-01T00:00:00.000Z",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag() {
        let s = ExtraSpace::parse("standin-org/gradio-app=standin-org-gradio-app,private").unwrap();
        assert_eq!(
            (s.id.as_str(), s.subdomain.as_str(), s.private),
            ("standin-org/gradio-app", "standin-org-gradio-app", true)
        );
        assert!(!ExtraSpace::parse("a/b=a-b").unwrap().private);
        for bad in ["a/b", "ab=x", "a/b=X.y", "a/b=x,public", "/b=x"] {
            assert!(ExtraSpace::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(s.info()["subdomain"], "standin-org-gradio-app");
        assert!(!s.visible_to(&Caller::Anonymous));
    }
}
