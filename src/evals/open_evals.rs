//! `OpenEvals/leaderboard-data`: one parquet file at the run's commit, one request.
//! Its columns are the dataset card's (realdata/2026/community-evals/SUMMARY.md):
//! `model_id` names the model and every `*_score` column is a benchmark (the set
//! drifts as benchmarks are added, so it is read from the file, not fixed here). The
//! card does not say the scores' scale, so each is read from its value
//! ([`Scaled::by_value`]). A row whose id names no model of the run, or two, is set
//! aside with the reason.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::datastore::Pinned;
use super::{EvalAnswer, EvalStatus, EvalsError, OpenEvalsSettings};
use crate::formats::parquet::parquet_rows;
use crate::http::HttpClient;
use crate::lookup::{Answers, CheckpointSink, IdMatch, IdMatcher, ScoreSource, SourceStats};
use crate::records::{EvalResult, EvalSource, Scaled, SkippedResult};
use crate::run::{ModelId, SourceName};

/// The checkpoint folder below `checkpoints/evals/`.
pub(super) const PART: &str = "open-evals";

const SOURCE: &str = "open-evals";

/// The file's results by normalised model id, and the rows set aside.
#[derive(Debug, Default)]
pub(super) struct OpenEvalsRows {
    pub by_model: HashMap<String, Vec<EvalResult>>,
    pub skipped: Vec<SkippedResult>,
    /// Why the file could not be read; its models are answered as errors, so a rerun
    /// asks again.
    pub failed: Option<String>,
    pub requests: u64,
}

/// Download and read the file at `pinned`, matching each row's `model_id`.
pub(super) async fn read_rows(
    http: &HttpClient,
    endpoint: &Url,
    pinned: &Pinned,
    settings: &OpenEvalsSettings,
    matcher: &IdMatcher,
) -> Result<OpenEvalsRows, EvalsError> {
    let before = http.stats().requests();
    let url = pinned.file_url(endpoint, &settings.file)?;
    let mut read = OpenEvalsRows::default();
    let fetched = http.get(&url).await;
    read.requests = http.stats().requests() - before;
    let body = match fetched {
        Ok(fetched) => fetched.body,
        Err(e) => {
            tracing::warn!(error = %e, "the OpenEvals file could not be read; its models are asked again on a rerun");
            read.failed = Some(e.to_string());
            return Ok(read);
        }
    };
    let rows = match parquet_rows(body) {
        Ok(rows) => rows,
        Err(reason) => {
            read.failed = Some(format!("{}: {reason}", crate::http::redact(&url)));
            return Ok(read);
        }
    };
    let blob = pinned.blob_url(endpoint, &settings.file);
    for (i, row) in rows.iter().enumerate() {
        let place = format!("{} row {}", settings.file, i + 1);
        let skip = |model_id: &str, reason: String| SkippedResult {
            model_id: model_id.to_owned(),
            source: SOURCE.into(),
            reason: format!("{place}: {reason}"),
        };
        let Some(id) = row
            .get("model_id")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
        else {
            read.skipped.push(skip("", "no model_id".into()));
            continue;
        };
        let model = match matcher.find(id) {
            IdMatch::One { model, .. } => model,
            unjoined => {
                read.skipped
                    .push(skip(id, unjoined.reason().unwrap_or_default()));
                continue;
            }
        };
        if read.by_model.contains_key(&model.normalized()) {
            read.skipped.push(skip(
                id,
                format!("an earlier row names {model} too; the first is kept"),
            ));
            continue;
        }
        let (results, refused) = row_results(row, &blob, &settings.file);
        read.skipped.extend(
            refused
                .into_iter()
                .map(|reason| skip(model.as_str(), reason)),
        );
        read.by_model.insert(model.normalized(), results);
    }
    Ok(read)
}

/// A row's `*_score` values, each on 0–100; a value that is on neither scale is refused.
fn row_results(row: &Map<String, Value>, url: &str, file: &str) -> (Vec<EvalResult>, Vec<String>) {
    let mut results = Vec::new();
    let mut refused = Vec::new();
    let mut columns: Vec<(&String, &Value)> = row
        .iter()
        .filter(|(name, value)| name.ends_with("_score") && !value.is_null())
        .collect();
    columns.sort_by(|a, b| a.0.cmp(b.0));
    for (column, value) in columns {
        let benchmark = column.trim_end_matches("_score");
        let scaled = match value.as_f64() {
            Some(score) => Scaled::by_value(score),
            None => Err(format!("{value} is not a number")),
        };
        match scaled {
            Ok(scaled) => results.push(EvalResult {
                benchmark: benchmark.to_owned(),
                task: String::new(),
                metric: column.clone(),
                value: scaled.value,
                original: Some(scaled.original()),
                // The file does not say who ran the evaluation.
                verified: false,
                source: EvalSource::OpenEvals,
                // Nor when: the file's commit is in `url`.
                date: String::new(),
                url: url.to_owned(),
                source_name: "OpenEvals leaderboard-data".into(),
                pull_request: None,
                filename: file.to_owned(),
            }),
            Err(reason) => refused.push(format!("{column}: {reason}")),
        }
    }
    (results, refused)
}

/// The file's results for each model.
pub(super) struct OpenEvals {
    pub rows: OpenEvalsRows,
}

#[async_trait]
impl ScoreSource for OpenEvals {
    type Answer = EvalAnswer;
    type Error = EvalsError;

    fn name(&self) -> SourceName {
        SourceName::OpenEvals
    }

    fn checkpoint_part(&self) -> Option<&'static str> {
        Some(PART)
    }

    /// Answered from the file already read: no request here.
    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<EvalAnswer>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, EvalsError> {
        let answers: Answers<'_, EvalAnswer> = Box::new(models.iter().map(|model: &ModelId| {
            let answer = match (
                &self.rows.failed,
                self.rows.by_model.get(&model.normalized()),
            ) {
                (Some(failed), _) => EvalAnswer {
                    status: EvalStatus::Error,
                    results: Vec::new(),
                    skipped: Vec::new(),
                    detail: failed.clone(),
                },
                (None, Some(results)) if !results.is_empty() => EvalAnswer {
                    status: EvalStatus::Found,
                    detail: format!("{} result(s)", results.len()),
                    results: results.clone(),
                    skipped: Vec::new(),
                },
                (None, _) => EvalAnswer {
                    status: EvalStatus::NotFound,
                    results: Vec::new(),
                    skipped: Vec::new(),
                    detail: "no row".into(),
                },
            };
            (model.clone(), answer)
        }));
        tokio::select! {
            written = sink.record_many(answers) => written?,
            _ = cancel.cancelled() => return Err(EvalsError::Interrupted),
        }
        Ok(SourceStats::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_score_column_is_a_benchmark_on_0_to_100() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"model_id": "zai-org/GLM-5", "gpqa_score": 0.81, "mmluPro_score": 84.2,
                "hle_score": null, "coverage_percent": 40.0, "aime2026_score": 250.0}"#,
        )
        .unwrap();
        let (results, refused) = row_results(&row, "u", "f");
        let values: Vec<(&str, f64)> = results
            .iter()
            .map(|r| (r.benchmark.as_str(), r.value))
            .collect();
        assert_eq!(values, [("gpqa", 81.0), ("mmluPro", 84.2)]);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(refused[0].starts_with("aime2026_score"));
    }
}
