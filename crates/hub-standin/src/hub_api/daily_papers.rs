//! `GET /api/daily_papers`: filtered by date, ISO week, month or submitter, sorted, paged by `p`.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::papers::thumbnail;
use crate::catalogue::{catalogue, DailyRec};
use crate::util::{bad_request, ok_json};
use crate::Ctx;

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// ISO week string `YYYY-Www` of an ISO date string.
fn iso_week(date: &str) -> Option<String> {
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    let d: i64 = date.get(8..10)?.parse().ok()?;
    let days = days_from_civil(y, m, d);
    let weekday = (days + 3).rem_euclid(7) + 1; // 1 = Monday
    let thursday = days - weekday + 4;
    // Year of that Thursday.
    let mut ty = y;
    if thursday < days_from_civil(y, 1, 1) {
        ty = y - 1;
    } else if thursday >= days_from_civil(y + 1, 1, 1) {
        ty = y + 1;
    }
    let week = (thursday - days_from_civil(ty, 1, 1)) / 7 + 1;
    Some(format!("{ty}-W{week:02}"))
}

fn daily_item(d: &DailyRec) -> Option<Value> {
    let p = catalogue().paper(&d.paper)?;
    let mut item = Map::new();
    item.insert("paper".into(), Value::Object(p.clone()));
    item.insert("publishedAt".into(), json!(d.published_at));
    item.insert("title".into(), p.get("title").cloned().unwrap_or(Value::Null));
    item.insert("summary".into(), p.get("summary").cloned().unwrap_or(Value::Null));
    item.insert("thumbnail".into(), json!(thumbnail(&d.paper)));
    item.insert("numComments".into(), json!(d.num_comments));
    if let Some(s) = p.get("submittedOnDailyBy") {
        item.insert("submittedBy".into(), s.clone());
    }
    if let Some(o) = p.get("organization") {
        item.insert("organization".into(), o.clone());
    }
    item.insert("isAuthorParticipating".into(), json!(false));
    Some(Value::Object(item))
}

pub(super) fn daily_papers(ctx: &Ctx<'_>) -> Response {
    let cat = catalogue();
    let page = match ctx.query.usize("p") {
        Ok(p) => p.unwrap_or(0),
        Err(e) => return bad_request(&e),
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(50).clamp(1, 100),
        Err(e) => return bad_request(&e),
    };
    let date = ctx.query.get_ne("date");
    let week = ctx.query.get_ne("week");
    let month = ctx.query.get_ne("month");
    let submitter = ctx.query.get_ne("submitter");
    let mut recs: Vec<&DailyRec> = cat
        .daily
        .iter()
        .filter(|d| date.is_none_or(|x| d.published_at.starts_with(x)))
        .filter(|d| month.is_none_or(|x| d.published_at.starts_with(x)))
        .filter(|d| week.is_none_or(|w| iso_week(&d.published_at).as_deref() == Some(w)))
        .filter(|d| {
            submitter.is_none_or(|s| {
                cat.paper(&d.paper)
                    .and_then(|p| p.get("submittedOnDailyBy"))
                    .and_then(|u| u.get("user"))
                    .and_then(Value::as_str)
                    == Some(s)
            })
        })
        .collect();
    match ctx.query.get_ne("sort").unwrap_or("publishedAt") {
        "publishedAt" => recs.sort_by(|a, b| b.published_at.cmp(&a.published_at)),
        "trending" => recs.sort_by(|a, b| {
            let up =
                |d: &DailyRec| cat.paper(&d.paper).and_then(|p| p.get("upvotes")).and_then(Value::as_i64).unwrap_or(0);
            up(b).cmp(&up(a))
        }),
        other => return bad_request(&format!("\"sort\" must be one of [publishedAt, trending], got \"{other}\"")),
    }
    let total = recs.len();
    let items: Vec<Value> = recs.into_iter().skip(page * limit).take(limit).filter_map(daily_item).collect();
    let mut resp = ok_json(&Value::Array(items));
    if (page + 1) * limit < total {
        // Relative link, as modelled by hf-mcp-server's tests of this endpoint.
        let next = format!("<{}?{}>; rel=\"next\"", ctx.path, ctx.query.with("p", &(page + 1).to_string()));
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        assert_eq!(iso_week("2024-08-01T00:45:31.000Z").as_deref(), Some("2024-W31"));
        assert_eq!(iso_week("2021-01-03").as_deref(), Some("2020-W53"));
        assert_eq!(iso_week("2024-12-30").as_deref(), Some("2025-W01"));
    }
}
