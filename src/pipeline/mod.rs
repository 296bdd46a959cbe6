//! The run: the stages in order under the run lock, each recorded in the manifest as it
//! finishes, then the publish step: the run's history files and index entry, then
//! `latest.json`, then retention. The only module that knows every stage; each stage is
//! handed just what it needs from the [`RunContext`].

mod context;
mod latest;
mod metrics;

use std::time::Instant;

use async_trait::async_trait;
use tracing::Instrument;

pub use context::RunContext;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::evals::EvalsStage;
use crate::models::ModelsStage;
use crate::prepare::PrepareStage;
use crate::publish;
use crate::report::ReportStage;
use crate::run::artifact::{DATASET_CSV, REPORT_HTML};
use crate::run::{Manifest, ModelId, RunStatus, Stage, StageSummary};
use crate::scores::ScoresStage;
use crate::stage::{PipelineStage, StageCx, StageReport};
use crate::store::lock::RunLock;
use crate::store::RunStore;

/// Which stages a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stages {
    /// `hfharvest models`
    ModelsOnly,
    /// `hfharvest scores --models …`: scores for these models only.
    ScoresOnly(Vec<ModelId>),
    /// `hfharvest run`: every stage.
    All,
}

fn stage_span(stage: Stage) -> tracing::Span {
    tracing::info_span!(
        "stage",
        otel.name = format!("stage {stage}"),
        stage = stage.as_str()
    )
}

/// Run the stages, recording each in the manifest as it finishes. A failed run's
/// manifest says `failed` and why; what it wrote stays for a rerun to resume from.
pub async fn run(ctx: &RunContext, stages: Stages) -> Result<Manifest> {
    let span = tracing::info_span!("run", otel.name = "hfharvest run", run.id = %ctx.run_id());
    async {
        let started = Instant::now();
        metrics::start_counters();
        if let Err(unready) = preflight(&ctx.run, &plan(ctx, &stages)).await {
            metrics::record_run(ctx.run_id(), started, Some(&unready), None);
            return Err(unready);
        }
        let ttl = std::time::Duration::from_secs_f64(ctx.settings.output.lock_ttl_secs);
        let lock = RunLock::acquire(ctx.run.store().clone(), ctx.run_id(), ttl, &ctx.cancel).await;
        let lock = match lock {
            Ok(lock) => lock,
            Err(e) => {
                let refused = Error::from(e);
                metrics::record_run(ctx.run_id(), started, Some(&refused), None);
                return Err(refused);
            }
        };
        // The stages stop on SIGTERM, and also when another run takes the lock.
        let locked = RunContext {
            cancel: ctx.cancel.child_token(),
            ..ctx.clone()
        };
        let stop_on_loss = {
            let (lost, stop) = (lock.lost(), locked.cancel.clone());
            tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                lost.cancelled().await;
                stop.cancel();
            }))
        };
        let (manifest, result) = run_locked(&locked, stages, &lock).await;
        drop(stop_on_loss);
        lock.release().await;
        metrics::record_run(
            ctx.run_id(),
            started,
            result.as_ref().err(),
            manifest.as_ref(),
        );
        match (result, manifest) {
            (Ok(()), Some(manifest)) => Ok(manifest),
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(Error::Interrupted),
        }
    }
    .instrument(span)
    .await
}

/// The run under its lock: the manifest as far as it got, and how it ended. A run id
/// that already completed is refused before anything is written; any other is
/// continued, its manifest extended.
async fn run_locked(
    ctx: &RunContext,
    stages: Stages,
    lock: &RunLock,
) -> (Option<Manifest>, Result<()>) {
    let removed = ctx.run.store().remove_leftovers().await;
    match removed {
        Ok(0) => {}
        Ok(n) => tracing::info!(files = n, "removed temporary files a killed run left"),
        Err(e) => tracing::warn!(error = %e, "could not remove leftover temporary files"),
    }
    let mut manifest = match ctx.run.manifest().await {
        Ok(Some(done)) if done.status == RunStatus::Complete => {
            if stages == Stages::All {
                match unpublished(ctx, &done).await {
                    Ok(true) => {
                        tracing::warn!(
                            run = %ctx.run_id(),
                            "this run completed, but stopped before its history was written; \
                             publishing it now"
                        );
                        let published = publish_run(ctx, &done)
                            .instrument(stage_span(Stage::Publish))
                            .await;
                        return (Some(done), published);
                    }
                    Ok(false) => {}
                    Err(e) => return (None, Err(e)),
                }
            }
            return (
                None,
                Err(Error::usage(
                    format!("--run-id {}", ctx.run_id()),
                    format!(
                        "run {} is complete, and a complete run's data is never rewritten; \
                         use a new --run-id (or none, for a timestamp). `prepare` and \
                         `report` can still rebuild its derived files",
                        ctx.run_id()
                    ),
                )),
            );
        }
        Ok(Some(earlier)) => Manifest {
            status: RunStatus::Running,
            finished_at: None,
            error: None,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            config_digest: ctx.settings.digest(),
            ..earlier
        },
        Ok(None) => Manifest::start(
            ctx.run_id().as_str(),
            ctx.settings.digest(),
            chrono::Utc::now().to_rfc3339(),
        ),
        Err(e) => return (None, Err(e.into())),
    };
    let result = run_and_record(ctx, stages, &mut manifest, lock).await;
    (Some(manifest), result)
}

async fn run_and_record(
    ctx: &RunContext,
    stages: Stages,
    manifest: &mut Manifest,
    lock: &RunLock,
) -> Result<()> {
    let whole_run = stages == Stages::All;
    ctx.run.save_manifest(manifest).await?;
    let result = run_stages(ctx, stages, manifest).await;
    if lock.is_lost() {
        // Another run holds the output now: write nothing more, not even the manifest.
        return Err(Error::Store(crate::store::StoreError::Locked(format!(
            "another run took over {}/lock.json while run {} held it; this run stopped \
             (what it wrote stays, and a rerun of the same run id resumes)",
            ctx.run.describe(),
            ctx.run_id()
        ))));
    }
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    match &result {
        Ok(()) if whole_run => manifest.status = RunStatus::Complete,
        Ok(()) => manifest.status = RunStatus::Partial,
        Err(e) => {
            manifest.status = RunStatus::Failed;
            manifest.error = Some(e.to_string());
        }
    }
    let saved = ctx.run.save_manifest(manifest).await;
    result?;
    saved?;
    if whole_run {
        publish_run(ctx, manifest)
            .instrument(stage_span(Stage::Publish))
            .await?;
    }
    Ok(())
}

/// Whether a complete run is missing from the index, so its publish step never ended.
async fn unpublished(ctx: &RunContext, manifest: &Manifest) -> Result<bool> {
    let index = crate::store::read_index(ctx.run.store().as_ref()).await?;
    Ok(index.get(&manifest.run_id).is_none())
}

/// The publish step of a complete run: its history files and index entry, then
/// `latest.json` (unless a run with a newer snapshot is already published), then
/// retention. Each part can be redone: a rerun of the run id finishes what a stopped one
/// left.
async fn publish_run(ctx: &RunContext, manifest: &Manifest) -> Result<()> {
    let published = publish::publish_snapshot(&ctx.run, manifest).await?;
    let newest = published.index.newest().map(|r| r.run_id.as_str());
    if newest == Some(manifest.run_id.as_str()) {
        latest::publish(&ctx.run, manifest).await?;
    } else {
        tracing::info!(
            newest = newest.unwrap_or(""),
            "a run with a newer snapshot is published; latest.json stays on it"
        );
    }
    if let Some(days) = ctx.settings.output.keep_runs_days {
        let store = ctx.run.store().as_ref();
        if let Err(e) = publish::trim_runs(store, days, &published.index, &manifest.run_id).await {
            // The run and its history are published; old folders wait for the next run.
            tracing::warn!(error = %e, "retention could not remove old run folders");
        }
    }
    Ok(())
}

/// A stage as the pipeline runs it, its error the run's.
#[async_trait]
trait AnyStage: Send + Sync {
    fn stage(&self) -> Stage;
    async fn preflight(&self, run: &RunStore) -> Result<()>;
    async fn run(&self, cx: &StageCx) -> Result<StageReport>;
}

#[async_trait]
impl<S> AnyStage for S
where
    S: PipelineStage,
    Error: From<S::Error>,
{
    fn stage(&self) -> Stage {
        PipelineStage::stage(self)
    }

    async fn preflight(&self, run: &RunStore) -> Result<()> {
        PipelineStage::preflight(self, run)
            .await
            .map_err(|e| Error::Unready {
                stage: PipelineStage::stage(self),
                source: Box::new(Error::from(e)),
            })
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport> {
        Ok(PipelineStage::run(self, cx).await?)
    }
}

/// The stages a command runs, in order, each built from its settings.
fn plan(ctx: &RunContext, stages: &Stages) -> Vec<Box<dyn AnyStage>> {
    let settings = &ctx.settings;
    let models = || ModelsStage {
        hub: settings.hub.clone(),
        http: settings.http.clone(),
        token: ctx.hf_token.clone(),
    };
    let scores = |models: Option<Vec<ModelId>>| ScoresStage {
        settings: settings.leaderboard.clone(),
        http: settings.http.clone(),
        hub_endpoint: settings.hub.endpoint.clone(),
        models,
    };
    match stages {
        Stages::ModelsOnly => vec![Box::new(models())],
        Stages::ScoresOnly(ids) => vec![Box::new(scores(Some(ids.clone())))],
        Stages::All => {
            let mut planned: Vec<Box<dyn AnyStage>> =
                vec![Box::new(models()), Box::new(scores(None))];
            if settings.evals.enabled {
                planned.push(Box::new(EvalsStage {
                    settings: settings.evals.clone(),
                    hub: settings.hub.clone(),
                    http: settings.http.clone(),
                    token: ctx.hf_token.clone(),
                }));
            }
            planned.push(Box::new(prepare_stage(settings)));
            planned.push(Box::new(report_stage(settings)));
            planned
        }
    }
}

fn prepare_stage(settings: &Settings) -> PrepareStage {
    PrepareStage {
        hub_columns: settings.evals.dataset_columns,
        top_models: settings.telemetry.top_models,
    }
}

fn report_stage(settings: &Settings) -> ReportStage {
    ReportStage {
        parameters: report_parameters(settings),
    }
}

/// Every planned stage's check, before the lock is taken or anything is written.
async fn preflight(run: &RunStore, planned: &[Box<dyn AnyStage>]) -> Result<()> {
    for stage in planned {
        stage
            .preflight(run)
            .instrument(tracing::info_span!(
                "preflight",
                stage = stage.stage().as_str()
            ))
            .await?;
    }
    Ok(())
}

async fn run_stages(ctx: &RunContext, stages: Stages, manifest: &mut Manifest) -> Result<()> {
    for stage in plan(ctx, &stages) {
        run_stage(ctx, stage.as_ref(), Some(&mut *manifest)).await?;
        crate::stage::release_freed_memory();
    }
    Ok(())
}

/// One stage, and the one place a stage's report is recorded: its `quarantined` count
/// from `quarantine.json`, the run's snapshot time, and its line in the manifest
/// (replacing an earlier attempt's, so each stage is there once).
async fn run_stage(
    ctx: &RunContext,
    stage: &dyn AnyStage,
    manifest: Option<&mut Manifest>,
) -> Result<StageReport> {
    let cx = StageCx::new(stage.stage(), ctx.run.clone(), ctx.cancel.clone());
    let mut report = stage.run(&cx).instrument(stage_span(stage.stage())).await?;
    let quarantined = cx.quarantined().await;
    if quarantined > 0 {
        report.outcomes.insert("quarantined".into(), quarantined);
    }
    if let Some(manifest) = manifest {
        if let Some(at) = &report.snapshot_at {
            // The first attempt's snapshot time stays: a resumed run keeps its night.
            manifest.snapshot_at.get_or_insert_with(|| at.clone());
        }
        manifest.record(StageSummary {
            stage: stage.stage(),
            seconds: report.seconds,
            outcomes: report.outcomes.clone(),
            requests: report.requests.clone(),
        });
        ctx.run.save_manifest(manifest).await?;
    }
    Ok(report)
}

/// `hfharvest prepare` / `hfharvest report`: one stage over an existing run, whose
/// manifest is left as it is, so a complete run stays complete. Returns what it wrote
/// and a line saying how it went.
pub async fn rerun_stage(ctx: &RunContext, stage: Stage) -> Result<(&'static str, String)> {
    let cx = StageCx::new(stage, ctx.run.clone(), ctx.cancel.clone());
    match stage {
        Stage::Prepare => {
            let outcome = prepare_stage(&ctx.settings)
                .prepare(&cx)
                .instrument(stage_span(stage))
                .await?;
            let said = format!(
                "prepared {} models ({} dropped, {} values fixed; see quality.json)",
                outcome.rows, outcome.dropped, outcome.fixed
            );
            Ok((DATASET_CSV, said))
        }
        Stage::Report => {
            let outcome = report_stage(&ctx.settings)
                .report(&cx)
                .instrument(stage_span(stage))
                .await?;
            Ok((
                REPORT_HTML,
                format!("reported on {} models", outcome.models),
            ))
        }
        other => Err(Error::usage(
            other.as_str(),
            "only prepare and report run on their own over an existing run",
        )),
    }
}

/// `hfharvest history rebuild`: backfill the history table and `runs/index.json` from
/// the complete runs already in the output. Safe beside a running job: it only creates
/// files that are missing and adds index entries with a compare-and-swap.
pub async fn rebuild_history(settings: &Settings) -> Result<publish::Rebuilt> {
    let store = crate::store::open(&settings.output.dir, &settings.s3)
        .await
        .map_err(Error::Preflight)?;
    let rebuilt = publish::rebuild_history(store)
        .instrument(stage_span(Stage::Publish))
        .await?;
    Ok(rebuilt)
}

/// The settings worth showing on the report (they hold no secrets).
pub fn report_parameters(settings: &Settings) -> Vec<(String, String)> {
    let hub = &settings.hub;
    vec![
        ("models (top N)".into(), hub.limit.to_string()),
        ("sorted by".into(), hub.sort.clone()),
        (
            "pipeline tags".into(),
            hub.listings()
                .iter()
                .map(|t| t.as_deref().unwrap_or("any"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Hub endpoint".into(), hub.endpoint.clone()),
        (
            "leaderboard source".into(),
            settings.leaderboard.source.as_str().into(),
        ),
        ("tool version".into(), env!("CARGO_PKG_VERSION").into()),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use async_trait::async_trait;
    use bytes::Bytes;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::run::{RunId, RunLayout};
    use crate::store::local::LocalStore;
    use crate::store::{DeleteMode, PutMode, RunStore, Store, StoreError, Version};

    /// A bucket that takes the lock, then refuses every other write, as S3 does when a
    /// token expires or a policy changes mid-run.
    #[derive(Debug)]
    struct DeniesWrites(LocalStore);

    #[async_trait]
    impl Store for DeniesWrites {
        fn describe(&self) -> String {
            "s3://bucket/denied".into()
        }
        async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
            match mode {
                PutMode::Overwrite => {
                    Err(StoreError::Access(format!("writing {key}: access denied")))
                }
                _ => self.0.put(key, body, mode).await,
            }
        }
        async fn put_file(&self, key: &str, _: &Path) -> Result<(), StoreError> {
            Err(StoreError::Access(format!("writing {key}: access denied")))
        }
        async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
            self.0.get(key).await
        }
        async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
            self.0.get_versioned(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.0.list(prefix).await
        }
        async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
            self.0.delete(key, mode).await
        }
    }

    /// Access refused during a run is a failed run (exit 1, which the chart retries), not
    /// a configuration error (exit 2, which it does not): only the check before anything
    /// ran is that.
    #[tokio::test]
    async fn access_denied_mid_run_is_a_failed_run_not_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(DeniesWrites(LocalStore::open(dir.path()).unwrap()));
        // A Hub that answers, so the run passes its checks and starts.
        let hub = fakehf::FakeHf::start(fakehf::FakeConfig::default())
            .await
            .unwrap();
        let mut settings = Settings::default();
        settings.hub.endpoint = hub.url();
        let ctx = RunContext {
            settings,
            run: RunStore::new(store, RunLayout::new(RunId::parse("r").unwrap())),
            hf_token: None,
            cancel: CancellationToken::new(),
        };
        let error = run(&ctx, Stages::ModelsOnly).await.unwrap_err();
        assert!(error.to_string().contains("access denied"), "{error}");
        assert_eq!(error.exit_code(), 1, "{error}");
        assert_eq!(
            Error::Preflight(StoreError::Access("x".into())).exit_code(),
            2
        );
    }
}
