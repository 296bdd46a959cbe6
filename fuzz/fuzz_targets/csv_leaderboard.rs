//! `leaderboard.csv` read back, then joined with a models list that names its models.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::csv_leaderboard(data));
