//! The evals stage: the evaluation results the Hub itself carries, for the models newer
//! than the leaderboard (and the others): from `evalResults` on the list request the
//! models stage already made (kept in `models.jsonl`), from the official benchmarks'
//! leaderboards (one request each), and from `model-index` in the model cards; with
//! the leaderboard v2's scores beside them. Each model's answer is checkpointed; the
//! stage writes `evals.csv`, one row per model × benchmark × source, with provenance,
//! and `evals_skipped.json`, what was not used and why.

mod results;
mod source;
mod stage;

pub use stage::{EvalsOutcome, EvalsStage};

use serde::{Deserialize, Serialize};

use crate::formats::csv::CsvReadError;
use crate::http::HttpError;
use crate::lookup::Answer;
use crate::records::{EvalResult, SkippedResult};
use crate::run::{InvalidSetting, ModelId};
use crate::store::StoreError;

/// `[evals]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EvalsSettings {
    /// Collect the Hub's evaluation results (`hfharvest run` only).
    pub enabled: bool,
    /// Read the leaderboards of the benchmarks the Hub lists as official
    /// (`/api/datasets?filter=benchmark:official`).
    pub official_benchmarks: bool,
    /// More benchmark datasets whose leaderboards to read, e.g. `openai/gsm8k`.
    pub benchmarks: Vec<String>,
    /// Models whose list item came without `evalResults` are asked for them one by
    /// one, at most this many a run (the rest count as not found).
    pub max_model_requests: usize,
    /// How many of the run's most common Hub benchmarks become columns of `dataset.csv`.
    pub dataset_columns: usize,
}

impl Default for EvalsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            official_benchmarks: true,
            benchmarks: Vec::new(),
            max_model_requests: 100,
            dataset_columns: 5,
        }
    }
}

impl EvalsSettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.max_model_requests > 100_000 {
            return InvalidSetting::err("evals.max_model_requests", "must be at most 100000");
        }
        if self.dataset_columns > 50 {
            return InvalidSetting::err("evals.dataset_columns", "must be at most 50");
        }
        for id in &self.benchmarks {
            if id.trim().is_empty() || id.matches('/').count() > 1 {
                return InvalidSetting::err(
                    "evals.benchmarks",
                    format!("`{id}` is not a dataset id"),
                );
            }
        }
        Ok(())
    }
}

/// How the evals stage failed (a model without results is not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalsError {
    #[error("evaluation results: {0}")]
    Http(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unready(#[from] crate::hub::HubUnready),
    #[error("evaluation results: {0}")]
    Read(#[from] CsvReadError),
    #[error("evaluation results: {file} needs the models stage first (run {run_id})")]
    MissingInput { run_id: String, file: &'static str },
    #[error("evaluation results: no checkpoint for {model} after the stage")]
    MissingCheckpoint { model: ModelId },
    #[error("evaluation results: writing {file}: {source}")]
    Write {
        file: &'static str,
        #[source]
        source: crate::store::Cause,
    },
    #[error("the evals stage was interrupted")]
    Interrupted,
}

/// How a model's lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalStatus {
    /// At least one result.
    Found,
    NotFound,
    /// Asking for the model's results failed; a rerun asks again.
    Error,
}

/// One model's Hub results (the leaderboard's are added when `evals.csv` is written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalAnswer {
    pub status: EvalStatus,
    pub results: Vec<EvalResult>,
    pub skipped: Vec<SkippedResult>,
    pub detail: String,
}

impl Answer for EvalAnswer {
    fn outcome(&self) -> &'static str {
        match self.status {
            EvalStatus::Found => "found",
            EvalStatus::NotFound => "not_found",
            EvalStatus::Error => "error",
        }
    }

    fn is_final(&self) -> bool {
        self.status != EvalStatus::Error
    }
}
