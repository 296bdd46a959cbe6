//! A store whose every call is a span (`store put`, …) and whose writes count towards
//! `hfharvest.publish.bytes`.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tracing::Instrument;

use super::{DeleteMode, PutMode, Store, StoreError, Version};

#[derive(Debug)]
pub(super) struct Observed {
    inner: Arc<dyn Store>,
}

impl Observed {
    pub(super) fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner }
    }
}

fn store_span(op: &'static str, key: &str) -> tracing::Span {
    tracing::info_span!("store", otel.name = format!("store {op}"), store.operation = op, store.key = %key)
}

fn published(bytes: u64) {
    crate::telemetry::metrics().publish_bytes.add(bytes, &[]);
}

#[async_trait]
impl Store for Observed {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
        let len = body.len() as u64;
        let op = match mode {
            PutMode::Create => "create",
            PutMode::Overwrite | PutMode::Update(_) => "put",
        };
        let version = self
            .inner
            .put(key, body, mode)
            .instrument(store_span(op, key))
            .await?;
        published(len);
        Ok(version)
    }
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError> {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        self.inner
            .put_file(key, path)
            .instrument(store_span("put", key))
            .await?;
        published(len);
        Ok(())
    }
    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
        self.inner
            .get_versioned(key)
            .instrument(store_span("get", key))
            .await
    }
    async fn remove_leftovers(&self) -> Result<u64, StoreError> {
        self.inner.remove_leftovers().await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.inner.get(key).instrument(store_span("get", key)).await
    }
    async fn get_into(&self, key: &str, file: &mut std::fs::File) -> Result<bool, StoreError> {
        self.inner
            .get_into(key, file)
            .instrument(store_span("get", key))
            .await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner
            .list(prefix)
            .instrument(store_span("list", prefix))
            .await
    }
    async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
        self.inner
            .delete(key, mode)
            .instrument(store_span("delete", key))
            .await
    }
    async fn list_files(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner
            .list_files(prefix)
            .instrument(store_span("list", prefix))
            .await
    }
    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner
            .list_folders(prefix)
            .instrument(store_span("list", prefix))
            .await
    }
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        self.inner
            .delete_prefix(prefix)
            .instrument(store_span("delete", prefix))
            .await
    }
}
