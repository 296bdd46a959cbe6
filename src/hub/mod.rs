//! Stage 1: metadata for the top-N most-downloaded models from the Hugging Face Hub API.

mod client;
mod columns;
pub mod params;
mod record;
pub mod stage;

pub use client::{
    list_items, parse_list_page, HarvestStats, Harvested, HubClient, ListPageError, NotAList,
    EXPANDED_FIELDS,
};
pub use columns::models_table;
pub use record::{hub_item_id, ItemFault, ModelRecord, ParametersSource};
pub use stage::{check_read_back, collect_models, read_models_csv, ModelsOutcome};

use serde::{Deserialize, Serialize};

use crate::csvout::CsvReadError;
use crate::http::HttpError;
use crate::run::{InvalidSetting, Secret};

/// The default of `hub.max_invalid_ratio`.
const MAX_INVALID_RATIO: f64 = 0.05;
use crate::store::StoreError;

/// The Hub token: `HF_TOKEN` (or the legacy `HUGGING_FACE_HUB_TOKEN`), which a `.env`
/// file in the working folder may also set.
pub fn token_from_env() -> Option<Secret> {
    ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]
        .iter()
        .find_map(|k| std::env::var(k).ok().and_then(Secret::new))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HubSettings {
    /// Hub base URL; `HF_ENDPOINT` overrides it, as in huggingface_hub.
    pub endpoint: String,
    /// How many models to collect (top-N by `sort`).
    pub limit: u64,
    /// Models per list request; the Hub serves at most 1000.
    pub page_size: u64,
    pub sort: String,
    pub pipeline_tag: Option<String>,
    pub library: Option<String>,
    pub author: Option<String>,
    pub search: Option<String>,
    /// When to call `/api/models/{id}`: `auto` (only for list items missing fields),
    /// `always` (the original tool's pattern) or `never`.
    pub detail: DetailMode,
    /// Per-model detail requests in flight at once.
    pub detail_concurrency: usize,
    /// The share of list items that may be set aside as invalid (not a model id) before
    /// the listing is taken for broken and the stage fails: 0.05 lets 5 bad items in
    /// every 100 pass. Each one is listed in `quarantine.json` and `quality.json`.
    pub max_invalid_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetailMode {
    Auto,
    Always,
    Never,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            endpoint: "https://huggingface.co".into(),
            limit: 100,
            page_size: 1000,
            sort: "downloads".into(),
            pipeline_tag: Some("text-generation".into()),
            library: None,
            author: None,
            search: None,
            detail: DetailMode::Auto,
            detail_concurrency: 8,
            max_invalid_ratio: MAX_INVALID_RATIO,
        }
    }
}

impl HubSettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let bad = |key: &str, why: &str| InvalidSetting::err(format!("hub.{key}"), why);
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return bad("endpoint", "must be an http(s) URL"),
        }
        if self.limit == 0 {
            return bad("limit", "must be >= 1");
        }
        if !(1..=1000).contains(&self.page_size) {
            return bad("page_size", "must be between 1 and 1000");
        }
        if !(1..=256).contains(&self.detail_concurrency) {
            return bad("detail_concurrency", "must be between 1 and 256");
        }
        if !(0.0..=1.0).contains(&self.max_invalid_ratio) {
            return bad("max_invalid_ratio", "must be a number from 0 to 1");
        }
        const SORTS: [&str; 5] = [
            "downloads",
            "likes",
            "trendingScore",
            "createdAt",
            "lastModified",
        ];
        if !SORTS.contains(&self.sort.as_str()) {
            return bad(
                "sort",
                "must be one of downloads, likes, trendingScore, createdAt, lastModified",
            );
        }
        Ok(())
    }
}

/// How the models stage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    #[error("Hub: {0}")]
    Http(#[from] HttpError),
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

impl HubError {
    /// Whether a rerun may go better (the Hub or the store was down, or we were stopped).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::Store(e) => e.is_retryable(),
            Self::Write { .. } | Self::Interrupted => true,
            Self::BadListing { .. }
            | Self::Resume(_)
            | Self::TooManyInvalid { .. }
            | Self::NoModels { .. } => false,
        }
    }
}
