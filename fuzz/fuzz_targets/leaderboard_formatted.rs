//! The leaderboard app's JSON API: a whole body (an array) or one row.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::leaderboard_formatted(data));
