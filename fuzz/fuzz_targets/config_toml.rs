//! A config file through the real loader (TOML → layers → Settings → validate); the
//! settings it accepts must give durations and products without panicking.
#![no_main]

use std::time::Duration;

use hfharvest::config::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Settings::from_toml(text, "fuzz.toml") else {
        return;
    };
    let _ = s.digest();
    for secs in [
        s.output.lock_ttl_secs,
        s.http.timeout_secs,
        s.http.connect_timeout_secs,
        s.http.retry_budget_secs,
        s.http.max_server_wait_secs,
        s.leaderboard.webdriver_ready_timeout_secs,
        s.leaderboard.page_timeout_secs + 10.0,
        s.leaderboard.page_timeout_secs * 4.0 + 10.0,
        s.s3.operation_timeout_secs,
        s.s3.connect_timeout_secs,
        s.telemetry.shutdown_timeout_secs,
    ] {
        let _ = Duration::from_secs_f64(secs);
    }
    let ttl = Duration::from_secs_f64(s.output.lock_ttl_secs);
    let _ = std::time::Instant::now() + ttl * 2;
    let _ = chrono::Utc::now() + chrono::TimeDelta::from_std(ttl).expect("a ttl fits");
    let _ = Duration::from_millis(s.http.backoff_max_ms)
        .saturating_add(Duration::from_millis(s.http.backoff_initial_ms));
    assert!((0.0..=1.0).contains(&s.hub.max_invalid_ratio));
});
