//! The YAML frontmatter of a `SKILL.md`, rendered as JSON. Skills' frontmatter is small and
//! flat (the Agent Skills specification: `name`, `description`, `license`, `compatibility`,
//! `metadata` as a string map, `allowed-tools`), so this reads the subset of YAML it uses —
//! scalars (plain, quoted, `|`/`>` blocks), one level of nested mappings and `- item` lists —
//! and refuses anything else rather than guessing.

use mcp_engine::jsonrpc::JsonObject;
use serde_json::Value;

/// The frontmatter block of `text` (between the leading `---` lines), if any.
pub fn block(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']).trim_end() == "---" {
            return Some(rest[..offset].trim_end_matches(['\r', '\n']));
        }
        offset += line.len();
    }
    None
}

/// Parse the block as a mapping.
pub fn parse(block: &str) -> Result<JsonObject, String> {
    let lines: Vec<&str> =
        block.lines().map(|l| l.trim_end()).filter(|l| !l.trim_start().starts_with('#') && !l.is_empty()).collect();
    let mut out = JsonObject::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with([' ', '\t']) {
            return Err(format!("unexpected indentation: {line}"));
        }
        let (key, value) = key_value(line)?;
        i += 1;
        let nested: Vec<&str> = lines[i..].iter().take_while(|l| l.starts_with([' ', '\t'])).copied().collect();
        i += nested.len();
        let v = match value {
            "|" | "|-" | ">" | ">-" => block_scalar(value, &nested),
            "" if nested.is_empty() => Value::Null,
            "" => nested_value(&nested)?,
            v if nested.is_empty() => scalar(v)?,
            _ => return Err(format!("unsupported multi-line value for {key}")),
        };
        if out.insert(key.to_owned(), v).is_some() {
            return Err(format!("duplicate key {key}"));
        }
    }
    Ok(out)
}

fn key_value(line: &str) -> Result<(&str, &str), String> {
    let (k, v) = line.split_once(':').ok_or_else(|| format!("not a key: value line: {line}"))?;
    let k = k.trim();
    let k = k.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(k);
    if k.is_empty() {
        return Err(format!("empty key: {line}"));
    }
    Ok((k, v.trim()))
}

fn nested_value(lines: &[&str]) -> Result<Value, String> {
    if lines.iter().all(|l| l.trim_start().starts_with("- ") || l.trim() == "-") {
        let items: Result<Vec<Value>, String> =
            lines.iter().map(|l| scalar(l.trim_start().trim_start_matches('-').trim())).collect();
        return items.map(Value::Array);
    }
    let mut map = JsonObject::new();
    for l in lines {
        let (k, v) = key_value(l.trim_start())?;
        if map.insert(k.to_owned(), scalar(v)?).is_some() {
            return Err(format!("duplicate key {k}"));
        }
    }
    Ok(Value::Object(map))
}

fn block_scalar(style: &str, lines: &[&str]) -> Value {
    let indent = lines.first().map_or(0, |l| l.len() - l.trim_start().len());
    let body: Vec<&str> = lines.iter().map(|l| l.get(indent..).unwrap_or(l.trim_start())).collect();
    let mut s = if style.starts_with('|') { body.join("\n") } else { body.join(" ") };
    if !style.ends_with('-') {
        s.push('\n');
    }
    Value::String(s)
}

/// A scalar under YAML's core schema: quoted → string; plain → bool, null, number or string.
fn scalar(v: &str) -> Result<Value, String> {
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return serde_json::from_str::<String>(&format!("\"{inner}\"")).map(Value::String).map_err(|e| e.to_string());
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Ok(Value::String(inner.replace("''", "'")));
    }
    if v.starts_with(['[', '{', '&', '*', '!', '|', '>', '"', '\'']) {
        return Err(format!("unsupported YAML value: {v}"));
    }
    // A plain scalar ends at a comment.
    let v = v.split(" #").next().unwrap_or(v).trim();
    Ok(match v {
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => {
            if let Ok(i) = v.parse::<i64>() {
                Value::from(i)
            } else if let Some(f) = v.parse::<f64>().ok().filter(|f| f.is_finite() && v.contains('.')) {
                Value::from(f)
            } else {
                Value::String(v.to_owned())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_agent_skills_fields() {
        let md = "---\nname: hub-search\ndescription: \"Find things: models\"\nlicense: Apache-2.0\nmetadata:\n  version: \"1.2\"\n  owner: hf\nallowed-tools: hf_fs\n---\n# Body\n";
        let fm = parse(block(md).unwrap()).unwrap();
        assert_eq!(
            Value::Object(fm),
            json!({ "name": "hub-search", "description": "Find things: models", "license": "Apache-2.0",
                    "metadata": { "version": "1.2", "owner": "hf" }, "allowed-tools": "hf_fs" })
        );
    }

    #[test]
    fn blocks_lists_and_refusals() {
        let fm = parse("description: >\n  one\n  two\ntags:\n  - a\n  - 3\n").unwrap();
        assert_eq!(fm["description"], "one two\n");
        assert_eq!(fm["tags"], json!(["a", 3]));
        assert!(parse("a: 1\na: 2").is_err());
        assert!(parse("a: [1, 2]").is_err());
        assert!(block("no frontmatter").is_none());
        assert!(block("---\nname: x\n").is_none());
    }
}
