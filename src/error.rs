//! The library's error type. Each stage has its own typed error; this enum gathers
//! them so the binary can map any failure to an exit code and a metric label.

use crate::config::ConfigError;
use crate::hub::HubError;
use crate::leaderboard::LeaderboardError;
use crate::prepare::PrepareError;
use crate::report::ReportError;
use crate::store::StoreError;
use crate::types::{InvalidModelId, InvalidRunId};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Leaderboard(#[from] LeaderboardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    ModelId(#[from] InvalidModelId),
    #[error(transparent)]
    RunId(#[from] InvalidRunId),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted by {0}")]
    Interrupted(&'static str),
}

impl Error {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    /// Whether the failure is the user's input (exit code 2) rather than the run's (1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Config(_)
                | Self::ModelId(_)
                | Self::RunId(_)
                | Self::Store(StoreError::Access(_) | StoreError::InvalidLocation(..))
        )
    }

    /// A short, stable label for metrics and the manifest.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Hub(_) => "hub",
            Self::Leaderboard(_) => "leaderboard",
            Self::Store(_) => "store",
            Self::Prepare(_) => "prepare",
            Self::Report(_) => "report",
            Self::ModelId(_) => "model_id",
            Self::RunId(_) => "run_id",
            Self::Io { .. } => "io",
            Self::Interrupted(_) => "interrupted",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
