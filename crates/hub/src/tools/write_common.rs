//! What the tools that change the Hub share: the `hf://` destination they act on
//! (a repository path or a bucket path), and how a refused write is explained — above all
//! which token scope is missing, since a read token is the usual reason.

use mcp_engine::provider::ToolOutput;

use super::hf_fs::repos::{parse_repo_uri, RepoUri};
use super::repo_search::RepoType;
use crate::client::{HubError, HubErrorKind, RepoKind};

/// What a write URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Repo { kind: RepoType, id: String, revision: Option<String>, path: String },
    Bucket { id: String, path: String },
}

impl Target {
    /// `owner/name`.
    pub fn id(&self) -> &str {
        match self {
            Target::Repo { id, .. } | Target::Bucket { id, .. } => id,
        }
    }
    pub fn namespace(&self) -> &str {
        self.id().split('/').next().unwrap_or_default()
    }
    pub fn path(&self) -> &str {
        match self {
            Target::Repo { path, .. } | Target::Bucket { path, .. } => path,
        }
    }
    /// `model`, `dataset`, `space` or `bucket`.
    pub fn repo_type(&self) -> &'static str {
        match self {
            Target::Repo { kind, .. } => kind.client_kind().as_str(),
            Target::Bucket { .. } => "bucket",
        }
    }
    pub fn client_kind(&self) -> Option<RepoKind> {
        match self {
            Target::Repo { kind, .. } => Some(kind.client_kind()),
            Target::Bucket { .. } => None,
        }
    }
}

/// Parse `hf://models|datasets|spaces/OWNER/NAME[@REV][/PATH]` or
/// `hf://buckets/OWNER/NAME[/PATH]`; `field` names the argument in messages.
pub fn parse_target(uri: &str, field: &str) -> Result<Target, String> {
    if !uri.starts_with("hf://") {
        return Err(format!("{field} must start with hf:// (hf://models|datasets|spaces|buckets/OWNER/NAME)."));
    }
    if let Some(rest) = uri.strip_prefix("hf://buckets/") {
        let mut parts = rest.trim_matches('/').splitn(3, '/');
        let (owner, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if owner.is_empty() || name.is_empty() {
            return Err(format!("Bucket id must be 'owner/name', got '{rest}'."));
        }
        if owner.contains('@') || name.contains('@') {
            return Err("Bucket URIs do not support a revision marker ('@').".into());
        }
        let path = parts.next().unwrap_or("").trim_matches('/').to_owned();
        if path.split('/').any(|s| s == "." || s == "..") {
            return Err(format!("{field} must not contain '.' or '..' path segments."));
        }
        return Ok(Target::Bucket { id: format!("{owner}/{name}"), path });
    }
    match parse_repo_uri(uri).map_err(|e| format!("Invalid {field}: {}", e.message))? {
        RepoUri::Namespace { .. } => Err(format!("{field} must point to a repository, not a namespace.")),
        RepoUri::Repo { kind, id, revision, path } => Ok(Target::Repo { kind, id, revision, path }),
    }
}

/// The text every write tool answers when the caller has no token at all.
pub fn no_token(tool: &str) -> ToolOutput {
    ToolOutput::error(format!(
        "{tool} needs a Hugging Face token with write access (the `write` role, or a fine-grained token with \
         `repo.write` on the target namespace). Sign in or set HF_TOKEN; create one at \
         https://huggingface.co/settings/tokens."
    ))
}

/// An `isError` result for a failed write: for 401/403 it names the missing token scope.
pub fn refused(action: &str, namespace: &str, e: &HubError) -> ToolOutput {
    let hub_said = e.server_message().map(|s| format!(" (Hub said: {s})")).unwrap_or_default();
    let text = match (e.kind(), e.status()) {
        (HubErrorKind::Unauthorized, _) | (_, Some(401)) => format!(
            "Cannot {action}: the Hub did not accept the token for writing{hub_said}. Missing: a valid token with \
             write access (the `write` role, or a fine-grained token with `repo.write` on `{namespace}`)."
        ),
        (_, Some(403)) => format!(
            "Cannot {action}: the token lacks write access to `{namespace}`{hub_said}. Missing scope: `write` — use a \
             token with the `write` role, or a fine-grained token with `repo.write` on `{namespace}`, and make sure \
             the account may write in that namespace."
        ),
        (_, Some(409)) => format!("Cannot {action}: conflict{hub_said}."),
        _ => format!("Cannot {action}: {}", e.message()),
    };
    let retry = if e.is_retryable() { "\nRetry: yes, shortly." } else { "" };
    ToolOutput::error(format!("{text}{retry}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("hf://buckets/alice/b/dir/x.txt", "uri"),
            Ok(Target::Bucket { id: "alice/b".into(), path: "dir/x.txt".into() })
        );
        assert!(parse_target("hf://buckets/alice@x/b", "uri").is_err());
        assert!(parse_target("hf://models/alice", "uri").unwrap_err().contains("namespace"));
        let t = parse_target("hf://datasets/alice/d@dev/a/b.csv", "uri").unwrap();
        assert_eq!(t.repo_type(), "dataset");
        assert_eq!(t.path(), "a/b.csv");
        assert!(matches!(t, Target::Repo { revision: Some(ref r), .. } if r == "dev"));
        assert!(parse_target("models/alice/x", "uri").is_err());
    }
}
