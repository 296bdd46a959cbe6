//! The leaderboard's published data over HTTP: the app's JSON API and the
//! datasets-server `/rows` API for `open-llm-leaderboard/contents`.

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use std::sync::atomic::Ordering;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use axum::extract::Path;

use super::{Leaderboard, CONTENTS_COLUMNS};

/// The revision peers pin (realdata/README.md): the dataset is frozen, so `main` is the
/// same commit.
const REVISION: &str = "9c09a7cae43334062a82cb164f2ef255013dafa2";
const DATA_FILE: &str = "data/train-00000-of-00001.parquet";

pub(super) async fn formatted(AxumState(board): AxumState<Arc<Leaderboard>>) -> Response {
    board
        .data_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(status) = board.failure() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "Internal Server Error").into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        board.formatted.to_string(),
    )
        .into_response()
}

pub(super) fn query_value(raw: &Option<String>, key: &str) -> Option<String> {
    let raw = raw.as_deref()?;
    url_pairs(raw)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn url_pairs(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

pub(super) async fn rows(
    AxumState(board): AxumState<Arc<Leaderboard>>,
    RawQuery(raw): RawQuery,
) -> Response {
    board
        .data_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if query_value(&raw, "dataset").as_deref() != Some("open-llm-leaderboard/contents") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "The dataset does not exist."})),
        )
            .into_response();
    }
    let offset: usize = query_value(&raw, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let length: usize = query_value(&raw, "length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    if length > 100 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": "Parameter 'length' must not be greater than 100"})),
        )
            .into_response();
    }
    let features: Vec<Value> = CONTENTS_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (name, dtype))| {
            json!({"feature_idx": i, "name": name, "type": {"dtype": dtype, "_type": "Value"}})
        })
        .collect();
    let page: Vec<Value> = board
        .contents
        .iter()
        .enumerate()
        .skip(offset)
        .take(length)
        .map(|(i, row)| json!({"row_idx": i, "row": row, "truncated_cells": []}))
        .collect();
    axum::Json(json!({
        "features": features,
        "rows": page,
        "num_rows_total": board.contents.len(),
        "num_rows_per_page": 100,
        "partial": false
    }))
    .into_response()
}

/// The `contents` dataset as one parquet file, with the real dataset's columns and
/// dtypes (`CONTENTS_COLUMNS`), snappy-compressed as the Hub's dataset files are.
pub(super) fn contents_parquet(rows: &[Value]) -> anyhow::Result<bytes::Bytes> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (name, dtype) in CONTENTS_COLUMNS {
        let cells = rows.iter().map(|r| &r[name]);
        let (data_type, column): (DataType, ArrayRef) = match dtype {
            "float64" => {
                let mut b = Float64Builder::new();
                cells.for_each(|v| b.append_option(v.as_f64()));
                (DataType::Float64, std::sync::Arc::new(b.finish()))
            }
            "int64" => {
                let mut b = Int64Builder::new();
                cells.for_each(|v| b.append_option(v.as_i64()));
                (DataType::Int64, std::sync::Arc::new(b.finish()))
            }
            "bool" => {
                let mut b = BooleanBuilder::new();
                cells.for_each(|v| b.append_option(v.as_bool()));
                (DataType::Boolean, std::sync::Arc::new(b.finish()))
            }
            _ => {
                let mut b = StringBuilder::new();
                cells.for_each(|v| b.append_option(v.as_str()));
                (DataType::Utf8, std::sync::Arc::new(b.finish()))
            }
        };
        fields.push(Field::new(name, data_type, true));
        columns.push(column);
    }
    let batch = RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(bytes::Bytes::from(out))
}

/// `GET /datasets/{owner}/{name}/resolve/{revision}/{file}`: the Hub answers a file
/// stored in LFS/Xet with a 302 to its storage, which serves the bytes; an unknown
/// revision is a 404 with `X-Error-Code: RevisionNotFound`, an unknown file
/// `EntryNotFound` (as huggingface_hub's error handling reads them).
pub(super) async fn resolve(
    AxumState(board): AxumState<Arc<Leaderboard>>,
    Path((owner, name, revision, file)): Path<(String, String, String, String)>,
) -> Response {
    if let Some(state) = &board.hub {
        let repo = format!("{owner}/{name}");
        if let Some(response) = crate::datastores::resolve(state, &repo, &revision, &file).await {
            return response;
        }
    }
    board.data_requests.fetch_add(1, Ordering::Relaxed);
    if format!("{owner}/{name}") != "open-llm-leaderboard/contents" {
        return (
            StatusCode::NOT_FOUND,
            [("x-error-code", "RepoNotFound")],
            "Repository not found",
        )
            .into_response();
    }
    if revision != REVISION && revision != "main" {
        return (
            StatusCode::NOT_FOUND,
            [("x-error-code", "RevisionNotFound")],
            "Revision not found",
        )
            .into_response();
    }
    if file != DATA_FILE {
        return (
            StatusCode::NOT_FOUND,
            [("x-error-code", "EntryNotFound")],
            "Entry not found",
        )
            .into_response();
    }
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            "/cas/contents-train-00000-of-00001.parquet",
        )],
    )
        .into_response()
}

/// Where the redirect leads (invented path): the file's bytes.
pub(super) async fn cas(
    AxumState(board): AxumState<Arc<Leaderboard>>,
    Path(digest): Path<String>,
) -> Response {
    if let Some(state) = board
        .hub
        .as_ref()
        .filter(|_| digest == crate::datastores::OPEN_EVALS_CAS)
    {
        return crate::datastores::cas(state).await;
    }
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        board.parquet.clone(),
    )
        .into_response()
}
