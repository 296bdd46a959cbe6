//! The scores stage: Open LLM Leaderboard scores for each model, from a
//! [`crate::lookup::ScoreSource`]:
//! the published data over HTTP (`datasets`) or a real browser (`browser`). Each
//! model's answer is checkpointed on its own the moment it is known; `leaderboard.csv`
//! is assembled from the checkpoints.

mod browser;
mod datasets;
mod rows;
mod settings;
mod stage;

pub use crate::formats::parquet::parquet_rows;
pub use browser::parse_table;
pub use browser::BrowserError;
pub use rows::{
    classify, parse_formatted, parse_rows_page, round2, Lookup, PageFault, ParsedRows, RowsPage,
    ScoreRow,
};
pub use settings::{DatasetsApi, LeaderboardSettings, SourceKind};
pub use stage::{ScoresOutcome, ScoresStage};

use crate::formats::csv::CsvReadError;
use crate::http::HttpError;
use crate::lookup::Answer;
use crate::records::MatchStatus;
use crate::run::ModelId;
use crate::store::StoreError;

/// How the scores stage failed (a model's failed lookup is not this: it is an answer
/// with status `error`, and the stage goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoresError {
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
    #[error("the scores stage needs {file} from the models stage first (run {run_id})")]
    MissingInput { run_id: String, file: &'static str },
    /// The leaderboard's dataset has no such revision (or no such file at it).
    #[error("the leaderboard dataset {dataset} has no file {file} at revision {revision} ({url}: HTTP {status}); check leaderboard.dataset_revision")]
    RevisionMissing {
        dataset: String,
        revision: String,
        file: String,
        url: String,
        status: u16,
    },
    #[error("the leaderboard dataset at {url} could not be checked")]
    Unreachable {
        url: String,
        #[source]
        source: HttpError,
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

impl Answer for Lookup {
    fn outcome(&self) -> &'static str {
        self.status.outcome()
    }

    fn is_final(&self) -> bool {
        self.status != MatchStatus::Error
    }
}
