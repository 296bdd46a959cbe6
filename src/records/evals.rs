//! `evals.csv` (and `evals.parquet`, `evals_skipped.json`): the evals stage's rows, one
//! per model, benchmark and source, and the rule that prefers one value of several.

use serde::{Deserialize, Serialize};

use super::check_read_back;
use super::scale::{Original, OriginalScale};
use crate::formats::parquet::{non_empty, timestamp_ms, Table};
use crate::formats::{self, csv::CsvReadError};
use crate::run::{Checked, ModelId, Stage};

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvalSource {
    /// The Open LLM Leaderboard v2's own evaluation (archived March 2025).
    LeaderboardV2,
    /// The Hub's evaluation results (`.eval_results/*.yaml` in the model's repository).
    HubEvalResults,
    /// `model-index` in the model card: self-reported unless its metric says verified.
    ModelCard,
    /// Every Eval Ever's datastore (`evaleval/EEE_datastore`), at the run's revision.
    EveryEvalEver,
    /// The `OpenEvals/leaderboard-data` dataset, at the run's revision.
    OpenEvals,
}

impl EvalSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LeaderboardV2 => "leaderboard-v2",
            Self::HubEvalResults => "hub-eval-results",
            Self::ModelCard => "model-card",
            Self::EveryEvalEver => "every-eval-ever",
            Self::OpenEvals => "open-evals",
        }
    }
}

/// One value, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// The benchmark's dataset id (`Idavidrein/gpqa`), or the leaderboard's column.
    pub benchmark: String,
    /// The dataset's task or config (`gpqa_diamond`), when known.
    pub task: String,
    pub metric: String,
    /// On 0–100 (see [`Scaled`]).
    pub value: f64,
    /// The value as its source gave it; `None` only in a checkpoint of an older release.
    #[serde(default)]
    pub original: Option<Original>,
    pub verified: bool,
    pub source: EvalSource,
    /// `YYYY-MM-DD`, when known.
    pub date: String,
    pub url: String,
    /// What the source calls itself (`Phi-3 Technical Report`).
    pub source_name: String,
    /// Set for a community result: it comes from an open pull request.
    pub pull_request: Option<u64>,
    /// The results file in the model's repository, for Hub results.
    pub filename: String,
}

/// A result that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedResult {
    /// The model it was for; empty for a whole benchmark.
    pub model_id: String,
    /// Where it came from: `evalResults`, `model-index`, or a benchmark's leaderboard.
    pub source: String,
    pub reason: String,
}

/// The preferred of several values for one model and benchmark: verified over
/// self-reported, then the newest. Never the highest. Ties go to the first by source,
/// URL, metric and file name, so the choice does not depend on order.
pub fn preferred<'a>(results: impl IntoIterator<Item = &'a EvalResult>) -> Option<&'a EvalResult> {
    results.into_iter().min_by(|a, b| {
        b.verified
            .cmp(&a.verified)
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| a.metric.cmp(&b.metric))
            .then_with(|| a.filename.cmp(&b.filename))
    })
}

/// One row of `evals.csv`: a model's value for a benchmark from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    #[serde(with = "crate::formats::csv::text")]
    pub model_id: String,
    #[serde(with = "crate::formats::csv::text")]
    pub benchmark: String,
    #[serde(with = "crate::formats::csv::text")]
    pub task: String,
    #[serde(with = "crate::formats::csv::text")]
    pub metric: String,
    /// On 0–100.
    pub value: f64,
    /// The value as the source gave it, its scale (`0-1`, `0-100`) and whether the
    /// source declared that scale (`false`: read from the value). Empty in the
    /// `evals.csv` of an older release.
    #[serde(default)]
    pub original_value: Option<f64>,
    #[serde(default)]
    pub original_scale: Option<OriginalScale>,
    #[serde(default)]
    pub scale_declared: Option<bool>,
    pub verified: bool,
    pub source: EvalSource,
    pub date: String,
    #[serde(with = "crate::formats::csv::text")]
    pub url: String,
    #[serde(with = "crate::formats::csv::text")]
    pub source_name: String,
    pub pull_request: Option<u64>,
    #[serde(with = "crate::formats::csv::text")]
    pub filename: String,
}

impl EvalRow {
    pub fn of(model: &ModelId, r: &EvalResult) -> Self {
        Self {
            model_id: model.to_string(),
            benchmark: r.benchmark.clone(),
            task: r.task.clone(),
            metric: r.metric.clone(),
            value: r.value,
            original_value: r.original.map(|o| o.value),
            original_scale: r.original.map(|o| o.scale),
            scale_declared: r.original.map(|o| o.declared),
            verified: r.verified,
            source: r.source,
            date: r.date.clone(),
            url: r.url.clone(),
            source_name: r.source_name.clone(),
            pull_request: r.pull_request,
            filename: r.filename.clone(),
        }
    }

    pub fn result(&self) -> EvalResult {
        EvalResult {
            benchmark: self.benchmark.clone(),
            task: self.task.clone(),
            metric: self.metric.clone(),
            value: self.value,
            original: match (
                self.original_value,
                self.original_scale,
                self.scale_declared,
            ) {
                (Some(value), Some(scale), Some(declared)) => Some(Original {
                    value,
                    scale,
                    declared,
                }),
                _ => None,
            },
            verified: self.verified,
            source: self.source,
            date: self.date.clone(),
            url: self.url.clone(),
            source_name: self.source_name.clone(),
            pull_request: self.pull_request,
            filename: self.filename.clone(),
        }
    }
}

/// `evals_skipped.json`: what was not used, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub skipped: Vec<SkippedResult>,
}

/// Parse an `evals.csv` body for `stage`: a row that does not read, or whose model id
/// is not one, is set aside with its line; the file fails only when no row reads.
pub fn read_evals_csv(
    body: &[u8],
    key: &str,
    stage: Stage,
) -> Result<Checked<EvalRow>, CsvReadError> {
    let read = formats::csv::read_rows(body, key).usable()?;
    Ok(check_read_back(read, stage, |r: &EvalRow| &r.model_id))
}

/// The columns of `evals.parquet`, in `evals.csv`'s order, typed: the value a float,
/// `verified` a boolean, the date a timestamp, the pull request an integer.
pub fn evals_table() -> Table<EvalRow> {
    type R = EvalRow;
    Table::new()
        .text("model_id", |r: &R| Some(&r.model_id))
        .text("benchmark", |r: &R| Some(&r.benchmark))
        .text("task", |r: &R| non_empty(&r.task))
        .text("metric", |r: &R| non_empty(&r.metric))
        .float("value", |r: &R| Some(r.value))
        .float("original_value", |r: &R| r.original_value)
        .text("original_scale", |r: &R| {
            r.original_scale.map(OriginalScale::as_str)
        })
        .bool("scale_declared", |r: &R| r.scale_declared)
        .bool("verified", |r: &R| Some(r.verified))
        .text("source", |r: &R| Some(r.source.as_str()))
        .timestamp("date", |r: &R| timestamp_ms(&r.date))
        .text("url", |r: &R| non_empty(&r.url))
        .text("source_name", |r: &R| non_empty(&r.source_name))
        .int("pull_request", |r: &R| {
            r.pull_request.and_then(|p| i64::try_from(p).ok())
        })
        .text("filename", |r: &R| non_empty(&r.filename))
}
