//! The scores stage: drive a source over the models not yet answered in this run,
//! checkpointing each answer on its own, then assemble `leaderboard.csv` from the
//! checkpoints.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;

use super::browser::BrowserSource;
use super::datasets::DatasetsSource;
use super::{LeaderboardSettings, Lookup, ScoresError, SourceKind};
use crate::formats;
use crate::http::HttpSettings;
use crate::lookup::Checkpoint;
use crate::lookup::ScoreSource;
use crate::lookup::{drive, errors_over};
use crate::records::run_model_ids;
use crate::records::{LeaderboardRecord, MatchStatus};
use crate::run::artifact::{LEADERBOARD_CSV, MODELS_CSV};
use crate::run::{ModelId, Stage};
use crate::stage::{PipelineStage, StageCx, StageReport};
use crate::store::RunStore;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoresOutcome {
    /// Models per status (`found`, `not_found`, `mismatch`, `error`).
    pub counts: BTreeMap<String, u64>,
    /// Models whose checkpoint an earlier attempt of this run had written.
    pub resumed: u64,
    /// Leaderboard rows set aside in `quarantine.json` (rows that name no model).
    pub quarantined: u64,
    pub requests: u64,
    pub session_restarts: u64,
    pub seconds: f64,
}

impl ScoresOutcome {
    /// The manifest's outcomes: the counts per status, and `resumed` when some were.
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        let mut outcomes = self.counts.clone();
        if self.resumed > 0 {
            outcomes.insert("resumed".into(), self.resumed);
        }
        if self.quarantined > 0 {
            outcomes.insert("quarantined".into(), self.quarantined);
        }
        outcomes
    }
}

type LookupSource = dyn ScoreSource<Answer = Lookup, Error = ScoresError>;

/// The scores stage, for the run's models (`models.csv`) or the ones given.
#[derive(Debug, Clone)]
pub struct ScoresStage {
    pub settings: LeaderboardSettings,
    pub http: HttpSettings,
    /// The Hub, whose `/resolve/` serves the leaderboard's dataset (`HF_ENDPOINT`).
    pub hub_endpoint: String,
    /// The models to score, in output order; `None`: those of `models.csv`.
    pub models: Option<Vec<ModelId>>,
}

#[async_trait]
impl PipelineStage for ScoresStage {
    type Error = ScoresError;

    fn stage(&self) -> Stage {
        Stage::Scores
    }

    /// The source's own check: the dataset revision exists, or the WebDriver is ready.
    async fn preflight(&self, _run: &RunStore) -> Result<(), ScoresError> {
        match self.settings.source {
            SourceKind::None => Ok(()),
            SourceKind::Datasets => {
                DatasetsSource::new(&self.settings, &self.http, &self.hub_endpoint)?
                    .check()
                    .await
            }
            SourceKind::Browser => Ok(super::browser::check_ready(&self.settings).await?),
        }
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, ScoresError> {
        let models = match &self.models {
            Some(models) => models.clone(),
            None => run_model_ids::<ScoresError>(&cx.run, Stage::Scores)
                .await?
                .ok_or_else(|| ScoresError::MissingInput {
                    run_id: cx.run.run_id().to_string(),
                    file: MODELS_CSV,
                })?,
        };
        let outcome =
            collect_scores(cx, &models, &self.settings, &self.http, &self.hub_endpoint).await?;
        Ok(StageReport {
            seconds: outcome.seconds,
            outcomes: outcome.outcomes(),
            requests: Default::default(),
            snapshot_at: None,
        })
    }
}

/// Run the stage for `models` (in output order).
async fn collect_scores(
    cx: &StageCx,
    models: &[ModelId],
    settings: &LeaderboardSettings,
    http: &HttpSettings,
    hub_endpoint: &str,
) -> Result<ScoresOutcome, ScoresError> {
    let (run, cancel) = (&cx.run, &cx.cancel);
    let started = Instant::now();
    let source: Box<LookupSource> = match settings.source {
        SourceKind::None => {
            tracing::info!("leaderboard source is `none`: no scores collected");
            return Ok(ScoresOutcome::default());
        }
        SourceKind::Datasets => Box::new(DatasetsSource::new(settings, http, hub_endpoint)?),
        SourceKind::Browser => Box::new(BrowserSource::new(settings)),
    };
    let driven = drive(source.as_ref(), run, Stage::Scores, models, cancel).await;
    // What the source set aside is kept whether or not it could go on.
    let quarantined = cx.set_aside(source.quarantined(), false).await?;
    let driven = driven?;
    let order = run_models(run, models, &driven.checkpoints).await?;
    let counts = assemble(run, &order, &driven.checkpoints).await?;
    let errors = counts
        .get(MatchStatus::Error.outcome())
        .copied()
        .unwrap_or(0);
    let looked_up: u64 = counts.values().sum();
    if let Some(ratio) = errors_over(errors, looked_up, settings.max_error_ratio) {
        let example = order
            .iter()
            .filter_map(|m| driven.checkpoints.get(&m.normalized()))
            .find(|c| c.lookup.status == MatchStatus::Error)
            .map(|c| format!("{}: {}", c.model_id, c.lookup.detail))
            .unwrap_or_default();
        return Err(ScoresError::TooManyErrors {
            errors,
            looked_up,
            percent: ratio * 100.0,
            max_percent: settings.max_error_ratio * 100.0,
            example,
        });
    }
    if errors > 0 {
        tracing::warn!(
            errors,
            looked_up,
            "some lookups ended in error; a rerun of this run id asks for them again"
        );
    }
    let outcome = ScoresOutcome {
        counts,
        quarantined,
        resumed: driven.resumed,
        requests: driven.stats.requests,
        session_restarts: driven.stats.session_restarts,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(counts = ?outcome.counts, resumed = outcome.resumed, quarantined = outcome.quarantined, seconds = outcome.seconds, "scores stage done");
    Ok(outcome)
}

/// Every model of the run, in order: `models.csv`'s, then those asked for here that it
/// lacks, then any other an earlier `scores` of this run answered. So `leaderboard.csv`
/// only ever grows: a `scores` for a few models never replaces it by a subset.
async fn run_models(
    run: &RunStore,
    asked: &[ModelId],
    checkpoints: &HashMap<String, Checkpoint<Lookup>>,
) -> Result<Vec<ModelId>, ScoresError> {
    let mut order: Vec<ModelId> = run_model_ids::<ScoresError>(run, Stage::Scores)
        .await?
        .unwrap_or_default();
    let mut seen: HashSet<String> = order.iter().map(ModelId::normalized).collect();
    for model in asked {
        if seen.insert(model.normalized()) {
            order.push(model.clone());
        }
    }
    let mut others: Vec<&ModelId> = checkpoints
        .values()
        .map(|c| &c.model_id)
        .filter(|m| !seen.contains(&m.normalized()))
        .collect();
    others.sort();
    order.extend(others.into_iter().cloned());
    if let Some(model) = asked
        .iter()
        .find(|m| !checkpoints.contains_key(&m.normalized()))
    {
        return Err(ScoresError::MissingCheckpoint {
            model: model.clone(),
        });
    }
    // Only models this run has answered: `models.csv` may list more than were asked.
    order.retain(|m| checkpoints.contains_key(&m.normalized()));
    Ok(order)
}

/// Write `leaderboard.csv` from the checkpoints: models in the given order, each
/// model's evaluations in eval-name order, no duplicates, nothing missing.
async fn assemble(
    run: &RunStore,
    models: &[ModelId],
    checkpoints: &HashMap<String, Checkpoint<Lookup>>,
) -> Result<BTreeMap<String, u64>, ScoresError> {
    let write_error = |e: csv::Error| ScoresError::Write {
        file: LEADERBOARD_CSV,
        source: e.into(),
    };
    let mut csv = formats::csv::writer(Vec::new());
    let mut counts = BTreeMap::new();
    let mut seen = HashSet::new();
    for model in models {
        if !seen.insert(model.normalized()) {
            continue;
        }
        let Some(checkpoint) = checkpoints.get(&model.normalized()) else {
            return Err(ScoresError::MissingCheckpoint {
                model: model.clone(),
            });
        };
        *counts
            .entry(checkpoint.lookup.status.outcome().to_owned())
            .or_insert(0) += 1;
        for record in checkpoint.lookup.records(model, checkpoint.source.as_str()) {
            csv.serialize(record).map_err(write_error)?;
        }
    }
    let into_bytes = |csv: csv::Writer<Vec<u8>>| {
        csv.into_inner().map_err(|e| ScoresError::Write {
            file: LEADERBOARD_CSV,
            source: e.into_error(),
        })
    };
    let mut body = into_bytes(csv)?;
    if body.is_empty() {
        // No models: still one header, so readers see the columns.
        let mut header = formats::csv::writer(Vec::new());
        header
            .serialize(LeaderboardRecord::default())
            .map_err(write_error)?;
        let full = into_bytes(header)?;
        let end = full
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(full.len(), |i| i + 2);
        body = full[..end].to_vec();
    }
    run.put(LEADERBOARD_CSV, Bytes::from(body)).await?;
    Ok(counts)
}
