//! `GET /api/papers/search` (with highlighted title and summary) and `GET /api/papers/{id}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::Answer;
use crate::catalogue::catalogue;
use crate::util::{hub_error, match_score, ok_json, words};
use crate::Ctx;

fn highlight(text: &str, qw: &[String]) -> Value {
    let lower = text.to_ascii_lowercase();
    let mut marks = vec![false; text.len()];
    for w in qw {
        let w = w.to_ascii_lowercase();
        if w.is_empty() {
            continue;
        }
        for (i, _) in lower.match_indices(&w) {
            for m in marks.iter_mut().skip(i).take(w.len()) {
                *m = true;
            }
        }
    }
    let mut segs: Vec<Value> = Vec::new();
    let mut cur = String::new();
    let mut cur_mark = None;
    for (i, c) in text.char_indices() {
        let m = marks[i];
        if cur_mark.is_some_and(|cm| cm != m) {
            segs.push(json!({"type": if cur_mark == Some(true) {"highlight"} else {"text"}, "text": cur}));
            cur = String::new();
        }
        cur_mark = Some(m);
        cur.push(c);
    }
    if !cur.is_empty() {
        segs.push(json!({"type": if cur_mark == Some(true) {"highlight"} else {"text"}, "text": cur}));
    }
    Value::Array(segs)
}

pub(super) fn thumbnail(id: &str) -> String {
    format!("https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{id}.png")
}

pub(super) fn papers_search(ctx: &Ctx<'_>) -> Answer {
    let q = ctx.query.required("q")?;
    let limit = ctx.query.limit(50, 120)?;
    let qw = words(q);
    let cat = catalogue();
    let mut hits: Vec<(f64, &Map<String, Value>)> = cat
        .papers
        .iter()
        .filter_map(|p| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or("");
            if id == q.trim() {
                return Some((2.0, p));
            }
            let authors = p
                .get("authors")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.get("name").and_then(Value::as_str)).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            let hay = format!(
                "{} {} {} {} {}",
                id,
                p.get("title").and_then(Value::as_str).unwrap_or(""),
                p.get("summary").and_then(Value::as_str).unwrap_or(""),
                p.get("ai_keywords").map(|k| k.to_string()).unwrap_or_default(),
                authors
            );
            let s = match_score(&qw, &hay);
            (s > 0.0).then_some((s, p))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.1.get("upvotes").and_then(Value::as_i64).cmp(&a.1.get("upvotes").and_then(Value::as_i64)))
    });
    let items: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .map(|(_, p)| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or("");
            let mut paper = Map::new();
            for k in [
                "id",
                "authors",
                "publishedAt",
                "title",
                "summary",
                "upvotes",
                "discussionId",
                "ai_summary",
                "ai_keywords",
                "githubRepo",
            ] {
                if let Some(v) = p.get(k) {
                    paper.insert(k.into(), v.clone());
                }
            }
            let daily = cat.daily.iter().find(|d| d.paper == id);
            let title = p.get("title").and_then(Value::as_str).unwrap_or("");
            let summary = p.get("summary").and_then(Value::as_str).unwrap_or("");
            json!({
                "paper": Value::Object(paper),
                "publishedAt": daily.map(|d| json!(d.published_at)).unwrap_or_else(|| p.get("publishedAt").cloned().unwrap_or(Value::Null)),
                "title": title,
                "summary": summary,
                "thumbnail": thumbnail(id),
                "numComments": daily.map(|d| d.num_comments).unwrap_or(0),
                "upvoted": false,
                "isAuthorParticipating": false,
                "highlightedTitle": highlight(title, &qw),
                "highlightedSummary": highlight(summary, &qw),
            })
        })
        .collect();
    Ok(ok_json(&Value::Array(items)))
}

pub(super) fn paper_detail(id: &str) -> Response {
    match catalogue().paper(id) {
        Some(p) => ok_json(&Value::Object(p.clone())),
        None => hub_error(StatusCode::NOT_FOUND, None, "Paper not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights() {
        let h = highlight("KazQAD: Kazakh Open-Domain", &["kazakh".to_string()]);
        assert_eq!(
            h,
            json!([{"type":"text","text":"KazQAD: "},{"type":"highlight","text":"Kazakh"},{"type":"text","text":" Open-Domain"}])
        );
    }
}
