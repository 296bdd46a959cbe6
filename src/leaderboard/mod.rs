//! Stage `scores`: Open LLM Leaderboard scores for each model, from a [`ScoreSource`]:
//! the published data over HTTP (`datasets`) or a real browser (`browser`). Each
//! model's answer is checkpointed on its own the moment it is known; `leaderboard.csv`
//! is assembled from the checkpoints.

mod browser;
mod canonical;
mod columns;
mod datasets;
mod rows;
mod settings;
mod source;
mod stage;

pub use browser::parse_table;
pub use browser::BrowserError;
pub use canonical::canonical_row;
pub use columns::scores_table;
pub use datasets::{parquet_rows, reading_parquet};
pub use rows::{
    classify, parse_formatted, parse_rows_page, round2, Lookup, PageFault, ParsedRows, RowFault,
    RowsPage, ScoreRow,
};
pub use settings::{DatasetsApi, LeaderboardSettings, SourceKind};
pub use source::{ScoreSource, SourceStats};
pub use stage::{collect_scores, drive, Driven, ScoresOutcome};

use serde::{Deserialize, Serialize};

use crate::csvout::CsvReadError;
use crate::http::HttpError;
use crate::run::ModelId;
use crate::store::{Answer, StoreError};

/// How the scores stage failed (a model's failed lookup is not this: it is an answer
/// with status `error`, and the stage goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderboardError {
    #[error("leaderboard data: {0}")]
    Http(#[from] HttpError),
    #[error("leaderboard data from {url}: {reason}")]
    BadData { url: String, reason: String },
    /// The source gave no row that names a model.
    #[error("leaderboard data from {url}: no usable row ({quarantined} set aside as invalid)")]
    NoRows { url: String, quarantined: u64 },
    /// More rows named no model than `leaderboard.max_invalid_ratio` allows.
    #[error("leaderboard data from {url}: {quarantined} of {seen} rows name no model, more than leaderboard.max_invalid_ratio ({max_ratio}) allows; they are listed in quarantine.json")]
    TooManyInvalid {
        url: String,
        quarantined: u64,
        seen: u64,
        max_ratio: f64,
    },
    #[error("browser: {0}")]
    Browser(#[from] BrowserError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the leaderboard page failed {in_a_row} times in a row, so the stage stopped \
         (the models answered so far are kept): {last}"
    )]
    PageBroken { in_a_row: u32, last: String },
    #[error(
        "{errors} of {looked_up} lookups ended in error ({percent:.1}%), over \
         leaderboard.max_error_ratio ({max_percent:.1}%); a rerun of this run id asks for \
         them again. For example, {example}"
    )]
    TooManyErrors {
        errors: u64,
        looked_up: u64,
        percent: f64,
        max_percent: f64,
        /// One model's error, as its `detail` says it.
        example: String,
    },
    #[error("no checkpoint for {model} after the stage")]
    MissingCheckpoint { model: ModelId },
    #[error("writing {file}: {source}")]
    Write {
        file: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {0}")]
    Read(#[from] CsvReadError),
    #[error("the scores stage was interrupted")]
    Interrupted,
}

impl LeaderboardError {
    /// Whether a rerun may go better.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::Store(e) => e.is_retryable(),
            Self::Browser(e) => e.is_retryable(),
            Self::Interrupted
            | Self::Write { .. }
            | Self::MissingCheckpoint { .. }
            | Self::PageBroken { .. }
            | Self::TooManyErrors { .. } => true,
            Self::BadData { .. }
            | Self::NoRows { .. }
            | Self::TooManyInvalid { .. }
            | Self::Read(_) => false,
        }
    }
}

/// How a model's leaderboard lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// A row whose model id equals the query (case-insensitive).
    Found,
    /// No row for the model.
    NotFound,
    /// Rows came back, but none for exactly this model (e.g. only `…-Instruct`). Only
    /// older runs have it, from a substring search; lookups now match ids exactly, so a
    /// model without its own row is `not_found`.
    Mismatch,
    /// The lookup failed (page changed, timeout); `detail` says how.
    Error,
}

impl MatchStatus {
    /// The manifest's and the metrics' word: `found`, `not_found`, `mismatch`, `error`.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not_found",
            Self::Mismatch => "mismatch",
            Self::Error => "error",
        }
    }
}

impl Answer for Lookup {
    fn outcome(&self) -> &'static str {
        self.status.outcome()
    }

    fn is_final(&self) -> bool {
        self.status != MatchStatus::Error
    }
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
    #[serde(with = "crate::csvout::text")]
    pub source: String,
    /// The leaderboard's row key (`<name>_<precision>_<sha>_<chat template>`).
    #[serde(with = "crate::csvout::text")]
    pub eval_name: String,
    /// The model name on the matched row (or what was seen, for a mismatch).
    #[serde(with = "crate::csvout::text")]
    pub matched_name: String,
    #[serde(with = "crate::csvout::text")]
    pub precision: String,
    #[serde(with = "crate::csvout::text")]
    pub model_type: String,
    #[serde(with = "crate::csvout::text")]
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
    #[serde(with = "crate::csvout::text")]
    pub submission_date: String,
    #[serde(with = "crate::csvout::text")]
    pub base_model: String,
    #[serde(with = "crate::csvout::text")]
    pub detail: String,
}
