//! A datasets-server `/rows` page of `open-llm-leaderboard/contents`.
#![no_main]

use hfharvest::leaderboard::parse_rows_page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(page) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(page) = parse_rows_page(&page, 1) {
        hfharvest_fuzz::score_rows(page.parsed.rows);
    }
});
