//! Where a run's files live: a local folder or an S3 bucket, behind one interface,
//! with the same layout in both (see [`crate::run::layout`]). [`RunStore`] is one
//! run's view of it.

pub mod index;
pub mod local;
pub mod lock;
mod observed;
mod run_store;
pub mod s3;

pub use index::{read_index, update_index};
pub use run_store::RunStore;

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::run::{check_secs, InvalidSetting, RunId};
use observed::Observed;
use s3::S3Settings;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{op} {location}: {source}")]
    Io {
        op: &'static str,
        location: String,
        #[source]
        source: Cause,
    },
    #[error("invalid output location {0:?}: {1}")]
    InvalidLocation(String, String),
    #[error("{0}")]
    Locked(String),
    /// The store refused us: wrong credentials, a missing bucket, no permission.
    #[error("{0}")]
    Access(String),
    /// An object of ours that does not parse.
    #[error("{location}: {source}")]
    Corrupt {
        location: String,
        #[source]
        source: Cause,
    },
    /// A [`PutMode::Create`] found an object at the key; nothing was written.
    #[error("{location} already exists")]
    AlreadyExists { location: String },
    /// A write or delete on a version ([`PutMode::Update`], [`DeleteMode::IfMatch`])
    /// found the object changed or gone; nothing was written or deleted.
    #[error("{location} is no longer at the version read")]
    Precondition { location: String },
    /// The backend cannot keep the guarantee asked of it, so it did nothing rather than
    /// something weaker.
    #[error("{backend} cannot {op}: {reason}")]
    NotImplemented {
        op: &'static str,
        backend: String,
        reason: String,
    },
}

impl StoreError {
    pub fn io(op: &'static str, location: impl Into<String>, err: impl Into<Cause>) -> Self {
        Self::Io {
            op,
            location: location.into(),
            source: err.into(),
        }
    }

    /// An object of ours at `location` that does not parse, or cannot be encoded.
    pub fn corrupt(location: impl Into<String>, err: impl Into<Cause>) -> Self {
        Self::Corrupt {
            location: location.into(),
            source: err.into(),
        }
    }
}

/// What a put may replace, as object_store's `PutMode`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PutMode {
    /// Whatever is there, or nothing.
    #[default]
    Overwrite,
    /// Nothing: [`StoreError::AlreadyExists`] if an object has the key (S3
    /// `If-None-Match: *`).
    Create,
    /// Only the object at this version: [`StoreError::Precondition`] if it changed or
    /// is gone (S3 `If-Match`).
    Update(Version),
}

/// What a delete may remove.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeleteMode {
    /// Whatever is there; a missing key is no error.
    #[default]
    Any,
    /// Only the object at this version: [`StoreError::Precondition`] if it changed or
    /// is gone (S3 `If-Match` on DELETE).
    IfMatch(Version),
}

/// The underlying error of a failure, kept as its source (an I/O error, the S3 SDK's,
/// a JSON error), or the words a backend gave.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Object storage with whole-object writes: a reader sees the old object or the new
/// one, never a torn one. Keys are `/`-separated and relative to the store's root.
///
/// A backend that cannot keep what a [`PutMode`] or [`DeleteMode`] asks returns
/// [`StoreError::NotImplemented`] and changes nothing; it never falls back to a weaker
/// write on its own. The contract every backend keeps is tests/store_contract.rs.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Where the store points, for messages: `./data` or `s3://bucket/prefix`.
    fn describe(&self) -> String;
    /// Write a whole object, atomically, if `mode` allows: its new version tag.
    async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError>;
    /// Write a whole object from a local file (large outputs such as CSVs), replacing
    /// any old one atomically.
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;
    /// An object written into `file` as it comes, not held in memory (a CSV of the
    /// whole catalogue, read row by row after); false when there is no such object.
    async fn get_into(&self, key: &str, file: &mut std::fs::File) -> Result<bool, StoreError> {
        let Some(body) = self.get(key).await? else {
            return Ok(false);
        };
        std::io::Write::write_all(file, &body)
            .map_err(|e| StoreError::io("read", format!("{key} into a staging file"), e))?;
        Ok(true)
    }
    /// An object with its version tag (the S3 ETag), for a conditional write after.
    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError>;
    /// Delete an object if `mode` allows.
    async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError>;
    /// All keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// The objects directly under `prefix` (which ends with `/`), not those in folders
    /// below it, sorted: a run's files without its thousands of checkpoints.
    async fn list_files(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .list(prefix)
            .await?
            .into_iter()
            .filter(|k| {
                k.strip_prefix(prefix)
                    .is_some_and(|rest| !rest.contains('/'))
            })
            .collect())
    }
    /// The folders directly under `prefix` (which ends with `/`), each with its trailing
    /// `/`, sorted: `runs/` → `runs/a/`, `runs/b/`. One entry per folder, not per object
    /// (S3's common prefixes), so a store with many checkpoints lists quickly.
    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut folders: Vec<String> = self
            .list(prefix)
            .await?
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?;
                let (folder, _) = rest.split_once('/')?;
                Some(format!("{prefix}{folder}/"))
            })
            .collect();
        folders.dedup();
        Ok(folders)
    }
    /// Delete every object under `prefix` (a folder, ending with `/`): how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        let keys = self.list(prefix).await?;
        for key in &keys {
            self.delete(key, DeleteMode::Any).await?;
        }
        Ok(keys.len() as u64)
    }
    /// Remove temporary files a killed writer left behind; only while holding the run
    /// lock, when no other writer can be mid-write. Object stores have none.
    async fn remove_leftovers(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// An object's version tag: the S3 ETag, or a content hash on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

/// Open the store named by `output.dir`: `s3://bucket/prefix` or a local folder, with
/// a span per call and the bytes written counted. An S3 store is checked before it is
/// returned, so wrong credentials or a missing bucket fail here, before any work.
pub async fn open(dir: &str, s3: &S3Settings) -> Result<Arc<dyn Store>, StoreError> {
    let dir = dir.trim();
    let inner: Arc<dyn Store> = if dir.starts_with("s3://") {
        Arc::new(s3::S3Store::open(dir, s3).await?)
    } else if dir.contains("://") {
        return Err(StoreError::InvalidLocation(
            dir.into(),
            "use a local folder or s3://bucket/prefix".into(),
        ));
    } else {
        Arc::new(local::LocalStore::open(Path::new(dir))?)
    };
    Ok(Arc::new(Observed::new(inner)))
}

/// `[output]`: where the run's files go and under what run id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSettings {
    /// A local folder, or `s3://bucket/prefix`.
    pub dir: String,
    /// The run id; a UTC timestamp when unset.
    pub run_id: Option<String>,
    /// How long the run lock (`lock.json`) holds without being renewed. The running job
    /// renews it every third of this; a crashed job's lock can be taken over once it
    /// has run out.
    pub lock_ttl_secs: f64,
    /// Objects read or written at once when a stage has many (checkpoints).
    pub concurrency: usize,
    /// The most answers one checkpoint object holds when many complete together (one
    /// response answered them all); 1 writes every answer as its own object.
    pub checkpoint_batch: usize,
    /// Delete run folders whose snapshot is this many nights or more before the newest
    /// run's, once a run is published; unset keeps every run. The history is never
    /// trimmed.
    pub keep_runs_days: Option<u32>,
}

impl Default for OutputSettings {
    fn default() -> Self {
        Self {
            dir: "./data".into(),
            run_id: None,
            lock_ttl_secs: 600.0,
            concurrency: run_store::DEFAULT_CONCURRENCY,
            checkpoint_batch: run_store::DEFAULT_CHECKPOINT_BATCH,
            keep_runs_days: None,
        }
    }
}

impl OutputSettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.dir.trim().is_empty() {
            return InvalidSetting::err("output.dir", "is empty");
        }
        if let Some(run_id) = &self.run_id {
            RunId::parse(run_id)
                .map_err(|e| InvalidSetting::new("output.run_id", e.to_string()))?;
        }
        if !(1..=100_000).contains(&self.checkpoint_batch) {
            return InvalidSetting::err(
                "output.checkpoint_batch",
                format!("is {}; it must be 1 to 100000", self.checkpoint_batch),
            );
        }
        if self.keep_runs_days == Some(0) {
            return InvalidSetting::err(
                "output.keep_runs_days",
                "must be at least 1 (leave it unset to keep every run)",
            );
        }
        check_secs(
            "output.lock_ttl_secs",
            self.lock_ttl_secs,
            1.0,
            7.0 * 86_400.0,
        )
    }
}
