//! The browserless source: the leaderboard's published rows over HTTP, read once,
//! then searched per model the way the page's search box does.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::rows::{
    classify, index_by_name, parse_formatted, parse_rows_page, Lookup, ParsedRows, ScoreRow,
};
use super::source::{ScoreSource, SourceStats};
use super::{DatasetsApi, LeaderboardError, LeaderboardSettings};
use crate::http::{redact, HttpClient, HttpSettings};
use crate::run::quarantine::within_ratio;
use crate::run::{ModelId, Quarantined};
use crate::store::CheckpointSink;

/// datasets-server serves at most 100 rows per request.
const ROWS_PAGE: usize = 100;

/// The browserless source: every row is read once, then each model is looked up in them.
pub struct DatasetsSource {
    settings: LeaderboardSettings,
    http: HttpClient,
    quarantined: Mutex<Vec<Quarantined>>,
}

impl DatasetsSource {
    pub fn new(
        settings: &LeaderboardSettings,
        http: &HttpSettings,
    ) -> Result<Self, LeaderboardError> {
        Ok(Self {
            settings: settings.clone(),
            http: HttpClient::new(http, None)?,
            quarantined: Mutex::new(Vec::new()),
        })
    }

    /// Every row, each checked where it comes in. The rows set aside are kept for
    /// [`ScoreSource::quarantined`], also when there are too many.
    async fn load(&self) -> Result<LoadedRows, LeaderboardError> {
        let settings = &self.settings;
        let http = &self.http;
        let loaded = match settings.datasets_api {
            DatasetsApi::Formatted => load_formatted(settings, http).await?,
            DatasetsApi::Rows => load_rows(settings, http).await?,
        };
        tracing::info!(rows = loaded.rows.len(), set_aside = loaded.quarantined.len(), api = ?settings.datasets_api, "leaderboard rows loaded");
        let checked = loaded.check(settings.max_invalid_ratio);
        self.quarantined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(loaded.quarantined);
        checked?;
        Ok(LoadedRows {
            by_name: index_by_name(loaded.rows),
        })
    }
}

#[async_trait]
impl ScoreSource for DatasetsSource {
    type Answer = Lookup;
    type Error = LeaderboardError;

    fn name(&self) -> &'static str {
        "datasets"
    }

    fn quarantined(&self) -> Vec<Quarantined> {
        std::mem::take(&mut *self.quarantined.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<Lookup>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, LeaderboardError> {
        let rows = tokio::select! {
            loaded = self.load() => loaded?,
            _ = cancel.cancelled() => return Err(LeaderboardError::Interrupted),
        };
        for model in models {
            if cancel.is_cancelled() {
                return Err(LeaderboardError::Interrupted);
            }
            let span = tracing::info_span!("model", model.id = %model);
            sink.record(model, rows.lookup(model))
                .instrument(span)
                .await?;
        }
        Ok(SourceStats {
            requests: self.http.stats().requests(),
            session_restarts: 0,
        })
    }
}

/// Every row, by lower-cased model name.
struct LoadedRows {
    by_name: HashMap<String, Vec<ScoreRow>>,
}

impl LoadedRows {
    /// What the page's search would show for this model, classified.
    fn lookup(&self, model: &ModelId) -> Lookup {
        let wanted = model.normalized();
        let mut seen: Vec<ScoreRow> = self.by_name.get(&wanted).cloned().unwrap_or_default();
        if seen.is_empty() {
            // No row of its own: report the near misses the search box would show.
            let mut near: Vec<&String> = self
                .by_name
                .keys()
                .filter(|name| name.contains(&wanted))
                .collect();
            near.sort();
            seen = near
                .into_iter()
                .take(20)
                .flat_map(|name| self.by_name[name].iter().take(1).cloned())
                .collect();
        }
        classify(model, seen)
    }
}

/// Every row a source gave, and the ones set aside.
#[derive(Default)]
struct Loaded {
    rows: Vec<ScoreRow>,
    quarantined: Vec<Quarantined>,
    /// The URL that names the source in messages (the first page's, for `/rows`).
    url: String,
}

impl Loaded {
    fn take(&mut self, parsed: ParsedRows, source: &str) {
        for (position, fault) in &parsed.refused {
            tracing::warn!(url = %source, position, name = fault.name().unwrap_or(""), reason = %fault, "leaderboard row set aside");
        }
        self.quarantined.extend(
            parsed
                .refused
                .iter()
                .map(|(position, fault)| fault.quarantined(source, *position)),
        );
        self.rows.extend(parsed.rows);
    }

    /// No row at all, or more bad rows than `leaderboard.max_invalid_ratio` allows,
    /// fails the source.
    fn check(&self, max_ratio: f64) -> Result<(), LeaderboardError> {
        let bad = self.quarantined.len() as u64;
        let good = self.rows.len() as u64;
        if good == 0 {
            return Err(LeaderboardError::NoRows {
                url: self.url.clone(),
                quarantined: bad,
            });
        }
        if !within_ratio(bad, good, max_ratio) {
            return Err(LeaderboardError::TooManyInvalid {
                url: self.url.clone(),
                quarantined: bad,
                seen: bad + good,
                max_ratio,
            });
        }
        Ok(())
    }
}

async fn load_formatted(
    settings: &LeaderboardSettings,
    http: &HttpClient,
) -> Result<Loaded, LeaderboardError> {
    let url = Url::parse(&settings.formatted_url).map_err(|e| LeaderboardError::BadData {
        url: settings.formatted_url.clone(),
        reason: e.to_string(),
    })?;
    let page: Value = http.get(&url).await?.json()?;
    let parsed = parse_formatted(&page).map_err(|fault| LeaderboardError::BadData {
        url: redact(&url),
        reason: fault.to_string(),
    })?;
    let mut loaded = Loaded {
        url: redact(&url),
        ..Loaded::default()
    };
    loaded.take(parsed, &redact(&url));
    Ok(loaded)
}

/// At most this many rows are read from `/rows`, whatever total the server states (the
/// leaderboard has 4,576): a server that counts wrong must not keep the job paging.
const MAX_ROWS: u64 = 1_000_000;

async fn load_rows(
    settings: &LeaderboardSettings,
    http: &HttpClient,
) -> Result<Loaded, LeaderboardError> {
    let mut loaded = Loaded::default();
    let mut offset = 0u64;
    loop {
        let mut url = Url::parse(&settings.datasets_server_url)
            .and_then(|u| u.join("rows"))
            .map_err(|e| LeaderboardError::BadData {
                url: settings.datasets_server_url.clone(),
                reason: e.to_string(),
            })?;
        url.query_pairs_mut()
            .append_pair("dataset", &settings.dataset)
            .append_pair("config", "default")
            .append_pair("split", "train")
            .append_pair("offset", &offset.to_string())
            .append_pair("length", &ROWS_PAGE.to_string());
        let page: Value = http.get(&url).await?.json()?;
        let page =
            parse_rows_page(&page, offset + 1).map_err(|fault| LeaderboardError::BadData {
                url: redact(&url),
                reason: fault.to_string(),
            })?;
        if loaded.url.is_empty() {
            loaded.url = redact(&url);
        }
        loaded.take(page.parsed, &redact(&url));
        offset += page.items as u64;
        if page.items == 0 || offset >= page.total.min(MAX_ROWS) {
            if page.total > MAX_ROWS {
                tracing::warn!(url = %redact(&url), stated = page.total, read = offset, "the server states more rows than the job reads");
            }
            return Ok(loaded);
        }
    }
}
