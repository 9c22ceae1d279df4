//! `hf://collections`: curated lists of Hub items, browsed as directories of links.

use serde_json::{json, Value};

use super::model::*;
use super::Fs;
use crate::client::{enc, HubError, Service};
use crate::tools::glob::glob_match;

const GLOBAL_LIMIT: usize = 100;
const MAX_LIMIT: usize = 250;

const README: &str = "# Hugging Face Collections\n\nCollections are curated lists of Hub items (models, datasets, \
Spaces, papers, other collections); they hold links, not files.\n\n- Find collections: `search hf://collections QUERY`\n\
- An owner's collections: `ls hf://collections/OWNER`\n- One collection: `ls hf://collections/OWNER/SLUG` shows \
`metadata.json`, `items` and `history.json`\n- Its metadata: `cat hf://collections/OWNER/SLUG/metadata.json`\n\
- Its history: `cat hf://collections/OWNER/SLUG/history.json`\n- Its items: `ls \
hf://collections/OWNER/SLUG/items`; each item is a link whose `target_uri` is the Hub resource\n";

pub(super) enum CUri {
    Root,
    Readme,
    Owner(String),
    Collection(String, String),
    Child(String, String, String),
    Item(String, String, String),
}

pub(super) fn parse(uri: &str) -> Result<CUri, FsError> {
    let rest = uri.trim_start_matches("hf://collections").trim_matches('/');
    if rest.is_empty() {
        return Ok(CUri::Root);
    }
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(FsError::invalid("URI path must not contain empty segments"));
    }
    let s = |i: usize| segs[i].to_owned();
    Ok(match segs.len() {
        1 if segs[0] == "README.md" => CUri::Readme,
        1 => CUri::Owner(s(0)),
        2 => CUri::Collection(s(0), s(1)),
        3 => CUri::Child(s(0), s(1), s(2)),
        4 if segs[2] == "items" => CUri::Item(s(0), s(1), s(3)),
        _ => {
            return Err(FsError::not_found(
                "no such collection path; a collection contains metadata.json, history.json and items",
            ))
        }
    })
}

fn coll_uri(owner: &str, slug: &str) -> String {
    format!("hf://collections/{}/{}", enc(owner), enc(slug))
}

fn summary_entry(c: &Value, prefix_owner: bool) -> Option<Value> {
    let slug = c.get("slug").and_then(Value::as_str)?;
    let (owner, name) = slug.split_once('/')?;
    let mut e = json!({
        "type": "collection", "name": name,
        "path": if prefix_owner { format!("{owner}/{name}") } else { name.to_owned() },
        "uri": coll_uri(owner, name),
    });
    for (from, to) in [
        ("title", "title"),
        ("description", "description"),
        ("private", "private"),
        ("upvotes", "upvotes"),
        ("lastUpdated", "updated_at"),
    ] {
        if let Some(x) = c.get(from).filter(|x| !x.is_null()) {
            e[to] = x.clone();
        }
    }
    Some(e)
}

fn item_entries(c: &Value, items_uri: &str) -> Vec<Value> {
    let mut items: Vec<Value> = c.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    items.sort_by_key(|i| i.get("position").and_then(Value::as_i64).unwrap_or(0));
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let ty = item.get("type")?.as_str()?;
            let (id, target) = match ty {
                "model" | "dataset" | "space" => {
                    let id = item.get("id")?.as_str()?.to_owned();
                    let t = format!("hf://{ty}s/{id}");
                    (id, t)
                }
                "paper" => {
                    let id = item.get("id")?.as_str()?.to_owned();
                    let t = format!("hf://papers/{id}");
                    (id, t)
                }
                "collection" => {
                    let slug = item.get("slug")?.as_str()?.to_owned();
                    let (o, n) = slug.split_once('/')?;
                    let t = coll_uri(o, n);
                    (slug, t)
                }
                _ => return None,
            };
            let name = format!("{i:03}-{ty}-{}", id.replace('/', "--"));
            let mut e = json!({
                "type": "link", "name": name, "path": name, "uri": format!("{items_uri}/{}", enc(&name)),
                "target_uri": target, "title": item.get("title").and_then(Value::as_str).unwrap_or(&id),
            });
            if let Some(n) = item.get("note").and_then(|n| n.get("text")).and_then(Value::as_str) {
                e["description"] = n.into();
            }
            for (from, to) in [
                ("upvotes", "upvotes"),
                ("likes", "likes"),
                ("downloads", "downloads"),
                ("lastModified", "updated_at"),
                ("private", "private"),
            ] {
                if let Some(x) = item.get(from).filter(|x| !x.is_null()) {
                    e[to] = x.clone();
                }
            }
            Some(e)
        })
        .collect()
}

async fn list(
    fs: &Fs<'_>,
    owner: Option<&str>,
    query: Option<&str>,
    sort: &str,
    limit: usize,
) -> Result<(Vec<Value>, bool), HubError> {
    let mut q: Vec<(&str, String)> = vec![("limit", limit.min(100).to_string()), ("sort", sort.to_owned())];
    if let Some(o) = owner {
        q.push(("owner", o.to_owned()));
    }
    if let Some(s) = query {
        q.push(("q", s.to_owned()));
    }
    let l = fs.up.list(fs.token, "/api/collections", &q, limit).await?;
    Ok((l.items, l.truncated))
}

async fn detail(fs: &Fs<'_>, owner: &str, slug: &str) -> Result<Option<Value>, FsError> {
    match fs.up.get_json(fs.token, Service::Hub, &format!("/api/collections/{}/{}", enc(owner), enc(slug)), &[]).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(FsError::upstream(&e, &format!("collection {owner}/{slug}"))),
    }
}

fn missing(owner: &str, slug: &str) -> FsError {
    FsError::not_found(format!(
        "no such collection {owner}/{slug}; use search hf://collections with query or ls hf://collections/{}",
        enc(owner)
    ))
}

fn filter_ls(p: &Params, entries: Vec<Value>) -> Vec<Value> {
    entries
        .into_iter()
        .filter(|e| {
            p.type_matches(e)
                && p.glob.as_deref().is_none_or(|g| {
                    glob_match(g, e["name"].as_str().unwrap_or("")) || glob_match(g, e["path"].as_str().unwrap_or(""))
                })
        })
        .collect()
}

pub async fn run(fs: &Fs<'_>, p: &Params) -> FsResult {
    if p.op == Op::Attach {
        return Err(FsError::not_a_file("attach requires a direct repository file URI; collections hold links"));
    }
    let limit = p.limit.unwrap_or(DEFAULT_SEARCH_LIMIT).min(MAX_LIMIT);
    let sort = match p.sort.as_deref() {
        None => None,
        Some(s @ ("trending" | "upvotes" | "lastModified")) => Some(s),
        Some(s) => {
            return Err(FsError::invalid(format!("collections sort by trending, upvotes or lastModified, not {s}")))
        }
    };
    match parse(&p.uri)? {
        CUri::Root => match p.op {
            Op::Stat => Ok(stat_result("hf://collections", true, "dir", "collections", vec![])),
            Op::Cat => Err(FsError::not_a_file("hf://collections is a directory; cat hf://collections/README.md")),
            Op::Find => Err(FsError::unsupported("find cannot crawl all collections; use search hf://collections with query, or scope find to hf://collections/OWNER")),
            Op::Search => {
                let query = p.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
                let n = limit.min(GLOBAL_LIMIT);
                let (items, more) = list(fs, None, query, sort.unwrap_or("trending"), n).await.map_err(|e| FsError::upstream(&e, "the collection search"))?;
                let entries: Vec<Value> = items.iter().filter_map(|c| summary_entry(c, true)).filter(|e| p.type_matches(e)).collect();
                Ok(entries_result("hf://collections", Op::Search, entries, more.then_some(("limit", None))))
            }
            Op::Ls | Op::Attach => {
                let n = limit.min(GLOBAL_LIMIT);
                let (items, more) = list(fs, None, None, sort.unwrap_or("trending"), n).await.map_err(|e| FsError::upstream(&e, "the collections"))?;
                let mut entries = vec![json!({ "type": "file", "name": "README.md", "path": "README.md", "uri": "hf://collections/README.md", "content_type": "text/markdown" })];
                entries.extend(items.iter().filter_map(|c| summary_entry(c, true)));
                Ok(entries_result("hf://collections", Op::Ls, filter_ls(p, entries), more.then(|| ("limit", Some("Showing a bounded collection sample; use search hf://collections with query or ls hf://collections/OWNER.".to_owned())))))
            }
        },
        CUri::Readme => match p.op {
            Op::Cat => Ok(cat_text(&p.uri, "README.md", README, Some("text/markdown"), p.offset.unwrap_or(0), p.cat_max_bytes())),
            Op::Stat => Ok(stat_result(&p.uri, true, "file", "README.md", vec![("content_type", "text/markdown".into())])),
            _ => Err(FsError::not_a_directory("hf://collections/README.md is a file; use cat")),
        },
        CUri::Owner(owner) => match p.op {
            Op::Stat => Ok(stat_result(&p.uri, true, "dir", &owner, vec![])),
            Op::Cat => Err(FsError::not_a_file(format!("{} lists collections; use ls", p.uri))),
            Op::Ls | Op::Search | Op::Find | Op::Attach => {
                let query = if p.op == Op::Search { p.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) } else { None };
                let (items, more) = list(fs, Some(&owner), query, sort.unwrap_or("lastModified"), limit)
                    .await
                    .map_err(|e| FsError::upstream(&e, &format!("the collections of '{owner}'")))?;
                let entries: Vec<Value> = items.iter().filter_map(|c| summary_entry(c, false)).collect();
                let entries = if p.op == Op::Find { entries.into_iter().filter(|e| find_matches(p, e, "")).collect() } else { filter_ls(p, entries) };
                Ok(entries_result(&p.uri, p.op, entries, more.then_some(("limit", None))))
            }
        },
        CUri::Collection(owner, slug) => {
            let uri = coll_uri(&owner, &slug);
            let Some(c) = detail(fs, &owner, &slug).await? else {
                return if p.op == Op::Stat { Ok(stat_result(&uri, false, "missing", &format!("{owner}/{slug}"), vec![])) } else { Err(missing(&owner, &slug)) };
            };
            match p.op {
                Op::Stat => Ok(stat_result(&uri, true, "collection", &format!("{owner}/{slug}"), vec![])),
                Op::Cat => Err(FsError::not_a_file(format!("{uri} is a collection directory; use ls {uri}, cat {uri}/metadata.json or {uri}/history.json, or ls {uri}/items"))),
                Op::Search => Err(FsError::unsupported("collection search is supported only on hf://collections or hf://collections/OWNER; use ls or find inside a collection")),
                Op::Ls if !p.recursive => {
                    let entries = vec![
                        json!({ "type": "file", "name": "metadata.json", "path": "metadata.json", "uri": format!("{uri}/metadata.json"), "content_type": "application/json" }),
                        json!({ "type": "dir", "name": "items", "path": "items", "uri": format!("{uri}/items") }),
                        json!({ "type": "file", "name": "history.json", "path": "history.json", "uri": format!("{uri}/history.json"), "content_type": "application/json" }),
                    ];
                    Ok(entries_result(&uri, Op::Ls, filter_ls(p, entries), None))
                }
                _ => {
                    let mut entries = vec![
                        json!({ "type": "file", "name": "metadata.json", "path": "metadata.json", "uri": format!("{uri}/metadata.json"), "content_type": "application/json" }),
                        json!({ "type": "dir", "name": "items", "path": "items", "uri": format!("{uri}/items") }),
                        json!({ "type": "file", "name": "history.json", "path": "history.json", "uri": format!("{uri}/history.json"), "content_type": "application/json" }),
                    ];
                    for mut e in item_entries(&c, &format!("{uri}/items")) {
                        e["path"] = format!("items/{}", e["path"].as_str().unwrap_or("")).into();
                        entries.push(e);
                    }
                    let entries: Vec<Value> = if p.op == Op::Find { entries.into_iter().filter(|e| find_matches(p, e, "")).collect() } else { filter_ls(p, entries) };
                    let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
                    Ok(entries_result(&uri, p.op, entries, truncated.then_some(("entry_limit", None))))
                }
            }
        }
        CUri::Child(owner, slug, child) => {
            let uri = format!("{}/{}", coll_uri(&owner, &slug), enc(&child));
            if child != "metadata.json" && child != "items" && child != "history.json" {
                return Err(FsError::not_found(format!("no such collection child \"{child}\"; valid children are metadata.json, history.json, and items")));
            }
            let Some(c) = detail(fs, &owner, &slug).await? else {
                return if p.op == Op::Stat { Ok(stat_result(&uri, false, "missing", &format!("{owner}/{slug}/{child}"), vec![])) } else { Err(missing(&owner, &slug)) };
            };
            let path = format!("{owner}/{slug}/{child}");
            match (child.as_str(), p.op) {
                ("metadata.json", Op::Cat) => {
                    let text = serde_json::to_string_pretty(&c).unwrap_or_default();
                    Ok(cat_text(&uri, &path, &text, Some("application/json"), p.offset.unwrap_or(0), p.cat_max_bytes()))
                }
                ("metadata.json" | "history.json", Op::Stat) => Ok(stat_result(&uri, true, "file", &path, vec![("content_type", "application/json".into())])),
                ("history.json", Op::Cat) => {
                    let api = format!("/api/collections/{}/{}/history", enc(&owner), enc(&slug));
                    let history = fs.up.get_json(fs.token, Service::Hub, &api, &[]).await
                        .map_err(|e| FsError::upstream(&e, &format!("collection history {owner}/{slug}")))?;
                    let text = serde_json::to_string_pretty(&history).unwrap_or_default();
                    Ok(cat_text(&uri, &path, &text, Some("application/json"), p.offset.unwrap_or(0), p.cat_max_bytes()))
                }
                ("metadata.json" | "history.json", _) => Err(FsError::not_a_directory(format!("{uri} is a file; use cat"))),
                ("items", Op::Stat) => Ok(stat_result(&uri, true, "dir", &path, vec![])),
                ("items", Op::Ls | Op::Find) => {
                    let entries = item_entries(&c, &uri);
                    let entries: Vec<Value> = if p.op == Op::Find { entries.into_iter().filter(|e| find_matches(p, e, "")).collect() } else { filter_ls(p, entries) };
                    let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
                    Ok(entries_result(&uri, p.op, entries, truncated.then_some(("entry_limit", None))))
                }
                _ => Err(FsError::not_a_file(format!("{uri} is an items directory; use ls {uri} to list linked Hub resources"))),
            }
        }
        CUri::Item(owner, slug, item) => {
            let items_uri = format!("{}/items", coll_uri(&owner, &slug));
            let Some(c) = detail(fs, &owner, &slug).await? else { return Err(missing(&owner, &slug)) };
            let entry = item_entries(&c, &items_uri).into_iter().find(|e| e["name"].as_str() == Some(item.as_str()));
            let Some(entry) = entry else {
                return if p.op == Op::Stat { Ok(stat_result(&p.uri, false, "missing", &item, vec![])) } else {
                    Err(FsError::not_found(format!("no item {item} in collection {owner}/{slug}; use ls {items_uri}")))
                };
            };
            let target = entry["target_uri"].as_str().unwrap_or_default().to_owned();
            if p.op == Op::Stat {
                return Ok(stat_result(&p.uri, true, "link", &format!("{owner}/{slug}/items/{item}"), vec![("target_uri", target.into())]));
            }
            let mut q = p.clone();
            q.uri = target;
            Box::pin(super::run_one(fs, &q)).await
        }
    }
}
