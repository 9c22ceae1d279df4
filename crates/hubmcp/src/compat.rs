//! hf-mcp-server's settings under their own names and units, so a deployment's
//! environment carries over unchanged (the README's migration table lists every one).
//! Most names are plain `env =` of a flag; what needs a conversion lives here.

use axum::response::Response;
use http::{header, HeaderValue};

/// `HF_API_TIMEOUT` / `--hf-api-timeout-ms`: whole milliseconds, as hf-mcp-server reads it.
/// A fraction or a value under 100 is refused rather than guessed at: hubmcp read this
/// variable in seconds before, and `12.5` or `30` meant as seconds would otherwise time
/// out every Hub request.
pub fn parse_api_timeout_ms(s: &str) -> Result<u64, String> {
    let unit = "HF_API_TIMEOUT is in milliseconds (as in hf-mcp-server); for seconds use \
                --hf-api-timeout / HUBMCP_HF_API_TIMEOUT_SECONDS";
    let ms: u64 = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number of milliseconds. {unit}"))?;
    if ms < 100 {
        return Err(format!("{ms} ms is too short for a Hub request; {unit}"));
    }
    Ok(ms)
}

/// hf-mcp-server's `LOG_LEVEL` (pino levels) as a tracing filter.
pub fn log_level(level: &str) -> String {
    match level.trim().to_ascii_lowercase().as_str() {
        "fatal" => "error".into(),
        "silent" => "off".into(),
        other => other.into(),
    }
}

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// `HSTS=true`: every response says to use HTTPS from now on (as hf-mcp-server does).
pub fn with_hsts(app: axum::Router) -> axum::Router {
    app.layer(axum::middleware::map_response(|mut r: Response| async move {
        r.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        r
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_timeout_is_milliseconds_and_seconds_are_refused() {
        assert_eq!(parse_api_timeout_ms("12500"), Ok(12_500));
        assert_eq!(parse_api_timeout_ms(" 30000 "), Ok(30_000));
        assert!(parse_api_timeout_ms("12.5").unwrap_err().contains("milliseconds"));
        assert!(parse_api_timeout_ms("30").unwrap_err().contains("milliseconds"));
        assert_eq!(log_level("FATAL"), "error");
        assert_eq!(log_level("debug"), "debug");
    }
}
