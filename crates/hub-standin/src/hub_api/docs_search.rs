//! Documentation search: `GET /api/docs/search` and `GET /api/docs/search/full-text`, both word
//! overlap over the fixture pages' chunks.

use serde_json::{json, Map, Value};

use super::Answer;
use crate::catalogue::{catalogue, DocChunk};
use crate::util::{match_score, ok_json, words};
use crate::Ctx;

fn docs_hits(q: &str, product: Option<&str>) -> Vec<(f64, &'static DocChunk)> {
    let qw = words(q);
    let mut hits: Vec<_> = catalogue()
        .doc_chunks
        .iter()
        .filter(|c| product.is_none_or(|p| c.product == p))
        .filter_map(|c| {
            let hay = format!("{} {} {}", c.page_title, c.heading.as_deref().unwrap_or(""), c.text);
            let s = match_score(&qw, &hay);
            (s > 0.0).then_some((s, c))
        })
        .collect();
    hits.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    hits
}

fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars).collect();
        s.push('…');
        s
    }
}

pub(super) fn docs_search(ctx: &Ctx<'_>) -> Answer {
    let q = ctx.query.required("q")?;
    let limit = ctx.query.limit(10, 50)?;
    let product = ctx.query.get_ne("product");
    let items: Vec<Value> = docs_hits(q, product)
        .into_iter()
        .take(limit)
        .map(|(_, c)| {
            let mut m = Map::new();
            m.insert("text".into(), json!(excerpt(&c.text, 400)));
            m.insert("product".into(), json!(c.product));
            m.insert("heading1".into(), json!(c.page_title));
            if let Some(h) = &c.heading {
                m.insert("heading2".into(), json!(h));
            }
            m.insert(
                "source_page_url".into(),
                json!(format!(
                    "https://huggingface.co/docs/{}/{}#{}",
                    c.product,
                    c.page_path,
                    c.anchor.as_deref().unwrap_or("")
                )),
            );
            m.insert("source_page_title".into(), json!(c.page_title));
            Value::Object(m)
        })
        .collect();
    Ok(ok_json(&Value::Array(items)))
}

pub(super) fn docs_full_text(ctx: &Ctx<'_>) -> Answer {
    let q = ctx.query.required("q")?;
    let limit = ctx.query.limit(10, 50)?;
    let hits: Vec<Value> = docs_hits(q, ctx.query.get_ne("domain"))
        .into_iter()
        .take(limit)
        .map(|(_, c)| {
            json!({
                "url": format!("/docs/{}/main/en/{}#{}", c.product, c.page_path, c.anchor.as_deref().unwrap_or("")),
                "hierarchy_lvl0": c.product,
                "hierarchy_lvl1": c.page_title,
                "hierarchy_lvl2": c.heading,
                "content": excerpt(&c.text, 300),
            })
        })
        .collect();
    Ok(ok_json(&json!({ "hits": hits })))
}
