//! Records from outside that failed their check where they entered the run (a Hub list
//! item, a leaderboard row, a row of one of our CSVs read back), set aside with where
//! they came from and why, so that one bad record never costs the others.
//!
//! The stages that meet them keep them in the run folder's `quarantine.json`
//! ([`QuarantineLog`]), so a resumed run keeps them; the prepare stage copies them
//! into `quality.json`.

use serde::{Deserialize, Serialize};

use super::{InvalidModelId, Stage};

/// Longest id kept in a record: enough for any id the checks refuse for its length,
/// short enough that a hostile one cannot bloat the file.
const MAX_ID_CHARS: usize = 512;

/// What kind of record was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An item of a Hub `/api/models` list page (or a model's `/api/models/{id}` JSON).
    HubItem,
    /// A leaderboard row: a formatted-API item, a datasets-server `/rows` item or a
    /// row of the page's table.
    LeaderboardRow,
    /// A row of a CSV of ours, read back.
    CsvRow,
}

/// Why a record from outside names no model: the one fault of a Hub list item and of a
/// leaderboard row, each said in its record's words (`the item`, `id`; `the row`, `the
/// model name`), the words `quarantine.json` has always used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFault {
    /// [`RecordKind::HubItem`] or [`RecordKind::LeaderboardRow`].
    pub kind: RecordKind,
    pub problem: Problem,
}

/// What is wrong with a record's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The record is this kind of JSON value, not an object.
    NotAnObject(&'static str),
    MissingId,
    /// The id is this kind of JSON value (its text kept), not a string.
    NonStringId {
        kind: &'static str,
        id: String,
    },
    /// The id, as sent, is not a model id.
    InvalidId {
        id: String,
        source: InvalidModelId,
    },
}

impl RecordFault {
    pub fn new(kind: RecordKind, problem: Problem) -> Self {
        Self { kind, problem }
    }

    pub fn check(&self) -> Check {
        match self.problem {
            Problem::NotAnObject(_) => Check::NotAnObject,
            Problem::MissingId => Check::MissingId,
            Problem::NonStringId { .. } => Check::NonStringId,
            Problem::InvalidId { .. } => Check::InvalidId,
        }
    }

    /// The id as the record gave it, if it gave one (a number shows as its JSON text).
    pub fn id(&self) -> Option<&str> {
        match &self.problem {
            Problem::NonStringId { id, .. } | Problem::InvalidId { id, .. } => Some(id),
            Problem::NotAnObject(_) | Problem::MissingId => None,
        }
    }

    /// The quarantine record for this record of `source`, at `position` (from 1).
    pub fn quarantined(&self, stage: Stage, source: &str, position: u64) -> Quarantined {
        Quarantined::new(
            stage,
            self.kind,
            source,
            position,
            self.id(),
            self.check(),
            self.to_string(),
        )
    }
}

impl std::fmt::Display for RecordFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let row = self.kind == RecordKind::LeaderboardRow;
        let (record, id) = if row {
            ("row", "the model name")
        } else {
            ("item", "`id`")
        };
        match &self.problem {
            Problem::NotAnObject(kind) => write!(f, "the {record} is {kind}, not a JSON object"),
            Problem::MissingId if row => write!(f, "the row has no model name"),
            Problem::MissingId => write!(f, "the item has no `id`"),
            Problem::NonStringId { kind, .. } => write!(f, "{id} is {kind}, not a string"),
            Problem::InvalidId { source, .. } if row => {
                write!(f, "the model name is not a model id: {}", source.reason)
            }
            Problem::InvalidId { source, .. } => f.write_str(source.reason),
        }
    }
}

impl std::error::Error for RecordFault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::InvalidId { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The check a record failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The item is not a JSON object.
    NotAnObject,
    /// No id (a Hub item's `id`, a leaderboard row's model name).
    MissingId,
    /// The id is there but is not a string.
    NonStringId,
    /// The id is a string that is not a model id (see `ModelId::parse`).
    InvalidId,
    /// A CSV row that does not read as the file's record.
    Unreadable,
}

/// One record set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// The stage that met it.
    pub stage: Stage,
    pub kind: RecordKind,
    /// Where it came from: the URL it was served at (credentials stripped) or the key
    /// of the file it was read from.
    pub source: String,
    /// Its place there, from 1: the item in the page's array, the row of the table, or
    /// the line of the CSV (the header being line 1).
    pub position: u64,
    /// Its id as far as it could be read (a number shows as its JSON text), cut at
    /// 512 characters; `None` when there was none.
    pub id: Option<String>,
    pub check: Check,
    /// What exactly was wrong, for a person.
    pub detail: String,
}

impl Quarantined {
    pub fn new(
        stage: Stage,
        kind: RecordKind,
        source: impl Into<String>,
        position: u64,
        id: Option<&str>,
        check: Check,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            stage,
            kind,
            source: source.into(),
            position,
            id: id.map(|id| id.chars().take(MAX_ID_CHARS).collect()),
            check,
            detail: detail.into(),
        }
    }
}

/// Records that passed their checks, and those set aside.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<T> {
    pub rows: Vec<T>,
    pub quarantined: Vec<Quarantined>,
}

/// `runs/<id>/quarantine.json`: every record the run's stages set aside.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineLog {
    pub records: Vec<Quarantined>,
}

impl QuarantineLog {
    /// Replace what `stage` set aside (a stage that starts over, such as a fresh Hub
    /// listing, makes its earlier attempt's records stale).
    pub fn replace_stage(&mut self, stage: Stage, records: Vec<Quarantined>) {
        self.records.retain(|r| r.stage != stage);
        self.merge(records);
    }

    /// Add records, leaving out any already there (a resumed stage meets them again).
    pub fn merge(&mut self, records: Vec<Quarantined>) {
        for record in records {
            if !self.records.contains(&record) {
                self.records.push(record);
            }
        }
    }

    pub fn count(&self, stage: Stage) -> u64 {
        self.records.iter().filter(|r| r.stage == stage).count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(stage: Stage, position: u64) -> Quarantined {
        Quarantined::new(
            stage,
            RecordKind::HubItem,
            "http://hub/api/models",
            position,
            Some("a/b/c"),
            Check::InvalidId,
            "has more than one '/'",
        )
    }

    #[test]
    fn merge_dedupes_and_replace_is_per_stage() {
        let mut log = QuarantineLog::default();
        log.merge(vec![record(Stage::Models, 1), record(Stage::Models, 1)]);
        log.merge(vec![record(Stage::Scores, 1)]);
        assert_eq!(log.records.len(), 2);
        log.replace_stage(Stage::Models, vec![record(Stage::Models, 2)]);
        assert_eq!(log.count(Stage::Models), 1);
        assert_eq!(log.count(Stage::Scores), 1);
        assert_eq!(log.records.last().unwrap().position, 2);
    }

    #[test]
    fn ids_are_cut_and_serialised_in_snake_case() {
        let long = "x".repeat(2000);
        let q = Quarantined::new(
            Stage::Models,
            RecordKind::CsvRow,
            "k",
            3,
            Some(&long),
            Check::Unreadable,
            "",
        );
        assert_eq!(q.id.as_ref().unwrap().chars().count(), 512);
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["kind"], "csv_row");
        assert_eq!(json["check"], "unreadable");
        assert_eq!(json["stage"], "models");
    }

    #[test]
    fn ratio() {}
}
