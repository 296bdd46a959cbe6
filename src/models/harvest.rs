//! The models stage's walk of the Hub listings: one per pipeline tag, merged into one
//! ranking, each read with cursor pagination through `Link: <…>; rel="next"`, each item
//! checked where it enters, test repos left out, and per-model requests only for list
//! items that came back without the fields we need.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Instant;

use futures::{stream, StreamExt};
use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use super::fixtures::fixture_rule;
use super::record::hub_item_id;
use super::ModelsError;
use crate::http::{next_link, redact, Fetched, HttpError};
use crate::hub::{list_items, merge_missing, DetailMode, HubClient, ALWAYS_PRESENT};
use crate::records::ModelRecord;
use crate::run::{Check, ModelId, Quarantined, RecordFault, RecordKind, Stage};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HarvestStats {
    pub models: u64,
    pub pages: u64,
    /// List requests per listing: its pipeline tag, or `any` for the untagged one.
    pub pages_per_listing: BTreeMap<String, u64>,
    pub detail_requests: u64,
    pub detail_failures: u64,
    pub duplicates_skipped: u64,
    /// Items set aside because they are not models (see [`Harvested::Quarantined`]).
    pub quarantined: u64,
    /// Test and fixture repos left out of the top N (see [`Harvested::Fixture`]).
    pub fixtures: u64,
}

/// A list item, its place in the page (from 0) and whether its id is a model id.
type CheckedItem = (usize, Result<ModelId, RecordFault>, Value);

/// What [`harvest`] hands its sink, item by item in ranking order.
#[derive(Debug, Clone, PartialEq)]
pub enum Harvested {
    /// A model's row, with its raw JSON.
    Model(Box<ModelRecord>, Value),
    /// An item that is not a model, with where it was and why.
    Quarantined(Quarantined),
    /// A test or fixture repo ([`fixture_rule`]): a model, left out of the top N and
    /// listed with the rule that caught it. It is not an invalid item.
    Fixture(Quarantined),
}

/// Where a listing's items are ranked: the value of `hub.sort` on an item. Numbers
/// (downloads, likes, trendingScore) compare as numbers, dates (createdAt,
/// lastModified, RFC 3339) as text; an item without one ranks last.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum SortKey {
    Missing,
    Text(String),
    Number(f64),
}

impl SortKey {
    fn of(item: &Value, sort: &str) -> Self {
        match item.get(sort) {
            Some(Value::Number(n)) => n.as_f64().map_or(Self::Missing, Self::Number),
            Some(Value::String(s)) => Self::Text(s.clone()),
            _ => Self::Missing,
        }
    }
}

/// One pipeline tag's listing, read a page at a time as the merge needs it.
struct Listing {
    /// Its name in the stats: the tag, or `any`.
    name: String,
    /// Items read and not yet ranked, in the listing's order: each with its key, its
    /// place in its page and the page's URL. An item that is not a model keeps its
    /// place (the key of the item before it), so it is set aside in the Hub's order.
    waiting: VecDeque<Waiting>,
    /// The next page, if the listing goes on.
    next: Option<Url>,
    /// The key of the last item read: no later item of this listing ranks above it.
    bound: Option<SortKey>,
    in_flight: Option<AbortOnDropHandle<Result<Fetched, HttpError>>>,
    visited: HashSet<Url>,
}

struct Waiting {
    key: SortKey,
    position: usize,
    page_url: String,
    id: Result<ModelId, RecordFault>,
    item: Value,
}

impl Listing {
    /// The key its next model would rank by: its first waiting item's, else (when it
    /// has a page to read) at most the last one's.
    fn head(&self) -> Option<(SortKey, bool)> {
        match self.waiting.front() {
            Some(waiting) => Some((waiting.key.clone(), true)),
            None if self.next.is_some() || self.in_flight.is_some() => Some((
                self.bound.clone().unwrap_or(SortKey::Number(f64::INFINITY)),
                false,
            )),
            None => None,
        }
    }
}

/// Collect up to `limit` unique models, the listings of the configured pipeline tags
/// merged by `hub.sort` into one ranking, handing each to `sink` with its raw JSON.
/// An item that is not a model (no id, or an id that is not a model id) is handed to
/// `sink` as [`Harvested::Quarantined`], a test or fixture repo as
/// [`Harvested::Fixture`] (unless `hub.keep_test_repos`); neither counts towards
/// `limit`, and the sink decides when there are too many bad ones.
///
/// The Hub takes one pipeline tag a request, so each tag is its own sorted listing and
/// they are merged here: a listing's next page is read only when its last item still
/// ranks above every other listing's next one, so a listing whose next page cannot
/// enter the top N is not read. Pages follow a cursor; when the only listing left
/// certainly needs its next page, it is asked for before this page is ranked.
pub async fn harvest<F>(
    client: &HubClient,
    limit: u64,
    mut sink: F,
) -> Result<HarvestStats, ModelsError>
where
    F: FnMut(Harvested) -> Result<(), ModelsError>,
{
    let settings = client.settings();
    let mut stats = HarvestStats::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut listings: Vec<Listing> = settings
        .listings()
        .into_iter()
        .map(|tag| Listing {
            name: tag.clone().unwrap_or_else(|| "any".into()),
            waiting: VecDeque::new(),
            next: None,
            bound: None,
            in_flight: Some(client.fetch_in_background(client.list_url(
                tag.as_deref(),
                limit,
                true,
            ))),
            visited: HashSet::new(),
        })
        .collect();
    while stats.models < limit {
        // The listing whose next model ranks first; a tie goes to one already read.
        let Some(at) = (0..listings.len())
            .filter_map(|i| listings[i].head().map(|h| (i, h)))
            .max_by(|(_, (a, read_a)), (_, (b, read_b))| {
                a.partial_cmp(b)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(read_a.cmp(read_b))
            })
            .map(|(i, _)| i)
        else {
            break;
        };
        if listings[at].waiting.is_empty() {
            read_page(client, &mut listings, at, limit, &mut stats).await?;
            continue;
        }
        let Waiting {
            position,
            page_url,
            id,
            item,
            ..
        } = listings[at].waiting.pop_front().expect("a head");
        let record = match id.and_then(|_| ModelRecord::from_hub(stats.models + 1, &item)) {
            Ok(record) => record,
            Err(fault) => {
                set_aside(fault, &page_url, position, &mut stats, &mut sink)?;
                continue;
            }
        };
        if !seen.insert(record.model_id.to_lowercase()) {
            stats.duplicates_skipped += 1;
            continue;
        }
        if !settings.keep_test_repos {
            if let Some(rule) = fixture_rule(&record) {
                stats.fixtures += 1;
                tracing::info!(model = %record.model_id, rule = %rule, "test repo left out of the top N");
                sink(Harvested::Fixture(Quarantined::new(
                    Stage::Models,
                    RecordKind::HubItem,
                    page_url,
                    position as u64 + 1,
                    Some(record.model_id.as_str()),
                    Check::TestRepo,
                    rule,
                )))?;
                continue;
            }
        }
        stats.models += 1;
        sink(Harvested::Model(Box::new(record), item))?;
    }
    Ok(stats)
}

/// Read listing `at`'s next page: its items checked where they enter, completed where
/// the list left fields out, and queued for the merge.
async fn read_page(
    client: &HubClient,
    listings: &mut [Listing],
    at: usize,
    limit: u64,
    stats: &mut HarvestStats,
) -> Result<(), ModelsError> {
    let started = Instant::now();
    let listing = &mut listings[at];
    let request = match listing.in_flight.take() {
        Some(request) => request,
        None => match listing.next.take() {
            Some(url) => client.fetch_in_background(url),
            None => return Ok(()),
        },
    };
    let fetched = request.await.map_err(|e| ModelsError::BadListing {
        url: client.endpoint().to_string(),
        reason: format!("list request task failed: {e}"),
    })??;
    stats.pages += 1;
    *stats
        .pages_per_listing
        .entry(listing.name.clone())
        .or_default() += 1;
    listing.visited.insert(fetched.url.clone());
    // A cursor that leads back to a page already read would loop for ever.
    listing.next =
        next_link(&fetched.headers, &fetched.url).filter(|next| !listing.visited.contains(next));
    prefetch(
        client,
        listings,
        at,
        limit,
        stats,
        client.settings().page_size,
    );
    let listing = &mut listings[at];
    let page_url = redact(&fetched.url);
    let items = list_items(fetched.json()?).map_err(|fault| ModelsError::BadListing {
        url: page_url.clone(),
        reason: fault.to_string(),
    })?;
    if items.is_empty() {
        // An empty page ends the listing, whatever its cursor says.
        listing.next = None;
        listing.in_flight = None;
    }
    let checked: Vec<CheckedItem> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (i, hub_item_id(&item), item))
        .collect();
    let page_len = checked.len();
    let checked = complete(client, checked, stats).await;
    let listing = &mut listings[at];
    for (position, id, item) in checked {
        let key = match &id {
            Ok(_) => SortKey::of(&item, &client.settings().sort),
            Err(_) => listing
                .bound
                .clone()
                .unwrap_or(SortKey::Number(f64::INFINITY)),
        };
        listing.bound = Some(key.clone());
        listing.waiting.push_back(Waiting {
            key,
            position,
            page_url: page_url.clone(),
            id,
            item,
        });
    }
    tracing::debug!(
        listing = %listing.name,
        page = stats.pages,
        items = page_len,
        ms = started.elapsed().as_millis() as u64,
        "list page"
    );
    // The page may have had fewer items than a full one: ask again now it is known.
    prefetch(client, listings, at, limit, stats, 0);
    Ok(())
}

/// When the only listing left certainly needs its next page, ask for it now, so it
/// comes while this one is parsed, ranked and written: certainly, because even if
/// every model waiting, and `coming` more, were taken, the run would want more.
fn prefetch(
    client: &HubClient,
    listings: &mut [Listing],
    at: usize,
    limit: u64,
    stats: &HarvestStats,
    coming: u64,
) {
    let waiting: usize = listings.iter().map(|l| l.waiting.len()).sum();
    let live = listings
        .iter()
        .filter(|l| l.next.is_some() || !l.waiting.is_empty() || l.in_flight.is_some())
        .count();
    let listing = &mut listings[at];
    if live == 1
        && listing.in_flight.is_none()
        && stats
            .models
            .saturating_add(waiting as u64)
            .saturating_add(coming)
            < limit
    {
        if let Some(url) = listing.next.take() {
            listing.in_flight = Some(client.fetch_in_background(url));
        }
    }
}

/// An item that is not a model: counted, logged and handed to the sink.
fn set_aside<F>(
    fault: RecordFault,
    page_url: &str,
    position: usize,
    stats: &mut HarvestStats,
    sink: &mut F,
) -> Result<(), ModelsError>
where
    F: FnMut(Harvested) -> Result<(), ModelsError>,
{
    stats.quarantined += 1;
    tracing::warn!(url = %page_url, position = position + 1, id = fault.id().unwrap_or(""), reason = %fault, "invalid list item set aside");
    sink(Harvested::Quarantined(fault.quarantined(
        Stage::Models,
        page_url,
        position as u64 + 1,
    )))
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
