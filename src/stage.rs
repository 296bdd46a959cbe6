//! The stage contract: every stage of a run (models, scores, evals, prepare, report) is
//! a [`PipelineStage`]. It is built from its settings, checked by
//! [`PipelineStage::preflight`] before the run takes its lock or writes anything, then
//! run with a [`StageCx`] and answers with a [`StageReport`]. The pipeline loops over
//! the stages and records each report in the manifest and the metrics in one place, so
//! no stage writes the manifest itself.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::run::{Quarantined, Stage};
use crate::store::{RunStore, StoreError};
use crate::telemetry::Metrics;

/// What a stage runs with: the run's files, the cancellation token (SIGTERM, or the
/// run lock lost), the metrics, and the one way to set records aside.
pub struct StageCx {
    pub run: RunStore,
    pub cancel: CancellationToken,
    pub metrics: &'static Metrics,
    stage: Stage,
    set_aside: Mutex<u64>,
}

impl std::fmt::Debug for StageCx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageCx")
            .field("stage", &self.stage)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl StageCx {
    pub fn new(stage: Stage, run: RunStore, cancel: CancellationToken) -> Self {
        Self {
            run,
            cancel,
            metrics: crate::telemetry::metrics(),
            stage,
            set_aside: Mutex::new(0),
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Set records from outside aside in `quarantine.json`, at once, so they are kept
    /// even when the stage then fails: `fresh` replaces what this stage set aside in an
    /// earlier attempt, otherwise they are added. The stage's `quarantined` outcome is
    /// the count this leaves there.
    pub async fn set_aside(
        &self,
        records: Vec<Quarantined>,
        fresh: bool,
    ) -> Result<u64, StoreError> {
        let mut count = self.set_aside.lock().await;
        *count = self.run.save_quarantine(self.stage, records, fresh).await?;
        Ok(*count)
    }

    /// How many records this stage has in `quarantine.json`, as its last
    /// [`StageCx::set_aside`] left them.
    pub async fn quarantined(&self) -> u64 {
        *self.set_aside.lock().await
    }
}

/// How a stage went, for `manifest.json` and the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageReport {
    pub seconds: f64,
    /// Per outcome, in the stage's own words ([`Stage::outcome_words`]); the pipeline
    /// adds `quarantined` when the stage set records aside.
    pub outcomes: BTreeMap<String, u64>,
    /// The requests the stage made, by what it asked (the models stage: list pages
    /// per pipeline tag), for the manifest.
    pub requests: BTreeMap<String, u64>,
    /// When the data was taken, for the stage that takes it (models); a resumed run
    /// keeps its first attempt's.
    pub snapshot_at: Option<String>,
}

/// One stage of a run.
#[async_trait]
pub trait PipelineStage: Send + Sync {
    type Error: std::error::Error + Send + Sync + 'static;

    fn stage(&self) -> Stage;

    /// Build and health-check what the stage talks to, before the run takes its lock
    /// or writes anything: one request each, no retry, so a wrong endpoint or token
    /// fails in seconds, not mid-run. `run` is read only, to skip a check the stage
    /// will not need (a resumed models stage asks the Hub nothing).
    async fn preflight(&self, run: &RunStore) -> Result<(), Self::Error> {
        let _ = run;
        Ok(())
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, Self::Error>;
}

/// Give back to the system what a finished stage (or part of one) freed, so the next
/// one's peak does not stack on the last one's: glibc keeps freed memory in its
/// per-thread arenas until `malloc_trim(3)` returns it.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
