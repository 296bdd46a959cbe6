//! The browser source: a real browser over WebDriver (the Selenium sidecar, or a local
//! chromedriver we start), K sessions in parallel, each reused across models.
//!
//! - [`driver`]: where sessions come from, and the sessions themselves;
//! - [`pool`]: the workers that share the models, replace dead sessions and quit every
//!   session on every path, SIGTERM included;
//! - [`page`]: one lookup in a session (search, wait, read);
//! - [`table`]: reading the leaderboard's table from the page's HTML.

mod driver;
mod page;
mod pool;
mod table;

pub use table::parse_table;

/// The browser source's preflight check.
pub(crate) use driver::check_ready;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{LeaderboardSettings, Lookup, ScoresError};
use crate::lookup::CheckpointSink;
use crate::lookup::{ScoreSource, SourceStats};
use crate::run::{ModelId, Quarantined, SourceName};

/// Why the browser source could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    #[error("no free port for chromedriver: {0}")]
    NoFreePort(#[source] std::io::Error),
    #[error("starting {program}: {source}")]
    DriverStart {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the WebDriver at {url} was not ready within {waited:?} (GET {url}/status)")]
    NotReady { url: String, waited: Duration },
    #[error("chrome capabilities: {0}")]
    Capabilities(String),
    #[error("creating a browser profile folder: {0}")]
    ProfileFolder(#[source] std::io::Error),
    #[error("cannot start a session at {url}: {message}")]
    SessionStart { url: String, message: String },
    #[error("browser sessions died {restarts} times (last, on {model}: {last})")]
    SessionsDied {
        restarts: u32,
        model: ModelId,
        last: String,
    },
}

/// Looks models up in the leaderboard page with real browsers.
pub struct BrowserSource {
    settings: LeaderboardSettings,
    quarantined: Mutex<Vec<Quarantined>>,
}

impl BrowserSource {
    pub fn new(settings: &LeaderboardSettings) -> Self {
        Self {
            settings: settings.clone(),
            quarantined: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl ScoreSource for BrowserSource {
    type Answer = Lookup;
    type Error = ScoresError;

    fn name(&self) -> SourceName {
        SourceName::Browser
    }

    fn quarantined(&self) -> Vec<Quarantined> {
        std::mem::take(&mut *self.quarantined.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<Lookup>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, ScoresError> {
        let endpoint = driver::WebDriverEndpoint::resolve(&self.settings).await?;
        tracing::info!(webdriver = %endpoint.url, local = endpoint.is_local(), sessions = self.settings.browser_sessions, "browser source");
        let sessions = self.settings.browser_sessions.min(models.len()).max(1);
        sink.progress().set_message(&match sessions {
            1 => "browser, 1 session".to_owned(),
            n => format!("browser, {n} sessions"),
        });
        let result = pool::look_up_all(
            &self.settings,
            &endpoint,
            models,
            sink,
            &self.quarantined,
            cancel,
        )
        .await;
        endpoint.shutdown().await;
        let session_restarts = result?;
        Ok(SourceStats {
            requests: 0,
            session_restarts,
        })
    }
}
