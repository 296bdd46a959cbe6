//! A `Retry-After` value, and the wait the client makes of it (capped as
//! `http.max_server_wait_secs` caps it, from a clock anywhere in its range).
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use hfharvest::http::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&clock, text)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(text) else {
        return;
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(clock) << 27);
    if let Some(wait) = parse_retry_after(value, now) {
        let capped = wait.min(Duration::from_secs(86_400));
        let _ = Instant::now()
            .checked_add(capped)
            .expect("a capped wait fits");
        let _ = Duration::from_secs(1).saturating_add(wait);
    }
});
