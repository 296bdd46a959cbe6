//! The browserless source: the leaderboard's published rows over HTTP, read once,
//! then searched per model the way the page's search box does.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::rows::{classify, index_by_name, Lookup, ScoreRow};
use super::source::{ScoreSource, SourceStats};
use super::{DatasetsApi, LeaderboardError, LeaderboardSettings};
use crate::http::{redact, HttpClient, HttpSettings};
use crate::progress::Progress;
use crate::run::ModelId;
use crate::store::CheckpointSink;

/// datasets-server serves at most 100 rows per request.
const ROWS_PAGE: usize = 100;

/// The browserless source: every row is read once, then each model is looked up in them.
pub struct DatasetsSource {
    settings: LeaderboardSettings,
    http: HttpClient,
}

impl DatasetsSource {
    pub fn new(
        settings: &LeaderboardSettings,
        http: &HttpSettings,
    ) -> Result<Self, LeaderboardError> {
        Ok(Self {
            settings: settings.clone(),
            http: HttpClient::new(http, None)?,
        })
    }

    async fn load(&self, progress: &Progress) -> Result<LoadedRows, LeaderboardError> {
        let settings = &self.settings;
        let http = &self.http;
        let rows = match settings.datasets_api {
            DatasetsApi::Formatted => load_formatted(settings, http).await?,
            DatasetsApi::Rows => load_rows(settings, http, progress).await?,
        };
        tracing::info!(rows = rows.len(), api = ?settings.datasets_api, "leaderboard rows loaded");
        Ok(LoadedRows {
            by_name: index_by_name(rows),
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

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<Lookup>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, LeaderboardError> {
        sink.progress()
            .set_message("reading the leaderboard's published rows");
        let rows = tokio::select! {
            loaded = self.load(sink.progress()) => loaded?,
            _ = cancel.cancelled() => return Err(LeaderboardError::Interrupted),
        };
        sink.progress().set_message("");
        // Every answer is known at once: they are checkpointed concurrently.
        let answers: Vec<(ModelId, Lookup)> =
            models.iter().map(|m| (m.clone(), rows.lookup(m))).collect();
        tokio::select! {
            written = sink.record_many(answers) => written?,
            _ = cancel.cancelled() => return Err(LeaderboardError::Interrupted),
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
    /// The model's own rows, classified.
    fn lookup(&self, model: &ModelId) -> Lookup {
        let own = self
            .by_name
            .get(&model.normalized())
            .cloned()
            .unwrap_or_default();
        classify(model, own)
    }
}

async fn load_formatted(
    settings: &LeaderboardSettings,
    http: &HttpClient,
) -> Result<Vec<ScoreRow>, LeaderboardError> {
    let url = Url::parse(&settings.formatted_url).map_err(|e| LeaderboardError::BadData {
        url: settings.formatted_url.clone(),
        reason: e.to_string(),
    })?;
    let items: Value = http.get(&url).await?.json()?;
    let Value::Array(items) = items else {
        return Err(LeaderboardError::BadData {
            url: redact(&url),
            reason: "expected a JSON array of leaderboard rows".into(),
        });
    };
    let total = items.len();
    let rows: Vec<ScoreRow> = items.iter().filter_map(ScoreRow::from_formatted).collect();
    if rows.len() < total {
        tracing::warn!(url = %redact(&url), skipped = total - rows.len(), "leaderboard rows without a model name skipped");
    }
    Ok(rows)
}

async fn load_rows(
    settings: &LeaderboardSettings,
    http: &HttpClient,
    progress: &Progress,
) -> Result<Vec<ScoreRow>, LeaderboardError> {
    let mut rows = Vec::new();
    let mut offset = 0usize;
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
        let bad = |reason: &str| LeaderboardError::BadData {
            url: redact(&url),
            reason: reason.into(),
        };
        let items = page
            .get("rows")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no `rows` array"))?;
        let total = page
            .get("num_rows_total")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no `num_rows_total`"))? as usize;
        for item in items {
            if let Some(row) = item
                .get("row")
                .and_then(Value::as_object)
                .and_then(ScoreRow::from_contents)
            {
                rows.push(row);
            }
        }
        offset += items.len();
        progress.set_message(&format!(
            "reading leaderboard rows, batch {} of {}: {offset}/{total}",
            offset.div_ceil(ROWS_PAGE),
            total.div_ceil(ROWS_PAGE)
        ));
        if items.is_empty() || offset >= total {
            return Ok(rows);
        }
    }
}
