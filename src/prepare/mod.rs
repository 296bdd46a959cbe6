//! Stage 3: clean, normalise and join `models.csv` and `leaderboard.csv` into `dataset.csv`.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    #[error("prepare: {0}")]
    Input(String),
}
