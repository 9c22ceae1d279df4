//! `GET /api/{models,datasets,spaces}`: search, author, filters, sort and direction over the
//! repositories the caller may see, one page at a time.

use axum::response::Response;
use serde_json::{json, Value};

use super::access::can_see;
use super::pagination::paginate;
use super::repr::{expand_keys, list_item};
use crate::catalogue::{catalogue, Kind, Repo};
use crate::util::bad_request;
use crate::Ctx;

fn sort_value(repo: &Repo, key: &str) -> Value {
    match key {
        "id" => json!(repo.id),
        "likes30d" => repo.info.get("likes").cloned().unwrap_or(Value::Null),
        "usedStorage" | "mainSize" => json!(repo.used_storage()),
        other => repo.info.get(other).cloned().unwrap_or(Value::Null),
    }
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

pub(super) fn list_repos(ctx: &Ctx<'_>, kind: Kind) -> Response {
    let cat = catalogue();
    let expand = match expand_keys(ctx, kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if !expand.is_empty() && ctx.query.flag("full") {
        return bad_request("\"expand\" cannot be combined with \"full\"");
    }
    let searches: Vec<String> = ctx.query.all("search", false).into_iter().map(|s| s.to_lowercase()).collect();
    let author = ctx.query.get_ne("author").map(str::to_lowercase);
    let mut filters = ctx.query.all("filter", true);
    for key in ["pipeline_tag", "library", "language", "sdk"] {
        filters.extend(ctx.query.all(key, true));
    }
    let gated = ctx.query.get_ne("gated").map(|g| g == "true" || g == "1");
    let uses_model = ctx.query.get_ne("models");
    let uses_dataset = ctx.query.get_ne("datasets");

    // Repositories callers created are listed with the fixtures.
    let written: Vec<Repo> =
        ctx.store.lock().repos.values().filter(|w| w.kind == kind).map(|w| w.view(&w.refs["main"])).collect();
    let mut repos: Vec<&Repo> = cat
        .repos(kind)
        .repos
        .iter()
        .chain(written.iter())
        .filter(|r| can_see(r, &ctx.caller))
        .filter(|r| searches.iter().all(|s| r.id.to_lowercase().contains(s)))
        .filter(|r| author.as_ref().is_none_or(|a| r.owner.to_lowercase() == *a))
        .filter(|r| {
            let tags = r.tags();
            filters.iter().all(|f| {
                tags.contains(&f.as_str())
                    || tags.iter().any(|t| t.split_once(':').is_some_and(|(_, v)| v == f))
                    || r.str("pipeline_tag") == Some(f)
                    || r.str("library_name") == Some(f)
                    || r.str("sdk") == Some(f)
            })
        })
        .filter(|r| gated.is_none_or(|g| r.gated.is_some() == g))
        .filter(|r| {
            let has = |key: &str, want: Option<&str>| {
                want.is_none_or(|w| {
                    r.info.get(key).and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v.as_str() == Some(w)))
                })
            };
            kind != Kind::Space || (has("models", uses_model) && has("datasets", uses_dataset))
        })
        .collect();

    let sort = ctx.query.get_ne("sort").unwrap_or("trendingScore");
    const SORTS: &[&str] = &[
        "trendingScore",
        "downloads",
        "downloadsAllTime",
        "likes",
        "likes30d",
        "createdAt",
        "lastModified",
        "id",
        "usedStorage",
        "mainSize",
    ];
    if !SORTS.contains(&sort) {
        return bad_request(&format!("\"sort\" must be one of [{}]", SORTS.join(", ")));
    }
    let ascending = ctx.query.get("direction") == Some("1");
    repos.sort_by(|a, b| {
        let o = cmp_values(&sort_value(a, sort), &sort_value(b, sort));
        let o = if ascending { o } else { o.reverse() };
        o.then_with(|| a.id.cmp(&b.id))
    });
    let items = repos.into_iter().map(|r| Value::Object(list_item(ctx, r, &expand))).collect();
    paginate(ctx, items, 1000, 1000)
}
