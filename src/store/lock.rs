//! One run at a time per output: `lock.json` at the store's root, created with a
//! conditional create (`If-None-Match: *` on S3, a no-clobber link on disk), carrying
//! its owner and an expiry that the running job keeps pushing forward.
//!
//! Every later write of the lock is conditional on the version last seen (`If-Match`
//! on the ETag; a compare-and-swap on disk): a renewal, a release, and the takeover of
//! an expired lock. So of two runs that find the same expired lock, only one takes it;
//! and a run whose lock was taken finds out at its next renewal, and stops. Where the
//! store cannot delete on a version (s3s-fs), the release reads the lock back and
//! deletes it only if it is still this run's.
//!
//! A second run refuses with the holder's name. A retry of the *same* run (the
//! CronJob's next pod) waits for the crashed pod's lock to expire rather than failing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{DeleteMode, PutMode, Store, StoreError, Version};
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
    /// The version of `lock.json` this run last wrote.
    version: Arc<Mutex<Version>>,
    stop_renewing: CancellationToken,
    lost: CancellationToken,
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
        let give_up = tokio::time::Instant::now() + ttl.saturating_mul(2);
        let where_ = || format!("{}/{LOCK_KEY}", store.describe());
        loop {
            let now = Utc::now();
            let mine = LockFile {
                run_id: run_id.to_string(),
                owner: owner(),
                acquired_at: now,
                expires_at: expiry(now, ttl),
                token: token.clone(),
            };
            match store.put(LOCK_KEY, encode(&mine), PutMode::Create).await {
                Ok(version) => return Ok(Self::held(store, mine, version, ttl)),
                Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
            let Some((body, version)) = store.get_versioned(LOCK_KEY).await? else {
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
                // Replace exactly the lock we read: of two runs that found it, one wins.
                match store
                    .put(LOCK_KEY, encode(&mine), PutMode::Update(version))
                    .await
                {
                    Ok(version) => return Ok(Self::held(store, mine, version, ttl)),
                    Err(StoreError::Precondition { .. }) => continue,
                    Err(e) => return Err(e),
                }
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

    fn held(store: Arc<dyn Store>, lock: LockFile, version: Version, ttl: Duration) -> Self {
        let version = Arc::new(Mutex::new(version));
        let stop_renewing = CancellationToken::new();
        let lost = CancellationToken::new();
        let renewer = tokio::spawn(renew(
            store.clone(),
            lock,
            version.clone(),
            ttl,
            stop_renewing.clone(),
            lost.clone(),
        ));
        Self {
            store,
            version,
            stop_renewing,
            lost,
            renewer,
        }
    }

    /// Cancelled when another run took the lock: this run must stop writing.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// Stop renewing and delete the lock if it is still ours. The renewer is waited for
    /// first: a renewal still in flight would otherwise write the lock back after the
    /// delete, and hold the output for another time-to-live.
    pub async fn release(self) {
        self.stop_renewing.cancel();
        let _ = self.renewer.await;
        if self.lost.is_cancelled() {
            return;
        }
        let version = self
            .version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let released = match self
            .store
            .delete(LOCK_KEY, DeleteMode::IfMatch(version.clone()))
            .await
        {
            Err(StoreError::NotImplemented { reason, .. }) => {
                tracing::debug!(%reason, "releasing the run lock by reading it back first");
                delete_if_still(self.store.as_ref(), &version).await
            }
            released => released,
        };
        match released {
            Ok(()) => {}
            Err(StoreError::Precondition { .. }) => {
                tracing::warn!("the run lock had changed hands by its release; left as it is")
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not release the run lock; it expires on its own")
            }
        }
    }
}

/// The release on a store that cannot delete on a version (s3s-fs): delete the lock if
/// it still reads as the version this run wrote. Between the read and the delete another
/// run could only take it by a takeover, which waits for an expiry the renewals kept
/// ahead; a lock that reads as another's is left alone.
async fn delete_if_still(store: &dyn Store, version: &Version) -> Result<(), StoreError> {
    match store.get_versioned(LOCK_KEY).await? {
        Some((_, current)) if current == *version => store.delete(LOCK_KEY, DeleteMode::Any).await,
        Some(_) => Err(StoreError::Precondition {
            location: format!("{}/{LOCK_KEY}", store.describe()),
        }),
        None => Ok(()),
    }
}

/// `now + ttl`, saturating: a huge time-to-live never overflows.
fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Push the expiry forward every third of the time-to-live while the run goes on, each
/// time only over the version this run wrote last. If that version is gone, another
/// run has the lock: say so, and mark the lock lost.
async fn renew(
    store: Arc<dyn Store>,
    mut lock: LockFile,
    version: Arc<Mutex<Version>>,
    ttl: Duration,
    stop: CancellationToken,
    lost: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(ttl / 3) => {}
            _ = stop.cancelled() => return,
        }
        let held_until = lock.expires_at;
        lock.expires_at = expiry(Utc::now(), ttl);
        let current = version.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match store
            .put(LOCK_KEY, encode(&lock), PutMode::Update(current))
            .await
        {
            Ok(next) => *version.lock().unwrap_or_else(|p| p.into_inner()) = next,
            Err(StoreError::Precondition { .. }) => {
                tracing::error!(
                    "the run lock was taken over by another run; this run no longer holds the output and stops"
                );
                lost.cancel();
                return;
            }
            Err(e) if Utc::now() < held_until => {
                lock.expires_at = held_until;
                tracing::warn!(error = %e, "could not renew the run lock; retrying");
            }
            Err(e) => {
                tracing::error!(error = %e, "could not renew the run lock before it ran out; this run stops");
                lost.cancel();
                return;
            }
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
        async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
            if key != LOCK_KEY || !matches!(mode, PutMode::Update(_)) {
                return self.inner.put(key, body, mode).await;
            }
            self.renewing.notify_one();
            self.go_on.notified().await;
            let written = self.inner.put(key, body, mode).await;
            self.written.notify_one();
            written
        }
        async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), StoreError> {
            self.inner.put_file(key, path).await
        }
        async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
            self.inner.get_versioned(key).await
        }
        async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
            self.inner.get(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.inner.list(prefix).await
        }
        async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
            self.inner.delete(key, mode).await
        }
    }

    /// A store that cannot delete on a version, as the S3 store over s3s-fs.
    #[derive(Debug)]
    struct NoConditionalDelete(LocalStore);

    #[async_trait::async_trait]
    impl Store for NoConditionalDelete {
        fn describe(&self) -> String {
            self.0.describe()
        }
        async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
            self.0.put(key, body, mode).await
        }
        async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), StoreError> {
            self.0.put_file(key, path).await
        }
        async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
            self.0.get_versioned(key).await
        }
        async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
            self.0.get(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.0.list(prefix).await
        }
        async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
            match mode {
                DeleteMode::Any => self.0.delete(key, mode).await,
                DeleteMode::IfMatch(_) => Err(StoreError::NotImplemented {
                    op: "delete if-match",
                    backend: self.describe(),
                    reason: "not in this test".into(),
                }),
            }
        }
    }

    #[tokio::test]
    async fn a_store_that_cannot_delete_on_a_version_still_releases_only_its_own_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(NoConditionalDelete(LocalStore::open(dir.path()).unwrap()));
        let ttl = Duration::from_secs(60);
        let cancel = CancellationToken::new();
        let run = RunId::parse("mine").unwrap();
        RunLock::acquire(store.clone(), &run, ttl, &cancel)
            .await
            .unwrap()
            .release()
            .await;
        assert!(store.get(LOCK_KEY).await.unwrap().is_none(), "released");

        let lock = RunLock::acquire(store.clone(), &run, ttl, &cancel)
            .await
            .unwrap();
        let now = Utc::now();
        let theirs = LockFile {
            run_id: "theirs".into(),
            owner: "elsewhere:2".into(),
            acquired_at: now,
            expires_at: now + chrono::Duration::seconds(600),
            token: "theirs".into(),
        };
        store
            .put(LOCK_KEY, encode(&theirs), PutMode::Overwrite)
            .await
            .unwrap();
        lock.release().await;
        let left: LockFile =
            serde_json::from_slice(&store.get(LOCK_KEY).await.unwrap().unwrap()).unwrap();
        assert_eq!(left.token, "theirs", "another run's lock is left alone");
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

    /// A lock that has run out, as a crashed run leaves it.
    fn expired_lock(run: &str) -> Bytes {
        let past = Utc::now() - chrono::Duration::seconds(60);
        encode(&LockFile {
            run_id: run.into(),
            owner: "gone:1".into(),
            acquired_at: past,
            expires_at: past,
            token: "dead".into(),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_two_runs_that_find_one_expired_lock_only_one_takes_it() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let store: Arc<dyn Store> = Arc::new(LocalStore::open(dir.path()).unwrap());
            store
                .put(LOCK_KEY, expired_lock("crashed"), PutMode::Overwrite)
                .await
                .unwrap();
            let cancel = CancellationToken::new();
            let ttl = Duration::from_secs(60);
            let (a, b) = (RunId::parse("a").unwrap(), RunId::parse("b").unwrap());
            let (first, second) = tokio::join!(
                RunLock::acquire(store.clone(), &a, ttl, &cancel),
                RunLock::acquire(store.clone(), &b, ttl, &cancel)
            );
            assert!(
                first.is_ok() != second.is_ok(),
                "exactly one run takes the expired lock: {first:?} / {second:?}"
            );
            for lock in [first, second].into_iter().flatten() {
                lock.release().await;
            }
        }
    }

    #[tokio::test]
    async fn a_lock_taken_by_another_run_is_lost_at_the_next_renewal() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(LocalStore::open(dir.path()).unwrap());
        let ttl = Duration::from_millis(300);
        let lock = RunLock::acquire(
            store.clone(),
            &RunId::parse("mine").unwrap(),
            ttl,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(!lock.is_lost());
        // Another run writes its own lock over ours (say, after ours looked expired).
        let now = Utc::now();
        let theirs = LockFile {
            run_id: "theirs".into(),
            owner: "elsewhere:2".into(),
            acquired_at: now,
            expires_at: now + chrono::Duration::seconds(600),
            token: "theirs".into(),
        };
        store
            .put(LOCK_KEY, encode(&theirs), PutMode::Overwrite)
            .await
            .unwrap();
        tokio::time::timeout(ttl * 2, lock.lost().cancelled())
            .await
            .expect("the renewal finds the lock gone");
        lock.release().await;
        let left: LockFile =
            serde_json::from_slice(&store.get(LOCK_KEY).await.unwrap().unwrap()).unwrap();
        assert_eq!(
            left.token, "theirs",
            "the release leaves the other run's lock alone"
        );
    }
}
