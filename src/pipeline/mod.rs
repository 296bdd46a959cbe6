//! The run: the stages in order under the run lock, each recorded in the manifest as it
//! finishes, then `latest.json`. The only module that knows every stage; each stage is
//! handed just what it needs from the [`RunContext`].

mod context;
mod latest;
mod metrics;

use std::time::Instant;

use tracing::Instrument;

pub use context::RunContext;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::run::artifact::{DATASET_CSV, REPORT_HTML};
use crate::run::{Manifest, ModelId, RunStatus, Stage, StageSummary};
use crate::store::lock::RunLock;
use crate::{hub, leaderboard, prepare, report};

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
        let ttl = std::time::Duration::from_secs_f64(ctx.settings.output.lock_ttl_secs);
        let lock = RunLock::acquire(ctx.run.store().clone(), ctx.run_id(), ttl, &ctx.cancel).await;
        let result = match lock {
            Ok(lock) => {
                let result = run_locked(ctx, stages).await;
                lock.release().await;
                result
            }
            Err(e) => Err(e.into()),
        };
        metrics::record_run(ctx.run_id(), started, &result);
        result
    }
    .instrument(span)
    .await
}

async fn run_locked(ctx: &RunContext, stages: Stages) -> Result<Manifest> {
    let publish = stages == Stages::All;
    let mut manifest = Manifest::start(
        ctx.run_id().as_str(),
        ctx.settings.digest(),
        chrono::Utc::now().to_rfc3339(),
    );
    ctx.run.save_manifest(&manifest).await?;
    let result = run_stages(ctx, stages, &mut manifest).await;
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    match &result {
        Ok(()) => manifest.status = RunStatus::Complete,
        Err(e) => {
            manifest.status = RunStatus::Failed;
            manifest.error = Some(e.to_string());
        }
    }
    let saved = ctx.run.save_manifest(&manifest).await;
    result?;
    saved?;
    if publish {
        latest::publish(&ctx.run, &manifest)
            .instrument(stage_span(Stage::Publish))
            .await?;
    }
    Ok(manifest)
}

async fn run_stages(ctx: &RunContext, stages: Stages, manifest: &mut Manifest) -> Result<()> {
    let every_stage = stages == Stages::All;
    let models = match stages {
        Stages::ScoresOnly(ids) => ids,
        Stages::ModelsOnly | Stages::All => {
            let collected = hub::collect_models(
                &ctx.run,
                &ctx.settings.hub,
                &ctx.settings.http,
                ctx.hf_token.clone(),
                &ctx.cancel,
            )
            .instrument(stage_span(Stage::Models))
            .await?;
            manifest.stages.push(StageSummary {
                stage: Stage::Models,
                seconds: collected.seconds,
                outcomes: collected.outcomes(),
            });
            ctx.run.save_manifest(manifest).await?;
            if stages == Stages::ModelsOnly {
                return Ok(());
            }
            collected.models
        }
    };
    let scores = leaderboard::collect_scores(
        &ctx.run,
        &models,
        &ctx.settings.leaderboard,
        &ctx.settings.http,
        &ctx.cancel,
    )
    .instrument(stage_span(Stage::Scores))
    .await?;
    manifest.stages.push(StageSummary {
        stage: Stage::Scores,
        seconds: scores.seconds,
        outcomes: scores.outcomes(),
    });
    ctx.run.save_manifest(manifest).await?;
    if every_stage {
        prepare_and_report(ctx, manifest).await?;
    }
    Ok(())
}

/// `dataset.csv` + `quality.json`, then `report.html`.
async fn prepare_and_report(ctx: &RunContext, manifest: &mut Manifest) -> Result<()> {
    let prepared = prepare_stage(ctx).await?;
    manifest.stages.push(StageSummary {
        stage: Stage::Prepare,
        seconds: prepared.seconds,
        outcomes: prepared.outcomes(),
    });
    ctx.run.save_manifest(manifest).await?;
    let report = report_stage(ctx).await?;
    manifest.stages.push(StageSummary {
        stage: Stage::Report,
        seconds: report.seconds,
        outcomes: report.outcomes(),
    });
    ctx.run.save_manifest(manifest).await?;
    Ok(())
}

async fn prepare_stage(ctx: &RunContext) -> Result<prepare::PrepareOutcome> {
    let prepared = cancellable(ctx, prepare::prepare_run(&ctx.run))
        .instrument(stage_span(Stage::Prepare))
        .await?;
    metrics::record_top_models(&prepared.rows, ctx.settings.telemetry.top_models);
    Ok(prepared)
}

async fn report_stage(ctx: &RunContext) -> Result<report::ReportOutcome> {
    cancellable(
        ctx,
        report::report_run(&ctx.run, report_parameters(&ctx.settings)),
    )
    .instrument(stage_span(Stage::Report))
    .await
}

/// `hfharvest prepare` / `hfharvest report`: one stage over an existing run, whose
/// manifest is left as it is, so a complete run stays complete. Returns what it wrote
/// and a line saying how it went.
pub async fn rerun_stage(ctx: &RunContext, stage: Stage) -> Result<(&'static str, String)> {
    match stage {
        Stage::Prepare => {
            let outcome = prepare_stage(ctx).await?;
            let said = format!(
                "prepared {} models ({} dropped, {} values fixed; see quality.json)",
                outcome.rows.len(),
                outcome.dropped,
                outcome.fixed
            );
            Ok((DATASET_CSV, said))
        }
        Stage::Report => {
            let outcome = report_stage(ctx).await?;
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

/// The settings worth showing on the report (they hold no secrets).
pub fn report_parameters(settings: &Settings) -> Vec<(String, String)> {
    let hub = &settings.hub;
    vec![
        ("models (top N)".into(), hub.limit.to_string()),
        ("sorted by".into(), hub.sort.clone()),
        (
            "pipeline tag".into(),
            hub.pipeline_tag.clone().unwrap_or_else(|| "any".into()),
        ),
        ("Hub endpoint".into(), hub.endpoint.clone()),
        (
            "leaderboard source".into(),
            settings.leaderboard.source.as_str().into(),
        ),
        ("tool version".into(), env!("CARGO_PKG_VERSION").into()),
    ]
}

/// Stop a stage at SIGTERM; what it wrote before stays in the store.
async fn cancellable<T, E: Into<Error>>(
    ctx: &RunContext,
    work: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    tokio::select! {
        result = work => result.map_err(Into::into),
        _ = ctx.cancel.cancelled() => Err(Error::Interrupted),
    }
}
