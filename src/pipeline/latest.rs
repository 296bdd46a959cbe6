//! `latest.json`, written once a `run` has completed every stage.

use crate::run::artifact::{LATEST_JSON, MANIFEST_JSON};
use crate::run::{LatestPointer, Manifest};
use crate::store::{RunStore, StoreError};

/// Point `latest.json` at this run, listing the files in its folder.
pub async fn publish(run: &RunStore, manifest: &Manifest) -> Result<(), StoreError> {
    let root = format!("{}/", run.layout().root());
    // Only the run folder's own files: its checkpoints are in folders below.
    let files = run.store().list_files(&root).await?;
    let pointer = LatestPointer {
        run_id: manifest.run_id.clone(),
        completed_at: manifest.finished_at.clone().unwrap_or_default(),
        manifest: run.key(MANIFEST_JSON),
        files,
    };
    let body =
        serde_json::to_vec_pretty(&pointer).map_err(|e| StoreError::corrupt(LATEST_JSON, e))?;
    run.store()
        .put(LATEST_JSON, body.into(), crate::store::PutMode::Overwrite)
        .await?;
    Ok(())
}
