//! `output.keep_runs_days`: old run folders are deleted once a newer run is published.
//! The history table is never trimmed, and a complete run is only trimmed once its
//! history is written (it is in the index), so no night is lost.

use super::PublishError;
use crate::run::artifact::MANIFEST_JSON;
use crate::run::{snapshot_date, Manifest, RunIndex, RunStatus, RUNS_PREFIX};
use crate::store::Store;

/// What retention removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trimmed {
    /// The run ids whose folders were deleted.
    pub runs: Vec<String>,
    /// Objects deleted.
    pub objects: u64,
}

/// Delete the folders of runs whose snapshot is `keep_days` or more nights before the
/// newest published run's, so the last `keep_days` nights stay. `current` is never
/// deleted. Runs in the index are dated from it; others (partial, failed) from their
/// manifest, which is read only for them.
pub async fn trim_runs(
    store: &dyn Store,
    keep_days: u32,
    index: &RunIndex,
    current: &str,
) -> Result<Trimmed, PublishError> {
    let mut trimmed = Trimmed::default();
    let Some(newest) = index.newest().and_then(|r| r.date()) else {
        return Ok(trimmed);
    };
    let cutoff = newest - chrono::Days::new(u64::from(keep_days));
    for folder in store.list_folders(RUNS_PREFIX).await? {
        let run_id = folder.trim_start_matches(RUNS_PREFIX).trim_end_matches('/');
        if run_id == current {
            continue;
        }
        let date = match index.get(run_id) {
            Some(entry) => entry.date(),
            None => {
                let Some(body) = store.get(&format!("{folder}{MANIFEST_JSON}")).await? else {
                    continue;
                };
                let Ok(manifest) = serde_json::from_slice::<Manifest>(&body) else {
                    tracing::warn!(
                        run = run_id,
                        "an unreadable manifest; the run folder is kept"
                    );
                    continue;
                };
                if manifest.status == RunStatus::Complete {
                    tracing::warn!(
                        run = run_id,
                        "a complete run whose history is not written is kept; \
                         `hfharvest history rebuild` writes it"
                    );
                    continue;
                }
                snapshot_date(manifest.as_of())
            }
        };
        if date.is_some_and(|d| d <= cutoff) {
            trimmed.objects += store.delete_prefix(&folder).await?;
            trimmed.runs.push(run_id.to_owned());
        }
    }
    if !trimmed.runs.is_empty() {
        tracing::info!(
            runs = trimmed.runs.len(),
            objects = trimmed.objects,
            keep_runs_days = keep_days,
            "removed old run folders (the history keeps their data)"
        );
    }
    Ok(trimmed)
}
