//! The Hub API proper, routed by path: repositories (listing, info, trees, files), users,
//! trending, search, papers, docs and collections — one module per family of routes — and
//! what callers write (repositories, commits, LFS objects, buckets: `store` and the modules
//! on it), the only routes taking other methods than GET and HEAD.

mod access;
mod buckets;
mod collections;
mod commit;
mod daily_papers;
mod docs_pages;
mod docs_search;
mod files;
pub(crate) mod jobs;
mod lfs;
mod listing;
mod pagination;
mod papers;
mod repo;
mod repo_create;
mod repr;
mod semantic_search;
pub(crate) mod store;
mod tree;
mod trending;
mod whoami;
mod write_access;
mod written;
pub(crate) mod xet;
mod xet_recon;
mod xet_store;

use axum::http::{Method, StatusCode};
use axum::response::Response;

use collections::{collection_detail, collection_history, collections_list};
use daily_papers::daily_papers;
use docs_pages::docs_page;
use docs_search::{docs_full_text, docs_search};
use files::{cdn, resolve};
use listing::list_repos;
use papers::{paper_detail, papers_search};
use repo::repo_routes;
use semantic_search::semantic_search;
use trending::trending;
use whoami::whoami;

use crate::catalogue::Kind;
use crate::util::{decode_segment, not_found_route};
use crate::Ctx;
pub(crate) use access::{can_see, has_gated_access};

/// A route's answer: `Err` is the Hub's error response for a bad request (so handlers can use `?`).
type Answer = Result<Response, Response>;

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Response {
    let mut segs: Vec<String> = ctx.path.split('/').skip(1).map(decode_segment).collect();
    while segs.last().is_some_and(|s| s.is_empty()) && segs.len() > 1 {
        segs.pop();
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    // Written state first: buckets, LFS, and the repositories callers created.
    match s.as_slice() {
        ["api", "buckets", rest @ ..] => return buckets::api(ctx, rest).unwrap_or_else(|error| error),
        ["buckets", ..] => return buckets::resolve(ctx, &segs[1..]),
        ["__lfs", ..] => return lfs::object(ctx, &segs[1..]),
        ["api", rest @ ..] => {
            if let Some(answer) = written::api(ctx, rest) {
                return answer.unwrap_or_else(|error| error);
            }
        }
        _ => {
            let (kind, rest) = match s.first() {
                Some(&"datasets") => (Kind::Dataset, &segs[1..]),
                Some(&"spaces") => (Kind::Space, &segs[1..]),
                _ => (Kind::Model, &segs[..]),
            };
            if let Some(resp) = lfs::batch(ctx, kind, rest).or_else(|| written::resolve(ctx, kind, rest)) {
                return resp;
            }
        }
    }
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return crate::util::hub_error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed");
    }
    match segs.first().map(String::as_str) {
        Some("api") => api(ctx, &segs[1..]).unwrap_or_else(|error| error),
        Some("docs") => docs_page(ctx, &segs[1..]),
        Some("__cdn") => cdn(ctx, &segs[1..]),
        Some("datasets") => resolve(ctx, Kind::Dataset, &segs[1..]),
        Some("spaces") => resolve(ctx, Kind::Space, &segs[1..]),
        Some("") | None => not_found_route(),
        Some(_) => resolve(ctx, Kind::Model, &segs),
    }
}

fn api(ctx: &Ctx<'_>, segs: &[String]) -> Answer {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["whoami-v2"] => Ok(whoami(ctx)),
        ["trending"] => trending(ctx),
        ["spaces", "semantic-search"] => semantic_search(ctx),
        [kind] if Kind::from_plural(kind).is_some() => Ok(list_repos(ctx, Kind::from_plural(kind).expect("checked"))),
        [kind, rest @ ..] if Kind::from_plural(kind).is_some() && !rest.is_empty() => {
            Ok(repo_routes(ctx, Kind::from_plural(kind).expect("checked"), &segs[1..]))
        }
        ["papers", "search"] => papers_search(ctx),
        ["papers", id] => Ok(paper_detail(id)),
        ["daily_papers"] => daily_papers(ctx),
        ["docs", "search"] => docs_search(ctx),
        ["docs", "search", "full-text"] => docs_full_text(ctx),
        ["collections"] => Ok(collections_list(ctx)),
        ["collections", ns, slug] => Ok(collection_detail(ctx, &format!("{ns}/{slug}"))),
        ["collections", ns, slug, "history"] => Ok(collection_history(ctx, &format!("{ns}/{slug}"))),
        _ => Ok(not_found_route()),
    }
}
