//! The Hub API routes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::catalogue::Odd;
use crate::{Fault, Route, State};

/// What `expand[]` accepts (huggingface_hub 1.x); anything else is HTTP 400, as on the Hub.
const EXPANDABLE: [&str; 32] = [
    "author",
    "baseModels",
    "cardData",
    "childrenModelCount",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "resourceGroup",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "usedStorage",
    "widgetData",
    "xetEnabled",
];

/// The fields a list item has when no `expand[]` is given.
const LIST_DEFAULT: [&str; 11] = [
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
];

const MAX_LIMIT: usize = 1000;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/api/whoami-v2", get(whoami))
        .route("/api/models", get(list_models))
        .route("/api/models/{*id}", get(model_info))
        .route("/api/datasets", get(list_datasets))
        .route("/api/datasets/{*path}", get(dataset_leaderboard))
        .with_state(state)
}

/// `GET /api/whoami-v2`, which huggingface_hub's `whoami()` asks
/// (`huggingface_hub/hf_api.py`): 401 with `{"error": "Invalid credentials in
/// Authorization header"}` for no token or a refused one, as the real Hub answers; else
/// a user. The user's fields are invented (the fake has no accounts).
async fn whoami(AxumState(state): AxumState<Arc<State>>, headers: HeaderMap) -> Response {
    state.log.whoami.fetch_add(1, Ordering::Relaxed);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) if !state.refused_tokens.iter().any(|t| t == token) => axum::Json(
            json!({"type": "user", "name": "fakehf-user", "auth": {"type": "access_token"}}),
        )
        .into_response(),
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "Invalid credentials in Authorization header"})),
        )
            .into_response(),
    }
}

/// `GET /api/datasets?filter=benchmark:official`: the official benchmarks, whose `tags`
/// include `benchmark:official` (realdata/README.md). Other filters list nothing here.
async fn list_datasets(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(raw): RawQuery,
) -> Response {
    state.log.datasets.fetch_add(1, Ordering::Relaxed);
    let query = Query::parse(raw);
    let official = query.all("filter").contains(&"benchmark:official");
    let items: Vec<Value> = if official {
        crate::evals::OFFICIAL
            .iter()
            .map(|(id, _)| {
                json!({
                    "_id": format!("{:024x}", crate::catalogue::fnv(id)),
                    "id": id,
                    "author": id.split('/').next().unwrap_or(""),
                    "tags": ["benchmark:official", "task_categories:text-generation"],
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    serve(
        &state,
        Route::Any,
        HeaderMap::new(),
        Value::Array(items).to_string(),
    )
    .await
}

/// `GET /api/datasets/{id}/leaderboard[?base_model=false]`: the benchmark's results,
/// by rank; without `base_model=false` only models that declare no base model.
/// `GET /api/datasets/{id}/revision/{rev}` of the datastores goes to
/// [`crate::datastores::revision`] (counted there, not in `datasets`).
async fn dataset_leaderboard(
    AxumState(state): AxumState<Arc<State>>,
    Path(path): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(response) = crate::datastores::revision(&state, &path).await {
        return response;
    }
    state.log.datasets.fetch_add(1, Ordering::Relaxed);
    let Some(dataset) = path.strip_suffix("/leaderboard") else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    match crate::evals::leaderboard_status(dataset) {
        Ok(()) => {}
        Err(404) => return error(StatusCode::NOT_FOUND, "Dataset not found"),
        Err(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return error(status, "This dataset has no leaderboard");
        }
    }
    let query = Query::parse(raw);
    let filter = query.get("base_model") != Some("false");
    // Invented: the boards are built once (one pass over the catalogue, for both
    // filters) and kept, so a catalogue of any size answers each request at once, as the
    // Hub's precomputed leaderboards do; the bodies are those built per request before.
    let boards = state.leaderboards[usize::from(filter)].get_or_init(|| {
        let catalogue = &state.catalogue;
        let models = (0..catalogue.len()).map(|rank| {
            let (results, has_base) = catalogue.eval_results(rank);
            (catalogue.id(rank), results, has_base)
        });
        crate::evals::leaderboards(models, filter)
            .into_iter()
            .map(|(dataset, board)| (dataset, Arc::from(board.to_string())))
            .collect()
    });
    let body = boards
        .get(dataset)
        .map(|b| b.to_string())
        .unwrap_or_else(|| "[]".to_owned());
    serve(&state, Route::Any, HeaderMap::new(), body).await
}

struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<String>) -> Self {
        let pairs = url_pairs(raw.as_deref().unwrap_or(""));
        Self { pairs }
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn url_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// Apply a scripted fault to a normal response body.
async fn serve(state: &State, route: Route, headers: HeaderMap, text: String) -> Response {
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    match state.take_fault(route) {
        Some(Fault::Status {
            status,
            headers: extra,
        }) => fault_status(status, extra),
        Some(Fault::Truncated(n)) => json_response(headers, text[..n.min(text.len())].to_owned()),
        Some(Fault::Body(b)) => json_response(headers, b),
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            json_response(headers, text)
        }
        Some(Fault::Headers(extra)) => with_headers(json_response(headers, text), extra),
        None => json_response(headers, text),
    }
}

/// A scripted status fault's response: the Hub's error message for it, with the
/// fault's headers.
pub(crate) fn fault_status(status: u16, extra: Vec<(String, String)>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = if status == StatusCode::TOO_MANY_REQUESTS {
        "You have exceeded our hourly quotas for action: api. We invite you to retry later."
    } else {
        "Internal Error - We're working hard to fix this as soon as possible!"
    };
    with_headers(error(status, message), extra)
}

/// `response` with the fault's extra headers (a name or value that is not valid HTTP is
/// left out).
pub(crate) fn with_headers(mut response: Response, extra: Vec<(String, String)>) -> Response {
    for (k, v) in extra {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(&v),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn json_response(mut headers: HeaderMap, body: String) -> Response {
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // The Hub reports the window on every response.
    headers.insert("ratelimit", HeaderValue::from_static("\"api\";r=499;t=300"));
    headers.insert(
        "ratelimit-policy",
        HeaderValue::from_static("\"fixed window\";\"api\";q=500;w=300"),
    );
    (StatusCode::OK, headers, body).into_response()
}

fn note_token(state: &State, headers: &HeaderMap) {
    if let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let mut seen = state
            .log
            .bearer_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !seen.iter().any(|t| t == token) {
            seen.push(token.to_owned());
        }
    }
}

/// The requested `expand[]` fields, or an error response for an unknown one.
fn expansion(query: &Query) -> Result<Option<Vec<String>>, Box<Response>> {
    let expand = query.all("expand[]");
    if expand.is_empty() {
        return Ok(None);
    }
    for field in &expand {
        if !EXPANDABLE.contains(field) {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                &format!("\"expand[]\" must be one of {EXPANDABLE:?}, got \"{field}\""),
            )));
        }
    }
    Ok(Some(expand.into_iter().map(str::to_owned).collect()))
}

fn project(model: Value, keep: &[&str]) -> Value {
    let Value::Object(map) = model else {
        return model;
    };
    Value::Object(
        map.into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect::<Map<_, _>>(),
    )
}

fn shape(state: &State, rank: usize, expand: &Option<Vec<String>>, listing: bool) -> Value {
    let model = state.catalogue.model_json_on(rank, state.night());
    let mut model = match expand {
        Some(fields) => {
            let mut keep: Vec<&str> = fields.iter().map(String::as_str).collect();
            keep.extend(["_id", "id"]);
            project(model, &keep)
        }
        None if listing => project(model, &LIST_DEFAULT),
        None => model,
    };
    if listing && state.catalogue.odd_at(rank) == Some(Odd::SparseListItem) {
        if let Value::Object(map) = &mut model {
            for key in ["sha", "createdAt", "lastModified"] {
                map.remove(key);
            }
        }
    }
    model
}

/// `GET /api/models`: the catalogue in tonight's download order, filtered, `limit` at a
/// time, with a `Link: <…>; rel="next"` cursor while more match.
///
/// `pipeline_tag` is one tag, as the clients send it: huggingface_hub's
/// `list_models(pipeline_tag: str | None)` sets `params["pipeline_tag"]`, huggingface.js
/// sends `search.task` as one `pipeline_tag=` (realdata/2026/pipeline-tags-evidence/
/// huggingface_hub__hf_api__list_models__L2423-2623.py and
/// huggingface.js__packages_hub_src_lib_list-models.ts__L60-140.ts). With the real mix
/// it matches each model's own tag; without it every model is `text-generation`.
/// `filter=`, repeated, keeps the models that have every one of the tags (AND:
/// huggingface_hub__tests__test_hf_api__test_list_models_complex_query__L1803-1815.py
/// asserts `all(tag in model.tags …)`; huggingface_hub__docs_guides_search.md__L24-38.md);
/// only the real mix reads it.
async fn list_models(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    state.log.list.fetch_add(1, Ordering::Relaxed);
    note_token(&state, &headers);
    let query = Query::parse(raw.clone());
    let expand = match expansion(&query) {
        Ok(e) => e,
        Err(response) => return *response,
    };
    match query.get("sort") {
        None | Some("downloads") => {}
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("this fake sorts by downloads only, not {other}"),
            )
        }
    }
    let limit = match query.get("limit").map(str::parse::<usize>) {
        None => MAX_LIMIT,
        Some(Ok(n)) if n >= 1 => n.min(MAX_LIMIT),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "\"limit\" must be a positive integer",
            )
        }
    };
    let offset = match query.get("cursor").map(decode_cursor) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => return error(StatusCode::BAD_REQUEST, "Invalid cursor"),
    };
    let catalogue = &state.catalogue;
    let real_mix = state.real_mix;
    let filters = if real_mix {
        query.all("filter")
    } else {
        Vec::new()
    };
    let matches = |rank: usize| {
        let id = catalogue.id(rank);
        let pipeline_ok = query.get("pipeline_tag").is_none_or(|p| {
            if real_mix {
                catalogue.pipeline_tag(rank) == p
            } else {
                p == "text-generation"
            }
        });
        let filter_ok = filters.is_empty() || {
            let model = catalogue.model_json(rank);
            let tags = model["tags"].as_array().cloned().unwrap_or_default();
            filters.iter().all(|f| tags.iter().any(|t| t == f))
        };
        let author_ok = query.get("author").is_none_or(|a| {
            id.split_once('/')
                .is_some_and(|(o, _)| o.eq_ignore_ascii_case(a))
        });
        let search_ok = query
            .get("search")
            .is_none_or(|s| id.to_lowercase().contains(&s.to_lowercase()));
        let library_ok = query.get("library").is_none_or(|l| {
            let gguf = id.ends_with("-GGUF");
            if let Some(mix) = catalogue.mix_at(rank) {
                mix.library == Some(l)
            } else if gguf {
                l == "gguf"
            } else {
                l == "transformers"
            }
        });
        pipeline_ok && filter_ok && author_ok && search_ok && library_ok
    };
    // Positions in tonight's download order; the cursor is a position.
    let order = state.order();
    let mut body = String::from("[");
    let mut count = 0;
    let mut position = offset;
    while position < catalogue.len() && count < limit {
        let rank = order[position];
        // Injected bad records come on top of the page's `limit` models (invented).
        for extra in state.extra_list_items.get(&position).into_iter().flatten() {
            if body.len() > 1 {
                body.push(',');
            }
            body.push_str(extra);
        }
        if matches(rank) {
            if body.len() > 1 {
                body.push(',');
            }
            body.push_str(
                &state.rendered(rank, &expand, true, || shape(&state, rank, &expand, true)),
            );
            count += 1;
        }
        position += 1;
    }
    body.push(']');
    let mut response_headers = HeaderMap::new();
    let more = (position..catalogue.len()).any(|p| matches(order[p]));
    if more {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let kept: Vec<String> = raw
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
            .map(str::to_owned)
            .collect();
        let link = format!(
            "<http://{host}/api/models?{}&cursor={}>; rel=\"next\"",
            kept.join("&"),
            encode_cursor(position)
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            response_headers.insert("link", v);
        }
    }
    serve(&state, Route::List, response_headers, body).await
}

async fn model_info(
    AxumState(state): AxumState<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    state.log.detail.fetch_add(1, Ordering::Relaxed);
    note_token(&state, &headers);
    let query = Query::parse(raw);
    let expand = match expansion(&query) {
        Ok(e) => e,
        Err(response) => return *response,
    };
    let Some(rank) = state.catalogue.rank_of(&id) else {
        return error(StatusCode::NOT_FOUND, "Repository not found");
    };
    let body = shape(&state, rank, &expand, false).to_string();
    serve(&state, Route::Detail, HeaderMap::new(), body).await
}

/// The Hub's cursors are opaque base64; ours wraps an offset in the same way.
fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"$offset\":{offset}}}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    v.get("$offset")?.as_u64().map(|n| n as usize)
}
