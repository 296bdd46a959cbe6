//! Per-model checkpoints, for every stage that answers model by model: each answer is
//! its own object, `runs/<id>/checkpoints/<stage>/<encoded model id>.json`, written the
//! moment it is known, so a crash loses nothing and a rerun skips what is done. A stage
//! with several sources keeps each one's in its own folder below the stage's
//! (`checkpoints/evals/every-eval-ever/`).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use opentelemetry::KeyValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::progress::Progress;
use crate::run::{ModelId, SourceName, Stage};
use crate::store::{RunStore, StoreError};

/// A checkpoint object: a `.json` file directly in the stage's folder, not a temporary
/// or hidden file.
fn is_checkpoint_key(folder: &str, key: &str) -> bool {
    key.strip_prefix(folder).is_some_and(|name| {
        !name.contains('/') && !name.starts_with('.') && name.ends_with(".json")
    })
}

/// What a stage checkpoints for each model.
pub trait Answer: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The manifest's and the metrics' word for this answer: `found`, `not_found`, …
    fn outcome(&self) -> &'static str;
    /// Whether a rerun keeps this answer; `false` (an error) asks again.
    fn is_final(&self) -> bool;
}

/// One model's answer, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint<T> {
    pub model_id: ModelId,
    /// Which source answered.
    pub source: SourceName,
    pub lookup: T,
    pub recorded_at: String,
}

/// A stage's checkpoints in one run.
#[derive(Debug, Clone)]
pub struct Checkpoints<T> {
    run: RunStore,
    stage: Stage,
    /// The source's folder below the stage's, for a stage with several.
    part: Option<&'static str>,
    _answer: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Checkpoints<T> {
    pub fn new(run: RunStore, stage: Stage) -> Self {
        Self::of(run, stage, None)
    }

    /// One source's checkpoints in a stage with several (`part` is its folder).
    pub fn of(run: RunStore, stage: Stage, part: Option<&'static str>) -> Self {
        Self {
            run,
            stage,
            part,
            _answer: PhantomData,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Every checkpoint already in the store, by normalised model id. A checkpoint that
    /// does not parse is damage from outside (they are written whole): it is skipped
    /// with a warning, and its model is answered again.
    ///
    /// The model id comes from inside each object: a long id's file name is shortened.
    /// Objects are read `concurrency` at a time, so a resume over S3 is not one round
    /// trip per model in a row.
    pub async fn load(&self) -> Result<HashMap<String, Checkpoint<T>>, StoreError> {
        let store = self.run.store();
        let folder = self.run.layout().checkpoints_of(self.stage, self.part);
        let keys: Vec<String> = store
            .list(&folder)
            .await?
            .into_iter()
            .filter(|k| is_checkpoint_key(&folder, k))
            .collect();
        let mut bodies = stream::iter(keys)
            .map(|key| async move {
                let body = store.get(&key).await;
                (key, body)
            })
            .buffer_unordered(self.run.concurrency());
        let mut out = HashMap::new();
        while let Some((key, body)) = bodies.next().await {
            let Some(body) = body? else {
                continue;
            };
            match serde_json::from_slice::<Checkpoint<T>>(&body) {
                Ok(c) => {
                    out.insert(c.model_id.normalized(), c);
                }
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "unreadable checkpoint; the model will be answered again")
                }
            }
        }
        Ok(out)
    }

    /// Write one model's answer, and return it as stored.
    pub async fn write(
        &self,
        model: &ModelId,
        source: SourceName,
        answer: T,
    ) -> Result<Checkpoint<T>, StoreError> {
        let checkpoint = Checkpoint {
            model_id: model.clone(),
            source,
            lookup: answer,
            recorded_at: chrono::Utc::now().to_rfc3339(),
        };
        let key = self
            .run
            .layout()
            .checkpoint_of(self.stage, self.part, model);
        let body = serde_json::to_vec(&checkpoint)
            .map_err(|e| StoreError::io("encoding", key.clone(), e))?;
        self.run
            .store()
            .put(&key, Bytes::from(body), crate::store::PutMode::Overwrite)
            .await?;
        crate::telemetry::metrics()
            .checkpoints_written
            .add(1, &[KeyValue::new("stage", self.stage.as_str())]);
        Ok(checkpoint)
    }
}

/// Where a source hands each answer the moment it is known: it is checkpointed,
/// counted per outcome and shown as progress.
#[derive(Debug)]
pub struct CheckpointSink<A> {
    checkpoints: Checkpoints<A>,
    source: SourceName,
    progress: Arc<Progress>,
    /// What this sink wrote, by normalised model id, so the stage need not read it back.
    written: Mutex<HashMap<String, Checkpoint<A>>>,
}

impl<A: Answer> CheckpointSink<A> {
    pub fn new(checkpoints: Checkpoints<A>, source: SourceName, progress: Arc<Progress>) -> Self {
        Self {
            checkpoints,
            source,
            progress,
            written: Mutex::new(HashMap::new()),
        }
    }

    pub async fn record(&self, model: &ModelId, answer: A) -> Result<(), StoreError> {
        let outcome = answer.outcome();
        let checkpoint = self.checkpoints.write(model, self.source, answer).await?;
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(model.normalized(), checkpoint);
        crate::telemetry::metrics().models_processed.add(
            1,
            &[
                KeyValue::new("stage", self.checkpoints.stage().as_str()),
                KeyValue::new("outcome", outcome),
            ],
        );
        self.progress.inc(1);
        Ok(())
    }

    /// Record many answers known at once (a source that read every row in one go):
    /// written `concurrency` at a time, each still its own object, so a crash part-way
    /// keeps exactly the ones written.
    pub async fn record_many(
        &self,
        answers: impl IntoIterator<Item = (ModelId, A)>,
    ) -> Result<(), StoreError> {
        stream::iter(answers.into_iter().map(Ok::<_, StoreError>))
            .try_for_each_concurrent(
                self.checkpoints.run.concurrency(),
                |(model, answer)| async move {
                    let span = tracing::info_span!("model", model.id = %model);
                    self.record(&model, answer).instrument(span).await
                },
            )
            .await
    }

    /// How many answers the run writes at once (`output.concurrency`), for a source
    /// that fetches and records model by model.
    pub fn concurrency(&self) -> usize {
        self.checkpoints.run.concurrency()
    }

    /// The stage's progress, for a source to say more than the count (its sessions,
    /// the rows it is reading).
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Every checkpoint this sink wrote, by normalised model id.
    pub fn into_written(self) -> HashMap<String, Checkpoint<A>> {
        self.progress.finish();
        self.written.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}
