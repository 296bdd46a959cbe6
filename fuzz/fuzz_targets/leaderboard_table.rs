//! The leaderboard page's HTML, read for its table by header text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::leaderboard_table(data));
