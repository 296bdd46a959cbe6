//! The leaderboard app, as its real front end behaves (see `app.js`, which cites the
//! real source file behind each behaviour), and the Space page that wraps it.

use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::response::Html;
use serde_json::json;

use super::{Leaderboard, PageMode};

const APP_JS: &str = include_str!("app.js");

/// The app's origin serves the single-page app at `/`; its state lives after `#`
/// (App.js: a HashRouter), so one HTML page serves every URL of the app.
pub(super) async fn app_page(AxumState(board): AxumState<Arc<Leaderboard>>) -> Html<String> {
    let renamed = match board.page_mode() {
        PageMode::RenamedHeader(header) => Some(header),
        _ => None,
    };
    let config = json!({
        "delayMs": board.render_delay().as_millis() as u64,
        "renamedHeader": renamed,
    });
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Open LLM Leaderboard</title></head><body>\
         <header><h1>Open LLM Leaderboard</h1></header><main id=\"root\"></main>\
         <script>window.FAKE_APP_CONFIG = {config};</script>\
         <script>{APP_JS}</script></body></html>"
    ))
}

/// `huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard` wraps the app in an
/// iframe whose source is the app's own origin (realdata/README.md, "The leaderboard
/// web page"); here that origin is this server's root.
pub(super) async fn space_page() -> Html<String> {
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <title>Open LLM Leaderboard - a Hugging Face Space</title></head>\
         <body><main><h1>Open LLM Leaderboard</h1>\
         <iframe src=\"/#/?precision=&amp;types=\" title=\"open_llm_leaderboard\" width=\"100%\" height=\"900\"></iframe>\
         </main></body></html>"
            .to_owned(),
    )
}
