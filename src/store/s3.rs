//! The S3 / MinIO store (issue 5 implements it; until then `s3://` fails clearly).

use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// Use path-style addressing (`http://host/bucket/key`), as MinIO usually needs.
    pub path_style: bool,
    /// Overrides `AWS_REGION`.
    pub region: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
}

#[derive(Debug)]
pub struct S3Store {
    location: String,
}

impl S3Store {
    pub async fn open(location: &str, _settings: &S3Settings) -> Result<Self, StoreError> {
        Err(StoreError::InvalidLocation(
            location.into(),
            "the S3 store is not available in this build".into(),
        ))
    }
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        self.location.clone()
    }
    async fn put(&self, key: &str, _body: Bytes) -> Result<(), StoreError> {
        Err(StoreError::io("put", key, "unsupported"))
    }
    async fn put_file(&self, key: &str, _path: &Path) -> Result<(), StoreError> {
        Err(StoreError::io("put", key, "unsupported"))
    }
    async fn put_if_absent(&self, key: &str, _body: Bytes) -> Result<bool, StoreError> {
        Err(StoreError::io("put", key, "unsupported"))
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        Err(StoreError::io("get", key, "unsupported"))
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::io("list", prefix, "unsupported"))
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        Err(StoreError::io("delete", key, "unsupported"))
    }
}
