//! The `contents` dataset's parquet file, read as the default leaderboard source reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // `parquet_rows` catches a panic inside the parquet and arrow crates (some
        // malformed files still panic there) and returns it as the file's error. Such a
        // caught panic is not a crash; any other panic still aborts, as libFuzzer's hook
        // makes it.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_reader = info
                .location()
                .is_some_and(|at| at.file().contains("/arrow-") || at.file().contains("/parquet-"));
            if !in_reader {
                abort(info);
            }
        }));
    },
    |data: &[u8]| hfharvest_fuzz::targets::leaderboard_parquet(data)
);
