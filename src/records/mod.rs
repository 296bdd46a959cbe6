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
    each_models_row, parameters_from_name, read_models_csv, run_model_ids, sizes_from_name,
    ModelRecord, ParametersSource, RELATIONS,
};
pub use models_columns::models_table;
pub use scale::{Original, OriginalScale, Scaled};
pub use scores::{canonical_row, read_leaderboard_csv, LeaderboardRecord, MatchStatus};
pub use scores_columns::scores_table;

use crate::formats::csv::{CsvReadError, ReadBack};
use crate::run::{Check, Checked, ModelId, Quarantined, RecordKind, Stage};

/// One of our CSVs read back, checked where it comes in: a row that did not read, or
/// whose model id (`model_id`) is not one, is set aside for `stage` with its file and
/// line. Every stage that reads a CSV of ours back goes through here or through
/// [`each_checked_row`].
pub fn check_read_back<T>(
    read: ReadBack<T>,
    stage: Stage,
    model_id: impl Fn(&T) -> &str,
) -> Checked<T> {
    let key = read.key;
    let mut quarantined: Vec<Quarantined> = read
        .bad
        .iter()
        .map(|bad| unreadable(stage, &key, bad))
        .collect();
    let mut rows = Vec::with_capacity(read.rows.len());
    for (row, line) in read.rows.into_iter().zip(read.lines) {
        match ModelId::parse(model_id(&row)) {
            Ok(_) => rows.push(row),
            Err(e) => quarantined.push(invalid_id(stage, &key, line, model_id(&row), e.reason)),
        }
    }
    warn_set_aside(&key, rows.len() as u64, quarantined.len());
    Checked { rows, quarantined }
}

/// One of our CSVs read row by row from `input` (a file of the run, however large),
/// checked as [`check_read_back`] checks it: each row that reads and names a model goes
/// to `each`, in the file's order; the rows set aside come back. Like
/// [`ReadBack::usable`], it fails only when not one row reads.
pub fn each_checked_row<T: serde::de::DeserializeOwned>(
    input: impl std::io::Read,
    key: &str,
    stage: Stage,
    model_id: impl Fn(&T) -> &str,
    mut each: impl FnMut(T),
) -> Result<Vec<Quarantined>, CsvReadError> {
    let mut read = 0u64;
    let mut kept = 0u64;
    let mut invalid = Vec::new();
    let bad = crate::formats::csv::each_row(input, |row: T, line| {
        read += 1;
        match ModelId::parse(model_id(&row)) {
            Ok(_) => {
                kept += 1;
                each(row);
            }
            Err(e) => invalid.push(invalid_id(stage, key, line, model_id(&row), e.reason)),
        }
    });
    if read == 0 {
        if let Some(first) = bad.first() {
            return Err(CsvReadError {
                key: key.to_owned(),
                row: first.line,
                message: first.message.clone(),
            });
        }
    }
    let mut quarantined: Vec<Quarantined> =
        bad.iter().map(|bad| unreadable(stage, key, bad)).collect();
    quarantined.extend(invalid);
    warn_set_aside(key, kept, quarantined.len());
    Ok(quarantined)
}

fn unreadable(stage: Stage, key: &str, bad: &crate::formats::csv::BadRow) -> Quarantined {
    Quarantined::new(
        stage,
        RecordKind::CsvRow,
        key,
        bad.line,
        bad.model_id.as_deref(),
        Check::Unreadable,
        bad.message.as_str(),
    )
}

fn invalid_id(stage: Stage, key: &str, line: u64, model_id: &str, reason: &str) -> Quarantined {
    Quarantined::new(
        stage,
        RecordKind::CsvRow,
        key,
        line,
        Some(model_id),
        Check::InvalidId,
        reason,
    )
}

fn warn_set_aside(key: &str, rows: u64, set_aside: usize) {
    if set_aside > 0 {
        tracing::warn!(key = %key, rows, set_aside, "rows of a CSV read back were set aside");
    }
}
