//! Hub JSON values as short text for the model: compact numbers, sizes and dates, Markdown
//! escaping, cutting to a length, and reading optional fields.

use serde_json::Value;
use time::macros::format_description;
use time::Date;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
