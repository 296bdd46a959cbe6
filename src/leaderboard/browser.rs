//! The browser source: a real browser over WebDriver (the Selenium sidecar, or a local
//! chromedriver we start), K sessions in parallel, each reused across models. A
//! session that dies is replaced and the model retried; every session is quit on
//! every path, including cancellation (SIGTERM).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scraper::{ElementRef, Html, Selector};
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;
use url::Url;

use super::rows::{classify, Column, Lookup, ScoreRow, REQUIRED};
use super::stage::CheckpointWriter;
use super::{LeaderboardError, LeaderboardSettings};
use crate::error::{Error, Result};
use crate::pipeline::RunContext;
use crate::types::ModelId;

const DEFAULT_WEBDRIVER: &str = "http://localhost:4444";
const POLL: Duration = Duration::from_millis(100);
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BrowserStats {
    pub session_restarts: u64,
}

/// Chromium's flags for a headless run on a closed network, possibly as root.
const CHROMIUM_ARGS: [&str; 9] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
];

/// Look up `models` with K browser sessions, checkpointing each result.
pub async fn collect(
    ctx: &RunContext,
    models: &[ModelId],
    writer: &CheckpointWriter,
) -> Result<BrowserStats> {
    let settings = &ctx.settings.leaderboard;
    let driver = WebDriverEndpoint::resolve(settings).await?;
    tracing::info!(webdriver = %driver.url, local = driver.local.is_some(), sessions = settings.browser_sessions, "browser source");
    let queue = Arc::new(Mutex::new(models.iter().cloned().collect::<VecDeque<_>>()));
    let restarts = Arc::new(AtomicU64::new(0));
    let workers = (0..settings.browser_sessions.min(models.len()).max(1)).map(|_| {
        Worker {
            ctx,
            settings,
            endpoint: &driver,
            queue: queue.clone(),
            writer,
            restarts: restarts.clone(),
        }
        .run()
    });
    let results = futures::future::join_all(workers).await;
    driver.shutdown().await;
    results.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(BrowserStats {
        session_restarts: restarts.load(Ordering::Relaxed),
    })
}

/// Where sessions come from; a chromedriver we started is stopped with it.
struct WebDriverEndpoint {
    url: String,
    local: Option<tokio::process::Child>,
}

impl WebDriverEndpoint {
    async fn resolve(settings: &LeaderboardSettings) -> Result<Self, LeaderboardError> {
        if let Some(url) = &settings.webdriver {
            return Ok(Self {
                url: url.clone(),
                local: None,
            });
        }
        let Some(chromedriver) = on_path("chromedriver") else {
            return Ok(Self {
                url: DEFAULT_WEBDRIVER.into(),
                local: None,
            });
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| LeaderboardError::Browser(format!("no free port for chromedriver: {e}")))?
            .port();
        let mut command = tokio::process::Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the
        // driver if we die without cleaning up (kill -9, OOM), so none is left behind.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            LeaderboardError::Browser(format!("starting {}: {e}", chromedriver.display()))
        })?;
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url, Duration::from_secs(20)).await?;
        Ok(Self {
            url,
            local: Some(child),
        })
    }

    async fn shutdown(mut self) {
        if let Some(child) = self.local.as_mut() {
            let _ = child.kill().await;
        }
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Poll the driver's `/status` until it says ready.
async fn wait_until_ready(url: &str, within: Duration) -> Result<(), LeaderboardError> {
    let client = reqwest::Client::new();
    let status = format!("{url}/status");
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(response) = client
            .get(&status)
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            if let Ok(body) = response.json::<serde_json::Value>().await {
                if body["value"]["ready"].as_bool() == Some(true) {
                    return Ok(());
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LeaderboardError::Browser(format!(
                "chromedriver at {url} not ready within {within:?}"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Why a lookup did not give an answer.
enum Failure {
    /// The page did not look as configured (no frame, no table, a header missing):
    /// the model's answer is an error, and the session is fine.
    Page(String),
    /// The session or the browser is gone or hung: start a new one.
    Session(String),
}

/// Errors that say the page is not as configured, as opposed to a broken session.
fn is_page_problem(e: &WebDriverError) -> bool {
    matches!(
        e.as_inner(),
        WebDriverErrorInner::NoSuchElement(_)
            | WebDriverErrorInner::NoSuchFrame(_)
            | WebDriverErrorInner::InvalidSelector(_)
    )
}

fn not_found(e: &WebDriverError) -> bool {
    matches!(e.as_inner(), WebDriverErrorInner::NoSuchElement(_))
}

fn session_failure(what: &str, e: WebDriverError) -> Failure {
    if is_page_problem(&e) {
        Failure::Page(format!("{what}: {e}"))
    } else {
        Failure::Session(format!("{what}: {e}"))
    }
}

struct Worker<'a> {
    ctx: &'a RunContext,
    settings: &'a LeaderboardSettings,
    endpoint: &'a WebDriverEndpoint,
    queue: Arc<Mutex<VecDeque<ModelId>>>,
    writer: &'a CheckpointWriter,
    restarts: Arc<AtomicU64>,
}

impl Worker<'_> {
    async fn run(self) -> Result<()> {
        let mut session: Option<WebDriver> = None;
        let result = self.work(&mut session).await;
        if let Some(driver) = session.take() {
            if tokio::time::timeout(QUIT_TIMEOUT, driver.quit())
                .await
                .is_err()
            {
                tracing::warn!("browser session did not quit within {QUIT_TIMEOUT:?}");
            }
        }
        result
    }

    fn next_model(&self) -> Option<ModelId> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }

    async fn work(&self, session: &mut Option<WebDriver>) -> Result<()> {
        let mut own_restarts = 0u32;
        let budget = Duration::from_secs_f64(self.settings.page_timeout_secs * 2.0 + 10.0);
        while let Some(model) = self.next_model() {
            let mut tries = 0;
            let lookup = loop {
                if self.ctx.cancel.is_cancelled() {
                    return Err(Error::Interrupted("a termination signal"));
                }
                if session.is_none() {
                    *session = Some(self.open_session().await?);
                }
                let driver = session.as_ref().expect("session just opened");
                let attempt = tokio::select! {
                    r = tokio::time::timeout(budget, lookup(driver, self.settings, &model)) => r,
                    _ = self.ctx.cancel.cancelled() => return Err(Error::Interrupted("a termination signal")),
                };
                let reason = match attempt {
                    Ok(Ok(lookup)) => break lookup,
                    Ok(Err(Failure::Page(reason))) => break Lookup::error(reason),
                    Ok(Err(Failure::Session(reason))) => reason,
                    Err(_) => format!("no answer within {budget:?}"),
                };
                tracing::warn!(model = %model, reason = %reason, "browser session failed; starting a new one");
                if let Some(dead) = session.take() {
                    let _ = tokio::time::timeout(QUIT_TIMEOUT, dead.quit()).await;
                }
                self.restarts.fetch_add(1, Ordering::Relaxed);
                own_restarts += 1;
                tries += 1;
                if own_restarts > self.settings.max_session_restarts {
                    return Err(LeaderboardError::Browser(format!(
                        "browser sessions died {own_restarts} times (last, on {model}: {reason})"
                    ))
                    .into());
                }
                if tries >= 2 {
                    break Lookup::error(format!(
                        "the browser failed twice on this model: {reason}"
                    ));
                }
            };
            self.writer.record(&model, lookup).await?;
            if !self.settings.reuse_sessions {
                if let Some(driver) = session.take() {
                    let _ = tokio::time::timeout(QUIT_TIMEOUT, driver.quit()).await;
                }
            }
        }
        Ok(())
    }

    async fn open_session(&self) -> Result<WebDriver> {
        let mut caps = DesiredCapabilities::chrome();
        let fail =
            |e: WebDriverError| LeaderboardError::Browser(format!("chrome capabilities: {e}"));
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg).map_err(fail)?;
        }
        if self.endpoint.local.is_some() {
            if let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .find(|p| std::path::Path::new(p).exists())
            {
                caps.set_binary(chromium).map_err(fail)?;
            }
        }
        let timeout = Duration::from_secs_f64(self.settings.page_timeout_secs + 10.0);
        let driver = WebDriver::builder(self.endpoint.url.clone(), caps)
            .request_timeout(timeout)
            .await
            .map_err(|e| {
                LeaderboardError::Browser(format!(
                    "cannot start a session at {}: {e}",
                    self.endpoint.url
                ))
            })?;
        Ok(driver)
    }
}

/// Open the page filtered to one model, wait for the frame and the table, and read it.
async fn lookup(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    model: &ModelId,
) -> Result<Lookup, Failure> {
    let mut url =
        Url::parse(&settings.page_url).map_err(|e| Failure::Page(format!("page_url: {e}")))?;
    url.query_pairs_mut()
        .append_pair(&settings.search_param, model.as_str());
    let wait = Duration::from_secs_f64(settings.page_timeout_secs);
    driver
        .goto(url.as_str())
        .await
        .map_err(|e| session_failure("opening the page", e))?;
    if !settings.iframe_selector.is_empty() {
        let frame = driver
            .query(By::Css(settings.iframe_selector.clone()))
            .wait(wait, POLL)
            .first()
            .await
            .map_err(|e| {
                if not_found(&e) {
                    Failure::Page(format!(
                        "frame `{}` did not appear within {wait:?}",
                        settings.iframe_selector
                    ))
                } else {
                    session_failure("waiting for the frame", e)
                }
            })?;
        frame
            .enter_frame()
            .await
            .map_err(|e| session_failure("entering the frame", e))?;
    }
    driver
        .query(By::Css(settings.table_selector.clone()))
        .wait(wait, POLL)
        .first()
        .await
        .map_err(|e| {
            if not_found(&e) {
                Failure::Page(format!(
                    "table `{}` did not appear within {wait:?}",
                    settings.table_selector
                ))
            } else {
                session_failure("waiting for the table", e)
            }
        })?;
    let html = driver
        .source()
        .await
        .map_err(|e| session_failure("reading the page", e))?;
    let rows = parse_table(&html, &settings.table_selector).map_err(Failure::Page)?;
    Ok(classify(model, rows))
}

/// Read a leaderboard table by its header texts (not positions).
pub fn parse_table(html: &str, table_selector: &str) -> Result<Vec<ScoreRow>, String> {
    let document = Html::parse_document(html);
    let selector =
        |css: &str| Selector::parse(css).map_err(|e| format!("invalid selector `{css}`: {e}"));
    let table = document
        .select(&selector(table_selector)?)
        .next()
        .ok_or_else(|| format!("table `{table_selector}` vanished"))?;
    let text = |e: ElementRef| e.text().collect::<String>().trim().to_owned();
    let headers: Vec<String> = table.select(&selector("thead th")?).map(text).collect();
    let headers = if headers.is_empty() {
        table.select(&selector("tr th")?).map(text).collect()
    } else {
        headers
    };
    let columns: Vec<Option<Column>> = headers.iter().map(|h| Column::from_header(h)).collect();
    for (column, label) in REQUIRED {
        if !columns.contains(&Some(column)) {
            return Err(format!(
                "header `{label}` missing (headers seen: {})",
                headers.join(" | ")
            ));
        }
    }
    let cell = selector("td")?;
    let mut rows = Vec::new();
    for tr in table.select(&selector("tbody tr")?) {
        let mut row = ScoreRow::default();
        for (i, td) in tr.select(&cell).enumerate() {
            if let Some(Some(column)) = columns.get(i) {
                row.set(*column, &text(td));
            }
        }
        if !row.name.is_empty() {
            row.fill_eval_name();
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_header_text() {
        let html = r#"<table><thead><tr><th>T</th><th>Average ⬆️</th><th>Model</th><th>IFEval</th><th>Precision</th></tr></thead>
            <tbody><tr><td>💬</td><td>27.905</td><td><a href="x">meta-llama/Llama-3.1-8B-Instruct</a></td><td>78.56</td><td>bfloat16</td></tr></tbody></table>"#;
        let rows = parse_table(html, "table").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(rows[0].average, Some(27.91));
        assert_eq!(rows[0].ifeval, Some(78.56));
        let missing = "<table><thead><tr><th>Model</th></tr></thead><tbody></tbody></table>";
        assert!(parse_table(missing, "table")
            .unwrap_err()
            .contains("header `Average ⬆️` missing"));
    }
}
