//! Where browser sessions come from: a WebDriver server (the Selenium sidecar) or a
//! chromedriver we start and stop, and the sessions themselves.

use std::path::PathBuf;
use std::time::Duration;

use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

use super::BrowserError;
use crate::scores::LeaderboardSettings;

const DEFAULT_WEBDRIVER: &str = "http://localhost:4444";
const POLL: Duration = Duration::from_millis(50);
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Where sessions come from; a chromedriver we started is stopped with it.
pub(super) struct WebDriverEndpoint {
    pub(super) url: String,
    local: Option<tokio::process::Child>,
}

impl WebDriverEndpoint {
    pub(super) async fn resolve(settings: &LeaderboardSettings) -> Result<Self, BrowserError> {
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
            .map_err(BrowserError::NoFreePort)?
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
        let child = command
            .spawn()
            .map_err(|source| BrowserError::DriverStart {
                program: chromedriver.display().to_string(),
                source,
            })?;
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url, Duration::from_secs(20)).await?;
        Ok(Self {
            url,
            local: Some(child),
        })
    }

    pub(super) fn is_local(&self) -> bool {
        self.local.is_some()
    }

    pub(super) async fn shutdown(mut self) {
        if let Some(child) = self.local.as_mut() {
            let _ = child.kill().await;
        }
    }
}

/// The preflight check: a configured WebDriver (the sidecar) says it is ready within
/// `leaderboard.webdriver_ready_timeout_secs`. A chromedriver of our own is started
/// with the source, so there is nothing to check before.
pub(crate) async fn check_ready(settings: &LeaderboardSettings) -> Result<(), BrowserError> {
    if settings.webdriver.is_none() && on_path("chromedriver").is_some() {
        return Ok(());
    }
    let url = settings
        .webdriver
        .as_deref()
        .unwrap_or(DEFAULT_WEBDRIVER)
        .trim_end_matches('/');
    let within = Duration::from_secs_f64(settings.webdriver_ready_timeout_secs);
    wait_until_ready(url, within).await
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Poll the driver's `/status` until it says ready.
async fn wait_until_ready(url: &str, within: Duration) -> Result<(), BrowserError> {
    let client = reqwest::Client::new();
    let status = format!("{url}/status");
    let deadline = tokio::time::Instant::now() + within;
    // Shown on the progress bar once the first poll finds it not ready.
    let mut shown = None;
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
            return Err(BrowserError::NotReady {
                url: url.to_owned(),
                waited: within,
            });
        }
        shown.get_or_insert_with(|| {
            crate::progress::waiting(
                format!("WebDriver at {url} getting ready"),
                deadline.saturating_duration_since(tokio::time::Instant::now()),
            )
        });
        tokio::time::sleep(POLL).await;
    }
}

impl WebDriverEndpoint {
    /// A new browser session, with a fresh profile when the driver is ours.
    pub(super) async fn open_session(
        &self,
        settings: &LeaderboardSettings,
    ) -> Result<Session, BrowserError> {
        let mut caps = DesiredCapabilities::chrome();
        let fail = |e: WebDriverError| BrowserError::Capabilities(e.to_string());
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg).map_err(fail)?;
        }
        let mut profile = None;
        if self.local.is_some() {
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
                .map_err(BrowserError::ProfileFolder)?;
            caps.add_arg(&format!("--user-data-dir={}", dir.path().display()))
                .map_err(fail)?;
            profile = Some(dir);
        }
        let timeout = Duration::from_secs_f64(settings.page_timeout_secs + 10.0);
        let driver = WebDriver::builder(self.url.clone(), caps)
            .request_timeout(timeout)
            .await
            .map_err(|e| BrowserError::SessionStart {
                url: self.url.clone(),
                message: e.to_string(),
            })?;
        Ok(Session {
            driver,
            profile,
            app_ready: false,
        })
    }
}

/// A browser session and the profile folder it owns (local chromedriver only).
pub(super) struct Session {
    pub(super) driver: WebDriver,
    profile: Option<tempfile::TempDir>,
    /// The app is on screen and ready for the next search.
    pub(super) app_ready: bool,
}

impl Session {
    /// Quit the browser, bounded: a hung browser must not hold up the job's exit.
    pub(super) async fn quit(self) {
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
