//! Hub failures as tool results: what happened, whether a retry helps and what to do
//! instead, worded for the model from the one [`HubError`] classification.

use super::format::capitalize;
use crate::client::{HubError, HubErrorKind};

/// What to tell the model about a Hub failure: what happened, whether retrying helps,
/// and what to do instead. `subject` names the thing (e.g. "model 'gpt2'").
pub fn explain(err: &HubError, subject: &str) -> String {
    let (what, retry, instead) = match err.kind() {
        HubErrorKind::RepoNotFound if !err.had_token() => (
            format!("{subject} was not found, or it is private and no Hugging Face token was sent"),
            "no".to_owned(),
            "check the id (owner/name) with hub_repo_search; for a private repository, set a token (HF_TOKEN) \
             of an account that can see it"
                .to_owned(),
        ),
        HubErrorKind::RepoNotFound | HubErrorKind::NotFound => (
            format!("{subject} was not found"),
            "no".to_owned(),
            "check the id or path; use hub_repo_search or hf_fs search/ls to find what exists".to_owned(),
        ),
        HubErrorKind::RevisionNotFound => (
            format!("the revision requested for {subject} does not exist"),
            "no".to_owned(),
            "omit the revision (uses main) or use an existing branch, tag or commit".to_owned(),
        ),
        HubErrorKind::EntryNotFound => (
            format!("{subject} has no such file or directory"),
            "no".to_owned(),
            "list the parent directory with hf_fs ls to see which paths exist".to_owned(),
        ),
        HubErrorKind::GatedRepo => (
            format!("{subject} is gated: its files need accepted access conditions"),
            "only after access is granted".to_owned(),
            if err.had_token() {
                "ask the user to request access on the repository page on huggingface.co and accept its conditions; \
                 metadata (hub_repo_details) stays available meanwhile"
                    .to_owned()
            } else {
                "set a Hugging Face token (HF_TOKEN) of an account that accepted the repository's conditions; \
                 metadata (hub_repo_details) stays available meanwhile"
                    .to_owned()
            },
        ),
        HubErrorKind::Unauthorized if err.had_token() => (
            format!("the Hub rejected the Hugging Face token while reading {subject} (invalid or expired)"),
            "not with the same token".to_owned(),
            "ask the user to set a valid token (https://huggingface.co/settings/tokens); public content also works \
             without a token"
                .to_owned(),
        ),
        HubErrorKind::Unauthorized => (
            format!("{subject} requires authentication"),
            "not without a token".to_owned(),
            "ask the user to set a Hugging Face token (HF_TOKEN) with access".to_owned(),
        ),
        HubErrorKind::Forbidden => (
            format!("the token in use is not allowed to read {subject}"),
            "not with the same token".to_owned(),
            "use a token with read access to this resource (fine-grained tokens must include it)".to_owned(),
        ),
        HubErrorKind::RateLimited => (
            format!("the Hub rate-limited the request for {subject}"),
            match err.retry_after() {
                Some(d) => format!("yes, after about {} s", d.as_secs().max(1)),
                None => "yes, after a short wait".to_owned(),
            },
            if err.had_token() {
                "make fewer or smaller requests (lower limit, fewer operations per call)".to_owned()
            } else {
                "a Hugging Face token (HF_TOKEN) gives higher rate limits; make fewer or smaller requests".to_owned()
            },
        ),
        HubErrorKind::Timeout => (
            format!("the Hub did not answer in time for {subject} ({})", err.detail()),
            "yes, it may succeed on a second try".to_owned(),
            "narrow the request (smaller limit, a more specific path or query)".to_owned(),
        ),
        HubErrorKind::ServerError => (
            format!("the Hub is temporarily unavailable for {subject} (HTTP {})", err.status().unwrap_or(503)),
            "yes, in a moment".to_owned(),
            "if it persists, try again later".to_owned(),
        ),
        HubErrorKind::Connection => (
            format!("the Hub could not be reached for {subject}"),
            "yes, in a moment".to_owned(),
            "if it persists, check HF_ENDPOINT and network access".to_owned(),
        ),
        HubErrorKind::CircuitOpen => (
            format!("the Hub is failing right now, so the request for {subject} was not sent ({})", err.detail()),
            format!("yes, after about {} s", err.retry_after().map_or(30, |d| d.as_secs().max(1))),
            "wait: other Hub requests fail the same way until the Hub answers again".to_owned(),
        ),
        HubErrorKind::BadRequest | HubErrorKind::InvalidInput => (
            format!("the Hub rejected the request for {subject}: {}", err.detail()),
            "not with the same arguments".to_owned(),
            "adjust the arguments (e.g. filters, sort, limit)".to_owned(),
        ),
        HubErrorKind::InvalidResponse | HubErrorKind::Other => (
            format!("reading {subject} failed: {}", err.detail()),
            "unlikely to help while the Hub answers this way".to_owned(),
            "try a narrower request".to_owned(),
        ),
    };
    let hub = match (err.status(), err.kind()) {
        (Some(s), k)
            if !matches!(
                k,
                HubErrorKind::BadRequest
                    | HubErrorKind::InvalidInput
                    | HubErrorKind::Timeout
                    | HubErrorKind::ServerError
                    | HubErrorKind::CircuitOpen
            ) =>
        {
            format!(" (Hub: {s} {})", err.detail())
        }
        _ => String::new(),
    };
    format!("{}{hub}.\nRetry: {retry}.\nInstead: {instead}.", capitalize(&what))
}
