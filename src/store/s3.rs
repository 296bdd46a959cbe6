//! The S3 store (AWS S3, MinIO and other S3-compatibles), with the same layout and the
//! same guarantees as the local folder: a PUT replaces an object whole, a
//! [`PutMode::Create`] is a conditional create (`If-None-Match: *`) and a
//! [`PutMode::Update`] a conditional replace (`If-Match`). A [`DeleteMode::IfMatch`] is
//! sent only to a server found to honour `If-Match` on DELETE; to any other it is
//! [`StoreError::NotImplemented`].
//!
//! Credentials, region and endpoint follow the AWS conventions (`AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, web identity for IRSA, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`); they are never printed.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{DeleteMode, PutMode, Store, StoreError, Version};
use crate::run::{check_secs, InvalidSetting};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// Use path-style addressing (`http://host/bucket/key`), as MinIO usually needs.
    pub path_style: bool,
    /// Overrides `AWS_REGION`.
    pub region: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// Attempts per request, the first included; transient errors (5xx, throttling,
    /// timeouts, refused connections) are retried with backoff.
    pub max_attempts: u32,
    /// Longest time for one request, its retries included.
    pub operation_timeout_secs: f64,
    /// Longest time to connect.
    pub connect_timeout_secs: f64,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            path_style: false,
            region: None,
            endpoint: None,
            max_attempts: 4,
            operation_timeout_secs: 60.0,
            connect_timeout_secs: 5.0,
        }
    }
}

impl S3Settings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !(1..=20).contains(&self.max_attempts) {
            return InvalidSetting::err("s3.max_attempts", "must be between 1 and 20");
        }
        check_secs(
            "s3.operation_timeout_secs",
            self.operation_timeout_secs,
            0.001,
            86_400.0,
        )?;
        check_secs(
            "s3.connect_timeout_secs",
            self.connect_timeout_secs,
            0.001,
            3_600.0,
        )
    }
}

#[derive(Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// The key prefix, without a trailing slash; empty for the bucket's root.
    prefix: String,
    location: String,
    /// Whether the server honours `If-Match` on DELETE, once found out.
    conditional_delete: tokio::sync::OnceCell<bool>,
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
fn parse_location(location: &str) -> Result<(String, String), StoreError> {
    let invalid = |why: &str| StoreError::InvalidLocation(location.into(), why.into());
    let rest = location
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("expected s3://bucket/prefix"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !valid_bucket {
        return Err(invalid(
            "the bucket name must be 3-63 lower-case letters, digits, dots or hyphens",
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
        && !prefix.is_empty()
    {
        return Err(invalid("the prefix has an empty, `.` or `..` segment"));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

/// What one delimited listing holds.
#[derive(Default)]
struct Level {
    files: Vec<String>,
    folders: Vec<String>,
}

impl S3Store {
    /// Connect, and check at once that the bucket exists and the credentials work, so a
    /// misconfigured run fails before it collects anything.
    pub async fn open(location: &str, settings: &S3Settings) -> Result<Self, StoreError> {
        let (bucket, prefix) = parse_location(location)?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs_f64(settings.connect_timeout_secs))
                    .operation_timeout(Duration::from_secs_f64(settings.operation_timeout_secs))
                    .build(),
            );
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.path_style)
            // S3-compatibles (MinIO, s3s, Ceph) reject or mangle the newer default
            // checksums: only send and check them when an operation requires it
            // (awslabs/aws-sdk-rust#1240).
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if shared.region().is_none() {
            // MinIO and most S3-compatibles ignore the region, but signing needs one.
            config = config.region(Region::from_static("us-east-1"));
        }
        let store = Self {
            client: Client::from_conf(config.build()),
            location: format!(
                "s3://{bucket}{}{prefix}",
                if prefix.is_empty() { "" } else { "/" }
            ),
            bucket,
            prefix,
            conditional_delete: tokio::sync::OnceCell::new(),
        };
        store.preflight().await?;
        Ok(store)
    }

    async fn preflight(&self) -> Result<(), StoreError> {
        self.client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.object_key(""))
            .max_keys(1)
            .send()
            .await
            .map_err(|e| self.error("opening", "", e))?;
        Ok(())
    }

    fn object_key(&self, key: &str) -> String {
        match (self.prefix.is_empty(), key.is_empty()) {
            (true, _) => key.to_owned(),
            (false, true) => format!("{}/", self.prefix),
            (false, false) => format!("{}/{key}", self.prefix),
        }
    }

    /// One level below `prefix` (which ends with `/`): its objects and its folders (S3's
    /// common prefixes, with their trailing `/`), each sorted, without the store's prefix.
    async fn list_level(&self, prefix: &str) -> Result<Level, StoreError> {
        let strip = self.object_key("");
        let unprefixed = |key: &str| key.strip_prefix(&strip).unwrap_or(key).to_owned();
        let mut level = Level::default();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.object_key(prefix))
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("listing", prefix, e))?;
            level.files.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(unprefixed),
            );
            level.folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|c| c.prefix())
                    .map(unprefixed),
            );
        }
        level.files.sort();
        level.folders.sort();
        Ok(level)
    }

    /// An object's response, its body still to come; `None` when there is no such key.
    async fn object(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StoreError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await;
        match got {
            Ok(output) => Ok(Some(output)),
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => Ok(None),
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => {
                if e.err().code() == Some("NoSuchBucket") {
                    return Err(self.error("reading", key, SdkError::ServiceError(e)));
                }
                Ok(None)
            }
            Err(e) => Err(self.error("reading", key, e)),
        }
    }

    fn body_error(&self, key: &str, e: impl Into<super::Cause>) -> StoreError {
        StoreError::io(
            "reading",
            format!("s3://{}/{}", self.bucket, self.object_key(key)),
            e,
        )
    }

    /// An object and its ETag; `None` when there is no such key.
    async fn get_object(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
        let Some(output) = self.object(key).await? else {
            return Ok(None);
        };
        let version = Version(output.e_tag().unwrap_or_default().to_owned());
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| self.body_error(key, e))?;
        Ok(Some((body.into_bytes(), version)))
    }

    /// Whether the server honours `If-Match` on DELETE. Not every S3-compatible does:
    /// AWS S3 does (its "How to perform conditional deletes"), while s3s-fs deletes
    /// whatever the header says (`delete_object` in s3s-fs 0.14.1's `src/s3.rs` never
    /// reads `if_match`). Found out once per store, on an object of our own, so that no
    /// object of the run is ever deleted on a condition the server dropped.
    async fn honours_delete_if_match(&self) -> Result<bool, StoreError> {
        self.conditional_delete
            .get_or_try_init(|| self.probe_delete_if_match())
            .await
            .copied()
    }

    /// Write a probe object and DELETE it with an ETag it does not have: a server that
    /// honours the header answers 412 and keeps it. Then remove it.
    async fn probe_delete_if_match(&self) -> Result<bool, StoreError> {
        let key = format!(".hfharvest-probe-{:032x}", rand::random::<u128>());
        let version = self
            .put(&key, Bytes::from_static(b"probe"), PutMode::Overwrite)
            .await?;
        let sent = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(&key))
            .if_match("\"00000000000000000000000000000000\"")
            .send()
            .await;
        let honoured = match sent {
            Err(e) if precondition_failed(&e) => true,
            // Gone, or a server that refuses the header outright: either way, no
            // conditional delete here.
            Ok(_) => false,
            Err(e) if matches!(status(&e), Some(400 | 501)) => false,
            Err(e) => return Err(self.error("probing", &key, e)),
        };
        // On its own ETag where that is honoured: a bucket may allow only conditional
        // deletes. Where it is not, the probe is most likely gone already.
        let mut cleanup = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(&key));
        if honoured {
            cleanup = cleanup.if_match(&version.0);
        }
        if let Err(e) = cleanup.send().await {
            let e = self.error("deleting", &key, e);
            tracing::warn!(error = %e, "could not remove the probe object");
        }
        tracing::debug!(honoured, "probed If-Match on DELETE");
        Ok(honoured)
    }

    /// An error that names the operation, the bucket and key, and what went wrong in
    /// words: wrong credentials, a missing bucket, an unreachable endpoint.
    fn error<E, R>(&self, op: &'static str, key: &str, err: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let location = format!("s3://{}/{}", self.bucket, self.object_key(key));
        let code = err.code().unwrap_or_default().to_owned();
        let access = |why: String| StoreError::Access(format!("{op} {location}: {why}"));
        match code.as_str() {
            // The messages of these errors may echo the key id: leave them out.
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "InvalidToken" | "ExpiredToken" => {
                return access(format!(
                    "wrong credentials ({code}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile"
                ))
            }
            "NoSuchBucket" => {
                return access(format!("bucket `{}` does not exist", self.bucket))
            }
            "AccessDenied" | "Forbidden" => {
                return access(
                    "access denied: the credentials lack permission for this bucket or prefix"
                        .into(),
                )
            }
            _ => {}
        }
        let message = match &err {
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                format!(
                    "cannot reach the S3 endpoint (after retries): {}",
                    DisplayErrorContext(&err)
                )
            }
            SdkError::TimeoutError(_) => "timed out (after retries)".to_owned(),
            SdkError::ServiceError(service) => format!(
                "{} {}",
                service.err().code().unwrap_or("error"),
                service.err().message().unwrap_or_default()
            ),
            _ => DisplayErrorContext(&err).to_string(),
        };
        let before_sending = matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_)
        );
        if before_sending && message.to_ascii_lowercase().contains("credentials") {
            return access(format!(
                "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or web identity ({message})"
            ));
        }
        StoreError::io(op, location, message)
    }
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        self.location.clone()
    }

    async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .body(ByteStream::from(body));
        let location = || format!("s3://{}/{}", self.bucket, self.object_key(key));
        let sent = match &mode {
            PutMode::Overwrite => request.send().await,
            PutMode::Create => request.if_none_match("*").send().await,
            PutMode::Update(version) => request.if_match(&version.0).send().await,
        };
        match (sent, mode) {
            (Ok(output), _) => Ok(Version(output.e_tag().unwrap_or_default().to_owned())),
            (Err(e), PutMode::Create) if precondition_failed(&e) => {
                Err(StoreError::AlreadyExists {
                    location: location(),
                })
            }
            // 412 when it changed (and on s3s-fs when it is gone); 404 on AWS when gone.
            (Err(e), PutMode::Update(_)) if precondition_failed(&e) || status(&e) == Some(404) => {
                Err(StoreError::Precondition {
                    location: location(),
                })
            }
            (Err(e), PutMode::Create) => Err(self.error("creating", key, e)),
            (Err(e), _) => Err(self.error("writing", key, e)),
        }
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StoreError::io("reading", path.display().to_string(), e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .body(body)
            .send()
            .await
            .map_err(|e| self.error("writing", key, e))?;
        Ok(())
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
        self.get_object(key).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        Ok(self.get_object(key).await?.map(|(body, _)| body))
    }

    /// The body chunk by chunk into the file, as it comes.
    async fn get_into(&self, key: &str, file: &mut std::fs::File) -> Result<bool, StoreError> {
        let Some(mut output) = self.object(key).await? else {
            return Ok(false);
        };
        while let Some(chunk) = output
            .body
            .try_next()
            .await
            .map_err(|e| self.body_error(key, e))?
        {
            std::io::Write::write_all(file, &chunk)
                .map_err(|e| StoreError::io("read", format!("{key} into a staging file"), e))?;
        }
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let full = self.object_key(prefix);
        let strip = self.object_key("");
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("listing", prefix, e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    keys.push(key.strip_prefix(&strip).unwrap_or(key).to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
        let request = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key));
        let version = match mode {
            DeleteMode::Any => {
                request
                    .send()
                    .await
                    .map_err(|e| self.error("deleting", key, e))?;
                return Ok(());
            }
            DeleteMode::IfMatch(version) => version,
        };
        if !self.honours_delete_if_match().await? {
            return Err(StoreError::NotImplemented {
                op: "delete if-match",
                backend: self.describe(),
                reason: "the server ignores If-Match on DELETE, so nothing was deleted".into(),
            });
        }
        match request.if_match(&version.0).send().await {
            Ok(_) => Ok(()),
            Err(e) if precondition_failed(&e) || status(&e) == Some(404) => {
                Err(StoreError::Precondition {
                    location: format!("s3://{}/{}", self.bucket, self.object_key(key)),
                })
            }
            Err(e) => Err(self.error("deleting", key, e)),
        }
    }

    async fn list_files(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.list_level(prefix).await?.files)
    }

    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.list_level(prefix).await?.folders)
    }

    /// `DeleteObjects`, a thousand keys a request.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        let keys = self.list(prefix).await?;
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| {
                    ObjectIdentifier::builder()
                        .key(self.object_key(k))
                        .build()
                        .map_err(|e| StoreError::io("deleting", k, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StoreError::io("deleting", prefix, e))?;
            let output = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.error("deleting", prefix, e))?;
            if let Some(failed) = output.errors().first() {
                return Err(StoreError::io(
                    "deleting",
                    format!("s3://{}/{}", self.bucket, failed.key().unwrap_or(prefix)),
                    failed.message().unwrap_or("refused"),
                ));
            }
        }
        Ok(keys.len() as u64)
    }
}

/// The HTTP status of a service error.
fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    match err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    }
}

/// A conditional request whose condition did not hold: 412, or 409 when a concurrent
/// conditional write won.
fn precondition_failed<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(status(err), Some(412 | 409))
        || matches!(
            err.code(),
            Some("PreconditionFailed" | "ConditionalRequestConflict")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("s3://bucket/a/b/").unwrap(),
            ("bucket".into(), "a/b".into())
        );
        assert_eq!(
            parse_location("s3://my.bucket-1").unwrap(),
            ("my.bucket-1".into(), "".into())
        );
        for bad in [
            "s3://",
            "s3://B",
            "s3://ab",
            "s3://bucket/a//b",
            "s3://bucket/../x",
        ] {
            assert!(parse_location(bad).is_err(), "{bad}");
        }
    }
}
