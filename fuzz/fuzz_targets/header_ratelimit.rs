//! A `RateLimit` value, and the pause the client makes of a spent window.
#![no_main]

use std::time::{Duration, Instant};

use hfharvest::http::parse_rate_limit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(limit) = parse_rate_limit(value) {
        let capped = limit.reset.min(Duration::from_secs(86_400));
        let _ = Instant::now()
            .checked_add(capped)
            .expect("a capped wait fits");
    }
});
