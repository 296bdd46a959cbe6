//! The library's one error type, above the stages: each stage's typed error, the
//! settings, and the store's refusals before anything ran. The binary maps it to an
//! exit code; telemetry to a metric label.

use crate::config::ConfigError;
use crate::evals::EvalsError;
use crate::models::ModelsError;
use crate::prepare::PrepareError;
use crate::publish::PublishError;
use crate::report::ReportError;
use crate::run::Stage;
use crate::scores::ScoresError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are wrong (exit 2).
    #[error(transparent)]
    Settings(#[from] ConfigError),
    /// The command line asks for something that cannot be done (exit 2).
    #[error("{what}: {reason}")]
    Usage { what: String, reason: String },
    /// The output refused us before anything ran: a bad location, wrong credentials,
    /// a missing bucket (exit 2).
    #[error(transparent)]
    Preflight(StoreError),
    /// A stage's check before the run failed: the Hub or its token, the leaderboard
    /// dataset's revision, the WebDriver (exit 2; nothing was written).
    #[error("the {stage} stage is not ready")]
    Unready {
        stage: Stage,
        #[source]
        source: Box<Error>,
    },
    #[error(transparent)]
    Models(ModelsError),
    #[error(transparent)]
    Scores(ScoresError),
    #[error(transparent)]
    Evals(EvalsError),
    #[error(transparent)]
    Prepare(PrepareError),
    #[error(transparent)]
    Report(ReportError),
    /// The run completed, but its history, index or `latest.json` was not all written
    /// (exit 1; a rerun of the run id finishes it).
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The store failed during the run (exit 1; what was written stays).
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("interrupted by a termination signal")]
    Interrupted,
}

impl Error {
    pub fn usage(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Usage {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// 2 for bad usage, settings or a store refused before anything ran; 1 for a
    /// failure during the run.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Settings(_) | Self::Usage { .. } | Self::Preflight(_) | Self::Unready { .. } => 2,
            _ => 1,
        }
    }

    /// A short, stable label for metrics and the manifest: the stage that failed, or
    /// what kind of failure it was.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Settings(_) => "settings",
            Self::Usage { .. } => "usage",
            Self::Preflight(_) | Self::Unready { .. } => "preflight",
            Self::Models(_) => Stage::Models.as_str(),
            Self::Scores(_) => Stage::Scores.as_str(),
            Self::Evals(_) => Stage::Evals.as_str(),
            Self::Prepare(_) => Stage::Prepare.as_str(),
            Self::Report(_) => Stage::Report.as_str(),
            Self::Publish(_) => Stage::Publish.as_str(),
            Self::Store(_) => "store",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A stage that stopped because it was told to is an interruption, whichever stage.
impl From<ModelsError> for Error {
    fn from(e: ModelsError) -> Self {
        match e {
            ModelsError::Interrupted => Self::Interrupted,
            e => Self::Models(e),
        }
    }
}

impl From<ScoresError> for Error {
    fn from(e: ScoresError) -> Self {
        match e {
            ScoresError::Interrupted => Self::Interrupted,
            e => Self::Scores(e),
        }
    }
}

impl From<EvalsError> for Error {
    fn from(e: EvalsError) -> Self {
        match e {
            EvalsError::Interrupted => Self::Interrupted,
            e => Self::Evals(e),
        }
    }
}

impl From<PrepareError> for Error {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::Interrupted => Self::Interrupted,
            e => Self::Prepare(e),
        }
    }
}

impl From<ReportError> for Error {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Interrupted => Self::Interrupted,
            e => Self::Report(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
