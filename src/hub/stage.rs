//! The models stage: harvest the Hub into `models.csv` and `models.jsonl`.

use std::io::{BufWriter, Write};
use std::time::Instant;

use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::{HarvestStats, HubClient, HubError, HubSettings, ModelRecord};
use crate::csvout::{self, CsvReadError};
use crate::http::HttpSettings;
use crate::progress::Progress;
use crate::run::artifact::{MODELS_CSV, MODELS_JSONL};
use crate::run::{ModelId, Secret, Stage};
use crate::store::RunStore;

#[derive(Debug, Clone, PartialEq)]
pub struct ModelsOutcome {
    /// The run's models, in rank order.
    pub models: Vec<ModelId>,
    /// True when an earlier attempt of this run had already written `models.csv`.
    pub resumed: bool,
    /// When this attempt started; a resumed run's manifest keeps the first attempt's.
    pub snapshot_at: String,
    pub stats: HarvestStats,
    pub seconds: f64,
}

impl ModelsOutcome {
    /// The manifest's word for how the models came: `collected` or `resumed`.
    pub fn outcome(&self) -> &'static str {
        if self.resumed {
            "resumed"
        } else {
            "collected"
        }
    }
}

/// Run the stage. `models.csv` is published last, so its presence marks the stage done
/// and a rerun of the same run id skips it.
pub async fn collect_models(
    run: &RunStore,
    settings: &HubSettings,
    http: &HttpSettings,
    token: Option<Secret>,
    cancel: &CancellationToken,
) -> Result<ModelsOutcome, HubError> {
    let started = Instant::now();
    let snapshot_at = chrono::Utc::now().to_rfc3339();
    let outcome = tokio::select! {
        outcome = harvest_or_resume(run, settings, http, token) => outcome?,
        _ = cancel.cancelled() => return Err(HubError::Interrupted),
    };
    let (records, resumed, stats) = outcome;
    let key = run.key(MODELS_CSV);
    let models = records
        .iter()
        .map(|r| {
            ModelId::parse(&r.model_id).map_err(|source| HubError::InvalidModelId {
                key: format!("{key} rank {}", r.rank),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = ModelsOutcome {
        models,
        resumed,
        snapshot_at,
        stats,
        seconds: started.elapsed().as_secs_f64(),
    };
    crate::telemetry::metrics().models_processed.add(
        outcome.models.len() as u64,
        &[
            KeyValue::new("stage", Stage::Models.as_str()),
            KeyValue::new("outcome", outcome.outcome()),
        ],
    );
    Ok(outcome)
}

async fn harvest_or_resume(
    run: &RunStore,
    settings: &HubSettings,
    http: &HttpSettings,
    token: Option<Secret>,
) -> Result<(Vec<ModelRecord>, bool, HarvestStats), HubError> {
    let started = Instant::now();
    if let Some(existing) = run.get(MODELS_CSV).await? {
        let records = read_models_csv(&existing, &run.key(MODELS_CSV))?;
        tracing::info!(models = records.len(), key = %run.key(MODELS_CSV), "models stage already done for this run; reusing it");
        return Ok((records, true, HarvestStats::default()));
    }
    let client = HubClient::new(settings, http, token)?;
    let write_error = |file: &str, source: std::io::Error| HubError::Write {
        file: file.to_owned(),
        source,
    };
    let staging = tempfile::tempdir().map_err(|e| write_error("a staging folder", e))?;
    let csv_path = staging.path().join(MODELS_CSV);
    let jsonl_path = staging.path().join(MODELS_JSONL);
    let open = |path: &std::path::Path| {
        std::fs::File::create(path)
            .map(BufWriter::new)
            .map_err(|e| write_error(&path.display().to_string(), e))
    };
    let mut csv = csvout::writer(open(&csv_path)?);
    let mut jsonl = open(&jsonl_path)?;
    let progress = Progress::new(Stage::Models.as_str(), settings.limit);
    let mut records = Vec::new();
    tracing::info!(limit = settings.limit, endpoint = %settings.endpoint, "collecting model metadata");
    let stats = client
        .harvest(settings.limit, |record: ModelRecord, raw| {
            csv.serialize(&record)
                .map_err(|e| write_error(MODELS_CSV, e.into()))?;
            serde_json::to_writer(&mut jsonl, &raw)
                .map_err(|e| write_error(MODELS_JSONL, e.into()))?;
            jsonl
                .write_all(b"\n")
                .map_err(|e| write_error(MODELS_JSONL, e))?;
            records.push(record);
            progress.inc(1);
            Ok(())
        })
        .await;
    progress.finish();
    let stats = stats?;
    csv.flush().map_err(|e| write_error(MODELS_CSV, e))?;
    drop(csv);
    jsonl.flush().map_err(|e| write_error(MODELS_JSONL, e))?;
    drop(jsonl);
    run.put_file(MODELS_JSONL, &jsonl_path).await?;
    run.put_file(MODELS_CSV, &csv_path).await?;
    let http = client.http().stats();
    tracing::info!(
        models = stats.models,
        pages = stats.pages,
        detail_requests = stats.detail_requests,
        detail_failures = stats.detail_failures,
        requests = http.requests(),
        retries = http.retries(),
        seconds = started.elapsed().as_secs_f64(),
        "models stage done"
    );
    if stats.models < settings.limit {
        tracing::warn!(
            wanted = settings.limit,
            got = stats.models,
            "the Hub listed fewer models than the limit"
        );
    }
    Ok((records, false, stats))
}

/// Parse a `models.csv` body (ours, from this or an earlier run).
pub fn read_models_csv(body: &[u8], key: &str) -> Result<Vec<ModelRecord>, CsvReadError> {
    csvout::read_rows(body, key)
}
