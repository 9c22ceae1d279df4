//! Reading a skills directory into a [`Skills`] snapshot: every folder holding a `SKILL.md`
//! is a skill (nested skills included, their files also part of the enclosing skill, as
//! SEP-2640 says); its path below the root is its `<skill-path>`, whose last segment must be
//! the frontmatter `name`. Runs once at start-up, off the request path.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{encode_segment, frontmatter, mime_for, DirChild, Skill, SkillFile, Skills, DIRECTORY_MIME};

/// Bounds on what a snapshot holds (the hosted server's values).
#[derive(Debug, Clone, Copy)]
pub struct SkillLimits {
    pub max_skills: usize,
    pub max_files: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for SkillLimits {
    fn default() -> Self {
        SkillLimits {
            max_skills: 1_000,
            max_files: 10_000,
            max_file_bytes: 25 * 1024 * 1024,
            max_total_bytes: 128 * 1024 * 1024,
        }
    }
}

const SKILL_MD: &str = "SKILL.md";

/// Load every valid skill under `root`. An unreadable root is an error; an invalid skill is
/// skipped with a warning.
pub fn load(root: &Path, limits: SkillLimits) -> Result<Skills, String> {
    let mut skill_dirs = Vec::new();
    find_skill_dirs(root, root, &mut skill_dirs).map_err(|e| format!("cannot read skills directory: {e}"))?;
    skill_dirs.sort();
    let mut out = Skills::default();
    let mut total = 0u64;
    for rel in skill_dirs {
        if out.skills.len() >= limits.max_skills {
            tracing::warn!(limit = limits.max_skills, "skills beyond the limit are not served");
            break;
        }
        match load_skill(root, &rel, &limits, &mut out.files, &mut total) {
            Ok(skill) => out.skills.push(skill),
            Err(e) => tracing::warn!(skill = %rel.display(), "skill skipped: {e}"),
        }
    }
    out.directories = directories(&out);
    Ok(out)
}

/// Folders (relative to `root`) that contain a `SKILL.md`.
fn find_skill_dirs(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir != root && dir.join(SKILL_MD).is_file() {
        out.push(dir.strip_prefix(root).expect("below root").to_path_buf());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            find_skill_dirs(root, &entry.path(), out)?;
        }
    }
    Ok(())
}

fn segments(rel: &Path) -> Result<Vec<String>, String> {
    rel.components()
        .map(|c| c.as_os_str().to_str().map(str::to_owned).ok_or_else(|| "a path that is not UTF-8".to_owned()))
        .collect()
}

fn uri_of(parts: &[String]) -> String {
    let encoded: Vec<String> = parts.iter().map(|p| encode_segment(p)).collect();
    format!("skill://{}", encoded.join("/"))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn load_skill(
    root: &Path,
    rel: &Path,
    limits: &SkillLimits,
    files: &mut BTreeMap<String, SkillFile>,
    total: &mut u64,
) -> Result<Skill, String> {
    let skill_parts = segments(rel)?;
    let dir_name = skill_parts.last().cloned().unwrap_or_default();
    let skill_md = fs::read(root.join(rel).join(SKILL_MD)).map_err(|e| format!("SKILL.md unreadable: {e}"))?;
    let text = std::str::from_utf8(&skill_md).map_err(|_| "SKILL.md is not UTF-8".to_owned())?;
    let block = frontmatter::block(text).ok_or("SKILL.md must begin with YAML frontmatter")?;
    let fm = frontmatter::parse(block).map_err(|e| format!("invalid frontmatter: {e}"))?;
    let name = fm.get("name").and_then(|v| v.as_str()).unwrap_or_default();
    if !valid_name(name) || name != dir_name {
        return Err(format!("frontmatter name {name:?} is invalid or differs from the folder {dir_name:?}"));
    }
    let description = fm.get("description").and_then(|v| v.as_str()).unwrap_or_default();
    if description.is_empty() || description.len() > 1024 {
        return Err("frontmatter description must be 1 to 1024 characters".into());
    }

    let mut paths = Vec::new();
    walk_files(&root.join(rel), Path::new(""), &mut paths)?;
    paths.sort();
    let mut resources = Vec::new();
    let mut new_files = Vec::new();
    let mut added = 0u64;
    for file_rel in paths {
        let mut parts = skill_parts.clone();
        parts.extend(segments(&file_rel)?);
        let uri = uri_of(&parts);
        if let Some(existing) = files.get(&uri) {
            resources.push((uri, existing.digest.clone()));
            continue;
        }
        let abs = root.join(rel).join(&file_rel);
        let size = fs::metadata(&abs).map_err(|e| e.to_string())?.len();
        if size > limits.max_file_bytes {
            return Err(format!("{} exceeds {} bytes", file_rel.display(), limits.max_file_bytes));
        }
        if *total + added + size > limits.max_total_bytes || files.len() + new_files.len() >= limits.max_files {
            return Err("the skills snapshot would exceed its size or file limit".into());
        }
        let bytes = fs::read(&abs).map_err(|e| e.to_string())?;
        added += bytes.len() as u64;
        let file_name = parts.last().cloned().unwrap_or_default();
        let (mime_type, textual) = mime_for(&file_name);
        let is_skill_md = file_rel == Path::new(SKILL_MD);
        let digest = format!("sha256:{}", hex(&Sha256::digest(&bytes)));
        resources.push((uri.clone(), digest.clone()));
        new_files.push(SkillFile {
            uri,
            name: if is_skill_md { name.to_owned() } else { file_name },
            description: is_skill_md.then(|| description.to_owned()),
            mime_type,
            is_text: textual && std::str::from_utf8(&bytes).is_ok(),
            bytes,
            digest,
        });
    }
    *total += added;
    for f in new_files {
        files.insert(f.uri.clone(), f);
    }
    let mut md_parts = skill_parts;
    md_parts.push(SKILL_MD.into());
    Ok(Skill { uri: uri_of(&md_parts), frontmatter: fm, resources })
}

/// Regular files below `dir` (relative paths); a symlink or special file refuses the skill.
fn walk_files(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        let child = rel.join(entry.file_name());
        if kind.is_symlink() {
            return Err(format!("contains a symlink: {}", child.display()));
        } else if kind.is_dir() {
            walk_files(&entry.path(), &child, out)?;
        } else if kind.is_file() {
            out.push(child);
        } else {
            return Err(format!("contains a special file: {}", child.display()));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every directory level of every skill, from its root down, with its direct children.
fn directories(skills: &Skills) -> HashMap<String, Vec<DirChild>> {
    let mut dirs: HashMap<String, BTreeMap<String, DirChild>> = HashMap::new();
    for skill in &skills.skills {
        let root = skill.uri.strip_suffix("/SKILL.md").expect("a skill URI ends in SKILL.md");
        for (uri, _) in &skill.resources {
            let file = &skills.files[uri];
            let rel = &uri[root.len() + 1..];
            let parts: Vec<&str> = rel.split('/').collect();
            let mut parent = root.to_owned();
            for (i, part) in parts.iter().enumerate() {
                let child_uri = format!("{parent}/{part}");
                let is_file = i == parts.len() - 1;
                let name = percent_decode(part);
                let mime_type = if is_file { file.mime_type } else { DIRECTORY_MIME };
                dirs.entry(parent.clone())
                    .or_default()
                    .insert(name.clone(), DirChild { uri: child_uri.clone(), name, mime_type });
                parent = child_uri;
            }
        }
    }
    dirs.into_iter().map(|(k, v)| (k, v.into_values().collect())).collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
