//! hfharvest: a nightly dataset of the language models people use on Hugging Face.
//!
//! Data flows through one module per stage: [`hub`] (metadata) → [`leaderboard`]
//! (scores, checkpointed per model) → [`prepare`] (the joined dataset) → [`report`]
//! (HTML and charts), with [`store`] for where files go and [`pipeline`] for the run.

pub mod cli;
pub mod config;
pub mod csvout;
pub mod error;
pub mod http;
pub mod hub;
pub mod leaderboard;
pub mod pipeline;
pub mod prepare;
pub mod progress;
pub mod report;
pub mod store;
pub mod telemetry;
pub mod types;

pub use error::{Error, Result};
pub use types::{ModelId, RunId};

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    /// `../shared/realdata`, or `HFHARVEST_REALDATA`.
    pub fn realdata_dir() -> PathBuf {
        std::env::var_os("HFHARVEST_REALDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata"))
    }
}
