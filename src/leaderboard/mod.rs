//! Stage 2: Open LLM Leaderboard scores for each model, from a real browser
//! (`browser`) or from the published data over HTTP (`datasets`). Each model's result
//! is checkpointed on its own; `leaderboard.csv` is assembled from the checkpoints.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Browser,
    Datasets,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardSettings {
    pub source: SourceKind,
    /// WebDriver URL (the Selenium sidecar). Unset: start a local chromedriver if on PATH,
    /// else use `http://localhost:4444`.
    pub webdriver: Option<String>,
    /// Browser sessions run in parallel.
    pub browser_sessions: usize,
}

impl Default for LeaderboardSettings {
    fn default() -> Self {
        Self {
            source: SourceKind::Datasets,
            webdriver: None,
            browser_sessions: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderboardError {
    #[error("leaderboard: {0}")]
    Unavailable(String),
}

/// How a model's leaderboard lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// A row whose model id equals the query (case-insensitive).
    Found,
    /// No row for the model.
    NotFound,
    /// Rows came back, but none for exactly this model (e.g. only `…-Instruct`).
    Mismatch,
    /// The lookup failed (page changed, timeout); `detail` says how.
    Error,
}

/// One row of `leaderboard.csv`: one per leaderboard evaluation of a model (a model can
/// have several: precision and chat-template variants), or one row with empty scores
/// when the status is not `found`. Benchmarks are the leaderboard's normalised 0–100 scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LeaderboardRecord {
    #[serde(with = "crate::csvout::text")]
    pub model_id: String,
    pub status: Option<MatchStatus>,
    /// browser | datasets
    pub source: String,
    /// The leaderboard's row key (`<name>_<precision>_<sha>_<chat template>`).
    #[serde(with = "crate::csvout::text")]
    pub eval_name: String,
    /// The model name on the matched row (or what was seen, for a mismatch).
    #[serde(with = "crate::csvout::text")]
    pub matched_name: String,
    pub precision: String,
    #[serde(with = "crate::csvout::text")]
    pub model_type: String,
    pub weight_type: String,
    #[serde(with = "crate::csvout::text")]
    pub architecture: String,
    pub chat_template: Option<bool>,
    pub average: Option<f64>,
    pub ifeval: Option<f64>,
    pub bbh: Option<f64>,
    pub math_lvl5: Option<f64>,
    pub gpqa: Option<f64>,
    pub musr: Option<f64>,
    pub mmlu_pro: Option<f64>,
    pub params_b: Option<f64>,
    #[serde(with = "crate::csvout::text")]
    pub hub_license: String,
    pub submission_date: String,
    #[serde(with = "crate::csvout::text")]
    pub base_model: String,
    #[serde(with = "crate::csvout::text")]
    pub detail: String,
}
