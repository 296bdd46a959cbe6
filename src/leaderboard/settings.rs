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
    /// The share of the datasets source's rows that may name no model (set aside in
    /// `quarantine.json`) before its data is taken for broken and the stage fails.
    pub max_invalid_ratio: f64,
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
