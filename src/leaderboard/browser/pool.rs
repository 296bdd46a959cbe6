//! The workers: K sessions share the models from one queue. A session that dies is
//! replaced and its model retried; every session is quit on every path.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::driver::{Session, WebDriverEndpoint};
use super::page::{lookup, Failure};
use super::BrowserError;
use crate::leaderboard::{LeaderboardError, LeaderboardSettings, Lookup};
use crate::run::{ModelId, Quarantined};
use crate::store::CheckpointSink;

/// Look `models` up with K sessions, handing each answer to the sink; returns how many
/// sessions were replaced.
pub(super) async fn look_up_all(
    settings: &LeaderboardSettings,
    endpoint: &WebDriverEndpoint,
    models: &[ModelId],
    sink: &CheckpointSink<Lookup>,
    quarantine: &Mutex<Vec<Quarantined>>,
    cancel: &CancellationToken,
) -> Result<u64, LeaderboardError> {
    let queue = Arc::new(Mutex::new(models.iter().cloned().collect::<VecDeque<_>>()));
    let restarts = Arc::new(AtomicU64::new(0));
    let workers = (0..settings.browser_sessions.min(models.len()).max(1)).map(|_| {
        Worker {
            settings,
            endpoint,
            queue: queue.clone(),
            sink,
            quarantine,
            cancel,
            restarts: restarts.clone(),
        }
        .run()
    });
    let results = futures::future::join_all(workers).await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(restarts.load(Ordering::Relaxed))
}

struct Worker<'a> {
    settings: &'a LeaderboardSettings,
    endpoint: &'a WebDriverEndpoint,
    queue: Arc<Mutex<VecDeque<ModelId>>>,
    sink: &'a CheckpointSink<Lookup>,
    /// Table rows that name no model, from every worker.
    quarantine: &'a Mutex<Vec<Quarantined>>,
    cancel: &'a CancellationToken,
    restarts: Arc<AtomicU64>,
}

impl Worker<'_> {
    async fn run(self) -> Result<(), LeaderboardError> {
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

    async fn work(&self, session: &mut Option<Session>) -> Result<(), LeaderboardError> {
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
    ) -> Result<(), LeaderboardError> {
        // Up to four bounded waits (rows after an in-app search; frame, table and rows
        // after a page load) plus the loads themselves.
        let budget = Duration::from_secs_f64(self.settings.page_timeout_secs * 4.0 + 10.0);
        let mut tries = 0;
        let lookup = loop {
            if self.cancel.is_cancelled() {
                return Err(LeaderboardError::Interrupted);
            }
            if session.is_none() {
                *session = Some(self.endpoint.open_session(self.settings).await?);
            }
            let open = session.as_mut().expect("session just opened");
            let commands = lookup(open, self.settings, model).instrument(tracing::info_span!(
                "webdriver lookup",
                model.id = %model,
                attempt = tries + 1
            ));
            let attempt = tokio::select! {
                r = tokio::time::timeout(budget, commands) => r,
                _ = self.cancel.cancelled() => return Err(LeaderboardError::Interrupted),
            };
            let reason = match attempt {
                Ok(Ok((lookup, quarantined))) => {
                    self.quarantine
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(quarantined);
                    break lookup;
                }
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
                return Err(BrowserError::SessionsDied {
                    restarts: *own_restarts,
                    model: model.clone(),
                    last: reason,
                }
                .into());
            }
            if tries >= 2 {
                break Lookup::error(format!("the browser failed twice on this model: {reason}"));
            }
        };
        self.sink.record(model, lookup).await?;
        if !self.settings.reuse_sessions {
            if let Some(session) = session.take() {
                session.quit().await;
            }
        }
        Ok(())
    }
}
