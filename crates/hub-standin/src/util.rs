//! Small HTTP helpers shared by the handlers.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::Value;

/// Parsed query string, keeping order and repeated keys.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
            })
            .unwrap_or_default(),
        )
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// Non-empty value of `key`.
    pub fn get_ne(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.trim().is_empty())
    }
    /// All values of `key` (repeated keys; comma-separated values are split too when `split`).
    pub fn all(&self, key: &str, split: bool) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if k == key {
                if split {
                    out.extend(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
                } else if !v.is_empty() {
                    out.push(v.clone());
                }
            }
        }
        out
    }
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True" | "")) && self.0.iter().any(|(k, _)| k == key)
    }
    /// Parse an unsigned integer parameter; `Err(message)` if present but invalid.
    pub fn usize(&self, key: &str) -> Result<Option<usize>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| format!("Invalid value for '{key}': {v}")),
        }
    }
    /// A required, non-empty parameter; the Hub's 400 when it is missing.
    pub fn required(&self, key: &str) -> Result<&str, Response> {
        self.get_ne(key).ok_or_else(|| bad_request(&format!("\"{key}\" is required")))
    }
    /// An unsigned integer parameter (`None` when absent); the Hub's 400 when it is not one.
    pub fn count(&self, key: &str) -> Result<Option<usize>, Response> {
        self.usize(key).map_err(|e| bad_request(&e))
    }
    /// `limit`: `default` when absent, clamped to `1..=max`; the Hub's 400 when not a number.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, Response> {
        Ok(self.count("limit")?.unwrap_or(default).clamp(1, max))
    }
    /// Serialize back.
    pub fn encode(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            ser.append_pair(k, v);
        }
        ser.finish()
    }
    /// Serialize back, replacing (or adding) `key` with `value`.
    pub fn with(&self, key: &str, value: &str) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k != key {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair(key, value);
        ser.finish()
    }
}

pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body))
        .expect("valid response")
}

pub fn ok_json(value: &Value) -> Response {
    json_response(StatusCode::OK, value)
}

/// A Hub-style error: `{"error": msg}` plus `X-Error-Code` / `X-Error-Message` headers.
pub fn hub_error(status: StatusCode, code: Option<&str>, message: &str) -> Response {
    let mut resp = json_response(status, &serde_json::json!({ "error": message }));
    if let Some(code) = code {
        if let Ok(v) = HeaderValue::from_str(code) {
            resp.headers_mut().insert("x-error-code", v);
        }
    }
    // Header values must be visible ASCII; replace anything else.
    let ascii: String = message.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { ' ' }).collect();
    if let Ok(v) = HeaderValue::from_str(&ascii) {
        resp.headers_mut().insert("x-error-message", v);
    }
    resp
}

pub fn bad_request(message: &str) -> Response {
    hub_error(StatusCode::BAD_REQUEST, None, message)
}

pub fn not_found_route() -> Response {
    hub_error(StatusCode::NOT_FOUND, None, "Sorry, we can't find the page you are looking for.")
}

pub fn text_response(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("valid response")
}

/// Opaque pagination cursor. Shaped like the Hub's (base64 of a small JSON document).
pub fn encode_cursor(offset: usize) -> String {
    let doc = serde_json::json!({ "$or": [{ "_standinOffset": offset }], "searchSequenceToken": "standin" });
    base64::engine::general_purpose::STANDARD.encode(doc.to_string())
}

pub fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(cursor.trim()).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("$or")?.get(0)?.get("_standinOffset")?.as_u64().map(|n| n as usize)
}

/// Percent-decode one path segment.
pub fn decode_segment(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Percent-encode one path segment (everything but unreserved characters).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encode a repo-relative path, keeping `/` separators.
pub fn encode_path(p: &str) -> String {
    p.split('/').map(encode_segment).collect::<Vec<_>>().join("/")
}

/// Case-insensitive word tokens of at least 2 characters.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '.' && c != '-')
        .map(|w| w.trim_matches(|c| c == '.' || c == '-').to_lowercase())
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

/// Fraction of query words found (as substrings) in the haystack.
pub fn match_score(query_words: &[String], haystack: &str) -> f64 {
    if query_words.is_empty() {
        return 0.0;
    }
    let hay = haystack.to_lowercase();
    let hits = query_words.iter().filter(|w| hay.contains(w.as_str())).count();
    hits as f64 / query_words.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_limit_parameters() {
        let status = |r: Response| r.status();
        assert_eq!(Query::parse(Some("q=cats")).required("q").ok(), Some("cats"));
        assert_eq!(Query::parse(Some("q=+")).required("q").err().map(status), Some(StatusCode::BAD_REQUEST));
        assert_eq!(Query::parse(None).limit(10, 50).ok(), Some(10));
        assert_eq!(Query::parse(Some("limit=500")).limit(10, 50).ok(), Some(50));
        assert_eq!(Query::parse(Some("limit=0")).limit(10, 50).ok(), Some(1));
        assert_eq!(Query::parse(Some("limit=x")).limit(10, 50).err().map(status), Some(StatusCode::BAD_REQUEST));
    }
}
