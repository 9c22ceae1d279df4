//! The `hf_fs` command grammar: `{cmd, args}` → [`Params`], with the same flags, aliases
//! and validation as the hosted server, and `https://huggingface.co/...` URLs accepted
//! as `hf://` URIs.

use super::model::{
    FsError, Op, Params, ATTACH_MAX_BYTES, ENTRY_TYPES, MAX_CAT_BYTES, MAX_LS_LIMIT, MAX_SEARCH_LIMIT, SORTS,
};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Str,
    Repeat,
}

fn flags(op: Op) -> &'static [(&'static str, &'static str, Kind)] {
    match op {
        Op::Ls => &[
            ("-R", "recursive", Kind::Bool),
            ("-r", "recursive", Kind::Bool),
            ("-lR", "recursive", Kind::Bool),
            ("-laR", "recursive", Kind::Bool),
            ("--recursive", "recursive", Kind::Bool),
            ("-l", "long", Kind::Bool),
            ("-a", "all", Kind::Bool),
            ("-la", "long", Kind::Bool),
            ("-al", "long", Kind::Bool),
            ("--long", "long", Kind::Bool),
            ("--glob", "glob", Kind::Str),
            ("-type", "type", Kind::Str),
            ("--type", "type", Kind::Str),
            ("--entry-type", "type", Kind::Str),
            ("--sort", "sort", Kind::Str),
            ("-limit", "limit", Kind::Int),
            ("--limit", "limit", Kind::Int),
            ("--offset", "offset", Kind::Int),
        ],
        Op::Cat => &[
            ("-max-bytes", "max_bytes", Kind::Int),
            ("--max-bytes", "max_bytes", Kind::Int),
            ("-offset", "offset", Kind::Int),
            ("--offset", "offset", Kind::Int),
        ],
        Op::Attach => &[("--max-bytes", "max_bytes", Kind::Int)],
        Op::Stat => &[],
        Op::Find => &[
            ("-R", "recursive_compat", Kind::Bool),
            ("-r", "recursive_compat", Kind::Bool),
            ("--recursive", "recursive_compat", Kind::Bool),
            ("-name", "name", Kind::Str),
            ("--name", "name", Kind::Str),
            ("--glob", "name", Kind::Str),
            ("-path", "path", Kind::Str),
            ("--path", "path", Kind::Str),
            ("-type", "type", Kind::Str),
            ("--type", "type", Kind::Str),
            ("--entry-type", "type", Kind::Str),
            ("-limit", "limit", Kind::Int),
            ("--limit", "limit", Kind::Int),
        ],
        Op::Search => &[
            ("--query", "query", Kind::Str),
            ("-type", "type", Kind::Str),
            ("--type", "type", Kind::Str),
            ("--entry-type", "type", Kind::Str),
            ("--sort", "sort", Kind::Str),
            ("--tag", "tags", Kind::Repeat),
            ("--kind", "space_kind", Kind::Str),
            ("-limit", "limit", Kind::Int),
            ("--limit", "limit", Kind::Int),
        ],
    }
}

/// Parse one `{cmd, args}` operation.
pub fn parse(cmd: &str, args: &[String]) -> Result<Params, FsError> {
    let op = Op::parse(cmd).ok_or_else(|| {
        FsError::invalid(format!("unknown command {cmd:?}; use one of ls, cat, attach, stat, find, search"))
    })?;
    let args: &[String] = if args.first().map(String::as_str) == Some(cmd) { &args[1..] } else { args };
    let table = flags(op);
    let mut positionals: Vec<&str> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut p = Params::new(op, "");
    let mut query_flag: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let token = args[i].as_str();
        let Some(&(_, key, kind)) = table.iter().find(|(f, _, _)| *f == token) else {
            if token.starts_with('-') && token.len() > 1 {
                return Err(FsError::invalid(format!("unexpected argument for {cmd}: {token}")));
            }
            positionals.push(token);
            i += 1;
            continue;
        };
        if kind != Kind::Repeat && seen.contains(&key) {
            return Err(FsError::invalid(format!("duplicate option for {key}: {token}")));
        }
        seen.push(key);
        if kind == Kind::Bool {
            if key == "recursive" {
                p.recursive = true;
            }
            i += 1;
            continue;
        }
        let Some(value) = args.get(i + 1) else {
            return Err(FsError::invalid(format!("{token} requires a value")));
        };
        i += 2;
        if kind == Kind::Int {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| FsError::invalid(format!("{token} requires an integer, got {value:?}")))?;
            match key {
                "limit" => {
                    if n < 1 {
                        return Err(FsError::invalid(format!("limit must be at least 1 (got {n})")));
                    }
                    p.limit = Some(n as usize);
                }
                "offset" => {
                    if n < 0 {
                        return Err(FsError::invalid("offset must be non-negative"));
                    }
                    p.offset = Some(n as u64);
                }
                "max_bytes" => {
                    if n < 0 {
                        return Err(FsError::invalid("max_bytes must be non-negative"));
                    }
                    p.max_bytes = Some(n as u64);
                }
                _ => {}
            }
            continue;
        }
        let value = value.clone();
        match key {
            "glob" => p.glob = Some(value),
            "type" => p.entry_type = Some(value),
            "sort" => p.sort = Some(value),
            "name" => p.name = Some(value),
            "path" => p.path = Some(value),
            "query" => query_flag = Some(value),
            "space_kind" => p.space_kind = Some(value),
            "tags" => p.tags.push(value),
            _ => {}
        }
    }
    let Some(first) = positionals.first() else {
        return Err(FsError::invalid(format!("{cmd} requires an hf:// URI")));
    };
    let mut uri = normalize_uri(first);
    if !uri.starts_with("hf://") {
        return Err(FsError::invalid(format!("URI must start with hf:// (got {first:?})")));
    }
    if matches!(op, Op::Cat | Op::Stat) && positionals.len() == 2 {
        uri = format!("{}/{}", uri.trim_end_matches('/'), positionals[1].trim_start_matches('/'));
    }
    let max_positionals = match op {
        Op::Search => usize::MAX,
        Op::Cat | Op::Stat => 2,
        _ => 1,
    };
    if positionals.len() > max_positionals {
        return Err(FsError::invalid(format!("unexpected argument for {cmd}: {}", positionals[max_positionals])));
    }
    if op == Op::Search {
        let positional_query = positionals[1..].join(" ").trim().to_owned();
        if !positional_query.is_empty() && query_flag.is_some() {
            return Err(FsError::invalid("duplicate option for query: --query"));
        }
        p.query = query_flag.or((!positional_query.is_empty()).then_some(positional_query));
    }
    p.uri = uri;
    if let Some(t) = p.entry_type.take() {
        let t = match t.as_str() {
            "f" => "file".to_owned(),
            "d" => "dir".to_owned(),
            "l" => "link".to_owned(),
            "model" | "dataset" | "space" => "repo".to_owned(),
            _ => t,
        };
        p.entry_type = Some(t);
    }
    normalize(&mut p)?;
    validate(&p)?;
    soften(&mut p);
    Ok(p)
}

fn normalize(p: &mut Params) -> Result<(), FsError> {
    if p.op == Op::Ls
        && p.sort.as_deref() == Some("trending")
        && matches!(p.uri.as_str(), "hf://models" | "hf://datasets" | "hf://spaces" | "hf://papers")
    {
        if p.recursive || p.glob.is_some() {
            return Err(FsError::invalid("--sort trending does not support recursive or glob listing options"));
        }
        let source = p.uri.clone();
        p.uri = format!("{source}/trending");
        p.sort = None;
        p.warnings.push(format!("Treated --sort trending on {source} as {}.", p.uri));
    }
    Ok(())
}

pub fn is_repo_trending(uri: &str) -> bool {
    matches!(uri, "hf://models/trending" | "hf://datasets/trending" | "hf://spaces/trending")
}

fn search_allows_empty_query(uri: &str) -> bool {
    let rest = uri.strip_prefix("hf://").unwrap_or("");
    let mut parts = rest.split('/');
    let root = parts.next().unwrap_or("");
    let owner = parts.next();
    matches!(root, "models" | "datasets" | "spaces" | "collections")
        && parts.next().is_none()
        && owner.is_none_or(|o| !o.is_empty())
}

fn valid_search_uri(uri: &str) -> bool {
    uri == "hf://papers"
        || uri == "hf://docs"
        || uri.starts_with("hf://docs/")
        || (search_allows_empty_query(uri) && !is_repo_trending(uri))
}

fn validate(p: &Params) -> Result<(), FsError> {
    if p.op == Op::Search
        && p.query.as_deref().is_none_or(|q| q.trim().is_empty())
        && !search_allows_empty_query(&p.uri)
    {
        return Err(FsError::invalid("search requires a positional query or --query"));
    }
    if p.op == Op::Search && !valid_search_uri(&p.uri) {
        return Err(FsError::invalid(
            "search requires hf://models|datasets|spaces[/OWNER], hf://collections[/OWNER], any hf://docs scope, or \
             exactly hf://papers",
        ));
    }
    if let Some(t) = &p.entry_type {
        if !ENTRY_TYPES.contains(&t.as_str()) {
            return Err(FsError::invalid(format!("invalid entry type: {t}. Use --type file for files.")));
        }
    }
    if let Some(s) = &p.sort {
        if !SORTS.contains(&s.as_str()) {
            return Err(FsError::invalid(format!("invalid sort: {s}. Use one of {}", SORTS.join(", "))));
        }
    }
    if let Some(k) = &p.space_kind {
        if k != "mcp" {
            return Err(FsError::invalid(format!("invalid Space kind: {k}. Supported kinds: mcp")));
        }
    }
    if p.tags.iter().any(|t| t.is_empty() || t.len() > 100) {
        return Err(FsError::invalid("Space tags must contain between 1 and 100 characters"));
    }
    if p.tags.len() > 20 {
        return Err(FsError::invalid("at most 20 Space tags may be specified"));
    }
    if (!p.tags.is_empty() || p.space_kind.is_some()) && (p.op != Op::Search || p.uri != "hf://spaces") {
        return Err(FsError::invalid("--tag and --kind are supported only with search hf://spaces"));
    }
    if let Some(m) = p.max_bytes {
        if p.op == Op::Attach {
            if !(1..=ATTACH_MAX_BYTES).contains(&m) {
                return Err(FsError::invalid(format!("attach max_bytes must be between 1 and {ATTACH_MAX_BYTES}")));
            }
        } else if m as usize > MAX_CAT_BYTES {
            return Err(FsError::invalid(format!("max_bytes must be between 0 and {MAX_CAT_BYTES}")));
        }
    }
    if let Some(l) = p.limit {
        let max = if p.op == Op::Search {
            MAX_SEARCH_LIMIT
        } else if is_repo_trending(&p.uri) {
            20
        } else {
            MAX_LS_LIMIT
        };
        if l > max {
            return Err(FsError::invalid(format!("limit must be between 1 and {max} for this command (got {l})")));
        }
    }
    if p.glob.is_some() && p.op != Op::Ls {
        return Err(FsError::invalid(format!("glob is not valid for {}; glob applies only to ls", p.op.as_str())));
    }
    Ok(())
}

fn soften(p: &mut Params) {
    if p.op != Op::Ls || !is_repo_trending(&p.uri) {
        return;
    }
    if matches!(p.sort.as_deref(), Some("trending" | "trendingScore")) {
        p.warnings.push(format!(
            "Ignored --sort {} because {} already implies trending order.",
            p.sort.as_deref().unwrap_or_default(),
            p.uri
        ));
        p.sort = None;
    }
    if p.entry_type.as_deref() == Some("repo") {
        p.warnings.push(format!("Ignored --type repo because {} contains only repositories.", p.uri));
        p.entry_type = None;
    }
}

const ROOTS: &[&str] = &["models", "datasets", "spaces", "buckets", "collections", "papers", "docs"];

/// Accept bare roots (`models/x/y`) and `https://huggingface.co/...` web URLs.
pub fn normalize_uri(value: &str) -> String {
    let value = value.trim();
    if let Some(first) = value.split('/').next() {
        if ROOTS.contains(&first) && !value.contains("://") {
            return format!("hf://{}", value.trim_end_matches('/'));
        }
    }
    let rest = value
        .strip_prefix("https://huggingface.co/")
        .or_else(|| value.strip_prefix("https://www.huggingface.co/"))
        .or_else(|| value.strip_prefix("https://hf.co/"));
    let Some(rest) = rest else { return value.to_owned() };
    if rest.contains('?') || rest.contains('#') {
        return value.to_owned();
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return "hf://".into();
    }
    let first = segments[0];
    if ROOTS.contains(&first) {
        if matches!(first, "models" | "datasets" | "spaces") && segments.len() >= 3 {
            return repo_web_path(first, &segments[1..]).unwrap_or_else(|| value.to_owned());
        }
        return format!("hf://{}", segments.join("/"));
    }
    let is_file_url = segments.len() >= 4 && matches!(segments[2], "blob" | "resolve" | "tree");
    if segments.len() != 2 && !is_file_url {
        return value.to_owned();
    }
    if ["api", "join", "login", "new", "organizations", "pricing", "search", "settings"].contains(&first) {
        return value.to_owned();
    }
    repo_web_path("models", &segments).unwrap_or_else(|| value.to_owned())
}

fn repo_web_path(kind: &str, segments: &[&str]) -> Option<String> {
    if segments.len() < 2 {
        return Some(format!("hf://{kind}/{}", segments.join("/")));
    }
    let (owner, repo) = (segments[0], segments[1]);
    match segments.get(2) {
        Some(&("blob" | "resolve" | "tree")) => {
            let Some(rev) = segments.get(3) else { return Some(format!("hf://{kind}/{owner}/{repo}")) };
            let repo = if *rev == "main" { repo.to_owned() } else { format!("{repo}@{rev}") };
            let mut parts = vec![owner.to_owned(), repo];
            parts.extend(segments[4..].iter().map(|s| s.to_string()));
            Some(format!("hf://{kind}/{}", parts.join("/")))
        }
        Some(_) => None,
        None => Some(format!("hf://{kind}/{owner}/{repo}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags() {
        let p = parse("ls", &a(&["hf://models/org/repo", "--recursive", "--glob", "*.json", "--limit", "5"])).unwrap();
        assert!(p.recursive);
        assert_eq!(p.glob.as_deref(), Some("*.json"));
        assert_eq!(p.limit, Some(5));
        let p = parse("search", &a(&["hf://datasets", "speech", "recognition", "--sort", "downloads"])).unwrap();
        assert_eq!(p.query.as_deref(), Some("speech recognition"));
        let p = parse("cat", &a(&["hf://models/o/r", "README.md"])).unwrap();
        assert_eq!(p.uri, "hf://models/o/r/README.md");
        let p = parse("ls", &a(&["hf://models", "--sort", "trending"])).unwrap();
        assert_eq!(p.uri, "hf://models/trending");
    }

    #[test]
    fn rejects_out_of_range() {
        assert_eq!(
            parse("ls", &a(&["hf://models/o/r", "--limit", "10001"])).unwrap_err().code,
            "HF_FS_INVALID_ARGUMENT"
        );
        assert!(parse("search", &a(&["hf://models", "--limit", "1001"])).is_err());
        assert!(parse("cat", &a(&["hf://models/o/r/x", "--max-bytes", "80001"])).is_err());
        assert!(parse("attach", &a(&["hf://models/o/r/x.png", "--max-bytes", "9000000"])).is_err());
        assert!(parse("ls", &a(&["hf://models/trending", "--limit", "21"])).is_err());
        assert!(parse("ls", &a(&["hf://x", "--bogus"])).is_err());
        assert!(parse("search", &a(&["hf://papers"])).is_err());
        assert!(parse("frob", &a(&["hf://models"])).is_err());
    }

    #[test]
    fn web_urls() {
        assert_eq!(normalize_uri("https://huggingface.co/openai/gpt2"), "hf://models/openai/gpt2");
        assert_eq!(
            normalize_uri("https://huggingface.co/datasets/o/r/blob/v1/a/b.json"),
            "hf://datasets/o/r@v1/a/b.json"
        );
        assert_eq!(normalize_uri("https://huggingface.co/o/r/resolve/main/x.md"), "hf://models/o/r/x.md");
        assert_eq!(normalize_uri("models/o/r/"), "hf://models/o/r");
    }
}
