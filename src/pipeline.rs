//! The run: its context (settings, store, run id, token, cancellation) and the stages in
//! order, with a manifest that records how each went.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::KeyValue;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::hub;
use crate::leaderboard;
use crate::store::lock::RunLock;
use crate::store::{self, RunLayout, Store};
use crate::types::{ModelId, RunId, Secret};

pub const MANIFEST: &str = "manifest.json";

/// What every stage gets.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub layout: RunLayout,
    pub hf_token: Option<Secret>,
    /// Cancelled on SIGTERM / Ctrl-C: stages stop taking new work and clean up.
    pub cancel: CancellationToken,
}

impl RunContext {
    pub async fn open(settings: Settings, cancel: CancellationToken) -> Result<Self> {
        let run_id = match &settings.output.run_id {
            Some(id) => RunId::parse(id)?,
            None => RunId::now(),
        };
        let store = store::open(&settings).await?;
        Ok(Self {
            layout: RunLayout::new(run_id),
            store,
            hf_token: hub::token_from_env(),
            settings,
            cancel,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    pub name: String,
    pub seconds: f64,
    /// Models per outcome (`ok`, `not_found`, `mismatch`, `error`, `resumed`, …).
    pub outcomes: std::collections::BTreeMap<String, u64>,
}

/// `runs/<id>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub status: RunStatus,
    pub tool_version: String,
    pub config_digest: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub stages: Vec<StageSummary>,
    pub error: Option<String>,
}

impl Manifest {
    fn new(ctx: &RunContext) -> Self {
        Self {
            run_id: ctx.layout.run_id.to_string(),
            status: RunStatus::Running,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            config_digest: ctx.settings.digest(),
            started_at: chrono::Utc::now().to_rfc3339(),
            finished_at: None,
            stages: Vec::new(),
            error: None,
        }
    }

    async fn save(&self, ctx: &RunContext) -> Result<()> {
        let body = serde_json::to_vec_pretty(self).expect("manifest serialises");
        ctx.store
            .put(&ctx.layout.file(MANIFEST), body.into())
            .await?;
        Ok(())
    }
}

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

/// Run the stages, recording each in the manifest as it finishes. A failed run's
/// manifest says `failed` and why; what it wrote stays for a rerun to resume from.
pub async fn run(ctx: &RunContext, stages: Stages) -> Result<Manifest> {
    let span = tracing::info_span!("run", otel.name = "hfharvest run", run.id = %ctx.layout.run_id);
    async {
        let started = Instant::now();
        // Counters start at zero, so dashboards see the series (and rate() works) before
        // the first retry, wait or restart.
        let metrics = crate::telemetry::metrics();
        metrics.http_retries.add(0, &[]);
        metrics.rate_limit_waits.add(0, &[]);
        metrics.session_restarts.add(0, &[]);
        let ttl = std::time::Duration::from_secs_f64(ctx.settings.output.lock_ttl_secs);
        let lock = RunLock::acquire(ctx.store.clone(), &ctx.layout.run_id, ttl, &ctx.cancel).await;
        let result = match lock {
            Ok(lock) => {
                let result = run_locked(ctx, stages).await;
                lock.release().await;
                result
            }
            Err(e) => Err(e.into()),
        };
        record_run_metrics(ctx, started, &result);
        result
    }
    .instrument(span)
    .await
}

/// The run-level metrics: duration, last success, the run-info gauge (with the trace
/// id, for the dashboard's links) and the counts per stage and outcome.
fn record_run_metrics(ctx: &RunContext, started: Instant, result: &Result<Manifest>) {
    let metrics = crate::telemetry::metrics();
    metrics
        .run_duration
        .record(started.elapsed().as_secs_f64(), &[]);
    let (status, error_type) = match result {
        Ok(_) => ("complete", "".to_owned()),
        Err(e) => ("failed", e.metric_label().to_owned()),
    };
    if result.is_ok() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        metrics.last_success.record(now.as_secs_f64(), &[]);
    }
    metrics.run_info.record(
        1,
        &[
            KeyValue::new("run_id", ctx.layout.run_id.to_string()),
            KeyValue::new("status", status),
            KeyValue::new("error_type", error_type),
            KeyValue::new(
                "trace_id",
                crate::telemetry::current_trace_id().unwrap_or_default(),
            ),
        ],
    );
    if let Ok(manifest) = result {
        for stage in &manifest.stages {
            for (outcome, n) in &stage.outcomes {
                metrics.run_models.record(
                    *n,
                    &[
                        KeyValue::new("stage", stage.name.clone()),
                        KeyValue::new("outcome", outcome.clone()),
                    ],
                );
            }
        }
    }
}

fn stage_span(name: &'static str) -> tracing::Span {
    tracing::info_span!("stage", otel.name = format!("stage {name}"), stage = name)
}

/// `latest.json`: the newest run that completed every stage. Written only after that
/// run's manifest says `complete`, so a partial or failed run never replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestPointer {
    pub run_id: String,
    pub completed_at: String,
    /// Keys relative to the output's root.
    pub manifest: String,
    pub files: Vec<String>,
}

async fn publish_latest(ctx: &RunContext, manifest: &Manifest) -> Result<()> {
    let root = format!("{}/", ctx.layout.root());
    let files = ctx
        .store
        .list(&root)
        .await?
        .into_iter()
        .filter(|k| !k[root.len()..].contains('/'))
        .collect();
    let pointer = LatestPointer {
        run_id: manifest.run_id.clone(),
        completed_at: manifest.finished_at.clone().unwrap_or_default(),
        manifest: ctx.layout.file(MANIFEST),
        files,
    };
    let body = serde_json::to_vec_pretty(&pointer).expect("pointer serialises");
    ctx.store.put(store::LATEST_POINTER, body.into()).await?;
    Ok(())
}

async fn run_locked(ctx: &RunContext, stages: Stages) -> Result<Manifest> {
    let publish = stages == Stages::All;
    let mut manifest = Manifest::new(ctx);
    manifest.save(ctx).await?;
    let result = run_stages(ctx, stages, &mut manifest).await;
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    match &result {
        Ok(()) => manifest.status = RunStatus::Complete,
        Err(e) => {
            manifest.status = RunStatus::Failed;
            manifest.error = Some(e.to_string());
        }
    }
    let saved = manifest.save(ctx).await;
    result?;
    saved?;
    if publish {
        publish_latest(ctx, &manifest)
            .instrument(stage_span("publish"))
            .await?;
    }
    Ok(manifest)
}

async fn run_stages(ctx: &RunContext, stages: Stages, manifest: &mut Manifest) -> Result<()> {
    let every_stage = stages == Stages::All;
    let models = match stages {
        Stages::ScoresOnly(ids) => ids,
        Stages::ModelsOnly | Stages::All => {
            let started = Instant::now();
            let models = cancellable(ctx, hub::collect_models(ctx))
                .instrument(stage_span("models"))
                .await?;
            let outcome = if models.resumed { "resumed" } else { "ok" };
            crate::telemetry::metrics().models_processed.add(
                models.models,
                &[
                    KeyValue::new("stage", "models"),
                    KeyValue::new("outcome", outcome),
                ],
            );
            manifest.stages.push(StageSummary {
                name: "models".into(),
                seconds: started.elapsed().as_secs_f64(),
                outcomes: [(outcome.to_owned(), models.models)].into(),
            });
            manifest.save(ctx).await?;
            if stages == Stages::ModelsOnly {
                return Ok(());
            }
            model_ids(ctx).await?
        }
    };
    // The scores stage watches for cancellation itself, so it can quit its browsers.
    let scores = leaderboard::collect_scores(ctx, &models)
        .instrument(stage_span("scores"))
        .await?;
    let mut outcomes = scores.counts.clone();
    if scores.resumed > 0 {
        outcomes.insert("resumed".into(), scores.resumed);
    }
    manifest.stages.push(StageSummary {
        name: "scores".into(),
        seconds: scores.seconds,
        outcomes,
    });
    manifest.save(ctx).await?;
    if every_stage {
        prepare_and_report(ctx, manifest).await?;
    }
    Ok(())
}

/// Stages 3 and 4: `dataset.csv` + `quality.json`, then `report.html`.
pub async fn prepare_and_report(ctx: &RunContext, manifest: &mut Manifest) -> Result<()> {
    let prepared = cancellable(
        ctx,
        crate::prepare::prepare_run(ctx.store.as_ref(), &ctx.layout),
    )
    .instrument(stage_span("prepare"))
    .await?;
    record_top_models(ctx).await;
    let c = &prepared.coverage;
    manifest.stages.push(StageSummary {
        name: "prepare".into(),
        seconds: prepared.seconds,
        outcomes: [
            ("rows".to_owned(), prepared.rows),
            ("dropped".to_owned(), prepared.dropped),
            ("fixed".to_owned(), prepared.fixed),
            ("found".to_owned(), c.found),
            ("inherited".to_owned(), c.with_inherited_scores),
        ]
        .into(),
    });
    manifest.save(ctx).await?;
    let parameters = crate::report::parameters_from_settings(&ctx.settings);
    let report = cancellable(
        ctx,
        crate::report::report_run(ctx.store.as_ref(), &ctx.layout, parameters),
    )
    .instrument(stage_span("report"))
    .await?;
    manifest.stages.push(StageSummary {
        name: "report".into(),
        seconds: report.seconds,
        outcomes: [("models".to_owned(), report.models)].into(),
    });
    manifest.save(ctx).await?;
    Ok(())
}

/// The `hfharvest.model.*` gauges for the data dashboard: downloads and scores of the
/// run's top models by downloads (`telemetry.top_models`), from `dataset.csv`.
async fn record_top_models(ctx: &RunContext) {
    let key = ctx.layout.file(crate::prepare::DATASET_CSV);
    let Ok(Some(body)) = ctx.store.get(&key).await else {
        return;
    };
    let Ok(mut rows) = crate::prepare::read_dataset_csv(&body, &key) else {
        return;
    };
    rows.sort_by_key(|r| r.rank);
    let metrics = crate::telemetry::metrics();
    for row in rows.iter().take(ctx.settings.telemetry.top_models) {
        let model = KeyValue::new("model_id", row.model_id.clone());
        if let Some(downloads) = row.downloads {
            metrics
                .model_downloads
                .record(downloads, std::slice::from_ref(&model));
        }
        let scores = [
            ("average", row.average),
            ("ifeval", row.ifeval),
            ("bbh", row.bbh),
            ("math_lvl5", row.math_lvl5),
            ("gpqa", row.gpqa),
            ("musr", row.musr),
            ("mmlu_pro", row.mmlu_pro),
        ];
        for (benchmark, score) in scores {
            if let Some(score) = score {
                metrics.model_score.record(
                    score,
                    &[model.clone(), KeyValue::new("benchmark", benchmark)],
                );
            }
        }
    }
}

/// The model ids of this run's `models.csv`, in rank order.
async fn model_ids(ctx: &RunContext) -> Result<Vec<ModelId>> {
    let key = ctx.layout.file(hub::stage::MODELS_CSV);
    let body = ctx.store.get(&key).await?.unwrap_or_default();
    hub::read_models_csv(&body, &key)?
        .into_iter()
        .map(|r| ModelId::parse(&r.model_id).map_err(Error::from))
        .collect()
}

/// Stop a stage at SIGTERM; what it wrote before stays in the store.
async fn cancellable<T>(
    ctx: &RunContext,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        result = work => result,
        _ = ctx.cancel.cancelled() => Err(Error::Interrupted("a termination signal")),
    }
}
