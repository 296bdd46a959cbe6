//! The models stage: metadata for the top-N most-downloaded models from the Hugging
//! Face Hub API, into `models.csv` and `models.jsonl`.

mod harvest;
pub mod params;
mod record;
pub mod stage;

pub use harvest::{harvest, HarvestStats, Harvested};
pub use record::hub_item_id;
pub use stage::{ModelsOutcome, ModelsStage};

use crate::formats::csv::CsvReadError;
use crate::http::HttpError;
use crate::hub::HubUnready;
use crate::store::StoreError;

/// How the models stage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelsError {
    #[error("Hub: {0}")]
    Http(#[from] HttpError),
    #[error(transparent)]
    Unready(#[from] HubUnready),
    #[error("Hub listing {url}: {reason}")]
    BadListing { url: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing {file}: {source}")]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// This run's `models.csv` from an earlier attempt does not read back.
    #[error("reading the models already collected: {0}")]
    Resume(#[from] CsvReadError),
    /// More list items were invalid than `hub.max_invalid_ratio` allows.
    #[error("{quarantined} of the {seen} Hub list items read were not models, more than hub.max_invalid_ratio ({max_ratio}) allows; they are listed in {file}")]
    TooManyInvalid {
        quarantined: u64,
        seen: u64,
        max_ratio: f64,
        file: String,
    },
    /// The listing gave no model at all.
    #[error("the Hub listing {url} gave no model ({quarantined} item(s) set aside as invalid)")]
    NoModels { url: String, quarantined: u64 },
    #[error("the models stage was interrupted")]
    Interrupted,
}
