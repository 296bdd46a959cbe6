//! The Open LLM Leaderboard, faked from the real rows in
//! `realdata/leaderboard/formatted-2025-03-21.csv`:
//! - the app's JSON API, `GET /api/leaderboard/formatted` (the CSV nested back into the
//!   API's shape, as `formatted-sample.json` shows it), and the datasets-server API for
//!   `open-llm-leaderboard/contents`, `GET /rows` ([`data`]);
//! - the app itself at `/` and the Space page that wraps it in an iframe ([`app`]),
//!   following the real app's public source point by point (see `app.js`).

mod app;
mod data;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

/// How the app behaves; tests change it to reproduce what the real one does when its
/// data fails, or (invented) when its page is redesigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMode {
    Normal,
    /// The app's data requests answer `status`: all of them (`requests: None`), or the
    /// next `requests` ones. The real app tries twice, then shows only `HTTP error!
    /// status: <status>` (App.js:22-29, Leaderboard.js:370-379).
    DataFails {
        status: u16,
        requests: Option<u32>,
    },
    /// Invented: a redesign that renames this header (e.g. `Average`) to `Score`.
    RenamedHeader(String),
}

pub struct Leaderboard {
    /// Data requests served (`/api/leaderboard/formatted` and `/rows`).
    pub data_requests: std::sync::atomic::AtomicU64,
    /// Data requests failed so far under `PageMode::DataFails`.
    failed: std::sync::atomic::AtomicU32,
    formatted: Arc<str>,
    contents: Vec<Value>,
    /// The `contents` dataset's parquet file, built from the same rows.
    parquet: bytes::Bytes,
    page: Mutex<(PageMode, Duration)>,
    /// The Hub's state, for the datastores that answer on the same `resolve` and
    /// `/cas` routes ([`crate::datastores`]).
    hub: Option<Arc<crate::State>>,
}

/// Round every float of a JSON value to `decimals` places.
fn round_floats(value: &mut Value, decimals: i32) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let scale = 10f64.powi(decimals);
            if let Some(v) = n.as_f64().map(|v| (v * scale).round() / scale) {
                *value = json!(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| round_floats(v, decimals)),
        Value::Object(map) => map.values_mut().for_each(|v| round_floats(v, decimals)),
        _ => {}
    }
}

const BENCHES: [&str; 6] = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"];

impl Leaderboard {
    /// The real rows. `decimals` rounds the JSON API's floats: the real API sends them in
    /// full (6 M characters), which overflows Chromium's storage quota in the real app;
    /// the real app was checked here with them rounded to 4 decimals, which fits.
    pub fn load(
        realdata: &Path,
        render_delay: Duration,
        decimals: Option<i32>,
    ) -> anyhow::Result<Self> {
        Self::load_with(realdata, render_delay, decimals, &[])
    }

    /// Let the `resolve` and `/cas` routes answer for the datastores too.
    pub(crate) fn set_hub(&mut self, state: Arc<crate::State>) {
        self.hub = Some(state);
    }

    /// Serve `file` as the parquet file (see `FakeConfig::contents_parquet`).
    pub fn replace_parquet(&mut self, file: bytes::Bytes) {
        self.parquet = file;
    }

    /// As [`Leaderboard::load`], with `extra` rows (in the JSON API's shape) after the
    /// real ones, in every API. Invented: bad rows from a leaderboard stand-in; an item
    /// that is not an object goes into `/rows` as it is (and a row of nulls in parquet).
    pub fn load_with(
        realdata: &Path,
        render_delay: Duration,
        decimals: Option<i32>,
        extra: &[Value],
    ) -> anyhow::Result<Self> {
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
        for item in extra {
            contents.push(if item.is_object() {
                contents_row(item)
            } else {
                item.clone()
            });
            formatted.push(item.clone());
        }
        let mut formatted = Value::Array(formatted);
        if let Some(decimals) = decimals {
            round_floats(&mut formatted, decimals);
        }
        Ok(Self {
            data_requests: Default::default(),
            failed: Default::default(),
            parquet: data::contents_parquet(&contents)?,
            formatted: Arc::from(formatted.to_string()),
            contents,
            page: Mutex::new((PageMode::Normal, render_delay)),
            hub: None,
        })
    }

    pub fn rows(&self) -> usize {
        self.contents.len()
    }

    pub fn set_page(&self, mode: PageMode, render_delay: Duration) {
        self.failed.store(0, std::sync::atomic::Ordering::Relaxed);
        *self.page.lock().unwrap_or_else(|p| p.into_inner()) = (mode, render_delay);
    }

    /// The status a data request fails with now, if it does.
    fn failure(&self) -> Option<u16> {
        let PageMode::DataFails { status, requests } = self.page_mode() else {
            return None;
        };
        let failed = self
            .failed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        requests.is_none_or(|n| failed < n).then_some(status)
    }

    fn page_mode(&self) -> PageMode {
        self.page
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    fn render_delay(&self) -> Duration {
        self.page.lock().unwrap_or_else(|p| p.into_inner()).1
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

/// A model type's label in the `contents` dataset, with its emoji (`T`). The three
/// the real sample shows are verbatim (realdata/leaderboard/contents-rows-sample.json);
/// the others are invented in the same form from the formatted export's type names.
fn type_label(raw: &str) -> (&'static str, &'static str) {
    match raw {
        "pretrained" => ("🟢", "🟢 pretrained"),
        "chatmodels" => ("💬", "💬 chat models (RLHF, DPO, IFT, ...)"),
        "basemergesandmoerges" => ("🤝", "🤝 base merges and moerges"),
        // Invented labels, below.
        "continuouslypretrained" => ("🟩", "🟩 continuously pretrained"),
        "fine-tunedondomain-specificdatasets" => {
            ("🔶", "🔶 fine-tuned on domain-specific datasets")
        }
        "multimodal" => ("🌸", "🌸 multimodal"),
        _ => ("❓", "❓ other"),
    }
}

/// The `contents` dataset's columns, in order, with their dtypes: the `features` of the
/// real `/rows` response (realdata/leaderboard/contents-rows-sample.json).
pub const CONTENTS_COLUMNS: [(&str, &str); 36] = [
    ("eval_name", "string"),
    ("Precision", "string"),
    ("Type", "string"),
    ("T", "string"),
    ("Weight type", "string"),
    ("Architecture", "string"),
    ("Model", "string"),
    ("fullname", "string"),
    ("Model sha", "string"),
    ("Average ⬆️", "float64"),
    ("Hub License", "string"),
    ("Hub ❤️", "int64"),
    ("#Params (B)", "float64"),
    ("Available on the hub", "bool"),
    ("MoE", "bool"),
    ("Flagged", "bool"),
    ("Chat Template", "bool"),
    ("CO₂ cost (kg)", "float64"),
    ("IFEval Raw", "float64"),
    ("IFEval", "float64"),
    ("BBH Raw", "float64"),
    ("BBH", "float64"),
    ("MATH Lvl 5 Raw", "float64"),
    ("MATH Lvl 5", "float64"),
    ("GPQA Raw", "float64"),
    ("GPQA", "float64"),
    ("MUSR Raw", "float64"),
    ("MUSR", "float64"),
    ("MMLU-PRO Raw", "float64"),
    ("MMLU-PRO", "float64"),
    ("Merged", "bool"),
    ("Official Providers", "bool"),
    ("Upload To Hub Date", "string"),
    ("Submission Date", "string"),
    ("Generation", "int64"),
    ("Base Model", "string"),
];

/// The same evaluation as a row of the `contents` dataset, in its real form: its
/// `eval_name` is `<org>_<name>_<precision>`, its `Type` a label with an emoji, its
/// `Model` two HTML links (the model and its details dataset, as in the real sample),
/// and "Available on the hub" the inverse of the API's `is_not_available_on_hub`.
fn contents_row(item: &Value) -> Value {
    let m = &item["model"];
    let e = &item["evaluations"];
    let f = &item["features"];
    let md = &item["metadata"];
    let name = m["name"].as_str().unwrap_or_default();
    let (t, label) = type_label(m["type"].as_str().unwrap_or_default());
    let style =
        "color: var(--link-text-color); text-decoration: underline;text-decoration-style: dotted;";
    let details = name.replace('/', "__");
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.into(), v);
    };
    put(
        "eval_name",
        json!(format!(
            "{}_{}",
            name.replace('/', "_"),
            m["precision"].as_str().unwrap_or_default()
        )),
    );
    put("Precision", m["precision"].clone());
    put("Type", json!(label));
    put("T", json!(t));
    put("Weight type", m["weight_type"].clone());
    put("Architecture", m["architecture"].clone());
    put(
        "Model",
        json!(format!(
            "<a target=\"_blank\" href=\"https://huggingface.co/{name}\" style=\"{style}\">{name}</a>  \
             <a target=\"_blank\" href=\"https://huggingface.co/datasets/open-llm-leaderboard/{details}-details\" style=\"{style}\">📑</a>"
        )),
    );
    // As the API has it (a string in every real row; an invented bad row's value as is).
    put("fullname", m["name"].clone());
    put("Model sha", m["sha"].clone());
    put("Average ⬆️", m["average_score"].clone());
    put("Hub License", md["hub_license"].clone());
    put("Hub ❤️", md["hub_hearts"].clone());
    put("#Params (B)", md["params_billions"].clone());
    put(
        "Available on the hub",
        json!(f["is_not_available_on_hub"].as_bool().map(|b| !b)),
    );
    put("MoE", f["is_moe"].clone());
    put("Flagged", f["is_flagged"].clone());
    put("Chat Template", m["has_chat_template"].clone());
    put("CO₂ cost (kg)", md["co2_cost"].clone());
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
    Value::Object(row)
}

pub fn router(board: Arc<Leaderboard>) -> Router {
    Router::new()
        .route("/api/leaderboard/formatted", get(data::formatted))
        .route("/rows", get(data::rows))
        .route(
            "/datasets/{owner}/{name}/resolve/{revision}/{*file}",
            get(data::resolve),
        )
        .route("/cas/{digest}", get(data::cas))
        .route(
            "/spaces/open-llm-leaderboard/open_llm_leaderboard",
            get(app::space_page),
        )
        .route("/", get(app::app_page))
        .with_state(board)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nesting must give back exactly the real API's shape and values.
    #[test]
    fn formatted_rows_match_the_real_sample() {
        let realdata = crate::realdata_dir();
        let board = Leaderboard::load(&realdata, Duration::ZERO, None).unwrap();
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
