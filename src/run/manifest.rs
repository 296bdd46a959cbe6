//! `runs/<id>/manifest.json`, which says how a run went, and `latest.json`, which
//! points at the newest run that completed every stage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Stage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Every stage of a `run` is done. Only `run` makes a run complete, and a complete
    /// run's data is never rewritten.
    Complete,
    /// The stages a command asked for (`models`, `scores`) are done, not the whole run.
    Partial,
    Failed,
}

impl RunStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

/// How one stage went: its time and its models (or rows) per outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    #[serde(rename = "name")]
    pub stage: Stage,
    pub seconds: f64,
    /// Per outcome, in the stage's own words: `collected`, `resumed` for models;
    /// `found`, `not_found`, `mismatch`, `error`, `resumed` for scores; …
    pub outcomes: BTreeMap<String, u64>,
    /// The requests the stage made, by what it asked: the models stage's list pages per
    /// pipeline tag. Absent when it asked nothing (a resumed stage).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, u64>,
}

/// `runs/<id>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub status: RunStatus,
    pub tool_version: String,
    pub config_digest: String,
    /// When the first attempt of this run started.
    pub started_at: String,
    /// When the Hub was read: the time every time-based column counts from, so the
    /// same run always prepares to the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_at: Option<String>,
    pub finished_at: Option<String>,
    pub stages: Vec<StageSummary>,
    pub error: Option<String>,
}

impl Manifest {
    /// A run just started.
    pub fn start(run_id: &str, config_digest: String, started_at: String) -> Self {
        Self {
            run_id: run_id.to_owned(),
            status: RunStatus::Running,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            config_digest,
            started_at,
            snapshot_at: None,
            finished_at: None,
            stages: Vec::new(),
            error: None,
        }
    }

    pub fn stage(&self, stage: Stage) -> Option<&StageSummary> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    /// Record how a stage went, replacing what an earlier attempt recorded for it.
    pub fn record(&mut self, summary: StageSummary) {
        match self.stages.iter_mut().find(|s| s.stage == summary.stage) {
            Some(existing) => *existing = summary,
            None => self.stages.push(summary),
        }
    }

    /// The time every time-based column counts from: the snapshot, else the start.
    pub fn as_of(&self) -> &str {
        self.snapshot_at.as_deref().unwrap_or(&self.started_at)
    }
}

/// `latest.json`: the newest run that completed every stage. Written only after that
/// run's manifest says `complete`, so a partial or failed run never replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestPointer {
    pub run_id: String,
    pub completed_at: String,
    /// Keys relative to the output's root.
    pub manifest: String,
    pub files: Vec<String>,
}
