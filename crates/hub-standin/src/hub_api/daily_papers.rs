//! `GET /api/daily_papers`: filtered by date, ISO week, month or submitter, sorted, paged by `p`.

use axum::http::{header, HeaderValue};
use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::Date;

use super::papers::thumbnail;
use super::Answer;
use crate::catalogue::{catalogue, DailyRec};
use crate::util::{bad_request, ok_json};
use crate::Ctx;

/// ISO week `YYYY-Www` of an ISO date or date-time string (only its date part is read).
fn iso_week(date: &str) -> Option<String> {
    let date = Date::parse(date.get(0..10)?, format_description!("[year]-[month]-[day]")).ok()?;
    date.format(format_description!("[year base:iso_week]-W[week_number repr:iso]")).ok()
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

pub(super) fn daily_papers(ctx: &Ctx<'_>) -> Answer {
    let cat = catalogue();
    let page = ctx.query.count("p")?.unwrap_or(0);
    let limit = ctx.query.limit(50, 100)?;
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
        other => return Err(bad_request(&format!("\"sort\" must be one of [publishedAt, trending], got \"{other}\""))),
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
    Ok(resp)
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

    #[test]
    fn iso_weeks_at_year_boundaries() {
        for (date, week) in [
            ("2020-12-31", "2020-W53"),
            ("2021-01-01", "2020-W53"),
            ("2021-01-04", "2021-W01"),
            ("2019-12-30", "2020-W01"),
            ("2019-12-29", "2019-W52"),
            ("2026-01-01", "2026-W01"),
            ("2027-01-03", "2026-W53"),
            ("2024-02-29T12:00:00.000Z", "2024-W09"),
        ] {
            assert_eq!(iso_week(date).as_deref(), Some(week), "{date}");
        }
    }

    #[test]
    fn iso_weeks_of_non_dates() {
        assert_eq!(iso_week("2024-02-30"), None);
        assert_eq!(iso_week("2024-08"), None);
        assert_eq!(iso_week(""), None);
    }
}
