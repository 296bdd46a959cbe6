//! Where the history table lives, and `runs/index.json`, the small list of published
//! runs that readers consult instead of listing `runs/`:
//!
//! ```text
//! history/models/date=YYYY-MM-DD/<run-id>.parquet   one file per complete run, Hive-
//! history/scores/date=YYYY-MM-DD/<run-id>.parquet   partitioned by its snapshot's UTC date
//! runs/index.json                                   every run whose history is written
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Manifest, RunId};

/// Every history file sits under this prefix.
pub const HISTORY_PREFIX: &str = "history/";

/// The index of published runs, beside their folders.
pub const RUNS_INDEX: &str = "runs/index.json";

/// The history's tables: one Parquet file per run in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryTable {
    /// The run's `models.csv`: one row per model, as the Hub listed it that night.
    Models,
    /// The run's `leaderboard.csv`: one row per model and leaderboard evaluation.
    Scores,
}

impl HistoryTable {
    pub const ALL: [HistoryTable; 2] = [Self::Models, Self::Scores];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Models => "models",
            Self::Scores => "scores",
        }
    }

    /// `history/models/`
    pub fn prefix(self) -> String {
        format!("{HISTORY_PREFIX}{}/", self.as_str())
    }

    /// `history/models/date=2026-01-05/<run-id>.parquet`
    pub fn key(self, date: NaiveDate, run: &RunId) -> String {
        format!(
            "{}date={}/{run}.parquet",
            self.prefix(),
            date.format("%Y-%m-%d")
        )
    }

    /// The date and run id a key of this table names; `None` for any other key.
    pub fn parse_key(self, key: &str) -> Option<(NaiveDate, RunId)> {
        let rest = key.strip_prefix(&self.prefix())?.strip_prefix("date=")?;
        let (date, file) = rest.split_once('/')?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        let run = RunId::parse(file.strip_suffix(".parquet")?).ok()?;
        Some((date, run))
    }
}

/// The UTC date of an RFC 3339 time: the night a snapshot belongs to.
pub fn snapshot_date(at: &str) -> Option<NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.to_utc().date_naive())
}

/// One published run in `runs/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedRun {
    pub run_id: String,
    pub started_at: String,
    /// When the Hub was read (the manifest's `snapshot_at`, else its start): the history
    /// files' partition date and the deltas' clock.
    pub snapshot_at: String,
    pub completed_at: Option<String>,
}

impl IndexedRun {
    pub fn of(manifest: &Manifest) -> Self {
        Self {
            run_id: manifest.run_id.clone(),
            started_at: manifest.started_at.clone(),
            snapshot_at: manifest.as_of().to_owned(),
            completed_at: manifest.finished_at.clone(),
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        snapshot_date(&self.snapshot_at)
    }

    /// This run's file in a history table.
    pub fn history_key(&self, table: HistoryTable) -> Option<String> {
        Some(table.key(self.date()?, &RunId::parse(&self.run_id).ok()?))
    }

    fn snapshot(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        timestamp(&self.snapshot_at)
    }
}

fn timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.to_utc())
}

/// `runs/index.json`: every run whose history files are written, oldest snapshot
/// first. Small (a line per night), so a reader never lists `runs/`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunIndex {
    pub runs: Vec<IndexedRun>,
}

impl RunIndex {
    pub fn get(&self, run_id: &str) -> Option<&IndexedRun> {
        self.runs.iter().find(|r| r.run_id == run_id)
    }

    /// Add a run, keeping snapshot order; `false` when it is already there.
    pub fn insert(&mut self, run: IndexedRun) -> bool {
        if self.get(&run.run_id).is_some() {
            return false;
        }
        self.runs.push(run);
        self.runs.sort_by(|a, b| {
            a.snapshot()
                .cmp(&b.snapshot())
                .then_with(|| a.run_id.cmp(&b.run_id))
        });
        true
    }

    /// The run the day-over-day deltas compare with: of the others, the one that
    /// started last before `current_started` (any, when that is unknown). Run ids are
    /// not compared, because a user may name runs freely.
    pub fn previous(&self, current: &str, current_started: Option<&str>) -> Option<&IndexedRun> {
        let started = current_started.and_then(timestamp);
        self.runs
            .iter()
            .filter(|r| r.run_id != current)
            .filter(|r| match (current_started, started) {
                (None, _) => true,
                (Some(_), Some(limit)) => timestamp(&r.started_at).is_some_and(|t| t < limit),
                (Some(_), None) => false,
            })
            .max_by(|a, b| {
                timestamp(&a.started_at)
                    .cmp(&timestamp(&b.started_at))
                    .then_with(|| a.run_id.cmp(&b.run_id))
            })
    }

    /// The run a `days`-night delta compares with: the latest whose snapshot date is at
    /// least `days` before `date`. When that night is missing, the one before it, as the
    /// one-day delta falls back to the run before a missing night.
    pub fn nights_before(&self, current: &str, date: NaiveDate, days: u32) -> Option<&IndexedRun> {
        let limit = date - chrono::Days::new(u64::from(days));
        self.runs
            .iter()
            .filter(|r| r.run_id != current && r.date().is_some_and(|d| d <= limit))
            .max_by(|a, b| {
                a.snapshot()
                    .cmp(&b.snapshot())
                    .then_with(|| a.run_id.cmp(&b.run_id))
            })
    }

    /// The runs of the nights `(date - days, date]`, other than `current`, whose
    /// snapshot came before `before`: one per night (that night's last), oldest first.
    pub fn nights(
        &self,
        current: &str,
        date: NaiveDate,
        days: u32,
        before: &str,
    ) -> Vec<&IndexedRun> {
        let first = date - chrono::Days::new(u64::from(days.saturating_sub(1)));
        let before = timestamp(before);
        let mut by_night: std::collections::BTreeMap<NaiveDate, &IndexedRun> =
            std::collections::BTreeMap::new();
        for run in &self.runs {
            let Some(night) = run.date().filter(|d| (first..=date).contains(d)) else {
                continue;
            };
            if run.run_id == current
                || before.is_some_and(|b| run.snapshot().is_none_or(|s| s >= b))
            {
                continue;
            }
            // Runs are in snapshot order, so the last one of a night wins.
            by_night.insert(night, run);
        }
        by_night.into_values().collect()
    }

    /// The run with the newest snapshot.
    pub fn newest(&self) -> Option<&IndexedRun> {
        self.runs.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, at: &str) -> IndexedRun {
        IndexedRun {
            run_id: id.into(),
            started_at: at.into(),
            snapshot_at: at.into(),
            completed_at: None,
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn keys_are_hive_partitions_that_parse_back() {
        let id = RunId::parse("20260105T023000Z").unwrap();
        let key = HistoryTable::Models.key(date("2026-01-05"), &id);
        assert_eq!(
            key,
            "history/models/date=2026-01-05/20260105T023000Z.parquet"
        );
        assert_eq!(
            HistoryTable::Models.parse_key(&key),
            Some((date("2026-01-05"), id))
        );
        assert_eq!(HistoryTable::Scores.parse_key(&key), None);
        assert_eq!(
            HistoryTable::Models.parse_key("history/models/x.parquet"),
            None
        );
        assert_eq!(
            snapshot_date("2026-01-05T23:30:00-02:00"),
            Some(date("2026-01-06")),
            "the UTC date"
        );
    }

    #[test]
    fn index_keeps_snapshot_order_and_each_run_once() {
        let mut index = RunIndex::default();
        assert!(index.insert(run("b", "2026-01-02T02:30:00Z")));
        assert!(index.insert(run("a", "2026-01-01T02:30:00Z")));
        assert!(!index.insert(run("b", "2026-01-02T02:30:00Z")));
        let ids: Vec<&str> = index.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(index.newest().unwrap().run_id, "b");
    }

    #[test]
    fn previous_is_the_latest_started_before_this_run() {
        let mut index = RunIndex::default();
        for (id, at) in [
            ("a", "2026-01-01T00:00:00Z"),
            ("b", "2026-01-02T00:00:00Z"),
            ("later", "2026-01-05T00:00:00Z"),
        ] {
            index.insert(run(id, at));
        }
        let pick = |started| index.previous("today", started).map(|r| r.run_id.as_str());
        assert_eq!(pick(Some("2026-01-04T00:00:00Z")), Some("b"));
        assert_eq!(pick(None), Some("later"));
        assert_eq!(pick(Some("2025-12-01T00:00:00Z")), None);
    }

    #[test]
    fn a_missing_night_falls_back_to_the_one_before() {
        let mut index = RunIndex::default();
        for day in [1, 2, 3, 5, 8, 9, 10] {
            index.insert(run(
                &format!("d{day}"),
                &format!("2026-01-{day:02}T02:30:00Z"),
            ));
        }
        let on = |days| {
            index
                .nights_before("d10", date("2026-01-10"), days)
                .map(|r| r.run_id.as_str())
        };
        assert_eq!(on(7), Some("d3"));
        assert_eq!(on(6), Some("d3"), "night 4 is missing: the one before");
        assert_eq!(on(1), Some("d9"));
        assert_eq!(on(30), None);
        let nights: Vec<&str> = index
            .nights("d10", date("2026-01-10"), 7, "2026-01-10T02:30:00Z")
            .iter()
            .map(|r| r.run_id.as_str())
            .collect();
        assert_eq!(nights, ["d5", "d8", "d9"], "nights 4..=10, before this run");
    }
}
