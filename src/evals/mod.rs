//! The evals stage: the evaluation results the Hub itself carries, for the models newer
//! than the leaderboard (and the others): from `evalResults` on the list request the
//! models stage already made (kept in `models.jsonl`), from the official benchmarks'
//! leaderboards (one request each), and from `model-index` in the model cards; with
//! the leaderboard v2's scores beside them. Each model's answer is checkpointed; the
//! stage writes `evals.csv`, one row per model × benchmark × source, with provenance,
//! and `evals_skipped.json`, what was not used and why.

mod datastore;
mod every_eval_ever;
mod open_evals;
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
    /// `[evals.every_eval_ever]`.
    pub every_eval_ever: EveryEvalEverSettings,
    /// `[evals.open_evals]`.
    pub open_evals: OpenEvalsSettings,
}

/// `[evals.every_eval_ever]`: Every Eval Ever's datastore, read through its flat
/// indexes (one request per collection) at one revision a run, then only the records
/// that name a model of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EveryEvalEverSettings {
    pub enabled: bool,
    /// The Hub dataset.
    pub dataset: String,
    /// A branch (resolved to its commit once a run, and kept for a resume) or a commit.
    pub revision: String,
    /// The collections to read (`flat/indexes/by_collection/<name>.jsonl`).
    pub collections: Vec<String>,
    /// At most this many records fetched a run; the rest are set aside with the reason.
    pub max_objects: usize,
}

impl Default for EveryEvalEverSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dataset: "evaleval/EEE_datastore".into(),
            revision: "main".into(),
            // The leaderboard v2's own conversion, TIGER-Lab's MMLU-Pro board, HELM's
            // capabilities and Global-MMLU Lite: the open-weights collections seen in
            // realdata/2026/eee/examples/.
            collections: vec![
                "hfopenllm_v2".into(),
                "MMLU-Pro".into(),
                "helm_capabilities".into(),
                "global-mmlu-lite".into(),
            ],
            max_objects: 20_000,
        }
    }
}

/// `[evals.open_evals]`: the `OpenEvals/leaderboard-data` dataset, one parquet file
/// (one request) at one revision a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OpenEvalsSettings {
    pub enabled: bool,
    pub dataset: String,
    /// A branch (resolved once a run, and kept for a resume) or a commit.
    pub revision: String,
    /// The file, as realdata/2026/community-evals/hub-docs__docs_hub_leaderboard-data-guide.md
    /// names it.
    pub file: String,
}

impl Default for OpenEvalsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dataset: "OpenEvals/leaderboard-data".into(),
            revision: "main".into(),
            file: "data/train-00000-of-00001.parquet".into(),
        }
    }
}

/// A Hub dataset id, `owner/name`.
fn check_dataset_id(key: &'static str, id: &str) -> Result<(), InvalidSetting> {
    let ok = id.split('/').count() == 2
        && id.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if ok {
        Ok(())
    } else {
        InvalidSetting::err(key, format!("`{id}` is not a dataset id (owner/name)"))
    }
}

/// A branch, tag or commit: no slash at either end, no `..`, no spaces.
fn check_revision(key: &'static str, revision: &str) -> Result<(), InvalidSetting> {
    let ok = !revision.is_empty()
        && !revision.contains("..")
        && !revision.starts_with('/')
        && !revision.ends_with('/')
        && revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        InvalidSetting::err(key, format!("`{revision}` is not a revision"))
    }
}

impl EveryEvalEverSettings {
    fn validate(&self) -> Result<(), InvalidSetting> {
        check_dataset_id("evals.every_eval_ever.dataset", &self.dataset)?;
        check_revision("evals.every_eval_ever.revision", &self.revision)?;
        for name in &self.collections {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !name.starts_with('.');
            if !ok {
                return InvalidSetting::err(
                    "evals.every_eval_ever.collections",
                    format!("`{name}` is not a collection name (one by_collection file stem)"),
                );
            }
        }
        if self.max_objects > 1_000_000 {
            return InvalidSetting::err(
                "evals.every_eval_ever.max_objects",
                "must be at most 1000000",
            );
        }
        Ok(())
    }
}

impl OpenEvalsSettings {
    fn validate(&self) -> Result<(), InvalidSetting> {
        check_dataset_id("evals.open_evals.dataset", &self.dataset)?;
        check_revision("evals.open_evals.revision", &self.revision)?;
        if self.file.is_empty() || self.file.starts_with('/') || self.file.contains("..") {
            return InvalidSetting::err(
                "evals.open_evals.file",
                format!("`{}` is not a file in the dataset", self.file),
            );
        }
        Ok(())
    }
}

impl Default for EvalsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            official_benchmarks: true,
            benchmarks: Vec::new(),
            max_model_requests: 100,
            dataset_columns: 5,
            every_eval_ever: EveryEvalEverSettings::default(),
            open_evals: OpenEvalsSettings::default(),
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
        self.every_eval_ever.validate()?;
        self.open_evals.validate()?;
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
    #[error("evaluation results: {dataset}@{revision} gave no commit sha")]
    NoCommit { dataset: String, revision: String },
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

    /// `not_found` with nothing set aside: the source does not have the model.
    fn says_nothing(&self) -> bool {
        self.status == EvalStatus::NotFound && self.results.is_empty() && self.skipped.is_empty()
    }
}
