//! Stage 3: clean, normalise and join `models.csv` and `leaderboard.csv` into
//! `dataset.csv` (one row per model), with `quality.json` saying what was dropped or fixed.
//!
//! The rules live in [`rules`] (licence families, size classes, relations, the
//! canonical-row rule), the join in [`join`], history (deltas against the previous
//! complete run) in [`history`]. This file reads and writes the store.

pub mod dataset;
pub mod history;
pub mod join;
pub mod rules;

use std::time::Instant;

pub use dataset::{
    read_dataset_csv, Coverage, DatasetRow, JoinStatus, QualityIssue, QualityReport, DATASET_CSV,
    QUALITY_JSON,
};
pub use history::PreviousRun;
pub use join::{prepare, PrepareInputs, Prepared};

use crate::hub::{read_models_csv, stage::MODELS_CSV};
use crate::leaderboard::LeaderboardRecord;
use crate::pipeline::{Manifest, MANIFEST};
use crate::store::{RunLayout, Store};

pub use crate::leaderboard::LEADERBOARD_CSV;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    #[error("prepare: {0}")]
    Input(String),
    #[error("prepare: run {run_id} has no {file} in {store}; run the models stage first")]
    MissingInput {
        run_id: String,
        file: String,
        store: String,
    },
    #[error("prepare: writing {0}")]
    Output(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrepareOutcome {
    pub rows: u64,
    pub dropped: u64,
    pub fixed: u64,
    pub coverage: Coverage,
    pub previous_run: Option<String>,
    pub seconds: f64,
}

/// Parse a `leaderboard.csv` body; errors name the key and the row.
pub fn read_leaderboard_csv(
    body: &[u8],
    key: &str,
) -> Result<Vec<LeaderboardRecord>, PrepareError> {
    csv::Reader::from_reader(body)
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| PrepareError::Input(format!("{key} row {}: {e}", i + 2))))
        .collect()
}

/// The run's manifest, if it has one (a run made by an older tool may not).
pub async fn read_manifest(
    store: &dyn Store,
    layout: &RunLayout,
) -> crate::Result<Option<Manifest>> {
    let key = layout.file(MANIFEST);
    match store.get(&key).await? {
        Some(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| PrepareError::Input(format!("{key}: {e}")).into()),
        None => Ok(None),
    }
}

/// Run the stage over a run in the store: read its CSVs and the previous complete run,
/// join, and write `dataset.csv` and `quality.json`.
pub async fn prepare_run(store: &dyn Store, layout: &RunLayout) -> crate::Result<PrepareOutcome> {
    let started = Instant::now();
    let models_key = layout.file(MODELS_CSV);
    let models_body = store
        .get(&models_key)
        .await?
        .ok_or_else(|| PrepareError::MissingInput {
            run_id: layout.run_id.to_string(),
            file: MODELS_CSV.into(),
            store: store.describe(),
        })?;
    let models = read_models_csv(&models_body, &models_key)?;
    let leaderboard_key = layout.file(LEADERBOARD_CSV);
    let leaderboard = match store.get(&leaderboard_key).await? {
        Some(body) => Some(read_leaderboard_csv(&body, &leaderboard_key)?),
        None => {
            tracing::warn!(key = %leaderboard_key, "no leaderboard.csv in this run; the dataset has no scores");
            None
        }
    };
    let manifest = read_manifest(store, layout).await?;
    let started_at = manifest.as_ref().map(|m| m.started_at.clone());
    let as_of = started_at
        .as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc())
        .unwrap_or_else(chrono::Utc::now);
    let previous =
        history::previous_complete_run(store, &layout.run_id, started_at.as_deref()).await?;

    let prepared = prepare(&PrepareInputs {
        run_id: layout.run_id.as_str(),
        models: &models,
        leaderboard: leaderboard.as_deref(),
        previous: previous.as_ref(),
        as_of,
    });
    let csv = dataset::write_dataset_csv(&prepared.rows)?;
    let quality = serde_json::to_vec_pretty(&prepared.quality)
        .map_err(|e| PrepareError::Output(format!("{QUALITY_JSON}: {e}")))?;
    store
        .put(&layout.file(QUALITY_JSON), quality.into())
        .await?;
    store.put(&layout.file(DATASET_CSV), csv.into()).await?;
    let q = &prepared.quality;
    let outcome = PrepareOutcome {
        rows: q.rows_out,
        dropped: q.dropped.len() as u64,
        fixed: q.fixed.len() as u64,
        coverage: q.coverage.clone(),
        previous_run: q.previous_run.clone(),
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        rows = outcome.rows,
        dropped = outcome.dropped,
        fixed = outcome.fixed,
        found = outcome.coverage.found,
        inherited = outcome.coverage.with_inherited_scores,
        previous_run = outcome.previous_run.as_deref().unwrap_or(""),
        "prepare stage done"
    );
    Ok(outcome)
}

#[cfg(test)]
mod tests;
