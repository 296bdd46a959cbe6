//! The publish step of a complete `run`, after its last stage: its snapshot into the
//! history table (one Parquet file per table, written once with a conditional create),
//! its line in `runs/index.json`, and retention of old run folders. The pipeline points
//! `latest.json` at the run in between. `hfharvest history rebuild` does the first two
//! for every complete run already in the store.

mod retention;
mod snapshot;

pub use retention::{trim_runs, Trimmed};
pub use snapshot::{publish_snapshot, rebuild_history, snapshot_files, Published, Rebuilt};

use crate::formats::csv::CsvReadError;
use crate::formats::parquet::ParquetError;
use crate::store::StoreError;

/// How the publish step failed. What was written before stays; a rerun of the same
/// run id finishes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    #[error("publish: run {run_id} has no {file} in {store}")]
    MissingInput {
        run_id: String,
        file: &'static str,
        store: String,
    },
    #[error("publish: run {run_id}'s manifest: {message}")]
    Manifest { run_id: String, message: String },
    /// The task writing the history files ended without finishing (it panicked or was
    /// cancelled).
    #[error("publish: run {run_id}: writing its history files stopped: {message}")]
    Stopped { run_id: String, message: String },
    #[error("publish: {0}")]
    Read(#[from] CsvReadError),
    #[error("publish: writing {0}")]
    Write(#[from] ParquetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
