//! Two Hub datasets the job reads, in their real shapes: Every Eval Ever's
//! `evaleval/EEE_datastore` ([`eee`]) and `OpenEvals/leaderboard-data`
//! ([`open_evals`]).
//!
//! Routes (all counted in [`crate::RequestLog::datastores`], all delayed by the
//! fake's latency and open to faults on [`crate::Route::Datastore`] or `Any`):
//! - `GET /api/datasets/{repo}/revision/{rev}`: the dataset info (`rev` is `main` or
//!   the sha), else 404 `X-Error-Code: RevisionNotFound`;
//! - `GET /datasets/{repo}/resolve/{rev}/{file}`: EEE's files with a 200, OpenEvals'
//!   parquet (an LFS file) with a 302 to `/cas/open-evals-train-00000-of-00001.parquet`
//!   (invented path); an unknown file is 404 `EntryNotFound`, a revision
//!   `RevisionNotFound` (as `leaderboard::data::resolve` answers for `contents`).
//!
//! The files are built on the first request (or the first call to
//! [`crate::FakeHf::eee_records`]), so a fake that is never asked costs nothing.

pub mod eee;
pub mod open_evals;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::catalogue::{fnv, Catalogue};
use crate::{Fault, Route, State};

pub use eee::{eee_records, EeeRecord, EEE_COLLECTIONS, EEE_REPO, EEE_SHA};
pub use open_evals::{
    open_evals_model_ids, open_evals_parquet, open_evals_rows, OpenEvalsRow, OPEN_EVALS_BENCHMARKS,
    OPEN_EVALS_COLUMNS, OPEN_EVALS_FILE, OPEN_EVALS_REPO, OPEN_EVALS_ROWS, OPEN_EVALS_SHA,
};

/// Where the parquet's redirect leads (invented, beside `contents`' `/cas/…` file).
pub(crate) const OPEN_EVALS_CAS: &str = "open-evals-train-00000-of-00001.parquet";

/// The two datasets' files, built once.
pub(crate) struct Datastores {
    realdata: PathBuf,
    extra: Vec<(String, Value)>,
    built: OnceLock<Result<Built, String>>,
}

pub(crate) struct Built {
    pub eee: Vec<EeeRecord>,
    /// File path → (content type, bytes).
    eee_files: std::collections::HashMap<String, (&'static str, Bytes)>,
    pub open_evals: Vec<OpenEvalsRow>,
    open_evals_parquet: Bytes,
}

impl Datastores {
    pub fn new(realdata: PathBuf, extra: Vec<(String, Value)>) -> Self {
        Self {
            realdata,
            extra,
            built: OnceLock::new(),
        }
    }

    pub fn get(&self, catalogue: &Catalogue) -> Result<&Built, String> {
        self.built
            .get_or_init(|| self.build(catalogue).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(&self, catalogue: &Catalogue) -> anyhow::Result<Built> {
        let eee = eee_records(catalogue, &self.realdata, &self.extra)?;
        let open_evals = open_evals_rows(catalogue);
        Ok(Built {
            eee_files: eee_files(&eee),
            open_evals_parquet: open_evals_parquet(&open_evals)?,
            eee,
            open_evals,
        })
    }
}

/// Every file of the flat view: objects, samples, one index per collection, and
/// `flat/latest_manifest.json`.
fn eee_files(records: &[EeeRecord]) -> std::collections::HashMap<String, (&'static str, Bytes)> {
    const JSON: &str = "application/json";
    const JSONL: &str = "text/plain; charset=utf-8";
    let mut files = std::collections::HashMap::new();
    let mut indexes: Vec<(String, String)> = Vec::new();
    for record in records {
        files.insert(record.object_path(), (JSON, record.bytes.clone()));
        if let Some(samples) = &record.samples {
            files.insert(record.samples_path(), (JSONL, samples.clone()));
        }
        let path = format!("flat/indexes/by_collection/{}.jsonl", record.collection);
        match indexes.iter_mut().find(|(p, _)| *p == path) {
            Some((_, text)) => text.push_str(&format!("{}\n", record.index_row())),
            None => indexes.push((path, format!("{}\n", record.index_row()))),
        }
    }
    let manifest = manifest(records, indexes.len());
    for (path, text) in indexes {
        files.insert(path, (JSONL, Bytes::from(text)));
    }
    files.insert("flat/latest_manifest.json".into(), (JSON, manifest));
    files
}

/// The manifest's field names are real (SUMMARY.md §Datastore layout); their values
/// here, and the `source` text, are invented.
fn manifest(records: &[EeeRecord], collections: usize) -> Bytes {
    let mut versions: Vec<&str> = records
        .iter()
        .filter_map(|r| r.record["schema_version"].as_str())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let samples = records.iter().filter(|r| r.samples.is_some()).count();
    let manifest = json!({
        "created_at": "2026-05-14T09:00:00Z",
        "source": format!("{EEE_REPO}@{EEE_SHA}"),
        "eval_schema_versions": versions,
        "aggregate_file_count": records.len(),
        "benchmark_count": collections,
        "instance_level_file_count": samples,
        "total_file_count": records.len() + samples,
    });
    Bytes::from(serde_json::to_string_pretty(&manifest).unwrap_or_default())
}

/// One of the two datasets: (repo, sha, lastModified, createdAt). The dates are
/// invented; OpenEvals' is its card commit's "Automated update: 2026-03-23 12:00:44
/// UTC" (SUMMARY.md).
fn dataset(repo: &str) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    match repo {
        EEE_REPO => Some((
            EEE_REPO,
            EEE_SHA,
            "2026-05-14T09:00:00.000Z",
            "2025-09-02T14:11:05.000Z",
        )),
        OPEN_EVALS_REPO => Some((
            OPEN_EVALS_REPO,
            OPEN_EVALS_SHA,
            "2026-03-23T12:00:44.000Z",
            "2026-01-12T10:30:00.000Z",
        )),
        _ => None,
    }
}

/// `GET /api/datasets/{repo}/revision/{rev}`, if `path` (`{repo}/revision/{rev}`) names
/// one of the two datasets.
pub(crate) async fn revision(state: &State, path: &str) -> Option<Response> {
    let (repo, rev) = path.split_once("/revision/")?;
    let (id, sha, ..) = dataset(repo)?;
    let reply = if rev != "main" && rev != sha {
        not_found("RevisionNotFound", &format!("Invalid rev id: {rev}"))
    } else {
        match state.datastores.get(&state.catalogue) {
            Ok(built) => json_reply(dataset_info(id, built).to_string()),
            Err(e) => internal_error(&e),
        }
    };
    Some(answer(state, reply).await)
}

/// The Hub's repo info in the shape of its model info (realdata/hub/model-info-*.json:
/// `_id, id, author, sha, lastModified, private, gated, disabled, tags, downloads,
/// likes, cardData, siblings, createdAt`), as huggingface_hub's `DatasetInfo` reads it;
/// hf_community_evals.py's `resolve_datastore_locator` reads `.sha`. Downloads, likes
/// and tags are invented; the licence is the cards' `mit` (SUMMARY.md of both).
fn dataset_info(id: &str, built: &Built) -> Value {
    let (_, sha, modified, created) = dataset(id).unwrap_or_default();
    let mut files: Vec<String> = if id == EEE_REPO {
        built.eee_files.keys().cloned().collect()
    } else {
        vec![OPEN_EVALS_FILE.to_owned()]
    };
    files.extend([".gitattributes".to_owned(), "README.md".to_owned()]);
    files.sort();
    let h = fnv(id);
    json!({
        "_id": format!("{:024x}", h as u128 * 0x9E37_79B9),
        "id": id,
        "author": id.split('/').next().unwrap_or(""),
        "sha": sha,
        "lastModified": modified,
        "private": false,
        "gated": false,
        "disabled": false,
        "tags": ["license:mit", "region:us"],
        "downloads": 1_000 + h % 9_000,
        "likes": 5 + h % 40,
        "cardData": {"license": "mit"},
        "siblings": files.iter().map(|f| json!({"rfilename": f})).collect::<Vec<_>>(),
        "createdAt": created,
    })
}

/// `GET /datasets/{owner}/{name}/resolve/{rev}/{file}`, if it names one of the two.
pub(crate) async fn resolve(state: &State, repo: &str, rev: &str, file: &str) -> Option<Response> {
    let (id, sha, ..) = dataset(repo)?;
    let reply = if rev != "main" && rev != sha {
        not_found("RevisionNotFound", "Revision not found")
    } else {
        match state.datastores.get(&state.catalogue) {
            Ok(built) if id == EEE_REPO => eee_file(built, file),
            Ok(_) if file == OPEN_EVALS_FILE => (
                StatusCode::FOUND,
                [(header::LOCATION, format!("/cas/{OPEN_EVALS_CAS}"))],
            )
                .into_response(),
            Ok(_) => not_found("EntryNotFound", "Entry not found"),
            Err(e) => internal_error(&e),
        }
    };
    Some(answer(state, reply).await)
}

fn eee_file(built: &Built, file: &str) -> Response {
    match built.eee_files.get(file) {
        Some((content_type, bytes)) => {
            ([(header::CONTENT_TYPE, *content_type)], bytes.clone()).into_response()
        }
        None => not_found("EntryNotFound", "Entry not found"),
    }
}

/// The parquet's bytes at the redirect's target.
pub(crate) async fn cas(state: &State) -> Response {
    let reply = match state.datastores.get(&state.catalogue) {
        Ok(built) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            built.open_evals_parquet.clone(),
        )
            .into_response(),
        Err(e) => internal_error(&e),
    };
    answer(state, reply).await
}

fn not_found(code: &'static str, message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("x-error-code", code)],
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

fn internal_error(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

fn json_reply(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Count, wait the fake's latency, then apply the next fault for these routes (as
/// `hub::serve` does for the models API).
async fn answer(state: &State, normal: Response) -> Response {
    state.log.datastores.fetch_add(1, Ordering::Relaxed);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    match state.take_fault(Route::Datastore) {
        None => normal,
        Some(Fault::Status { status, headers }) => crate::hub::fault_status(status, headers),
        Some(Fault::Truncated(n)) => truncated(normal, n).await,
        Some(Fault::Body(body)) => with_body(normal, Bytes::from(body)),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            normal
        }
        Some(Fault::Headers(extra)) => crate::hub::with_headers(normal, extra),
    }
}

/// The response, its body cut after `n` bytes.
async fn truncated(response: Response, n: usize) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    with_body(
        Response::from_parts(parts, Body::empty()),
        bytes.slice(..n.min(bytes.len())),
    )
}

fn with_body(response: Response, body: Bytes) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Ok(len) = HeaderValue::from_str(&body.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, len);
    }
    Response::from_parts(parts, Body::from(body))
}
