//! Leaderboard benchmark (`cargo bench --bench leaderboard`). Prints figures; asserts nothing.
//!
//! Models per minute on the replica page in real headless Chromium for (a) a new browser
//! session per model, as the original tool did, (b) one reused session, (c) K = 2 and 4
//! sessions; and the datasets source for 100 models (requests and wall time) over
//! both HTTP APIs. `LEADERBOARD_BENCH_MODELS` sets the browser runs' model count.

use std::process::Command;
use std::time::{Duration, Instant};

use fakehf::{FakeConfig, FakeHf};

struct Run {
    seconds: f64,
    requests: u64,
}

fn scores(fake: &FakeHf, ids: &[String], source: &str, extra: &[(&str, &str)]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let before = fake.leaderboard_data_requests();
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hfharvest"));
    cmd.args([
        "scores",
        "--run-id",
        "bench",
        "--leaderboard-source",
        source,
        "--out",
    ])
    .arg(out.path())
    .arg("--models")
    .args(ids)
    .env("RUST_LOG", "warn")
    .env("HFHARVEST__LEADERBOARD__PAGE_URL", fake.page_url())
    .env(
        "HFHARVEST__LEADERBOARD__FORMATTED_URL",
        fake.formatted_url(),
    )
    .env("HFHARVEST__LEADERBOARD__DATASETS_SERVER_URL", fake.url());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let status = cmd.status().expect("hfharvest runs");
    assert!(status.success(), "scores run failed");
    let csv = std::fs::read_to_string(out.path().join("runs/bench/leaderboard.csv")).unwrap();
    assert!(csv.lines().count() > ids.len() / 2);
    Run {
        seconds: started.elapsed().as_secs_f64(),
        requests: fake.leaderboard_data_requests() - before,
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime
        .block_on(FakeHf::start(FakeConfig {
            models: 200,
            render_delay: Duration::from_millis(150),
            ..FakeConfig::default()
        }))
        .unwrap();
    let _guard = runtime.enter();
    let n: usize = std::env::var("LEADERBOARD_BENCH_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let ids: Vec<String> = (0..n).map(|i| fake.catalogue().id(i)).collect();

    println!("leaderboard, browser source: {n} models, replica page with a 150 ms render delay, headless Chromium");
    println!(
        "{:<36} {:>8} {:>12} {:>8} {:>11}",
        "pattern", "wall s", "models/min", "vs (a)", "page loads"
    );
    let per_model = scores(
        &fake,
        &ids,
        "browser",
        &[("HFHARVEST__LEADERBOARD__REUSE_SESSIONS", "false")],
    );
    let rate = |r: &Run| n as f64 / r.seconds * 60.0;
    let base = rate(&per_model);
    println!(
        "{:<36} {:>8.1} {:>12.1} {:>7.1}x {:>11}",
        "(a) new session per model (original)", per_model.seconds, base, 1.0, per_model.requests
    );
    for (label, k) in [
        ("(b) one reused session", "1"),
        ("(c) K=2 sessions", "2"),
        ("(c) K=4 sessions", "4"),
    ] {
        let r = scores(
            &fake,
            &ids,
            "browser",
            &[("HFHARVEST__LEADERBOARD__BROWSER_SESSIONS", k)],
        );
        println!(
            "{label:<36} {:>8.1} {:>12.1} {:>7.1}x {:>11}",
            r.seconds,
            rate(&r),
            rate(&r) / base,
            r.requests
        );
    }

    let hundred: Vec<String> = (0..100).map(|i| fake.catalogue().id(i)).collect();
    println!("\nleaderboard, datasets source: 100 models");
    for api in ["formatted", "rows"] {
        let r = scores(
            &fake,
            &hundred,
            "datasets",
            &[("HFHARVEST__LEADERBOARD__DATASETS_API", api)],
        );
        println!(
            "{api:<10} {:>4} request(s) {:>8.2} s wall",
            r.requests, r.seconds
        );
    }
}
