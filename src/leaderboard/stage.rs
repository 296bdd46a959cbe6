//! The scores stage: look each model up, checkpoint each result on its own the moment
//! it is known, and assemble `leaderboard.csv` from the checkpoints.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use opentelemetry::KeyValue;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::browser;
use super::datasets::DatasetsSource;
use super::rows::Lookup;
use super::{LeaderboardError, LeaderboardRecord, MatchStatus, SourceKind};
use crate::csvout;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::pipeline::RunContext;
use crate::progress::Progress;
use crate::store::{decode_model_key, Store};
use crate::types::ModelId;

pub const LEADERBOARD_CSV: &str = "leaderboard.csv";
const STAGE: &str = "leaderboard";

/// `runs/<id>/checkpoints/leaderboard/<encoded id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub model_id: ModelId,
    pub source: String,
    pub lookup: Lookup,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoresOutcome {
    /// Models per status (`found`, `not_found`, `mismatch`, `error`).
    pub counts: BTreeMap<String, u64>,
    /// Models whose checkpoint an earlier attempt of this run had written.
    pub resumed: u64,
    pub requests: u64,
    pub session_restarts: u64,
    pub seconds: f64,
}

/// Writes checkpoints for the sources; shared by the browser workers.
#[derive(Debug, Clone)]
pub struct CheckpointWriter {
    store: Arc<dyn Store>,
    layout: crate::store::RunLayout,
    source: &'static str,
    progress: Arc<Progress>,
}

impl CheckpointWriter {
    pub async fn record(&self, model: &ModelId, lookup: Lookup) -> Result<()> {
        let checkpoint = Checkpoint {
            model_id: model.clone(),
            source: self.source.into(),
            lookup,
            recorded_at: chrono::Utc::now().to_rfc3339(),
        };
        let outcome = checkpoint.lookup.status.outcome();
        let body = serde_json::to_vec(&checkpoint).expect("checkpoint serialises");
        self.store
            .put(&self.layout.checkpoint(STAGE, model), Bytes::from(body))
            .await?;
        let metrics = crate::telemetry::metrics();
        metrics
            .checkpoints_written
            .add(1, &[KeyValue::new("stage", STAGE)]);
        metrics.models_processed.add(
            1,
            &[
                KeyValue::new("stage", "scores"),
                KeyValue::new("outcome", outcome),
            ],
        );
        self.progress.inc(1);
        Ok(())
    }
}

/// Checkpoints already in the store for this run, by normalised model id.
async fn existing(ctx: &RunContext) -> Result<HashMap<String, Checkpoint>> {
    let keys = ctx.store.list(&ctx.layout.checkpoints(STAGE)).await?;
    let mut out = HashMap::new();
    for key in keys {
        if decode_model_key(&key).is_none() {
            continue;
        }
        let Some(body) = ctx.store.get(&key).await? else {
            continue;
        };
        match serde_json::from_slice::<Checkpoint>(&body) {
            Ok(c) => {
                out.insert(c.model_id.normalized(), c);
            }
            // A checkpoint is written whole, so this is damage from outside: redo the model.
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "unreadable checkpoint; the model will be looked up again")
            }
        }
    }
    Ok(out)
}

/// Run the stage for `models` (in output order).
pub async fn collect_scores(ctx: &RunContext, models: &[ModelId]) -> Result<ScoresOutcome> {
    let started = Instant::now();
    let settings = &ctx.settings.leaderboard;
    let mut outcome = ScoresOutcome::default();
    if settings.source == SourceKind::None {
        tracing::info!("leaderboard source is `none`: no scores collected");
        return Ok(outcome);
    }
    let done = existing(ctx).await?;
    // Errors are retried on a rerun; definite answers are kept.
    let todo: Vec<ModelId> = models
        .iter()
        .filter(|m| {
            done.get(&m.normalized())
                .is_none_or(|c| c.lookup.status == MatchStatus::Error)
        })
        .cloned()
        .collect();
    outcome.resumed = (models.len() - todo.len()) as u64;
    crate::telemetry::metrics()
        .checkpoints_resumed
        .add(outcome.resumed, &[KeyValue::new("stage", STAGE)]);
    if outcome.resumed > 0 {
        tracing::info!(
            resumed = outcome.resumed,
            todo = todo.len(),
            "resuming from checkpoints"
        );
    }
    let source_name: &'static str = match settings.source {
        SourceKind::Browser => "browser",
        _ => "datasets",
    };
    let writer = CheckpointWriter {
        store: ctx.store.clone(),
        layout: ctx.layout.clone(),
        source: source_name,
        progress: Arc::new(Progress::new("scores", todo.len() as u64)),
    };
    if !todo.is_empty() {
        match settings.source {
            SourceKind::Datasets => {
                let http =
                    HttpClient::new(&ctx.settings.http, None).map_err(LeaderboardError::from)?;
                let source = tokio::select! {
                    loaded = DatasetsSource::load(settings, &http) => loaded?,
                    _ = ctx.cancel.cancelled() => return Err(Error::Interrupted("a termination signal")),
                };
                outcome.requests = source.requests;
                for model in &todo {
                    if ctx.cancel.is_cancelled() {
                        return Err(Error::Interrupted("a termination signal"));
                    }
                    let span = tracing::info_span!("model", model.id = %model);
                    writer
                        .record(model, source.lookup(model))
                        .instrument(span)
                        .await?;
                }
            }
            SourceKind::Browser => {
                let stats = browser::collect(ctx, &todo, &writer).await?;
                outcome.session_restarts = stats.session_restarts;
            }
            SourceKind::None => {}
        }
    }
    writer.progress.finish();
    let counts = assemble(ctx, models).await?;
    outcome.counts = counts;
    outcome.seconds = started.elapsed().as_secs_f64();
    tracing::info!(counts = ?outcome.counts, resumed = outcome.resumed, seconds = outcome.seconds, "scores stage done");
    Ok(outcome)
}

/// Write `leaderboard.csv` from the checkpoints: models in the given order, each
/// model's evaluations in eval-name order, no duplicates, nothing missing.
async fn assemble(ctx: &RunContext, models: &[ModelId]) -> Result<BTreeMap<String, u64>> {
    let checkpoints = existing(ctx).await?;
    let mut csv = csvout::writer(Vec::new());
    let mut counts = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for model in models {
        if !seen.insert(model.normalized()) {
            continue;
        }
        let Some(checkpoint) = checkpoints.get(&model.normalized()) else {
            return Err(LeaderboardError::Browser(format!(
                "no checkpoint for {model} after the stage"
            ))
            .into());
        };
        let status = serde_json::to_value(checkpoint.lookup.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *counts.entry(status).or_insert(0) += 1;
        for record in checkpoint.lookup.records(model, &checkpoint.source) {
            csv.serialize(record)
                .map_err(|e| Error::io("writing leaderboard.csv", e.into()))?;
        }
    }
    let into_bytes = |csv: csv::Writer<Vec<u8>>| {
        csv.into_inner().map_err(|e| {
            Error::io(
                "writing leaderboard.csv",
                std::io::Error::other(e.to_string()),
            )
        })
    };
    let mut body = into_bytes(csv)?;
    if body.is_empty() {
        // No models: still one header, so readers see the columns.
        let mut header = csvout::writer(Vec::new());
        header
            .serialize(LeaderboardRecord::default())
            .map_err(|e| Error::io("writing leaderboard.csv", e.into()))?;
        let full = into_bytes(header)?;
        let end = full
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(full.len(), |i| i + 2);
        body = full[..end].to_vec();
    }
    ctx.store
        .put(&ctx.layout.file(LEADERBOARD_CSV), Bytes::from(body))
        .await?;
    Ok(counts)
}

/// Model ids from `--models`: a models.csv (its `model_id` column), a text file with
/// one id per line, or the ids themselves.
pub fn models_from_args(args: &[String]) -> std::result::Result<Vec<ModelId>, LeaderboardError> {
    let bad = |what: &str, message: String| LeaderboardError::Models {
        what: what.into(),
        message,
    };
    let mut out = Vec::new();
    for arg in args {
        let path = std::path::Path::new(arg);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| bad(arg, e.to_string()))?;
            if arg.ends_with(".csv") {
                let records = crate::hub::read_models_csv(text.as_bytes(), arg)
                    .map_err(|e| bad(arg, e.to_string()))?;
                for r in records {
                    out.push(ModelId::parse(&r.model_id).map_err(|e| bad(arg, e.to_string()))?);
                }
            } else {
                for (i, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    out.push(
                        ModelId::parse(line)
                            .map_err(|e| bad(&format!("{arg} line {}", i + 1), e.to_string()))?,
                    );
                }
            }
        } else {
            out.push(ModelId::parse(arg).map_err(|e| bad("--models", e.to_string()))?);
        }
    }
    Ok(out)
}
