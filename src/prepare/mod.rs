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
use crate::records::dataset::{HubScore, ScoreCoverage};
use crate::records::history::{baselines, Baselines};
use crate::records::DatasetRow;
use crate::records::{
    dataset_table, read_evals_csv, with_hub_columns, EvalRow, LeaderboardRecord, SkippedFile,
};
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
    /// Rows of `dataset.csv`.
    pub rows: u64,
    /// The top models' rows by rank, as many as the data dashboard's gauges show.
    pub top: Vec<DatasetRow>,
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
            ("rows".to_owned(), self.rows),
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
            outcome = prepare_run(&cx.run, self.hub_columns, self.top_models) => outcome?,
            _ = cx.cancel.cancelled() => return Err(PrepareError::Interrupted),
        };
        record_top_models(&outcome.top);
        record_score_coverage(&outcome.score_coverage);
        Ok(outcome)
    }
}

/// The `hfharvest.model.*` gauges for the data dashboard: downloads and scores of the
/// run's top models by downloads rank.
fn record_top_models(top: &[DatasetRow]) {
    let metrics = crate::telemetry::metrics();
    for row in top {
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

/// The evaluation results of the run (as many as its sources hold, not one per model),
/// and what reading them back set aside.
async fn read_evals(run: &RunStore) -> Result<(Vec<EvalRow>, Vec<Quarantined>), PrepareError> {
    Ok(match run.get(EVALS_CSV).await? {
        Some(body) => {
            let read = read_evals_csv(&body, &run.key(EVALS_CSV), Stage::Prepare)?;
            (read.rows, read.quarantined)
        }
        // The Hub's evaluation results, when the run has them (a `run` with evals on).
        None => (Vec::new(), Vec::new()),
    })
}

/// The evaluation results the evals stage skipped, for the quality report.
async fn skipped_evals(run: &RunStore) -> Result<Vec<crate::records::SkippedResult>, StoreError> {
    let Some(body) = run.get(EVALS_SKIPPED_JSON).await? else {
        return Ok(Vec::new());
    };
    Ok(match serde_json::from_slice::<SkippedFile>(&body) {
        Ok(file) => file.skipped,
        Err(e) => {
            tracing::warn!(key = %run.key(EVALS_SKIPPED_JSON), error = %e, "unreadable; quality.json lists no skipped evaluation results");
            Vec::new()
        }
    })
}

/// What the join reads, its large inputs as files read row by row.
struct JoinInputs {
    run_id: String,
    models: std::fs::File,
    models_key: String,
    leaderboard: Option<std::fs::File>,
    leaderboard_key: String,
    evals: Vec<EvalRow>,
    previous: Baselines,
    as_of: chrono::DateTime<chrono::Utc>,
    hub_columns: usize,
    top: usize,
    /// Where `dataset.csv` and `dataset.parquet` are written before they are put.
    staging: std::path::PathBuf,
}

/// What the join wrote into the staging folder, and its report.
struct Joined {
    quality: crate::records::QualityReport,
    models_set_aside: Vec<Quarantined>,
    leaderboard_set_aside: Vec<Quarantined>,
    top: Vec<DatasetRow>,
}

/// How many rows go into each of `dataset.parquet`'s row groups: what the join holds.
const ROW_GROUP: usize = 20_000;

/// The join, row by row: `leaderboard.csv` into the join's index, then each row of
/// `models.csv` joined, given its Hub columns, counted and written to `dataset.csv`
/// and `dataset.parquet` in the staging folder at once. Memory holds the leaderboard's
/// index, the evaluation results, the previous runs' counts and one row group.
fn join_into_files(inputs: JoinInputs) -> Result<Joined, PrepareError> {
    use std::io::{BufReader, BufWriter};
    let JoinInputs {
        run_id,
        models,
        models_key,
        leaderboard,
        leaderboard_key,
        evals,
        previous,
        as_of,
        hub_columns: wanted,
        top,
        staging,
    } = inputs;
    let mut joiner = join::Joiner::new(&run_id, &previous, as_of);
    let leaderboard_set_aside = match leaderboard {
        Some(file) => crate::records::each_checked_row(
            BufReader::new(file),
            &leaderboard_key,
            Stage::Prepare,
            |r: &LeaderboardRecord| &r.model_id,
            |row| joiner.add_leaderboard_row(row),
        )?,
        None => Vec::new(),
    };
    let (hub_columns, mut hub_scores) = hub_columns::hub_columns(&evals, wanted);
    let mut counter = hub_columns::ScoreCounter::new(&evals);
    drop(evals);
    let create = |name: &'static str| {
        std::fs::File::create(staging.join(name))
            .map(BufWriter::new)
            .map_err(|e| PrepareError::Write {
                file: name,
                source: e.into(),
            })
    };
    let mut csv = crate::formats::csv::RowWriter::new(
        create(DATASET_CSV)?,
        &crate::records::dataset::dataset_csv_extra(&hub_columns),
    );
    let table = with_hub_columns(dataset_table(), &hub_columns);
    let mut parquet = table.writer(DATASET_PARQUET, create(DATASET_PARQUET)?, &[]);
    let parquet_error = |e: crate::formats::parquet::ParquetError| PrepareError::Write {
        file: DATASET_PARQUET,
        source: e.message.into(),
    };
    let csv_error = |e: csv::Error| PrepareError::Write {
        file: DATASET_CSV,
        source: e.into(),
    };
    let mut group: Vec<DatasetRow> = Vec::with_capacity(ROW_GROUP);
    let mut top_rows: Vec<DatasetRow> = Vec::new();
    // The first write that failed; the rows after it are not written.
    let mut failed: Option<PrepareError> = None;
    let models_set_aside = crate::records::each_models_row(
        BufReader::new(models),
        &models_key,
        Stage::Prepare,
        |model| {
            let Some(mut row) = joiner.join(&model) else {
                return;
            };
            if failed.is_some() {
                return;
            }
            row.hub = hub_scores
                .remove(&row.model_id.to_lowercase())
                .unwrap_or_else(|| vec![HubScore::default(); hub_columns.len()]);
            counter.count(&row.model_id, row.average.is_some());
            if let Err(e) = csv.write(
                &row,
                &crate::records::dataset::dataset_csv_cells(&row, hub_columns.len()),
            ) {
                failed = Some(csv_error(e));
                return;
            }
            keep_top(&mut top_rows, &row, top);
            group.push(row);
            if group.len() == ROW_GROUP {
                if let Err(e) = parquet.write(&group) {
                    failed = Some(parquet_error(e));
                }
                group.clear();
            }
        },
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !group.is_empty() {
        parquet.write(&group).map_err(parquet_error)?;
    }
    let flush = |file: &'static str, out: BufWriter<std::fs::File>| {
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|e| PrepareError::Write {
                file,
                source: e.into(),
            })
    };
    flush(DATASET_PARQUET, parquet.finish().map_err(parquet_error)?)?;
    flush(DATASET_CSV, csv.finish().map_err(csv_error)?)?;
    let mut quality = joiner.finish(Vec::new());
    quality.score_coverage = counter.coverage;
    quality.hub_benchmark_columns = hub_columns;
    Ok(Joined {
        quality,
        models_set_aside,
        leaderboard_set_aside,
        top: top_rows,
    })
}

/// Keep `row` among the `top` rows of lowest rank seen so far, in rank order.
fn keep_top(top_rows: &mut Vec<DatasetRow>, row: &DatasetRow, top: usize) {
    if top == 0 || (top_rows.len() == top && top_rows.last().is_some_and(|l| l.rank <= row.rank)) {
        return;
    }
    let at = top_rows.partition_point(|r| r.rank <= row.rank);
    top_rows.insert(at, row.clone());
    top_rows.truncate(top);
}

/// Run the stage over a run in the store: `quality.json`, `dataset.parquet`, then
/// `dataset.csv`, the file that says the stage is done.
async fn prepare_run(
    run: &RunStore,
    hub_columns: usize,
    top: usize,
) -> Result<PrepareOutcome, PrepareError> {
    let started = Instant::now();
    let models = run
        .open(MODELS_CSV)
        .await?
        .ok_or_else(|| PrepareError::MissingInput {
            run_id: run.run_id().to_string(),
            file: MODELS_CSV,
            store: run.describe(),
        })?;
    let leaderboard = run.open(LEADERBOARD_CSV).await?;
    if leaderboard.is_none() {
        tracing::warn!(key = %run.key(LEADERBOARD_CSV), "no leaderboard.csv in this run; the dataset has no scores");
    }
    // What the earlier stages set aside, then what this one sets aside reading back.
    let earlier = run.quarantine().await?.records;
    let (evals, evals_set_aside) = read_evals(run).await?;
    let skipped = skipped_evals(run).await?;
    let (as_of, previous) = as_of_and_baselines(run).await?;
    let staging = tempfile::tempdir().map_err(|e| PrepareError::Write {
        file: DATASET_CSV,
        source: format!("a staging folder: {e}").into(),
    })?;
    let inputs = JoinInputs {
        run_id: run.run_id().to_string(),
        models,
        models_key: run.key(MODELS_CSV),
        leaderboard,
        leaderboard_key: run.key(LEADERBOARD_CSV),
        evals,
        previous,
        as_of,
        hub_columns,
        top,
        staging: staging.path().to_owned(),
    };
    let joined = tokio::task::spawn_blocking(move || join_into_files(inputs))
        .await
        .map_err(|e| PrepareError::Write {
            file: DATASET_CSV,
            source: e.into(),
        })??;
    let mut q = joined.quality;
    q.quarantined = earlier;
    q.quarantined.extend(joined.models_set_aside);
    q.quarantined.extend(joined.leaderboard_set_aside);
    q.quarantined.extend(evals_set_aside);
    q.skipped_evals = skipped;
    let quality = serde_json::to_vec_pretty(&q).map_err(|e| PrepareError::Write {
        file: QUALITY_JSON,
        source: e.into(),
    })?;
    run.put(QUALITY_JSON, quality.into()).await?;
    run.put_file(DATASET_PARQUET, &staging.path().join(DATASET_PARQUET))
        .await?;
    run.put_file(DATASET_CSV, &staging.path().join(DATASET_CSV))
        .await?;
    let outcome = PrepareOutcome {
        rows: q.rows_out,
        top: joined.top,
        dropped: q.dropped.len() as u64,
        fixed: q.fixed.len() as u64,
        quarantined: q.quarantined.len() as u64,
        coverage: q.coverage,
        score_coverage: q.score_coverage,
        previous_run: q.previous_run,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        rows = outcome.rows,
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
