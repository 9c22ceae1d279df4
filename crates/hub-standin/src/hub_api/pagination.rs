//! `limit` + `cursor` pagination with a `Link: <…>; rel="next"` header, shared by every
//! paginated list (repositories, trees, collections).

use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde_json::Value;

use crate::util::{bad_request, decode_cursor, encode_cursor, ok_json};
use crate::Ctx;

/// Slice `items` per `limit` + `cursor`, adding a `Link: <...>; rel="next"` header if more remain.
/// The next link carries the request's own `limit`, so a capped page size stays capped.
pub(super) fn paginate(ctx: &Ctx<'_>, items: Vec<Value>, default_limit: usize, max_limit: usize) -> Response {
    let max_limit = ctx.max_page_size.map_or(max_limit, |cap| cap.clamp(1, max_limit));
    let default_limit = default_limit.min(max_limit);
    let limit = match ctx.query.usize("limit") {
        Ok(Some(0)) => return bad_request("\"limit\" must be greater than or equal to 1"),
        Ok(Some(n)) => n.min(max_limit),
        Ok(None) => default_limit,
        Err(e) => return bad_request(&e),
    };
    let offset = match ctx.query.get("cursor") {
        None => 0,
        Some(c) => match decode_cursor(c) {
            Some(o) => o,
            None => return bad_request("Invalid cursor"),
        },
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let mut resp = ok_json(&Value::Array(page));
    if offset + limit < total {
        let next = format!(
            "<{}{}?{}>; rel=\"next\"",
            ctx.origin,
            ctx.path,
            ctx.query.with("cursor", &encode_cursor(offset + limit))
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}
