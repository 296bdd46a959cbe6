//! The evals stage: read what the models stage kept, the benchmarks' leaderboards, and
//! each model's own request where needed; checkpoint each model's answer; then write
//! `evals.csv` with the leaderboard v2's scores beside the Hub's, and
//! `evals_skipped.json`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::results::{preferred, EvalResult, EvalSource, SkippedResult};
use super::source::{read_boards, HubEvals, Inputs};
use super::{EvalAnswer, EvalsError, EvalsSettings};
use crate::csvout::{self, CsvReadError};
use crate::http::HttpSettings;
use crate::hub::{HubClient, HubSettings};
use crate::leaderboard::{canonical_row, drive, LeaderboardRecord, MatchStatus};
use crate::parquetout::{non_empty, timestamp_ms, Table};
use crate::run::artifact::{
    EVALS_CSV, EVALS_PARQUET, EVALS_SKIPPED_JSON, LEADERBOARD_CSV, MODELS_JSONL,
};
use crate::run::{Checked, ModelId, Secret, Stage};
use crate::store::{Checkpoint, RunStore};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalsOutcome {
    /// Models per status (`found`, `not_found`, `error`).
    pub counts: BTreeMap<String, u64>,
    pub resumed: u64,
    /// Requests made: the benchmark list and leaderboards, and any per-model ones.
    pub requests: u64,
    /// Rows of `evals.csv`.
    pub rows: u64,
    pub skipped: u64,
    pub seconds: f64,
}

impl EvalsOutcome {
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        let mut outcomes = self.counts.clone();
        if self.resumed > 0 {
            outcomes.insert("resumed".into(), self.resumed);
        }
        outcomes
    }
}

/// One row of `evals.csv`: a model's value for a benchmark from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    #[serde(with = "crate::csvout::text")]
    pub model_id: String,
    #[serde(with = "crate::csvout::text")]
    pub benchmark: String,
    #[serde(with = "crate::csvout::text")]
    pub task: String,
    #[serde(with = "crate::csvout::text")]
    pub metric: String,
    pub value: f64,
    pub verified: bool,
    pub source: EvalSource,
    pub date: String,
    #[serde(with = "crate::csvout::text")]
    pub url: String,
    #[serde(with = "crate::csvout::text")]
    pub source_name: String,
    pub pull_request: Option<u64>,
    #[serde(with = "crate::csvout::text")]
    pub filename: String,
}

impl EvalRow {
    fn of(model: &ModelId, r: &EvalResult) -> Self {
        Self {
            model_id: model.to_string(),
            benchmark: r.benchmark.clone(),
            task: r.task.clone(),
            metric: r.metric.clone(),
            value: r.value,
            verified: r.verified,
            source: r.source,
            date: r.date.clone(),
            url: r.url.clone(),
            source_name: r.source_name.clone(),
            pull_request: r.pull_request,
            filename: r.filename.clone(),
        }
    }

    pub fn result(&self) -> EvalResult {
        EvalResult {
            benchmark: self.benchmark.clone(),
            task: self.task.clone(),
            metric: self.metric.clone(),
            value: self.value,
            verified: self.verified,
            source: self.source,
            date: self.date.clone(),
            url: self.url.clone(),
            source_name: self.source_name.clone(),
            pull_request: self.pull_request,
            filename: self.filename.clone(),
        }
    }
}

/// `evals_skipped.json`: what was not used, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub skipped: Vec<SkippedResult>,
}

/// Parse an `evals.csv` body for `stage`: a row that does not read, or whose model id
/// is not one, is set aside with its line; the file fails only when no row reads.
pub fn read_evals_csv(
    body: &[u8],
    key: &str,
    stage: Stage,
) -> Result<Checked<EvalRow>, CsvReadError> {
    let read = csvout::read_rows(body, key).usable()?;
    Ok(crate::hub::check_read_back(read, stage, |r: &EvalRow| {
        &r.model_id
    }))
}

/// Run the stage for `models` (in output order).
#[allow(clippy::too_many_arguments)]
pub async fn collect_evals(
    run: &RunStore,
    models: &[ModelId],
    settings: &EvalsSettings,
    hub: &HubSettings,
    http: &HttpSettings,
    token: Option<Secret>,
    cancel: &CancellationToken,
) -> Result<EvalsOutcome, EvalsError> {
    let started = Instant::now();
    let inputs = read_inputs(run).await?;
    let client = HubClient::new(hub, http, token).map_err(|e| EvalsError::Write {
        file: EVALS_CSV,
        message: e.to_string(),
    })?;
    let endpoint = Url::parse(&hub.endpoint).map_err(|e| EvalsError::Write {
        file: EVALS_CSV,
        message: format!("hub.endpoint: {e}"),
    })?;
    let boards = tokio::select! {
        boards = read_boards(client.http(), &endpoint, settings) => boards?,
        _ = cancel.cancelled() => return Err(EvalsError::Interrupted),
    };
    let board_requests = boards.requests;
    let mut skipped = boards.skipped.clone();
    let source = HubEvals {
        inputs,
        boards,
        client,
        endpoint: hub.endpoint.trim_end_matches('/').to_owned(),
        max_model_requests: settings.max_model_requests,
    };
    let driven = drive(&source, run, Stage::Evals, models, cancel).await?;
    let leaderboard = read_leaderboard(run).await?;
    let (rows, counts) = assemble(models, &driven.checkpoints, &leaderboard, &mut skipped)?;
    write_csv(run, &rows).await?;
    let body = serde_json::to_vec_pretty(&SkippedFile {
        skipped: skipped.clone(),
    })
    .map_err(|e| EvalsError::Write {
        file: EVALS_SKIPPED_JSON,
        message: e.to_string(),
    })?;
    run.put(EVALS_SKIPPED_JSON, Bytes::from(body)).await?;
    let outcome = EvalsOutcome {
        counts,
        resumed: driven.resumed,
        requests: board_requests + driven.stats.requests,
        rows: rows.len() as u64,
        skipped: skipped.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(counts = ?outcome.counts, rows = outcome.rows, skipped = outcome.skipped, requests = outcome.requests, "evals stage done");
    Ok(outcome)
}

/// Each model's `evalResults` and `model-index`, from the models stage's raw JSON.
async fn read_inputs(run: &RunStore) -> Result<HashMap<String, Inputs>, EvalsError> {
    let body = run
        .get(MODELS_JSONL)
        .await?
        .ok_or_else(|| EvalsError::MissingInput {
            run_id: run.run_id().to_string(),
            file: MODELS_JSONL,
        })?;
    let mut inputs = HashMap::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(item) => {
                if let Some(id) = item["id"].as_str() {
                    inputs.insert(id.to_lowercase(), Inputs::from_item(&item));
                }
            }
            Err(e) => {
                tracing::warn!(key = %run.key(MODELS_JSONL), line = i + 1, error = %e, "an unreadable line; its model's Hub results are asked for on their own")
            }
        }
    }
    Ok(inputs)
}

async fn read_leaderboard(run: &RunStore) -> Result<Vec<LeaderboardRecord>, EvalsError> {
    Ok(match run.get(LEADERBOARD_CSV).await? {
        // A row that does not read is left out here; `prepare` sets it aside when it
        // reads the same file.
        Some(body) => {
            csvout::read_rows(&body, &run.key(LEADERBOARD_CSV))
                .usable()?
                .rows
        }
        None => Vec::new(),
    })
}

/// The leaderboard v2's scores of a model's canonical row, as results.
fn leaderboard_results(rows: &[&LeaderboardRecord]) -> Vec<EvalResult> {
    let Some(row) = canonical_row(rows) else {
        return Vec::new();
    };
    let name = &row.matched_name;
    let url = format!(
        "https://huggingface.co/datasets/open-llm-leaderboard/{}-details",
        name.replace('/', "__")
    );
    [
        ("average", row.average),
        ("ifeval", row.ifeval),
        ("bbh", row.bbh),
        ("math_lvl5", row.math_lvl5),
        ("gpqa", row.gpqa),
        ("musr", row.musr),
        ("mmlu_pro", row.mmlu_pro),
    ]
    .into_iter()
    .filter_map(|(benchmark, value)| {
        value.map(|value| EvalResult {
            benchmark: format!("open-llm-leaderboard/{benchmark}"),
            task: String::new(),
            metric: "normalized_score".into(),
            value,
            // Evaluated by the leaderboard itself, not reported by the model's authors.
            verified: true,
            source: EvalSource::LeaderboardV2,
            date: row.submission_date.chars().take(10).collect(),
            url: url.clone(),
            source_name: "Open LLM Leaderboard v2".into(),
            pull_request: None,
            filename: String::new(),
        })
    })
    .collect()
}

type Assembled = (Vec<EvalRow>, BTreeMap<String, u64>);

/// The rows of `evals.csv`: for each model in order, its leaderboard v2 scores, then one
/// value per benchmark, task and source (the preferred one: verified, then newest).
fn assemble(
    models: &[ModelId],
    checkpoints: &HashMap<String, Checkpoint<EvalAnswer>>,
    leaderboard: &[LeaderboardRecord],
    skipped: &mut Vec<SkippedResult>,
) -> Result<Assembled, EvalsError> {
    let mut found: HashMap<String, Vec<&LeaderboardRecord>> = HashMap::new();
    for row in leaderboard
        .iter()
        .filter(|r| r.status == Some(MatchStatus::Found))
    {
        found
            .entry(row.model_id.to_lowercase())
            .or_default()
            .push(row);
    }
    let mut rows = Vec::new();
    let mut counts = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for model in models {
        if !seen.insert(model.normalized()) {
            continue;
        }
        let checkpoint =
            checkpoints
                .get(&model.normalized())
                .ok_or_else(|| EvalsError::MissingCheckpoint {
                    model: model.clone(),
                })?;
        *counts
            .entry(crate::store::Answer::outcome(&checkpoint.lookup).to_owned())
            .or_insert(0) += 1;
        skipped.extend(checkpoint.lookup.skipped.iter().cloned());
        let mut results = leaderboard_results(
            found
                .get(&model.normalized())
                .map_or(&[][..], Vec::as_slice),
        );
        let mut groups: BTreeMap<(EvalSource, String, String), Vec<&EvalResult>> = BTreeMap::new();
        for r in &checkpoint.lookup.results {
            groups
                .entry((r.source, r.benchmark.clone(), r.task.clone()))
                .or_default()
                .push(r);
        }
        results.extend(
            groups
                .into_values()
                .filter_map(|group| preferred(group).cloned()),
        );
        rows.extend(results.iter().map(|r| EvalRow::of(model, r)));
    }
    Ok((rows, counts))
}

async fn write_csv(run: &RunStore, rows: &[EvalRow]) -> Result<(), EvalsError> {
    let error = |message: String| EvalsError::Write {
        file: EVALS_CSV,
        message,
    };
    let mut csv = csvout::writer(Vec::new());
    if rows.is_empty() {
        csv.write_record([
            "model_id",
            "benchmark",
            "task",
            "metric",
            "value",
            "verified",
            "source",
            "date",
            "url",
            "source_name",
            "pull_request",
            "filename",
        ])
        .map_err(|e| error(e.to_string()))?;
    }
    for row in rows {
        csv.serialize(row).map_err(|e| error(e.to_string()))?;
    }
    let body = csv.into_inner().map_err(|e| error(e.to_string()))?;
    let parquet = evals_table()
        .write(EVALS_PARQUET, rows, &[])
        .map_err(|e| EvalsError::Write {
            file: EVALS_PARQUET,
            message: e.message,
        })?;
    run.put(EVALS_PARQUET, Bytes::from(parquet)).await?;
    run.put(EVALS_CSV, Bytes::from(body)).await?;
    Ok(())
}

/// The columns of `evals.parquet`, in `evals.csv`'s order, typed: the value a float,
/// `verified` a boolean, the date a timestamp, the pull request an integer.
pub fn evals_table() -> Table<EvalRow> {
    type R = EvalRow;
    Table::new()
        .text("model_id", |r: &R| Some(&r.model_id))
        .text("benchmark", |r: &R| Some(&r.benchmark))
        .text("task", |r: &R| non_empty(&r.task))
        .text("metric", |r: &R| non_empty(&r.metric))
        .float("value", |r: &R| Some(r.value))
        .bool("verified", |r: &R| Some(r.verified))
        .text("source", |r: &R| Some(r.source.as_str()))
        .timestamp("date", |r: &R| timestamp_ms(&r.date))
        .text("url", |r: &R| non_empty(&r.url))
        .text("source_name", |r: &R| non_empty(&r.source_name))
        .int("pull_request", |r: &R| {
            r.pull_request.and_then(|p| i64::try_from(p).ok())
        })
        .text("filename", |r: &R| non_empty(&r.filename))
}
