//! A complete run's snapshot as history files, written once each, and the index entry
//! that says so.

use bytes::Bytes;

use super::PublishError;
use crate::formats::{
    self,
    csv::CsvReadError,
    parquet::{timestamp_ms, ParquetError, Table, TableWriter},
};
use crate::records::{each_models_row, models_table};
use crate::records::{scores_table, LeaderboardRecord};
use crate::run::artifact::{LEADERBOARD_CSV, MODELS_CSV};
use crate::run::{
    HistoryTable, IndexedRun, Manifest, RunId, RunIndex, RunLayout, RunStatus, Stage, RUNS_PREFIX,
};
use crate::store::{update_index, PutMode, RunStore, Store, StoreError};

/// The version of the history tables' schema, in each file's metadata. Only new
/// nullable columns may be added without changing it.
pub const SCHEMA_VERSION: &str = "1";

/// A table's columns behind the two every history file starts with: the run id and its
/// snapshot time.
fn stamped<R>(entry: &IndexedRun, table: Table<R>) -> Table<R> {
    Table::new()
        .constant_text("run_id", &entry.run_id)
        .constant_timestamp("snapshot_at", timestamp_ms(&entry.snapshot_at))
        .extend(table)
}

/// The key-value metadata of a history file: enough to rebuild its index entry.
fn metadata(entry: &IndexedRun, table: HistoryTable) -> Vec<(&'static str, String)> {
    vec![
        ("hfharvest.table", table.as_str().to_owned()),
        ("hfharvest.schema_version", SCHEMA_VERSION.to_owned()),
        ("hfharvest.run_id", entry.run_id.clone()),
        ("hfharvest.started_at", entry.started_at.clone()),
        ("hfharvest.snapshot_at", entry.snapshot_at.clone()),
        (
            "hfharvest.completed_at",
            entry.completed_at.clone().unwrap_or_default(),
        ),
    ]
}

/// Rows a history file's row groups hold (as `dataset.parquet`'s), so a file of any
/// length is written holding one group of rows.
const ROW_GROUP: usize = 20_000;

/// A history file's rows, handed over one at a time and written a row group at a time.
struct HistoryWriter<'t, R> {
    writer: TableWriter<'t, R, Vec<u8>>,
    batch: Vec<R>,
    failed: Option<ParquetError>,
}

impl<R> HistoryWriter<'_, R> {
    fn push(&mut self, row: R) {
        if self.failed.is_some() {
            return;
        }
        self.batch.push(row);
        if self.batch.len() >= ROW_GROUP {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.writer.write(&self.batch) {
            self.failed = Some(e);
        }
        self.batch.clear();
    }

    fn finish(mut self) -> Result<Bytes, ParquetError> {
        if !self.batch.is_empty() {
            self.flush();
        }
        match self.failed {
            Some(e) => Err(e),
            None => Ok(self.writer.finish()?.into()),
        }
    }
}

/// One history file, its rows handed over by `read` one at a time (from a file of the
/// run, however large).
fn history_file<R>(
    entry: &IndexedRun,
    table: HistoryTable,
    columns: Table<R>,
    key: &str,
    read: impl FnOnce(&mut dyn FnMut(R)) -> Result<(), PublishError>,
) -> Result<Bytes, PublishError> {
    let metadata = metadata(entry, table);
    let metadata: Vec<(&str, &str)> = metadata.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let columns = stamped(entry, columns);
    let mut out = HistoryWriter {
        writer: columns.writer(key, Vec::with_capacity(64 * 1024), &metadata),
        batch: Vec::with_capacity(ROW_GROUP),
        failed: None,
    };
    read(&mut |row| out.push(row))?;
    Ok(out.finish()?)
}

/// The history files of one complete run, as (key, Parquet bytes): its `models.csv` and
/// its `leaderboard.csv` (an empty table when the scores stage was skipped), each read
/// row by row.
pub async fn snapshot_files(
    run: &RunStore,
    manifest: &Manifest,
) -> Result<Vec<(String, Bytes)>, PublishError> {
    let entry = IndexedRun::of(manifest);
    let key = |table: HistoryTable| {
        entry
            .history_key(table)
            .ok_or_else(|| PublishError::Manifest {
                run_id: entry.run_id.clone(),
                message: format!(
                    "snapshot time {:?} is not an RFC 3339 time",
                    entry.snapshot_at
                ),
            })
    };
    let models_file = run
        .open(MODELS_CSV)
        .await?
        .ok_or_else(|| PublishError::MissingInput {
            run_id: run.run_id().to_string(),
            file: MODELS_CSV,
            store: run.describe(),
        })?;
    let scores_file = run.open(LEADERBOARD_CSV).await?;
    let (models_csv, scores_csv) = (run.key(MODELS_CSV), run.key(LEADERBOARD_CSV));
    let models_key = key(HistoryTable::Models)?;
    let scores_key = key(HistoryTable::Scores)?;
    let keys = (models_key.clone(), scores_key.clone());
    let entry = entry.clone();
    let (models, scores) = tokio::task::spawn_blocking(move || {
        // The rows `prepare` set aside are in `quarantine.json`; history keeps the others.
        let models = history_file(
            &entry,
            HistoryTable::Models,
            models_table(),
            &keys.0,
            |push| {
                let reader = std::io::BufReader::new(models_file);
                each_models_row(reader, &models_csv, Stage::Publish, push)?;
                Ok(())
            },
        )?;
        let scores = history_file(
            &entry,
            HistoryTable::Scores,
            scores_table(),
            &keys.1,
            |push: &mut dyn FnMut(LeaderboardRecord)| {
                let Some(file) = scores_file else {
                    return Ok(());
                };
                let mut read = 0u64;
                let bad = formats::csv::each_row(std::io::BufReader::new(file), |row, _| {
                    read += 1;
                    push(row)
                });
                match bad.first() {
                    Some(first) if read == 0 => Err(CsvReadError {
                        key: scores_csv.clone(),
                        row: first.line,
                        message: first.message.clone(),
                    }
                    .into()),
                    _ => Ok(()),
                }
            },
        )?;
        Ok::<_, PublishError>((models, scores))
    })
    .await
    .map_err(|e| PublishError::Stopped {
        run_id: run.run_id().to_string(),
        message: e.to_string(),
    })??;
    Ok(vec![(models_key, models), (scores_key, scores)])
}

/// What publishing a run's snapshot did.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// History files this call created.
    pub written: Vec<String>,
    /// History files an earlier attempt of this run had already created.
    pub already: Vec<String>,
    /// The index, with this run in it.
    pub index: RunIndex,
}

/// Write a complete run's history files, each with a conditional create (so a rerun of
/// the run id, or two writers at once, never make a second or a different one), then
/// add the run to the index.
pub async fn publish_snapshot(
    run: &RunStore,
    manifest: &Manifest,
) -> Result<Published, PublishError> {
    let mut written = Vec::new();
    let mut already = Vec::new();
    for (key, body) in snapshot_files(run, manifest).await? {
        match run.store().put(&key, body, PutMode::Create).await {
            Ok(_) => written.push(key),
            Err(StoreError::AlreadyExists { .. }) => already.push(key),
            Err(e) => return Err(e.into()),
        }
    }
    let entry = IndexedRun::of(manifest);
    let index = update_index(run.store().as_ref(), false, |i| i.insert(entry.clone())).await?;
    tracing::info!(
        written = written.len(),
        already = already.len(),
        runs_in_history = index.runs.len(),
        "history snapshot published"
    );
    Ok(Published {
        written,
        already,
        index,
    })
}

/// What `hfharvest history rebuild` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rebuilt {
    /// Complete runs found in `runs/`.
    pub complete_runs: u64,
    /// History files created.
    pub written: u64,
    /// History files that were there already.
    pub already: u64,
    /// Run folders left out: not complete, or their files unreadable.
    pub skipped: u64,
    /// Runs in the index afterwards.
    pub indexed: u64,
}

/// The index entry a history file's metadata describes (for a run whose folder is gone).
fn entry_of_file(key: &str, body: Bytes) -> Option<IndexedRun> {
    let table = formats::parquet::read(key, body, &["run_id"]).ok()?;
    let field = |k: &str| table.metadata(k).map(str::to_owned);
    Some(IndexedRun {
        run_id: field("hfharvest.run_id")?,
        started_at: field("hfharvest.started_at")?,
        snapshot_at: field("hfharvest.snapshot_at")?,
        completed_at: field("hfharvest.completed_at").filter(|s| !s.is_empty()),
    })
}

/// Backfill the history from the store: every complete run in `runs/` gets its files
/// (those already there are kept as they are) and its index entry; a history file whose
/// run folder is gone keeps its entry, read back from the file. Never deletes anything.
pub async fn rebuild_history(store: std::sync::Arc<dyn Store>) -> Result<Rebuilt, PublishError> {
    let mut done = Rebuilt::default();
    let mut entries = Vec::new();
    for folder in store.list_folders(RUNS_PREFIX).await? {
        let name = folder.trim_start_matches(RUNS_PREFIX).trim_end_matches('/');
        let Ok(run_id) = RunId::parse(name) else {
            continue;
        };
        let run = RunStore::new(store.clone(), RunLayout::new(run_id));
        let manifest = match run.manifest().await {
            Ok(Some(m)) if m.status == RunStatus::Complete => m,
            Ok(_) => {
                done.skipped += 1;
                continue;
            }
            Err(StoreError::Corrupt { location, source }) => {
                tracing::warn!(%location, message = %source, "an unreadable manifest; run skipped");
                done.skipped += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        done.complete_runs += 1;
        let files = match snapshot_files(&run, &manifest).await {
            Ok(files) => files,
            Err(PublishError::Store(e)) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(run = %run.run_id(), error = %e, "run skipped");
                done.skipped += 1;
                continue;
            }
        };
        for (key, body) in files {
            match store.put(&key, body, PutMode::Create).await {
                Ok(_) => done.written += 1,
                Err(StoreError::AlreadyExists { .. }) => done.already += 1,
                Err(e) => return Err(e.into()),
            }
        }
        entries.push(IndexedRun::of(&manifest));
    }
    // History files of runs whose folders retention removed, and which an index lost.
    let known = crate::store::read_index(store.as_ref())
        .await
        .unwrap_or_default();
    for key in store.list(&HistoryTable::Models.prefix()).await? {
        let Some((_, run_id)) = HistoryTable::Models.parse_key(&key) else {
            continue;
        };
        let listed = |id: &str| known.get(id).is_some() || entries.iter().any(|e| e.run_id == id);
        if listed(run_id.as_str()) {
            continue;
        }
        if let Some(body) = store.get(&key).await? {
            match entry_of_file(&key, body) {
                Some(entry) => entries.push(entry),
                None => tracing::warn!(%key, "a history file without our metadata; not indexed"),
            }
        }
    }
    let index = update_index(store.as_ref(), true, |index| {
        // Every entry is inserted: no short-circuit.
        let mut changed = false;
        for entry in &entries {
            changed |= index.insert(entry.clone());
        }
        changed
    })
    .await?;
    done.indexed = index.runs.len() as u64;
    Ok(done)
}
