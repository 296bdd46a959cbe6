//! A `RateLimit` value, and the pause the client makes of a spent window.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::header_ratelimit(data));
