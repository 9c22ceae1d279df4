//! Collections: `GET /api/collections` (filters, sort, at most four items each) and
//! `GET /api/collections/{namespace}/{slug}`, items limited to what the caller may see.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::access::can_see;
use super::pagination::paginate;
use super::papers::thumbnail;
use super::repr::insert_repo_data;
use crate::catalogue::{catalogue, CollectionRec, Kind};
use crate::util::{bad_request, hub_error, ok_json};
use crate::{Caller, Ctx};

fn can_see_collection(c: &CollectionRec, caller: &Caller) -> bool {
    !c.private || caller.user().is_some_and(|u| u.name == c.owner || u.orgs.contains(&c.owner))
}

fn collection_item(item: &Map<String, Value>, position: usize, caller: &Caller) -> Option<Value> {
    let cat = catalogue();
    let ty = item.get("type").and_then(Value::as_str)?;
    let id = item.get("id").and_then(Value::as_str)?;
    let mut m = Map::new();
    m.insert("_id".into(), item.get("_id").cloned().unwrap_or(Value::Null));
    m.insert("id".into(), json!(id));
    m.insert("type".into(), json!(ty));
    m.insert("position".into(), json!(position));
    if let Some(n) = item.get("note") {
        m.insert("note".into(), n.clone());
    }
    match ty {
        "paper" => {
            let p = cat.paper(id)?;
            for k in ["title", "publishedAt", "upvotes"] {
                if let Some(v) = p.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            m.insert("thumbnailUrl".into(), json!(thumbnail(id)));
        }
        _ => {
            let kind = Kind::from_singular(ty)?;
            let repo = cat.repos(kind).get(id)?;
            if !can_see(repo, caller) {
                return None;
            }
            insert_repo_data(&mut m, repo);
            if kind == Kind::Space {
                for (k, ck) in
                    [("title", "title"), ("emoji", "emoji"), ("colorFrom", "colorFrom"), ("colorTo", "colorTo")]
                {
                    if let Some(v) = repo.card(ck) {
                        m.insert(k.into(), v.clone());
                    }
                }
                m.insert("sdk".into(), repo.info.get("sdk").cloned().unwrap_or(Value::Null));
                m.insert("runtime".into(), json!({"stage": repo.runtime_stage()}));
            }
        }
    }
    Some(Value::Object(m))
}

fn render_collection(c: &CollectionRec, caller: &Caller, max_items: Option<usize>) -> Value {
    let cat = catalogue();
    let mut out = Map::new();
    for (k, v) in &c.raw {
        if k == "owner" {
            out.insert(
                "owner".into(),
                cat.collection_owners.get(&c.owner).cloned().unwrap_or_else(|| json!({"name": c.owner})),
            );
            let items: Vec<Value> = c
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| collection_item(it, i, caller))
                .take(max_items.unwrap_or(usize::MAX))
                .collect();
            out.insert("items".into(), Value::Array(items));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("isUpvotedByUser".into(), json!(false));
    out.insert("shareUrl".into(), json!(format!("https://huggingface.co/collections/{}", c.slug)));
    Value::Object(out)
}

pub(super) fn collections_list(ctx: &Ctx<'_>) -> Response {
    let cat = catalogue();
    let owner = ctx.query.get_ne("owner");
    let q = ctx.query.get_ne("q").map(str::to_lowercase);
    let items_filter = ctx.query.all("item", false);
    let mut cols: Vec<&CollectionRec> = cat
        .collections
        .iter()
        .filter(|c| can_see_collection(c, &ctx.caller))
        .filter(|c| owner.is_none_or(|o| c.owner == o))
        .filter(|c| {
            q.as_ref().is_none_or(|q| {
                c.raw.get("title").and_then(Value::as_str).is_some_and(|t| t.to_lowercase().contains(q.as_str()))
            })
        })
        .filter(|c| {
            items_filter.iter().all(|want| {
                let (ty, id) = want.split_once('/').unwrap_or(("", want.as_str()));
                let ty = ty.trim_end_matches('s');
                c.items.iter().any(|it| {
                    it.get("type").and_then(Value::as_str) == Some(ty)
                        && it.get("id").and_then(Value::as_str) == Some(id)
                })
            })
        })
        .collect();
    match ctx.query.get_ne("sort").unwrap_or("lastModified") {
        "lastModified" => cols.sort_by(|a, b| {
            b.raw.get("lastUpdated").and_then(Value::as_str).cmp(&a.raw.get("lastUpdated").and_then(Value::as_str))
        }),
        "trending" | "upvotes" => cols.sort_by(|a, b| {
            b.raw.get("upvotes").and_then(Value::as_i64).cmp(&a.raw.get("upvotes").and_then(Value::as_i64))
        }),
        other => {
            return bad_request(&format!("\"sort\" must be one of [lastModified, trending, upvotes], got \"{other}\""))
        }
    }
    let items = cols.into_iter().map(|c| render_collection(c, &ctx.caller, Some(4))).collect();
    paginate(ctx, items, 10, 100)
}

/// `GET /api/collections/{namespace}/{slug}/history`: a modelled change log (one
/// `add_item` event per item, in order, at the collection's `lastUpdated`).
pub(super) fn collection_history(ctx: &Ctx<'_>, slug: &str) -> Response {
    match catalogue().collections.iter().find(|c| c.slug == slug && can_see_collection(c, &ctx.caller)) {
        Some(c) => {
            let at = c.raw.get("lastUpdated").cloned().unwrap_or(Value::Null);
            let events: Vec<Value> = c
                .items
                .iter()
                .map(|i| serde_json::json!({ "type": "add_item", "time": at, "item": { "id": i.get("id"), "type": i.get("type") } }))
                .collect();
            ok_json(&serde_json::json!({ "history": events }))
        }
        None => hub_error(StatusCode::NOT_FOUND, None, "Collection not found"),
    }
}

pub(super) fn collection_detail(ctx: &Ctx<'_>, slug: &str) -> Response {
    match catalogue().collections.iter().find(|c| c.slug == slug && can_see_collection(c, &ctx.caller)) {
        Some(c) => ok_json(&render_collection(c, &ctx.caller, None)),
        None => hub_error(StatusCode::NOT_FOUND, None, "Collection not found"),
    }
}
