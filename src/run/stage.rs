//! The stages of a run, named once: the same word in the CLI, the manifest, spans,
//! metric labels and checkpoint paths.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Hub metadata into `models.csv`.
    Models,
    /// Leaderboard scores, checkpointed per model, into `leaderboard.csv`.
    Scores,
    /// The Hub's evaluation results, checkpointed per model, into `evals.csv`.
    Evals,
    /// `dataset.csv` and `quality.json`.
    Prepare,
    /// `report.html`.
    Report,
    /// `latest.json`, once every other stage is done.
    Publish,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Self::Models,
        Self::Scores,
        Self::Evals,
        Self::Prepare,
        Self::Report,
        Self::Publish,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Models => "models",
            Self::Scores => "scores",
            Self::Evals => "evals",
            Self::Prepare => "prepare",
            Self::Report => "report",
            Self::Publish => "publish",
        }
    }
}

impl Stage {
    /// The words a stage counts its models (or rows) by, in the manifest and the
    /// metrics; a stage that had none of one still reports it as 0.
    pub const fn outcome_words(self) -> &'static [&'static str] {
        match self {
            Self::Models => &["collected", "resumed", "quarantined"],
            Self::Scores => &["found", "not_found", "mismatch", "error", "resumed"],
            Self::Evals => &["found", "not_found", "error", "resumed"],
            Self::Prepare => &["rows", "dropped", "fixed", "found", "inherited"],
            Self::Report => &["models"],
            Self::Publish => &[],
        }
    }
}

/// The sources that answer models, named once: the word a checkpoint records and
/// `leaderboard.csv`'s `source` column carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceName {
    /// The leaderboard's published data, over HTTP.
    Datasets,
    /// The leaderboard's page, in a real browser.
    Browser,
    /// The Hub's own evaluation results.
    Hub,
    /// Every Eval Ever's datastore (`evaleval/EEE_datastore`).
    #[serde(rename = "every-eval-ever")]
    EveryEvalEver,
    /// The `OpenEvals/leaderboard-data` dataset.
    #[serde(rename = "open-evals")]
    OpenEvals,
}

impl SourceName {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Datasets => "datasets",
            Self::Browser => "browser",
            Self::Hub => "hub",
            Self::EveryEvalEver => "every-eval-ever",
            Self::OpenEvals => "open-evals",
        }
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_everywhere() {
        for stage in Stage::ALL {
            let json = serde_json::to_value(stage).unwrap();
            assert_eq!(json.as_str(), Some(stage.as_str()));
            assert_eq!(stage.to_string(), stage.as_str());
        }
    }
}
