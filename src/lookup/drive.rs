//! The per-model driver every score source runs under: skip what this run already
//! answered, hand the rest to the source, checkpoint each answer the moment it is known.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{Answer, Checkpoint, CheckpointSink, Checkpoints};
use super::source::{ScoreSource, SourceStats};
use crate::progress::Progress;
use crate::run::{ModelId, Stage};
use crate::store::RunStore;

/// What [`drive`] leaves: every model's checkpoint, old and new.
#[derive(Debug)]
pub struct Driven<A> {
    pub checkpoints: HashMap<String, Checkpoint<A>>,
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
    let mut done = checkpoints.load().await?;
    let todo: Vec<ModelId> = models
        .iter()
        .filter(|m| {
            done.get(&m.normalized())
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
        checkpoints: done,
        resumed,
        stats,
    })
}
