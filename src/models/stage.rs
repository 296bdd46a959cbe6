//! The models stage: harvest the Hub into `models.csv` and `models.jsonl`.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::time::Instant;

use async_trait::async_trait;
use opentelemetry::KeyValue;

use super::{harvest, HarvestStats, Harvested, ModelsError};
use crate::formats::{self};
use crate::http::{redact, HttpSettings};
use crate::hub::{HubClient, HubSettings};
use crate::lookup::within_ratio;
use crate::progress::Progress;
use crate::records::{each_models_row, ModelRecord};
use crate::run::artifact::{MODELS_CSV, MODELS_JSONL, QUARANTINE_JSON};
use crate::run::{ModelId, Quarantined, Secret, Stage};
use crate::stage::{PipelineStage, StageCx, StageReport};
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
    /// Records this stage has set aside in `quarantine.json` (list items that are not
    /// models; rows of `models.csv` that do not read back).
    pub quarantined: u64,
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

    /// The manifest's outcomes: the models by how they came, and `quarantined`.
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        let mut outcomes = BTreeMap::from([(self.outcome().to_owned(), self.models.len() as u64)]);
        if self.stats.fixtures > 0 {
            outcomes.insert("test_repos".into(), self.stats.fixtures);
        }
        if self.quarantined > 0 {
            outcomes.insert("quarantined".into(), self.quarantined);
        }
        outcomes
    }
}

/// The models stage: `models.csv` is published last, so its presence marks the stage
/// done and a rerun of the same run id skips it. Items that are not models are kept out
/// of `models.csv` and `models.jsonl` and listed in `quarantine.json`; the stage fails
/// when there are more of them than `hub.max_invalid_ratio` allows, or no model at all.
#[derive(Debug, Clone)]
pub struct ModelsStage {
    pub hub: HubSettings,
    pub http: HttpSettings,
    pub token: Option<Secret>,
}

impl ModelsStage {
    fn client(&self) -> Result<HubClient, ModelsError> {
        Ok(HubClient::new(&self.hub, &self.http, self.token.clone())?)
    }

    /// The stage's work, with what it found beyond the manifest's counts.
    pub async fn collect(&self, cx: &StageCx) -> Result<ModelsOutcome, ModelsError> {
        let started = Instant::now();
        let snapshot_at = chrono::Utc::now().to_rfc3339();
        let outcome = tokio::select! {
            outcome = harvest_or_resume(cx, &self.hub, || self.client()) => outcome?,
            _ = cx.cancel.cancelled() => return Err(ModelsError::Interrupted),
        };
        let Harvest {
            models,
            resumed,
            stats,
            quarantined,
        } = outcome;
        let outcome = ModelsOutcome {
            models,
            resumed,
            snapshot_at,
            stats,
            quarantined,
            seconds: started.elapsed().as_secs_f64(),
        };
        cx.metrics.models_processed.add(
            outcome.models.len() as u64,
            &[
                KeyValue::new("stage", Stage::Models.as_str()),
                KeyValue::new("outcome", outcome.outcome()),
            ],
        );
        Ok(outcome)
    }
}

#[async_trait]
impl PipelineStage for ModelsStage {
    type Error = ModelsError;

    fn stage(&self) -> Stage {
        Stage::Models
    }

    /// The Hub answers, and accepts the token; unless this run already has its
    /// `models.csv`, which the stage reuses without asking the Hub.
    async fn preflight(&self, run: &RunStore) -> Result<(), ModelsError> {
        // Through a staging file: the whole catalogue's models.csv is hundreds of MB.
        if run.open(MODELS_CSV).await?.is_some() {
            return Ok(());
        }
        Ok(self.client()?.check().await?)
    }

    async fn run(&self, cx: &StageCx) -> Result<StageReport, ModelsError> {
        let outcome = self.collect(cx).await?;
        Ok(StageReport {
            seconds: outcome.seconds,
            outcomes: outcome.outcomes(),
            requests: outcome.stats.pages_per_listing.clone(),
            snapshot_at: Some(outcome.snapshot_at),
        })
    }
}

struct Harvest {
    /// The run's models, in rank order: their ids only, the rows being in `models.csv`.
    models: Vec<ModelId>,
    resumed: bool,
    stats: HarvestStats,
    /// Records of this stage in `quarantine.json`.
    quarantined: u64,
}

async fn harvest_or_resume(
    cx: &StageCx,
    settings: &HubSettings,
    client: impl FnOnce() -> Result<HubClient, ModelsError>,
) -> Result<Harvest, ModelsError> {
    let run = &cx.run;
    let started = Instant::now();
    if let Some(existing) = run.open(MODELS_CSV).await? {
        return resume(cx, existing).await;
    }
    let client = client()?;
    let mut staged = Staged::open()?;
    let progress = Progress::new(Stage::Models.as_str(), settings.limit);
    let mut models = Vec::new();
    let mut quarantined: Vec<Quarantined> = Vec::new();
    let mut fixtures: Vec<Quarantined> = Vec::new();
    let too_many = |quarantined: u64, models: u64| ModelsError::TooManyInvalid {
        quarantined,
        seen: quarantined.saturating_add(models),
        max_ratio: settings.max_invalid_ratio,
        file: run.location(QUARANTINE_JSON),
    };
    tracing::info!(limit = settings.limit, endpoint = %settings.endpoint, "collecting model metadata");
    let harvested = harvest(&client, settings.limit, |harvested| match harvested {
        Harvested::Model(record, raw) => {
            staged.write(&record, &raw)?;
            models.extend(ModelId::parse(&record.model_id).ok());
            progress.inc(1);
            Ok(())
        }
        Harvested::Quarantined(record) => {
            quarantined.push(record);
            // At most `limit` models will come, so once the bad ones exceed the
            // ratio against that, the listing fails whatever follows: stop now.
            let bad = quarantined.len() as u64;
            if within_ratio(bad, settings.limit, settings.max_invalid_ratio) {
                Ok(())
            } else {
                Err(too_many(bad, models.len() as u64))
            }
        }
        Harvested::Fixture(record) => {
            fixtures.push(record);
            Ok(())
        }
    })
    .await;
    progress.finish();
    let bad = quarantined.len() as u64;
    quarantined.extend(fixtures);
    cx.set_aside(quarantined, true).await?;
    let stats = harvested?;
    if stats.models == 0 {
        return Err(ModelsError::NoModels {
            url: redact(&client.list_url(settings.listings()[0].as_deref(), settings.limit, true)),
            quarantined: bad,
        });
    }
    if !within_ratio(bad, stats.models, settings.max_invalid_ratio) {
        return Err(too_many(bad, stats.models));
    }
    staged.publish(run).await?;
    log_done(&client, &stats, bad, settings.limit, started);
    Ok(Harvest {
        models,
        resumed: false,
        stats,
        quarantined: bad,
    })
}

/// `models.csv` and `models.jsonl` written to a local staging folder as the models
/// come, so memory stays flat, then put in the store whole: `models.jsonl` first, and
/// `models.csv`, whose presence says the stage is done, last.
struct Staged {
    folder: tempfile::TempDir,
    csv: ::csv::Writer<BufWriter<std::fs::File>>,
    jsonl: BufWriter<std::fs::File>,
}

fn write_error(file: &str, source: std::io::Error) -> ModelsError {
    ModelsError::Write {
        file: file.to_owned(),
        source,
    }
}

impl Staged {
    fn open() -> Result<Self, ModelsError> {
        let folder = tempfile::tempdir().map_err(|e| write_error("a staging folder", e))?;
        let open = |name: &str| {
            let path = folder.path().join(name);
            std::fs::File::create(&path)
                .map(BufWriter::new)
                .map_err(|e| write_error(&path.display().to_string(), e))
        };
        let csv = formats::csv::writer(open(MODELS_CSV)?);
        let jsonl = open(MODELS_JSONL)?;
        Ok(Self { folder, csv, jsonl })
    }

    fn write(&mut self, record: &ModelRecord, raw: &serde_json::Value) -> Result<(), ModelsError> {
        self.csv
            .serialize(record)
            .map_err(|e| write_error(MODELS_CSV, e.into()))?;
        serde_json::to_writer(&mut self.jsonl, raw)
            .map_err(|e| write_error(MODELS_JSONL, e.into()))?;
        self.jsonl
            .write_all(b"\n")
            .map_err(|e| write_error(MODELS_JSONL, e))
    }

    async fn publish(self, run: &RunStore) -> Result<(), ModelsError> {
        let Self {
            folder,
            mut csv,
            mut jsonl,
        } = self;
        csv.flush().map_err(|e| write_error(MODELS_CSV, e))?;
        drop(csv);
        jsonl.flush().map_err(|e| write_error(MODELS_JSONL, e))?;
        drop(jsonl);
        run.put_file(MODELS_JSONL, &folder.path().join(MODELS_JSONL))
            .await?;
        run.put_file(MODELS_CSV, &folder.path().join(MODELS_CSV))
            .await?;
        Ok(())
    }
}

/// The stage's closing lines: what it read, and a warning when the Hub listed fewer
/// models than asked for.
fn log_done(client: &HubClient, stats: &HarvestStats, bad: u64, limit: u64, started: Instant) {
    let http = client.http().stats();
    tracing::info!(
        models = stats.models,
        quarantined = bad,
        pages = stats.pages,
        detail_requests = stats.detail_requests,
        detail_failures = stats.detail_failures,
        requests = http.requests(),
        retries = http.retries(),
        seconds = started.elapsed().as_secs_f64(),
        "models stage done"
    );
    if stats.models < limit {
        tracing::warn!(
            wanted = limit,
            got = stats.models,
            "the Hub listed fewer models than the limit"
        );
    }
}

/// This run's `models.csv` from an earlier attempt, read back row by row and reused.
async fn resume(cx: &StageCx, existing: std::fs::File) -> Result<Harvest, ModelsError> {
    let run = &cx.run;
    let key = run.key(MODELS_CSV);
    let read = {
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            let mut models = Vec::new();
            each_models_row(
                std::io::BufReader::new(existing),
                &key,
                Stage::Models,
                |row| {
                    models.extend(ModelId::parse(&row.model_id).ok());
                },
            )
            .map(|quarantined| (models, quarantined))
        })
        .await
    };
    let (models, set_aside) =
        read.map_err(|e| crate::store::StoreError::io("read", run.location(MODELS_CSV), e))??;
    let quarantined = cx.set_aside(set_aside, false).await?;
    tracing::info!(models = models.len(), key = %key, "models stage already done for this run; reusing it");
    Ok(Harvest {
        models,
        resumed: true,
        stats: HarvestStats::default(),
        quarantined,
    })
}
