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
use crate::run::{artifact, RunId};

pub const LOCK_KEY: &str = artifact::LOCK_JSON;

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
    stop_renewing: CancellationToken,
    renewer: tokio::task::JoinHandle<()>,
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
                let stop_renewing = CancellationToken::new();
                let renewer = tokio::spawn(renew(store.clone(), mine, ttl, stop_renewing.clone()));
                return Ok(Self {
                    store,
                    token,
                    stop_renewing,
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
            let _shown = crate::progress::waiting(
                format!(
                    "{LOCK_KEY} is held by an earlier attempt ({}), likely dead, until it expires",
                    held.owner
                ),
                left,
            );
            tokio::select! {
                _ = tokio::time::sleep(left.min(ttl) + Duration::from_millis(50)) => {}
                _ = cancel.cancelled() => return Err(refuse()),
            }
        }
    }

    /// Stop renewing and delete the lock if it is still ours. The renewer is waited for
    /// first: a renewal still in flight would otherwise write the lock back after the
    /// delete, and hold the output for another time-to-live.
    pub async fn release(self) {
        self.stop_renewing.cancel();
        let _ = self.renewer.await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalStore;

    /// A store that holds every overwrite of the lock (a renewal) until told to go on.
    #[derive(Debug)]
    struct HeldRenewals {
        inner: LocalStore,
        renewing: tokio::sync::Notify,
        go_on: tokio::sync::Notify,
        written: tokio::sync::Notify,
    }

    #[async_trait::async_trait]
    impl Store for HeldRenewals {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
            if key != LOCK_KEY {
                return self.inner.put(key, body).await;
            }
            self.renewing.notify_one();
            self.go_on.notified().await;
            let written = self.inner.put(key, body).await;
            self.written.notify_one();
            written
        }
        async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), StoreError> {
            self.inner.put_file(key, path).await
        }
        async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError> {
            self.inner.put_if_absent(key, body).await
        }
        async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
            self.inner.get(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.inner.list(prefix).await
        }
        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.inner.delete(key).await
        }
    }

    /// A release while a renewal is in flight: the renewal must not write the lock back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_released_lock_is_not_written_back_by_a_renewal_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(HeldRenewals {
            inner: LocalStore::open(dir.path()).unwrap(),
            renewing: tokio::sync::Notify::new(),
            go_on: tokio::sync::Notify::new(),
            written: tokio::sync::Notify::new(),
        });
        let ttl = Duration::from_millis(30);
        let run = RunId::parse("r1").unwrap();
        let lock = RunLock::acquire(store.clone(), &run, ttl, &CancellationToken::new())
            .await
            .unwrap();
        // The renewer has read the lock, found it its own, and is about to write it.
        store.renewing.notified().await;
        let mut release = tokio::spawn(lock.release());
        // A release that does not wait for the renewer finishes here, before the write.
        let finished_early = tokio::time::timeout(Duration::from_millis(200), &mut release)
            .await
            .is_ok();
        store.go_on.notify_one();
        store.written.notified().await;
        if !finished_early {
            release.await.unwrap();
        }
        assert!(
            store.get(LOCK_KEY).await.unwrap().is_none(),
            "lock.json came back after its release"
        );
    }

    #[tokio::test]
    async fn a_second_run_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(LocalStore::open(dir.path()).unwrap());
        let cancel = CancellationToken::new();
        let ttl = Duration::from_secs(60);
        let first = RunId::parse("first").unwrap();
        let held = RunLock::acquire(store.clone(), &first, ttl, &cancel)
            .await
            .unwrap();
        let refused = RunLock::acquire(
            store.clone(),
            &RunId::parse("second").unwrap(),
            ttl,
            &cancel,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(refused.contains("is in use: run first"), "{refused}");
        held.release().await;
        RunLock::acquire(store, &RunId::parse("second").unwrap(), ttl, &cancel)
            .await
            .unwrap()
            .release()
            .await;
    }
}
