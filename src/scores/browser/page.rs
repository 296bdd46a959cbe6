//! One batch of models in a session, the way the real leaderboard app works (its public
//! source; see `fakehf/src/leaderboard/app.js` for the file behind each behaviour):
//!
//! 1. The app is opened once per session, at `page_url` with `#/?<app_params>`: a hash
//!    router, whose empty `precision` and `types` lists turn off the default filters
//!    that hide rows. A page that wraps the app in a frame is entered, and the app's
//!    state set in the frame.
//! 2. A batch is one search, `^id1$;^id2$;…` (anchored, escaped regular expressions
//!    joined by `;`, which the app ORs), typed into the app's React search box through
//!    the native value setter, as typing would. Changing only the URL's hash would
//!    not do: with a search shown, the real app then swaps the old and new searches
//!    without end.
//! 3. The search has applied when the app writes it into its URL, which it does after
//!    rendering it; until then what is on screen may be the last batch's. A skeleton is
//!    never read as an empty table, and an error message shown instead of the table is
//!    reported as what went wrong.
//! 4. The table is virtualised (only the rows in view exist), so it is scrolled to the
//!    end, collecting rows by their rank, until every row the app counts is read.
//! 5. Rows go to the batch's models by exact id; a model with none is `not_found`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;

use super::driver::Session;
use super::table::parse_table;
use crate::run::RecordFault;
use crate::run::{ModelId, Quarantined, Stage};
use crate::scores::rows::{classify, Lookup, ScoreRow};
use crate::scores::LeaderboardSettings;

const POLL: Duration = Duration::from_millis(50);

/// What is on screen, read in one script call: the state of the app, and the table's
/// scroll container as HTML.
const READ_SCREEN: &str = r#"
const [inputSel, tableSel, skeletonSel, noResults, errorSel] = arguments;
const input = document.querySelector(inputSel);
const container = document.querySelector(tableSel);
const skeletons = document.querySelectorAll(skeletonSel).length;
let error = null;
if (!input && !container && skeletons === 0) {
  const shown = document.querySelector(errorSel);
  if (shown && shown.textContent.trim()) error = shown.textContent.trim();
}
const hash = location.hash || "";
const q = hash.indexOf("?");
const applied = new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "").get("search");
const noResultsShown = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6,p")]
  .some((e) => e.textContent.trim() === noResults);
const paper = input ? input.closest(".MuiPaper-root") : null;
return {
  input: !!input,
  skeletons,
  error,
  no_results: noResultsShown,
  applied,
  count: paper ? paper.innerText : null,
  table: container ? container.outerHTML : null,
  scroll_top: container ? container.scrollTop : 0,
  client_height: container ? container.clientHeight : 0,
  scroll_height: container ? container.scrollHeight : 0,
};
"#;

/// Type into a React-controlled input: its own `value` property is React's, so the
/// prototype's setter is used, then the `input` event that typing fires.
const TYPE_SEARCH: &str = r#"
const [sel, text] = arguments;
const box = document.querySelector(sel);
if (!box) return false;
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(box, text);
box.dispatchEvent(new Event("input", { bubbles: true }));
return true;
"#;

/// Scroll the table, then let the app draw two frames before the rows are read.
const SCROLL_TO: &str = r#"
const [sel, top, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const c = document.querySelector(sel);
if (!c) { done(false); return; }
c.scrollTop = top;
requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
"#;

/// Why a batch did not give answers.
pub(super) enum Failure {
    /// The page is not as configured, or shows an error: the batch's answer is an
    /// error, and the session is fine (the app is opened again for the next batch).
    Page(String),
    /// The session or the browser is gone or hung: start a new one.
    Session(String),
}

#[derive(Debug, Deserialize)]
struct Screen {
    input: bool,
    skeletons: u64,
    error: Option<String>,
    no_results: bool,
    applied: Option<String>,
    count: Option<String>,
    table: Option<String>,
    scroll_top: f64,
    client_height: f64,
    scroll_height: f64,
}

impl Screen {
    fn at_bottom(&self) -> bool {
        self.scroll_top + self.client_height >= self.scroll_height - 1.0
    }

    /// The app's `N / TOTAL` (with `+k` for pinned rows): how many rows it shows.
    fn shown(&self) -> Option<u64> {
        let text = self.count.as_deref()?;
        let numbers: Vec<&str> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '+' || c == '/'))
            .filter(|s| !s.is_empty())
            .collect();
        let slash = numbers.iter().position(|s| *s == "/")?;
        let mut shown = 0u64;
        for part in &numbers[..slash] {
            shown = shown.checked_add(part.trim_start_matches('+').parse().ok()?)?;
        }
        Some(shown)
    }
}

/// Errors that say the page is not as configured, as opposed to a broken session.
fn is_page_problem(e: &WebDriverError) -> bool {
    matches!(
        e.as_inner(),
        WebDriverErrorInner::NoSuchElement(_)
            | WebDriverErrorInner::NoSuchFrame(_)
            | WebDriverErrorInner::InvalidSelector(_)
            | WebDriverErrorInner::JavascriptError(_)
    )
}

fn session_failure(what: &str, e: WebDriverError) -> Failure {
    if is_page_problem(&e) {
        Failure::Page(format!("{what}: {e}"))
    } else {
        Failure::Session(format!("{what}: {e}"))
    }
}

/// The search for a batch: each id anchored and escaped, so it matches its own name
/// only (the app's regular expressions are unanchored and case-insensitive). The
/// characters escaped are those the app itself escapes (LB/utils/columnUtils.js:77).
pub fn batch_search(models: &[ModelId]) -> String {
    models
        .iter()
        .map(|m| {
            let mut part = String::with_capacity(m.as_str().len() + 8);
            part.push('^');
            for c in m.as_str().chars() {
                if ".*+?^${}()|[]\\".contains(c) {
                    part.push('\\');
                }
                part.push(c);
            }
            part.push('$');
            part
        })
        .collect::<Vec<_>>()
        .join(";")
}

async fn read_screen(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
) -> Result<Screen, Failure> {
    let args = vec![
        serde_json::json!(settings.search_input_selector),
        serde_json::json!(settings.table_selector),
        serde_json::json!(settings.skeleton_selector),
        serde_json::json!(settings.no_results_text),
        serde_json::json!(settings.error_selector),
    ];
    let value = driver
        .execute(READ_SCREEN, args)
        .await
        .map_err(|e| session_failure("reading the page", e))?;
    value
        .convert::<Screen>()
        .map_err(|e| Failure::Page(format!("reading the page: {e}")))
}

/// Wait for a screen that `done` accepts; an error the app shows ends the wait at once.
async fn wait_for(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    what: &str,
    wait: Duration,
    done: impl Fn(&Screen) -> bool,
) -> Result<Screen, Failure> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let screen = read_screen(driver, settings).await?;
        if let Some(error) = &screen.error {
            return Err(Failure::Page(format!(
                "the leaderboard app shows an error instead of its table: {error}"
            )));
        }
        if done(&screen) {
            return Ok(screen);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Page(format!(
                "{what} within {wait:?} (search box {}, {} placeholder(s), table {})",
                if screen.input { "shown" } else { "missing" },
                screen.skeletons,
                if screen.table.is_some() {
                    "shown"
                } else {
                    "missing"
                },
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The app with its table (or its "no results") drawn, no placeholder left.
fn ready(screen: &Screen) -> bool {
    screen.input && screen.skeletons == 0 && (screen.table.is_some() || screen.no_results)
}

/// Open the app in the session and wait until it is ready for searches.
async fn open_app(
    session: &mut Session,
    settings: &LeaderboardSettings,
    wait: Duration,
) -> Result<(), Failure> {
    let driver = &session.driver;
    // A new document, so the app starts afresh even when only its hash would differ.
    driver
        .goto("about:blank")
        .await
        .map_err(|e| session_failure("clearing the page", e))?;
    let in_frame = !settings.iframe_selector.is_empty();
    let url = if in_frame || settings.app_params.is_empty() {
        settings.page_url.clone()
    } else {
        format!("{}#/?{}", settings.page_url, settings.app_params)
    };
    driver
        .goto(&url)
        .await
        .map_err(|e| session_failure("opening the page", e))?;
    if in_frame {
        let frame = driver
            .query(By::Css(settings.iframe_selector.clone()))
            .wait(wait, POLL)
            .first()
            .await
            .map_err(|e| match e.as_inner() {
                WebDriverErrorInner::NoSuchElement(_) => Failure::Page(format!(
                    "frame `{}` did not appear within {wait:?}",
                    settings.iframe_selector
                )),
                _ => session_failure("waiting for the frame", e),
            })?;
        frame
            .enter_frame()
            .await
            .map_err(|e| session_failure("entering the frame", e))?;
        if !settings.app_params.is_empty() {
            // No search is shown yet, so the app takes this first change of its hash.
            driver
                .execute(
                    "location.hash = '#/?' + arguments[0];",
                    vec![serde_json::json!(settings.app_params)],
                )
                .await
                .map_err(|e| session_failure("setting the app's state", e))?;
        }
    }
    wait_for(driver, settings, "the app was not ready", wait, ready).await?;
    session.app_ready = true;
    Ok(())
}

/// Look a batch up; the answers are in the batch's order. Rows of the table that name
/// no model by its id are returned apart, set aside (by the app's rank).
pub(super) async fn look_up_batch(
    session: &mut Session,
    settings: &LeaderboardSettings,
    models: &[ModelId],
) -> Result<(Vec<(ModelId, Lookup)>, Vec<Quarantined>), Failure> {
    let wait = Duration::from_secs_f64(settings.page_timeout_secs);
    if !session.app_ready {
        open_app(session, settings, wait).await?;
    }
    // Until it works again, the next batch opens the app afresh.
    session.app_ready = false;
    let driver = &session.driver;
    let search = batch_search(models);
    let typed = driver
        .execute(
            TYPE_SEARCH,
            vec![
                serde_json::json!(settings.search_input_selector),
                serde_json::json!(search),
            ],
        )
        .await
        .map_err(|e| session_failure("typing into the search box", e))?;
    if !typed.convert::<bool>().unwrap_or(false) {
        return Err(Failure::Page(format!(
            "no search box `{}` on the page",
            settings.search_input_selector
        )));
    }
    let applied = |s: &Screen| ready(s) && s.applied.as_deref() == Some(search.as_str());
    let screen = wait_for(
        driver,
        settings,
        "the app did not apply the search",
        wait,
        applied,
    )
    .await?;
    let (rows, refused) = if screen.no_results && screen.table.is_none() {
        (Vec::new(), Vec::new())
    } else {
        read_all_rows(driver, settings, screen, wait).await?
    };
    session.app_ready = true;
    let source = format!("{} (search `{search}`)", settings.page_url);
    let quarantined = refused
        .iter()
        .map(|(rank, fault)| fault.quarantined(Stage::Scores, &source, *rank))
        .collect();
    Ok((assign(models, rows), quarantined))
}

/// Every row of the table, scrolling the virtualised body from top to bottom; and the
/// rows refused, by rank.
async fn read_all_rows(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    first: Screen,
    wait: Duration,
) -> Result<(Vec<ScoreRow>, Vec<(u64, RecordFault)>), Failure> {
    let expected = first.shown();
    let deadline = tokio::time::Instant::now() + wait;
    let mut screen = first;
    let mut rows: BTreeMap<String, ScoreRow> = BTreeMap::new();
    let mut refused: BTreeMap<u64, RecordFault> = BTreeMap::new();
    if screen.scroll_top > 0.0 {
        screen = scroll_to(driver, settings, 0.0).await?;
    }
    loop {
        let html = screen.table.as_deref().unwrap_or_default();
        let parsed = parse_table(html, &settings.row_link_selector).map_err(Failure::Page)?;
        refused.extend(parsed.refused);
        for read in parsed.rows {
            let key = match read.rank {
                Some(rank) => format!("{rank:012}"),
                None => format!("{:?}", read.row),
            };
            rows.insert(key, read.row);
        }
        let complete = expected.is_none_or(|n| (rows.len() + refused.len()) as u64 >= n);
        if screen.at_bottom() && complete {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Page(format!(
                "read {} of {} row(s) of the table within {wait:?}",
                rows.len(),
                expected.map_or("?".into(), |n| n.to_string())
            )));
        }
        let next = if screen.at_bottom() {
            // At the end but short of the count: the last rows were not drawn yet.
            tokio::time::sleep(POLL).await;
            screen.scroll_top
        } else {
            screen.scroll_top + (screen.client_height - 60.0).max(20.0)
        };
        screen = scroll_to(driver, settings, next).await?;
    }
    Ok((rows.into_values().collect(), refused.into_iter().collect()))
}

async fn scroll_to(
    driver: &WebDriver,
    settings: &LeaderboardSettings,
    top: f64,
) -> Result<Screen, Failure> {
    driver
        .execute_async(
            SCROLL_TO,
            vec![
                serde_json::json!(settings.table_selector),
                serde_json::json!(top),
            ],
        )
        .await
        .map_err(|e| session_failure("scrolling the table", e))?;
    read_screen(driver, settings).await
}

/// Each model's rows: those whose name is its id (the Hub's ids are case-insensitive).
fn assign(models: &[ModelId], rows: Vec<ScoreRow>) -> Vec<(ModelId, Lookup)> {
    models
        .iter()
        .map(|model| {
            let own: Vec<ScoreRow> = rows
                .iter()
                .filter(|r| model.same_model(&r.name))
                .cloned()
                .collect();
            (model.clone(), classify(model, own))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_anchored_escaped_alternatives() {
        let models = [
            ModelId::parse("Qwen/Qwen2.5-7B-Instruct").unwrap(),
            ModelId::parse("a/b+c(1)").unwrap(),
        ];
        assert_eq!(
            batch_search(&models),
            r"^Qwen/Qwen2\.5-7B-Instruct$;^a/b\+c\(1\)$"
        );
    }

    #[test]
    fn the_apps_count_is_read() {
        let screen = |count: &str| Screen {
            input: true,
            skeletons: 0,
            error: None,
            no_results: false,
            applied: None,
            count: Some(count.into()),
            table: None,
            scroll_top: 0.0,
            client_height: 0.0,
            scroll_height: 0.0,
        };
        assert_eq!(screen("12\n/\n4576").shown(), Some(12));
        assert_eq!(screen("6\n+1\n/\n4576").shown(), Some(7));
        assert_eq!(screen("Advanced Filters").shown(), None);
    }
}
