//! The models stage: harvest the Hub into `models.csv` and `models.jsonl`.

use std::io::{BufWriter, Write};
use std::time::Instant;

use super::{HarvestStats, HubClient, HubError, ModelRecord};
use crate::csvout;
use crate::error::{Error, Result};
use crate::pipeline::RunContext;
use crate::progress::Progress;

pub const MODELS_CSV: &str = "models.csv";
pub const MODELS_JSONL: &str = "models.jsonl";

#[derive(Debug, Clone, PartialEq)]
pub struct ModelsOutcome {
    pub models: u64,
    /// True when an earlier attempt of this run had already written `models.csv`.
    pub resumed: bool,
    pub stats: HarvestStats,
    pub seconds: f64,
}

/// Run the stage. `models.csv` is published last, so its presence marks the stage done
/// and a rerun of the same run id skips it.
pub async fn collect_models(ctx: &RunContext) -> Result<ModelsOutcome> {
    let started = Instant::now();
    let csv_key = ctx.layout.file(MODELS_CSV);
    if let Some(existing) = ctx.store.get(&csv_key).await? {
        let models = read_models_csv(&existing, &csv_key)?.len() as u64;
        tracing::info!(models, key = %csv_key, "models stage already done for this run; reusing it");
        return Ok(ModelsOutcome {
            models,
            resumed: true,
            stats: HarvestStats::default(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let settings = &ctx.settings.hub;
    let client = HubClient::new(settings, &ctx.settings.http, ctx.hf_token.clone())?;
    let staging = tempfile::tempdir().map_err(|e| Error::io("creating a staging folder", e))?;
    let csv_path = staging.path().join(MODELS_CSV);
    let jsonl_path = staging.path().join(MODELS_JSONL);
    let open = |path: &std::path::Path| {
        std::fs::File::create(path)
            .map(BufWriter::new)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))
    };
    let mut csv = csvout::writer(open(&csv_path)?);
    let mut jsonl = open(&jsonl_path)?;
    let progress = Progress::new("models", settings.limit);
    let output_error = |what: &str, e: &dyn std::fmt::Display| HubError::Output {
        what: what.to_owned(),
        message: e.to_string(),
    };
    tracing::info!(limit = settings.limit, endpoint = %settings.endpoint, "collecting model metadata");
    let stats = client
        .harvest(settings.limit, |record: ModelRecord, raw| {
            csv.serialize(&record)
                .map_err(|e| output_error(MODELS_CSV, &e))?;
            serde_json::to_writer(&mut jsonl, &raw).map_err(|e| output_error(MODELS_JSONL, &e))?;
            jsonl
                .write_all(b"\n")
                .map_err(|e| output_error(MODELS_JSONL, &e))?;
            progress.inc(1);
            Ok(())
        })
        .await;
    progress.finish();
    let stats = stats?;
    csv.flush()
        .map_err(|e| Error::io(format!("writing {}", csv_path.display()), e))?;
    drop(csv);
    jsonl
        .flush()
        .map_err(|e| Error::io(format!("writing {}", jsonl_path.display()), e))?;
    drop(jsonl);
    ctx.store
        .put_file(&ctx.layout.file(MODELS_JSONL), &jsonl_path)
        .await?;
    ctx.store.put_file(&csv_key, &csv_path).await?;
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
    Ok(ModelsOutcome {
        models: stats.models,
        resumed: false,
        stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Parse a `models.csv` body (ours, from this or an earlier run).
pub fn read_models_csv(body: &[u8], key: &str) -> Result<Vec<ModelRecord>> {
    let mut reader = csv::Reader::from_reader(body);
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| {
                Error::from(HubError::Output {
                    what: format!("{key} row {}", i + 2),
                    message: e.to_string(),
                })
            })
        })
        .collect()
}
