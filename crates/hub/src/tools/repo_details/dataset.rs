//! Dataset views for `hub_repo_details` from the datasets-server: structure (configs,
//! splits, sizes, parquet exports, schema) and row previews. A failing view becomes a
//! warning in its section rather than failing the repository.

use serde_json::{json, Map, Value};

use super::overview::{drill_down_hint, overview};
use super::{error_section, Request, Section, MAX_ROW_PREVIEW_CHARS};
use crate::client::{HubClient, HubError, Service};
use crate::tools::format::{escape_md, format_bytes, format_number, num_of, str_of};
use crate::tools::repo_search::RepoType;

const MAX_TABLE_COLUMNS: usize = 30;

pub(super) async fn dataset(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> Section {
    let mut md = Vec::new();
    let mut m = Map::new();
    m.insert("repo_type".into(), "dataset".into());
    if req.operations.contains(&"overview") {
        match overview(upstream, token, RepoType::Dataset, id).await {
            Ok((text, ov)) => {
                md.push(format!("{text}\n\n{}", drill_down_hint()));
                m.insert("overview".into(), ov);
            }
            Err(e) => return error_section(id, &e, "dataset"),
        }
    }
    if req.operations.contains(&"dataset_structure") {
        let (text, st) = structure(upstream, token, id, req).await;
        md.push(text);
        m.insert("structure".into(), st);
    }
    if req.operations.contains(&"dataset_preview") {
        let (text, pv) = preview(upstream, token, id, req).await;
        md.push(text);
        if let Some(pv) = pv {
            m.insert("preview".into(), pv);
        }
    }
    Section {
        markdown: md.join("\n\n"),
        record: json!({ "status": "ok", "repo_id": id, "matches": [Value::Object(m)] }),
        ok: true,
    }
}

async fn ds(upstream: &HubClient, token: Option<&str>, path: &str, q: &[(&str, String)]) -> Result<Value, String> {
    upstream.get_json(token, Service::DatasetsServer, path, q).await.map_err(|e| ds_warning(&e, path))
}

fn ds_warning(e: &HubError, path: &str) -> String {
    let what = match path {
        "/splits" => "splits",
        "/size" => "size information",
        "/parquet" => "parquet export information",
        _ => "rows",
    };
    let retry = if e.is_retryable() { " A retry may help." } else { "" };
    let said = match e.status() {
        Some(status) => format!("{status}: {}", e.detail()),
        None => e.detail(),
    };
    format!("Could not fetch {what} from Dataset Viewer: {said}.{retry}")
}

fn splits_of(v: &Value) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = v
        .get("splits")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|x| Some((str_of(x, "config")?.to_owned(), str_of(x, "split")?.to_owned()))).collect()
        })
        .unwrap_or_default();
    s.sort();
    s
}

async fn structure(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> (String, Value) {
    let q = [("dataset", id.to_owned())];
    let (splits_r, size_r, parquet_r) = tokio::join!(
        ds(upstream, token, "/splits", &q),
        ds(upstream, token, "/size", &q),
        ds(upstream, token, "/parquet", &q),
    );
    let mut warnings = Vec::new();
    let mut l = vec!["## Dataset Structure".to_owned(), String::new()];
    let splits = match &splits_r {
        Ok(v) => splits_of(v),
        Err(w) => {
            warnings.push(w.clone());
            Vec::new()
        }
    };
    let size = size_r.as_ref().map_err(|w| warnings.push(w.clone())).ok().cloned();
    let parquet = parquet_r.as_ref().map_err(|w| warnings.push(w.clone())).ok().cloned();
    for w in &warnings {
        l.push(format!("> {w}"));
        l.push(String::new());
    }
    let size_splits: Vec<Value> =
        size.as_ref().and_then(|s| s.pointer("/size/splits")).and_then(Value::as_array).cloned().unwrap_or_default();
    let configs: Vec<Value> =
        size.as_ref().and_then(|s| s.pointer("/size/configs")).and_then(Value::as_array).cloned().unwrap_or_default();
    let partial = size.as_ref().and_then(|s| s.get("partial")).and_then(Value::as_bool).unwrap_or(false);
    let mut split_records = Vec::new();
    if !splits.is_empty() || !size_splits.is_empty() {
        l.push("### Configs and Splits".into());
        l.push("| Config | Split | Rows | Estimated Rows | Columns | Parquet Size |".into());
        l.push("|---|---|---:|---:|---:|---:|".into());
        let rows: Vec<(String, String)> = if splits.is_empty() {
            size_splits
                .iter()
                .filter_map(|s| Some((str_of(s, "config")?.to_owned(), str_of(s, "split")?.to_owned())))
                .collect()
        } else {
            splits.clone()
        };
        for (c, s) in &rows {
            let e = size_splits.iter().find(|x| str_of(x, "config") == Some(c) && str_of(x, "split") == Some(s));
            let n = |k: &str| e.and_then(|e| num_of(e, k)).map(format_number).unwrap_or_else(|| "—".into());
            let b =
                e.and_then(|e| num_of(e, "num_bytes_parquet_files")).map(format_bytes).unwrap_or_else(|| "—".into());
            l.push(format!(
                "| {} | {} | {} | {} | {} | {b} |",
                escape_md(c),
                escape_md(s),
                n("num_rows"),
                n("estimated_num_rows"),
                n("num_columns")
            ));
            let mut rec = Map::new();
            rec.insert("config".into(), c.clone().into());
            rec.insert("split".into(), s.clone().into());
            if let Some(e) = e {
                for k in
                    ["num_rows", "estimated_num_rows", "num_columns", "num_bytes_parquet_files", "num_bytes_memory"]
                {
                    if let Some(x) = e.get(k).filter(|x| !x.is_null()) {
                        rec.insert(k.into(), x.clone());
                    }
                }
            }
            split_records.push(Value::Object(rec));
        }
        if let Some(total) = size.as_ref().and_then(|s| s.pointer("/size/dataset")).and_then(|d| num_of(d, "num_rows"))
        {
            l.push(String::new());
            l.push(format!("Total rows: {}.", format_number(total)));
        }
        if partial {
            l.push(String::new());
            l.push(
                "> Size information is partial; estimated rows may be shown where exact counts are unavailable.".into(),
            );
        }
        l.push(String::new());
    }
    let files: Vec<Value> =
        parquet.as_ref().and_then(|p| p.get("parquet_files")).and_then(Value::as_array).cloned().unwrap_or_default();
    if parquet.is_some() {
        l.push("### Parquet Exports".into());
        if files.is_empty() {
            l.push(String::new());
            l.push("> No parquet export files were listed.".into());
        } else {
            let mut groups: Vec<(String, String, usize, f64)> = Vec::new();
            for f in &files {
                let (c, s) =
                    (str_of(f, "config").unwrap_or("").to_owned(), str_of(f, "split").unwrap_or("").to_owned());
                let size = num_of(f, "size").unwrap_or(0.0);
                match groups.iter_mut().find(|g| g.0 == c && g.1 == s) {
                    Some(g) => {
                        g.2 += 1;
                        g.3 += size;
                    }
                    None => groups.push((c, s, 1, size)),
                }
            }
            groups.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            l.push("| Config | Split | Files | Total Size |".into());
            l.push("|---|---|---:|---:|".into());
            for (c, s, n, size) in &groups {
                l.push(format!("| {} | {} | {n} | {} |", escape_md(c), escape_md(s), format_bytes(*size)));
            }
            if files.len() <= 5 {
                l.push(String::new());
                l.push("Parquet URLs:".into());
                for f in &files {
                    l.push(format!(
                        "- `{}/{}/{}`: {}",
                        str_of(f, "config").unwrap_or(""),
                        str_of(f, "split").unwrap_or(""),
                        str_of(f, "filename").unwrap_or("file"),
                        str_of(f, "url").unwrap_or("")
                    ));
                }
            } else {
                l.push(String::new());
                l.push(format!("Parquet file URLs omitted for brevity ({} files).", files.len()));
            }
        }
        l.push(String::new());
    }
    // Schema from the first row of the requested (or first) config/split.
    let target = match (&req.config, &req.split) {
        (Some(c), Some(s)) => Some((c.clone(), s.clone())),
        _ => splits.first().cloned(),
    };
    let mut features = Vec::new();
    if let Some((c, s)) = &target {
        let q = [
            ("dataset", id.to_owned()),
            ("config", c.clone()),
            ("split", s.clone()),
            ("offset", "0".to_owned()),
            ("length", "1".to_owned()),
        ];
        l.push("### Schema Preview".into());
        l.push(String::new());
        match ds(upstream, token, "/rows", &q).await {
            Ok(rows) => {
                l.push(format!("Using `{c}/{s}`."));
                l.push(String::new());
                features = rows.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
                l.extend(features_table(&features));
            }
            Err(w) => {
                l.push(format!("> {w}"));
                warnings.push(w);
            }
        }
    } else if splits.is_empty() {
        l.push("### Schema Preview".into());
        l.push(String::new());
        l.push("> No config/split target was available for schema preview.".into());
    }
    let st = json!({
        "configs": configs,
        "splits": split_records,
        "parquet_files": files,
        "features": features,
        "partial": partial,
        "warnings": warnings,
    });
    (l.join("\n").trim_end().to_owned(), st)
}

fn features_table(features: &[Value]) -> Vec<String> {
    let mut l = vec!["| # | Column | Type |".to_owned(), "|---:|---|---|".to_owned()];
    for (i, f) in features.iter().enumerate() {
        let ty = f.get("type").map(|t| t.to_string()).unwrap_or_default();
        l.push(format!("| {} | {} | {} |", i + 1, escape_md(str_of(f, "name").unwrap_or("")), escape_md(&ty)));
    }
    if features.is_empty() {
        l.push("| — | — | — |".into());
    }
    l.push(String::new());
    l
}

async fn preview(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> (String, Option<Value>) {
    let head = "## Dataset Preview\n\n".to_owned();
    let splits = match ds(upstream, token, "/splits", &[("dataset", id.to_owned())]).await {
        Ok(v) => splits_of(&v),
        Err(w) => return (format!("{head}- Error: {w}"), None),
    };
    let options = |splits: &[(String, String)]| {
        let mut l = vec!["Available options:".to_owned()];
        l.extend(splits.iter().take(50).map(|(c, s)| format!("- `{c}` / `{s}`")));
        l.join("\n")
    };
    if splits.is_empty() {
        return (format!("{head}No Dataset Viewer config/split options are available for this dataset."), None);
    }
    let (config, split) = match (&req.config, &req.split) {
        (Some(c), Some(s)) => {
            if !splits.iter().any(|(a, b)| a == c && b == s) {
                return (format!("{head}Config/split `{c}` / `{s}` was not found.\n\n{}", options(&splits)), None);
            }
            (c.clone(), s.clone())
        }
        _ if splits.len() == 1 => {
            let (c, s) = splits[0].clone();
            if req.config.as_ref().is_some_and(|x| *x != c) || req.split.as_ref().is_some_and(|x| *x != s) {
                return (
                    format!(
                        "{head}Config/split `{}` / `{}` was not found.\n\n{}",
                        req.config.as_deref().unwrap_or(&c),
                        req.split.as_deref().unwrap_or(&s),
                        options(&splits)
                    ),
                    None,
                );
            }
            (c, s)
        }
        _ => {
            return (
                format!(
                    "{head}`dataset_preview` requires `config` and `split` because this dataset has multiple choices.\n\n{}",
                    options(&splits)
                ),
                None,
            )
        }
    };
    let q = [
        ("dataset", id.to_owned()),
        ("config", config.clone()),
        ("split", split.clone()),
        ("offset", req.offset.to_string()),
        ("length", req.limit.to_string()),
    ];
    let rows = match ds(upstream, token, "/rows", &q).await {
        Ok(r) => r,
        Err(w) => {
            return (
                format!("{head}- Dataset: `{id}`\n- Config: `{config}`\n- Split: `{split}`\n\n> {w}"),
                Some(
                    json!({ "config": config, "split": split, "offset": req.offset, "rows": [], "partial": false, "warnings": [w] }),
                ),
            )
        }
    };
    let features = rows.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
    let row_list = rows.get("rows").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = rows.get("num_rows_total").and_then(Value::as_u64);
    let partial = rows.get("partial").and_then(Value::as_bool).unwrap_or(false);
    let end = if row_list.is_empty() { req.offset } else { req.offset + row_list.len() as u64 - 1 };
    let mut l = vec![
        "## Dataset Preview".to_owned(),
        String::new(),
        format!("- Dataset: `{id}`"),
        format!("- Config: `{config}`"),
        format!("- Split: `{split}`"),
        format!("- Rows: `{}-{end}`", req.offset),
        format!("- Requested limit: `{}`", req.limit),
    ];
    if let Some(t) = total {
        l.push(format!("- Total rows: `{}`", format_number(t as f64)));
    }
    l.push(String::new());
    l.push("### Features".into());
    l.push(String::new());
    l.extend(features_table(&features));
    l.push("### Rows".into());
    l.push(String::new());
    let columns: Vec<String> = features.iter().filter_map(|f| str_of(f, "name").map(str::to_owned)).collect();
    let visible: Vec<&String> = columns.iter().take(MAX_TABLE_COLUMNS).collect();
    let mut records = Vec::new();
    let mut budget_hit = false;
    let mut dv_truncated = false;
    if row_list.is_empty() {
        l.push("No rows returned.".into());
    } else {
        let header = format!("| # | {} |", visible.iter().map(|c| escape_md(c)).collect::<Vec<_>>().join(" | "));
        let rule = format!("|---:|{}|", visible.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        // The table is counted as the hosted server counts it: its own lines, newline-joined.
        let mut used = header.len() + 1 + rule.len();
        l.push(header);
        l.push(rule);
        for r in &row_list {
            let idx = r.get("row_idx").and_then(Value::as_u64).unwrap_or(0);
            let row = r.get("row").cloned().unwrap_or(Value::Null);
            let truncated_cells: Vec<Value> =
                r.get("truncated_cells").and_then(Value::as_array).cloned().unwrap_or_default();
            dv_truncated |= !truncated_cells.is_empty();
            let cells: Vec<String> = visible
                .iter()
                .map(|c| {
                    let v = row.get(c.as_str()).cloned().unwrap_or(Value::Null);
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    escape_md(&s)
                })
                .collect();
            let line = format!("| {idx} | {} |", cells.join(" | "));
            if used + line.len() + 1 > MAX_ROW_PREVIEW_CHARS {
                budget_hit = true;
                // A first row too wide for the cap is shown cut, rather than no row at all.
                let remaining = MAX_ROW_PREVIEW_CHARS.saturating_sub(used + 2);
                if records.is_empty() && remaining > 0 {
                    l.push(format!("{}… |", crate::tools::format::cut(&line, remaining)));
                }
                break;
            }
            used += line.len() + 1;
            l.push(line);
            records.push(json!({ "row_index": idx, "row": row, "truncated_cells": truncated_cells }));
        }
        if columns.len() > visible.len() {
            l.push(String::new());
            l.push(format!(
                "Showing first {} columns; omitted {} wider columns.",
                visible.len(),
                columns.len() - visible.len()
            ));
        }
        if budget_hit {
            l.push(String::new());
            l.push(
                "Row preview output was truncated after approximately 66,000 characters. Use a lower `limit`, narrower \
                 config/split, or later `offset` to inspect more."
                    .into(),
            );
        }
        if dv_truncated {
            l.push(String::new());
            l.push("Dataset Viewer reported truncated cells in the returned rows.".into());
        }
    }
    if partial {
        l.push(String::new());
        l.push("> Row response is partial.".into());
    }
    let mut pv = json!({
        "config": config, "split": split, "offset": req.offset, "rows": records, "partial": partial,
    });
    if let Some(t) = total {
        pv["total_rows"] = t.into();
    }
    if budget_hit {
        pv["warnings"] = json!(["row preview truncated to fit the output budget"]);
    }
    (l.join("\n").trim_end().to_owned(), Some(pv))
}
