//! File downloads: `/{prefix}{id}/resolve/{rev}/{path}` (gated and private checks, LFS files
//! redirected to `/__cdn/{sha256}`), and serving bytes with `Range` support.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::access::{
    can_see, entry_not_found, gated_error, has_gated_access, redirect, repo_not_found, revision_not_found, with_query,
};
use crate::catalogue::{catalogue, synthetic_bytes, Kind, RepoFile};
use crate::util::{encode_path, encode_segment, not_found_route, text_response};
use crate::Ctx;

pub(super) fn resolve(ctx: &Ctx<'_>, kind: Kind, segs: &[String]) -> Response {
    let (id, tail) = if segs.len() >= 3 && segs[1] == "resolve" {
        (segs[0].clone(), &segs[2..])
    } else if segs.len() >= 4 && segs[2] == "resolve" {
        (format!("{}/{}", segs[0], segs[1]), &segs[3..])
    } else {
        return not_found_route();
    };
    let set = catalogue().repos(kind);
    let rev = &tail[0];
    let file_path = tail[1..].join("/");
    if let Some(canonical) = set.aliases.get(&id) {
        let path = format!(
            "/{}{}/resolve/{}/{}",
            kind.url_prefix(),
            encode_path(canonical),
            encode_segment(rev),
            encode_path(&file_path)
        );
        return redirect(StatusCode::TEMPORARY_REDIRECT, &with_query(path, ctx));
    }
    let Some(repo) = set.get(&id).filter(|r| can_see(r, &ctx.caller)) else {
        return repo_not_found(&ctx.caller);
    };
    if !has_gated_access(repo, &ctx.caller) {
        return gated_error(repo, &ctx.caller);
    }
    let Some(sha) = repo.resolve_revision(rev) else {
        return revision_not_found(rev);
    };
    let Some(file) = repo.file(&file_path) else {
        return entry_not_found();
    };
    if let Some(lfs) = &file.lfs {
        let location = format!("{}/__cdn/{}", ctx.origin, lfs.sha256);
        let mut resp = redirect(StatusCode::FOUND, &location);
        let h = resp.headers_mut();
        for (k, v) in [
            ("x-repo-commit", sha.clone()),
            ("x-linked-size", lfs.size.to_string()),
            ("x-linked-etag", format!("\"{}\"", lfs.sha256)),
            ("etag", format!("\"{}\"", file.oid)),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        return resp;
    }
    serve_file(ctx, file, Some(&sha), &format!("\"{}\"", file.oid))
}

pub(super) fn cdn(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let cat = catalogue();
    let Some((kind, id, path)) = segs.first().and_then(|s| cat.lfs_index.get(s)) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain", "Not Found".into());
    };
    let Some(file) = cat.repos(*kind).get(id).and_then(|r| r.file(path)) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain", "Not Found".into());
    };
    let etag = format!("\"{}\"", file.lfs.as_ref().map(|l| l.sha256.as_str()).unwrap_or(""));
    serve_file(ctx, file, None, &etag)
}

pub(super) fn content_type_of(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "json" => "application/json; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "txt" | "py" | "csv" | "jsonl" | "yaml" | "yml" | "toml" | "gitattributes" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "png" => "image/png",
        _ => {
            if path.ends_with("LICENSE") || path.ends_with("Dockerfile") {
                "text/plain; charset=utf-8"
            } else {
                "application/octet-stream"
            }
        }
    }
}

/// Parse a single `Range: bytes=...` against `size`. `Ok(None)` = no (usable) range header.
pub(super) fn parse_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", "") => return Err(()),
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (s, "") => (s.parse().map_err(|_| ())?, size.saturating_sub(1)),
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| ())?;
            let e: u64 = e.parse().map_err(|_| ())?;
            if e < s {
                return Err(());
            }
            (s, e.min(size.saturating_sub(1)))
        }
    };
    if size == 0 || start >= size {
        return Err(());
    }
    Ok(Some((start, end)))
}

pub(super) fn serve_file(ctx: &Ctx<'_>, file: &RepoFile, commit: Option<&str>, etag: &str) -> Response {
    let size = file.size;
    let range_header = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match parse_range(range_header, size) {
        Ok(r) => r,
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .expect("valid response");
        }
    };
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, size.saturating_sub(1)),
    };
    let len = if size == 0 { 0 } else { end - start + 1 };
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type_of(&file.path))
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, etag);
    if let Some(c) = commit {
        b = b.header("x-repo-commit", c);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
    }
    let body = match &file.content {
        Some(c) => Body::from(c.as_bytes()[start as usize..(start + len) as usize].to_vec()),
        None => {
            let file = file.clone();
            const CHUNK: u64 = 64 * 1024;
            let stream = futures_util::stream::unfold(start, move |pos| {
                let file = file.clone();
                async move {
                    if pos >= start + len {
                        return None;
                    }
                    let n = CHUNK.min(start + len - pos);
                    let bytes = synthetic_bytes(&file, pos, n as usize);
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)), pos + n))
                }
            });
            Body::from_stream(stream)
        }
    };
    b.body(body).expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=0-1000"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(None, 100), Ok(None));
    }
}
