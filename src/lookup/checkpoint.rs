//! Checkpoints, for every stage that answers model by model. An answer that comes on
//! its own is its own object, `runs/<id>/checkpoints/<stage>/<encoded model id>.json`,
//! written the moment it is known; answers that complete together (one response
//! answered them all: the leaderboard's rows, a list page's results, a browser batch)
//! go out as one object, `…/<stage>/+batch-<hash>.json`, of at most `output.checkpoint_batch` (1,000). So a
//! crash loses nothing known, a rerun skips what is done, and a night of N models
//! writes about N / 1,000 objects per source, not N. A stage with several sources keeps
//! each one's in its own folder below the stage's (`checkpoints/evals/every-eval-ever/`).

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
use crate::run::{ModelId, SourceName, Stage, BATCH_PREFIX};
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
    /// Whether the answer says nothing a stage needs to hold: the source does not have
    /// the model and set nothing aside. Such an answer is checkpointed as any other,
    /// but the stage keeps only that the model was answered (at the whole catalogue
    /// most models are ones a source lacks). `false` unless a kind of answer says.
    fn says_nothing(&self) -> bool {
        false
    }
}

/// Answers handed to [`CheckpointSink::record_many`] as they are made, boxed so that a
/// source's `async_trait` future can hold the iterator.
pub type Answers<'a, A> = Box<dyn Iterator<Item = (ModelId, A)> + Send + 'a>;

/// One model's answer, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint<T> {
    pub model_id: ModelId,
    /// Which source answered.
    pub source: SourceName,
    pub lookup: T,
    pub recorded_at: String,
}

/// Answers that completed together, as stored in one object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Batch<T> {
    checkpoints: Vec<Checkpoint<T>>,
}

/// Whether `newer` supersedes `older` for the same model: a rerun only asks again for
/// what had no final answer, so the later answer is the one that counts. RFC 3339 times
/// written by this tool compare as instants; an unreadable one loses.
fn supersedes(newer: &str, older: &str) -> bool {
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (at(newer), at(older)) {
        (Some(n), Some(o)) => n > o,
        (Some(_), None) => true,
        _ => false,
    }
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
        let mut out: HashMap<String, Checkpoint<T>> = HashMap::new();
        let mut keep = |c: Checkpoint<T>| {
            let id = c.model_id.normalized();
            match out.get(&id) {
                Some(old) if !supersedes(&c.recorded_at, &old.recorded_at) => {}
                _ => {
                    out.insert(id, c);
                }
            }
        };
        while let Some((key, body)) = bodies.next().await {
            let Some(body) = body? else {
                continue;
            };
            let is_batch = key[folder.len()..].starts_with(BATCH_PREFIX);
            let parsed = if is_batch {
                serde_json::from_slice::<Batch<T>>(&body).map(|b| b.checkpoints)
            } else {
                serde_json::from_slice::<Checkpoint<T>>(&body).map(|c| vec![c])
            };
            match parsed {
                Ok(checkpoints) => checkpoints.into_iter().for_each(&mut keep),
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "unreadable checkpoint; its models will be answered again")
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
        self.put(&key, &checkpoint).await?;
        Ok(checkpoint)
    }

    /// Write answers that completed together as one object (at most `output.checkpoint_batch`), and
    /// return them as stored.
    pub async fn write_batch(
        &self,
        answers: Vec<(ModelId, T)>,
        source: SourceName,
    ) -> Result<Vec<Checkpoint<T>>, StoreError> {
        let recorded_at = chrono::Utc::now().to_rfc3339();
        let key = self.run.layout().batch_checkpoint_of(
            self.stage,
            self.part,
            answers.iter().map(|(model, _)| model),
        );
        let batch = Batch {
            checkpoints: answers
                .into_iter()
                .map(|(model_id, lookup)| Checkpoint {
                    model_id,
                    source,
                    lookup,
                    recorded_at: recorded_at.clone(),
                })
                .collect(),
        };
        self.put(&key, &batch).await?;
        Ok(batch.checkpoints)
    }

    /// Write one checkpoint object whole, and count it.
    async fn put(&self, key: &str, object: &impl Serialize) -> Result<(), StoreError> {
        let body = serde_json::to_vec(object)
            .map_err(|e| StoreError::io("encoding", key.to_owned(), e))?;
        self.run
            .store()
            .put(key, Bytes::from(body), crate::store::PutMode::Overwrite)
            .await?;
        crate::telemetry::metrics()
            .checkpoints_written
            .add(1, &[KeyValue::new("stage", self.stage.as_str())]);
        Ok(())
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
    written: Mutex<Written<A>>,
}

/// The checkpoints a run holds for a source, by normalised model id: those whose
/// answers say something, whole, and the models whose answers say nothing
/// ([`Answer::says_nothing`]), by id only.
#[derive(Debug)]
pub struct Written<A> {
    pub checkpoints: HashMap<String, Checkpoint<A>>,
    pub quiet: std::collections::HashSet<String>,
}

impl<A> Default for Written<A> {
    fn default() -> Self {
        Self {
            checkpoints: HashMap::new(),
            quiet: Default::default(),
        }
    }
}

impl<A: Answer> Written<A> {
    /// Hold one checkpoint: whole, or its model's id when its answer says nothing.
    pub fn insert(&mut self, key: String, checkpoint: Checkpoint<A>) {
        // Only a final answer goes by its id: one a rerun asks again is kept whole.
        if checkpoint.lookup.says_nothing() && checkpoint.lookup.is_final() {
            self.checkpoints.remove(&key);
            self.quiet.insert(key);
        } else {
            self.quiet.remove(&key);
            self.checkpoints.insert(key, checkpoint);
        }
    }

    pub fn extend(&mut self, other: Written<A>) {
        for key in other.quiet {
            self.checkpoints.remove(&key);
            self.quiet.insert(key);
        }
        for (key, checkpoint) in other.checkpoints {
            self.quiet.remove(&key);
            self.checkpoints.insert(key, checkpoint);
        }
    }
}

impl<A: Answer> CheckpointSink<A> {
    pub fn new(checkpoints: Checkpoints<A>, source: SourceName, progress: Arc<Progress>) -> Self {
        Self {
            checkpoints,
            source,
            progress,
            written: Mutex::new(Written::default()),
        }
    }

    /// Record one answer that came on its own: its own object, written now.
    pub async fn record(&self, model: &ModelId, answer: A) -> Result<(), StoreError> {
        let outcome = answer.outcome();
        let checkpoint = self.checkpoints.write(model, self.source, answer).await?;
        self.count(std::iter::once(outcome));
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(model.normalized(), checkpoint);
        Ok(())
    }

    /// Record answers that completed together (one response answered them all): one
    /// object per [`BATCH_MAX`] of them, written `concurrency` at a time, so a crash
    /// part-way keeps exactly the objects written and a rerun asks for the rest.
    pub async fn record_many<I>(&self, answers: I) -> Result<(), StoreError>
    where
        I: IntoIterator<Item = (ModelId, A)>,
        I::IntoIter: Send,
    {
        let most = self.checkpoints.run.checkpoint_batch().max(1);
        // Taken one batch at a time as the writes go, so only the batches in flight
        // are held, not every answer of the catalogue at once.
        let mut answers = answers.into_iter();
        let batches = std::iter::from_fn(move || {
            let batch: Vec<(ModelId, A)> = answers.by_ref().take(most).collect();
            (!batch.is_empty()).then_some(batch)
        });
        if most == 1 {
            // One object per answer, named by its model, as a source that answers one
            // by one writes them.
            return stream::iter(batches.flatten().map(Ok::<_, StoreError>))
                .try_for_each_concurrent(
                    self.checkpoints.run.concurrency(),
                    |(model, answer)| async move { self.record(&model, answer).await },
                )
                .await;
        }
        stream::iter(batches.map(Ok::<_, StoreError>))
            .try_for_each_concurrent(self.checkpoints.run.concurrency(), |batch| {
                let span = tracing::info_span!("checkpoint batch", models = batch.len() as u64);
                async move {
                    let written = self.checkpoints.write_batch(batch, self.source).await?;
                    self.count(written.iter().map(|c| c.lookup.outcome()));
                    let mut held = self.written.lock().unwrap_or_else(|p| p.into_inner());
                    for checkpoint in written {
                        held.insert(checkpoint.model_id.normalized(), checkpoint);
                    }
                    Ok(())
                }
                .instrument(span)
            })
            .await
    }

    /// Count answers written, per outcome, in the metrics and the progress.
    fn count(&self, outcomes: impl Iterator<Item = &'static str>) {
        let mut by_outcome: std::collections::BTreeMap<&'static str, u64> = Default::default();
        for outcome in outcomes {
            *by_outcome.entry(outcome).or_default() += 1;
        }
        for (outcome, n) in by_outcome {
            crate::telemetry::metrics().models_processed.add(
                n,
                &[
                    KeyValue::new("stage", self.checkpoints.stage().as_str()),
                    KeyValue::new("outcome", outcome),
                ],
            );
            self.progress.inc(n);
        }
    }

    /// How many answers the run writes at once (`output.concurrency`), for a source
    /// that fetches and records model by model.
    pub fn concurrency(&self) -> usize {
        self.checkpoints.run.concurrency()
    }

    /// The most answers one checkpoint object holds (`output.checkpoint_batch`).
    pub fn checkpoint_batch(&self) -> usize {
        self.checkpoints.run.checkpoint_batch()
    }

    /// The stage's progress, for a source to say more than the count (its sessions,
    /// the rows it is reading).
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Every checkpoint this sink wrote, by normalised model id.
    pub fn into_written(self) -> Written<A> {
        self.progress.finish();
        self.written.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{RunId, RunLayout};
    use crate::store::local::LocalStore;
    use crate::store::{PutMode, Store};

    fn id(s: &str) -> ModelId {
        ModelId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn batches_and_single_objects_load_together_and_the_later_answer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(LocalStore::open(dir.path()).unwrap());
        let run = RunStore::new(store.clone(), RunLayout::new(RunId::parse("r").unwrap()));
        let checkpoints = Checkpoints::<String>::new(run.clone(), Stage::Scores);
        let first = checkpoints
            .write_batch(
                vec![(id("a/one"), "found".into()), (id("b/two"), "error".into())],
                SourceName::Datasets,
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 2);
        // The rerun answers the error again, on its own, later.
        let again = Checkpoint {
            model_id: id("B/Two"),
            source: SourceName::Datasets,
            lookup: "found again".to_string(),
            recorded_at: "2999-01-01T00:00:00+00:00".into(),
        };
        store
            .put(
                &run.layout()
                    .checkpoint_of(Stage::Scores, None, &id("B/Two")),
                Bytes::from(serde_json::to_vec(&again).unwrap()),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        // A damaged batch costs only its own models.
        let damaged =
            run.layout()
                .batch_checkpoint_of(Stage::Scores, None, [&id("c/three")].into_iter());
        store
            .put(
                &damaged,
                Bytes::from_static(b"{\"checkpoints\": [{"),
                crate::store::PutMode::Overwrite,
            )
            .await
            .unwrap();
        let loaded = checkpoints.load().await.unwrap();
        assert_eq!(loaded.len(), 2, "{loaded:?}");
        assert_eq!(loaded["a/one"].lookup, "found");
        assert_eq!(loaded["b/two"].lookup, "found again");
        let files = std::fs::read_dir(dir.path().join("runs/r/checkpoints/scores"))
            .unwrap()
            .count();
        assert_eq!(files, 3, "one batch object, one model's, one damaged batch");
    }

    #[test]
    fn a_later_time_supersedes_and_an_unreadable_one_never_does() {
        assert!(supersedes(
            "2026-12-03T12:00:00.5+00:00",
            "2026-12-03T12:00:00.45+00:00"
        ));
        assert!(!supersedes(
            "2026-12-03T12:00:00+00:00",
            "2026-12-03T12:00:00+00:00"
        ));
        assert!(!supersedes("garbage", "2026-12-03T12:00:00+00:00"));
        assert!(supersedes("2026-12-03T12:00:00+00:00", "garbage"));
    }
}
