//! The models stage's walk of the Hub listing: cursor pagination through
//! `Link: <…>; rel="next"`, each item checked where it enters, and per-model requests
//! only for list items that came back without the fields we need.

use std::collections::HashSet;
use std::time::Instant;

use futures::{stream, StreamExt};
use serde_json::Value;

use super::record::hub_item_id;
use super::ModelsError;
use crate::http::{next_link, redact, HttpError};
use crate::hub::{list_items, merge_missing, DetailMode, HubClient, ALWAYS_PRESENT};
use crate::records::ModelRecord;
use crate::run::RecordFault;
use crate::run::{ModelId, Quarantined, Stage};
use url::Url;

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
type CheckedItem = (usize, Result<ModelId, RecordFault>, Value);

/// What [`harvest`] hands its sink, item by item in the Hub's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Harvested {
    /// A model's row, with its raw JSON.
    Model(Box<ModelRecord>, Value),
    /// An item that is not a model, with where it was and why.
    Quarantined(Quarantined),
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
pub async fn harvest<F>(
    client: &HubClient,
    limit: u64,
    mut sink: F,
) -> Result<HarvestStats, ModelsError>
where
    F: FnMut(Harvested) -> Result<(), ModelsError>,
{
    let mut stats = HarvestStats::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut visited: HashSet<Url> = HashSet::new();
    let page_size = limit.min(client.settings().page_size);
    let mut in_flight = Some(client.fetch_in_background(client.list_url(limit, true)));
    while let Some(request) = in_flight.take() {
        let started = Instant::now();
        let fetched = request.await.map_err(|e| ModelsError::BadListing {
            url: client.endpoint().to_string(),
            reason: format!("list request task failed: {e}"),
        })??;
        stats.pages += 1;
        visited.insert(fetched.url.clone());
        // A cursor that leads back to a page already read would loop for ever.
        let next_url =
            next_link(&fetched.headers, &fetched.url).filter(|next| !visited.contains(next));
        if stats.models + page_size < limit {
            in_flight = next_url.clone().map(|url| client.fetch_in_background(url));
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
        let checked = complete(client, checked, &mut stats).await;
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
                    let set_aside = fault.quarantined(Stage::Models, &page_url, i as u64 + 1);
                    sink(Harvested::Quarantined(set_aside))?;
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
            in_flight = next_url.map(|url| client.fetch_in_background(url));
        }
    }
    Ok(stats)
}

/// Fill in fields the list left out, with bounded concurrency and in page order,
/// for the items whose id is a model id (no request is made for any other).
/// A model whose detail request fails keeps what the list gave.
async fn complete(
    client: &HubClient,
    items: Vec<CheckedItem>,
    stats: &mut HarvestStats,
) -> Vec<CheckedItem> {
    let needs = |item: &Value| match client.settings().detail {
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
                Some(model) => match client.model_info(model.as_str()).await {
                    Ok(detail) => {
                        merge_missing(&mut item, detail);
                        ((i, id, item), Some(Ok(())))
                    }
                    Err(e) => ((i, id, item), Some(Err(e))),
                },
            }
        })
        .buffered(client.settings().detail_concurrency)
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
