//! `[leaderboard]`: where scores come from, and how the browser and the HTTP sources
//! reach them. The URLs, selectors and timeouts are settings because upstream pages change.

use serde::{Deserialize, Serialize};

use crate::run::{check_secs, InvalidSetting};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Browser,
    Datasets,
    None,
}

impl SourceKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Datasets => "datasets",
            Self::None => "none",
        }
    }
}

/// The columns the browser asks the app for (its `columns=` URL parameter, read in
/// LeaderboardContext.js): the six scores and what tells a model's rows apart.
const APP_COLUMNS: &str = "evaluations.ifeval.normalized_score,evaluations.bbh.normalized_score,\
evaluations.math.normalized_score,evaluations.gpqa.normalized_score,evaluations.musr.normalized_score,\
evaluations.mmlu_pro.normalized_score,model.architecture,model.precision,metadata.params_billions,\
metadata.hub_license,metadata.submission_date,metadata.base_model,model.has_chat_template";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardSettings {
    pub source: SourceKind,
    /// Stop the run (exit 1) when more than this share of the models looked up ended in
    /// `error`; below it the run completes and a rerun asks for those models again.
    pub max_error_ratio: f64,
    /// WebDriver URL (the Selenium sidecar). Unset: start a local chromedriver if one is
    /// on PATH, else use `http://localhost:4444`.
    pub webdriver: Option<String>,
    /// Longest wait for that WebDriver's `/status` to say ready, at the stage's start.
    pub webdriver_ready_timeout_secs: f64,
    /// Browser sessions run in parallel.
    pub browser_sessions: usize,
    /// Models looked up with one search (the app takes `;`-separated alternatives).
    pub batch_size: usize,
    /// The leaderboard app: its own origin, or a page that wraps it in a frame.
    pub page_url: String,
    /// The app's state after `#` when it is opened: empty `precision` and `types` lists
    /// turn off the default filters that hide rows, and `columns` names what to read.
    pub app_params: String,
    /// The app's frame inside the page; empty when the page is the app itself.
    pub iframe_selector: String,
    /// The app's search box (a React input: set through the native value setter).
    pub search_input_selector: String,
    /// The table's scroll container (the table is virtualised: only rows in view exist).
    pub table_selector: String,
    /// A link in each model row; its title names the model.
    pub row_link_selector: String,
    /// Placeholders shown while the app loads: never read as an empty table.
    pub skeleton_selector: String,
    /// What the app shows when no row matches.
    pub no_results_text: String,
    /// Where the app shows an error instead of the table (with no search box and no table).
    pub error_selector: String,
    /// Longest wait for the app, and for a search's rows, per batch.
    pub page_timeout_secs: f64,
    /// Page-level failures (the app shows an error, a header is missing, no answer in
    /// time) in a row after which the stage stops, instead of spending the timeout on
    /// every remaining model.
    pub max_page_errors_in_a_row: u32,
    /// New sessions a browser worker may start after its session dies.
    pub max_session_restarts: u32,
    /// Keep one browser session per worker across batches. `false` opens a browser per
    /// model, as the original tool did; it exists to benchmark against.
    pub reuse_sessions: bool,
    /// Where the datasets source reads: `parquet` (the dataset's parquet file at a
    /// pinned revision, one request through the Hub's `/resolve/`: the durable copy),
    /// `rows` (the datasets-server `/rows` API, 100 rows per request) or `formatted`
    /// (the archived app's JSON API, one request; it may stop being served).
    pub datasets_api: DatasetsApi,
    pub formatted_url: String,
    pub datasets_server_url: String,
    pub dataset: String,
    /// The dataset's revision: the commit peers pin (2025-03-20; the dataset is frozen).
    pub dataset_revision: String,
    /// The parquet file in the dataset's repository.
    pub dataset_file: String,
    /// The share of the datasets source's rows that may name no model (set aside in
    /// `quarantine.json`) before its data is taken for broken and the stage fails.
    pub max_invalid_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetsApi {
    Parquet,
    Rows,
    Formatted,
}

impl Default for LeaderboardSettings {
    fn default() -> Self {
        Self {
            source: SourceKind::Datasets,
            max_error_ratio: 0.1,
            webdriver: None,
            webdriver_ready_timeout_secs: 120.0,
            browser_sessions: 1,
            batch_size: 25,
            page_url: "https://open-llm-leaderboard-open-llm-leaderboard.hf.space/".into(),
            app_params: format!("precision=&types=&columns={APP_COLUMNS}"),
            iframe_selector: String::new(),
            search_input_selector: "input.MuiInputBase-input".into(),
            table_selector: ".MuiTableContainer-root".into(),
            row_link_selector: r#"a[title$=" on Hugging Face Hub"]"#.into(),
            skeleton_selector: ".MuiSkeleton-root".into(),
            no_results_text: "No models found".into(),
            error_selector: "p.MuiTypography-body1".into(),
            page_timeout_secs: 60.0,
            max_page_errors_in_a_row: 3,
            max_session_restarts: 5,
            reuse_sessions: true,
            datasets_api: DatasetsApi::Parquet,
            formatted_url: "https://open-llm-leaderboard-open-llm-leaderboard.hf.space/api/leaderboard/formatted".into(),
            datasets_server_url: "https://datasets-server.huggingface.co".into(),
            dataset: "open-llm-leaderboard/contents".into(),
            dataset_revision: "9c09a7cae43334062a82cb164f2ef255013dafa2".into(),
            dataset_file: "data/train-00000-of-00001.parquet".into(),
            max_invalid_ratio: 0.05,
        }
    }
}

impl LeaderboardSettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let bad = |key: &str, why: &str| InvalidSetting::err(format!("leaderboard.{key}"), why);
        if !(1..=32).contains(&self.browser_sessions) {
            return bad("browser_sessions", "must be between 1 and 32");
        }
        if !(1..=200).contains(&self.batch_size) {
            return bad("batch_size", "must be between 1 and 200");
        }
        if !(0.0..=1.0).contains(&self.max_error_ratio) {
            return bad("max_error_ratio", "must be between 0 and 1");
        }
        if self.max_page_errors_in_a_row == 0 {
            return bad("max_page_errors_in_a_row", "must be >= 1");
        }
        for (key, value) in [
            ("search_input_selector", &self.search_input_selector),
            ("table_selector", &self.table_selector),
            ("row_link_selector", &self.row_link_selector),
        ] {
            if scraper::Selector::parse(value).is_err() {
                return bad(key, "must be a CSS selector");
            }
        }
        check_secs(
            "leaderboard.webdriver_ready_timeout_secs",
            self.webdriver_ready_timeout_secs,
            0.001,
            3_600.0,
        )?;
        check_secs(
            "leaderboard.page_timeout_secs",
            self.page_timeout_secs,
            0.001,
            3_600.0,
        )?;
        for (key, value) in [
            ("page_url", &self.page_url),
            ("formatted_url", &self.formatted_url),
            ("datasets_server_url", &self.datasets_server_url),
        ] {
            if url::Url::parse(value).is_err() {
                return bad(key, "must be a URL");
            }
        }
        if !(0.0..=1.0).contains(&self.max_invalid_ratio) {
            return bad("max_invalid_ratio", "must be a number from 0 to 1");
        }
        if !(0..=1000).contains(&self.max_session_restarts) {
            return bad("max_session_restarts", "must be between 0 and 1000");
        }
        if let Some(webdriver) = &self.webdriver {
            if url::Url::parse(webdriver).is_err() {
                return bad("webdriver", "must be a URL such as http://localhost:4444");
            }
        }
        Ok(())
    }
}
