//! The run-level metrics: duration, last success, the run-info gauge (with the trace
//! id, for the dashboard's links), the counts per stage and outcome, and the data
//! dashboard's gauges for the top models.

use std::time::Instant;

use opentelemetry::KeyValue;

use crate::error::Result;
use crate::prepare::DatasetRow;
use crate::run::{Manifest, RunId};

/// Counters start at zero, so dashboards see the series (and `rate()` works) before
/// the first retry, wait or restart.
pub fn start_counters() {
    let metrics = crate::telemetry::metrics();
    metrics.http_retries.add(0, &[]);
    metrics.rate_limit_waits.add(0, &[]);
    metrics.session_restarts.add(0, &[]);
}

pub fn record_run(run_id: &RunId, started: Instant, result: &Result<Manifest>) {
    let metrics = crate::telemetry::metrics();
    metrics
        .run_duration
        .record(started.elapsed().as_secs_f64(), &[]);
    let (status, error_type) = match result {
        Ok(_) => ("complete", ""),
        Err(e) => ("failed", e.metric_label()),
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
            KeyValue::new("run_id", run_id.to_string()),
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
                        KeyValue::new("stage", stage.stage.as_str()),
                        KeyValue::new("outcome", outcome.clone()),
                    ],
                );
            }
        }
    }
}

/// The `hfharvest.model.*` gauges for the data dashboard: downloads and scores of the
/// run's top `top` models by downloads rank.
pub fn record_top_models(rows: &[DatasetRow], top: usize) {
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
        for benchmark in [
            "average",
            "ifeval",
            "bbh",
            "math_lvl5",
            "gpqa",
            "musr",
            "mmlu_pro",
        ] {
            if let Some(score) = row.benchmark(benchmark) {
                metrics.model_score.record(
                    score,
                    &[model.clone(), KeyValue::new("benchmark", benchmark)],
                );
            }
        }
    }
}
