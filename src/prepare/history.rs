//! History: the previous *complete* run in the store, for day-over-day deltas.

use std::collections::HashMap;

use crate::hub::{read_models_csv, ModelRecord};
use crate::run::artifact::{MANIFEST_JSON, MODELS_CSV};
use crate::run::{Manifest, RunId, RunStatus, Stage, RUNS_PREFIX};
use crate::store::{Store, StoreError};

/// The counts we compare against, by normalised model id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreviousCounts {
    pub downloads: Option<u64>,
    pub likes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreviousRun {
    pub run_id: String,
    pub models: HashMap<String, PreviousCounts>,
}

impl PreviousRun {
    pub fn from_models(run_id: &str, models: &[ModelRecord]) -> Self {
        let mut by_id = HashMap::with_capacity(models.len());
        for m in models {
            // The first row wins, as in the join's duplicate rule.
            by_id
                .entry(m.model_id.trim().to_lowercase())
                .or_insert(PreviousCounts {
                    downloads: m.downloads,
                    likes: m.likes,
                });
        }
        Self {
            run_id: run_id.to_owned(),
            models: by_id,
        }
    }
}

/// Pick the run to compare with, from the manifests of other runs: the complete run that
/// started last, before `current_started` when that is known. Run ids are not compared,
/// because a user may name runs freely.
pub fn pick_previous<'a>(
    manifests: &'a [Manifest],
    current: &str,
    current_started: Option<&str>,
) -> Option<&'a Manifest> {
    manifests
        .iter()
        .filter(|m| m.status == RunStatus::Complete && m.run_id != current)
        .filter(|m| current_started.is_none_or(|started| started_before(&m.started_at, started)))
        .max_by(|a, b| {
            timestamp(&a.started_at)
                .cmp(&timestamp(&b.started_at))
                .then_with(|| a.run_id.cmp(&b.run_id))
        })
}

fn timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.to_utc())
}

fn started_before(a: &str, b: &str) -> bool {
    match (timestamp(a), timestamp(b)) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

/// Load the previous complete run's `models.csv`. A run whose files are unreadable is
/// skipped with a warning: history is an extra, and must not fail today's run.
pub async fn previous_complete_run(
    store: &dyn Store,
    current: &RunId,
    current_started: Option<&str>,
) -> Result<Option<PreviousRun>, StoreError> {
    let keys = store.list(RUNS_PREFIX).await?;
    let mut manifests = Vec::new();
    for key in keys
        .iter()
        .filter(|k| k.ends_with(&format!("/{MANIFEST_JSON}")) && k.matches('/').count() == 2)
    {
        let Some(body) = store.get(key).await? else {
            continue;
        };
        match serde_json::from_slice::<Manifest>(&body) {
            Ok(m) => manifests.push(m),
            Err(e) => tracing::warn!(key = %key, error = %e, "ignoring an unreadable manifest"),
        }
    }
    let Some(previous) = pick_previous(&manifests, current.as_str(), current_started) else {
        return Ok(None);
    };
    let key = format!("{RUNS_PREFIX}{}/{MODELS_CSV}", previous.run_id);
    let Some(body) = store.get(&key).await? else {
        tracing::warn!(key = %key, "the previous complete run has no models.csv; no deltas");
        return Ok(None);
    };
    match read_models_csv(&body, &key, Stage::Prepare) {
        Ok(models) => Ok(Some(PreviousRun::from_models(
            &previous.run_id,
            &models.rows,
        ))),
        Err(e) => {
            tracing::warn!(error = %e, "the previous run's models.csv is unreadable; no deltas");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str, status: RunStatus, started: &str) -> Manifest {
        Manifest {
            run_id: id.into(),
            status,
            tool_version: "0".into(),
            config_digest: "x".into(),
            started_at: started.into(),
            finished_at: None,
            stages: vec![],
            error: None,
        }
    }

    #[test]
    fn previous_run_is_the_latest_complete_one_before_this_run() {
        let ms = vec![
            manifest("a", RunStatus::Complete, "2026-01-01T00:00:00Z"),
            manifest("b", RunStatus::Complete, "2026-01-02T00:00:00Z"),
            manifest("c", RunStatus::Failed, "2026-01-03T00:00:00Z"),
            manifest("d", RunStatus::Running, "2026-01-03T12:00:00Z"),
            manifest("today", RunStatus::Running, "2026-01-04T00:00:00Z"),
            manifest("later", RunStatus::Complete, "2026-01-05T00:00:00Z"),
        ];
        let pick = |started| pick_previous(&ms, "today", started).map(|m| m.run_id.as_str());
        assert_eq!(pick(Some("2026-01-04T00:00:00Z")), Some("b"));
        // Without this run's start time, the latest complete run other than this one.
        assert_eq!(pick(None), Some("later"));
        assert_eq!(pick(Some("2025-12-01T00:00:00Z")), None);
    }
}
