//! One run at a time per output: `lock.json` at the store's root, created with a
//! conditional create (`If-None-Match: *` on S3, a hard link on disk), carrying its
//! owner and an expiry that the running job keeps pushing forward.
//!
//! A second run refuses with the holder's name. A crashed run's lock is taken over
//! once it has expired. A retry of the *same* run (the CronJob's next pod) waits for
//! the crashed pod's lock to expire rather than failing. Known gap: two runs that both
//! find the same expired lock at the same instant may both delete it; only the first
//! create then wins, but the loser may already have deleted the winner's fresh lock.
//! The CronJob's `concurrencyPolicy: Forbid` keeps that from arising in production.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Store, StoreError};
use crate::types::RunId;

pub const LOCK_KEY: &str = "lock.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockFile {
    pub run_id: String,
    /// `host:pid`, for people: which pod or process holds the output.
    pub owner: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Tells this holder's lock from a later one with the same owner.
    pub token: String,
}

/// A held lock, renewed in the background until [`RunLock::release`].
#[derive(Debug)]
pub struct RunLock {
    store: Arc<dyn Store>,
    token: String,
    renewer: CancellationToken,
}

fn owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

fn encode(lock: &LockFile) -> Bytes {
    Bytes::from(serde_json::to_vec_pretty(lock).unwrap_or_default())
}

impl RunLock {
    pub async fn acquire(
        store: Arc<dyn Store>,
        run_id: &RunId,
        ttl: Duration,
        cancel: &CancellationToken,
    ) -> Result<Self, StoreError> {
        let token = format!("{:032x}", rand::random::<u128>());
        let give_up = tokio::time::Instant::now() + ttl * 2;
        let where_ = || format!("{}/{LOCK_KEY}", store.describe());
        loop {
            let now = Utc::now();
            let mine = LockFile {
                run_id: run_id.to_string(),
                owner: owner(),
                acquired_at: now,
                expires_at: now + ttl,
                token: token.clone(),
            };
            if store.put_if_absent(LOCK_KEY, encode(&mine)).await? {
                let renewer = CancellationToken::new();
                tokio::spawn(renew(store.clone(), mine, ttl, renewer.clone()));
                return Ok(Self {
                    store,
                    token,
                    renewer,
                });
            }
            let Some(body) = store.get(LOCK_KEY).await? else {
                continue; // released between our create and our read: try again
            };
            let held: LockFile = serde_json::from_slice(&body).map_err(|e| {
                StoreError::Locked(format!(
                    "{} exists but is not a hfharvest lock ({e}); if no run is going, delete it",
                    where_()
                ))
            })?;
            if held.expires_at <= Utc::now() {
                tracing::warn!(holder = %held.owner, run = %held.run_id, expired = %held.expires_at, "taking over an expired run lock");
                store.delete(LOCK_KEY).await?;
                continue;
            }
            let refuse = || {
                StoreError::Locked(format!(
                    "{} is in use: run {} ({}) holds {} until {} (renewed while it runs). \
                     One run at a time per output; if that run crashed, its lock can be \
                     taken over after that time",
                    store.describe(),
                    held.run_id,
                    held.owner,
                    LOCK_KEY,
                    held.expires_at.to_rfc3339()
                ))
            };
            if held.run_id != run_id.as_str() || tokio::time::Instant::now() >= give_up {
                return Err(refuse());
            }
            // The same run, most likely a crashed pod's: wait for its lock to expire.
            let left = (held.expires_at - Utc::now()).to_std().unwrap_or_default();
            tracing::info!(holder = %held.owner, wait = ?left, "run {run_id} is locked by an earlier attempt; waiting for its lock to expire");
            tokio::select! {
                _ = tokio::time::sleep(left.min(ttl) + Duration::from_millis(50)) => {}
                _ = cancel.cancelled() => return Err(refuse()),
            }
        }
    }

    /// Stop renewing and delete the lock if it is still ours.
    pub async fn release(self) {
        self.renewer.cancel();
        match self.store.get(LOCK_KEY).await {
            Ok(Some(body)) => {
                let ours = serde_json::from_slice::<LockFile>(&body)
                    .map(|l| l.token == self.token)
                    .unwrap_or(false);
                if ours {
                    if let Err(e) = self.store.delete(LOCK_KEY).await {
                        tracing::warn!(error = %e, "could not release the run lock; it expires on its own");
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not release the run lock; it expires on its own")
            }
        }
    }
}

/// Push the expiry forward every third of the time-to-live while the run goes on.
async fn renew(store: Arc<dyn Store>, mut lock: LockFile, ttl: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(ttl / 3) => {}
            _ = stop.cancelled() => return,
        }
        let still_ours = match store.get(LOCK_KEY).await {
            Ok(Some(body)) => serde_json::from_slice::<LockFile>(&body)
                .map(|l| l.token == lock.token)
                .unwrap_or(false),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the run lock; retrying");
                continue;
            }
        };
        if !still_ours {
            tracing::error!(
                "the run lock was taken over by another run; this run no longer holds the output"
            );
            return;
        }
        lock.expires_at = Utc::now() + ttl;
        if let Err(e) = store.put(LOCK_KEY, encode(&lock)).await {
            tracing::warn!(error = %e, "could not renew the run lock; retrying");
        }
    }
}
