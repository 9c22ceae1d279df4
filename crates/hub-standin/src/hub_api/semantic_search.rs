//! `GET /api/spaces/semantic-search`: Spaces ranked by word overlap with the query (a stand-in
//! for embedding search), with a deterministic relevancy score.

use serde_json::{json, Map, Value};

use super::Answer;
use crate::catalogue::{catalogue, Repo};
use crate::util::{match_score, ok_json, words};
use crate::Ctx;

pub(super) fn semantic_search(ctx: &Ctx<'_>) -> Answer {
    let q = ctx.query.required("q")?;
    let qw = words(q);
    let include_non_running = ctx.query.flag("includeNonRunning");
    let sdk = ctx.query.get_ne("sdk");
    let filters = ctx.query.all("filter", true);
    let limit = ctx.query.limit(10, 50)?;
    let mut hits: Vec<(f64, &Repo)> = catalogue()
        .spaces
        .repos
        .iter()
        .filter(|r| !r.private)
        .filter(|r| include_non_running || r.runtime_stage().starts_with("RUNNING"))
        .filter(|r| sdk.is_none_or(|s| r.str("sdk") == Some(s)))
        .filter(|r| {
            let tags = r.tags();
            filters.iter().all(|f| tags.contains(&f.as_str()))
        })
        .filter_map(|r| {
            let hay = format!(
                "{} {} {} {} {} {}",
                r.id,
                r.card("title").and_then(Value::as_str).unwrap_or(""),
                r.card("short_description").and_then(Value::as_str).unwrap_or(""),
                r.semantic.get("ai_short_description").and_then(Value::as_str).unwrap_or(""),
                r.semantic.get("ai_category").and_then(Value::as_str).unwrap_or(""),
                r.tags().join(" ")
            );
            let score = match_score(&qw, &hay);
            (score > 0.0).then_some((score, r))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then_with(|| b.1.num("likes").cmp(&a.1.num("likes")))
    });
    let items: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .enumerate()
        .map(|(rank, (score, r))| {
            let mut d = Map::new();
            d.insert("author".into(), json!(r.owner));
            if let Some(a) = r.semantic.get("authorData") {
                d.insert("authorData".into(), a.clone());
            }
            for (k, ck) in [("colorFrom", "colorFrom"), ("colorTo", "colorTo")] {
                if let Some(v) = r.card(ck) {
                    d.insert(k.into(), v.clone());
                }
            }
            d.insert("createdAt".into(), r.info.get("createdAt").cloned().unwrap_or(Value::Null));
            if let Some(v) = r.card("emoji") {
                d.insert("emoji".into(), v.clone());
            }
            d.insert("id".into(), json!(r.id));
            d.insert("lastModified".into(), r.info.get("lastModified").cloned().unwrap_or(Value::Null));
            d.insert("likes".into(), json!(r.num("likes")));
            d.insert("pinned".into(), r.card("pinned").cloned().unwrap_or(json!(false)));
            d.insert("private".into(), json!(false));
            d.insert("sdk".into(), r.info.get("sdk").cloned().unwrap_or(Value::Null));
            d.insert("repoType".into(), json!("space"));
            if let Some(rt) = r.info.get("runtime") {
                d.insert("runtime".into(), rt.clone());
            }
            if let Some(v) = r.card("short_description") {
                d.insert("shortDescription".into(), v.clone());
            }
            if let Some(v) = r.card("title") {
                d.insert("title".into(), v.clone());
            }
            d.insert("isLikedByUser".into(), json!(false));
            if let Some(o) = r.semantic.get("originSpace") {
                d.insert("originSpace".into(), o.clone());
            }
            for k in ["ai_short_description", "ai_category"] {
                if let Some(v) = r.semantic.get(k) {
                    d.insert(k.into(), v.clone());
                }
            }
            d.insert("trendingScore".into(), json!(r.num("trendingScore")));
            d.insert("tags".into(), r.info.get("tags").cloned().unwrap_or(json!([])));
            // Deterministic, strictly decreasing relevancy in (0.5, 0.95].
            let rel = 0.55 + 0.4 * score - 0.001 * rank as f64;
            d.insert("semanticRelevancyScore".into(), json!(rel));
            Value::Object(d)
        })
        .collect();
    Ok(ok_json(&Value::Array(items)))
}
