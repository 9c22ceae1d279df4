//! RFC 8288 `Link` header parsing (only what pagination needs).

/// The target of the first `rel="next"` link in a `Link` header value.
pub fn next_link(header: &str) -> Option<String> {
    for part in split_links(header) {
        let part = part.trim();
        let Some(rest) = part.strip_prefix('<') else {
            continue;
        };
        let Some(end) = rest.find('>') else {
            continue;
        };
        let target = &rest[..end];
        let params = &rest[end + 1..];
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim().trim_matches('"').split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_string());
        }
    }
    None
}

/// Split on commas that are outside `<...>` and quotes.
fn split_links(header: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut in_angle, mut in_quote, mut start) = (false, false, 0);
    for (i, c) in header.char_indices() {
        match c {
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            '"' if !in_angle => in_quote = !in_quote,
            ',' if !in_angle && !in_quote => {
                out.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&header[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_next() {
        assert_eq!(
            next_link(r#"<https://huggingface.co/api/models?limit=5&cursor=eyJ9%3D%3D>; rel="next""#).as_deref(),
            Some("https://huggingface.co/api/models?limit=5&cursor=eyJ9%3D%3D")
        );
        assert_eq!(
            next_link(r#"<https://x/a?p=0>; rel="prev", <https://x/a?p=2,3>; rel=next"#).as_deref(),
            Some("https://x/a?p=2,3")
        );
        assert_eq!(
            next_link(r#"</api/daily_papers?p=1&limit=20>; rel="next""#).as_deref(),
            Some("/api/daily_papers?p=1&limit=20")
        );
        assert_eq!(next_link(r#"<https://x/a>; rel="last""#), None);
        assert_eq!(next_link(""), None);
    }
}
