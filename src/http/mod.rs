//! One HTTP client for every stage that talks to Hugging Face: timeouts on every
//! request, bounded retries with exponential backoff and jitter, and respect for the
//! Hub's `Retry-After` and `RateLimit` headers. The token is attached only for the
//! Hub's own host and never appears in an error, a span or a log line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry::KeyValue;
use rand::Rng;
use reqwest::header::HeaderMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tracing::Instrument;
use url::Url;

use crate::run::{check_secs, InvalidSetting, Secret};

mod headers;

pub use headers::{
    next_link, parse_next_link, parse_rate_limit, parse_retry_after, rate_limit, server_delay,
    RateLimit,
};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Whole-request timeout, body included.
    pub timeout_secs: f64,
    pub connect_timeout_secs: f64,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Total time one request may take across all its attempts and waits.
    pub retry_budget_secs: f64,
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
    /// The longest wait a server may ask for (`Retry-After`, a spent `RateLimit`
    /// window). A longer one is cut to this, with a warning.
    pub max_server_wait_secs: f64,
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout_secs: 30.0,
            connect_timeout_secs: 10.0,
            max_attempts: 6,
            retry_budget_secs: 300.0,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            max_server_wait_secs: 600.0,
            user_agent: concat!("hfharvest/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

impl HttpSettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check_secs("http.timeout_secs", self.timeout_secs, 0.001, 86_400.0)?;
        check_secs(
            "http.connect_timeout_secs",
            self.connect_timeout_secs,
            0.001,
            3_600.0,
        )?;
        if !(1..=10_000).contains(&self.max_attempts) {
            return InvalidSetting::err("http.max_attempts", "must be between 1 and 10000");
        }
        check_secs(
            "http.retry_budget_secs",
            self.retry_budget_secs,
            0.0,
            7.0 * 86_400.0,
        )?;
        check_secs(
            "http.max_server_wait_secs",
            self.max_server_wait_secs,
            0.0,
            86_400.0,
        )?;
        const DAY_MS: u64 = 86_400_000;
        for (key, ms) in [
            ("http.backoff_initial_ms", self.backoff_initial_ms),
            ("http.backoff_max_ms", self.backoff_max_ms),
        ] {
            if !(1..=DAY_MS).contains(&ms) {
                return InvalidSetting::err(
                    key,
                    format!("must be from 1 to {DAY_MS} milliseconds"),
                );
            }
        }
        if self.backoff_initial_ms > self.backoff_max_ms {
            return InvalidSetting::err(
                "http.backoff_initial_ms",
                "must not be more than http.backoff_max_ms",
            );
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("GET {url}: HTTP {status}{}", snippet_suffix(.body))]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("GET {url}: gave up after {attempts} attempt(s) in {elapsed_secs:.1}s: {last}")]
    Exhausted {
        url: String,
        attempts: u32,
        elapsed_secs: f64,
        last: RetryReason,
    },
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    #[error("GET {url}: invalid JSON at line {line}, column {column}: {message}")]
    Decode {
        url: String,
        line: usize,
        column: usize,
        message: String,
    },
}

fn snippet_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl HttpError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Status { .. } => "http_status",
            Self::Exhausted { .. } => "retries_exhausted",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
        }
    }
}

/// Counters the pipeline reports at the end of a stage (and telemetry exports).
#[derive(Debug, Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limit_waits: AtomicU64,
}

impl HttpStats {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    pub fn rate_limit_waits(&self) -> u64 {
        self.rate_limit_waits.load(Ordering::Relaxed)
    }
}

/// A successful response: its headers and whole body.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Fetched {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        decode_json(&self.url, &self.body)
    }
}

/// Decode JSON, naming the URL and the position of the fault.
pub fn decode_json<T: DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| HttpError::Decode {
        url: redact(url),
        line: e.line(),
        column: e.column(),
        message: if e.is_eof() {
            format!("body ends early ({} bytes; truncated?)", body.len())
        } else {
            e.to_string()
        },
    })
}

/// Strip credentials that a URL might carry in its userinfo.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}

#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    settings: HttpSettings,
    auth: Option<(String, Secret)>,
    pause_until: Arc<Mutex<Option<Instant>>>,
    stats: Arc<HttpStats>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("auth_host", &self.auth.as_ref().map(|(host, _)| host))
            .finish_non_exhaustive()
    }
}

/// Statuses worth another attempt, as huggingface_hub retries them.
pub fn is_retried(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl HttpClient {
    /// `auth` is the host the token may be sent to, and the token.
    pub fn new(settings: &HttpSettings, auth: Option<(String, Secret)>) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .timeout(Duration::from_secs_f64(settings.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(settings.connect_timeout_secs))
            .build()
            .map_err(|e| HttpError::Transport {
                url: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner,
            settings: settings.clone(),
            auth,
            pause_until: Arc::new(Mutex::new(None)),
            stats: Arc::new(HttpStats::default()),
        })
    }

    pub fn stats(&self) -> &Arc<HttpStats> {
        &self.stats
    }

    /// GET with retries. Success is any 2xx; other statuses that are not retryable fail at once.
    pub async fn get(&self, url: &Url) -> Result<Fetched, HttpError> {
        let started = Instant::now();
        let budget = Duration::from_secs_f64(self.settings.retry_budget_secs);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_for_rate_limit_window().await;
            let outcome = self.attempt(url, attempt).await;
            let (delay, last, told) = match outcome {
                Attempt::Done(fetched) => return Ok(fetched),
                Attempt::Fatal(error) => return Err(error),
                Attempt::Retry { delay, reason } => (
                    delay.unwrap_or_else(|| self.backoff(attempt)),
                    reason,
                    delay.is_some(),
                ),
            };
            if attempt >= self.settings.max_attempts
                || started.elapsed().saturating_add(delay) > budget
            {
                return Err(HttpError::Exhausted {
                    url: redact(url),
                    attempts: attempt,
                    elapsed_secs: started.elapsed().as_secs_f64(),
                    last,
                });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            crate::telemetry::metrics().http_retries.add(
                1,
                &[KeyValue::new(
                    "server.address",
                    url.host_str().unwrap_or("").to_owned(),
                )],
            );
            tracing::warn!(url = %redact(url), attempt, delay_ms = delay.as_millis() as u64, reason = %last, "retrying");
            let why = if told {
                "as Retry-After asks"
            } else {
                "backing off"
            };
            let host = url.host_str().unwrap_or("the server");
            let _shown = crate::progress::waiting(format!("{last} from {host}, {why}"), delay);
            tokio::time::sleep(delay).await;
        }
    }

    /// One GET, no retry: for a check before a run, which must answer within seconds.
    /// A status worth a retry comes back as [`HttpError::Status`], a transport failure
    /// as [`HttpError::Transport`].
    pub async fn get_once(&self, url: &Url) -> Result<Fetched, HttpError> {
        match self.attempt(url, 1).await {
            Attempt::Done(fetched) => Ok(fetched),
            Attempt::Fatal(error) => Err(error),
            Attempt::Retry { reason, .. } => Err(Self::unretried(url, reason)),
        }
    }

    /// One HEAD, no retry: whether a file exists, without downloading it.
    pub async fn head_once(&self, url: &Url) -> Result<u16, HttpError> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = match self
            .authorized(self.inner.head(url.clone()), url)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => {
                return Err(transport_reason(url, e).map_or_else(|e| e, |r| Self::unretried(url, r)))
            }
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(status)
        } else {
            Err(HttpError::Status {
                url: redact(url),
                status,
                body: String::new(),
            })
        }
    }

    fn unretried(url: &Url, reason: RetryReason) -> HttpError {
        match reason {
            RetryReason::Status(status) => HttpError::Status {
                url: redact(url),
                status,
                body: String::new(),
            },
            RetryReason::Transport { kind, message } => HttpError::Transport {
                url: redact(url),
                message: format!("{kind}: {message}"),
            },
        }
    }

    /// The request with the token, when it goes to the host the token is for.
    fn authorized(&self, request: reqwest::RequestBuilder, url: &Url) -> reqwest::RequestBuilder {
        match &self.auth {
            Some((host, token)) if url.host_str() == Some(host.as_str()) => {
                request.bearer_auth(token.expose())
            }
            _ => request,
        }
    }

    /// Whether requests carry a token (to the host it is for).
    pub fn has_auth(&self) -> bool {
        self.auth.is_some()
    }

    async fn attempt(&self, url: &Url, attempt: u32) -> Attempt {
        let span = tracing::info_span!(
            "HTTP GET",
            otel.kind = "client",
            http.request.method = "GET",
            server.address = url.host_str().unwrap_or(""),
            url.full = %redact(url),
            http.request.resend_count = i64::from(attempt - 1),
            http.response.status_code = tracing::field::Empty,
            error.r#type = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self.send(url).instrument(span.clone()).await;
        // Semantic conventions: the status code when there was a response; `error.type`
        // is the status code for HTTP errors, or what failed otherwise.
        let (status, error): (Option<u16>, Option<String>) = match &result {
            Attempt::Done(fetched) => (Some(fetched.status), None),
            Attempt::Retry {
                reason: RetryReason::Status(code),
                ..
            } => (Some(*code), Some(code.to_string())),
            Attempt::Retry { reason, .. } => (None, Some(reason.to_string())),
            Attempt::Fatal(HttpError::Status { status, .. }) => {
                (Some(*status), Some(status.to_string()))
            }
            Attempt::Fatal(e) => (None, Some(e.metric_label().to_owned())),
        };
        let mut attributes = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("server.address", url.host_str().unwrap_or("").to_owned()),
        ];
        if let Some(port) = url.port_or_known_default() {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
        if let Some(status) = status {
            span.record("http.response.status_code", i64::from(status));
            attributes.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if let Some(error) = error {
            span.record("error.type", error.as_str());
            attributes.push(KeyValue::new("error.type", error));
        }
        crate::telemetry::metrics()
            .http_duration
            .record(started.elapsed().as_secs_f64(), &attributes);
        result
    }

    async fn send(&self, url: &Url) -> Attempt {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let request = self.authorized(self.inner.get(url.clone()), url);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(url, e),
        };
        let status = response.status();
        let headers = response.headers().clone();
        self.note_rate_limit(&headers, url).await;
        if status.is_success() {
            return match response.bytes().await {
                Ok(body) => Attempt::Done(Fetched {
                    status: status.as_u16(),
                    url: url.clone(),
                    headers,
                    body,
                }),
                Err(e) => transport_failure(url, e),
            };
        }
        if is_retried(status.as_u16()) {
            let delay = server_delay(&headers).map(|asked| self.capped(asked, url));
            if delay.is_some() {
                self.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::metrics().rate_limit_waits.add(1, &[]);
            }
            return Attempt::Retry {
                delay,
                reason: RetryReason::Status(status.as_u16()),
            };
        }
        let body = response.text().await.unwrap_or_default();
        Attempt::Fatal(HttpError::Status {
            url: redact(url),
            status: status.as_u16(),
            body: body.chars().take(200).collect(),
        })
    }

    /// A wait the server asked for, cut to `http.max_server_wait_secs` with a warning.
    fn capped(&self, asked: Duration, url: &Url) -> Duration {
        let cap = Duration::from_secs_f64(self.settings.max_server_wait_secs);
        if asked > cap {
            tracing::warn!(
                url = %redact(url),
                asked_secs = asked.as_secs_f64(),
                waiting_secs = cap.as_secs_f64(),
                "the server asked for a longer wait than http.max_server_wait_secs; waiting that long instead"
            );
            return cap;
        }
        asked
    }

    /// When the Hub says the window is spent (`r=0`), hold every request until it resets.
    async fn note_rate_limit(&self, headers: &HeaderMap, url: &Url) {
        if let Some(RateLimit {
            remaining: 0,
            reset,
        }) = rate_limit(headers)
        {
            let now = Instant::now();
            let until = now.checked_add(self.capped(reset, url)).unwrap_or(now);
            let mut pause = self.pause_until.lock().await;
            if pause.is_none_or(|p| p < until) {
                *pause = Some(until);
            }
        }
    }

    async fn wait_for_rate_limit_window(&self) {
        let until = *self.pause_until.lock().await;
        if let Some(until) = until {
            if until > Instant::now() {
                self.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::metrics().rate_limit_waits.add(1, &[]);
                let left = until - Instant::now();
                tracing::info!(
                    wait_ms = left.as_millis() as u64,
                    "rate limit window spent; waiting"
                );
                let _shown = crate::progress::waiting("the rate-limit window is spent", left);
                tokio::time::sleep_until(until.into()).await;
            }
        }
    }

    /// Exponential backoff with jitter: a random delay in [half, full] of the capped step.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .settings
            .backoff_initial_ms
            .saturating_mul(1u64 << (attempt - 1).min(20))
            .min(self.settings.backoff_max_ms)
            .max(1);
        let jittered = rand::rng().random_range(step / 2..=step);
        Duration::from_millis(jittered)
    }
}

enum Attempt {
    Done(Fetched),
    Retry {
        delay: Option<Duration>,
        reason: RetryReason,
    },
    Fatal(HttpError),
}

/// Why an attempt is worth another: a status huggingface_hub retries, or a transport
/// failure (timeout, refused connection, a body cut short). Written as the retry log
/// line and the exhausted error say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    Status(u16),
    Transport { kind: &'static str, message: String },
}

impl std::fmt::Display for RetryReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status) => write!(f, "HTTP {status}"),
            Self::Transport { kind, message } => write!(f, "{kind}: {message}"),
        }
    }
}

fn transport_failure(url: &Url, error: reqwest::Error) -> Attempt {
    match transport_reason(url, error) {
        Ok(reason) => Attempt::Retry {
            delay: None,
            reason,
        },
        Err(error) => Attempt::Fatal(error),
    }
}

/// What failed in transport, worth a retry; or a request that could not be built.
fn transport_reason(url: &Url, error: reqwest::Error) -> Result<RetryReason, HttpError> {
    // reqwest's message names the URL; we name it ourselves, redacted.
    let error = error.without_url();
    if error.is_builder() {
        return Err(HttpError::Transport {
            url: redact(url),
            message: error.to_string(),
        });
    }
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect error"
    } else if error.is_body() || error.is_decode() {
        "body read error"
    } else {
        "transport error"
    };
    Ok(RetryReason::Transport {
        kind,
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo() {
        let url = Url::parse("https://user:hunter2@example.com/x?y=1").unwrap();
        assert_eq!(redact(&url), "https://example.com/x?y=1");
    }

    #[test]
    fn decode_error_names_url_and_position() {
        let url = Url::parse("http://127.0.0.1/api/models").unwrap();
        let err =
            decode_json::<serde_json::Value>(&url, b"[{\"id\": \"a\"},\n{\"id\": ").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("http://127.0.0.1/api/models"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("truncated"), "{text}");
    }
}
