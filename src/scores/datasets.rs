//! The browserless source: the leaderboard's published rows over HTTP, read once,
//! then searched per model the way the page's search box does.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::rows::{
    classify, index_by_name, parse_formatted, parse_rows_page, Lookup, ParsedRows, ScoreRow,
};
use super::{DatasetsApi, LeaderboardSettings, ScoresError};
use crate::formats;
use crate::http::{redact, HttpClient, HttpError, HttpSettings};
use crate::lookup::within_ratio;
use crate::lookup::{Answers, CheckpointSink};
use crate::lookup::{ScoreSource, SourceStats};
use crate::progress::Progress;
use crate::run::{ModelId, Quarantined, SourceName, Stage};

/// datasets-server serves at most 100 rows per request.
const ROWS_PAGE: usize = 100;

/// The browserless source: every row is read once, then each model is looked up in them.
pub struct DatasetsSource {
    settings: LeaderboardSettings,
    http: HttpClient,
    /// The Hub, whose `/resolve/` serves the dataset's files (`HF_ENDPOINT`).
    hub_endpoint: String,
    quarantined: Mutex<Vec<Quarantined>>,
}

impl DatasetsSource {
    pub fn new(
        settings: &LeaderboardSettings,
        http: &HttpSettings,
        hub_endpoint: &str,
    ) -> Result<Self, ScoresError> {
        Ok(Self {
            settings: settings.clone(),
            http: HttpClient::new(http, None)?,
            hub_endpoint: hub_endpoint.to_owned(),
            quarantined: Mutex::new(Vec::new()),
        })
    }

    /// The preflight check: the dataset's file exists at the pinned revision (one HEAD,
    /// no download). The JSON APIs have no revision, and are not checked.
    pub async fn check(&self) -> Result<(), ScoresError> {
        if self.settings.datasets_api != DatasetsApi::Parquet {
            return Ok(());
        }
        let url = parquet_url(&self.settings, &self.hub_endpoint)?;
        match self.http.head_once(&url).await {
            Ok(_) => Ok(()),
            Err(HttpError::Status {
                status: status @ (404 | 401 | 403),
                ..
            }) => Err(ScoresError::RevisionMissing {
                dataset: self.settings.dataset.clone(),
                revision: self.settings.dataset_revision.clone(),
                file: self.settings.dataset_file.clone(),
                url: redact(&url),
                status,
            }),
            Err(source) => Err(ScoresError::Unreachable {
                url: redact(&url),
                source,
            }),
        }
    }

    /// Every row, each checked where it comes in. The rows set aside are kept for
    /// [`ScoreSource::quarantined`], also when there are too many.
    async fn load(&self, progress: &Progress) -> Result<LoadedRows, ScoresError> {
        let settings = &self.settings;
        let http = &self.http;
        let loaded = match settings.datasets_api {
            DatasetsApi::Parquet => load_parquet(settings, http, &self.hub_endpoint).await?,
            DatasetsApi::Formatted => load_formatted(settings, http).await?,
            DatasetsApi::Rows => load_rows(settings, http, progress).await?,
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
    type Error = ScoresError;

    fn name(&self) -> SourceName {
        SourceName::Datasets
    }

    fn quarantined(&self) -> Vec<Quarantined> {
        std::mem::take(&mut *self.quarantined.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<Lookup>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, ScoresError> {
        sink.progress()
            .set_message("reading the leaderboard's published rows");
        let rows = tokio::select! {
            loaded = self.load(sink.progress()) => loaded?,
            _ = cancel.cancelled() => return Err(ScoresError::Interrupted),
        };
        sink.progress().set_message("");
        // Every answer is known at once: they are checkpointed concurrently.
        let answers: Answers<'_, Lookup> =
            Box::new(models.iter().map(|m: &ModelId| (m.clone(), rows.lookup(m))));
        tokio::select! {
            written = sink.record_many(answers) => written?,
            _ = cancel.cancelled() => return Err(ScoresError::Interrupted),
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

/// `{hub}/datasets/{dataset}/resolve/{revision}/{file}`: the whole dataset in one file.
pub fn parquet_url(settings: &LeaderboardSettings, hub_endpoint: &str) -> Result<Url, ScoresError> {
    let bad = |reason: String| ScoresError::BadData {
        url: hub_endpoint.to_owned(),
        reason,
    };
    let mut url = Url::parse(hub_endpoint).map_err(|e| bad(e.to_string()))?;
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| bad("not a base URL".into()))?;
        path.pop_if_empty().push("datasets");
        path.extend(settings.dataset.split('/'));
        path.push("resolve").push(&settings.dataset_revision);
        path.extend(settings.dataset_file.split('/'));
    }
    Ok(url)
}

async fn load_parquet(
    settings: &LeaderboardSettings,
    http: &HttpClient,
    hub_endpoint: &str,
) -> Result<Loaded, ScoresError> {
    let url = parquet_url(settings, hub_endpoint)?;
    let fetched = http.get(&url).await?;
    let rows =
        formats::parquet::parquet_rows(fetched.body).map_err(|reason| ScoresError::BadData {
            url: redact(&url),
            reason,
        })?;
    let mut parsed = ParsedRows::default();
    for (i, row) in rows.iter().enumerate() {
        parsed.push(i as u64 + 1, ScoreRow::from_contents(row));
    }
    let mut loaded = Loaded {
        url: redact(&url),
        ..Loaded::default()
    };
    loaded.take(parsed, &redact(&url));
    Ok(loaded)
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
            tracing::warn!(url = %source, position, name = fault.id().unwrap_or(""), reason = %fault, "leaderboard row set aside");
        }
        self.quarantined.extend(
            parsed
                .refused
                .iter()
                .map(|(position, fault)| fault.quarantined(Stage::Scores, source, *position)),
        );
        self.rows.extend(parsed.rows);
    }

    /// No row at all, or more bad rows than `leaderboard.max_invalid_ratio` allows,
    /// fails the source.
    fn check(&self, max_ratio: f64) -> Result<(), ScoresError> {
        let bad = self.quarantined.len() as u64;
        let good = self.rows.len() as u64;
        if good == 0 {
            return Err(ScoresError::NoRows {
                url: self.url.clone(),
                quarantined: bad,
            });
        }
        if !within_ratio(bad, good, max_ratio) {
            return Err(ScoresError::TooManyInvalid {
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
) -> Result<Loaded, ScoresError> {
    let url = Url::parse(&settings.formatted_url).map_err(|e| ScoresError::BadData {
        url: settings.formatted_url.clone(),
        reason: e.to_string(),
    })?;
    let page: Value = http.get(&url).await?.json()?;
    let parsed = parse_formatted(&page).map_err(|fault| ScoresError::BadData {
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
    progress: &Progress,
) -> Result<Loaded, ScoresError> {
    let mut loaded = Loaded::default();
    let mut offset = 0u64;
    loop {
        let mut url = Url::parse(&settings.datasets_server_url)
            .and_then(|u| u.join("rows"))
            .map_err(|e| ScoresError::BadData {
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
        let page = parse_rows_page(&page, offset + 1).map_err(|fault| ScoresError::BadData {
            url: redact(&url),
            reason: fault.to_string(),
        })?;
        if loaded.url.is_empty() {
            loaded.url = redact(&url);
        }
        loaded.take(page.parsed, &redact(&url));
        offset += page.items as u64;
        let total = page.total.min(MAX_ROWS);
        progress.set_message(&format!(
            "reading leaderboard rows, batch {} of {}: {offset}/{total}",
            offset.div_ceil(ROWS_PAGE as u64),
            total.div_ceil(ROWS_PAGE as u64)
        ));
        if page.items == 0 || offset >= total {
            if page.total > MAX_ROWS {
                tracing::warn!(url = %redact(&url), stated = page.total, read = offset, "the server states more rows than the job reads");
            }
            return Ok(loaded);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three ways to read the leaderboard give the same rows, all 4,576 of them,
    /// from the fake's three APIs (the real dataset's parquet file and `/rows` shape,
    /// and the app's JSON API), which all hold the real rows.
    #[tokio::test(flavor = "multi_thread")]
    async fn parquet_rows_and_json_api_give_identical_score_rows() {
        let fake = fakehf::FakeHf::start(fakehf::FakeConfig {
            models: 10,
            realdata: crate::testdata::realdata_dir(),
            ..fakehf::FakeConfig::default()
        })
        .await
        .unwrap();
        let settings = LeaderboardSettings {
            formatted_url: fake.formatted_url(),
            datasets_server_url: fake.url(),
            ..LeaderboardSettings::default()
        };
        let http = HttpClient::new(&HttpSettings::default(), None).unwrap();
        let sorted = |loaded: Loaded| {
            assert!(loaded.quarantined.is_empty(), "{:?}", loaded.quarantined);
            let mut rows = loaded.rows;
            rows.sort_by(|a, b| a.eval_name.cmp(&b.eval_name));
            rows
        };
        let parquet = sorted(load_parquet(&settings, &http, &fake.url()).await.unwrap());
        let progress = crate::progress::Progress::new("scores", 0);
        let rows = sorted(load_rows(&settings, &http, &progress).await.unwrap());
        let formatted = sorted(load_formatted(&settings, &http).await.unwrap());
        assert_eq!(parquet.len(), 4576);
        assert_eq!(parquet, rows, "parquet and /rows");
        assert_eq!(parquet, formatted, "parquet and the JSON API");
        let olmo = parquet
            .iter()
            .find(|r| r.name == "allenai/OLMo-1.7-7B-hf")
            .unwrap();
        assert_eq!(olmo.model_type, "❓other");
        assert!(olmo
            .eval_name
            .starts_with("allenai/OLMo-1.7-7B-hf_float16_"));
    }

    #[test]
    fn the_parquet_url_is_the_hubs_resolve_url_at_the_pinned_revision() {
        let url = parquet_url(&LeaderboardSettings::default(), "https://huggingface.co").unwrap();
        assert_eq!(
            url.as_str(),
            "https://huggingface.co/datasets/open-llm-leaderboard/contents/resolve/9c09a7cae43334062a82cb164f2ef255013dafa2/data/train-00000-of-00001.parquet"
        );
    }
}
