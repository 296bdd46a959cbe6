//! One run's view of the store: its files by name, under `runs/<run-id>/`.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::{PutMode, Store, StoreError};
use crate::run::artifact::{MANIFEST_JSON, QUARANTINE_JSON};
use crate::run::{Manifest, QuarantineLog, Quarantined, RunId, RunLayout, Stage};

/// The store and the layout of one run: what every stage is given to read and write.
#[derive(Debug, Clone)]
pub struct RunStore {
    store: Arc<dyn Store>,
    layout: RunLayout,
    concurrency: usize,
    checkpoint_batch: usize,
}

/// Requests in flight at once when a stage reads or writes many small objects.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The most answers one checkpoint object holds: a Hub list page's worth, so an object
/// stays about a megabyte and a night writes N / 1,000 of them per source.
pub const DEFAULT_CHECKPOINT_BATCH: usize = 1000;

impl RunStore {
    pub fn new(store: Arc<dyn Store>, layout: RunLayout) -> Self {
        Self {
            store,
            layout,
            concurrency: DEFAULT_CONCURRENCY,
            checkpoint_batch: DEFAULT_CHECKPOINT_BATCH,
        }
    }

    /// How many objects to read or write at once (`output.concurrency`).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The most answers one checkpoint object holds (`output.checkpoint_batch`).
    pub fn with_checkpoint_batch(mut self, answers: usize) -> Self {
        self.checkpoint_batch = answers.max(1);
        self
    }

    pub fn checkpoint_batch(&self) -> usize {
        self.checkpoint_batch
    }

    /// The whole store, for keys outside this run (other runs, `latest.json`).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn layout(&self) -> &RunLayout {
        &self.layout
    }

    pub fn run_id(&self) -> &RunId {
        &self.layout.run_id
    }

    /// Where the store points: `./data` or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// The key of a file in the run folder.
    pub fn key(&self, name: &str) -> String {
        self.layout.file(name)
    }

    /// A file of the run, for messages: `./data/runs/<id>/models.csv`.
    pub fn location(&self, name: &str) -> String {
        format!("{}/{}", self.describe(), self.key(name))
    }

    pub async fn get(&self, name: &str) -> Result<Option<Bytes>, StoreError> {
        self.store.get(&self.key(name)).await
    }

    /// A file of the run in an unnamed local file, read from its start, for reading
    /// row by row: a CSV of the whole catalogue is never held whole in memory.
    pub async fn open(&self, name: &str) -> Result<Option<std::fs::File>, StoreError> {
        let staging = |e| {
            StoreError::io(
                "read",
                format!("{} into a staging file", self.location(name)),
                e,
            )
        };
        let mut file = tempfile::tempfile().map_err(staging)?;
        if !self.store.get_into(&self.key(name), &mut file).await? {
            return Ok(None);
        }
        std::io::Seek::rewind(&mut file).map_err(staging)?;
        Ok(Some(file))
    }

    pub async fn put(&self, name: &str, body: Bytes) -> Result<(), StoreError> {
        self.store
            .put(&self.key(name), body, PutMode::Overwrite)
            .await?;
        Ok(())
    }

    pub async fn put_file(&self, name: &str, path: &Path) -> Result<(), StoreError> {
        self.store.put_file(&self.key(name), path).await
    }

    /// The run's manifest, if it has one (a run made by an older tool may not).
    pub async fn manifest(&self) -> Result<Option<Manifest>, StoreError> {
        let Some(body) = self.get(MANIFEST_JSON).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| StoreError::corrupt(self.location(MANIFEST_JSON), e))
    }

    /// Write the run's manifest.
    pub async fn save_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        let body = serde_json::to_vec_pretty(manifest)
            .map_err(|e| StoreError::corrupt(self.location(MANIFEST_JSON), e))?;
        self.put(MANIFEST_JSON, body.into()).await
    }

    /// The records this run's stages set aside (`quarantine.json`); empty when there is
    /// none. A file that does not read is reported and taken as empty: it only
    /// describes records that are already out of the data.
    pub async fn quarantine(&self) -> Result<QuarantineLog, StoreError> {
        let Some(body) = self.get(QUARANTINE_JSON).await? else {
            return Ok(QuarantineLog::default());
        };
        Ok(serde_json::from_slice(&body).unwrap_or_else(|e| {
            tracing::warn!(location = %self.location(QUARANTINE_JSON), error = %e, "unreadable quarantine file; starting a new one");
            QuarantineLog::default()
        }))
    }

    /// Record what `stage` set aside in `quarantine.json`: `fresh` replaces what the
    /// stage set aside in an earlier attempt, otherwise the records are added to it.
    /// Returns how many records the stage now has there.
    pub async fn save_quarantine(
        &self,
        stage: Stage,
        records: Vec<Quarantined>,
        fresh: bool,
    ) -> Result<u64, StoreError> {
        let mut log = self.quarantine().await?;
        if fresh {
            log.replace_stage(stage, records);
        } else if records.is_empty() {
            return Ok(log.count(stage));
        } else {
            log.merge(records);
        }
        let body = serde_json::to_vec_pretty(&log)
            .map_err(|e| StoreError::corrupt(self.location(QUARANTINE_JSON), e))?;
        self.put(QUARANTINE_JSON, body.into()).await?;
        Ok(log.count(stage))
    }
}
