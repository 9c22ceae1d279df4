//! Who may see a repository, and the Hub's answers when they may not: not found (401 for
//! anonymous callers, who may lack access to a private repo), gated, unknown revision or entry,
//! and the redirect of a renamed repository to its canonical id.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;

use crate::catalogue::Repo;
use crate::util::hub_error;
use crate::{Caller, Ctx};

pub(crate) fn can_see(repo: &Repo, caller: &Caller) -> bool {
    if !repo.private {
        return true;
    }
    match caller.user() {
        Some(u) => u.name == repo.owner || u.orgs.contains(&repo.owner),
        None => false,
    }
}

pub(crate) fn has_gated_access(repo: &Repo, caller: &Caller) -> bool {
    if repo.gated.is_none() {
        return true;
    }
    match caller.user() {
        Some(u) => u.name == repo.owner || u.orgs.contains(&repo.owner) || repo.accepted_by.contains(&u.name),
        None => false,
    }
}

pub(super) fn repo_not_found(caller: &Caller) -> Response {
    // Like the Hub: anonymous callers get 401 (the repo may exist but be private).
    let status = if caller.is_authenticated() { StatusCode::NOT_FOUND } else { StatusCode::UNAUTHORIZED };
    hub_error(status, Some("RepoNotFound"), "Repository not found")
}

pub(super) fn gated_error(repo: &Repo, caller: &Caller) -> Response {
    let url = format!("https://huggingface.co/{}{}", repo.kind.url_prefix(), repo.id);
    if caller.is_authenticated() {
        hub_error(
            StatusCode::FORBIDDEN,
            Some("GatedRepo"),
            &format!(
                "Access to {} {} is restricted and you are not in the authorized list. Visit {url} to ask for access.",
                repo.kind.singular(),
                repo.id
            ),
        )
    } else {
        hub_error(
            StatusCode::UNAUTHORIZED,
            Some("GatedRepo"),
            &format!(
                "Access to {} {} is restricted. You must have access to it and be authenticated to access it. Please log in.",
                repo.kind.singular(),
                repo.id
            ),
        )
    }
}

pub(super) fn revision_not_found(rev: &str) -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("RevisionNotFound"), &format!("Invalid rev id: {rev}"))
}

pub(super) fn entry_not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("EntryNotFound"), "Entry not found")
}

pub(super) fn redirect(status: StatusCode, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(format!("{}. Redirecting to {location}", status.canonical_reason().unwrap_or("Redirect"))))
        .expect("valid response")
}

pub(super) fn with_query(path: String, ctx: &Ctx<'_>) -> String {
    let q = ctx.query.encode();
    if q.is_empty() {
        path
    } else {
        format!("{path}?{q}")
    }
}
