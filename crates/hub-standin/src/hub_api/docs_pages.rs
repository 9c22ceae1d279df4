//! Documentation pages under `/docs/{product}/…`: Markdown when asked for (`Accept` or `.md`),
//! otherwise a crude HTML rendering shaped like the docs site.

use axum::http::{header, StatusCode};
use axum::response::Response;

use crate::catalogue::{anchor_of, catalogue};
use crate::util::{not_found_route, text_response};
use crate::Ctx;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Crude Markdown → HTML so that non-markdown clients get a page shaped like the docs site.
fn markdown_to_html(title: &str, md: &str) -> String {
    let mut out = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body><nav>Hugging Face docs</nav><main>\n",
        html_escape(title)
    );
    let mut in_code = false;
    for line in md.lines() {
        if line.starts_with("```") {
            out.push_str(if in_code { "</code></pre>\n" } else { "<pre><code>" });
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&html_escape(line));
            out.push('\n');
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", anchor_of(h), html_escape(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1>{}</h1>\n", html_escape(h)));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{}</p>\n", html_escape(line)));
        }
    }
    out.push_str("</main><footer>footer</footer></body></html>\n");
    out
}

pub(super) fn docs_page(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let Some(product) = segs.first() else {
        return not_found_route();
    };
    let mut rest: Vec<&str> = segs[1..].iter().map(String::as_str).collect();
    // Versioned URLs: /docs/{product}/{main|vX.Y.Z}/{lang}/{page}
    if rest.len() >= 2
        && (rest[0] == "main" || rest[0].starts_with('v'))
        && rest[1].len() == 2
        && rest[1].chars().all(|c| c.is_ascii_lowercase())
    {
        rest.drain(..2);
    }
    let mut page_path = rest.join("/");
    let mut want_md = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/markdown") || a.contains("text/plain"));
    if let Some(stripped) = page_path.strip_suffix(".md") {
        page_path = stripped.to_string();
        want_md = true;
    }
    if page_path.is_empty() {
        page_path = "index".into();
    }
    let Some(page) = catalogue().docs.iter().find(|d| d.product == *product && d.path == page_path) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "Not Found".into());
    };
    if want_md {
        text_response(StatusCode::OK, "text/markdown; charset=utf-8", page.markdown.clone())
    } else {
        text_response(StatusCode::OK, "text/html; charset=utf-8", markdown_to_html(&page.title, &page.markdown))
    }
}
