//! The run's own types, at the bottom of the layering: model and run ids, credentials,
//! the stages, the run's layout and artifact names, the history's keys and the index of
//! published runs, the manifest, the records set aside as invalid (quarantine), and the
//! error a setting gives. Everything above may use these; they use nothing of the crate.

pub mod history;
mod ids;
pub mod layout;
mod manifest;
pub mod quarantine;
mod secret;
mod setting;
mod stage;

pub use history::{snapshot_date, HistoryTable, IndexedRun, RunIndex, HISTORY_PREFIX, RUNS_INDEX};
pub use ids::{InvalidModelId, InvalidRunId, ModelId, RunId};
pub use layout::{
    artifact, decode_model_key, encode_model_key, RunLayout, BATCH_PREFIX, RUNS_PREFIX,
};
pub use manifest::{LatestPointer, Manifest, RunStatus, StageSummary};
pub use quarantine::{
    Check, Checked, Problem, QuarantineLog, Quarantined, RecordFault, RecordKind,
};
pub use secret::Secret;
pub use setting::{check_secs, InvalidSetting};
pub use stage::{SourceName, Stage};
