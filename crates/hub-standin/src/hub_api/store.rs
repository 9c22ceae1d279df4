//! What callers wrote: repositories created (or duplicated) through the API, their refs and
//! commits, LFS objects and storage buckets — in memory, per stand-in instance. The fixture
//! catalogue stays immutable; a written repository is served by building a [`Repo`] view of
//! one revision, so the read routes (info, tree, resolve) answer for it exactly as for a
//! fixture repository.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::catalogue::{hex_sha256, Kind, LfsInfo, Repo, RepoFile};

/// One file of a written repository: its metadata as the read routes show it, and its bytes
/// (`None`: a fixture file copied by a duplication, served from its fixture description).
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub meta: RepoFile,
    pub bytes: Option<Bytes>,
}

impl StoredFile {
    /// A regular (git blob) file.
    pub fn regular(path: &str, bytes: Bytes, commit: &Value) -> StoredFile {
        let header = format!("blob {}\0", bytes.len());
        let oid = hex_sha256(&[header.as_bytes(), &bytes])[..40].to_string();
        StoredFile { meta: meta(path, bytes.len() as u64, oid, None, commit), bytes: Some(bytes) }
    }
    /// An LFS file whose object (`sha256`) was uploaded before the commit.
    pub fn lfs(path: &str, sha256: &str, bytes: Bytes, commit: &Value) -> StoredFile {
        let size = bytes.len() as u64;
        let lfs = LfsInfo { sha256: sha256.to_owned(), size, pointer_size: 125 + size.to_string().len() as u64 };
        let oid = hex_sha256(&[b"pointer:", sha256.as_bytes()])[..40].to_string();
        StoredFile { meta: meta(path, size, oid, Some(lfs), commit), bytes: Some(bytes) }
    }
}

fn meta(path: &str, size: u64, oid: String, lfs: Option<LfsInfo>, commit: &Value) -> RepoFile {
    RepoFile {
        path: path.to_owned(),
        content: None,
        size,
        oid,
        lfs,
        xet_hash: None,
        last_commit: commit.clone(),
        seed: 0,
    }
}

/// One commit: the whole file set after it (small repositories; a snapshot is simplest).
#[derive(Debug, Clone)]
pub(crate) struct Commit {
    pub files: BTreeMap<String, StoredFile>,
    pub date: String,
}

/// A repository created through the API.
#[derive(Debug, Clone)]
pub(crate) struct WrittenRepo {
    pub kind: Kind,
    pub id: String,
    pub private: bool,
    pub sdk: Option<String>,
    pub created_at: String,
    /// Branch and pull-request refs (`main`, `dev`, `refs/pr/1`) → commit sha.
    pub refs: BTreeMap<String, String>,
    pub commits: HashMap<String, Commit>,
    pub pull_requests: u32,
}

impl WrittenRepo {
    pub fn owner(&self) -> &str {
        self.id.split('/').next().unwrap_or_default()
    }

    /// The commit sha a revision names: a ref, a full sha, or a 7+ character prefix.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        if let Some(sha) = self.refs.get(rev) {
            return Some(sha.clone());
        }
        if rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
            return self.commits.keys().find(|sha| sha.starts_with(rev)).cloned();
        }
        None
    }

    /// Record a commit on top of `files` and move `reference` to it.
    pub fn commit(&mut self, reference: &str, title: &str, files: BTreeMap<String, StoredFile>) -> String {
        let parent = self.refs.get(reference).cloned().unwrap_or_default();
        let n = self.commits.len().to_string();
        let sha =
            hex_sha256(&[self.id.as_bytes(), parent.as_bytes(), title.as_bytes(), n.as_bytes()])[..40].to_string();
        self.commits.insert(sha.clone(), Commit { files, date: now() });
        self.refs.insert(reference.to_owned(), sha.clone());
        sha
    }

    /// The `lastCommit` document files changed by commit `sha` carry.
    pub fn commit_doc(sha: &str, title: &str) -> Value {
        json!({ "id": sha, "title": title, "date": now() })
    }

    /// A fixture-shaped [`Repo`] of revision `sha`, for the read routes.
    pub fn view(&self, sha: &str) -> Repo {
        let commit = &self.commits[sha];
        let mut info = Map::new();
        info.insert("_id".into(), json!(hex_sha256(&[b"id:", self.id.as_bytes()])[..24].to_string()));
        info.insert("id".into(), json!(self.id));
        info.insert("author".into(), json!(self.owner()));
        info.insert("sha".into(), json!(sha));
        info.insert("lastModified".into(), json!(commit.date));
        info.insert("private".into(), json!(self.private));
        info.insert("gated".into(), json!(false));
        info.insert("disabled".into(), json!(false));
        info.insert("likes".into(), json!(0));
        if self.kind != Kind::Space {
            info.insert("downloads".into(), json!(0));
        }
        info.insert("tags".into(), json!([]));
        if let Some(sdk) = &self.sdk {
            info.insert("sdk".into(), json!(sdk));
            info.insert(
                "runtime".into(),
                json!({ "stage": "BUILDING", "hardware": { "current": null, "requested": "cpu-basic" } }),
            );
            info.insert("subdomain".into(), json!(self.id.replace(['/', '.', '_'], "-").to_lowercase()));
        }
        info.insert("createdAt".into(), json!(self.created_at));
        let mut revisions: BTreeMap<String, String> = self.refs.clone();
        for other in self.commits.keys() {
            revisions.entry(other.clone()).or_insert_with(|| other.clone());
        }
        Repo {
            kind: self.kind,
            id: self.id.clone(),
            owner: self.owner().to_owned(),
            private: self.private,
            gated: None,
            sha: sha.to_owned(),
            info,
            files: commit.files.values().map(|f| f.meta.clone()).collect(),
            revisions,
            accepted_by: Vec::new(),
            semantic: Map::new(),
        }
    }
}

/// A storage bucket: flat paths → bytes.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    pub id: String,
    pub private: bool,
    pub created_at: String,
    pub updated_at: String,
    pub files: BTreeMap<String, BucketFile>,
}

#[derive(Debug, Clone)]
pub(crate) struct BucketFile {
    pub bytes: Bytes,
    pub xet_hash: String,
    pub mtime: String,
}

impl Bucket {
    pub fn owner(&self) -> &str {
        self.id.split('/').next().unwrap_or_default()
    }
    /// Add or replace a file whose bytes are stored in the Xet store under `xet_hash`.
    pub fn put(&mut self, path: &str, bytes: Bytes, xet_hash: String) {
        self.files.insert(path.to_owned(), BucketFile { bytes, xet_hash, mtime: now() });
        self.updated_at = now();
    }
    pub fn info(&self) -> Value {
        json!({
            "_id": hex_sha256(&[b"bucket:", self.id.as_bytes()])[..24].to_string(),
            "id": self.id,
            "author": self.owner(),
            "private": self.private,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "size": self.files.values().map(|f| f.bytes.len() as u64).sum::<u64>(),
            "totalFiles": self.files.len(),
            "repoType": "bucket",
        })
    }
}

#[derive(Default)]
pub(crate) struct Written {
    pub repos: HashMap<(Kind, String), WrittenRepo>,
    pub buckets: BTreeMap<String, Bucket>,
    /// Uploaded LFS objects (sha256 → bytes), referenced by `lfsFile` commit operations.
    pub lfs: HashMap<String, Bytes>,
    /// Xet storage: bucket files' xorbs and reconstructions, access tokens.
    pub xet: super::xet_store::XetStore,
}

/// A 1×1 PNG, so bucket image attachments have something to attach.
const LOSS_PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 144, 119, 83,
    222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 0, 0, 3, 1, 1, 0, 201, 254, 146, 239, 0, 0, 0, 0,
    73, 69, 78, 68, 174, 66, 96, 130,
];

/// The stand-in's writable state. Handlers lock it briefly and never across an await.
pub(crate) struct Store(Mutex<Written>);

impl Store {
    /// Seeded with two buckets, so bucket reads have something to read before any write.
    pub fn seeded() -> Store {
        let mut w = Written::default();
        for (id, private, files) in [
            (
                "standin-org/training-logs",
                false,
                vec![
                    ("README.md", &b"# Training logs\n\nMetrics of the stand-in's example runs.\n"[..]),
                    ("runs/2026-01-01/metrics.jsonl", b"{\"step\": 1, \"loss\": 2.5}\n{\"step\": 2, \"loss\": 1.9}\n"),
                    ("runs/2026-01-01/loss.png", LOSS_PNG),
                    ("runs/2026-01-02/metrics.jsonl", b"{\"step\": 1, \"loss\": 2.1}\n"),
                ],
            ),
            ("alice/scratch", true, vec![("notes.txt", &b"private notes\n"[..])]),
        ] {
            let mut b = Bucket {
                id: id.to_owned(),
                private,
                created_at: "2026-01-01T00:00:00.000Z".into(),
                updated_at: "2026-01-01T00:00:00.000Z".into(),
                files: BTreeMap::new(),
            };
            for (path, content) in files {
                let hash = w.xet.store_bytes(content).hex();
                b.put(path, Bytes::from_static(content), hash);
            }
            w.buckets.insert(id.to_owned(), b);
        }
        Store(Mutex::new(w))
    }

    pub fn lock(&self) -> MutexGuard<'_, Written> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of a written repository (read routes build views from it without the lock).
    pub fn repo(&self, kind: Kind, id: &str) -> Option<WrittenRepo> {
        self.lock().repos.get(&(kind, id.to_owned())).cloned()
    }
}

/// Now, as the Hub writes timestamps (`2026-01-02T03:04:05.000Z`).
pub(crate) fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
