//! The `contents` dataset's parquet file, read as the default leaderboard source reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // `parquet_rows` catches a panic inside the parquet reader (some malformed files
        // still panic there) and returns it as the file's error, as the binary's panic
        // hook knows: such a caught panic is not a crash. Any other panic still aborts, as
        // libFuzzer's hook makes it.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !hfharvest::formats::parquet::reading_parquet() {
                abort(info);
            }
        }));
    },
    |data: &[u8]| hfharvest_fuzz::targets::leaderboard_parquet(data)
);
