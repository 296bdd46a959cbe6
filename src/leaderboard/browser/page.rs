//! One lookup in a session: search the app for a model (in its search box, or by
//! loading the page with the search in its URL), wait for the table to show only
//! matching rows, and read them.

use std::time::Duration;

use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use url::Url;

use super::driver::Session;
use super::table::parse_table;
use crate::http::redact;
use crate::leaderboard::rows::{classify, Lookup, ParsedRows};
use crate::leaderboard::LeaderboardSettings;
use crate::run::{ModelId, Quarantined};

const POLL: Duration = Duration::from_millis(50);
const SET_SEARCH_BOX: &str = r#"
const [box, text] = arguments;
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(box, text);
box.dispatchEvent(new Event("input", { bubbles: true }));
"#;

/// Why a lookup did not give an answer.
pub(super) enum Failure {
    /// The page did not look as configured (no frame, no table, a header missing):
    /// the model's answer is an error, and the session is fine.
    Page(String),
    /// The session or the browser is gone or hung: start a new one.
    Session(String),
}

/// Errors that say the page is not as configured, as opposed to a broken session.
fn is_page_problem(e: &WebDriverError) -> bool {
    matches!(
        e.as_inner(),
        WebDriverErrorInner::NoSuchElement(_)
            | WebDriverErrorInner::NoSuchFrame(_)
            | WebDriverErrorInner::InvalidSelector(_)
    )
}

fn not_found(e: &WebDriverError) -> bool {
    matches!(e.as_inner(), WebDriverErrorInner::NoSuchElement(_))
}

fn session_failure(what: &str, e: WebDriverError) -> Failure {
    if is_page_problem(&e) {
        Failure::Page(format!("{what}: {e}"))
    } else {
        Failure::Session(format!("{what}: {e}"))
    }
}

/// Open the page filtered to one model, wait for the frame and the table, and read it.
/// Rows of the table that name no model are returned apart, set aside.
pub(super) async fn lookup(
    session: &mut Session,
    settings: &LeaderboardSettings,
    model: &ModelId,
) -> Result<(Lookup, Vec<Quarantined>), Failure> {
    let wait = Duration::from_secs_f64(settings.page_timeout_secs);
    let shown = session.shown.take();
    let parsed = match search_in_app(session, settings, model, shown, wait).await? {
        Some(parsed) => parsed,
        None => load_page(&session.driver, settings, model, wait).await?,
    };
    let source =
        search_url(settings, model).map_or_else(|_| settings.page_url.clone(), |u| redact(&u));
    let quarantined = parsed
        .refused
        .iter()
        .map(|(position, fault)| fault.quarantined(&source, *position))
        .collect();
    let rows = parsed.rows;
    session.shown = Some(rows.iter().map(|r| r.name.to_lowercase()).collect());
    Ok((classify(model, rows), quarantined))
}

/// The page with the search for one model in its URL.
fn search_url(settings: &LeaderboardSettings, model: &ModelId) -> Result<Url, Failure> {
    let mut url =
        Url::parse(&settings.page_url).map_err(|e| Failure::Page(format!("page_url: {e}")))?;
    url.query_pairs_mut()
        .append_pair(&settings.search_param, model.as_str());
    Ok(url)
}

/// Search the app already on screen by typing into its search box: no page load and no
/// refetch of the app's data, which is what a reused session saves over a new one.
/// `Ok(None)` when that cannot be done safely; the caller then loads the page.
async fn search_in_app(
    session: &mut Session,
    settings: &LeaderboardSettings,
    model: &ModelId,
    shown: Option<Vec<String>>,
    wait: Duration,
) -> Result<Option<ParsedRows>, Failure> {
    let Some(shown) = shown else {
        return Ok(None);
    };
    if settings.search_input_selector.is_empty() || !session.search_box_works {
        return Ok(None);
    }
    // The last model's rows stay on screen until the app applies the new search. If they
    // would pass for this model's (none shown, or every one contains this id), the two
    // could not be told apart, so the page is loaded instead.
    let wanted = model.normalized();
    if shown.iter().all(|name| name.contains(&wanted)) {
        return Ok(None);
    }
    let driver = &session.driver;
    let boxes = driver
        .find_all(By::Css(settings.search_input_selector.clone()))
        .await
        .map_err(|e| session_failure("looking for the search box", e))?;
    let Some(search_box) = boxes.into_iter().next() else {
        tracing::debug!(selector = %settings.search_input_selector, "no search box; loading the page per model");
        session.search_box_works = false;
        return Ok(None);
    };
    // One script call rather than a key event per character (ids run to 60+ characters).
    // The value goes through the element's native setter, which framework-controlled
    // inputs (React) observe, and then an `input` event, as typing would fire.
    let arg = search_box
        .to_json()
        .map_err(|e| session_failure("addressing the search box", e))?;
    driver
        .execute(SET_SEARCH_BOX, vec![arg, serde_json::json!(model.as_str())])
        .await
        .map_err(|e| session_failure("typing into the search box", e))?;
    match wait_for_filtered_rows(driver, settings, model, wait).await {
        Ok(rows) => Ok(Some(rows)),
        Err(Failure::Page(reason)) => {
            tracing::warn!(model = %model, reason = %reason, "the search box did not filter the table; loading the page per model from now on");
            session.search_box_works = false;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Open the page with the model in its URL's search, and read the filtered table.
async fn load_page(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    model: &ModelId,
    wait: Duration,
) -> Result<ParsedRows, Failure> {
    let url = search_url(settings, model)?;
    driver
        .goto(url.as_str())
        .await
        .map_err(|e| session_failure("opening the page", e))?;
    if !settings.iframe_selector.is_empty() {
        let frame = appears(driver, "frame", &settings.iframe_selector, wait).await?;
        frame
            .enter_frame()
            .await
            .map_err(|e| session_failure("entering the frame", e))?;
    }
    appears(driver, "table", &settings.table_selector, wait).await?;
    wait_for_filtered_rows(driver, settings, model, wait).await
}

/// Wait for the first element matching `selector`; its absence is the page's fault (it
/// changed), any other error the session's.
async fn appears(
    driver: &WebDriver,
    what: &str,
    selector: &str,
    wait: Duration,
) -> Result<WebElement, Failure> {
    driver
        .query(By::Css(selector.to_owned()))
        .wait(wait, POLL)
        .first()
        .await
        .map_err(|e| {
            if not_found(&e) {
                Failure::Page(format!(
                    "{what} `{selector}` did not appear within {wait:?}"
                ))
            } else {
                session_failure(&format!("waiting for the {what}"), e)
            }
        })
}

/// An app may draw its table before it applies the URL's search (or while it still
/// loads), so the table is read only once every row it shows matches the filter. An
/// empty table matches: that is how the page says "no such model".
async fn wait_for_filtered_rows(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    model: &ModelId,
    wait: Duration,
) -> Result<ParsedRows, Failure> {
    let wanted = model.normalized();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let html = driver
            .source()
            .await
            .map_err(|e| session_failure("reading the page", e))?;
        let parsed = parse_table(&html, &settings.table_selector).map_err(Failure::Page)?;
        let rows = &parsed.rows;
        let unfiltered = rows
            .iter()
            .filter(|r| !r.name.to_lowercase().contains(&wanted))
            .count();
        if unfiltered == 0 {
            return Ok(parsed);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Page(format!(
                "the table still showed {unfiltered} of {} row(s) not matching `{}={model}` after {wait:?}",
                rows.len(),
                settings.search_param
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}
