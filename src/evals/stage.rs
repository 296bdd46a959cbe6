//! The evals stage: read what the models stage kept, the benchmarks' leaderboards, and
//! each model's own request where needed; checkpoint each model's answer; then write
//! `evals.csv` with the leaderboard v2's scores beside the Hub's, and
//! `evals_skipped.json`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;

use url::Url;

use super::datastore::{self, Pinned};
use super::every_eval_ever::{self, EveryEvalEver};
use super::open_evals::{self, OpenEvals};
use super::source::{read_boards, HubEvals, Inputs};
use super::{EvalAnswer, EvalStatus, EvalsError, EvalsSettings};
use crate::formats::{self};
use crate::http::{HttpClient, HttpSettings};
use crate::hub::{HubClient, HubSettings};
use crate::lookup::Written;
use crate::lookup::{drive, IdMatcher, ScoreSource};
use crate::records::{canonical_row, run_model_ids, LeaderboardRecord, MatchStatus};
use crate::records::{
    evals_table, preferred, EvalResult, EvalRow, EvalSource, SkippedFile, SkippedResult,
};
use crate::records::{Original, OriginalScale};
use crate::run::artifact::{
    EVALS_CSV, EVALS_PARQUET, EVALS_SKIPPED_JSON, LEADERBOARD_CSV, MODELS_CSV, MODELS_JSONL,
};
use crate::run::{ModelId, Secret, SourceName, Stage};
use crate::stage::{PipelineStage, StageCx, StageReport};
use crate::store::RunStore;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalsOutcome {
    /// Models per status (`found`, `not_found`, `error`).
    pub counts: BTreeMap<String, u64>,
    pub resumed: u64,
    /// Requests made, by source: the Hub's (the benchmark list and leaderboards, and
    /// any per-model ones), Every Eval Ever's and OpenEvals'.
    pub requests: BTreeMap<String, u64>,
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

/// The evals stage, for the run's models (`models.csv`, in its order).
#[derive(Debug, Clone)]
pub struct EvalsStage {
    pub settings: EvalsSettings,
    pub hub: HubSettings,
    pub http: HttpSettings,
    pub token: Option<Secret>,
}

#[async_trait]
impl PipelineStage for EvalsStage {
    type Error = EvalsError;

    fn stage(&self) -> Stage {
        Stage::Evals
    }

    /// The Hub answers (the models stage checks the token against it too).
    async fn preflight(&self, _run: &RunStore) -> Result<(), EvalsError> {
        Ok(HubClient::new(&self.hub, &self.http, self.token.clone())?
            .check()
            .await?)
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, EvalsError> {
        let models = run_model_ids::<EvalsError>(&cx.run, Stage::Evals)
            .await?
            .ok_or_else(|| EvalsError::MissingInput {
                run_id: cx.run.run_id().to_string(),
                file: MODELS_CSV,
            })?;
        let outcome = collect_evals(
            cx,
            &models,
            &self.settings,
            &self.hub,
            &self.http,
            self.token.clone(),
        )
        .await?;
        Ok(StageReport {
            seconds: outcome.seconds,
            outcomes: outcome.outcomes(),
            requests: outcome.requests.clone(),
            snapshot_at: None,
        })
    }
}

/// Run the stage for `models` (in output order).
async fn collect_evals(
    cx: &StageCx,
    models: &[ModelId],
    settings: &EvalsSettings,
    hub: &HubSettings,
    http: &HttpSettings,
    token: Option<Secret>,
) -> Result<EvalsOutcome, EvalsError> {
    let (run, cancel) = (&cx.run, &cx.cancel);
    let started = Instant::now();
    let client = HubClient::new(hub, http, token)?;
    // The models' raw JSON is read from disk while the leaderboards come over the wire.
    let (inputs, boards) = tokio::select! {
        (inputs, boards) = async {
            tokio::join!(
                read_inputs(run),
                read_boards(client.http(), client.endpoint(), settings)
            )
        } => (inputs?, boards?),
        _ = cancel.cancelled() => return Err(EvalsError::Interrupted),
    };
    let board_requests = boards.requests;
    let mut skipped = boards.skipped.clone();
    let endpoint = client.endpoint().clone();
    let http = client.http().clone();
    let source = HubEvals {
        inputs,
        boards,
        client,
        endpoint: hub.endpoint.trim_end_matches('/').to_owned(),
        max_model_requests: settings.max_model_requests,
    };
    let driven = drive(&source, run, Stage::Evals, models, cancel).await?;
    // The models' raw Hub JSON is not needed once the Hub has answered.
    drop(source);
    crate::stage::release_freed_memory();
    let mut requests = BTreeMap::from([(
        SourceName::Hub.as_str().to_owned(),
        board_requests + driven.stats.requests,
    )]);
    let mut resumed = driven.resumed;
    let hub_written = Written {
        checkpoints: driven.checkpoints,
        quiet: driven.quiet,
    };
    let mut answered = vec![Answered::of(models, hub_written)?];
    let others = OtherSources {
        run,
        models,
        settings,
        http: &http,
        endpoint: &endpoint,
        cancel,
    };
    for (name, other) in [
        (SourceName::EveryEvalEver, others.every_eval_ever().await?),
        (SourceName::OpenEvals, others.open_evals().await?),
    ] {
        let Some(other) = other else { continue };
        skipped.extend(other.skipped);
        requests.insert(name.as_str().to_owned(), other.requests);
        resumed += other.resumed;
        if let Some(written) = other.checkpoints {
            answered.push(Answered::of(models, written)?);
        }
        crate::stage::release_freed_memory();
    }
    let leaderboard = read_leaderboard(run).await?;
    let (rows, counts) = assemble(models, &answered, &leaderboard, &mut skipped)?;
    write_csv(run, &rows).await?;
    let body = serde_json::to_vec_pretty(&SkippedFile {
        skipped: skipped.clone(),
    })
    .map_err(|e| EvalsError::Write {
        file: EVALS_SKIPPED_JSON,
        source: e.into(),
    })?;
    run.put(EVALS_SKIPPED_JSON, Bytes::from(body)).await?;
    let outcome = EvalsOutcome {
        counts,
        resumed,
        requests,
        rows: rows.len() as u64,
        skipped: skipped.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(counts = ?outcome.counts, rows = outcome.rows, skipped = outcome.skipped, requests = ?outcome.requests, "evals stage done");
    Ok(outcome)
}

/// What one of the other score sources left: its checkpoints, the records it set
/// aside before any model's answer, and the requests it made.
struct OtherAnswers {
    /// `None` when the source was left out of the run (its commit unknown).
    checkpoints: Option<Written<EvalAnswer>>,
    skipped: Vec<SkippedResult>,
    requests: u64,
    resumed: u64,
}

/// Every Eval Ever and OpenEvals: each at the commit this run pins, matched to the
/// run's models, checkpointed in its own folder.
struct OtherSources<'a> {
    run: &'a RunStore,
    models: &'a [ModelId],
    settings: &'a EvalsSettings,
    http: &'a HttpClient,
    endpoint: &'a Url,
    cancel: &'a tokio_util::sync::CancellationToken,
}

impl OtherSources<'_> {
    /// The commit of `dataset` this run reads; `None`, with the reason set aside, when
    /// it cannot be resolved (the source is left out of this run).
    async fn pin(
        &self,
        part: &str,
        dataset: &str,
        revision: &str,
        skipped: &mut Vec<SkippedResult>,
    ) -> Result<Option<Pinned>, EvalsError> {
        let pinned = tokio::select! {
            pinned = datastore::pin(self.run, part, self.http, self.endpoint, dataset, revision) => pinned,
            _ = self.cancel.cancelled() => return Err(EvalsError::Interrupted),
        };
        match pinned {
            Ok(pinned) => {
                tracing::info!(dataset, commit = %pinned.commit, "reading {part} at its commit");
                Ok(Some(pinned))
            }
            Err(EvalsError::Store(e)) => Err(EvalsError::Store(e)),
            Err(e) => {
                tracing::warn!(dataset, error = %e, "left out of this run");
                skipped.push(SkippedResult {
                    model_id: String::new(),
                    source: part.to_owned(),
                    reason: format!("{dataset}@{revision} left out of this run: {e}"),
                });
                Ok(None)
            }
        }
    }

    async fn every_eval_ever(&self) -> Result<Option<OtherAnswers>, EvalsError> {
        let settings = &self.settings.every_eval_ever;
        if !settings.enabled {
            return Ok(None);
        }
        self.answer(
            every_eval_ever::PART,
            &settings.dataset,
            &settings.revision,
            |pinned, matcher| async move {
                let indexes = every_eval_ever::read_indexes(
                    self.http,
                    self.endpoint,
                    &pinned,
                    settings,
                    &matcher,
                )
                .await?;
                let skipped = indexes.skipped.clone();
                let source = EveryEvalEver {
                    indexes,
                    matcher,
                    pinned,
                    http: self.http.clone(),
                    endpoint: self.endpoint.clone(),
                };
                Ok((source, skipped))
            },
        )
        .await
        .map(Some)
    }

    async fn open_evals(&self) -> Result<Option<OtherAnswers>, EvalsError> {
        let settings = &self.settings.open_evals;
        if !settings.enabled {
            return Ok(None);
        }
        self.answer(
            open_evals::PART,
            &settings.dataset,
            &settings.revision,
            |pinned, matcher| async move {
                let rows =
                    open_evals::read_rows(self.http, self.endpoint, &pinned, settings, &matcher)
                        .await?;
                let skipped = rows.skipped.clone();
                Ok((OpenEvals { rows }, skipped))
            },
        )
        .await
        .map(Some)
    }

    /// One source: pin its commit, `read` what it reads before any model's answer (the
    /// source, and the records it set aside), then drive it over the run's models.
    async fn answer<S, Read, Reading>(
        &self,
        part: &str,
        dataset: &str,
        revision: &str,
        read: Read,
    ) -> Result<OtherAnswers, EvalsError>
    where
        S: ScoreSource<Answer = EvalAnswer, Error = EvalsError>,
        Read: FnOnce(Pinned, IdMatcher) -> Reading,
        Reading: std::future::Future<Output = Result<(S, Vec<SkippedResult>), EvalsError>>,
    {
        let before = self.http.stats().requests();
        let mut skipped = Vec::new();
        let Some(pinned) = self.pin(part, dataset, revision, &mut skipped).await? else {
            return Ok(OtherAnswers::left_out(
                skipped,
                self.http.stats().requests() - before,
            ));
        };
        let (source, set_aside) = tokio::select! {
            read = read(pinned, IdMatcher::new(self.models)) => read?,
            _ = self.cancel.cancelled() => return Err(EvalsError::Interrupted),
        };
        skipped.extend(set_aside);
        let driven = drive(&source, self.run, Stage::Evals, self.models, self.cancel).await?;
        Ok(OtherAnswers {
            checkpoints: Some(Written {
                checkpoints: driven.checkpoints,
                quiet: driven.quiet,
            }),
            skipped,
            requests: self.http.stats().requests() - before,
            resumed: driven.resumed,
        })
    }
}

impl OtherAnswers {
    /// A source left out of the run: no answers, only the reason.
    fn left_out(skipped: Vec<SkippedResult>, requests: u64) -> Self {
        Self {
            checkpoints: None,
            skipped,
            requests,
            resumed: 0,
        }
    }
}

/// Each model's `evalResults` and `model-index`, from the models stage's raw JSON, read
/// line by line (the whole catalogue's JSON is hundreds of MB).
async fn read_inputs(run: &RunStore) -> Result<HashMap<String, Inputs>, EvalsError> {
    let file = run
        .open(MODELS_JSONL)
        .await?
        .ok_or_else(|| EvalsError::MissingInput {
            run_id: run.run_id().to_string(),
            file: MODELS_JSONL,
        })?;
    let key = run.key(MODELS_JSONL);
    let location = run.location(MODELS_JSONL);
    let read = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(file);
        let mut inputs = HashMap::new();
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(inputs);
            }
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(&line) {
                Ok(item) => {
                    if let Some(id) = item["id"].as_str() {
                        inputs.insert(id.to_lowercase(), Inputs::from_item(&item));
                    }
                }
                Err(e) => {
                    tracing::warn!(key = %key, line = number, error = %e, "an unreadable line; its model's Hub results are asked for on their own")
                }
            }
        }
    })
    .await
    .map_err(|e| crate::store::StoreError::io("read", location.clone(), e))?;
    Ok(read.map_err(|e: std::io::Error| crate::store::StoreError::io("read", location, e))?)
}

/// The leaderboard's rows with scores (`found`), read row by row: the others, one for
/// every model the leaderboard lacks, are not kept.
async fn read_leaderboard(run: &RunStore) -> Result<Vec<LeaderboardRecord>, EvalsError> {
    let Some(file) = run.open(LEADERBOARD_CSV).await? else {
        return Ok(Vec::new());
    };
    let location = run.location(LEADERBOARD_CSV);
    let key = run.key(LEADERBOARD_CSV);
    let read = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        let mut rows = 0u64;
        // A row that does not read is left out here; `prepare` sets it aside when it
        // reads the same file.
        let bad = formats::csv::each_row(
            std::io::BufReader::new(file),
            |row: LeaderboardRecord, _| {
                rows += 1;
                if row.status == Some(MatchStatus::Found) {
                    found.push(row);
                }
            },
        );
        match bad.first() {
            Some(first) if rows == 0 => Err(formats::csv::CsvReadError {
                key,
                row: first.line,
                message: first.message.clone(),
            }),
            _ => Ok(found),
        }
    })
    .await
    .map_err(|e| crate::store::StoreError::io("read", location, e))?;
    Ok(read?)
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
            // The leaderboard's normalised scores are percentages by definition.
            original: Some(Original {
                value,
                scale: OriginalScale::Percent,
                declared: true,
            }),
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

/// One source's answers, kept where they say something. At the whole catalogue most
/// models are ones a source does not have, so an answer `not_found` with nothing set
/// aside is not kept: a model of the run without an entry was answered so.
struct Answered {
    by_model: HashMap<String, EvalAnswer>,
}

impl Answered {
    /// The answers of a source's checkpoints; every model of the run must have one,
    /// whole or among the `quiet` (answered with nothing).
    fn of(models: &[ModelId], written: Written<EvalAnswer>) -> Result<Self, EvalsError> {
        let Written { checkpoints, quiet } = written;
        if let Some(model) = models.iter().find(|m| {
            let key = m.normalized();
            !checkpoints.contains_key(&key) && !quiet.contains(&key)
        }) {
            return Err(EvalsError::MissingCheckpoint {
                model: model.clone(),
            });
        }
        // The answers that say nothing are among the `quiet` already.
        let by_model = checkpoints
            .into_iter()
            .map(|(key, c)| (key, c.lookup))
            .collect();
        Ok(Self { by_model })
    }

    fn get(&self, key: &str) -> Option<&EvalAnswer> {
        self.by_model.get(key)
    }
}

/// The rows of `evals.csv`: for each model in order, its leaderboard v2 scores, then one
/// value per benchmark, task and source (the preferred one: verified, then newest),
/// from each source's checkpoints (the Hub's first). A model is counted `found` when
/// any source found a result, else `error` when any failed, else `not_found`.
fn assemble(
    models: &[ModelId],
    answered: &[Answered],
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
        let not_found = EvalAnswer {
            status: EvalStatus::NotFound,
            results: Vec::new(),
            skipped: Vec::new(),
            detail: String::new(),
        };
        let answers: Vec<&EvalAnswer> = answered
            .iter()
            .map(|a| a.get(&model.normalized()).unwrap_or(&not_found))
            .collect();
        *counts
            .entry(combined_outcome(&answers).to_owned())
            .or_insert(0) += 1;
        let mut results = leaderboard_results(
            found
                .get(&model.normalized())
                .map_or(&[][..], Vec::as_slice),
        );
        let mut groups: BTreeMap<(EvalSource, String, String), Vec<&EvalResult>> = BTreeMap::new();
        for answer in &answers {
            skipped.extend(answer.skipped.iter().cloned());
            for r in &answer.results {
                groups
                    .entry((r.source, r.benchmark.clone(), r.task.clone()))
                    .or_default()
                    .push(r);
            }
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

/// One word for a model's answers from every source.
fn combined_outcome(answers: &[&EvalAnswer]) -> &'static str {
    let any = |status: EvalStatus| answers.iter().any(|a| a.status == status);
    if any(EvalStatus::Found) {
        "found"
    } else if any(EvalStatus::Error) {
        "error"
    } else {
        "not_found"
    }
}

async fn write_csv(run: &RunStore, rows: &[EvalRow]) -> Result<(), EvalsError> {
    let error = |source: crate::store::Cause| EvalsError::Write {
        file: EVALS_CSV,
        source,
    };
    let mut csv = formats::csv::writer(Vec::new());
    if rows.is_empty() {
        csv.write_record([
            "model_id",
            "benchmark",
            "task",
            "metric",
            "value",
            "original_value",
            "original_scale",
            "scale_declared",
            "verified",
            "source",
            "date",
            "url",
            "source_name",
            "pull_request",
            "filename",
        ])
        .map_err(|e| error(e.into()))?;
    }
    for row in rows {
        csv.serialize(row).map_err(|e| error(e.into()))?;
    }
    let body = csv.into_inner().map_err(|e| error(e.into()))?;
    let parquet = evals_table()
        .write(EVALS_PARQUET, rows, &[])
        .map_err(|e| EvalsError::Write {
            file: EVALS_PARQUET,
            source: e.message.into(),
        })?;
    run.put(EVALS_PARQUET, Bytes::from(parquet)).await?;
    run.put(EVALS_CSV, Bytes::from(body)).await?;
    Ok(())
}
