//! The report's rows: of each row of `dataset.csv`, only what the charts and the table
//! show, read row by row, so the report of the whole catalogue holds a couple of
//! hundred bytes a model rather than the dataset's rows and the file they came from.

use crate::records::dataset::{
    JoinStatus, LicenseFamily, Relation, ScoreProvenance, Scores, SizeClass,
};
use crate::records::DatasetRow;

/// One model, as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub rank: u64,
    pub model_id: Box<str>,
    /// The owner part of the id (the organisation or user).
    pub org: Box<str>,
    pub license: Box<str>,
    pub license_family: LicenseFamily,
    pub parameters_b: Option<f64>,
    pub size_class: Option<SizeClass>,
    pub relation: Relation,
    pub join_status: JoinStatus,
    pub score_source: ScoreProvenance,
    pub scores: Scores,
    pub downloads: Option<u64>,
    pub likes: Option<u64>,
    pub downloads_delta_1d: Option<i64>,
    pub downloads_delta_7d: Option<i64>,
    pub downloads_delta_30d: Option<i64>,
    pub age_days: Option<i64>,
}

impl ReportRow {
    /// The score of one benchmark column (`average`, `ifeval`, …).
    pub fn benchmark(&self, column: &str) -> Option<f64> {
        self.scores
            .named()
            .into_iter()
            .find_map(|(name, value)| (name == column).then_some(value).flatten())
    }
}

impl From<DatasetRow> for ReportRow {
    fn from(row: DatasetRow) -> Self {
        Self {
            rank: row.rank,
            scores: row.scores(),
            model_id: row.model_id.into(),
            org: row.org.into(),
            license: row.license.into(),
            license_family: row.license_family,
            parameters_b: row.parameters_b,
            size_class: row.size_class,
            relation: row.relation,
            join_status: row.join_status,
            score_source: row.score_source,
            downloads: row.downloads,
            likes: row.likes,
            downloads_delta_1d: row.downloads_delta_1d,
            downloads_delta_7d: row.downloads_delta_7d,
            downloads_delta_30d: row.downloads_delta_30d,
            age_days: row.age_days,
        }
    }
}

impl From<&DatasetRow> for ReportRow {
    fn from(row: &DatasetRow) -> Self {
        row.clone().into()
    }
}
