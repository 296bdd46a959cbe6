//! Stage 4: a self-contained `report.html` with charts over `dataset.csv`.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("report: {0}")]
    Render(String),
}
