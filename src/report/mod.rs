//! Stage 4: a self-contained `report.html` with charts over `dataset.csv`.

pub mod charts;
pub mod html;

use std::time::Instant;

pub use html::{escape, render, ReportMeta};

use crate::prepare::{self, QualityReport, DATASET_CSV, QUALITY_JSON};
use crate::store::{RunLayout, Store};

pub const REPORT_HTML: &str = "report.html";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("report: {0}")]
    Render(String),
    #[error("report: run {run_id} has no {file} in {store}; run `hfharvest prepare` first")]
    MissingInput {
        run_id: String,
        file: String,
        store: String,
    },
    #[error("report: {0}")]
    Input(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportOutcome {
    pub models: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// Render `report.html` for a prepared run. `parameters` are shown as the run's
/// parameters (the caller's settings; they hold no secrets).
pub async fn report_run(
    store: &dyn Store,
    layout: &RunLayout,
    parameters: Vec<(String, String)>,
) -> crate::Result<ReportOutcome> {
    let started = Instant::now();
    let dataset_key = layout.file(DATASET_CSV);
    let body = store
        .get(&dataset_key)
        .await?
        .ok_or_else(|| ReportError::MissingInput {
            run_id: layout.run_id.to_string(),
            file: DATASET_CSV.into(),
            store: store.describe(),
        })?;
    let rows = prepare::read_dataset_csv(&body, &dataset_key)
        .map_err(|e| ReportError::Input(e.to_string()))?;
    let quality_key = layout.file(QUALITY_JSON);
    let quality: Option<QualityReport> = match store.get(&quality_key).await? {
        Some(body) => Some(
            serde_json::from_slice(&body)
                .map_err(|e| ReportError::Input(format!("{quality_key}: {e}")))?,
        ),
        None => None,
    };
    let manifest = prepare::read_manifest(store, layout).await?;
    let run_date = manifest
        .map(|m| m.started_at)
        .or_else(|| quality.as_ref().map(|q| q.as_of.clone()))
        .unwrap_or_default();
    let meta = ReportMeta {
        run_id: layout.run_id.to_string(),
        run_date,
        parameters,
    };
    let page = render(&rows, quality.as_ref(), &meta)?;
    let bytes = page.len() as u64;
    store.put(&layout.file(REPORT_HTML), page.into()).await?;
    let outcome = ReportOutcome {
        models: rows.len() as u64,
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

/// The settings worth showing on the report, from the effective settings.
pub fn parameters_from_settings(settings: &crate::config::Settings) -> Vec<(String, String)> {
    let hub = &settings.hub;
    let source = serde_json::to_value(settings.leaderboard.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    vec![
        ("models (top N)".into(), hub.limit.to_string()),
        ("sorted by".into(), hub.sort.clone()),
        (
            "pipeline tag".into(),
            hub.pipeline_tag.clone().unwrap_or_else(|| "any".into()),
        ),
        ("Hub endpoint".into(), hub.endpoint.clone()),
        ("leaderboard source".into(), source),
        ("tool version".into(), env!("CARGO_PKG_VERSION").into()),
    ]
}
