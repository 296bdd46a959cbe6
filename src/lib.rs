//! hfharvest: a nightly dataset of the language models people use on Hugging Face.
//!
//! Layers, bottom to top; a module uses only those below it, and no stage uses another
//! (`tests/layering.rs` checks, and `ARCHITECTURE.md` explains):
//! - [`run`] and [`formats`]: the run's own types (ids, layout, manifest, [`run::Stage`])
//!   and the file formats of its tables;
//! - [`telemetry`], [`progress`]; then [`http`], [`store`];
//! - [`hub`]: the Hugging Face Hub API;
//! - [`records`] (every artifact's rows, read and written) and [`lookup`] (the engine the
//!   score stages share: sources, checkpoints, ratios);
//! - [`stage`]: the contract every stage implements;
//! - the stages, in data-flow order: [`models`] → [`scores`] → [`evals`] → [`prepare`] →
//!   [`report`] → [`publish`] (the history table, the run index, retention);
//! - [`config`] and [`error`]; [`pipeline`], which runs the stages; [`cli`], the edge.

pub mod cli;
pub mod config;
pub mod error;
pub mod evals;
pub mod formats;
pub mod http;
pub mod hub;
pub mod lookup;
pub mod models;
pub mod pipeline;
pub mod prepare;
pub mod progress;
pub mod publish;
pub mod records;
pub mod report;
pub mod run;
pub mod scores;
pub mod stage;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};
pub use run::{ModelId, RunId};

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
