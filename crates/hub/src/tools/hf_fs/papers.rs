//! `hf://papers`: search, trending, Daily Papers by date, and paper directories
//! (`metadata.json`, `paper.md`, linked models/datasets/spaces).

use serde_json::{json, Value};

use super::model::*;
use super::Fs;
use crate::client::{enc, HubError, Service};
use crate::tools::glob::glob_match;

const DAILY_LIMIT: usize = 100;
const ROOT_SAMPLE: usize = 10;
const SEARCH_PROVIDER_LIMIT: usize = 120;
const FIRST_DAILY: &str = "2023-05-04";

pub const README: &str = include_str!("papers.md");

pub(super) enum PaperUri {
    Root,
    Readme,
    Trending,
    DailyRoot,
    DailyLatest,
    DailyYear(u32),
    DailyMonth(u32, u32),
    DailyDay(String),
    Paper(String),
    File(String, &'static str),
    Linked(String, &'static str, Vec<String>),
}

fn normalize_id(s: &str) -> Result<String, FsError> {
    let invalid =
        || FsError::invalid("invalid arXiv paper id; expected an id such as 2502.16161 in hf://papers/2502.16161");
    let (a, b) = s.split_once('.').ok_or_else(invalid)?;
    if a.len() != 4
        || !a.bytes().all(|c| c.is_ascii_digit())
        || !(3..=5).contains(&b.len())
        || !b.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(invalid());
    }
    Ok(format!("{a}.{}", if b.len() == 3 { format!("{b:0>5}") } else { b.to_owned() }))
}

pub(super) fn parse(uri: &str) -> Result<PaperUri, FsError> {
    let rest = uri.trim_start_matches("hf://papers").trim_matches('/');
    if rest.is_empty() {
        return Ok(PaperUri::Root);
    }
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(FsError::invalid("URI path must not contain empty segments"));
    }
    match segs.as_slice() {
        ["README.md"] => Ok(PaperUri::Readme),
        ["trending"] => Ok(PaperUri::Trending),
        ["daily"] => Ok(PaperUri::DailyRoot),
        ["daily", "latest"] => Ok(PaperUri::DailyLatest),
        ["daily", y, tail @ ..] => {
            let num = |s: &str, w: usize, what: &str| -> Result<u32, FsError> {
                (s.len() == w && s.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| s.parse().ok())
                    .flatten()
                    .ok_or_else(|| FsError::invalid(format!("invalid Daily Papers {what}")))
            };
            let year = num(y, 4, "year")?;
            match tail {
                [] => Ok(PaperUri::DailyYear(year)),
                [m] => {
                    let m = num(m, 2, "month")?;
                    if !(1..=12).contains(&m) {
                        return Err(FsError::invalid("invalid Daily Papers month"));
                    }
                    Ok(PaperUri::DailyMonth(year, m))
                }
                [m, d] => {
                    let (m, d) = (num(m, 2, "month")?, num(d, 2, "day")?);
                    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(year, m) {
                        return Err(FsError::invalid("invalid Daily Papers date"));
                    }
                    Ok(PaperUri::DailyDay(format!("{year:04}-{m:02}-{d:02}")))
                }
                _ => Err(FsError::invalid("invalid Daily Papers date")),
            }
        }
        [id] => Ok(PaperUri::Paper(normalize_id(id)?)),
        [id, "metadata.json"] => Ok(PaperUri::File(normalize_id(id)?, "metadata.json")),
        [id, "paper.md"] => Ok(PaperUri::File(normalize_id(id)?, "paper.md")),
        [id, kind @ ("models" | "datasets" | "spaces"), more @ ..] => {
            let kind: &'static str = match *kind {
                "models" => "models",
                "datasets" => "datasets",
                _ => "spaces",
            };
            Ok(PaperUri::Linked(normalize_id(id)?, kind, more.iter().map(|s| s.to_string()).collect()))
        }
        [id, ..] => {
            normalize_id(id)?;
            Err(FsError::not_found(
                "no such file or directory; a paper contains metadata.json, paper.md, models, datasets and spaces",
            ))
        }
        [] => Ok(PaperUri::Root),
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

fn paper_uri(id: &str) -> String {
    format!("hf://papers/{id}")
}

fn daily_uri(date: &str) -> String {
    format!("hf://papers/daily/{}", date.replace('-', "/"))
}

fn dir(name: &str, uri: String) -> Value {
    json!({ "type": "dir", "name": name, "path": name, "uri": uri })
}

/// A paper entry from a search hit, a daily item or a paper object.
fn paper_entry(v: &Value) -> Option<Value> {
    let p = v.get("paper").filter(|p| p.is_object()).unwrap_or(v);
    let id = normalize_id(p.get("id")?.as_str()?).ok()?;
    let s = |k: &str| p.get(k).and_then(Value::as_str).or_else(|| v.get(k).and_then(Value::as_str));
    let mut e = json!({
        "type": "paper", "name": id, "path": id, "uri": paper_uri(&id),
        "url": format!("https://huggingface.co/papers/{id}"),
        "arxiv_url": format!("https://arxiv.org/abs/{id}"),
    });
    if let Some(t) = s("title") {
        e["title"] = t.into();
    }
    if let Some(d) = p.get("ai_summary").and_then(Value::as_str).or_else(|| s("summary")) {
        e["description"] = crate::tools::format::ellipsize(d, 600).into();
    }
    if let Some(u) = p.get("upvotes").and_then(Value::as_f64) {
        e["upvotes"] = json!(u);
    }
    if let Some(pa) = s("publishedAt") {
        e["published_at"] = pa.into();
    }
    if let Some(d) = p.get("submittedOnDailyAt").and_then(Value::as_str).and_then(|d| d.get(..10)) {
        e["daily_papers_date"] = d.into();
        e["daily_papers_uri"] = daily_uri(d).into();
    }
    Some(e)
}

fn filter(p: &Params, entries: Vec<Value>) -> Vec<Value> {
    entries
        .into_iter()
        .filter(|e| {
            if p.op == Op::Find {
                return find_matches(p, e, "");
            }
            p.type_matches(e)
                && p.glob.as_deref().is_none_or(|g| glob_match(g, e.get("path").and_then(Value::as_str).unwrap_or("")))
        })
        .collect()
}

async fn daily(fs: &Fs<'_>, q: &[(&str, String)]) -> Result<(Vec<Value>, bool), HubError> {
    let max = q.iter().find(|(k, _)| *k == "limit").and_then(|(_, v)| v.parse().ok()).unwrap_or(DAILY_LIMIT);
    let l = fs.up.list(fs.token, "/api/daily_papers", q, max).await?;
    Ok((l.items, l.truncated))
}

fn today() -> String {
    let days = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
        / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub async fn run(fs: &Fs<'_>, p: &Params) -> FsResult {
    let parsed = parse(&p.uri)?;
    if p.op == Op::Attach {
        return Err(FsError::not_a_file("attach requires a direct repository file URI; papers have no image files"));
    }
    match parsed {
        PaperUri::Root => root(fs, p).await,
        PaperUri::Readme => match p.op {
            Op::Cat => Ok(cat_text(
                &p.uri,
                "README.md",
                README,
                Some("text/markdown"),
                p.offset.unwrap_or(0),
                p.cat_max_bytes(),
            )),
            Op::Stat => Ok(stat_result(
                &p.uri,
                true,
                "file",
                "README.md",
                vec![("content_type", "text/markdown".into()), ("size", README.len().into())],
            )),
            _ => Err(FsError::not_a_directory("hf://papers/README.md is a file; use cat")),
        },
        PaperUri::Trending => match p.op {
            Op::Ls | Op::Find => trending(fs, p).await,
            Op::Stat => Ok(stat_result(&p.uri, true, "dir", "trending", vec![])),
            Op::Cat => Err(FsError::not_a_file("hf://papers/trending is a directory; use ls")),
            _ => {
                Err(FsError::unsupported("paper search is supported only on hf://papers; use search hf://papers QUERY"))
            }
        },
        PaperUri::DailyRoot
        | PaperUri::DailyLatest
        | PaperUri::DailyYear(_)
        | PaperUri::DailyMonth(..)
        | PaperUri::DailyDay(_) => daily_index(fs, p, parsed).await,
        PaperUri::Paper(id) => paper_dir(fs, p, &id).await,
        PaperUri::File(id, name) => paper_file(fs, p, &id, name).await,
        PaperUri::Linked(id, kind, rest) => linked(fs, p, &id, kind, &rest).await,
    }
}

async fn root(fs: &Fs<'_>, p: &Params) -> FsResult {
    match p.op {
        Op::Stat => return Ok(stat_result("hf://papers", true, "dir", "papers", vec![])),
        Op::Search => return search(fs, p).await,
        Op::Cat => {
            return Err(FsError::not_a_file("hf://papers is a directory; cat hf://papers/README.md for guidance"))
        }
        Op::Find => {
            return Err(FsError::unsupported("find is not supported on hf://papers; use search hf://papers with query"))
        }
        _ => {}
    }
    if p.sort.is_some() {
        return Err(FsError::invalid("sort is not supported on hf://papers; list hf://papers/trending instead"));
    }
    if p.recursive {
        return Err(FsError::unsupported(
            "recursive ls is not supported on hf://papers; use search hf://papers with query, ls hf://papers/trending, or ls hf://papers/daily/latest",
        ));
    }
    let mut entries = vec![
        json!({ "type": "file", "name": "README.md", "path": "README.md", "uri": "hf://papers/README.md",
                "title": "How to use Hugging Face Papers", "content_type": "text/markdown",
                "description": "Search globally or inspect a paper directly as hf://papers/ARXIV_ID, for example hf://papers/2502.16161/paper.md." }),
        {
            let mut d = dir("daily", "hf://papers/daily".into());
            d["description"] = "Browse Daily Papers batches from 2023-05-04, including daily/latest.".into();
            d
        },
        {
            let mut d = dir("trending", "hf://papers/trending".into());
            d["description"] = "Current Hugging Face global trending ranking.".into();
            d
        },
    ];
    let sample = p.limit.unwrap_or(ROOT_SAMPLE).min(DAILY_LIMIT);
    let q = [("p", "0".to_owned()), ("limit", sample.to_string()), ("sort", "publishedAt".to_owned())];
    let (items, _) = daily(fs, &q).await.map_err(|e| FsError::upstream(&e, "the recent papers"))?;
    let papers: Vec<Value> = items.iter().filter_map(paper_entry).take(sample).collect();
    let count = papers.len();
    entries.extend(papers);
    let entries = filter(p, entries);
    let includes_papers = p.entry_type.as_deref().is_none_or(|t| t == "paper");
    Ok(entries_result(
        "hf://papers",
        Op::Ls,
        entries,
        includes_papers.then(|| {
            (
                "provider_limit",
                Some(format!(
            "Showing {count} recent papers. The complete paper namespace is not enumerable; use search hf://papers to \
             discover papers by topic or inspect hf://papers/ARXIV_ID directly."
        )),
            )
        }),
    ))
}

async fn search(fs: &Fs<'_>, p: &Params) -> FsResult {
    let Some(query) = p.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
        return Err(FsError::invalid("search requires query"));
    };
    let requested = p.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    let limit = requested.min(SEARCH_PROVIDER_LIMIT);
    let q = [("q", query.to_owned()), ("limit", SEARCH_PROVIDER_LIMIT.to_string())];
    let body = fs
        .up
        .get_json(fs.token, Service::Hub, "/api/papers/search", &q)
        .await
        .map_err(|e| FsError::upstream(&e, "the paper search"))?;
    let all: Vec<Value> = body.as_array().map(|a| a.iter().filter_map(paper_entry).collect()).unwrap_or_default();
    let total = all.len();
    let filtered: Vec<Value> = all.into_iter().filter(|e| p.type_matches(e)).collect();
    let more = filtered.len() > limit;
    let entries: Vec<Value> = filtered.into_iter().take(limit).collect();
    let provider = requested > SEARCH_PROVIDER_LIMIT && total >= SEARCH_PROVIDER_LIMIT;
    Ok(entries_result(
        "hf://papers",
        Op::Search,
        entries,
        if more {
            Some(("limit", None))
        } else if provider {
            Some(("provider_limit", None))
        } else {
            None
        },
    ))
}

async fn trending(fs: &Fs<'_>, p: &Params) -> FsResult {
    if p.sort.as_deref().is_some_and(|s| s != "trending") {
        return Err(FsError::invalid("hf://papers/trending does not accept another sort"));
    }
    let limit = p.limit.unwrap_or(DEFAULT_TRENDING_LIMIT).min(DAILY_LIMIT);
    let q = [("p", "0".to_owned()), ("limit", limit.to_string()), ("sort", "trending".to_owned())];
    let (items, more) = daily(fs, &q).await.map_err(|e| FsError::upstream(&e, "the trending papers"))?;
    let entries: Vec<Value> =
        filter(p, items.iter().filter_map(paper_entry).collect()).into_iter().take(limit).collect();
    let n = entries.len();
    let mut out = entries_result(
        &p.uri,
        if p.op == Op::Find { Op::Find } else { Op::Ls },
        entries,
        more.then(|| ("limit", Some(if limit < DAILY_LIMIT {
            format!("Showing {n} papers in Hugging Face global trending rank. More papers are available; rerun ls hf://papers/trending with --limit up to {DAILY_LIMIT}.")
        } else {
            format!("Showing {n} papers in Hugging Face global trending rank; hf_fs caps this listing at {DAILY_LIMIT}.")
        }))),
    );
    out.result.insert("order".into(), "Hugging Face global trending rank (not total upvotes)".into());
    Ok(out)
}

async fn daily_index(fs: &Fs<'_>, p: &Params, parsed: PaperUri) -> FsResult {
    let today = today();
    let (ty, mm, _) = (&today[..4], &today[5..7], &today[8..10]);
    let (this_year, this_month): (u32, u32) = (ty.parse().unwrap_or(2026), mm.parse().unwrap_or(1));
    let first_year: u32 = FIRST_DAILY[..4].parse().expect("year");
    if p.op == Op::Search {
        return Err(FsError::unsupported(
            "paper search is supported only on hf://papers; use search hf://papers QUERY",
        ));
    }
    if p.op == Op::Cat {
        return Err(FsError::not_a_file(format!("{} is a directory; use ls", p.uri)));
    }
    if p.sort.is_some() {
        return Err(FsError::invalid(
            "dated Daily Papers listings use upstream batch upvote order and do not accept sort",
        ));
    }
    let batch_date = match &parsed {
        PaperUri::DailyDay(d) => Some(d.clone()),
        PaperUri::DailyLatest => {
            let q = [("p", "0".to_owned()), ("limit", "1".to_owned()), ("sort", "publishedAt".to_owned())];
            let (items, _) = daily(fs, &q).await.map_err(|e| FsError::upstream(&e, "the latest Daily Papers"))?;
            let d = items
                .first()
                .and_then(|i| i.get("publishedAt"))
                .and_then(Value::as_str)
                .and_then(|d| d.get(..10))
                .map(str::to_owned);
            Some(d.unwrap_or_else(|| today.clone()))
        }
        _ => None,
    };
    if let Some(date) = batch_date {
        if date.as_str() < FIRST_DAILY {
            return Err(FsError::not_found("Daily Papers date predates the archive (first batch 2023-05-04)"));
        }
        if date > today {
            return Err(FsError::not_found(format!(
                "Daily Papers for {date} are not available yet; use ls hf://papers/daily/latest"
            )));
        }
        if p.op == Op::Stat {
            let target = matches!(parsed, PaperUri::DailyLatest).then(|| daily_uri(&date));
            return Ok(stat_result(
                &p.uri,
                true,
                "dir",
                p.uri.trim_start_matches("hf://papers/"),
                vec![
                    ("target_uri", target.map(Value::from).unwrap_or(Value::Null)),
                    ("daily_papers_date", date.clone().into()),
                ],
            ));
        }
        let limit = p.limit.unwrap_or(DAILY_LIMIT).min(DAILY_LIMIT);
        let q = [
            ("p", "0".to_owned()),
            ("limit", limit.to_string()),
            ("date", date.clone()),
            ("sort", "publishedAt".to_owned()),
        ];
        let (items, more) = daily(fs, &q).await.map_err(|e| FsError::upstream(&e, "the Daily Papers"))?;
        let entries: Vec<Value> =
            filter(p, items.iter().filter_map(paper_entry).collect()).into_iter().take(limit).collect();
        let mut out = entries_result(
            &p.uri,
            if p.op == Op::Find { Op::Find } else { Op::Ls },
            entries,
            more.then_some(("limit", None)),
        );
        out.result.insert("order".into(), "Daily Papers batch upvotes, then feed placement".into());
        out.result.insert("daily_papers_date".into(), date.into());
        return Ok(out);
    }
    if p.op == Op::Find {
        return Err(FsError::unsupported("find on Daily Papers must be scoped to a day or daily/latest"));
    }
    let entries: Vec<Value> = match parsed {
        PaperUri::DailyRoot => {
            let mut v = vec![{
                let mut d = dir("latest", "hf://papers/daily/latest".into());
                d["description"] = "Alias for the current Daily Papers batch.".into();
                d
            }];
            v.extend((first_year..=this_year).map(|y| dir(&y.to_string(), format!("hf://papers/daily/{y}"))));
            v
        }
        PaperUri::DailyYear(y) => {
            if y < first_year || y > this_year {
                return Err(FsError::not_found("Daily Papers year does not exist"));
            }
            let first = if y == first_year { 5 } else { 1 };
            let last = if y == this_year { this_month } else { 12 };
            (first..=last).map(|m| dir(&format!("{m:02}"), format!("hf://papers/daily/{y}/{m:02}"))).collect()
        }
        PaperUri::DailyMonth(y, m) => {
            if format!("{y:04}-{m:02}").as_str() < &FIRST_DAILY[..7] || (y, m) > (this_year, this_month) {
                return Err(FsError::not_found("Daily Papers month does not exist"));
            }
            let first = if (y, m) == (first_year, 5) { 4 } else { 1 };
            let last =
                if (y, m) == (this_year, this_month) { today[8..10].parse().unwrap_or(1) } else { days_in_month(y, m) };
            (first..=last).map(|d| dir(&format!("{d:02}"), format!("hf://papers/daily/{y}/{m:02}/{d:02}"))).collect()
        }
        _ => Vec::new(),
    };
    if p.op == Op::Stat {
        return Ok(stat_result(&p.uri, true, "dir", p.uri.trim_start_matches("hf://papers/"), vec![]));
    }
    let entries = filter(p, entries);
    let (entries, _) = page(p, entries, usize::MAX);
    Ok(entries_result(&p.uri, Op::Ls, entries, None))
}

async fn get_paper(fs: &Fs<'_>, id: &str) -> Result<Option<Value>, FsError> {
    match fs.up.get_json(fs.token, Service::Hub, &format!("/api/papers/{}", enc(id)), &[]).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(FsError::upstream(&e, &format!("paper {id}"))),
    }
}

fn missing_paper(id: &str) -> FsError {
    FsError::not_found(format!(
        "no such paper at hf://papers/{id}; verify the arXiv ID or use search hf://papers with query"
    ))
}

fn children(id: &str) -> Vec<Value> {
    let u = paper_uri(id);
    vec![
        json!({ "type": "file", "name": "metadata.json", "path": "metadata.json", "uri": format!("{u}/metadata.json"), "content_type": "application/json" }),
        json!({ "type": "file", "name": "paper.md", "path": "paper.md", "uri": format!("{u}/paper.md"), "content_type": "text/markdown" }),
        dir("models", format!("{u}/models")),
        dir("datasets", format!("{u}/datasets")),
        dir("spaces", format!("{u}/spaces")),
    ]
}

async fn paper_dir(fs: &Fs<'_>, p: &Params, id: &str) -> FsResult {
    let uri = paper_uri(id);
    let Some(paper) = get_paper(fs, id).await? else {
        return if p.op == Op::Stat {
            Ok(stat_result(&uri, false, "missing", id, vec![]))
        } else {
            Err(missing_paper(id))
        };
    };
    match p.op {
        Op::Stat => {
            let daily = paper.get("submittedOnDailyAt").and_then(Value::as_str).and_then(|d| d.get(..10));
            Ok(stat_result(
                &uri,
                true,
                "paper",
                id,
                vec![
                    ("published_at", paper.get("publishedAt").cloned().unwrap_or(Value::Null)),
                    ("daily_papers_date", daily.map(Value::from).unwrap_or(Value::Null)),
                    ("daily_papers_uri", daily.map(|d| Value::from(daily_uri(d))).unwrap_or(Value::Null)),
                    ("url", format!("https://huggingface.co/papers/{id}").into()),
                    ("arxiv_url", format!("https://arxiv.org/abs/{id}").into()),
                ],
            ))
        }
        Op::Cat => {
            Err(FsError::not_a_file(format!("{uri} is a paper directory; read {uri}/paper.md or {uri}/metadata.json")))
        }
        Op::Search => {
            Err(FsError::unsupported("paper search is supported only on hf://papers; use search hf://papers QUERY"))
        }
        Op::Ls if !p.recursive => {
            let entries = filter(p, children(id));
            Ok(entries_result(&uri, Op::Ls, entries, None))
        }
        _ => {
            let repos = linked_repos(fs, id).await?;
            let mut all = children(id);
            for kind in ["models", "datasets", "spaces"] {
                all.extend(link_entries(id, kind, &repos));
            }
            let entries = filter(p, all);
            let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
            Ok(entries_result(&uri, p.op, entries, truncated.then_some(("entry_limit", None))))
        }
    }
}

async fn paper_file(fs: &Fs<'_>, p: &Params, id: &str, name: &'static str) -> FsResult {
    let uri = format!("{}/{name}", paper_uri(id));
    let Some(paper) = get_paper(fs, id).await? else {
        return if p.op == Op::Stat {
            Ok(stat_result(&uri, false, "missing", name, vec![]))
        } else {
            Err(missing_paper(id))
        };
    };
    let ct = if name == "metadata.json" { "application/json" } else { "text/markdown" };
    match p.op {
        Op::Stat => Ok(stat_result(&uri, true, "file", name, vec![("content_type", ct.into())])),
        Op::Ls => Err(FsError::not_a_directory(format!("{uri} is a file; use cat"))),
        Op::Find => {
            let e = json!({ "type": "file", "name": name, "path": name, "uri": uri, "content_type": ct });
            let keep = find_matches(p, &e, "");
            Ok(entries_result(&uri, Op::Find, if keep { vec![e] } else { vec![] }, None))
        }
        Op::Cat => {
            let content = if name == "metadata.json" {
                format!("{}\n", serde_json::to_string_pretty(&paper).unwrap_or_default())
            } else {
                match fs.up.page_text(&format!("/papers/{}.md", enc(id))).await {
                    Some(text) if !text.trim().is_empty() => text,
                    _ => fallback_markdown(id, &paper),
                }
            };
            Ok(cat_text(&uri, name, &content, Some(ct), p.offset.unwrap_or(0), p.cat_max_bytes()))
        }
        _ => Err(FsError::unsupported("paper search is supported only on hf://papers")),
    }
}

fn fallback_markdown(id: &str, paper: &Value) -> String {
    let s = |k: &str| paper.get(k).and_then(Value::as_str);
    let mut l = vec![
        format!("# {}", s("title").unwrap_or(id)),
        String::new(),
        "> **Full-text availability:** The full paper is not available in Markdown.".into(),
        "> This fallback document contains metadata and summaries. Read the".into(),
        format!("> [original PDF](https://arxiv.org/pdf/{id})."),
        String::new(),
    ];
    let authors: Vec<&str> = paper
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|x| x.get("hidden") != Some(&Value::Bool(true)))
                .filter_map(|x| x.get("name")?.as_str())
                .collect()
        })
        .unwrap_or_default();
    if !authors.is_empty() {
        l.push(format!("**Authors:** {}", authors.join(", ")));
    }
    if let Some(d) = s("publishedAt") {
        l.push(format!("**Published:** {d}"));
    }
    l.push(format!("**arXiv:** {id}"));
    l.push(String::new());
    l.push("## Links".into());
    l.push(String::new());
    l.push(format!("- [Hugging Face paper page](https://huggingface.co/papers/{id})"));
    l.push(format!("- [arXiv abstract](https://arxiv.org/abs/{id})"));
    if let Some(g) = s("githubRepo") {
        l.push(format!("- [GitHub repository]({g})"));
    }
    if let Some(a) = s("ai_summary") {
        l.extend([
            String::new(),
            "## AI-generated summary".into(),
            String::new(),
            "> This section was generated by an AI model and may contain inaccuracies.".into(),
            String::new(),
            a.to_owned(),
        ]);
    }
    if let Some(a) = s("summary") {
        l.extend([String::new(), "## Abstract".into(), String::new(), a.to_owned()]);
    }
    l.join("\n") + "\n"
}

async fn linked_repos(fs: &Fs<'_>, id: &str) -> Result<Value, FsError> {
    match fs.up.get_json(fs.token, Service::Hub, &format!("/api/arxiv/{}/repos", enc(id)), &[]).await {
        Ok(v) => Ok(v),
        // Not every deployment serves linked repositories; treat as none linked.
        Err(e) if e.status() == Some(404) => Ok(json!({ "models": [], "datasets": [], "spaces": [] })),
        Err(e) => Err(FsError::upstream(&e, &format!("the repositories linked to paper {id}"))),
    }
}

fn link_entries(id: &str, kind: &str, repos: &Value) -> Vec<Value> {
    let mut v: Vec<Value> = repos
        .get(kind)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    let rid = r.get("id")?.as_str()?;
                    let (ns, name) = rid.split_once('/')?;
                    let mut e = json!({
                        "type": "link", "name": name, "path": format!("{kind}/{ns}/{name}"),
                        "uri": format!("hf://papers/{id}/{kind}/{}/{}", enc(ns), enc(name)),
                        "target_uri": format!("hf://{kind}/{}/{}", enc(ns), enc(name)),
                        "title": rid,
                    });
                    for (from, to) in [
                        ("likes", "likes"),
                        ("downloads", "downloads"),
                        ("lastModified", "updated_at"),
                        ("private", "private"),
                    ] {
                        if let Some(x) = r.get(from).filter(|x| !x.is_null()) {
                            e[to] = x.clone();
                        }
                    }
                    Some(e)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    v
}

async fn linked(fs: &Fs<'_>, p: &Params, id: &str, kind: &'static str, rest: &[String]) -> FsResult {
    if get_paper(fs, id).await?.is_none() {
        return Err(missing_paper(id));
    }
    let repos = linked_repos(fs, id).await?;
    let links = link_entries(id, kind, &repos);
    match rest {
        [] | [_] => {
            let base = if rest.is_empty() { kind.to_owned() } else { format!("{kind}/{}", rest[0]) };
            let uri = format!("hf://papers/{id}/{base}");
            if p.op == Op::Stat {
                let exists = rest.is_empty()
                    || links.iter().any(|l| l["path"].as_str().is_some_and(|x| x.starts_with(&format!("{base}/"))));
                return Ok(stat_result(&uri, exists, if exists { "dir" } else { "missing" }, &base, vec![]));
            }
            if p.op != Op::Ls && p.op != Op::Find {
                return Err(FsError::not_a_file(format!("{uri} is a directory; use ls")));
            }
            let entries: Vec<Value> = if rest.is_empty() && p.op == Op::Ls && !p.recursive {
                let mut ns: Vec<&str> = links.iter().filter_map(|l| l["path"].as_str()?.split('/').nth(1)).collect();
                ns.dedup();
                ns.iter().map(|n| json!({ "type": "dir", "name": n, "path": format!("{kind}/{n}"), "uri": format!("hf://papers/{id}/{kind}/{}", enc(n)) })).collect()
            } else {
                links
                    .into_iter()
                    .filter(|l| l["path"].as_str().is_some_and(|x| x.starts_with(&format!("{base}/"))))
                    .collect()
            };
            if !rest.is_empty() && entries.is_empty() {
                return Err(FsError::not_found(format!("no repositories of '{}' are linked to paper {id}", rest[0])));
            }
            let entries = filter(p, entries);
            Ok(entries_result(&uri, p.op, entries, None))
        }
        [ns, name, tail @ ..] => {
            let target = format!("hf://{kind}/{}/{}", enc(ns), enc(name));
            if !links.iter().any(|l| l["target_uri"].as_str() == Some(&target)) {
                return Err(FsError::not_found(format!(
                    "{ns}/{name} is not linked to paper {id}; use {target} directly"
                )));
            }
            if tail.is_empty() && p.op == Op::Stat {
                let uri = format!("hf://papers/{id}/{kind}/{}/{}", enc(ns), enc(name));
                return Ok(stat_result(
                    &uri,
                    true,
                    "link",
                    &format!("{kind}/{ns}/{name}"),
                    vec![("target_uri", target.into())],
                ));
            }
            // Resolve the link: run the operation on the target.
            let mut q = p.clone();
            q.uri = if tail.is_empty() { target } else { format!("{target}/{}", tail.join("/")) };
            Box::pin(super::run_one(fs, &q)).await
        }
    }
}
