//! Where a run's files live: a local folder or an S3 bucket, behind one interface,
//! with the same layout in both:
//!
//! ```text
//! runs/<run-id>/models.csv, models.jsonl, leaderboard.csv, dataset.csv, report.html,
//!              quality.json, manifest.json, checkpoints/<stage>/<encoded model id>.json
//! latest.json  (points at the newest complete run of every stage)
//! lock.json    (held by the run in progress)
//! ```

pub mod local;
pub mod lock;
pub mod s3;

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tracing::Instrument;

use crate::config::Settings;
use crate::types::{ModelId, RunId};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{op} {location}: {message}")]
    Io {
        op: &'static str,
        location: String,
        message: String,
    },
    #[error("invalid output location {0:?}: {1}")]
    InvalidLocation(String, String),
    #[error("{0}")]
    Locked(String),
    /// The store refused us: wrong credentials, a missing bucket, no permission.
    #[error("{0}")]
    Access(String),
}

impl StoreError {
    pub fn io(op: &'static str, location: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Self::Io {
            op,
            location: location.into(),
            message: err.to_string(),
        }
    }
}

/// Object storage with whole-object writes: a reader sees the old object or the new
/// one, never a torn one. Keys are `/`-separated and relative to the store's root.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Where the store points, for messages: `./data` or `s3://bucket/prefix`.
    fn describe(&self) -> String;
    /// Write a whole object, replacing any old one atomically.
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError>;
    /// Write a whole object from a local file (large outputs such as CSVs).
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError>;
    /// Create an object only if no object has that key; `false` if one exists.
    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;
    /// All keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Open the store named by `output.dir`: `s3://bucket/prefix` or a local folder, with
/// a span per call and the bytes written counted.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    let dir = settings.output.dir.trim();
    let inner: Arc<dyn Store> = if dir.starts_with("s3://") {
        Arc::new(s3::S3Store::open(dir, &settings.s3).await?)
    } else if dir.contains("://") {
        return Err(StoreError::InvalidLocation(
            dir.into(),
            "use a local folder or s3://bucket/prefix".into(),
        ));
    } else {
        Arc::new(local::LocalStore::open(Path::new(dir))?)
    };
    Ok(Arc::new(Observed { inner }))
}

/// A store whose every call is a span (`store put`, …) and whose writes count towards
/// `hfharvest.publish.bytes`.
#[derive(Debug)]
struct Observed {
    inner: Arc<dyn Store>,
}

fn store_span(op: &'static str, key: &str) -> tracing::Span {
    tracing::info_span!("store", otel.name = format!("store {op}"), store.operation = op, store.key = %key)
}

fn published(bytes: u64) {
    crate::telemetry::metrics().publish_bytes.add(bytes, &[]);
}

#[async_trait]
impl Store for Observed {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let len = body.len() as u64;
        self.inner
            .put(key, body)
            .instrument(store_span("put", key))
            .await?;
        published(len);
        Ok(())
    }
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError> {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        self.inner
            .put_file(key, path)
            .instrument(store_span("put", key))
            .await?;
        published(len);
        Ok(())
    }
    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError> {
        let len = body.len() as u64;
        let created = self
            .inner
            .put_if_absent(key, body)
            .instrument(store_span("create", key))
            .await?;
        if created {
            published(len);
        }
        Ok(created)
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.inner.get(key).instrument(store_span("get", key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner
            .list(prefix)
            .instrument(store_span("list", prefix))
            .await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner
            .delete(key)
            .instrument(store_span("delete", key))
            .await
    }
}

/// Everything a stage needs to know about where its files go.
#[derive(Debug, Clone)]
pub struct RunLayout {
    pub run_id: RunId,
}

impl RunLayout {
    pub fn new(run_id: RunId) -> Self {
        Self { run_id }
    }

    pub fn root(&self) -> String {
        format!("runs/{}", self.run_id)
    }

    /// A file directly in the run folder, e.g. `file("models.csv")`.
    pub fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.root())
    }

    pub fn checkpoints(&self, stage: &str) -> String {
        format!("{}/checkpoints/{stage}/", self.root())
    }

    pub fn checkpoint(&self, stage: &str, model: &ModelId) -> String {
        format!(
            "{}{}.json",
            self.checkpoints(stage),
            encode_model_key(model)
        )
    }
}

pub const LATEST_POINTER: &str = "latest.json";

/// Bytes kept as they are in a checkpoint key; everything else is percent-encoded, so
/// `/`, `%`, unicode and leading dots cannot escape the folder or collide.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

pub fn encode_model_key(model: &ModelId) -> String {
    utf8_percent_encode(model.as_str(), KEY_ENCODE).to_string()
}

/// The model id a checkpoint key names, or `None` for a key that is not one of ours.
pub fn decode_model_key(key: &str) -> Option<ModelId> {
    let file = key.rsplit('/').next()?.strip_suffix(".json")?;
    let id = percent_decode_str(file).decode_utf8().ok()?;
    ModelId::parse(&id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_keys_round_trip() {
        let layout = RunLayout::new(RunId::parse("r1").unwrap());
        for raw in [
            "meta-llama/Llama-3.1-8B",
            "ünï/模型.v2",
            "a/..x",
            "gpt2",
            "x/100%_y",
        ] {
            let id = ModelId::parse(raw).unwrap();
            let key = layout.checkpoint("leaderboard", &id);
            assert!(key.starts_with("runs/r1/checkpoints/leaderboard/"));
            let file = key.rsplit('/').next().unwrap();
            assert!(!file.contains('/') && !file.starts_with('.'), "{file}");
            assert_eq!(decode_model_key(&key), Some(id));
        }
    }
}
