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
use tracing::Instrument;
use url::Url;

use super::rows::{classify, Column, Lookup, ScoreRow, REQUIRED};
use super::stage::CheckpointWriter;
use super::{LeaderboardError, LeaderboardSettings};
use crate::error::{Error, Result};
use crate::pipeline::RunContext;
use crate::types::ModelId;

const DEFAULT_WEBDRIVER: &str = "http://localhost:4444";
const POLL: Duration = Duration::from_millis(50);
const SET_SEARCH_BOX: &str = r#"
const [box, text] = arguments;
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(box, text);
box.dispatchEvent(new Event("input", { bubbles: true }));
"#;
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
        let chromedriver = match (&settings.webdriver, on_path("chromedriver")) {
            (None, Some(local)) => local,
            (configured, _) => {
                let url = configured
                    .as_deref()
                    .unwrap_or(DEFAULT_WEBDRIVER)
                    .trim_end_matches('/')
                    .to_owned();
                // A sidecar may still be starting (its startup probe normally covers
                // this): wait for its /status to say ready, within bounds.
                let within = Duration::from_secs_f64(settings.webdriver_ready_timeout_secs);
                wait_until_ready(&url, within).await?;
                return Ok(Self { url, local: None });
            }
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
                "the WebDriver at {url} was not ready within {within:?} (GET {url}/status)"
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
        let mut session: Option<Session> = None;
        let result = self.work(&mut session).await;
        if let Some(session) = session.take() {
            session.quit().await;
        }
        result
    }

    fn next_model(&self) -> Option<ModelId> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }

    async fn work(&self, session: &mut Option<Session>) -> Result<()> {
        let mut own_restarts = 0u32;
        while let Some(model) = self.next_model() {
            let span = tracing::info_span!("model", model.id = %model);
            self.one_model(session, &model, &mut own_restarts)
                .instrument(span)
                .await?;
        }
        Ok(())
    }

    /// Look one model up, replacing a dead session (at most twice for this model, and
    /// `max_session_restarts` times in all), and checkpoint the answer.
    async fn one_model(
        &self,
        session: &mut Option<Session>,
        model: &ModelId,
        own_restarts: &mut u32,
    ) -> Result<()> {
        // Up to four bounded waits (rows after an in-app search; frame, table and rows
        // after a page load) plus the loads themselves.
        let budget = Duration::from_secs_f64(self.settings.page_timeout_secs * 4.0 + 10.0);
        let mut tries = 0;
        let lookup = loop {
            if self.ctx.cancel.is_cancelled() {
                return Err(Error::Interrupted("a termination signal"));
            }
            if session.is_none() {
                *session = Some(self.open_session().await?);
            }
            let open = session.as_mut().expect("session just opened");
            let commands = lookup(open, self.settings, model).instrument(tracing::info_span!(
                "webdriver lookup",
                model.id = %model,
                attempt = tries + 1
            ));
            let attempt = tokio::select! {
                r = tokio::time::timeout(budget, commands) => r,
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
                dead.quit().await;
            }
            self.restarts.fetch_add(1, Ordering::Relaxed);
            crate::telemetry::metrics().session_restarts.add(1, &[]);
            *own_restarts += 1;
            tries += 1;
            if *own_restarts > self.settings.max_session_restarts {
                return Err(LeaderboardError::Browser(format!(
                    "browser sessions died {own_restarts} times (last, on {model}: {reason})"
                ))
                .into());
            }
            if tries >= 2 {
                break Lookup::error(format!("the browser failed twice on this model: {reason}"));
            }
        };
        self.writer.record(model, lookup).await?;
        if !self.settings.reuse_sessions {
            if let Some(session) = session.take() {
                session.quit().await;
            }
        }
        Ok(())
    }

    async fn open_session(&self) -> Result<Session> {
        let mut caps = DesiredCapabilities::chrome();
        let fail =
            |e: WebDriverError| LeaderboardError::Browser(format!("chrome capabilities: {e}"));
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg).map_err(fail)?;
        }
        let mut profile = None;
        if self.endpoint.local.is_some() {
            if let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .find(|p| std::path::Path::new(p).exists())
            {
                caps.set_binary(chromium).map_err(fail)?;
            }
            // A fresh profile per session, so no state leaks between sessions or runs;
            // a remote Selenium node makes its own, on its own disk.
            let dir = tempfile::Builder::new()
                .prefix("hfharvest-chromium-")
                .tempdir()
                .map_err(|e| {
                    LeaderboardError::Browser(format!("creating a browser profile folder: {e}"))
                })?;
            caps.add_arg(&format!("--user-data-dir={}", dir.path().display()))
                .map_err(fail)?;
            profile = Some(dir);
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
        Ok(Session {
            driver,
            profile,
            shown: None,
            search_box_works: true,
        })
    }
}

/// A browser session and the profile folder it owns (local chromedriver only).
struct Session {
    driver: WebDriver,
    profile: Option<tempfile::TempDir>,
    /// The lower-cased model names in the table on screen, while the session is inside
    /// the app with its table drawn; `None` until a lookup succeeds, and after a failure.
    shown: Option<Vec<String>>,
    /// Cleared when typing into the search box did not filter the table, so later
    /// models load the page instead of waiting on a box that does nothing.
    search_box_works: bool,
}

impl Session {
    /// Quit the browser, bounded: a hung browser must not hold up the job's exit.
    async fn quit(self) {
        if tokio::time::timeout(QUIT_TIMEOUT, self.driver.quit())
            .await
            .is_err()
        {
            tracing::warn!("browser session did not quit within {QUIT_TIMEOUT:?}");
        }
        // The profile goes once the browser has let go of it.
        drop(self.profile);
    }
}

/// Open the page filtered to one model, wait for the frame and the table, and read it.
async fn lookup(
    session: &mut Session,
    settings: &LeaderboardSettings,
    model: &ModelId,
) -> Result<Lookup, Failure> {
    let wait = Duration::from_secs_f64(settings.page_timeout_secs);
    let shown = session.shown.take();
    let rows = match search_in_app(session, settings, model, shown, wait).await? {
        Some(rows) => rows,
        None => load_page(&session.driver, settings, model, wait).await?,
    };
    session.shown = Some(rows.iter().map(|r| r.name.to_lowercase()).collect());
    Ok(classify(model, rows))
}

/// Search the app already on screen by typing into its search box: no page load and no
/// refetch of the app's data, which is what a reused session saves over a new one.
/// `Ok(None)` when that cannot be done safely; the caller then loads the page.
async fn search_in_app(
    session: &mut Session,
    settings: &LeaderboardSettings,
    model: &ModelId,
    shown: Option<Vec<String>>,
    wait: Duration,
) -> Result<Option<Vec<ScoreRow>>, Failure> {
    let Some(shown) = shown else {
        return Ok(None);
    };
    if settings.search_input_selector.is_empty() || !session.search_box_works {
        return Ok(None);
    }
    // The last model's rows stay on screen until the app applies the new search. If they
    // would pass for this model's (none shown, or every one contains this id), the two
    // could not be told apart, so the page is loaded instead.
    let wanted = model.normalized();
    if shown.iter().all(|name| name.contains(&wanted)) {
        return Ok(None);
    }
    let driver = &session.driver;
    let boxes = driver
        .find_all(By::Css(settings.search_input_selector.clone()))
        .await
        .map_err(|e| session_failure("looking for the search box", e))?;
    let Some(search_box) = boxes.into_iter().next() else {
        tracing::debug!(selector = %settings.search_input_selector, "no search box; loading the page per model");
        session.search_box_works = false;
        return Ok(None);
    };
    // One script call rather than a key event per character (ids run to 60+ characters).
    // The value goes through the element's native setter, which framework-controlled
    // inputs (React) observe, and then an `input` event, as typing would fire.
    let arg = search_box
        .to_json()
        .map_err(|e| session_failure("addressing the search box", e))?;
    driver
        .execute(SET_SEARCH_BOX, vec![arg, serde_json::json!(model.as_str())])
        .await
        .map_err(|e| session_failure("typing into the search box", e))?;
    match wait_for_filtered_rows(driver, settings, model, wait).await {
        Ok(rows) => Ok(Some(rows)),
        Err(Failure::Page(reason)) => {
            tracing::warn!(model = %model, reason = %reason, "the search box did not filter the table; loading the page per model from now on");
            session.search_box_works = false;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Open the page with the model in its URL's search, and read the filtered table.
async fn load_page(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    model: &ModelId,
    wait: Duration,
) -> Result<Vec<ScoreRow>, Failure> {
    let mut url =
        Url::parse(&settings.page_url).map_err(|e| Failure::Page(format!("page_url: {e}")))?;
    url.query_pairs_mut()
        .append_pair(&settings.search_param, model.as_str());
    driver
        .goto(url.as_str())
        .await
        .map_err(|e| session_failure("opening the page", e))?;
    if !settings.iframe_selector.is_empty() {
        let frame = appears(driver, "frame", &settings.iframe_selector, wait).await?;
        frame
            .enter_frame()
            .await
            .map_err(|e| session_failure("entering the frame", e))?;
    }
    appears(driver, "table", &settings.table_selector, wait).await?;
    wait_for_filtered_rows(driver, settings, model, wait).await
}

/// Wait for the first element matching `selector`; its absence is the page's fault (it
/// changed), any other error the session's.
async fn appears(
    driver: &WebDriver,
    what: &str,
    selector: &str,
    wait: Duration,
) -> Result<WebElement, Failure> {
    driver
        .query(By::Css(selector.to_owned()))
        .wait(wait, POLL)
        .first()
        .await
        .map_err(|e| {
            if not_found(&e) {
                Failure::Page(format!(
                    "{what} `{selector}` did not appear within {wait:?}"
                ))
            } else {
                session_failure(&format!("waiting for the {what}"), e)
            }
        })
}

/// An app may draw its table before it applies the URL's search (or while it still
/// loads), so the table is read only once every row it shows matches the filter. An
/// empty table matches: that is how the page says "no such model".
async fn wait_for_filtered_rows(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    model: &ModelId,
    wait: Duration,
) -> Result<Vec<ScoreRow>, Failure> {
    let wanted = model.normalized();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let html = driver
            .source()
            .await
            .map_err(|e| session_failure("reading the page", e))?;
        let rows = parse_table(&html, &settings.table_selector).map_err(Failure::Page)?;
        let unfiltered = rows
            .iter()
            .filter(|r| !r.name.to_lowercase().contains(&wanted))
            .count();
        if unfiltered == 0 {
            return Ok(rows);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Page(format!(
                "the table still showed {unfiltered} of {} row(s) not matching `{}={model}` after {wait:?}",
                rows.len(),
                settings.search_param
            )));
        }
        tokio::time::sleep(POLL).await;
    }
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
