//! The leaderboard's published data over HTTP: the app's JSON API and the
//! datasets-server `/rows` API for `open-llm-leaderboard/contents`.

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::Leaderboard;

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
    let features: Vec<Value> = board
        .contents
        .first()
        .and_then(Value::as_object)
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, (name, v))| {
                    let dtype = match v {
                        Value::Bool(_) => "bool",
                        Value::Number(n) if n.is_i64() => "int64",
                        Value::Number(_) => "float64",
                        _ => "string",
                    };
                    json!({"feature_idx": i, "name": name, "type": {"dtype": dtype, "_type": "Value"}})
                })
                .collect()
        })
        .unwrap_or_default();
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
