//! `GET /api/trending`: the public repositories with the highest trending score, all types or one.

use serde_json::{json, Map, Value};

use super::repr::insert_repo_data;
use super::Answer;
use crate::catalogue::{catalogue, Kind, Repo};
use crate::util::{bad_request, ok_json};
use crate::Ctx;

pub(super) fn trending(ctx: &Ctx<'_>) -> Answer {
    let kinds: Vec<Kind> = match ctx.query.get_ne("type") {
        None | Some("all") => vec![Kind::Model, Kind::Dataset, Kind::Space],
        Some(t) => match Kind::from_singular(t) {
            Some(k) => vec![k],
            None => return Err(bad_request("\"type\" must be one of [all, model, dataset, space]")),
        },
    };
    let limit = ctx.query.limit(10, 100)?;
    let cat = catalogue();
    let mut repos: Vec<&Repo> = kinds.iter().flat_map(|k| cat.repos(*k).repos.iter()).filter(|r| !r.private).collect();
    repos.sort_by(|a, b| b.num("trendingScore").cmp(&a.num("trendingScore")).then_with(|| a.id.cmp(&b.id)));
    let items: Vec<Value> = repos
        .into_iter()
        .take(limit)
        .map(|r| {
            let mut d = Map::new();
            insert_repo_data(&mut d, r);
            d.insert("trendingScore".into(), json!(r.num("trendingScore")));
            d.insert("tags".into(), r.info.get("tags").cloned().unwrap_or(json!([])));
            if r.kind == Kind::Dataset {
                if let Some(desc) = r.info.get("description") {
                    d.insert("description".into(), desc.clone());
                }
            }
            if r.kind == Kind::Space {
                for (k, ck) in [
                    ("title", "title"),
                    ("emoji", "emoji"),
                    ("colorFrom", "colorFrom"),
                    ("colorTo", "colorTo"),
                    ("shortDescription", "short_description"),
                ] {
                    if let Some(v) = r.card(ck) {
                        d.insert(k.into(), v.clone());
                    }
                }
                d.insert("sdk".into(), r.info.get("sdk").cloned().unwrap_or(Value::Null));
                d.insert("createdAt".into(), r.info.get("createdAt").cloned().unwrap_or(Value::Null));
                if let Some(rt) = r.info.get("runtime") {
                    d.insert("runtime".into(), json!({"stage": rt.get("stage"), "hardware": rt.get("hardware")}));
                }
                for k in ["ai_short_description", "ai_category"] {
                    if let Some(v) = r.semantic.get(k) {
                        d.insert(k.into(), v.clone());
                    }
                }
            }
            json!({"repoData": Value::Object(d), "repoType": r.kind.singular()})
        })
        .collect();
    Ok(ok_json(&json!({ "recentlyTrending": items })))
}
