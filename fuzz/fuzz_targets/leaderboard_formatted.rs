//! The leaderboard app's JSON API: a whole body (an array) or one row.
#![no_main]

use hfharvest::leaderboard::{parse_formatted, ScoreRow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(page) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let rows = match parse_formatted(&page) {
        Ok(parsed) => parsed.rows,
        Err(_) => ScoreRow::from_formatted(&page).into_iter().collect(),
    };
    hfharvest_fuzz::score_rows(rows);
});
