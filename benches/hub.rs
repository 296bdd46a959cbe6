//! Hub metadata benchmark (`cargo bench --bench hub`). Prints figures; asserts nothing.
//!
//! 1. N = 1,000 and 10,000 models from the fake Hub with 50 ms latency per request:
//!    ours (one `expand[]` list request per 1,000 models) against the original tool's
//!    pattern (the list, then one `/api/models/{id}` request per model, in turn), with
//!    the floor of pages × RTT.
//! 2. Peak RSS of the binary streaming N = 300,000 generated models to CSV.
//!
//! `HUB_BENCH_SIZES=1000` limits the sizes; `HUB_BENCH_ORIGINAL_MAX=1000` skips the
//! slow original pattern above that size; `HUB_BENCH_RSS_MODELS` sets the RSS run's N.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use fakehf::{FakeConfig, FakeHf};
use hfharvest::http::HttpSettings;
use hfharvest::hub::{DetailMode, HubClient, HubSettings};
use hfharvest::models::Harvested;

const LATENCY: Duration = Duration::from_millis(50);
const PAGE: u64 = 1000;

struct Figures {
    requests: u64,
    seconds: f64,
    models: u64,
}

async fn harvest(fake: &FakeHf, n: u64, detail: DetailMode, concurrency: usize) -> Figures {
    let settings = HubSettings {
        endpoint: fake.url(),
        limit: n,
        page_size: PAGE,
        detail,
        detail_concurrency: concurrency,
        ..HubSettings::default()
    };
    let client = HubClient::new(&settings, &HttpSettings::default(), None).expect("client");
    let before = fake.requests().total();
    let started = Instant::now();
    let mut models = 0;
    hfharvest::models::harvest(&client, n, |harvested| {
        if matches!(harvested, Harvested::Model(..)) {
            models += 1;
        }
        Ok(())
    })
    .await
    .expect("harvest");
    Figures {
        requests: fake.requests().total() - before,
        seconds: started.elapsed().as_secs_f64(),
        models,
    }
}

fn env_list(key: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(key)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sizes = env_list("HUB_BENCH_SIZES", &[1000, 10_000]);
    let original_max = env_list("HUB_BENCH_ORIGINAL_MAX", &[u64::MAX])[0];
    runtime.block_on(async {
        let biggest = *sizes.iter().max().unwrap_or(&1000) as usize;
        let fake = FakeHf::start(FakeConfig {
            models: biggest,
            latency: LATENCY,
            odd_models: false,
            ..FakeConfig::default()
        })
        .await
        .expect("fake Hub");
        // Unmeasured: fills the fake's render cache, so its own CPU time stays out of the figures.
        harvest(&fake, biggest as u64, DetailMode::Auto, 8).await;
        println!(
            "hub metadata, fake Hub with {} ms latency per request",
            LATENCY.as_millis()
        );
        println!(
            "{:>7} {:<22} {:>8} {:>9} {:>9} {:>11}",
            "N", "pattern", "requests", "wall s", "floor s", "wall/floor"
        );
        for &n in &sizes {
            let pages = n.div_ceil(PAGE);
            let floor = pages as f64 * LATENCY.as_secs_f64();
            let ours = harvest(&fake, n, DetailMode::Auto, 8).await;
            assert_eq!(ours.models, n);
            println!(
                "{n:>7} {:<22} {:>8} {:>9.2} {floor:>9.2} {:>11.2}",
                "hfharvest (expand[])",
                ours.requests,
                ours.seconds,
                ours.seconds / floor
            );
            if n > original_max {
                println!(
                    "{n:>7} {:<22} skipped (HUB_BENCH_ORIGINAL_MAX)",
                    "original (list + 1/model)"
                );
                continue;
            }
            let original = harvest(&fake, n, DetailMode::Always, 1).await;
            println!(
                "{n:>7} {:<22} {:>8} {:>9.2} {floor:>9.2} {:>11.2}",
                "original (list + 1/model)",
                original.requests,
                original.seconds,
                original.seconds / floor
            );
            println!(
                "{n:>7} speed-up: {:.1}x, requests {:.0}x fewer",
                original.seconds / ours.seconds,
                original.requests as f64 / ours.requests as f64
            );
        }
    });
    peak_rss(env_list("HUB_BENCH_RSS_MODELS", &[300_000])[0]);
}

/// Run the release binary against an out-of-process fake and read its peak RSS.
// The hfharvest child is reaped by `wait4`, which also gives its peak RSS.
#[allow(clippy::zombie_processes)]
fn peak_rss(n: u64) {
    let (mut fake, url) =
        support::start_fake(&["--models".into(), n.to_string(), "--no-odd-models".into()]);
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_hfharvest"))
        .args([
            "models",
            "--limit",
            &n.to_string(),
            "--run-id",
            "rss",
            "--out",
        ])
        .arg(out.path())
        .env("HF_ENDPOINT", &url)
        .env("RUST_LOG", "warn")
        .env_remove("HF_TOKEN")
        .spawn()
        .expect("hfharvest");
    let (status, max_rss_kib) = support::wait_with_rusage(child.id() as libc::pid_t);
    let _ = fake.kill();
    let _ = fake.wait();
    let csv = std::fs::read_to_string(out.path().join("runs/rss/models.csv")).unwrap_or_default();
    println!(
        "\npeak RSS streaming {n} models to CSV: {:.1} MiB (exit {status}, {} rows, {:.1} s)",
        max_rss_kib as f64 / 1024.0,
        csv.lines().count().saturating_sub(1),
        started.elapsed().as_secs_f64()
    );
}
