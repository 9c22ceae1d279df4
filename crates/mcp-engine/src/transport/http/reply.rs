//! The leaf of the HTTP transport: responses (JSON, SSE, JSON-RPC errors with their
//! status), request checks (`Content-Type`, `Accept`) and the bounded body read. Every
//! HTTP module imports this one; it imports none of them.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;

use crate::jsonrpc::{write_error, Id, McpError};

/// A JSON-RPC error as an HTTP response with the error's status. A 503 says when to
/// retry.
pub(crate) fn error_response(id: Option<&Id>, err: &McpError) -> Response {
    let mut out = Vec::with_capacity(128);
    write_error(&mut out, id, err);
    let mut r = json_response(err.status, out);
    if err.status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    r
}

/// An error about the HTTP request itself (no JSON-RPC id).
pub(crate) fn plain_error(status: StatusCode, message: impl Into<std::borrow::Cow<'static, str>>) -> Response {
    error_response(None, &McpError::invalid_request(message).with_status(status))
}

pub(crate) fn bad_request(message: impl Into<std::borrow::Cow<'static, str>>) -> Response {
    plain_error(StatusCode::BAD_REQUEST, message)
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub(crate) fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

pub(crate) fn sse_response(body: Body) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// Does `Accept` admit JSON, and SSE? One pass over the header; a missing header admits
/// both.
pub(crate) fn accept_flags(headers: &HeaderMap) -> (bool, bool) {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return (true, true) };
    let (mut json, mut sse) = (false, false);
    for range in accept.split(',') {
        let range = range.split(';').next().unwrap_or("").trim();
        match range {
            "application/json" | "application/*" => json = true,
            "text/event-stream" | "text/*" => sse = true,
            "*/*" => return (true, true),
            _ => {}
        }
    }
    (json, sse)
}

/// Does the `Accept` header admit `media`? A missing header admits everything.
pub(crate) fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return true };
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    accept
        .split(',')
        .map(|r| r.split(';').next().unwrap_or("").trim())
        .any(|r| r == media || r == "*/*" || r.strip_suffix("/*").is_some_and(|k| k == kind))
}

/// 415 unless the body is declared as JSON, without a content coding: a compressed
/// body would otherwise be read as if it were plain JSON (RFC 9110 §8.4.1 allows 415 for
/// a coding the server does not accept). 501 for a transfer coding other than `chunked`
/// (RFC 9112 §6.1): the HTTP layer removes only the chunked framing.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), Response> {
    let transfer_coded = headers.get_all(header::TRANSFER_ENCODING).iter().any(|v| {
        v.to_str()
            .map_or(true, |s| s.split(',').map(str::trim).any(|c| !c.is_empty() && !c.eq_ignore_ascii_case("chunked")))
    });
    if transfer_coded {
        return Err(plain_error(
            StatusCode::NOT_IMPLEMENTED,
            "Not Implemented: the only transfer coding accepted is chunked",
        ));
    }
    let coded = headers.get_all(header::CONTENT_ENCODING).iter().any(|v| {
        v.to_str()
            .map_or(true, |s| s.split(',').map(str::trim).any(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity")))
    });
    if coded {
        return Err(plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: request bodies are accepted without Content-Encoding",
        ));
    }
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if ok {
        Ok(())
    } else {
        Err(plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        ))
    }
}

/// The whole body, at most `limit` bytes (413 beyond, also when `Content-Length` says so
/// up front). A refused body is still read and discarded, up to a bound, before the 413
/// goes out (as nginx's lingering close does): a client that writes its whole body before
/// reading then gets the explanation instead of a reset connection.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        if declared.is_some_and(|n| n <= LINGER_BYTES) {
            discard(body).await;
        }
        return Err(too_large(limit));
    }
    // The common case is one data frame: keep it as it is (no copy).
    let mut body = body;
    let mut first: Option<Bytes> = None;
    let mut rest: Option<bytes::BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(bad_request("Bad Request: could not read the body")) };
        let Ok(data) = frame.into_data() else { continue };
        len += data.len();
        if len > limit {
            discard(body).await;
            return Err(too_large(limit));
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(f), None) => {
                let mut joined = bytes::BytesMut::with_capacity(len.max(f.len() * 2));
                joined.extend_from_slice(f);
                joined.extend_from_slice(&data);
                rest = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&data),
        }
    }
    Ok(match rest {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// How much of a refused body is read before answering, and for how long.
const LINGER_BYTES: usize = 64 * 1024 * 1024;
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Read and drop the rest of a body, within [`LINGER_BYTES`] and [`LINGER_TIME`].
async fn discard(mut body: Body) {
    let drain = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > LINGER_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

fn too_large(limit: usize) -> Response {
    plain_error(StatusCode::PAYLOAD_TOO_LARGE, format!("Payload Too Large: the request body exceeds {limit} bytes"))
}

/// `Content-Type` (415) and `Accept` (406) of a POST; the `Accept` flags (JSON, SSE).
pub(crate) fn check_post(headers: &HeaderMap) -> Result<(bool, bool), Response> {
    require_json(headers)?;
    let (json_ok, sse_ok) = accept_flags(headers);
    if !json_ok && !sse_ok {
        return Err(plain_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Accept must include application/json and text/event-stream",
        ));
    }
    Ok((json_ok, sse_ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_matching() {
        let mut h = HeaderMap::new();
        assert!(accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "application/json, text/event-stream".parse().unwrap());
        assert!(accepts(&h, "application/json") && accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert!(!accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "text/*;q=0.5".parse().unwrap());
        assert!(accepts(&h, "text/event-stream") && !accepts(&h, "application/json"));
        h.insert(header::ACCEPT, "image/png".parse().unwrap());
        assert!(!accepts(&h, "application/json"));
        assert_eq!(accept_flags(&h), (false, false));
        h.insert(header::ACCEPT, "application/json, text/event-stream".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        h.insert(header::ACCEPT, "text/*;q=0.5, application/json".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        h.insert(header::ACCEPT, "*/*".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        assert_eq!(accept_flags(&HeaderMap::new()), (true, true));
    }
}
