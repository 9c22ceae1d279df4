//! Helpers shared by the Hub tools: argument parsing, the output budget, formatting,
//! turning Hub failures into actionable tool results, glob matching and token scrubbing.

use mcp_engine::provider::{Arguments, ToolOutput};
use mcp_engine::Ctx;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::macros::format_description;
use time::Date;

use crate::client::{HubError, HubErrorKind};

/// Approximate token budget of one tool result.
pub const TOKEN_BUDGET: usize = 12_500;

/// The character budget for `TOKEN_BUDGET` at `chars_per_token`.
pub const fn budget_chars(chars_per_token: usize) -> usize {
    TOKEN_BUDGET * chars_per_token
}

/// The shell of a Hub tool that needs only its arguments and the caller's token: parse the
/// arguments (a failure is an `isError` result), run, and scrub the token from the output.
pub fn upstream_tool<A, F, Fut>(
    definition: Value,
    upstream: crate::client::HubClient,
    run: F,
) -> mcp_engine::provider::Tool
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(crate::client::HubClient, Option<std::sync::Arc<str>>, A) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ToolOutput> + Send + 'static,
{
    let run = std::sync::Arc::new(run);
    mcp_engine::provider::Tool::new(definition, move |args, ctx: Ctx| {
        let (upstream, run) = (upstream.clone(), run.clone());
        async move {
            let token = token_of(&ctx);
            let out = match parse_args::<A>(&args) {
                Err(e) => invalid_args(e),
                Ok(a) => run(upstream, token.clone(), a).await,
            };
            Ok(scrub(out, token.as_deref()))
        }
    })
}

/// Parse tool arguments; a failure is a message for an `isError` result.
pub fn parse_args<T: DeserializeOwned>(args: &Arguments) -> Result<T, String> {
    let raw = args.get().trim();
    let raw = if raw.is_empty() || raw == "null" { "{}" } else { raw };
    serde_json::from_str(raw).map_err(|e| {
        let msg = e.to_string();
        // serde's "at line 1 column 42" is noise for a model.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        format!("Invalid arguments: {msg}.")
    })
}

/// The caller's Hub token, if any (never log or format it).
pub fn token_of(ctx: &Ctx) -> Option<std::sync::Arc<str>> {
    ctx.request().caller.bearer.clone()
}

/// Remove every occurrence of the token from a result (defence in depth: the tools never
/// format it, but upstream text is echoed and must not be able to leak it).
pub fn scrub(mut output: ToolOutput, token: Option<&str>) -> ToolOutput {
    let Some(token) = token.filter(|t| t.len() >= 4) else { return output };
    if let ToolOutput::Result(obj) = &mut output {
        for v in obj.values_mut() {
            scrub_value(v, token);
        }
    }
    output
}

fn scrub_value(v: &mut Value, token: &str) {
    match v {
        Value::String(s) if s.contains(token) => *s = s.replace(token, "[redacted]"),
        Value::Array(a) => a.iter_mut().for_each(|v| scrub_value(v, token)),
        Value::Object(o) => o.values_mut().for_each(|v| scrub_value(v, token)),
        _ => {}
    }
}

/// The `isError` result for invalid arguments.
pub fn invalid_args(message: impl AsRef<str>) -> ToolOutput {
    ToolOutput::error(format!(
        "{}\nRetry: not with the same arguments; correct them as the tool's input schema describes.",
        message.as_ref()
    ))
}

/// What to tell the model about a Hub failure: what happened, whether retrying helps,
/// and what to do instead. `subject` names the thing (e.g. "model 'gpt2'").
pub fn explain(err: &HubError, subject: &str) -> String {
    let (what, retry, instead) = match err.kind() {
        HubErrorKind::RepoNotFound if !err.had_token() => (
            format!("{subject} was not found, or it is private and no Hugging Face token was sent"),
            "no".to_owned(),
            "check the id (owner/name) with hub_repo_search; for a private repository, set a token (HF_TOKEN) \
             of an account that can see it"
                .to_owned(),
        ),
        HubErrorKind::RepoNotFound | HubErrorKind::NotFound => (
            format!("{subject} was not found"),
            "no".to_owned(),
            "check the id or path; use hub_repo_search or hf_fs search/ls to find what exists".to_owned(),
        ),
        HubErrorKind::RevisionNotFound => (
            format!("the revision requested for {subject} does not exist"),
            "no".to_owned(),
            "omit the revision (uses main) or use an existing branch, tag or commit".to_owned(),
        ),
        HubErrorKind::EntryNotFound => (
            format!("{subject} has no such file or directory"),
            "no".to_owned(),
            "list the parent directory with hf_fs ls to see which paths exist".to_owned(),
        ),
        HubErrorKind::GatedRepo => (
            format!("{subject} is gated: its files need accepted access conditions"),
            "only after access is granted".to_owned(),
            if err.had_token() {
                "ask the user to request access on the repository page on huggingface.co and accept its conditions; \
                 metadata (hub_repo_details) stays available meanwhile"
                    .to_owned()
            } else {
                "set a Hugging Face token (HF_TOKEN) of an account that accepted the repository's conditions; \
                 metadata (hub_repo_details) stays available meanwhile"
                    .to_owned()
            },
        ),
        HubErrorKind::Unauthorized if err.had_token() => (
            format!("the Hub rejected the Hugging Face token while reading {subject} (invalid or expired)"),
            "not with the same token".to_owned(),
            "ask the user to set a valid token (https://huggingface.co/settings/tokens); public content also works \
             without a token"
                .to_owned(),
        ),
        HubErrorKind::Unauthorized => (
            format!("{subject} requires authentication"),
            "not without a token".to_owned(),
            "ask the user to set a Hugging Face token (HF_TOKEN) with access".to_owned(),
        ),
        HubErrorKind::Forbidden => (
            format!("the token in use is not allowed to read {subject}"),
            "not with the same token".to_owned(),
            "use a token with read access to this resource (fine-grained tokens must include it)".to_owned(),
        ),
        HubErrorKind::RateLimited => (
            format!("the Hub rate-limited the request for {subject}"),
            match err.retry_after() {
                Some(d) => format!("yes, after about {} s", d.as_secs().max(1)),
                None => "yes, after a short wait".to_owned(),
            },
            if err.had_token() {
                "make fewer or smaller requests (lower limit, fewer operations per call)".to_owned()
            } else {
                "a Hugging Face token (HF_TOKEN) gives higher rate limits; make fewer or smaller requests".to_owned()
            },
        ),
        HubErrorKind::Timeout => (
            format!("the Hub did not answer in time for {subject} ({})", err.detail()),
            "yes, it may succeed on a second try".to_owned(),
            "narrow the request (smaller limit, a more specific path or query)".to_owned(),
        ),
        HubErrorKind::ServerError => (
            format!("the Hub is temporarily unavailable for {subject} (HTTP {})", err.status().unwrap_or(503)),
            "yes, in a moment".to_owned(),
            "if it persists, try again later".to_owned(),
        ),
        HubErrorKind::Connection => (
            format!("the Hub could not be reached for {subject}"),
            "yes, in a moment".to_owned(),
            "if it persists, check HF_ENDPOINT and network access".to_owned(),
        ),
        HubErrorKind::BadRequest | HubErrorKind::InvalidInput => (
            format!("the Hub rejected the request for {subject}: {}", err.detail()),
            "not with the same arguments".to_owned(),
            "adjust the arguments (e.g. filters, sort, limit)".to_owned(),
        ),
        HubErrorKind::InvalidResponse | HubErrorKind::Other => (
            format!("reading {subject} failed: {}", err.detail()),
            "possibly".to_owned(),
            "try a narrower request".to_owned(),
        ),
    };
    let hub = match (err.status(), err.kind()) {
        (Some(s), k)
            if !matches!(
                k,
                HubErrorKind::BadRequest
                    | HubErrorKind::InvalidInput
                    | HubErrorKind::Timeout
                    | HubErrorKind::ServerError
            ) =>
        {
            format!(" (Hub: {s} {})", err.detail())
        }
        _ => String::new(),
    };
    format!("{}{hub}.\nRetry: {retry}.\nInstead: {instead}.", capitalize(&what))
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `1.2M`, `3.4K`, `12`, like the Hub's own compact numbers.
pub fn format_number(n: f64) -> String {
    if n >= 1_000_000.0 {
        format!("{:.1}M", n / 1_000_000.0)
    } else if n >= 1_000.0 {
        format!("{:.1}K", n / 1_000.0)
    } else if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

pub fn format_bytes(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} KB", n / 1e3)
    } else {
        format!("{} bytes", n as i64)
    }
}

/// `2024-02-19T11:06:12.000Z` → `19 Feb, 2024`; anything else (an impossible date too) is
/// returned as is, an empty string as `Unknown`.
pub fn format_date(iso: &str) -> String {
    let day = format_description!("[year]-[month]-[day]");
    let shown = format_description!("[day padding:none] [month repr:short], [year]");
    match iso.get(..10).and_then(|d| Date::parse(d, day).ok()).and_then(|d| d.format(shown).ok()) {
        Some(s) => s,
        None if iso.is_empty() => "Unknown".into(),
        None => iso.to_owned(),
    }
}

/// Escape text for a Markdown table cell or inline use.
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '~' | '`' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn inline_code(s: &str) -> String {
    format!("`{}`", s.replace('`', "\\`"))
}

/// Cut `s` to at most `max` bytes on a char boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Cut to `max` characters with an ellipsis.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t = t.trim_end().to_owned();
        t.push('…');
        t
    }
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub fn num_of(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|n| n.is_finite())
}

/// A string or list of strings from card data, joined with ", ".
pub fn str_or_list(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(a) => {
            let items: Vec<String> = a
                .iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            (!items.is_empty()).then(|| items.join(", "))
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Glob matching with `*` (within a segment), `**` (any depth), `?`, `[...]` classes and
/// `{a,b}` alternatives; dot-files match like any other name.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    for alt in expand_braces(pattern) {
        let p: Vec<char> = alt.chars().collect();
        let t: Vec<char> = text.chars().collect();
        if glob_at(&p, &t) {
            return true;
        }
    }
    false
}

fn expand_braces(p: &str) -> Vec<String> {
    let Some(open) = p.find('{') else { return vec![p.to_owned()] };
    let mut depth = 0;
    let mut close = None;
    for (i, c) in p[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = close else { return vec![p.to_owned()] };
    let (pre, body, post) = (&p[..open], &p[open + 1..close], &p[close + 1..]);
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    let mut out = Vec::new();
    for part in parts {
        for rest in expand_braces(&format!("{part}{post}")) {
            out.push(format!("{pre}{rest}"));
        }
    }
    out.truncate(64);
    out
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    if p.is_empty() {
        return t.is_empty();
    }
    if p.len() >= 2 && p[0] == '*' && p[1] == '*' {
        // `**/` matches zero or more whole segments; a bare `**` matches anything.
        let rest = if p.get(2) == Some(&'/') { &p[3..] } else { &p[2..] };
        if glob_at(rest, t) {
            return true;
        }
        for i in 0..t.len() {
            if (p.get(2) != Some(&'/') || t[i] == '/') && glob_at(rest, &t[i + 1..]) {
                return true;
            }
        }
        return false;
    }
    match p[0] {
        '*' => {
            for i in 0..=t.len() {
                if glob_at(&p[1..], &t[i..]) {
                    return true;
                }
                if i < t.len() && t[i] == '/' {
                    break;
                }
            }
            false
        }
        '?' => !t.is_empty() && t[0] != '/' && glob_at(&p[1..], &t[1..]),
        '[' => {
            let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return !t.is_empty() && t[0] == '[' && glob_at(&p[1..], &t[1..]);
            };
            if t.is_empty() {
                return false;
            }
            let class = &p[1..end];
            let (negate, class) = match class.first() {
                Some('!') | Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    if class[i] <= t[0] && t[0] <= class[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if class[i] == t[0] {
                        hit = true;
                    }
                    i += 1;
                }
            }
            hit != negate && glob_at(&p[end + 1..], &t[1..])
        }
        '\\' if p.len() > 1 => !t.is_empty() && t[0] == p[1] && glob_at(&p[2..], &t[1..]),
        c => !t.is_empty() && t[0] == c && glob_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.json", "config.json"));
        assert!(!glob_match("*.json", "a/config.json"));
        assert!(glob_match("**/*.json", "a/b/config.json"));
        assert!(glob_match("**/*.json", "config.json"));
        assert!(glob_match("*.{json,md}", "README.md"));
        assert!(glob_match("model-0000[1-2]-*", "model-00001-of-00004.safetensors"));
        assert!(glob_match("**", "x/y"));
        assert!(glob_match(".git*", ".gitattributes"));
        assert!(!glob_match("?", "ab"));
        assert!(glob_match("*term*", "a-term-b"));
    }

    #[test]
    fn formats() {
        assert_eq!(format_number(1_234_567.0), "1.2M");
        assert_eq!(format_number(999.0), "999");
        assert_eq!(format_date("2024-02-19T11:06:12.000Z"), "19 Feb, 2024");
        assert_eq!(format_bytes(2_500_000.0), "2.5 MB");
        assert_eq!(cut("héllo", 2), "h");
    }

    #[test]
    fn dates_as_before() {
        for (iso, shown) in [
            ("2024-02-29T08:00:00.000Z", "29 Feb, 2024"),
            ("2000-02-29", "29 Feb, 2000"),
            ("1900-03-01T00:00:00Z", "1 Mar, 1900"),
            ("2023-12-31T23:59:59.999Z", "31 Dec, 2023"),
            ("2025-01-05T12:00:00Z", "5 Jan, 2025"),
            ("", "Unknown"),
            ("yesterday", "yesterday"),
            ("2024-13-01T00:00:00Z", "2024-13-01T00:00:00Z"),
        ] {
            assert_eq!(format_date(iso), shown, "{iso}");
        }
    }

    #[test]
    fn scrubbing() {
        let out = ToolOutput::text("token hf_secret_123 leaked");
        let ToolOutput::Result(o) = scrub(out, Some("hf_secret_123")) else { panic!() };
        assert!(!o["content"].to_string().contains("hf_secret_123"));
    }
}
