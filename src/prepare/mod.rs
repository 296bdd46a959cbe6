//! The prepare stage: clean, normalise and join `models.csv`, `leaderboard.csv` and
//! `evals.csv` into `dataset.csv` (one row per model), with `quality.json` saying what
//! was dropped or fixed.
//!
//! The rules live in [`rules`] (licence families, size classes, relations), the join
//! in [`join`], the Hub's benchmark columns in [`hub_columns`]; the rows, their files
//! and the history the deltas are against are in [`crate::records`]. This file reads
//! and writes the store.

pub mod hub_columns;
pub mod join;
pub mod rules;

use std::time::Instant;

use opentelemetry::KeyValue;

pub use join::{prepare, PrepareInputs, Prepared};

use crate::formats::csv::CsvReadError;
use crate::records::dataset::Coverage;
use crate::records::dataset::{HubColumn, HubScore, ScoreCoverage};
use crate::records::history::{baselines, Baselines};
use crate::records::read_models_csv;
use crate::records::{
    dataset_table, read_evals_csv, with_hub_columns, write_dataset_csv, EvalRow, LeaderboardRecord,
    ModelRecord, SkippedFile,
};
use crate::records::{read_leaderboard_csv, DatasetRow};
use crate::run::artifact::{
    DATASET_CSV, DATASET_PARQUET, EVALS_CSV, EVALS_SKIPPED_JSON, LEADERBOARD_CSV, MANIFEST_JSON,
    MODELS_CSV, QUALITY_JSON,
};
use crate::run::Quarantined;
use crate::run::Stage;
use crate::stage::{PipelineStage, StageCx, StageReport};
use crate::store::{RunStore, StoreError};

/// How the prepare stage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    #[error("prepare: {0}")]
    Read(#[from] CsvReadError),
    #[error("prepare: run {run_id} has no {file} in {store}; run the models stage first")]
    MissingInput {
        run_id: String,
        file: &'static str,
        store: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("prepare: {location}: {message}")]
    Input { location: String, message: String },
    #[error("prepare: writing {file}: {source}")]
    Write {
        file: &'static str,
        #[source]
        source: crate::store::Cause,
    },
    #[error("the prepare stage was interrupted")]
    Interrupted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrepareOutcome {
    pub rows: Vec<DatasetRow>,
    pub dropped: u64,
    pub fixed: u64,
    /// Records set aside before the join (`quality.json`'s `quarantined`).
    pub quarantined: u64,
    pub coverage: Coverage,
    /// Models with a score, by source.
    pub score_coverage: ScoreCoverage,
    pub previous_run: Option<String>,
    pub seconds: f64,
}

impl PrepareOutcome {
    /// The manifest's outcomes for this stage.
    pub fn outcomes(&self) -> std::collections::BTreeMap<String, u64> {
        [
            ("rows".to_owned(), self.rows.len() as u64),
            ("dropped".to_owned(), self.dropped),
            ("fixed".to_owned(), self.fixed),
            ("quarantined".to_owned(), self.quarantined),
            ("found".to_owned(), self.coverage.found),
            ("inherited".to_owned(), self.coverage.with_inherited_scores),
        ]
        .into()
    }
}

/// The prepare stage: read the run's CSVs and the previous complete runs, join, and
/// write `dataset.csv`, `dataset.parquet` and `quality.json`.
#[derive(Debug, Clone)]
pub struct PrepareStage {
    /// How many of the run's most common Hub benchmarks become columns.
    pub hub_columns: usize,
    /// How many of the top models get the data dashboard's gauges.
    pub top_models: usize,
}

#[async_trait::async_trait]
impl PipelineStage for PrepareStage {
    type Error = PrepareError;

    fn stage(&self) -> Stage {
        Stage::Prepare
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, PrepareError> {
        let outcome = self.prepare(cx).await?;
        Ok(StageReport {
            seconds: outcome.seconds,
            outcomes: outcome.outcomes(),
            requests: Default::default(),
            snapshot_at: None,
        })
    }
}

impl PrepareStage {
    /// The stage's work, with the rows it wrote.
    pub async fn prepare(&self, cx: &StageCx) -> Result<PrepareOutcome, PrepareError> {
        let outcome = tokio::select! {
            outcome = prepare_run(&cx.run, self.hub_columns) => outcome?,
            _ = cx.cancel.cancelled() => return Err(PrepareError::Interrupted),
        };
        record_top_models(&outcome.rows, self.top_models);
        record_score_coverage(&outcome.score_coverage);
        Ok(outcome)
    }
}

/// The `hfharvest.model.*` gauges for the data dashboard: downloads and scores of the
/// run's top `top` models by downloads rank.
fn record_top_models(rows: &[DatasetRow], top: usize) {
    let mut ranked: Vec<&DatasetRow> = rows.iter().collect();
    ranked.sort_by_key(|r| r.rank);
    let metrics = crate::telemetry::metrics();
    for row in ranked.into_iter().take(top) {
        let model = KeyValue::new("model_id", row.model_id.clone());
        if let Some(downloads) = row.downloads {
            metrics
                .model_downloads
                .record(downloads, std::slice::from_ref(&model));
        }
        for (benchmark, score) in row.scores().named() {
            if let Some(score) = score {
                metrics.model_score.record(
                    score,
                    &[model.clone(), KeyValue::new("benchmark", benchmark)],
                );
            }
        }
    }
}

/// The `hfharvest.models.scored` gauge: the run's models with a score, per source.
fn record_score_coverage(coverage: &ScoreCoverage) {
    let metrics = crate::telemetry::metrics();
    for (source, n) in coverage.by_source() {
        metrics
            .models_scored
            .record(n, &[KeyValue::new("source", source)]);
    }
}

/// What the stage reads of a run: its CSVs, read back, and what every stage (this one
/// included, reading back) set aside.
struct Inputs {
    models: Vec<ModelRecord>,
    leaderboard: Option<Vec<LeaderboardRecord>>,
    evals: Vec<EvalRow>,
    quarantined: Vec<Quarantined>,
}

async fn read_inputs(run: &RunStore) -> Result<Inputs, PrepareError> {
    let models_body = run
        .get(MODELS_CSV)
        .await?
        .ok_or_else(|| PrepareError::MissingInput {
            run_id: run.run_id().to_string(),
            file: MODELS_CSV,
            store: run.describe(),
        })?;
    let models = read_models_csv(&models_body, &run.key(MODELS_CSV), Stage::Prepare)?;
    // What the earlier stages set aside, then what this one sets aside reading back.
    let mut quarantined = run.quarantine().await?.records;
    quarantined.extend(models.quarantined);
    let leaderboard = match run.get(LEADERBOARD_CSV).await? {
        Some(body) => {
            let read = read_leaderboard_csv(&body, &run.key(LEADERBOARD_CSV), Stage::Prepare)?;
            quarantined.extend(read.quarantined);
            Some(read.rows)
        }
        None => {
            tracing::warn!(key = %run.key(LEADERBOARD_CSV), "no leaderboard.csv in this run; the dataset has no scores");
            None
        }
    };
    // The Hub's evaluation results, when the run has them (a `run` with evals on).
    let evals = match run.get(EVALS_CSV).await? {
        Some(body) => {
            let read = read_evals_csv(&body, &run.key(EVALS_CSV), Stage::Prepare)?;
            quarantined.extend(read.quarantined);
            read.rows
        }
        None => Vec::new(),
    };
    Ok(Inputs {
        models: models.rows,
        leaderboard,
        evals,
        quarantined,
    })
}

/// The time every time-based column counts from (the run's snapshot, never now, so the
/// same run prepares to the same bytes whenever prepare runs), and the runs the deltas
/// are against.
async fn as_of_and_baselines(
    run: &RunStore,
) -> Result<(chrono::DateTime<chrono::Utc>, Baselines), PrepareError> {
    let manifest = run.manifest().await?;
    let started_at = manifest.as_ref().map(|m| m.started_at.clone());
    let as_of = match manifest.as_ref().map(|m| m.as_of().to_owned()) {
        Some(as_of) => chrono::DateTime::parse_from_rfc3339(&as_of)
            .map(|t| t.to_utc())
            .map_err(|e| PrepareError::Input {
                location: run.location(MANIFEST_JSON),
                message: format!("snapshot time {as_of:?}: {e}"),
            })?,
        None => {
            tracing::warn!("the run has no manifest; ages count from now");
            chrono::Utc::now()
        }
    };
    let previous = baselines(
        run.store().as_ref(),
        run.run_id(),
        started_at.as_deref(),
        &as_of.to_rfc3339(),
    )
    .await?;
    Ok((as_of, previous))
}

/// The run's most common Hub benchmarks as columns of each row, their coverage, and
/// the evaluation results the evals stage skipped, into the quality report.
async fn add_hub_columns(
    run: &RunStore,
    prepared: &mut Prepared,
    evals: &[EvalRow],
    wanted: usize,
) -> Result<Vec<HubColumn>, PrepareError> {
    let (hub_columns, mut hub_scores) = hub_columns::hub_columns(evals, wanted);
    for row in &mut prepared.rows {
        row.hub = hub_scores
            .remove(&row.model_id.to_lowercase())
            .unwrap_or_else(|| vec![HubScore::default(); hub_columns.len()]);
    }
    prepared.quality.score_coverage = hub_columns::score_coverage(
        prepared
            .rows
            .iter()
            .map(|r| (r.model_id.as_str(), r.average.is_some())),
        evals,
    );
    prepared.quality.hub_benchmark_columns = hub_columns.clone();
    if let Some(body) = run.get(EVALS_SKIPPED_JSON).await? {
        match serde_json::from_slice::<SkippedFile>(&body) {
            Ok(file) => prepared.quality.skipped_evals = file.skipped,
            Err(e) => {
                tracing::warn!(key = %run.key(EVALS_SKIPPED_JSON), error = %e, "unreadable; quality.json lists no skipped evaluation results")
            }
        }
    }
    Ok(hub_columns)
}

/// `quality.json`, `dataset.parquet`, then `dataset.csv`, the file that says the stage
/// is done.
async fn write_outputs(
    run: &RunStore,
    prepared: &Prepared,
    hub_columns: &[HubColumn],
) -> Result<(), PrepareError> {
    let csv = write_dataset_csv(&prepared.rows, hub_columns).map_err(|e| PrepareError::Write {
        file: DATASET_CSV,
        source: e.into(),
    })?;
    let parquet = with_hub_columns(dataset_table(), hub_columns)
        .write(DATASET_PARQUET, &prepared.rows, &[])
        .map_err(|e| PrepareError::Write {
            file: DATASET_PARQUET,
            source: e.message.into(),
        })?;
    let quality =
        serde_json::to_vec_pretty(&prepared.quality).map_err(|e| PrepareError::Write {
            file: QUALITY_JSON,
            source: e.into(),
        })?;
    run.put(QUALITY_JSON, quality.into()).await?;
    run.put(DATASET_PARQUET, parquet.into()).await?;
    run.put(DATASET_CSV, csv.into()).await?;
    Ok(())
}

/// Run the stage over a run in the store.
async fn prepare_run(
    run: &RunStore,
    hub_columns_wanted: usize,
) -> Result<PrepareOutcome, PrepareError> {
    let started = Instant::now();
    let inputs = read_inputs(run).await?;
    let (as_of, previous) = as_of_and_baselines(run).await?;
    let mut prepared = prepare(&PrepareInputs {
        run_id: run.run_id().as_str(),
        models: &inputs.models,
        quarantined: &inputs.quarantined,
        leaderboard: inputs.leaderboard.as_deref(),
        previous: &previous,
        as_of,
    });
    let hub_columns =
        add_hub_columns(run, &mut prepared, &inputs.evals, hub_columns_wanted).await?;
    write_outputs(run, &prepared, &hub_columns).await?;
    let q = prepared.quality;
    let outcome = PrepareOutcome {
        rows: prepared.rows,
        dropped: q.dropped.len() as u64,
        fixed: q.fixed.len() as u64,
        quarantined: q.quarantined.len() as u64,
        coverage: q.coverage,
        score_coverage: q.score_coverage,
        previous_run: q.previous_run,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        rows = outcome.rows.len(),
        dropped = outcome.dropped,
        fixed = outcome.fixed,
        quarantined = outcome.quarantined,
        found = outcome.coverage.found,
        inherited = outcome.coverage.with_inherited_scores,
        previous_run = outcome.previous_run.as_deref().unwrap_or(""),
        "prepare stage done"
    );
    Ok(outcome)
}

#[cfg(test)]
mod tests;
