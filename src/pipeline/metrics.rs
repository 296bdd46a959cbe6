//! The run-level metrics: duration, last success, the run-info gauge (with the trace
//! id, for the dashboard's links) and the counts per stage and outcome. The data
//! dashboard's gauges for the top models are the prepare stage's.

use std::time::Instant;

use opentelemetry::KeyValue;

use crate::error::Error;
use crate::run::{Manifest, RunId};

/// Counters start at zero, and that zero is sent at once, so each pod's series begins
/// at 0 and `increase()` counts everything the pod adds after.
pub fn start_counters() {
    let metrics = crate::telemetry::metrics();
    metrics.http_retries.add(0, &[]);
    metrics.rate_limit_waits.add(0, &[]);
    metrics.session_restarts.add(0, &[]);
    crate::telemetry::flush_metrics_soon();
}

/// `manifest` is what the run got to (none when it never started, e.g. the lock was
/// held): its stages' counts are recorded even when the run failed, so the dashboards
/// show how far a failed run got.
pub fn record_run(
    run_id: &RunId,
    started: Instant,
    failure: Option<&Error>,
    manifest: Option<&Manifest>,
) {
    let metrics = crate::telemetry::metrics();
    metrics
        .run_duration
        .record(started.elapsed().as_secs_f64(), &[]);
    let (status, error_type) = match failure {
        None => ("complete", ""),
        Some(e) => ("failed", e.metric_label()),
    };
    if failure.is_none() {
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
    for stage in manifest.map(|m| m.stages.as_slice()).unwrap_or_default() {
        let mut counts: Vec<(&str, u64)> = stage
            .stage
            .outcome_words()
            .iter()
            .map(|word| (*word, stage.outcomes.get(*word).copied().unwrap_or(0)))
            .collect();
        // A word of an older or newer tool: recorded as it is.
        for (word, n) in &stage.outcomes {
            if !counts.iter().any(|(w, _)| w == word) {
                counts.push((word.as_str(), *n));
            }
        }
        for (outcome, n) in counts {
            metrics.run_models.record(
                n,
                &[
                    KeyValue::new("stage", stage.stage.as_str()),
                    KeyValue::new("outcome", outcome.to_owned()),
                ],
            );
        }
    }
}
