//! The Hub API client: one `expand[]` list request serves a whole page, cursor
//! pagination through `Link: <…>; rel="next"`, and per-model requests only for list
//! items that came back without the fields we need.

use std::collections::HashSet;
use std::time::Instant;

use futures::{stream, StreamExt};
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use super::record::{hub_item_id, json_kind, ItemFault};
use super::{DetailMode, ModelsError, HubSettings, ModelRecord};
use tokio_util::task::AbortOnDropHandle;

use crate::http::{next_link, redact, Fetched, HttpClient, HttpError, HttpSettings};
use crate::run::{ModelId, Quarantined, RecordKind, Secret, Stage};

/// The `expand[]` properties one list request asks for: everything `models.csv` needs.
pub const EXPANDED_FIELDS: [&str; 16] = [
    "author",
    "cardData",
    "config",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "safetensors",
    "sha",
    "tags",
    "trendingScore",
];

/// Fields every Hub model object carries. A list item without one of them is completed
/// from `/api/models/{id}`. (`safetensors`, `cardData`, `config` may be legitimately
/// absent, e.g. for GGUF-only repos, so their absence does not trigger a request.)
const ALWAYS_PRESENT: [&str; 5] = ["createdAt", "downloads", "lastModified", "sha", "tags"];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HarvestStats {
    pub models: u64,
    pub pages: u64,
    pub detail_requests: u64,
    pub detail_failures: u64,
    pub duplicates_skipped: u64,
    /// Items set aside because they are not models (see [`Harvested::Quarantined`]).
    pub quarantined: u64,
}

/// A list item, its place in the page (from 0) and whether its id is a model id.
type CheckedItem = (usize, Result<ModelId, ItemFault>, Value);

/// What [`HubClient::harvest`] hands its sink, item by item in the Hub's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Harvested {
    /// A model's row, with its raw JSON.
    Model(Box<ModelRecord>, Value),
    /// An item that is not a model, with where it was and why.
    Quarantined(Quarantined),
}

#[derive(Debug, Clone)]
pub struct HubClient {
    http: HttpClient,
    endpoint: Url,
    settings: HubSettings,
}

impl HubClient {
    pub fn new(
        settings: &HubSettings,
        http: &HttpSettings,
        token: Option<Secret>,
    ) -> Result<Self, ModelsError> {
        let endpoint = Url::parse(&settings.endpoint).map_err(|e| ModelsError::BadListing {
            url: settings.endpoint.clone(),
            reason: format!("invalid endpoint: {e}"),
        })?;
        let auth = token.and_then(|t| endpoint.host_str().map(|h| (h.to_owned(), t)));
        Ok(Self {
            http: HttpClient::new(http, auth)?,
            endpoint,
            settings: settings.clone(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The first list page's URL for `limit` models.
    pub fn list_url(&self, limit: u64, expand: bool) -> Url {
        let mut url = self.endpoint.join("api/models").expect("static path");
        {
            let mut q = url.query_pairs_mut();
            let s = &self.settings;
            for (key, value) in [
                ("pipeline_tag", &s.pipeline_tag),
                ("library", &s.library),
                ("author", &s.author),
                ("search", &s.search),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    q.append_pair(key, v);
                }
            }
            q.append_pair("sort", &s.sort);
            q.append_pair("direction", "-1");
            q.append_pair("limit", &limit.min(s.page_size).to_string());
            if expand {
                for field in EXPANDED_FIELDS {
                    q.append_pair("expand[]", field);
                }
            }
        }
        url
    }

    /// `/api/models/{id}` with the same expanded fields as the list.
    pub fn model_url(&self, model_id: &str) -> Url {
        let mut url = self.endpoint.join("api/models/").expect("static path");
        url.path_segments_mut()
            .expect("http URL")
            .pop_if_empty()
            .extend(model_id.split('/'));
        {
            let mut q = url.query_pairs_mut();
            for field in EXPANDED_FIELDS {
                q.append_pair("expand[]", field);
            }
        }
        url
    }

    /// Start a list request in the background; aborted if dropped.
    fn fetch_in_background(&self, url: Url) -> AbortOnDropHandle<Result<Fetched, HttpError>> {
        let http = self.http.clone();
        AbortOnDropHandle::new(tokio::spawn(
            async move { http.get(&url).await }.instrument(tracing::Span::current()),
        ))
    }

    pub async fn model_info(&self, model_id: &str) -> Result<Value, HttpError> {
        self.http.get(&self.model_url(model_id)).await?.json()
    }

    /// Collect up to `limit` unique models in the Hub's order, handing each to `sink`
    /// with its raw JSON as soon as its page is complete, so memory stays flat. An item
    /// that is not a model (no id, or an id that is not a model id) is handed to `sink`
    /// as [`Harvested::Quarantined`] and does not count towards `limit`; the sink
    /// decides when there are too many.
    ///
    /// Pages follow a cursor, so they come one after another; but the next page's URL
    /// is known as soon as a page arrives, so when the next page is certainly needed its
    /// request is sent before this page is parsed and written, hiding that work
    /// behind the round trip.
    pub async fn harvest<F>(&self, limit: u64, mut sink: F) -> Result<HarvestStats, ModelsError>
    where
        F: FnMut(Harvested) -> Result<(), ModelsError>,
    {
        let mut stats = HarvestStats::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut visited: HashSet<Url> = HashSet::new();
        let page_size = limit.min(self.settings.page_size);
        let mut in_flight = Some(self.fetch_in_background(self.list_url(limit, true)));
        while let Some(request) = in_flight.take() {
            let started = Instant::now();
            let fetched = request.await.map_err(|e| ModelsError::BadListing {
                url: self.endpoint.to_string(),
                reason: format!("list request task failed: {e}"),
            })??;
            stats.pages += 1;
            visited.insert(fetched.url.clone());
            // A cursor that leads back to a page already read would loop for ever.
            let next_url =
                next_link(&fetched.headers, &fetched.url).filter(|next| !visited.contains(next));
            if stats.models + page_size < limit {
                in_flight = next_url.clone().map(|url| self.fetch_in_background(url));
            }
            let page_url = redact(&fetched.url);
            let items = list_items(fetched.json()?).map_err(|fault| ModelsError::BadListing {
                url: page_url.clone(),
                reason: fault.to_string(),
            })?;
            let page_len = items.len();
            let models_before = stats.models;
            let checked: Vec<CheckedItem> = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| (i, hub_item_id(&item), item))
                .collect();
            let checked = self.complete(checked, &mut stats).await;
            for (i, id, item) in checked {
                if stats.models >= limit {
                    break;
                }
                let record = id.and_then(|_| ModelRecord::from_hub(stats.models + 1, &item));
                let record = match record {
                    Ok(record) => record,
                    Err(fault) => {
                        stats.quarantined += 1;
                        tracing::warn!(url = %page_url, position = i + 1, id = fault.id().unwrap_or(""), reason = %fault, "invalid list item set aside");
                        sink(Harvested::Quarantined(Quarantined::new(
                            Stage::Models,
                            RecordKind::HubItem,
                            page_url.clone(),
                            i as u64 + 1,
                            fault.id(),
                            fault.check(),
                            fault.to_string(),
                        )))?;
                        continue;
                    }
                };
                if !seen.insert(record.model_id.to_lowercase()) {
                    stats.duplicates_skipped += 1;
                    continue;
                }
                stats.models += 1;
                sink(Harvested::Model(Box::new(record), item))?;
            }
            tracing::debug!(
                page = stats.pages,
                items = page_len,
                ms = started.elapsed().as_millis() as u64,
                "list page"
            );
            if stats.models >= limit || page_len == 0 {
                break;
            }
            if stats.models == models_before && next_url.is_some() {
                tracing::warn!(url = %page_url, "a list page gave no new model; following its next link");
            }
            if in_flight.is_none() {
                in_flight = next_url.map(|url| self.fetch_in_background(url));
            }
        }
        Ok(stats)
    }

    /// Fill in fields the list left out, with bounded concurrency and in page order,
    /// for the items whose id is a model id (no request is made for any other).
    /// A model whose detail request fails keeps what the list gave.
    async fn complete(
        &self,
        items: Vec<CheckedItem>,
        stats: &mut HarvestStats,
    ) -> Vec<CheckedItem> {
        let needs = |item: &Value| match self.settings.detail {
            DetailMode::Always => true,
            DetailMode::Never => false,
            DetailMode::Auto => ALWAYS_PRESENT.iter().any(|k| item.get(*k).is_none()),
        };
        let results: Vec<(CheckedItem, Option<Result<(), HttpError>>)> = stream::iter(items)
            .map(|(i, id, mut item)| async move {
                let wanted = match &id {
                    Ok(id) if needs(&item) => Some(id.clone()),
                    _ => None,
                };
                match wanted {
                    None => ((i, id, item), None),
                    Some(model) => match self.model_info(model.as_str()).await {
                        Ok(detail) => {
                            merge_missing(&mut item, detail);
                            ((i, id, item), Some(Ok(())))
                        }
                        Err(e) => ((i, id, item), Some(Err(e))),
                    },
                }
            })
            .buffered(self.settings.detail_concurrency)
            .collect()
            .await;
        results
            .into_iter()
            .map(|(item, detail)| {
                match detail {
                    Some(Ok(())) => stats.detail_requests += 1,
                    Some(Err(e)) => {
                        stats.detail_requests += 1;
                        stats.detail_failures += 1;
                        tracing::warn!(error = %e, "model detail unavailable; keeping the list fields");
                    }
                    None => {}
                }
                item
            })
            .collect()
    }
}

/// A list page whose JSON is not a list of items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a JSON array, got {kind}")]
pub struct NotAList {
    pub kind: &'static str,
}

/// A Hub list page's items: its JSON must be an array. Each item is then checked on
/// its own ([`hub_item_id`], [`ModelRecord::from_hub`]), so one bad item costs only
/// itself.
pub fn list_items(page: Value) -> Result<Vec<Value>, NotAList> {
    match page {
        Value::Array(items) => Ok(items),
        other => Err(NotAList {
            kind: json_kind(&other),
        }),
    }
}

/// Why a list page's body gave no items.
#[derive(Debug, thiserror::Error)]
pub enum ListPageError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    NotAList(#[from] NotAList),
}

/// A list page's body as the client reads it: JSON, then [`list_items`]. For the
/// fuzz targets and tests; the client decodes through `Fetched::json` to name the URL.
pub fn parse_list_page(body: &[u8]) -> Result<Vec<Value>, ListPageError> {
    Ok(list_items(serde_json::from_slice(body)?)?)
}

fn merge_missing(item: &mut Value, detail: Value) {
    if let (Value::Object(item), Value::Object(detail)) = (item, detail) {
        for (key, value) in detail {
            item.entry(key).or_insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls() {
        let s = HubSettings {
            author: Some("meta-llama".into()),
            endpoint: "http://127.0.0.1:9/".into(),
            ..HubSettings::default()
        };
        let c = HubClient::new(&s, &HttpSettings::default(), None).unwrap();
        let u = c.list_url(50, true);
        assert!(u.as_str().starts_with("http://127.0.0.1:9/api/models?pipeline_tag=text-generation&author=meta-llama&sort=downloads&direction=-1&limit=50&expand%5B%5D=author"), "{u}");
        assert_eq!(
            c.model_url("Org/ünï 1").path(),
            "/api/models/Org/%C3%BCn%C3%AF%201"
        );
    }
}
