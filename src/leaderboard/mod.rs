//! Stage 2: Open LLM Leaderboard scores for each model, from a real browser
//! (`browser`) or from the published data over HTTP (`datasets`). Each model's result
//! is checkpointed on its own; `leaderboard.csv` is assembled from the checkpoints.

mod browser;
mod datasets;
mod rows;
mod stage;

pub use rows::{classify, Lookup, ScoreRow};
pub use stage::{collect_scores, models_from_args, Checkpoint, ScoresOutcome, LEADERBOARD_CSV};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Browser,
    Datasets,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardSettings {
    pub source: SourceKind,
    /// WebDriver URL (the Selenium sidecar). Unset: start a local chromedriver if one is
    /// on PATH, else use `http://localhost:4444`.
    pub webdriver: Option<String>,
    /// Longest wait for that WebDriver's `/status` to say ready, at the stage's start.
    pub webdriver_ready_timeout_secs: f64,
    /// Browser sessions run in parallel.
    pub browser_sessions: usize,
    /// The leaderboard page (the Space). `?<search_param>=<model id>` filters it.
    pub page_url: String,
    pub search_param: String,
    /// The app's frame inside the page; empty when the table is on the page itself.
    pub iframe_selector: String,
    pub table_selector: String,
    /// The app's search box. Once a session shows the app, the next model is searched by
    /// typing here, with no page load; empty (or no such box) loads the page per model.
    pub search_input_selector: String,
    /// Longest wait for the frame and for the table, per model.
    pub page_timeout_secs: f64,
    /// New sessions a browser worker may start after its session dies.
    pub max_session_restarts: u32,
    /// Keep one browser session per worker across models. `false` opens a browser per
    /// model, as the original tool did; it exists to benchmark against.
    pub reuse_sessions: bool,
    /// Where the datasets source reads: `formatted` (the app's JSON API, one request)
    /// or `rows` (the datasets-server `/rows` API, 100 rows per request).
    pub datasets_api: DatasetsApi,
    pub formatted_url: String,
    pub datasets_server_url: String,
    pub dataset: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetsApi {
    Formatted,
    Rows,
}

impl Default for LeaderboardSettings {
    fn default() -> Self {
        Self {
            source: SourceKind::Datasets,
            webdriver: None,
            webdriver_ready_timeout_secs: 120.0,
            browser_sessions: 1,
            page_url: "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard".into(),
            search_param: "search".into(),
            iframe_selector: "iframe".into(),
            table_selector: "table".into(),
            search_input_selector: r#"input[type="search"]"#.into(),
            page_timeout_secs: 30.0,
            max_session_restarts: 5,
            reuse_sessions: true,
            datasets_api: DatasetsApi::Formatted,
            formatted_url: "https://open-llm-leaderboard-open-llm-leaderboard.hf.space/api/leaderboard/formatted".into(),
            datasets_server_url: "https://datasets-server.huggingface.co".into(),
            dataset: "open-llm-leaderboard/contents".into(),
        }
    }
}

impl LeaderboardSettings {
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        let bad = |key: &str, why: &str| {
            Err(crate::config::ConfigError::Invalid(format!(
                "`leaderboard.{key}` {why}"
            )))
        };
        if !(1..=32).contains(&self.browser_sessions) {
            return bad("browser_sessions", "must be between 1 and 32");
        }
        if self.webdriver_ready_timeout_secs.is_nan() || self.webdriver_ready_timeout_secs <= 0.0 {
            return bad("webdriver_ready_timeout_secs", "must be > 0");
        }
        if self.page_timeout_secs.is_nan() || self.page_timeout_secs <= 0.0 {
            return bad("page_timeout_secs", "must be > 0");
        }
        for (key, value) in [
            ("page_url", &self.page_url),
            ("formatted_url", &self.formatted_url),
            ("datasets_server_url", &self.datasets_server_url),
        ] {
            if url::Url::parse(value).is_err() {
                return bad(key, "must be a URL");
            }
        }
        if let Some(webdriver) = &self.webdriver {
            if url::Url::parse(webdriver).is_err() {
                return bad("webdriver", "must be a URL such as http://localhost:4444");
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderboardError {
    #[error("leaderboard data: {0}")]
    Http(#[from] crate::http::HttpError),
    #[error("leaderboard data from {url}: {message}")]
    BadData { url: String, message: String },
    #[error("browser: {0}")]
    Browser(String),
    #[error("reading models from {what}: {message}")]
    Models { what: String, message: String },
}

/// How a model's leaderboard lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// A row whose model id equals the query (case-insensitive).
    Found,
    /// No row for the model.
    NotFound,
    /// Rows came back, but none for exactly this model (e.g. only `…-Instruct`).
    Mismatch,
    /// The lookup failed (page changed, timeout); `detail` says how.
    Error,
}

impl MatchStatus {
    /// The metric outcome: `ok` (found), `not_found`, `mismatch` or `error`.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Found => "ok",
            Self::NotFound => "not_found",
            Self::Mismatch => "mismatch",
            Self::Error => "error",
        }
    }
}

/// One row of `leaderboard.csv`: one per leaderboard evaluation of a model (a model can
/// have several: precision and chat-template variants), or one row with empty scores
/// when the status is not `found`. Benchmarks are the leaderboard's normalised 0–100 scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LeaderboardRecord {
    #[serde(with = "crate::csvout::text")]
    pub model_id: String,
    pub status: Option<MatchStatus>,
    /// browser | datasets
    pub source: String,
    /// The leaderboard's row key (`<name>_<precision>_<sha>_<chat template>`).
    #[serde(with = "crate::csvout::text")]
    pub eval_name: String,
    /// The model name on the matched row (or what was seen, for a mismatch).
    #[serde(with = "crate::csvout::text")]
    pub matched_name: String,
    pub precision: String,
    #[serde(with = "crate::csvout::text")]
    pub model_type: String,
    pub weight_type: String,
    #[serde(with = "crate::csvout::text")]
    pub architecture: String,
    pub chat_template: Option<bool>,
    pub average: Option<f64>,
    pub ifeval: Option<f64>,
    pub bbh: Option<f64>,
    pub math_lvl5: Option<f64>,
    pub gpqa: Option<f64>,
    pub musr: Option<f64>,
    pub mmlu_pro: Option<f64>,
    pub params_b: Option<f64>,
    #[serde(with = "crate::csvout::text")]
    pub hub_license: String,
    pub submission_date: String,
    #[serde(with = "crate::csvout::text")]
    pub base_model: String,
    #[serde(with = "crate::csvout::text")]
    pub detail: String,
}
