//! The leaderboard page's HTML, read for its table by header text.
#![no_main]

use hfharvest::leaderboard::parse_table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = parse_table(html, "table") {
        hfharvest_fuzz::score_rows(parsed.rows);
    }
});
