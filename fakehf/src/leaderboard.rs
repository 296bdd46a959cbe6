//! The Open LLM Leaderboard, faked from the real rows in
//! `realdata/leaderboard/formatted-2025-03-21.csv`:
//! - the app's JSON API, `GET /api/leaderboard/formatted` (the CSV nested back into the
//!   API's shape, as `formatted-sample.json` shows it);
//! - the datasets-server API for `open-llm-leaderboard/contents`, `GET /rows` (≤ 100 rows);
//! - the page: `/spaces/open-llm-leaderboard/open_llm_leaderboard?search=…` wraps the
//!   app (`/app/?search=…`) in an iframe, and the app draws the table by script, after
//!   a delay, from the JSON API, filtered by the search text. We have no copy of the
//!   real app's HTML, so the table promises only its real column headers.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

/// How the replica page behaves; tests change it to mimic an upstream redesign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMode {
    Normal,
    /// The script never draws the table.
    NoTable,
    /// The table lacks this header (e.g. `Average ⬆️`).
    MissingHeader(String),
    /// The app no longer applies the URL's search: the unfiltered first paint stays.
    IgnoresSearch,
}

pub struct Leaderboard {
    /// Data requests served (`/api/leaderboard/formatted` and `/rows`).
    pub data_requests: std::sync::atomic::AtomicU64,
    formatted: Arc<str>,
    contents: Vec<Value>,
    page: Mutex<(PageMode, Duration)>,
}

const BENCHES: [&str; 6] = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"];

impl Leaderboard {
    pub fn load(realdata: &Path, render_delay: Duration) -> anyhow::Result<Self> {
        let path = realdata.join("leaderboard/formatted-2025-03-21.csv");
        let mut reader =
            csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
        let headers = reader.headers()?.clone();
        let mut formatted = Vec::new();
        let mut contents = Vec::new();
        for record in reader.records() {
            let record = record?;
            let flat: Vec<(&str, &str)> = headers.iter().zip(record.iter()).collect();
            let item = nest(&flat);
            contents.push(contents_row(&item));
            formatted.push(item);
        }
        Ok(Self::with_rows(formatted, contents, render_delay))
    }

    /// As [`Leaderboard::load`], with `extra` rows (in the JSON API's shape) after the
    /// real ones, in both APIs. Invented: bad rows from a leaderboard stand-in; an item
    /// that is not an object goes into `/rows` as it is.
    pub fn load_with(
        realdata: &Path,
        render_delay: Duration,
        extra: &[Value],
    ) -> anyhow::Result<Self> {
        let board = Self::load(realdata, render_delay)?;
        if extra.is_empty() {
            return Ok(board);
        }
        let mut formatted: Vec<Value> = serde_json::from_str(&board.formatted)?;
        let mut contents = board.contents;
        for item in extra {
            contents.push(if item.is_object() {
                contents_row(item)
            } else {
                item.clone()
            });
            formatted.push(item.clone());
        }
        Ok(Self::with_rows(formatted, contents, render_delay))
    }

    fn with_rows(formatted: Vec<Value>, contents: Vec<Value>, render_delay: Duration) -> Self {
        Self {
            data_requests: Default::default(),
            formatted: Arc::from(Value::Array(formatted).to_string()),
            contents,
            page: Mutex::new((PageMode::Normal, render_delay)),
        }
    }

    pub fn rows(&self) -> usize {
        self.contents.len()
    }

    pub fn set_page(&self, mode: PageMode, render_delay: Duration) {
        *self.page.lock().unwrap_or_else(|p| p.into_inner()) = (mode, render_delay);
    }
}

/// A flat CSV row (nested keys joined with `_`) back into the API's nested object.
fn nest(flat: &[(&str, &str)]) -> Value {
    let mut root = Map::new();
    let mut model = Map::new();
    let mut evaluations = Map::new();
    let mut features = Map::new();
    let mut metadata = Map::new();
    // The API sends null where the CSV export has an empty cell.
    let text = |raw: &str| {
        if raw.is_empty() {
            Value::Null
        } else {
            json!(raw)
        }
    };
    for &(key, raw) in flat {
        if key == "id" {
            root.insert("id".into(), json!(raw));
        } else if let Some(k) = key.strip_prefix("model_") {
            let v = match k {
                "average_score" => number(raw),
                "has_chat_template" => boolean(raw),
                _ => text(raw),
            };
            model.insert(k.into(), v);
        } else if let Some(rest) = key.strip_prefix("evaluations_") {
            let bench = BENCHES
                .iter()
                .find(|b| rest.starts_with(&format!("{b}_")))
                .copied()
                .unwrap_or("");
            let field = &rest[bench.len() + 1..];
            let v = if field == "name" {
                json!(raw)
            } else {
                number(raw)
            };
            evaluations
                .entry(bench)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|o| o.insert(field.into(), v));
        } else if let Some(k) = key.strip_prefix("features_") {
            features.insert(k.into(), boolean(raw));
        } else if let Some(k) = key.strip_prefix("metadata_") {
            let v = match k {
                "generation" | "hub_hearts" => {
                    raw.parse::<i64>().map(|n| json!(n)).unwrap_or(Value::Null)
                }
                "params_billions" | "co2_cost" => number(raw),
                _ => text(raw),
            };
            metadata.insert(k.into(), v);
        }
    }
    root.insert("model".into(), Value::Object(model));
    root.insert("evaluations".into(), Value::Object(evaluations));
    root.insert("features".into(), Value::Object(features));
    root.insert("metadata".into(), Value::Object(metadata));
    Value::Object(root)
}

fn number(raw: &str) -> Value {
    raw.parse::<f64>().map(|n| json!(n)).unwrap_or(Value::Null)
}

fn boolean(raw: &str) -> Value {
    match raw.to_ascii_uppercase().as_str() {
        "TRUE" => json!(true),
        "FALSE" => json!(false),
        _ => Value::Null,
    }
}

/// The same evaluation as a row of the `contents` dataset (see the mapping in the README).
fn contents_row(item: &Value) -> Value {
    let m = &item["model"];
    let e = &item["evaluations"];
    let f = &item["features"];
    let md = &item["metadata"];
    let name = m["name"].as_str().unwrap_or_default();
    let t = match m["type"].as_str().unwrap_or_default() {
        "pretrained" => "🟢",
        "continuouslypretrained" => "🟩",
        "fine-tunedondomain-specificdatasets" => "🔶",
        "chatmodels" => "💬",
        "basemergesandmoerges" => "🤝",
        "multimodal" => "🌸",
        _ => "❓",
    };
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.into(), v);
    };
    put("eval_name", item["id"].clone());
    put("Precision", m["precision"].clone());
    put("Type", m["type"].clone());
    put("T", json!(t));
    put("Weight type", m["weight_type"].clone());
    put("Architecture", m["architecture"].clone());
    put(
        "Model",
        json!(format!(
            "<a target=\"_blank\" href=\"https://huggingface.co/{name}\" style=\"color: var(--link-text-color); text-decoration: underline;text-decoration-style: dotted;\">{name}</a>"
        )),
    );
    // As the API has it (a string in every real row; an invented bad row's value as is).
    put("fullname", m["name"].clone());
    put("Model sha", m["sha"].clone());
    put("Average ⬆️", m["average_score"].clone());
    put("Chat Template", m["has_chat_template"].clone());
    for (bench, column) in [
        ("ifeval", "IFEval"),
        ("bbh", "BBH"),
        ("math", "MATH Lvl 5"),
        ("gpqa", "GPQA"),
        ("musr", "MUSR"),
        ("mmlu_pro", "MMLU-PRO"),
    ] {
        put(&format!("{column} Raw"), e[bench]["value"].clone());
        put(column, e[bench]["normalized_score"].clone());
    }
    put("Merged", f["is_merged"].clone());
    put("Official Providers", f["is_official_provider"].clone());
    put("Upload To Hub Date", md["upload_date"].clone());
    put("Submission Date", md["submission_date"].clone());
    put("Generation", md["generation"].clone());
    put("Base Model", md["base_model"].clone());
    put("Hub License", md["hub_license"].clone());
    put("Hub ❤️", md["hub_hearts"].clone());
    put("#Params (B)", md["params_billions"].clone());
    put(
        "Available on the hub",
        json!(f["is_not_available_on_hub"].as_bool().map(|b| !b)),
    );
    put("MoE", f["is_moe"].clone());
    put("Flagged", f["is_flagged"].clone());
    put("CO₂ cost (kg)", md["co2_cost"].clone());
    Value::Object(row)
}

pub fn router(board: Arc<Leaderboard>) -> Router {
    Router::new()
        .route("/api/leaderboard/formatted", get(formatted))
        .route("/rows", get(rows))
        .route(
            "/spaces/open-llm-leaderboard/open_llm_leaderboard",
            get(space_page),
        )
        .route("/app/", get(app_page))
        .with_state(board)
}

async fn formatted(AxumState(board): AxumState<Arc<Leaderboard>>) -> Response {
    board
        .data_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (
        [(header::CONTENT_TYPE, "application/json")],
        board.formatted.to_string(),
    )
        .into_response()
}

fn query_value(raw: &Option<String>, key: &str) -> Option<String> {
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

async fn rows(AxumState(board): AxumState<Arc<Leaderboard>>, RawQuery(raw): RawQuery) -> Response {
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn space_page(RawQuery(raw): RawQuery) -> Html<String> {
    let search = query_value(&raw, "search").unwrap_or_default();
    let src = format!(
        "/app/?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("search", &search)
            .finish()
    );
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Open LLM Leaderboard - a Hugging Face Space</title></head>\
         <body><main><h1>Open LLM Leaderboard</h1><iframe src=\"{}\" title=\"open_llm_leaderboard\" width=\"100%\" height=\"900\"></iframe></main></body></html>",
        escape(&src)
    ))
}

/// The columns the app shows, by their real headers.
const COLUMNS: [(&str, &str); 19] = [
    ("T", "t"),
    ("Model", "name"),
    ("Average ⬆️", "average"),
    ("IFEval", "ifeval"),
    ("BBH", "bbh"),
    ("MATH Lvl 5", "math"),
    ("GPQA", "gpqa"),
    ("MUSR", "musr"),
    ("MMLU-PRO", "mmlu_pro"),
    ("Type", "type"),
    ("Architecture", "architecture"),
    ("Precision", "precision"),
    ("Weight type", "weight_type"),
    ("Model sha", "sha"),
    ("#Params (B)", "params"),
    ("Hub License", "license"),
    ("Chat Template", "chat"),
    ("Submission Date", "submitted"),
    ("Base Model", "base"),
];

async fn app_page(AxumState(board): AxumState<Arc<Leaderboard>>) -> Html<String> {
    let (mode, delay) = board.page.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let columns: Vec<Value> = COLUMNS
        .iter()
        .filter(|(header, _)| mode != PageMode::MissingHeader((*header).to_owned()))
        .map(|(header, key)| json!([header, key]))
        .collect();
    let draw = mode != PageMode::NoTable;
    let filter = mode != PageMode::IgnoresSearch;
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>open_llm_leaderboard</title></head>
<body><div id="app"><p id="status">Loading…</p></div>
<script>
const COLUMNS = {columns};
const DRAW = {draw};
const FILTER = {filter};
function cell(r, key) {{
  const e = r.evaluations || {{}}, m = r.model || {{}}, md = r.metadata || {{}};
  switch (key) {{
    case "t": return m.type === "chatmodels" ? "💬" : m.type === "pretrained" ? "🟢" : "🔶";
    case "name": return m.name;
    case "average": return String(m.average_score);
    case "type": return m.type;
    case "architecture": return m.architecture;
    case "precision": return m.precision;
    case "weight_type": return m.weight_type;
    case "sha": return m.sha;
    case "params": return md.params_billions == null ? "" : String(md.params_billions);
    case "license": return md.hub_license || "";
    case "chat": return String(m.has_chat_template);
    case "submitted": return md.submission_date || "";
    case "base": return md.base_model || "";
    default: return e[key] ? String(e[key].normalized_score) : "";
  }}
}}
function draw(shown) {{
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const [header] of COLUMNS) {{ const th = document.createElement("th"); th.textContent = header; head.appendChild(th); }}
  const body = table.createTBody();
  for (const r of shown) {{
    const tr = body.insertRow();
    for (const [, key] of COLUMNS) {{
      const td = tr.insertCell();
      if (key === "name") {{ const a = document.createElement("a"); a.href = "https://huggingface.co/" + r.model.name; a.textContent = r.model.name; td.appendChild(a); }}
      else td.textContent = cell(r, key);
    }}
  }}
  const old = document.querySelector("table");
  if (old) old.replaceWith(table); else document.getElementById("app").appendChild(table);
}}
async function render() {{
  const search = (new URLSearchParams(location.search).get("search") || "").toLowerCase();
  const rows = await (await fetch("/api/leaderboard/formatted")).json();
  if (!DRAW) {{ document.getElementById("status").textContent = "Something went wrong"; return; }}
  document.getElementById("status").remove();
  const apply = (text) => draw(rows.filter(r => r.model.name.toLowerCase().includes(text.toLowerCase())));
  // Invented, as a client-side app may do it: a search box that filters as one types,
  // debounced by the render delay, and keeps the URL in step (the app has no copy here).
  const box = document.createElement("input");
  box.type = "search"; box.placeholder = "Search models"; box.value = search;
  let pending = null;
  box.addEventListener("input", () => {{
    clearTimeout(pending);
    pending = setTimeout(() => {{
      history.replaceState(null, "", "?search=" + encodeURIComponent(box.value));
      if (FILTER) apply(box.value);
    }}, {delay_ms});
  }});
  document.getElementById("app").appendChild(box);
  // The first paint shows the top rows unfiltered; the URL's search applies a moment later.
  draw(rows.slice(0, 10));
  if (FILTER) pending = setTimeout(() => apply(search), {delay_ms});
}}
setTimeout(render, {delay_ms});
</script></body></html>"#,
        columns = Value::Array(columns),
        delay_ms = delay.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nesting must give back exactly the real API's shape and values.
    #[test]
    fn formatted_rows_match_the_real_sample() {
        let realdata = crate::realdata_dir();
        let board = Leaderboard::load(&realdata, Duration::ZERO).unwrap();
        assert_eq!(board.rows(), 4576);
        let ours: Vec<Value> = serde_json::from_str(&board.formatted).unwrap();
        let sample: Vec<Value> = serde_json::from_str(
            &std::fs::read_to_string(realdata.join("leaderboard/formatted-sample.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(sample.len(), 60);
        for (a, b) in ours.iter().zip(&sample) {
            assert_eq!(a, b, "row {}", b["id"]);
        }
    }
}
