//! The Hugging Face Hub API, as the stages that read it need it: its settings (the
//! `[hub]` section), the token, and [`HubClient`] with its preflight check.

mod client;

pub use client::{
    json_kind, list_items, merge_missing, parse_list_page, HubClient, ListPageError, NotAList,
    ALWAYS_PRESENT, EXPANDED_FIELDS,
};

use serde::{Deserialize, Serialize};

use crate::http::HttpError;
use crate::run::{InvalidSetting, Secret};

/// The default of `hub.max_invalid_ratio`.
const MAX_INVALID_RATIO: f64 = 0.05;

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

/// Why the Hub is not ready for a run: found before any work, by [`HubClient::check`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubUnready {
    #[error("hub.endpoint {url:?} is not a URL: {source}")]
    Endpoint {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("the Hub's HTTP client could not be built: {0}")]
    Client(#[source] HttpError),
    #[error("the Hub at {url} does not answer")]
    Unreachable {
        url: String,
        #[source]
        source: HttpError,
    },
    #[error("the Hub at {url} refused the token (HF_TOKEN): HTTP {status}; check or unset it")]
    TokenRefused { url: String, status: u16 },
    #[error("the Hub at {url} answered HTTP {status} to a check request")]
    Status { url: String, status: u16 },
}
