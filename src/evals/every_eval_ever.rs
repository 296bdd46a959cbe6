//! Every Eval Ever (`evaleval/EEE_datastore`, MIT): at the run's commit, one index
//! request per configured collection (`flat/indexes/by_collection/<c>.jsonl`), each row
//! matched to the run's models by the model its `legacy_path` names
//! (`data/{collection}/{developer}/{model}/{uuid}.json`), then only the matched
//! records fetched, each checked against the index's `sha256` and `size_bytes`, as the
//! project's own exporter does (realdata/2026/eee/code/hf_community_evals.py__L200-1000.py).
//! Never a walk of `data/**`. A record whose id names no model of the run, or two
//! (ids that differ only by case), is set aside with the reason.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use futures::{stream, StreamExt};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::datastore::Pinned;
use super::{EvalAnswer, EvalStatus, EvalsError, EveryEvalEverSettings};
use crate::http::{HttpClient, HttpError};
use crate::lookup::{CheckpointSink, IdMatch, IdMatcher, ScoreSource, SourceStats};
use crate::records::{EvalResult, EvalSource, Scaled, SkippedResult};
use crate::run::{ModelId, SourceName};

/// The checkpoint folder below `checkpoints/evals/`.
pub(super) const PART: &str = "every-eval-ever";

/// One index row that names a model of the run.
#[derive(Debug, Clone)]
pub(super) struct IndexRow {
    pub collection: String,
    /// The id its `legacy_path` names.
    pub path_id: String,
    pub object_path: String,
    pub object_uuid: String,
    pub sha256: String,
    pub size_bytes: u64,
}

/// The indexes' rows that name a model of the run, by normalised model id, and what
/// was set aside.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    pub by_model: HashMap<String, Vec<IndexRow>>,
    pub skipped: Vec<SkippedResult>,
    /// Collections whose index could not be read (not a 404), with the error: their
    /// models are answered as errors, so a rerun asks again.
    pub failed: Vec<String>,
    pub requests: u64,
}

fn source_label(collection: &str) -> String {
    format!("every-eval-ever {collection}")
}

/// Read every configured collection's index at `pinned`, matching its rows.
pub(super) async fn read_indexes(
    http: &HttpClient,
    endpoint: &Url,
    pinned: &Pinned,
    settings: &EveryEvalEverSettings,
    matcher: &IdMatcher,
) -> Result<Indexes, EvalsError> {
    let before = http.stats().requests();
    let mut indexes = Indexes::default();
    let mut matched = 0usize;
    for collection in &settings.collections {
        let path = format!("flat/indexes/by_collection/{collection}.jsonl");
        let url = pinned.file_url(endpoint, &path)?;
        let skip = |reason: String| SkippedResult {
            model_id: String::new(),
            source: source_label(collection),
            reason,
        };
        let body = match http.get(&url).await {
            Ok(fetched) => fetched.body,
            Err(HttpError::Status { status: 404, .. }) => {
                indexes.skipped.push(skip(format!(
                    "no such collection at {}@{} ({path}: HTTP 404)",
                    pinned.dataset, pinned.commit
                )));
                continue;
            }
            Err(e) => {
                tracing::warn!(collection, error = %e, "an Every Eval Ever index could not be read; its models are asked again on a rerun");
                indexes.failed.push(format!("{collection}: {e}"));
                continue;
            }
        };
        for (line, row) in body.split(|b| *b == b'\n').enumerate() {
            if row.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row = match parse_index_row(collection, row) {
                Ok(row) => row,
                Err(reason) => {
                    indexes
                        .skipped
                        .push(skip(format!("{path} line {}: {reason}", line + 1)));
                    continue;
                }
            };
            match matcher.find(&row.path_id) {
                IdMatch::One { model, .. } if matched < settings.max_objects => {
                    matched += 1;
                    indexes
                        .by_model
                        .entry(model.normalized())
                        .or_default()
                        .push(row);
                }
                IdMatch::One { model, .. } => indexes.skipped.push(SkippedResult {
                    model_id: model.to_string(),
                    source: source_label(collection),
                    reason: format!(
                        "record {} is over evals.every_eval_ever.max_objects ({})",
                        row.object_uuid, settings.max_objects
                    ),
                }),
                unjoined => indexes.skipped.push(SkippedResult {
                    model_id: row.path_id.clone(),
                    source: source_label(collection),
                    reason: format!(
                        "record {}: {}",
                        row.object_uuid,
                        unjoined.reason().unwrap_or_default()
                    ),
                }),
            }
        }
    }
    indexes.requests = http.stats().requests() - before;
    Ok(indexes)
}

fn field<'a>(row: &'a Value, name: &str) -> Result<&'a str, String> {
    row[name]
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("no `{name}`"))
}

/// One index row, in the shape of realdata/2026/eee/examples/flat_index_row__aggregate.jsonl.
fn parse_index_row(collection: &str, line: &[u8]) -> Result<IndexRow, String> {
    let row: Value = serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let legacy_path = field(&row, "legacy_path")?;
    let object_path = field(&row, "object_path")?;
    let object_uuid = field(&row, "object_uuid")?;
    let sha256 = field(&row, "sha256")?.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("sha256 `{sha256}` is not a sha256 digest"));
    }
    let size_bytes = row["size_bytes"]
        .as_u64()
        .ok_or("size_bytes is not a whole number of bytes")?;
    if !object_path.starts_with("flat/objects/")
        || object_path.contains("..")
        || !object_path.ends_with(".json")
    {
        return Err(format!("object_path `{object_path}` is not a flat object"));
    }
    Ok(IndexRow {
        collection: collection.to_owned(),
        path_id: path_model_id(collection, legacy_path)?,
        object_path: object_path.to_owned(),
        object_uuid: object_uuid.to_owned(),
        sha256,
        size_bytes,
    })
}

/// The model id a legacy path names: `data/{collection}/{id…}/{uuid}.json` → `{id…}`
/// (an API model's id may have three parts, `openai/azure/gpt-4o-mini`; an old Hub
/// model's one, `gpt2`).
fn path_model_id(collection: &str, legacy_path: &str) -> Result<String, String> {
    let bad =
        || format!("legacy_path `{legacy_path}` is not data/{collection}/<model>/<uuid>.json");
    let rest = legacy_path
        .strip_prefix("data/")
        .and_then(|p| p.strip_prefix(collection))
        .and_then(|p| p.strip_prefix('/'))
        .ok_or_else(bad)?;
    let (id, file) = rest.rsplit_once('/').ok_or_else(bad)?;
    if !file.ends_with(".json") || id.split('/').any(str::is_empty) {
        return Err(bad());
    }
    Ok(id.to_owned())
}

/// Every Eval Ever's records for each model, from the indexes read for the run.
pub(super) struct EveryEvalEver {
    pub indexes: Indexes,
    pub matcher: IdMatcher,
    pub pinned: Pinned,
    pub http: HttpClient,
    pub endpoint: Url,
}

/// One fetched record's results for its model, with its time.
#[derive(Debug)]
struct Record {
    collection: String,
    retrieved: f64,
    uuid: String,
    results: Vec<EvalResult>,
}

impl EveryEvalEver {
    async fn answer_model(&self, model: &ModelId) -> EvalAnswer {
        if let Some(failed) = self.indexes.failed.first() {
            return error_answer(format!("an index could not be read: {failed}"));
        }
        let rows = self
            .indexes
            .by_model
            .get(&model.normalized())
            .map_or(&[][..], Vec::as_slice);
        let mut records = Vec::new();
        let mut skipped = Vec::new();
        for row in rows {
            match self.fetch(row).await {
                Ok(body) => match self.read_record(model, row, &body) {
                    Ok((record, refused)) => {
                        skipped.extend(refused);
                        records.push(record);
                    }
                    Err(reason) => skipped.push(SkippedResult {
                        model_id: model.to_string(),
                        source: source_label(&row.collection),
                        reason: format!("record {}: {reason}", row.object_uuid),
                    }),
                },
                Err(e) => return error_answer(e.to_string()),
            }
        }
        let results = newest_per_evaluation(records);
        EvalAnswer {
            status: if results.is_empty() {
                EvalStatus::NotFound
            } else {
                EvalStatus::Found
            },
            detail: format!("{} result(s) from {} record(s)", results.len(), rows.len()),
            results,
            skipped,
        }
    }

    async fn fetch(&self, row: &IndexRow) -> Result<bytes::Bytes, EvalsError> {
        let url = self.pinned.file_url(&self.endpoint, &row.object_path)?;
        Ok(self.http.get(&url).await?.body)
    }

    /// A fetched record, checked against its index row and its model; its results that
    /// are not on 0–1 or 0–100 are refused, each with the reason.
    fn read_record(
        &self,
        model: &ModelId,
        row: &IndexRow,
        body: &[u8],
    ) -> Result<(Record, Vec<SkippedResult>), String> {
        if body.len() as u64 != row.size_bytes {
            return Err(format!(
                "{} bytes where the index says {}",
                body.len(),
                row.size_bytes
            ));
        }
        let digest = format!("{:x}", Sha256::digest(body));
        if digest != row.sha256 {
            return Err(format!(
                "sha256 {digest} where the index says {}",
                row.sha256
            ));
        }
        let record: Value =
            serde_json::from_slice(body).map_err(|e| format!("not a JSON record: {e}"))?;
        let id = record["model_info"]["id"]
            .as_str()
            .ok_or("no model_info.id")?;
        match self.matcher.find(id) {
            IdMatch::One { model: named, .. } if named == *model => {}
            other => {
                return Err(format!(
                    "model_info.id `{id}` does not name {model}, the model its path names ({})",
                    other
                        .reason()
                        .unwrap_or_else(|| "it names another model".into())
                ))
            }
        }
        let retrieved = record["retrieved_timestamp"]
            .as_str()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite())
            .ok_or("retrieved_timestamp is not epoch seconds")?;
        let context = RecordContext {
            row,
            date: record_date(&record, retrieved),
            url: self.pinned.blob_url(&self.endpoint, &row.object_path),
            source_name: record["source_metadata"]["source_name"]
                .as_str()
                .unwrap_or(&row.collection)
                .to_owned(),
            third_party: record["source_metadata"]["evaluator_relationship"] == "third_party",
        };
        let mut results = Vec::new();
        let mut refused = Vec::new();
        let items = record["evaluation_results"]
            .as_array()
            .ok_or("evaluation_results is not a list")?;
        for item in items {
            match context.result(item) {
                Ok(r) => results.push(r),
                Err(reason) => refused.push(SkippedResult {
                    model_id: model.to_string(),
                    source: source_label(&row.collection),
                    reason: format!("record {}: {reason}", row.object_uuid),
                }),
            }
        }
        Ok((
            Record {
                collection: row.collection.clone(),
                retrieved,
                uuid: row.object_uuid.clone(),
                results,
            },
            refused,
        ))
    }
}

fn error_answer(detail: String) -> EvalAnswer {
    EvalAnswer {
        status: EvalStatus::Error,
        results: Vec::new(),
        skipped: Vec::new(),
        detail,
    }
}

/// What every result of one record shares.
struct RecordContext<'a> {
    row: &'a IndexRow,
    date: String,
    url: String,
    source_name: String,
    third_party: bool,
}

impl RecordContext<'_> {
    /// One `evaluation_results` item (eval.schema.json): its score on 0–100 by the
    /// metric's declared unit or maximum ([`Scaled::declared`]).
    fn result(&self, item: &Value) -> Result<EvalResult, String> {
        let name = item["evaluation_name"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .ok_or("a result without evaluation_name")?;
        let metric = &item["metric_config"];
        if metric["lower_is_better"] == true {
            return Err(format!("{name}: lower is better, not a score"));
        }
        let score = item["score_details"]["score"]
            .as_f64()
            .ok_or_else(|| format!("{name}: score_details.score is not a number"))?;
        let scaled = Scaled::declared(
            score,
            metric["metric_unit"].as_str(),
            metric["max_score"].as_f64(),
        )
        .map_err(|reason| format!("{name}: {reason}"))?;
        let data = &item["source_data"];
        let benchmark = data["hf_repo"]
            .as_str()
            .or_else(|| data["dataset_name"].as_str())
            .unwrap_or(&self.row.collection);
        Ok(EvalResult {
            benchmark: benchmark.to_owned(),
            task: name.to_owned(),
            metric: metric["metric_id"]
                .as_str()
                .or_else(|| metric["metric_name"].as_str())
                .unwrap_or("score")
                .to_owned(),
            value: scaled.value,
            original: Some(scaled.original()),
            // Evaluated by a third party (a leaderboard, HELM), not reported by the
            // model's authors: as the leaderboard v2's own scores are counted.
            verified: self.third_party,
            source: EvalSource::EveryEvalEver,
            date: self.date.clone(),
            url: self.url.clone(),
            source_name: self.source_name.clone(),
            pull_request: None,
            filename: self.row.object_path.clone(),
        })
    }
}

/// The record's evaluation date (`evaluation_timestamp`, epoch seconds or ISO 8601),
/// else the day it was retrieved.
fn record_date(record: &Value, retrieved: f64) -> String {
    let from_epoch = |secs: f64| {
        chrono::DateTime::from_timestamp(secs as i64, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    match record["evaluation_timestamp"].as_str().map(str::trim) {
        Some(t) if t.parse::<f64>().is_ok() => from_epoch(t.parse::<f64>().unwrap_or(retrieved)),
        Some(t) if t.len() >= 10 && t.as_bytes()[4] == b'-' => t[..10].to_owned(),
        _ => from_epoch(retrieved),
    }
}

/// A model's results, one per collection and evaluation: a re-scrape gets a new
/// record, and the newest retrieved one is kept (Every Eval Ever's own advice,
/// realdata/2026/eee/SUMMARY.md: pick by `retrieved_timestamp`); ties go to the
/// larger record id, so the choice does not depend on order.
fn newest_per_evaluation(mut records: Vec<Record>) -> Vec<EvalResult> {
    records.sort_by(|a, b| {
        a.retrieved
            .total_cmp(&b.retrieved)
            .then_with(|| a.uuid.cmp(&b.uuid))
    });
    let mut newest: BTreeMap<(String, String, String), EvalResult> = BTreeMap::new();
    for record in records {
        for result in record.results {
            newest.insert(
                (
                    record.collection.clone(),
                    result.benchmark.clone(),
                    result.task.clone(),
                ),
                result,
            );
        }
    }
    newest.into_values().collect()
}

/// The most fetched answers one checkpoint object holds: each is a model's records, so
/// a group is one unit of work that completes together, and a night with thousands of
/// matched models writes a few dozen objects, not one per model.
const FETCHED_GROUP: usize = 100;

#[async_trait]
impl ScoreSource for EveryEvalEver {
    type Answer = EvalAnswer;
    type Error = EvalsError;

    fn name(&self) -> SourceName {
        SourceName::EveryEvalEver
    }

    fn checkpoint_part(&self) -> Option<&'static str> {
        Some(PART)
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<EvalAnswer>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, EvalsError> {
        let before = self.http.stats().requests();
        // A model no index row names is answered at once, with the others like it, in
        // batches. The others' records are fetched `output.concurrency` models at a
        // time, and their answers written in groups of up to FETCHED_GROUP, in the
        // order of `models`: a kill loses at most one group's fetches, and a rerun
        // asks only for the models no written group holds.
        let (unnamed, named): (Vec<&ModelId>, Vec<&ModelId>) = models.iter().partition(|m| {
            self.indexes.failed.is_empty() && !self.indexes.by_model.contains_key(&m.normalized())
        });
        let group = FETCHED_GROUP.min(sink.checkpoint_batch());
        let each = async {
            // A batch at a time, so the answers held are one batch's.
            for batch in unnamed.chunks(sink.checkpoint_batch().max(1)) {
                let mut answers = Vec::with_capacity(batch.len());
                for model in batch {
                    answers.push(((*model).clone(), self.answer_model(model).await));
                }
                sink.record_many(answers).await?;
            }
            let mut fetched = stream::iter(named.into_iter().cloned())
                .map(|model: ModelId| {
                    let span = tracing::info_span!("model", model.id = %model);
                    async move {
                        let answer = self.answer_model(&model).await;
                        (model, answer)
                    }
                    .instrument(span)
                })
                .buffered(sink.concurrency())
                .chunks(group);
            while let Some(answers) = fetched.next().await {
                sink.record_many(answers).await?;
            }
            Ok::<_, EvalsError>(())
        };
        tokio::select! {
            done = each => done?,
            _ = cancel.cancelled() => return Err(EvalsError::Interrupted),
        }
        Ok(SourceStats {
            requests: self.http.stats().requests() - before,
            session_restarts: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_path_names_its_model() {
        assert_eq!(
            path_model_id(
                "MMLU-Pro",
                "data/MMLU-Pro/01-ai/yi-1.5-34b-chat/676f4465-ce78-411a-9f5a-c97b3d2eac4f.json"
            )
            .unwrap(),
            "01-ai/yi-1.5-34b-chat"
        );
        assert_eq!(
            path_model_id("helm", "data/helm/openai/azure/gpt-4o-mini/x.json").unwrap(),
            "openai/azure/gpt-4o-mini"
        );
        assert_eq!(
            path_model_id("hfopenllm_v2", "data/hfopenllm_v2/gpt2/x.json").unwrap(),
            "gpt2"
        );
        for bad in [
            "data/other/01-ai/yi/x.json",
            "data/MMLU-Pro/x.json",
            "data/MMLU-Pro//yi/x.json",
            "MMLU-Pro/01-ai/yi/x.json",
        ] {
            assert!(path_model_id("MMLU-Pro", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_real_index_row_reads() {
        let path = crate::testdata::realdata_dir()
            .join("2026/eee/examples/flat_index_row__aggregate.jsonl");
        let body = std::fs::read(path).unwrap();
        let row = parse_index_row("MMLU-Pro", body.trim_ascii()).unwrap();
        assert_eq!(row.path_id, "01-ai/yi-1.5-34b-chat");
        assert_eq!(row.size_bytes, 23648);
        assert_eq!(
            row.object_path,
            "flat/objects/67/6f/676f4465-ce78-411a-9f5a-c97b3d2eac4f.json"
        );
    }

    #[test]
    fn the_real_records_read_on_0_to_100() {
        let dir = crate::testdata::realdata_dir().join("2026/eee/examples");
        let body =
            std::fs::read(dir.join("MMLU-Pro__01-ai__yi-1.5-34b-chat__676f4465.json")).unwrap();
        let model = ModelId::parse("01-ai/Yi-1.5-34B-Chat").unwrap();
        let source = EveryEvalEver {
            indexes: Indexes::default(),
            matcher: IdMatcher::new([&model]),
            pinned: Pinned {
                dataset: "evaleval/EEE_datastore".into(),
                commit: "0".repeat(40),
            },
            http: HttpClient::new(&Default::default(), None).unwrap(),
            endpoint: Url::parse("https://huggingface.co").unwrap(),
        };
        let row = IndexRow {
            collection: "MMLU-Pro".into(),
            path_id: "01-ai/yi-1.5-34b-chat".into(),
            object_path: "flat/objects/67/6f/676f4465-ce78-411a-9f5a-c97b3d2eac4f.json".into(),
            object_uuid: "676f4465-ce78-411a-9f5a-c97b3d2eac4f".into(),
            sha256: format!("{:x}", Sha256::digest(&body)),
            size_bytes: body.len() as u64,
        };
        let (record, refused) = source.read_record(&model, &row, &body).unwrap();
        assert!(refused.is_empty(), "{refused:?}");
        let overall = record
            .results
            .iter()
            .find(|r| r.task == "MMLU-Pro (overall)")
            .unwrap();
        assert_eq!(overall.value, 52.29);
        assert_eq!(
            overall.benchmark,
            "TIGER-Lab/mmlu_pro_leaderboard_submission"
        );
        assert_eq!(overall.date, "2026-05-01");
        let wrong = IndexRow {
            size_bytes: 1,
            ..row.clone()
        };
        assert!(source
            .read_record(&model, &wrong, &body)
            .unwrap_err()
            .contains("bytes where the index says 1"));
        let other = ModelId::parse("01-ai/Yi-1.5-9B-Chat").unwrap();
        assert!(source
            .read_record(&other, &row, &body)
            .unwrap_err()
            .contains("does not name"));
    }

    /// The fake's datastore (built from realdata/2026/eee/), with one invented record
    /// whose id names two of the run's models by case.
    async fn indexes_for(models: &[&str]) -> (Indexes, fakehf::FakeHf) {
        let path = crate::testdata::realdata_dir()
            .join("2026/eee/examples/MMLU-Pro__01-ai__yi-1.5-34b-chat__676f4465.json");
        let mut twin: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        twin["model_info"]["id"] = "twin-org/twin-model".into();
        twin["model_info"]["developer"] = "twin-org".into();
        let fake = fakehf::FakeHf::start(fakehf::FakeConfig {
            models: 50,
            eee_extra_records: vec![("MMLU-Pro".into(), twin)],
            ..fakehf::FakeConfig::default()
        })
        .await
        .unwrap();
        let models: Vec<ModelId> = models.iter().map(|m| ModelId::parse(m).unwrap()).collect();
        let http = HttpClient::new(&Default::default(), None).unwrap();
        let endpoint = Url::parse(&fake.url()).unwrap();
        let pinned = Pinned {
            dataset: fakehf::datastores::EEE_REPO.into(),
            commit: fakehf::datastores::EEE_SHA.into(),
        };
        let indexes = read_indexes(
            &http,
            &endpoint,
            &pinned,
            &EveryEvalEverSettings::default(),
            &IdMatcher::new(&models),
        )
        .await
        .unwrap();
        (indexes, fake)
    }

    fn reasons_for<'a>(indexes: &'a Indexes, id: &str) -> Vec<&'a str> {
        indexes
            .skipped
            .iter()
            .filter(|s| s.model_id == id)
            .map(|s| s.reason.as_str())
            .collect()
    }

    #[tokio::test]
    async fn an_id_that_names_two_models_by_case_joins_neither() {
        let (indexes, _fake) = indexes_for(&[
            "Twin-Org/Twin-Model",
            "twin-org/TWIN-model",
            "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        ])
        .await;
        assert!(!indexes.by_model.contains_key("twin-org/twin-model"));
        let reasons = reasons_for(&indexes, "twin-org/twin-model");
        assert_eq!(reasons.len(), 1, "{:?}", indexes.skipped);
        assert!(
            reasons[0].contains("names 2 models of this run that differ only by case"),
            "{reasons:?}"
        );
        // The written alias still joins (meta/… is meta-llama/…).
        assert_eq!(
            indexes.by_model["meta-llama/llama-4-scout-17b-16e-instruct"][0].path_id,
            "meta/llama-4-scout-17b-16e-instruct"
        );
    }

    #[tokio::test]
    async fn an_owner_without_an_alias_line_joins_nothing() {
        let (indexes, _fake) =
            indexes_for(&["mistralai/Mistral-Small-3.1-24B-Instruct-2503"]).await;
        assert!(indexes.by_model.is_empty(), "{:?}", indexes.by_model.keys());
        let reasons = reasons_for(&indexes, "mistral/mistral-small-3.1-24b-instruct-2503");
        assert_eq!(reasons.len(), 1, "{:?}", indexes.skipped);
        assert!(
            reasons[0].contains("names no model of this run"),
            "{reasons:?}"
        );
    }
}
