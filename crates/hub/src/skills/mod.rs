//! Skills over MCP (the `io.modelcontextprotocol/skills` extension, SEP-2640), as the
//! hosted server serves them: a directory of skills (`HF_SKILLS_DIR`), each a folder with a
//! `SKILL.md` and any files, loaded once into an immutable snapshot. Every file becomes a
//! `skill://<skill-path>/<file-path>` resource; `skills/list`, `skills/get` and
//! `resources/directory/read` are served from the same snapshot ([`serve`]).
//!
//! Loading is strict per skill: a skill whose frontmatter is invalid, whose name does not
//! match its folder, or which contains a symlink is skipped with a warning (the others are
//! served); the whole snapshot is bounded in skills, files and bytes.

mod frontmatter;
mod load;
pub mod serve;

use std::collections::{BTreeMap, HashMap};

use mcp_engine::jsonrpc::JsonObject;

pub use load::{load, SkillLimits};

/// MIME type of a directory resource (SEP-2640 `resources/directory/read`).
pub const DIRECTORY_MIME: &str = "inode/directory";
/// The extension identifier declared under `capabilities.extensions`.
pub const EXTENSION: &str = "io.modelcontextprotocol/skills";

/// One file of a skill, held in memory.
pub struct SkillFile {
    pub uri: String,
    /// The resource name: the skill name for `SKILL.md`, the file name otherwise.
    pub name: String,
    /// The frontmatter description, for `SKILL.md` only.
    pub description: Option<String>,
    pub mime_type: &'static str,
    /// Valid UTF-8 of a text type: served as `text`, else as base64 `blob`.
    pub is_text: bool,
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
}

/// One skill: its `SKILL.md` URI, frontmatter (as JSON, verbatim) and every file it holds.
pub struct Skill {
    pub uri: String,
    pub frontmatter: JsonObject,
    /// (uri, digest) of every file under the skill's folder, `SKILL.md` included.
    pub resources: Vec<(String, String)>,
}

/// A child of a directory resource.
pub struct DirChild {
    pub uri: String,
    pub name: String,
    pub mime_type: &'static str,
}

/// The loaded snapshot.
#[derive(Default)]
pub struct Skills {
    pub skills: Vec<Skill>,
    pub files: BTreeMap<String, SkillFile>,
    /// Directory URI (no trailing slash) → its direct children, sorted by name.
    pub directories: HashMap<String, Vec<DirChild>>,
}

impl Skills {
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }
}

/// Percent-encode one URI path segment the way `encodeURIComponent` does.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// MIME type of a file by its name, and whether the type is textual (as the hosted server).
pub fn mime_for(name: &str) -> (&'static str, bool) {
    let lower = name.to_ascii_lowercase();
    if lower == "license" || lower == "license.txt" {
        return ("text/plain", true);
    }
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "md" | "markdown" => ("text/markdown", true),
        "txt" => ("text/plain", true),
        "json" => ("application/json", true),
        "yaml" | "yml" => ("application/yaml", true),
        "py" => ("text/x-python", true),
        "sh" => ("application/x-sh", true),
        "js" | "jsx" => ("text/javascript", true),
        "ts" | "tsx" => ("text/x-typescript", true),
        "html" => ("text/html", true),
        "css" => ("text/css", true),
        "csv" => ("text/csv", true),
        "toml" => ("application/toml", true),
        "xml" => ("application/xml", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "pdf" => ("application/pdf", false),
        "zip" => ("application/zip", false),
        "tar" => ("application/x-tar", false),
        "gz" | "tgz" => ("application/gzip", false),
        _ => ("application/octet-stream", false),
    }
}
