//! Where the Hub's results come from: the benchmarks' leaderboards (read once for the
//! stage), each model's `evalResults` and `model-index` from the models stage's raw
//! JSON, and, for a model whose list item came without `evalResults`, its own request.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use futures::{stream, StreamExt};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::results::{from_eval_results_item, from_leaderboard_entry, from_model_index};
use super::{EvalAnswer, EvalStatus, EvalsError, EvalsSettings};
use crate::http::{HttpClient, HttpError};
use crate::hub::HubClient;
use crate::lookup::{Answers, CheckpointSink};
use crate::lookup::{ScoreSource, SourceStats};
use crate::records::{EvalResult, SkippedResult};
use crate::run::{ModelId, SourceName};

/// What the models stage kept of a model: its raw `evalResults` and `model-index`, as
/// JSON text (a few bytes for most models; a parsed tree is many times its text, and the
/// stage holds one for every model of the catalogue), parsed when the model is answered.
#[derive(Debug, Clone, Default)]
pub(super) struct Inputs {
    /// `None` when the list item came without the property (not the same as `[]`).
    pub eval_results: Option<Box<str>>,
    pub model_index: Option<Box<str>>,
}

impl Inputs {
    pub fn from_item(item: &Value) -> Self {
        let text = |v: &Value| v.to_string().into_boxed_str();
        let model_index = item
            .get("cardData")
            .and_then(|c| c.get("model-index"))
            .or_else(|| item.get("model-index"))
            .map(text);
        Self {
            eval_results: item.get("evalResults").map(text),
            model_index,
        }
    }

    /// The JSON text back as a value; it was written by `serde_json`, so it reads.
    fn parsed(text: &Option<Box<str>>) -> Option<Value> {
        text.as_deref()
            .map(|t| serde_json::from_str(t).unwrap_or(Value::Null))
    }
}

/// Every benchmark leaderboard's results, by lower-cased model id.
#[derive(Debug, Default)]
pub(super) struct Boards {
    pub by_model: HashMap<String, Vec<EvalResult>>,
    /// Benchmarks, or entries, that could not be used.
    pub skipped: Vec<SkippedResult>,
    pub requests: u64,
}

fn api_url(endpoint: &Url, segments: &[&str]) -> Result<Url, EvalsError> {
    let mut url = endpoint.clone();
    url.path_segments_mut()
        .map_err(|()| HttpError::Transport {
            url: endpoint.to_string(),
            message: "not a base URL".into(),
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// The official benchmarks (and the configured ones), and each one's leaderboard with
/// every model (`base_model=false`; the server's default keeps only base models). A
/// benchmark that is gone or has no leaderboard is skipped, with the reason.
pub(super) async fn read_boards(
    http: &HttpClient,
    endpoint: &Url,
    settings: &EvalsSettings,
) -> Result<Boards, EvalsError> {
    let mut boards = Boards::default();
    let before = http.stats().requests();
    let mut ids: Vec<String> = Vec::new();
    if settings.official_benchmarks {
        ids = official_benchmarks(http, endpoint, &mut boards.skipped).await?;
    }
    for id in &settings.benchmarks {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    for id in ids {
        read_board(http, endpoint, &id, &mut boards).await?;
    }
    boards.requests = http.stats().requests() - before;
    Ok(boards)
}

/// The ids of the Hub's official benchmarks (`filter=benchmark:official`); none, with
/// the reason skipped, when the list cannot be read.
async fn official_benchmarks(
    http: &HttpClient,
    endpoint: &Url,
    skipped: &mut Vec<SkippedResult>,
) -> Result<Vec<String>, EvalsError> {
    let mut url = api_url(endpoint, &["api", "datasets"])?;
    url.query_pairs_mut()
        .append_pair("filter", "benchmark:official")
        .append_pair("limit", "1000");
    let skip = |reason: String| SkippedResult {
        model_id: String::new(),
        source: "official benchmarks".into(),
        reason,
    };
    let mut ids = Vec::new();
    match http.get(&url).await.and_then(|f| f.json::<Value>()) {
        Ok(Value::Array(items)) => {
            for item in items {
                let official = item["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "benchmark:official"));
                match item["id"].as_str() {
                    Some(id) if official => ids.push(id.to_owned()),
                    _ => {}
                }
            }
        }
        Ok(_) => skipped.push(skip("the list is not a JSON array".into())),
        Err(e) => skipped.push(skip(e.to_string())),
    }
    Ok(ids)
}

/// One benchmark's leaderboard, each entry checked where it comes in: its results by
/// model into `boards`, what cannot be used skipped with the reason.
async fn read_board(
    http: &HttpClient,
    endpoint: &Url,
    id: &str,
    boards: &mut Boards,
) -> Result<(), EvalsError> {
    let mut segments = vec!["api", "datasets"];
    segments.extend(id.split('/'));
    segments.push("leaderboard");
    let mut url = api_url(endpoint, &segments)?;
    url.query_pairs_mut().append_pair("base_model", "false");
    let skip = |reason: String| SkippedResult {
        model_id: String::new(),
        source: format!("{id} leaderboard"),
        reason,
    };
    let entries = match http.get(&url).await.and_then(|f| f.json::<Value>()) {
        Ok(Value::Array(entries)) => entries,
        Ok(_) => {
            boards
                .skipped
                .push(skip("the leaderboard is not a JSON array".into()));
            return Ok(());
        }
        Err(HttpError::Status { status: 404, .. }) => {
            boards
                .skipped
                .push(skip("the benchmark is not found (HTTP 404)".into()));
            return Ok(());
        }
        Err(HttpError::Status { status, .. }) => {
            boards.skipped.push(skip(format!(
                "the benchmark has no leaderboard (HTTP {status})"
            )));
            return Ok(());
        }
        Err(e) => {
            boards.skipped.push(skip(e.to_string()));
            return Ok(());
        }
    };
    for entry in &entries {
        match from_leaderboard_entry(id, "", endpoint.as_str(), entry) {
            Ok((model, result)) => boards
                .by_model
                .entry(model.to_lowercase())
                .or_default()
                .push(result),
            Err(reason) => boards.skipped.push(SkippedResult {
                model_id: entry["modelId"].as_str().unwrap_or_default().to_owned(),
                source: format!("{id} leaderboard"),
                reason,
            }),
        }
    }
    Ok(())
}

/// The Hub's results for each model.
pub(super) struct HubEvals {
    pub inputs: HashMap<String, Inputs>,
    pub boards: Boards,
    pub client: HubClient,
    pub endpoint: String,
    pub max_model_requests: usize,
}

impl HubEvals {
    /// One model's answer from what is known of it.
    fn answer_for(&self, model: &ModelId, inputs: &Inputs) -> EvalAnswer {
        let id = model.as_str();
        let mut results: Vec<EvalResult> = Vec::new();
        let mut skipped = Vec::new();
        let skip = |source: &str, reason: String| SkippedResult {
            model_id: id.to_owned(),
            source: source.to_owned(),
            reason,
        };
        match &Inputs::parsed(&inputs.eval_results) {
            Some(Value::Array(items)) => {
                for item in items {
                    match from_eval_results_item(id, &self.endpoint, item) {
                        Ok(r) => results.push(r),
                        Err(reason) => skipped.push(skip("evalResults", reason)),
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => skipped.push(skip("evalResults", format!("not a list: {other}"))),
        }
        // The leaderboards repeat the model's own results files: one result per file.
        let known: HashSet<(String, String, Option<u64>)> = results
            .iter()
            .map(|r| (r.benchmark.clone(), r.filename.clone(), r.pull_request))
            .collect();
        for r in self
            .boards
            .by_model
            .get(&model.normalized())
            .into_iter()
            .flatten()
        {
            if !known.contains(&(r.benchmark.clone(), r.filename.clone(), r.pull_request)) {
                results.push(r.clone());
            }
        }
        if let Some(index) = &Inputs::parsed(&inputs.model_index) {
            for parsed in from_model_index(id, &self.endpoint, index) {
                match parsed {
                    Ok(r) => results.push(r),
                    Err(reason) => skipped.push(skip("model-index", reason)),
                }
            }
        }
        let status = if results.is_empty() {
            EvalStatus::NotFound
        } else {
            EvalStatus::Found
        };
        EvalAnswer {
            status,
            detail: format!("{} result(s)", results.len()),
            results,
            skipped,
        }
    }
}

#[async_trait]
impl ScoreSource for HubEvals {
    type Answer = EvalAnswer;
    type Error = EvalsError;

    fn name(&self) -> SourceName {
        SourceName::Hub
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<EvalAnswer>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, EvalsError> {
        let before = self.client.http().stats().requests();
        // A list item without `evalResults` (not `[]`: absent) is asked for on its own,
        // within the bound; the rest are answered from what the list gave.
        let missing: Vec<ModelId> = models
            .iter()
            .filter(|m| {
                self.inputs
                    .get(&m.normalized())
                    .is_none_or(|i| i.eval_results.is_none())
            })
            .take(self.max_model_requests)
            .cloned()
            .collect();
        let client = &self.client;
        let fetched: Vec<(String, Result<Value, HttpError>)> = stream::iter(missing)
            .map(|m: ModelId| async move {
                let info = client.model_info(m.as_str()).await;
                (m.normalized(), info)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut fetched: HashMap<String, Result<Value, HttpError>> = fetched.into_iter().collect();
        if cancel.is_cancelled() {
            return Err(EvalsError::Interrupted);
        }
        let empty = Inputs::default();
        let answers: Answers<'_, EvalAnswer> = Box::new(models.iter().map(|model: &ModelId| {
            let answer = match fetched.remove(&model.normalized()) {
                Some(Ok(item)) => self.answer_for(model, &Inputs::from_item(&item)),
                Some(Err(e)) => EvalAnswer {
                    status: EvalStatus::Error,
                    results: Vec::new(),
                    skipped: Vec::new(),
                    detail: e.to_string(),
                },
                None => self.answer_for(
                    model,
                    self.inputs.get(&model.normalized()).unwrap_or(&empty),
                ),
            };
            (model.clone(), answer)
        }));
        tokio::select! {
            written = sink.record_many(answers) => written?,
            _ = cancel.cancelled() => return Err(EvalsError::Interrupted),
        }
        Ok(SourceStats {
            requests: self.client.http().stats().requests() - before,
            session_restarts: 0,
        })
    }
}
