//! The `contents` dataset's parquet file, read as the default leaderboard source reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::leaderboard_parquet(data));
