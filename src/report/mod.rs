//! Stage 4: a self-contained `report.html` with charts over `dataset.csv`.

pub mod charts;
pub mod html;

use std::time::Instant;

pub use html::{escape, render, ReportMeta};

use crate::csvout::CsvReadError;
use crate::prepare::{self, QualityReport};
use crate::run::artifact::{DATASET_CSV, QUALITY_JSON, REPORT_HTML};
use crate::run::Stage;
use crate::store::{RunStore, StoreError};

/// How the report stage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("report: chart {chart}: {message}")]
    Render { chart: String, message: String },
    #[error("report: run {run_id} has no {file} in {store}; run `hfharvest prepare` first")]
    MissingInput {
        run_id: String,
        file: &'static str,
        store: String,
    },
    #[error("report: {0}")]
    Read(#[from] CsvReadError),
    #[error("report: {location}: {message}")]
    Quality { location: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// Whether a rerun may go better (only when the store failed).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportOutcome {
    pub models: u64,
    /// Rows of `dataset.csv` that did not read back, left out of the report (logged).
    pub quarantined: u64,
    pub bytes: u64,
    pub seconds: f64,
}

impl ReportOutcome {
    /// The manifest's outcomes: the models shown, and `quarantined` rows when some were.
    pub fn outcomes(&self) -> std::collections::BTreeMap<String, u64> {
        let mut outcomes = std::collections::BTreeMap::from([("models".to_owned(), self.models)]);
        if self.quarantined > 0 {
            outcomes.insert("quarantined".into(), self.quarantined);
        }
        outcomes
    }
}

/// Render `report.html` for a prepared run. `parameters` are shown as the run's
/// parameters (the caller's settings; they hold no secrets).
pub async fn report_run(
    run: &RunStore,
    parameters: Vec<(String, String)>,
) -> Result<ReportOutcome, ReportError> {
    let started = Instant::now();
    let body = run
        .get(DATASET_CSV)
        .await?
        .ok_or_else(|| ReportError::MissingInput {
            run_id: run.run_id().to_string(),
            file: DATASET_CSV,
            store: run.describe(),
        })?;
    let read = prepare::read_dataset_csv(&body, &run.key(DATASET_CSV), Stage::Report)?;
    let rows = read.rows;
    let quality: Option<QualityReport> = match run.get(QUALITY_JSON).await? {
        Some(body) => Some(
            serde_json::from_slice(&body).map_err(|e| ReportError::Quality {
                location: run.location(QUALITY_JSON),
                message: e.to_string(),
            })?,
        ),
        None => None,
    };
    let manifest = run.manifest().await?;
    let run_date = manifest
        .map(|m| m.started_at)
        .or_else(|| quality.as_ref().map(|q| q.as_of.clone()))
        .unwrap_or_default();
    let meta = ReportMeta {
        run_id: run.run_id().to_string(),
        run_date,
        parameters,
    };
    let page = render(&rows, quality.as_ref(), &meta)?;
    let bytes = page.len() as u64;
    run.put(REPORT_HTML, page.into()).await?;
    let outcome = ReportOutcome {
        models: rows.len() as u64,
        quarantined: read.quarantined.len() as u64,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        models = outcome.models,
        bytes,
        seconds = outcome.seconds,
        "report stage done"
    );
    Ok(outcome)
}
