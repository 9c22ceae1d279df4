//! From the tool's arguments to the Jobs API's `JobSpec`, as hf-mcp-server builds it: the
//! image (a Docker image or an `hf.co/spaces/…` Space), the command (an array, or a string
//! split with POSIX quoting and no shell operators), a timeout like `30m`, `hf://` volumes,
//! `uv` scripts (inline scripts travel base64-encoded), and `$HF_TOKEN` in secrets replaced
//! by the caller's token. Safer than upstream: the token is never put in `env` (visible to
//! anyone who can inspect the job) — only in `secrets`.

use serde_json::{json, Map, Value};

use super::args::{Command, RunArgs, UvArgs};

pub const UV_IMAGE: &str = "ghcr.io/astral-sh/uv:python3.12-bookworm";
const SPACE_PREFIXES: &[&str] =
    &["https://huggingface.co/spaces/", "https://hf.co/spaces/", "huggingface.co/spaces/", "hf.co/spaces/"];
const VOLUME_HELP: &str = "Expected format: hf://[TYPE/]OWNER/NAME[/PATH]:/MOUNT_PATH[:ro|:rw], e.g. \
hf://datasets/org/dataset:/data:ro or hf://buckets/org/bucket:/output.";

fn is_token_placeholder(v: &str) -> bool {
    v == "$HF_TOKEN" || v == "${HF_TOKEN}"
}

/// Seconds of `5m`, `2h`, `30s`, `1d`, `1.5h` or plain seconds.
pub fn parse_timeout(t: &str) -> Result<u64, String> {
    let t = t.trim();
    let bad = || format!("Invalid timeout format: \"{t}\". Use format like \"5m\", \"2h\", \"30s\", or plain seconds.");
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let factor = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86400.0,
        _ => return Err(bad()),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    if !n.is_finite() || n <= 0.0 {
        return Err(bad());
    }
    Ok((n * factor).floor().max(1.0) as u64)
}

/// A command string split like a POSIX shell (quotes, backslashes); shell operators refused.
pub fn split_command(cmd: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            },
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '|' | '&' | ';' | '<' | '>' | '(' | ')' | '`') => {
                return Err(format!(
                    "Unsupported shell syntax in command: \"{cmd}\". Please use an array format for commands with \
                     complex shell operators, e.g. [\"/bin/sh\", \"-lc\", \"...\"], or use simple quoted strings."
                ))
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("Invalid command: \"{cmd}\": unterminated quote."));
    }
    if in_word {
        out.push(cur);
    }
    if out.is_empty() {
        return Err(format!("Invalid command: \"{cmd}\". Command cannot be empty."));
    }
    Ok(out)
}

fn invalid_volume(raw: &str, why: &str) -> String {
    format!("Invalid volume \"{raw}\". {why} {VOLUME_HELP}")
}

/// One `hf://` volume as the API's `{type, source, mountPath, readOnly?, path?}`.
pub fn parse_volume(raw: &str) -> Result<Value, String> {
    let (spec, read_only) = match (raw.strip_suffix(":ro"), raw.strip_suffix(":rw")) {
        (Some(s), _) => (s, Some(true)),
        (_, Some(s)) => (s, Some(false)),
        _ => (raw, None),
    };
    let body =
        spec.strip_prefix("hf://").ok_or_else(|| invalid_volume(raw, "Volume source must start with \"hf://\"."))?;
    let sep = body.rfind(":/").ok_or_else(|| invalid_volume(raw, "Missing mount path."))?;
    let (source, mount) = (&body[..sep], &body[sep + 1..]);
    if source.is_empty() {
        return Err(invalid_volume(raw, "Missing Hub source before mount path."));
    }
    if !mount.starts_with('/') || mount == "/" {
        return Err(invalid_volume(raw, &format!("Mount path must be a non-empty absolute path, got \"{mount}\".")));
    }
    let segs: Vec<&str> = source.split('/').collect();
    if matches!(segs[0], "model" | "dataset" | "space" | "bucket") {
        return Err(invalid_volume(raw, &format!("Type prefix must be plural, got \"{}/\".", segs[0])));
    }
    let explicit = match segs[0] {
        "models" => Some("model"),
        "datasets" => Some("dataset"),
        "spaces" => Some("space"),
        "buckets" => Some("bucket"),
        _ => None,
    };
    let loc = if explicit.is_some() { &segs[1..] } else { &segs[..] };
    if loc.len() < 2 || loc[0].is_empty() || loc[1].is_empty() {
        return Err(invalid_volume(raw, "Hub source must include OWNER/NAME."));
    }
    let mut v = json!({ "type": explicit.unwrap_or("model"), "source": format!("{}/{}", loc[0], loc[1]),
        "mountPath": mount });
    if let Some(ro) = read_only {
        v["readOnly"] = ro.into();
    }
    let path = loc[2..].join("/");
    if !path.is_empty() {
        v["path"] = path.into();
    }
    Ok(v)
}

/// Single-quote `s` for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:@%+,".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn uv_parts(script: &str, a: &UvArgs) -> Vec<String> {
    let mut parts = vec!["uv".to_owned(), "run".to_owned()];
    for dep in a.with_deps.iter().flatten() {
        parts.extend(["--with".to_owned(), dep.clone()]);
    }
    if let Some(p) = &a.python {
        parts.extend(["-p".to_owned(), p.clone()]);
    }
    parts.push(script.to_owned());
    parts.extend(a.script_args.iter().flatten().cloned());
    parts
}

/// The command of a `uv` job: a URL or a one-line command runs as is; an inline script is
/// piped in base64 (so no quoting can break it).
pub fn uv_command(a: &UvArgs) -> Vec<String> {
    let script = a.script.as_str();
    if script.starts_with("http://") || script.starts_with("https://") || !script.contains('\n') {
        return uv_parts(script, a);
    }
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(script.as_bytes());
    let pipeline: Vec<String> = uv_parts("-", a).iter().map(|p| shell_quote(p)).collect();
    vec!["/bin/sh".into(), "-lc".into(), format!("echo \"{encoded}\" | base64 -d | {}", pipeline.join(" "))]
}

/// The `JobSpec` of a `run` (or of a `uv` turned into a run).
pub fn job_spec(a: &RunArgs, token: &str) -> Result<Map<String, Value>, String> {
    let mut spec = Map::new();
    let image = a.image.trim();
    if image.is_empty() {
        return Err("image parameter is required. Provide a Docker image (e.g., \"python:3.12\") or Space URL.".into());
    }
    match SPACE_PREFIXES.iter().find_map(|p| image.strip_prefix(p)) {
        Some(space) => spec.insert("spaceId".into(), space.into()),
        None => spec.insert("dockerImage".into(), image.into()),
    };
    let command = match &a.command {
        Command::Argv(v) if v.is_empty() => return Err("command cannot be empty.".into()),
        Command::Argv(v) => v.clone(),
        Command::Line(s) => split_command(s)?,
    };
    spec.insert("command".into(), json!(command));
    spec.insert("arguments".into(), json!([]));
    spec.insert("flavor".into(), a.flavor.clone().into());
    let mut env = Map::new();
    for (k, v) in a.env.iter().flatten() {
        if is_token_placeholder(v) {
            return Err(format!(
                "Put the token in secrets, not env: environment values are shown to anyone who can inspect the \
                 job. Use \"secrets\": {{\"{k}\": \"$HF_TOKEN\"}}."
            ));
        }
        env.insert(k.clone(), v.clone().into());
    }
    spec.insert("environment".into(), Value::Object(env));
    let secrets: Map<String, Value> = a
        .secrets
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), if is_token_placeholder(v) { token.into() } else { v.clone().into() }))
        .collect();
    spec.insert("secrets".into(), Value::Object(secrets));
    spec.insert("timeoutSeconds".into(), parse_timeout(&a.timeout)?.into());
    if let Some(vols) = a.volumes.as_ref().filter(|v| !v.is_empty()) {
        let parsed: Result<Vec<Value>, String> = vols.iter().map(|v| parse_volume(v)).collect();
        spec.insert("volumes".into(), Value::Array(parsed?));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_commands_volumes() {
        assert_eq!(parse_timeout("5m"), Ok(300));
        assert_eq!(parse_timeout("1.5h"), Ok(5400));
        assert_eq!(parse_timeout("45"), Ok(45));
        assert!(parse_timeout("soon").is_err() && parse_timeout("-1m").is_err());

        assert_eq!(split_command("python -c 'print(1)' \"a b\"").unwrap(), ["python", "-c", "print(1)", "a b"]);
        assert_eq!(split_command("echo $HF_TOKEN").unwrap(), ["echo", "$HF_TOKEN"]);
        assert!(split_command("echo a && echo b").unwrap_err().contains("array format"));
        assert!(split_command("  ").is_err());

        let v = parse_volume("hf://datasets/org/ds/sub/dir:/data:ro").unwrap();
        assert_eq!(
            v,
            json!({ "type": "dataset", "source": "org/ds", "mountPath": "/data", "readOnly": true,
            "path": "sub/dir" })
        );
        let v = parse_volume("hf://org/model:/m").unwrap();
        assert_eq!(v["type"], "model");
        assert_eq!(parse_volume("hf://buckets/org/b:/out:rw").unwrap()["readOnly"], false);
        assert!(parse_volume("hf://dataset/org/ds:/d").unwrap_err().contains("plural"));
        assert!(parse_volume("s3://x/y:/d").is_err());
        assert!(parse_volume("hf://org/x:/").is_err());
    }

    #[test]
    fn uv_inline_scripts_are_piped_in_base64() {
        let a: UvArgs =
            serde_json::from_value(json!({ "script": "import os\nprint('hi')", "with_deps": ["polars"] })).unwrap();
        let c = uv_command(&a);
        assert_eq!(&c[..2], ["/bin/sh", "-lc"]);
        assert!(c[2].starts_with("echo \"aW1wb3J0IG9z") && c[2].ends_with("| base64 -d | uv run --with polars -"));
        let a: UvArgs =
            serde_json::from_value(json!({ "script": "https://x/y.py", "script_args": ["--n", "1"] })).unwrap();
        assert_eq!(uv_command(&a), ["uv", "run", "https://x/y.py", "--n", "1"]);
    }
}
