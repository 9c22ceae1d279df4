//! The datasets-server (dataset viewer) API: `/splits`, `/size`, `/rows`, `/first-rows`, `/info`,
//! `/is-valid`, `/parquet`, served under a path prefix of the same listener.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::catalogue::{catalogue, DsConfig, DsDataset, DsSplit};
use crate::hub_api::{can_see, has_gated_access};
use crate::util::{hub_error, not_found_route, ok_json};
use crate::Ctx;

const NOT_ACCESSIBLE: &str = "The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication.";

fn unprocessable(message: &str) -> Response {
    hub_error(StatusCode::UNPROCESSABLE_ENTITY, Some("MissingRequiredParameter"), message)
}

fn response_not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("ResponseNotFound"), "Not found.")
}

fn not_accessible(ctx: &Ctx<'_>) -> Response {
    if ctx.caller.is_authenticated() {
        hub_error(StatusCode::NOT_FOUND, Some("ExternalAuthenticatedError"), NOT_ACCESSIBLE)
    } else {
        hub_error(StatusCode::UNAUTHORIZED, Some("ExternalUnauthenticatedError"), NOT_ACCESSIBLE)
    }
}

fn dataset<'a>(ctx: &Ctx<'_>, name: &'a str) -> Result<(&'a str, &'static DsDataset), Response> {
    let cat = catalogue();
    let repo = cat.datasets.get(name);
    let visible = repo.is_some_and(|r| {
        // Private datasets are not supported by the dataset viewer, even for their owners.
        !r.private && can_see(r, &ctx.caller) && has_gated_access(r, &ctx.caller)
    });
    match (visible, cat.ds.get(name)) {
        (true, Some(d)) => Ok((name, d)),
        _ => Err(not_accessible(ctx)),
    }
}

fn config<'a>(d: &'a DsDataset, name: &str) -> Result<&'a DsConfig, Response> {
    d.configs.iter().find(|c| c.config == name).ok_or_else(response_not_found)
}

fn split<'a>(c: &'a DsConfig, name: &str) -> Result<&'a DsSplit, Response> {
    c.splits.iter().find(|s| s.split == name).ok_or_else(response_not_found)
}

fn rows_json(s: &DsSplit, offset: usize, length: usize) -> Vec<Value> {
    s.rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(length)
        .map(|(i, r)| json!({"row_idx": i, "row": r, "truncated_cells": []}))
        .collect()
}

fn int_param(ctx: &Ctx<'_>, key: &str, default: i64) -> Result<i64, Response> {
    match ctx.query.get(key) {
        None => Ok(default),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                hub_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("InvalidParameter"),
                    &format!("Parameter '{key}' must be integer"),
                )
            })?;
            if n < 0 {
                return Err(hub_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("InvalidParameter"),
                    &format!("Parameter '{key}' must be positive"),
                ));
            }
            Ok(n)
        }
    }
}

fn config_size(ds: &str, c: &DsConfig) -> Value {
    json!({
        "dataset": ds,
        "config": c.config,
        "num_bytes_original_files": c.num_bytes_original_files,
        "num_bytes_parquet_files": c.splits.iter().map(|s| s.num_bytes_parquet_files).sum::<u64>(),
        "num_bytes_memory": c.splits.iter().map(|s| s.num_bytes_memory).sum::<u64>(),
        "num_rows": c.splits.iter().map(|s| s.rows.len()).sum::<usize>(),
        "num_columns": c.features.len(),
        "estimated_num_rows": null,
    })
}

fn split_sizes(ds: &str, c: &DsConfig) -> Vec<Value> {
    c.splits
        .iter()
        .map(|s| {
            json!({
                "dataset": ds,
                "config": c.config,
                "split": s.split,
                "num_bytes_parquet_files": s.num_bytes_parquet_files,
                "num_bytes_memory": s.num_bytes_memory,
                "num_rows": s.rows.len(),
                "num_columns": c.features.len(),
                "estimated_num_rows": null,
            })
        })
        .collect()
}

fn config_info(ds: &str, c: &DsConfig) -> Value {
    let mut m: Map<String, Value> = c.info.clone();
    let features: Map<String, Value> = c
        .features
        .iter()
        .filter_map(|f| Some((f.get("name")?.as_str()?.to_string(), f.get("type").cloned().unwrap_or(Value::Null))))
        .collect();
    m.insert("features".into(), Value::Object(features));
    m.insert("builder_name".into(), json!(ds));
    m.insert("config_name".into(), json!(c.config));
    m.insert("version".into(), json!({"version_str": "0.0.0", "major": 0, "minor": 0, "patch": 0}));
    let splits: Map<String, Value> = c
        .splits
        .iter()
        .map(|s| {
            (
                s.split.clone(),
                json!({"name": s.split, "num_bytes": s.num_bytes_memory, "num_examples": s.rows.len(), "dataset_name": ds}),
            )
        })
        .collect();
    m.insert("splits".into(), Value::Object(splits));
    m.insert("download_size".into(), json!(c.num_bytes_original_files));
    let dataset_size: u64 = c.splits.iter().map(|s| s.num_bytes_memory).sum();
    m.insert("dataset_size".into(), json!(dataset_size));
    Value::Object(m)
}

pub(crate) fn handle(ctx: &Ctx<'_>, sub: &str) -> Response {
    let endpoint = sub.trim_end_matches('/');
    let known = ["/splits", "/size", "/rows", "/first-rows", "/info", "/is-valid", "/parquet"];
    if !known.contains(&endpoint) {
        return not_found_route();
    }
    let Some(name) = ctx.query.get_ne("dataset") else {
        return if endpoint == "/first-rows" {
            unprocessable("Parameters 'dataset', 'config' and 'split' are required")
        } else {
            unprocessable("Parameter 'dataset' is required")
        };
    };
    let (ds, d) = match dataset(ctx, name) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let cfg_param = ctx.query.get_ne("config");
    let result: Result<Response, Response> = (|| match endpoint {
        "/splits" => {
            let configs: Vec<&DsConfig> = match cfg_param {
                Some(c) => vec![config(d, c)?],
                None => d.configs.iter().collect(),
            };
            let splits: Vec<Value> = configs
                .iter()
                .flat_map(|c| {
                    c.splits.iter().map(move |s| json!({"dataset": ds, "config": c.config, "split": s.split}))
                })
                .collect();
            Ok(ok_json(&json!({"splits": splits, "pending": [], "failed": []})))
        }
        "/size" => match cfg_param {
            Some(c) => {
                let c = config(d, c)?;
                Ok(ok_json(&json!({
                    "size": {"config": config_size(ds, c), "splits": split_sizes(ds, c)},
                    "partial": false,
                })))
            }
            None => {
                let configs: Vec<Value> = d.configs.iter().map(|c| config_size(ds, c)).collect();
                let splits: Vec<Value> = d.configs.iter().flat_map(|c| split_sizes(ds, c)).collect();
                let sum =
                    |key: &str| -> u64 { configs.iter().filter_map(|c| c.get(key).and_then(Value::as_u64)).sum() };
                Ok(ok_json(&json!({
                    "size": {
                        "dataset": {
                            "dataset": ds,
                            "num_bytes_original_files": sum("num_bytes_original_files"),
                            "num_bytes_parquet_files": sum("num_bytes_parquet_files"),
                            "num_bytes_memory": sum("num_bytes_memory"),
                            "num_rows": sum("num_rows"),
                            "estimated_num_rows": null,
                        },
                        "configs": configs,
                        "splits": splits,
                    },
                    "pending": [],
                    "failed": [],
                    "partial": false,
                })))
            }
        },
        "/info" => match cfg_param {
            Some(c) => {
                let c = config(d, c)?;
                Ok(ok_json(&json!({"dataset_info": config_info(ds, c), "partial": false})))
            }
            None => {
                let info: Map<String, Value> =
                    d.configs.iter().map(|c| (c.config.clone(), config_info(ds, c))).collect();
                Ok(ok_json(&json!({"dataset_info": info, "pending": [], "failed": [], "partial": false})))
            }
        },
        "/is-valid" => {
            if let Some(c) = cfg_param {
                let c = config(d, c)?;
                if let Some(s) = ctx.query.get_ne("split") {
                    split(c, s)?;
                }
            }
            Ok(ok_json(&d.is_valid))
        }
        "/parquet" => {
            let configs: Vec<&DsConfig> = match cfg_param {
                Some(c) => vec![config(d, c)?],
                None => d.configs.iter().collect(),
            };
            let files: Vec<Value> = configs
                .iter()
                .flat_map(|c| {
                    c.splits.iter().map(move |s| {
                        json!({
                            "dataset": ds,
                            "config": c.config,
                            "split": s.split,
                            "url": format!("https://huggingface.co/datasets/{ds}/resolve/refs%2Fconvert%2Fparquet/{}/{}/0000.parquet", c.config, s.split),
                            "filename": "0000.parquet",
                            "size": s.num_bytes_parquet_files,
                        })
                    })
                })
                .collect();
            Ok(ok_json(&json!({"parquet_files": files, "pending": [], "failed": [], "partial": false})))
        }
        "/first-rows" => {
            let (Some(c), Some(s)) = (cfg_param, ctx.query.get_ne("split")) else {
                return Err(unprocessable("Parameters 'dataset', 'config' and 'split' are required"));
            };
            let c = config(d, c)?;
            let s = split(c, s)?;
            Ok(ok_json(&json!({
                "dataset": ds,
                "config": c.config,
                "split": s.split,
                "features": c.features,
                "rows": rows_json(s, 0, 100),
                "truncated": false,
            })))
        }
        "/rows" => {
            let Some(c) = cfg_param else {
                return Err(unprocessable("Parameter 'config' is required"));
            };
            let Some(s) = ctx.query.get_ne("split") else {
                return Err(unprocessable("Parameter 'split' is required"));
            };
            let offset = int_param(ctx, "offset", 0)? as usize;
            let length = int_param(ctx, "length", 100)? as usize;
            if length > 100 {
                return Err(hub_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("InvalidParameter"),
                    "Parameter 'length' must not be greater than 100",
                ));
            }
            let c = config(d, c)?;
            let s = split(c, s)?;
            Ok(ok_json(&json!({
                "features": c.features,
                "rows": rows_json(s, offset, length),
                "num_rows_total": s.rows.len(),
                "num_rows_per_page": 100,
                "partial": false,
            })))
        }
        _ => Ok(not_found_route()),
    })();
    result.unwrap_or_else(|e| e)
}
