//! The records every stage writes and the next ones read, each artifact's row type with
//! its typed reader and writer: `models.csv`, `leaderboard.csv`, `evals.csv`,
//! `dataset.csv` and `quality.json`, and the history of past nights. A stage reads
//! another stage's output only through here, never by importing that stage.

pub mod dataset;
mod dataset_columns;
pub mod evals;
pub mod history;
pub mod models;
mod models_columns;
pub mod scale;
pub mod scores;
mod scores_columns;

pub use dataset::{read_dataset_csv, write_dataset_csv, DatasetRow, QualityReport, Scores};
pub use dataset_columns::{dataset_table, with_hub_columns};
pub use evals::{
    evals_table, preferred, read_evals_csv, EvalResult, EvalRow, EvalSource, SkippedFile,
    SkippedResult,
};
pub use models::{
    parameters_from_name, read_models_csv, run_model_ids, sizes_from_name, ModelRecord,
    ParametersSource, RELATIONS,
};
pub use models_columns::models_table;
pub use scale::{Original, OriginalScale, Scaled};
pub use scores::{canonical_row, read_leaderboard_csv, LeaderboardRecord, MatchStatus};
pub use scores_columns::scores_table;

use crate::formats::csv::ReadBack;
use crate::run::{Check, Checked, ModelId, Quarantined, RecordKind, Stage};

/// One of our CSVs read back, checked where it comes in: a row that did not read, or
/// whose model id (`model_id`) is not one, is set aside for `stage` with its file and
/// line. Every stage that reads a CSV of ours back goes through here.
pub fn check_read_back<T>(
    read: ReadBack<T>,
    stage: Stage,
    model_id: impl Fn(&T) -> &str,
) -> Checked<T> {
    let key = read.key;
    let mut quarantined: Vec<Quarantined> = read
        .bad
        .iter()
        .map(|bad| {
            Quarantined::new(
                stage,
                RecordKind::CsvRow,
                key.as_str(),
                bad.line,
                bad.model_id.as_deref(),
                Check::Unreadable,
                bad.message.as_str(),
            )
        })
        .collect();
    let mut rows = Vec::with_capacity(read.rows.len());
    for (row, line) in read.rows.into_iter().zip(read.lines) {
        match ModelId::parse(model_id(&row)) {
            Ok(_) => rows.push(row),
            Err(e) => quarantined.push(Quarantined::new(
                stage,
                RecordKind::CsvRow,
                key.as_str(),
                line,
                Some(model_id(&row)),
                Check::InvalidId,
                e.reason,
            )),
        }
    }
    if !quarantined.is_empty() {
        tracing::warn!(key = %key, rows = rows.len(), set_aside = quarantined.len(), "rows of a CSV read back were set aside");
    }
    Checked { rows, quarantined }
}
