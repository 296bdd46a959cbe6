//! A datasets-server `/rows` page of `open-llm-leaderboard/contents`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::leaderboard_rows(data));
