//! History: the runs the deltas compare with, and the downloads of past nights, read
//! from `runs/index.json` and the history table, never by listing `runs/` (whose old
//! folders retention may have removed, and whose checkpoints are many).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::ModelRecord;
use crate::formats;
use crate::run::{snapshot_date, HistoryTable, IndexedRun, RunId, RunIndex};
use crate::store::{read_index, Store, StoreError};

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
        Self::from_counts(
            run_id,
            models.iter().map(|m| {
                (
                    m.model_id.as_str(),
                    PreviousCounts {
                        downloads: m.downloads,
                        likes: m.likes,
                    },
                )
            }),
        )
    }

    fn from_counts<'a>(
        run_id: &str,
        counts: impl Iterator<Item = (&'a str, PreviousCounts)>,
    ) -> Self {
        let mut by_id = HashMap::new();
        for (id, c) in counts {
            // The first row wins, as in the join's duplicate rule.
            by_id.entry(id.trim().to_lowercase()).or_insert(c);
        }
        Self {
            run_id: run_id.to_owned(),
            models: by_id,
        }
    }
}

/// The runs the deltas compare with: the previous complete run (`_1d`), and the runs
/// 7 and 30 nights before (`_7d`, `_30d`), each `None` when there is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Baselines {
    pub day: Option<PreviousRun>,
    pub week: Option<PreviousRun>,
    pub month: Option<PreviousRun>,
}

/// The index, or an empty one (with a warning) when it does not parse: history is an
/// extra, and must not fail today's run.
async fn index_or_empty(store: &dyn Store) -> Result<RunIndex, StoreError> {
    match read_index(store).await {
        Ok(index) => Ok(index),
        Err(StoreError::Corrupt { location, source }) => {
            tracing::warn!(%location, message = %source, "the run index is unreadable; no deltas or trends (`hfharvest history rebuild` makes it anew)");
            Ok(RunIndex::default())
        }
        Err(e) => Err(e),
    }
}

/// Read one published run's `models` history file: the columns named, or `None` (with
/// a warning) when it is missing or unreadable.
async fn read_night(
    store: &dyn Store,
    run: &IndexedRun,
    columns: &[&str],
) -> Result<Option<formats::parquet::ReadTable>, StoreError> {
    let Some(key) = run.history_key(HistoryTable::Models) else {
        tracing::warn!(run = %run.run_id, "a run in the index has no usable snapshot time; skipped");
        return Ok(None);
    };
    let Some(body) = store.get(&key).await? else {
        tracing::warn!(%key, "a run in the index has no history file; skipped");
        return Ok(None);
    };
    match formats::parquet::read(&key, body, columns) {
        Ok(table) => Ok(Some(table)),
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable history file; skipped");
            Ok(None)
        }
    }
}

/// The counts of one published run.
async fn counts_of(store: &dyn Store, run: &IndexedRun) -> Result<Option<PreviousRun>, StoreError> {
    let Some(table) = read_night(store, run, &["model_id", "downloads", "likes"]).await? else {
        return Ok(None);
    };
    let columns = (|| {
        Ok::<_, formats::parquet::ParquetError>((
            table.texts("model_id")?,
            table.ints("downloads")?,
            table.ints("likes")?,
        ))
    })();
    let (ids, downloads, likes) = match columns {
        Ok(columns) => columns,
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable history file; skipped");
            return Ok(None);
        }
    };
    let count = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    Ok(Some(PreviousRun::from_counts(
        &run.run_id,
        ids.iter()
            .zip(downloads.into_iter().zip(likes))
            .filter_map(|(id, (d, l))| {
                Some((
                    id.as_deref()?,
                    PreviousCounts {
                        downloads: count(d),
                        likes: count(l),
                    },
                ))
            }),
    )))
}

/// The runs this one's deltas compare with, from the index and their history files.
/// `started_at` is this run's start (for the previous run), `as_of` its snapshot time.
/// Runs after this one never count, so a later `prepare` gives the same bytes.
pub async fn baselines(
    store: &dyn Store,
    current: &RunId,
    started_at: Option<&str>,
    as_of: &str,
) -> Result<Baselines, StoreError> {
    let index = index_or_empty(store).await?;
    if index.runs.is_empty() {
        tracing::info!("no published run in runs/index.json yet; no deltas");
    }
    let date = snapshot_date(as_of);
    let day = index.previous(current.as_str(), started_at);
    let week = date.and_then(|d| index.nights_before(current.as_str(), d, 7));
    let month = date.and_then(|d| index.nights_before(current.as_str(), d, 30));
    let mut loaded: HashMap<&str, Option<PreviousRun>> = HashMap::new();
    for run in [day, week, month].into_iter().flatten() {
        if !loaded.contains_key(run.run_id.as_str()) {
            loaded.insert(&run.run_id, counts_of(store, run).await?);
        }
    }
    let take = |run: Option<&IndexedRun>| run.and_then(|r| loaded.get(r.run_id.as_str())?.clone());
    Ok(Baselines {
        day: take(day),
        week: take(week),
        month: take(month),
    })
}

/// One past night of the history: its run, its date and each model's downloads, by
/// normalised model id.
#[derive(Debug, Clone, PartialEq)]
pub struct Night {
    pub run_id: String,
    pub date: NaiveDate,
    /// The run's snapshot time.
    pub at: chrono::DateTime<chrono::Utc>,
    pub downloads: HashMap<String, u64>,
}

/// The nights of the last `nights` days up to this run's snapshot (`as_of`), other than
/// this run and any after it, oldest first: one per night, the last run of each, with
/// the downloads of the models `followed` (normalised ids) only, so the nights held stay
/// small at any N.
pub async fn past_nights(
    store: &dyn Store,
    current: &RunId,
    as_of: &str,
    nights: u32,
    followed: &[String],
) -> Result<Vec<Night>, StoreError> {
    let Some(date) = snapshot_date(as_of) else {
        return Ok(Vec::new());
    };
    let index = index_or_empty(store).await?;
    let mut out = Vec::new();
    for run in index.nights(current.as_str(), date, nights, as_of) {
        let Some(counts) = counts_of(store, run).await? else {
            continue;
        };
        let Some(at) = chrono::DateTime::parse_from_rfc3339(&run.snapshot_at)
            .ok()
            .map(|t| t.to_utc())
        else {
            continue;
        };
        out.push(Night {
            run_id: run.run_id.clone(),
            date: run.date().unwrap_or(date),
            at,
            downloads: followed
                .iter()
                .filter_map(|id| Some((id.clone(), counts.models.get(id)?.downloads?)))
                .collect(),
        });
    }
    Ok(out)
}
