//! The workers: K sessions share the models from one queue, a batch at a time. A
//! session that dies is replaced and its batch retried; every session is quit on every
//! path. Page-level failures in a row (across workers) stop the stage.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::driver::{Session, WebDriverEndpoint};
use super::page::{look_up_batch, Failure};
use super::BrowserError;
use crate::lookup::CheckpointSink;
use crate::progress::Lane;
use crate::run::{ModelId, Quarantined};
use crate::scores::{LeaderboardSettings, Lookup, ScoresError};

/// Look `models` up with K sessions, handing each answer to the sink and each table row
/// that names no model to `quarantine`; returns how many sessions were replaced.
pub(super) async fn look_up_all(
    settings: &LeaderboardSettings,
    endpoint: &WebDriverEndpoint,
    models: &[ModelId],
    sink: &CheckpointSink<Lookup>,
    quarantine: &Mutex<Vec<Quarantined>>,
    cancel: &CancellationToken,
) -> Result<u64, ScoresError> {
    // One model a search, and a browser a model, when sessions are not reused: the
    // original tool's pattern, kept to benchmark against.
    let batch_size = if settings.reuse_sessions {
        settings.batch_size
    } else {
        1
    };
    let shared = Shared {
        queue: Mutex::new(models.iter().cloned().collect()),
        restarts: AtomicU64::new(0),
        page_errors_in_a_row: AtomicU32::new(0),
        stop: cancel.child_token(),
    };
    let sessions = settings
        .browser_sessions
        .min(models.len().div_ceil(batch_size))
        .max(1);
    let workers = (0..sessions).map(|i| {
        Worker {
            settings,
            endpoint,
            sink,
            quarantine,
            cancel,
            shared: &shared,
            batch_size,
            lane: sink.progress().lane(&format!("session {}", i + 1)),
        }
        .run()
    });
    let results = futures::future::join_all(workers).await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(shared.restarts.load(Ordering::Relaxed))
}

struct Shared {
    queue: Mutex<VecDeque<ModelId>>,
    restarts: AtomicU64,
    page_errors_in_a_row: AtomicU32,
    /// Cancelled when one worker stops the stage, so the others stop taking batches.
    stop: CancellationToken,
}

struct Worker<'a> {
    settings: &'a LeaderboardSettings,
    endpoint: &'a WebDriverEndpoint,
    sink: &'a CheckpointSink<Lookup>,
    quarantine: &'a Mutex<Vec<Quarantined>>,
    cancel: &'a CancellationToken,
    shared: &'a Shared,
    batch_size: usize,
    /// This session's line under the stage's bar: its batch and how many it has done.
    lane: Lane,
}

impl Worker<'_> {
    async fn run(self) -> Result<(), ScoresError> {
        let mut session: Option<Session> = None;
        let result = self.work(&mut session).await;
        if let Some(session) = session.take() {
            session.quit().await;
        }
        if result.is_err() {
            self.shared.stop.cancel();
        }
        result
    }

    fn next_batch(&self) -> Vec<ModelId> {
        let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let n = self.batch_size.min(queue.len());
        queue.drain(..n).collect()
    }

    async fn work(&self, session: &mut Option<Session>) -> Result<(), ScoresError> {
        let mut own_restarts = 0u32;
        let (mut batches, mut done) = (0u64, 0usize);
        loop {
            if self.cancel.is_cancelled() {
                return Err(ScoresError::Interrupted);
            }
            if self.shared.stop.is_cancelled() {
                return Ok(());
            }
            let batch = self.next_batch();
            if batch.is_empty() {
                return Ok(());
            }
            batches += 1;
            self.lane.set(&match batch.len() {
                1 => format!("{} ({done} done)", batch[0]),
                n => format!(
                    "batch {batches}: {n} models from {} ({done} done)",
                    batch[0]
                ),
            });
            self.one_batch(session, &batch, &mut own_restarts).await?;
            done += batch.len();
            if !self.settings.reuse_sessions {
                if let Some(session) = session.take() {
                    session.quit().await;
                }
            }
        }
    }

    /// Look a batch up, replacing a dead session (at most twice for this batch, and
    /// `max_session_restarts` times in all), and checkpoint each answer.
    async fn one_batch(
        &self,
        session: &mut Option<Session>,
        batch: &[ModelId],
        own_restarts: &mut u32,
    ) -> Result<(), ScoresError> {
        // Opening the app, the search and reading every row, each bounded.
        let budget = Duration::from_secs_f64(self.settings.page_timeout_secs * 3.0 + 10.0);
        let mut tries = 0;
        let answers = loop {
            if self.cancel.is_cancelled() {
                return Err(ScoresError::Interrupted);
            }
            if session.is_none() {
                self.lane.set("opening a browser session");
                *session = Some(self.endpoint.open_session(self.settings).await?);
            }
            let open = session.as_mut().expect("session just opened");
            let commands =
                look_up_batch(open, self.settings, batch).instrument(tracing::info_span!(
                    "webdriver lookup",
                    models = batch.len(),
                    attempt = tries + 1
                ));
            let attempt = tokio::select! {
                r = tokio::time::timeout(budget, commands) => r,
                _ = self.cancel.cancelled() => return Err(ScoresError::Interrupted),
            };
            let reason = match attempt {
                Ok(Ok((answers, quarantined))) => {
                    self.shared.page_errors_in_a_row.store(0, Ordering::Relaxed);
                    self.quarantine
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(quarantined);
                    break answers;
                }
                Ok(Err(Failure::Page(reason))) => break self.page_failed(batch, reason)?,
                Ok(Err(Failure::Session(reason))) => reason,
                Err(_) => format!("no answer within {budget:?}"),
            };
            self.session_failed(session, batch, &reason, own_restarts)
                .await?;
            tries += 1;
            if tries >= 2 {
                let reason = format!("the browser failed twice on this batch: {reason}");
                break batch
                    .iter()
                    .map(|m| (m.clone(), Lookup::error(reason.clone())))
                    .collect();
            }
        };
        // The batch's answers came from one page's table: one checkpoint object.
        self.sink.record_many(answers).await?;
        Ok(())
    }

    /// The page failed on this batch: its models are errors (a rerun asks again),
    /// unless it has failed `max_page_errors_in_a_row` times running, which stops the
    /// stage.
    fn page_failed(
        &self,
        batch: &[ModelId],
        reason: String,
    ) -> Result<Vec<(ModelId, Lookup)>, ScoresError> {
        let in_a_row = self
            .shared
            .page_errors_in_a_row
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        tracing::warn!(models = batch.len(), reason = %reason, in_a_row, "the leaderboard page failed");
        if in_a_row >= self.settings.max_page_errors_in_a_row {
            return Err(ScoresError::PageBroken {
                in_a_row,
                last: reason,
            });
        }
        Ok(batch
            .iter()
            .map(|m| (m.clone(), Lookup::error(reason.clone())))
            .collect())
    }

    /// The session died: quit it, count the restart, and stop the worker when it has
    /// restarted more than `max_session_restarts` times.
    async fn session_failed(
        &self,
        session: &mut Option<Session>,
        batch: &[ModelId],
        reason: &str,
        own_restarts: &mut u32,
    ) -> Result<(), ScoresError> {
        tracing::warn!(models = batch.len(), reason = %reason, "browser session failed; starting a new one");
        if let Some(dead) = session.take() {
            dead.quit().await;
        }
        self.shared.restarts.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::metrics().session_restarts.add(1, &[]);
        *own_restarts += 1;
        if *own_restarts > self.settings.max_session_restarts {
            return Err(BrowserError::SessionsDied {
                restarts: *own_restarts,
                model: batch[0].clone(),
                last: reason.to_owned(),
            }
            .into());
        }
        Ok(())
    }
}
