//! `runs/index.json` in the store: read it, and change it with a compare-and-swap, so
//! two writers (a run's publish step and `hfharvest history rebuild`) never lose each
//! other's entries.

use bytes::Bytes;

use super::{PutMode, Store, StoreError, Version};
use crate::run::{RunIndex, RUNS_INDEX};

/// Attempts at a conditional write before giving up: only a writer that keeps losing
/// the race to others would use them all.
const ATTEMPTS: usize = 8;

fn parse(store: &dyn Store, body: &[u8]) -> Result<RunIndex, StoreError> {
    serde_json::from_slice(body)
        .map_err(|e| StoreError::corrupt(format!("{}/{RUNS_INDEX}", store.describe()), e))
}

/// The index, empty when there is none yet.
pub async fn read_index(store: &dyn Store) -> Result<RunIndex, StoreError> {
    match store.get(RUNS_INDEX).await? {
        Some(body) => parse(store, &body),
        None => Ok(RunIndex::default()),
    }
}

/// Apply `change` to the index and write it back if it says it changed something,
/// retrying on a concurrent write. An index that does not parse is an error, unless
/// `replace_unreadable` (the rebuild, which makes it anew).
pub async fn update_index(
    store: &dyn Store,
    replace_unreadable: bool,
    mut change: impl FnMut(&mut RunIndex) -> bool,
) -> Result<RunIndex, StoreError> {
    for _ in 0..ATTEMPTS {
        let (mut index, version): (RunIndex, Option<Version>) =
            match store.get_versioned(RUNS_INDEX).await? {
                Some((body, version)) => match parse(store, &body) {
                    Ok(index) => (index, Some(version)),
                    Err(e) if replace_unreadable => {
                        tracing::warn!(error = %e, "replacing an unreadable runs/index.json");
                        (RunIndex::default(), Some(version))
                    }
                    Err(e) => return Err(e),
                },
                None => (RunIndex::default(), None),
            };
        if !change(&mut index) {
            return Ok(index);
        }
        let body = Bytes::from(
            serde_json::to_vec_pretty(&index).map_err(|e| StoreError::corrupt(RUNS_INDEX, e))?,
        );
        let mode = match version {
            Some(version) => PutMode::Update(version),
            None => PutMode::Create,
        };
        match store.put(RUNS_INDEX, body, mode).await {
            Ok(_) => return Ok(index),
            Err(StoreError::AlreadyExists { .. } | StoreError::Precondition { .. }) => {}
            Err(e) => return Err(e),
        }
        tracing::debug!("runs/index.json changed while we updated it; trying again");
    }
    Err(StoreError::Locked(format!(
        "{}/{RUNS_INDEX} kept changing while this run updated it ({ATTEMPTS} attempts)",
        store.describe()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::IndexedRun;
    use crate::store::local::LocalStore;

    fn run(id: &str) -> IndexedRun {
        IndexedRun {
            run_id: id.into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            snapshot_at: "2026-01-01T00:00:00Z".into(),
            completed_at: None,
        }
    }

    #[tokio::test]
    async fn entries_are_added_once_and_an_unreadable_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(read_index(&store).await.unwrap(), RunIndex::default());
        update_index(&store, false, |i| i.insert(run("a")))
            .await
            .unwrap();
        update_index(&store, false, |i| i.insert(run("a")))
            .await
            .unwrap();
        update_index(&store, false, |i| i.insert(run("b")))
            .await
            .unwrap();
        assert_eq!(read_index(&store).await.unwrap().runs.len(), 2);

        store
            .put(RUNS_INDEX, Bytes::from_static(b"{"), PutMode::Overwrite)
            .await
            .unwrap();
        assert!(matches!(
            update_index(&store, false, |i| i.insert(run("c"))).await,
            Err(StoreError::Corrupt { .. })
        ));
        let index = update_index(&store, true, |i| i.insert(run("c")))
            .await
            .unwrap();
        assert_eq!(index.runs, [run("c")]);
    }
}
