//! The report stage: a self-contained `report.html` with charts over `dataset.csv`.

pub mod charts;
pub mod html;
pub mod rows;

use std::time::Instant;

pub use html::{escape, render, ReportMeta};
pub use rows::ReportRow;

use crate::formats::csv::CsvReadError;
use crate::records::{DatasetRow, QualityReport};
use crate::run::artifact::{DATASET_CSV, QUALITY_JSON, REPORT_HTML};
use crate::run::Quarantined;
use crate::run::Stage;
use crate::stage::{PipelineStage, StageCx, StageReport};
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
    #[error("report: {location}: {source}")]
    Quality {
        location: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report stage was interrupted")]
    Interrupted,
    /// The task reading `dataset.csv` ended without finishing (it panicked or was
    /// cancelled).
    #[error("report: reading {key} stopped: {message}")]
    Stopped { key: String, message: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportOutcome {
    pub models: u64,
    /// Rows of `dataset.csv` that did not read back, left out of the report (logged).
    pub quarantined: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// How many of the top models get a trend chart.
const TOP_TRENDS: usize = 10;

/// The ids of the top `top` models by downloads, normalised as the history keys them:
/// the models the trend charts follow.
pub fn trend_models(rows: &[ReportRow], top: usize) -> Vec<String> {
    top_by_downloads(rows, top)
        .map(|r| r.model_id.trim().to_lowercase())
        .collect()
}

/// The `top` rows with downloads, by rank.
fn top_by_downloads(rows: &[ReportRow], top: usize) -> impl Iterator<Item = &ReportRow> {
    let mut ranked: Vec<&ReportRow> = rows.iter().filter(|r| r.downloads.is_some()).collect();
    ranked.sort_by_key(|r| r.rank);
    ranked.into_iter().take(top)
}

/// The top `top` models' downloads, night by night: each past night of the history,
/// then this run (day 0), in days from this run's snapshot. A model missing on a night
/// has no point there.
pub fn trend_series(
    rows: &[ReportRow],
    nights: &[crate::records::history::Night],
    now: chrono::DateTime<chrono::Utc>,
    top: usize,
) -> Vec<charts::Series> {
    top_by_downloads(rows, top)
        .map(|r| {
            let key = r.model_id.trim().to_lowercase();
            let mut points: Vec<(f64, u64)> = nights
                .iter()
                .filter_map(|n| {
                    let days = (n.at - now).num_seconds() as f64 / 86_400.0;
                    Some((days, *n.downloads.get(&key)?))
                })
                .collect();
            points.extend(r.downloads.map(|d| (0.0, d)));
            charts::Series {
                model_id: r.model_id.to_string(),
                points,
            }
        })
        .collect()
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

/// The report stage: `report.html` for a prepared run.
#[derive(Debug, Clone)]
pub struct ReportStage {
    /// Shown as the run's parameters (from the settings; they hold no secrets).
    pub parameters: Vec<(String, String)>,
}

#[async_trait::async_trait]
impl PipelineStage for ReportStage {
    type Error = ReportError;

    fn stage(&self) -> Stage {
        Stage::Report
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, ReportError> {
        let outcome = self.report(cx).await?;
        Ok(StageReport {
            seconds: outcome.seconds,
            outcomes: outcome.outcomes(),
            requests: Default::default(),
            snapshot_at: None,
        })
    }
}

impl ReportStage {
    /// The stage's work, with what it wrote.
    pub async fn report(&self, cx: &StageCx) -> Result<ReportOutcome, ReportError> {
        tokio::select! {
            outcome = report_run(&cx.run, self.parameters.clone()) => outcome,
            _ = cx.cancel.cancelled() => Err(ReportError::Interrupted),
        }
    }
}

/// Render `report.html` for a prepared run.
async fn report_run(
    run: &RunStore,
    parameters: Vec<(String, String)>,
) -> Result<ReportOutcome, ReportError> {
    let started = Instant::now();
    let file = run
        .open(DATASET_CSV)
        .await?
        .ok_or_else(|| ReportError::MissingInput {
            run_id: run.run_id().to_string(),
            file: DATASET_CSV,
            store: run.describe(),
        })?;
    let (rows, quarantined) = read_report_rows(file, run.key(DATASET_CSV)).await?;
    let quality: Option<QualityReport> = match run.get(QUALITY_JSON).await? {
        Some(body) => {
            Some(
                serde_json::from_slice(&body).map_err(|source| ReportError::Quality {
                    location: run.location(QUALITY_JSON),
                    source,
                })?,
            )
        }
        None => None,
    };
    let manifest = run.manifest().await?;
    let as_of = manifest
        .as_ref()
        .map(|m| m.as_of().to_owned())
        .or_else(|| quality.as_ref().map(|q| q.as_of.clone()));
    let run_date = manifest
        .map(|m| m.started_at)
        .or_else(|| quality.as_ref().map(|q| q.as_of.clone()))
        .unwrap_or_default();
    let snapshot_at = as_of
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc());
    let trends = match (&as_of, snapshot_at) {
        (Some(as_of), Some(at)) => {
            let followed = trend_models(&rows, TOP_TRENDS);
            let nights = crate::records::history::past_nights(
                run.store().as_ref(),
                run.run_id(),
                as_of,
                html::TREND_NIGHTS,
                &followed,
            )
            .await?;
            trend_series(&rows, &nights, at, TOP_TRENDS)
        }
        _ => Vec::new(),
    };
    let meta = ReportMeta {
        run_id: run.run_id().to_string(),
        run_date,
        parameters,
        snapshot_at,
        trends,
    };
    let page = render(&rows, quality.as_ref(), &meta)?;
    let bytes = page.len() as u64;
    run.put(REPORT_HTML, page.into()).await?;
    let outcome = ReportOutcome {
        models: rows.len() as u64,
        quarantined: quarantined.len() as u64,
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

/// The rows of `dataset.csv` (a staging file of the run), read row by row into the
/// report's own rows, and those set aside.
async fn read_report_rows(
    file: std::fs::File,
    key: String,
) -> Result<(Vec<ReportRow>, Vec<Quarantined>), ReportError> {
    let task_key = key.clone();
    tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        let quarantined = crate::records::each_checked_row(
            std::io::BufReader::new(file),
            &task_key,
            Stage::Report,
            |r: &DatasetRow| &r.model_id,
            |row: DatasetRow| rows.push(ReportRow::from(row)),
        )?;
        Ok((rows, quarantined))
    })
    .await
    .map_err(|e| ReportError::Stopped {
        key,
        message: e.to_string(),
    })?
}
