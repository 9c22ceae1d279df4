//! `hf://docs`: Hugging Face documentation — product catalogue, `llms.txt` manifests,
//! Markdown pages (optionally one `#section`), and documentation search.

use serde_json::{json, Value};

use super::model::*;
use super::Fs;
use crate::client::{enc, enc_path, Service};
use crate::tools::format::ellipsize;
use crate::tools::glob::glob_match;

const DEFAULT_SEARCH_LIMIT: usize = 5;
const MAX_SEARCH_LIMIT: usize = 25;

pub(super) struct DocsUri {
    product: Option<String>,
    path: String,
    anchor: Option<String>,
}

pub(super) fn parse(uri: &str) -> Result<DocsUri, FsError> {
    let (base, anchor) = match uri.split_once('#') {
        Some((b, a)) if !a.is_empty() => (b, Some(a.replace("%20", " "))),
        Some((b, _)) => (b, None),
        None => (uri, None),
    };
    let rest = base.trim_start_matches("hf://docs").trim_matches('/');
    if rest.contains("//") {
        return Err(FsError::invalid("URI path must not contain empty segments"));
    }
    if rest.split('/').any(|s| s == ".." || s == ".") {
        return Err(FsError::invalid("URI contains an invalid path segment"));
    }
    let (product, path) = match rest.split_once('/') {
        Some((p, path)) => (Some(p.to_owned()), path.to_owned()),
        None if rest.is_empty() => (None, String::new()),
        None => (Some(rest.to_owned()), String::new()),
    };
    Ok(DocsUri { product, path, anchor })
}

fn docs_uri(product: &str, path: &str) -> String {
    if path.is_empty() {
        format!("hf://docs/{}", enc(product))
    } else {
        format!("hf://docs/{}/{}", enc(product), enc_path(path))
    }
}

/// Paths of the pages a product's `llms.txt` lists; `None` when it has no manifest.
async fn manifest(fs: &Fs<'_>, product: &str) -> Result<Option<Vec<(String, String)>>, FsError> {
    let text = fs
        .up
        .doc_text(&format!("/docs/{}/llms.txt", enc(product)), 4_000_000)
        .await
        .map_err(|e| FsError::upstream(&e, &format!("the {product} documentation manifest")))?;
    let Some((text, ct)) = text else { return Ok(None) };
    if ct.as_deref().is_some_and(|c| c.contains("html")) {
        return Ok(None);
    }
    let marker = format!("/docs/{product}/");
    let mut out = Vec::new();
    for line in text.lines() {
        // Markdown links: [Title](https://host/docs/PRODUCT/path.md)
        let mut rest = line;
        while let Some(open) = rest.find('[') {
            let Some(mid) = rest[open..].find("](") else { break };
            let title = &rest[open + 1..open + mid];
            let after = &rest[open + mid + 2..];
            let Some(close) = after.find(')') else { break };
            let href = &after[..close];
            if let Some(i) = href.find(&marker) {
                let path = &href[i + marker.len()..];
                if path.ends_with(".md") && !out.iter().any(|(p, _)| p == path) {
                    out.push((path.to_owned(), title.trim().to_owned()));
                }
            }
            rest = &after[close..];
        }
    }
    Ok(Some(out))
}

fn manifest_entries(product: &str, pages: &[(String, String)], dir: &str, recursive: bool) -> Vec<Value> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut dirs: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for (path, title) in pages {
        let Some(rel) = path.strip_prefix(&prefix) else { continue };
        let parts: Vec<&str> = rel.split('/').collect();
        let depth = if recursive { parts.len() - 1 } else { (parts.len() - 1).min(1) };
        for i in 0..depth {
            let d = format!("{prefix}{}", parts[..=i].join("/"));
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        if recursive || parts.len() == 1 {
            files.push(json!({
                "type": "file", "name": basename(path), "path": path, "uri": docs_uri(product, path),
                "title": title, "content_type": "text/markdown",
            }));
        }
    }
    dirs.sort();
    let mut out: Vec<Value> = dirs
        .iter()
        .map(|d| json!({ "type": "dir", "name": basename(d), "path": d, "uri": docs_uri(product, d) }))
        .collect();
    out.extend(files);
    out
}

pub async fn run(fs: &Fs<'_>, p: &Params) -> FsResult {
    let d = parse(&p.uri)?;
    if p.sort.is_some() {
        return Err(FsError::invalid("sort is not supported for documentation"));
    }
    if d.anchor.is_some() && p.op != Op::Cat {
        return Err(FsError::invalid(format!(
            "section anchors apply only to documentation file reads, not {}",
            p.op.as_str()
        )));
    }
    match p.op {
        Op::Search => search(fs, p, &d).await,
        Op::Attach => Err(FsError::not_a_file("attach requires a direct repository file URI; documentation is text")),
        Op::Cat => cat(fs, p, &d).await,
        Op::Ls | Op::Find | Op::Stat => {
            let Some(product) = &d.product else {
                return match p.op {
                    Op::Stat => Ok(stat_result("hf://docs", true, "dir", "", vec![])),
                    Op::Find => Err(FsError::unsupported("find cannot crawl every documentation product; scope it to hf://docs/PRODUCT or use search hf://docs QUERY")),
                    _ => products(fs, p).await,
                };
            };
            let pages = manifest(fs, product).await?;
            let Some(pages) = pages else {
                if p.op == Op::Stat && !d.path.is_empty() {
                    // No manifest: check the page itself.
                    let page = fetch_page(fs, product, &d.path).await?;
                    return Ok(stat_result(
                        &p.uri,
                        page.is_some(),
                        if page.is_some() { "file" } else { "missing" },
                        &d.path,
                        vec![("content_type", if page.is_some() { "text/markdown".into() } else { Value::Null })],
                    ));
                }
                return Err(FsError::not_found(format!(
                    "no llms.txt manifest is available for documentation product '{product}'; use search hf://docs/{product} QUERY, then cat a returned URI"
                )));
            };
            let is_file = pages.iter().any(|(path, _)| *path == d.path);
            let is_dir = d.path.is_empty() || pages.iter().any(|(path, _)| path.starts_with(&format!("{}/", d.path)));
            match p.op {
                Op::Stat => Ok(if is_file {
                    stat_result(&p.uri, true, "file", &d.path, vec![("content_type", "text/markdown".into())])
                } else if is_dir {
                    stat_result(&p.uri, true, "dir", &d.path, vec![])
                } else {
                    stat_result(&p.uri, false, "missing", &d.path, vec![])
                }),
                _ if is_file => {
                    if p.op == Op::Find {
                        let e = json!({ "type": "file", "name": basename(&d.path), "path": d.path, "uri": docs_uri(product, &d.path), "content_type": "text/markdown" });
                        let keep = find_matches(p, &e, parent(&d.path));
                        return Ok(entries_result(&p.uri, Op::Find, if keep { vec![e] } else { vec![] }, None));
                    }
                    Err(FsError::not_a_directory(format!("{} is a document; use cat", p.uri)))
                }
                _ if !is_dir => Err(FsError::not_found(format!(
                    "{} is not in the current llms.txt manifest of '{product}'",
                    d.path
                ))),
                _ => {
                    let all = manifest_entries(product, &pages, &d.path, p.recursive || p.op == Op::Find);
                    let filtered: Vec<Value> = all
                        .into_iter()
                        .filter(
                            |e| if p.op == Op::Find { find_matches(p, e, &d.path) } else { ls_matches(p, e, &d.path) },
                        )
                        .collect();
                    let (entries, truncated) = page(p, filtered, DEFAULT_LS_LIMIT);
                    Ok(entries_result(
                        &p.uri,
                        p.op,
                        entries,
                        truncated.then(|| ("entry_limit", Some(ENTRY_LIMIT_MESSAGE.to_owned()))),
                    ))
                }
            }
        }
    }
}

async fn products(fs: &Fs<'_>, p: &Params) -> FsResult {
    let catalogue = fs.up.get_json(fs.token, Service::Hub, "/api/docs", &[]).await;
    let items = match catalogue {
        Ok(v) => v.as_array().cloned().unwrap_or_default(),
        Err(e) if e.status() == Some(404) => {
            return Err(FsError::unsupported(
                "this Hub endpoint does not publish a documentation catalogue; use search hf://docs QUERY and cat the returned URIs",
            ))
        }
        Err(e) => return Err(FsError::upstream(&e, "the documentation catalogue")),
    };
    let entries: Vec<Value> = items
        .iter()
        .filter_map(|i| {
            let id = i.get("id")?.as_str()?;
            let mut e = json!({ "type": "dir", "name": id, "path": id, "uri": docs_uri(id, "") });
            if let Some(c) = i.get("category").and_then(Value::as_str) {
                e["description"] = c.into();
            }
            Some(e)
        })
        .filter(|e| {
            p.type_matches(e) && p.glob.as_deref().is_none_or(|g| glob_match(g, e["path"].as_str().unwrap_or("")))
        })
        .collect();
    let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
    Ok(entries_result("hf://docs", Op::Ls, entries, truncated.then_some(("entry_limit", None))))
}

async fn fetch_page(fs: &Fs<'_>, product: &str, path: &str) -> Result<Option<String>, FsError> {
    let path = if path.ends_with(".md") { path.to_owned() } else { format!("{path}.md") };
    let res = fs
        .up
        .doc_text(&format!("/docs/{}/{}", enc(product), enc_path(&path)), 2_000_000)
        .await
        .map_err(|e| FsError::upstream(&e, &format!("documentation page {product}/{path}")))?;
    Ok(res.and_then(|(text, ct)| {
        let ok = ct.as_deref().is_none_or(|c| c.contains("markdown") || c.contains("text/plain"));
        ok.then_some(text)
    }))
}

async fn cat(fs: &Fs<'_>, p: &Params, d: &DocsUri) -> FsResult {
    let Some(product) = d.product.as_deref().filter(|_| !d.path.is_empty()) else {
        return Err(FsError::not_a_file(format!("{} is a directory; use ls or search", p.uri)));
    };
    let Some(text) = fetch_page(fs, product, &d.path).await? else {
        return Err(FsError::not_found(format!(
            "documentation page {product}/{} was not found; use search hf://docs/{product} QUERY to find pages",
            d.path
        )));
    };
    let (content, section) = match &d.anchor {
        Some(a) => match section(&text, a) {
            Some((heading, body)) => (body, Some(heading)),
            None => {
                return Err(FsError::not_found(format!(
                    "documentation section '#{a}' was not found. Try: cat {}",
                    docs_uri(product, &d.path)
                )))
            }
        },
        None => (text, None),
    };
    let mut out = cat_text(&p.uri, &d.path, &content, Some("text/markdown"), p.offset.unwrap_or(0), p.cat_max_bytes());
    if let Some(h) = section {
        out.result.insert("section".into(), h.into());
    }
    Ok(out)
}

fn normalize_anchor(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The Markdown section whose heading matches `anchor` (up to the next heading of the same or higher level).
fn section(md: &str, anchor: &str) -> Option<(String, String)> {
    let want = normalize_anchor(anchor);
    let mut headings = Vec::new();
    let mut offset = 0;
    let mut fence = false;
    for line in md.split_inclusive('\n') {
        let t = line.trim_end();
        if t.trim_start().starts_with("```") || t.trim_start().starts_with("~~~") {
            fence = !fence;
        } else if !fence && t.starts_with('#') {
            let level = t.chars().take_while(|c| *c == '#').count();
            let text = t[level..].trim().trim_end_matches('#').trim();
            if level <= 6 && !text.is_empty() {
                let marker =
                    text.find("[[").and_then(|i| text[i + 2..].find("]]").map(|j| text[i + 2..i + 2 + j].to_owned()));
                headings.push((offset, level, text.to_owned(), marker));
            }
        }
        offset += line.len();
    }
    let idx = headings
        .iter()
        .position(|(_, _, _, m)| m.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(anchor)))
        .or_else(|| headings.iter().position(|(_, _, t, _)| normalize_anchor(t) == want))?;
    let (start, level, text, _) = &headings[idx];
    let end = headings[idx + 1..].iter().find(|(_, l, _, _)| l <= level).map_or(md.len(), |h| h.0);
    let visible = match text.find("[[") {
        Some(i) => text[..i].trim().to_owned(),
        None => text.clone(),
    };
    Some((visible, md[*start..end].trim().to_owned()))
}

async fn search(fs: &Fs<'_>, p: &Params, d: &DocsUri) -> FsResult {
    let Some(query) = p.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
        return Err(FsError::invalid("search requires query"));
    };
    if query.chars().count() > 250 {
        return Err(FsError::invalid("documentation search query is too long (250 characters at most)"));
    }
    let limit = p.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if limit > MAX_SEARCH_LIMIT {
        return Err(FsError::invalid(format!("documentation search limit must be between 1 and {MAX_SEARCH_LIMIT}")));
    }
    if p.entry_type.as_deref().is_some_and(|t| t != "file") {
        return Ok(entries_result(&p.uri, Op::Search, vec![], None));
    }
    let mut q = vec![("q", query.to_owned()), ("limit", MAX_SEARCH_LIMIT.to_string())];
    if let Some(prod) = &d.product {
        q.push(("product", prod.clone()));
    }
    let semantic = fs.up.get_json(fs.token, Service::Hub, "/api/docs/search", &q).await;
    let mut hits: Vec<(String, String, String)> = Vec::new(); // (url, title, text)
    let mut failure = None;
    match semantic {
        Ok(v) => {
            for h in v.as_array().cloned().unwrap_or_default() {
                let title = ["heading5", "heading4", "heading3", "heading2", "heading1", "source_page_title"]
                    .iter()
                    .find_map(|k| h.get(*k).and_then(Value::as_str))
                    .unwrap_or("Documentation");
                if let Some(url) = h.get("source_page_url").and_then(Value::as_str) {
                    hits.push((
                        url.to_owned(),
                        title.to_owned(),
                        h.get("text").and_then(Value::as_str).unwrap_or("").to_owned(),
                    ));
                }
            }
        }
        Err(e) => failure = Some(e),
    }
    if hits.is_empty() {
        let mut q = vec![("q", query.to_owned()), ("limit", MAX_SEARCH_LIMIT.to_string())];
        if let Some(prod) = &d.product {
            q.push(("domain", prod.clone()));
        }
        match fs.up.get_json(fs.token, Service::Hub, "/api/docs/search/full-text", &q).await {
            Ok(v) => {
                for h in v.get("hits").and_then(Value::as_array).cloned().unwrap_or_default() {
                    let title = ["hierarchy_lvl2", "hierarchy_lvl1", "hierarchy_lvl0"]
                        .iter()
                        .find_map(|k| h.get(*k).and_then(Value::as_str))
                        .unwrap_or("Documentation");
                    if let Some(url) = h.get("url").and_then(Value::as_str) {
                        hits.push((
                            url.to_owned(),
                            title.to_owned(),
                            h.get("content").and_then(Value::as_str).unwrap_or("").to_owned(),
                        ));
                    }
                }
            }
            Err(e) => {
                if let Some(first) = failure {
                    return Err(FsError::upstream(&first, "the documentation search"));
                }
                return Err(FsError::upstream(&e, "the documentation search"));
            }
        }
    }
    let mut seen = Vec::new();
    let mut entries = Vec::new();
    for (url, title, text) in hits {
        let Some(i) = url.find("/docs/") else { continue };
        let (page_part, anchor) = match url[i + 6..].split_once('#') {
            Some((a, b)) => (a.to_owned(), Some(b.to_owned()).filter(|b| !b.is_empty())),
            None => (url[i + 6..].to_owned(), None),
        };
        let Some((product, path)) = page_part.split_once('/') else { continue };
        if d.product.as_deref().is_some_and(|p| p != product) {
            continue;
        }
        let path = if path.ends_with(".md") { path.to_owned() } else { format!("{}.md", path.trim_end_matches('/')) };
        if !d.path.is_empty() && path != d.path && !path.starts_with(&format!("{}/", d.path.trim_end_matches(".md"))) {
            continue;
        }
        let key = format!("{product}/{path}");
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let uri = match &anchor {
            Some(a) => format!("{}#{a}", docs_uri(product, &path)),
            None => docs_uri(product, &path),
        };
        let excerpt_len = if entries.is_empty() { 1_200 } else { 400 };
        let mut e = json!({
            "type": "file", "name": basename(&path),
            "path": if d.product.is_some() { path.clone() } else { format!("{product}/{path}") },
            "uri": uri, "title": title, "library": product, "content_type": "text/markdown",
            "url": if url.starts_with("http") { url.clone() } else { format!("{}{url}", fs.up.endpoint()) },
        });
        let clean: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !clean.is_empty() {
            e["description"] = ellipsize(&clean, excerpt_len).into();
        }
        if let Some(a) = anchor {
            e["anchor"] = a.into();
        }
        entries.push(e);
        if entries.len() >= limit {
            break;
        }
    }
    Ok(entries_result(&p.uri, Op::Search, entries, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        let md = "# Title\n\nintro\n\n## Install [[install]]\n\npip\n\n```\n# not a heading\n```\n\n## Usage\n\nuse\n";
        let (h, body) = section(md, "install").unwrap();
        assert_eq!(h, "Install");
        assert!(body.contains("not a heading") && !body.contains("use\n"));
        assert!(section(md, "Usage").unwrap().1.ends_with("use"));
        assert!(section(md, "nope").is_none());
    }
}
