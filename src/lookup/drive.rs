//! The per-model driver every score source runs under: skip what this run already
//! answered, hand the rest to the source, checkpoint each answer the moment it is known.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{Answer, Checkpoint, CheckpointSink, Checkpoints, Written};
use super::source::{ScoreSource, SourceStats};
use crate::progress::Progress;
use crate::run::{ModelId, Stage};
use crate::store::RunStore;

/// What [`drive`] leaves: every model's checkpoint, old and new, those whose answers
/// say nothing by their models' ids only.
#[derive(Debug)]
pub struct Driven<A> {
    pub checkpoints: HashMap<String, Checkpoint<A>>,
    /// The models (normalised ids) whose final answers say nothing
    /// ([`Answer::says_nothing`]); they are not in `checkpoints`.
    pub quiet: std::collections::HashSet<String>,
    pub resumed: u64,
    pub stats: SourceStats,
}

/// Run `source` over the models of `models` that this run has no final answer for yet
/// (an error is asked again), checkpointing each answer under `stage`.
pub async fn drive<S: ScoreSource + ?Sized>(
    source: &S,
    run: &RunStore,
    stage: Stage,
    models: &[ModelId],
    cancel: &CancellationToken,
) -> Result<Driven<S::Answer>, S::Error> {
    let checkpoints = Checkpoints::<S::Answer>::of(run.clone(), stage, source.checkpoint_part());
    let mut done = Written::default();
    for (key, checkpoint) in checkpoints.load().await? {
        done.insert(key, checkpoint);
    }
    let todo: Vec<ModelId> = models
        .iter()
        .filter(|m| {
            let key = m.normalized();
            !done.quiet.contains(&key)
                && done
                    .checkpoints
                    .get(&key)
                    .is_none_or(|c| !c.lookup.is_final())
        })
        .cloned()
        .collect();
    let resumed = (models.len() - todo.len()) as u64;
    crate::telemetry::metrics()
        .checkpoints_resumed
        .add(resumed, &[KeyValue::new("stage", stage.as_str())]);
    if resumed > 0 {
        tracing::info!(resumed, todo = todo.len(), "resuming from checkpoints");
    }
    let mut stats = SourceStats::default();
    if !todo.is_empty() {
        let progress = Arc::new(Progress::new(stage.as_str(), todo.len() as u64));
        let sink = CheckpointSink::new(checkpoints, source.name(), progress);
        let answered = source.answer(&todo, &sink, cancel).await;
        let written = sink.into_written();
        stats = answered?;
        done.extend(written);
    }
    Ok(Driven {
        checkpoints: done.checkpoints,
        quiet: done.quiet,
        resumed,
        stats,
    })
}
