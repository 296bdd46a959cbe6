//! Leaderboard benchmark (`cargo bench --bench leaderboard`). Prints figures; asserts
//! nothing but that each run worked.
//!
//! Models per minute, in real headless Chromium, for the four ways to drive the app:
//! (a) a new browser per model, as the original tool did; (b) one reused session, one
//! model per search; (c) batched searches in one session; (d) batched searches in K=2
//! sessions; with the ratios to (a). Then the floor: the app's own time from a new
//! search to its drawn rows, per batch size. Then the datasets source.
//!
//! By default against the fake app (`fakehf`, which follows the real app's source).
//! `LEADERBOARD_BENCH_PAGE_URL=http://127.0.0.1:8899/` points the browser runs at
//! another copy of the app, such as the real one served by hand (nothing of it is in
//! this repository). `LEADERBOARD_BENCH_MODELS` sets the model count (default 50),
//! `LEADERBOARD_BENCH_BATCH` the batch size (default 25).

use std::process::Command;
use std::time::{Duration, Instant};

use fakehf::{FakeConfig, FakeHf};
use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

struct Run {
    seconds: f64,
    found: usize,
}

fn scores(
    fake: &FakeHf,
    page_url: &str,
    ids: &[String],
    source: &str,
    extra: &[(&str, &str)],
) -> Run {
    let out = tempfile::tempdir().unwrap();
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
    .env("HFHARVEST__LEADERBOARD__PAGE_URL", page_url)
    .env(
        "HFHARVEST__LEADERBOARD__FORMATTED_URL",
        fake.formatted_url(),
    )
    .env("HFHARVEST__LEADERBOARD__DATASETS_SERVER_URL", fake.url());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("hfharvest runs");
    assert!(
        output.status.success(),
        "scores run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = std::fs::read_to_string(out.path().join("runs/bench/leaderboard.csv")).unwrap();
    Run {
        seconds: started.elapsed().as_secs_f64(),
        found: csv.lines().filter(|l| l.contains(",found,")).count(),
    }
}

/// Real model names: every `step`-th row of the real export.
fn real_ids(n: usize) -> Vec<String> {
    let path = fakehf::realdata_dir().join("leaderboard/formatted-2025-03-21.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let names: Vec<String> = reader
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| r.unwrap()["model_name"].clone())
        .collect();
    let step = (names.len() / n).max(1);
    let mut ids: Vec<String> = names.into_iter().step_by(step).take(n).collect();
    ids.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    ids
}

const APPLIED: &str = r#"
const [search] = arguments;
const hash = location.hash || "";
const q = hash.indexOf("?");
const applied = new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "").get("search");
const rows = document.querySelectorAll('a[title$=" on Hugging Face Hub"]').length;
const none = [...document.querySelectorAll("h2")].some((h) => h.textContent.trim() === "No models found");
return applied === search && (rows > 0 || none);
"#;

const TYPE: &str = r#"
const [text] = arguments;
const box = document.querySelector("input.MuiInputBase-input");
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(box, text);
box.dispatchEvent(new Event("input", { bubbles: true }));
"#;

/// The app's own time from typing a search to its rows drawn, per batch size: the
/// floor under any scraper of it.
async fn floor(page_url: &str, ids: &[String]) -> Vec<(usize, f64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut driver_process = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver (scripts/install-test-deps)");
    let profile = tempfile::tempdir().unwrap();
    let mut caps = DesiredCapabilities::chrome();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut driver = None;
    for _ in 0..100 {
        if let Ok(d) = WebDriver::new(&url, caps.clone()).await {
            driver = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let driver = driver.expect("a session");
    driver
        .goto(format!("{page_url}#/?precision=&types="))
        .await
        .unwrap();
    driver
        .query(By::Css("input.MuiInputBase-input"))
        .wait(Duration::from_secs(120), Duration::from_millis(50))
        .first()
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut offset = 0;
    for size in [1usize, 10, 25, 50] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let batch: Vec<String> = ids
                .iter()
                .cycle()
                .skip(offset)
                .take(size)
                .cloned()
                .collect();
            offset += size;
            let search = batch
                .iter()
                .map(|id| {
                    let escaped: String = id
                        .chars()
                        .flat_map(|c| {
                            let escape = ".*+?^${}()|[]\\".contains(c);
                            escape.then_some('\\').into_iter().chain(std::iter::once(c))
                        })
                        .collect();
                    format!("^{escaped}$")
                })
                .collect::<Vec<_>>()
                .join(";");
            let started = Instant::now();
            driver
                .execute(TYPE, vec![serde_json::json!(search)])
                .await
                .unwrap();
            loop {
                let done = driver
                    .execute(APPLIED, vec![serde_json::json!(search)])
                    .await
                    .unwrap();
                if done.convert::<bool>().unwrap_or(false) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            times.push(started.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        out.push((size, times[1]));
    }
    let _ = driver.quit().await;
    let _ = driver_process.kill();
    let _ = driver_process.wait();
    out
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime
        .block_on(FakeHf::start(FakeConfig {
            models: 200,
            render_delay: Duration::from_millis(150),
            formatted_decimals: Some(4),
            ..FakeConfig::default()
        }))
        .unwrap();
    let _guard = runtime.enter();
    let n: usize = std::env::var("LEADERBOARD_BENCH_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let batch = std::env::var("LEADERBOARD_BENCH_BATCH").unwrap_or_else(|_| "25".into());
    let page_url = std::env::var("LEADERBOARD_BENCH_PAGE_URL").unwrap_or_else(|_| fake.page_url());
    let mut ids = real_ids(n);
    // Some the leaderboard does not have, as a real night's top models include.
    for i in 0..n / 10 {
        ids.push(format!("nobody/not-on-the-leaderboard-{i}"));
    }
    let n = ids.len();

    println!(
        "leaderboard, browser source: {n} models ({page_url}), headless Chromium, one run each"
    );
    println!(
        "{:<46} {:>8} {:>12} {:>8} {:>7}",
        "pattern", "wall s", "models/min", "vs (a)", "found"
    );
    let rate = |r: &Run| n as f64 / r.seconds * 60.0;
    let patterns: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "(a) new browser per model (original)",
            vec![("HFHARVEST__LEADERBOARD__REUSE_SESSIONS", "false")],
        ),
        (
            "(b) one reused session, one model a search",
            vec![("HFHARVEST__LEADERBOARD__BATCH_SIZE", "1")],
        ),
        (
            "(c) batched searches, one session",
            vec![("HFHARVEST__LEADERBOARD__BATCH_SIZE", batch.as_str())],
        ),
        (
            "(d) batched searches, K=2 sessions",
            vec![
                ("HFHARVEST__LEADERBOARD__BATCH_SIZE", batch.as_str()),
                ("HFHARVEST__LEADERBOARD__BROWSER_SESSIONS", "2"),
            ],
        ),
    ];
    let mut base = None;
    for (label, extra) in patterns {
        let r = scores(&fake, &page_url, &ids, "browser", &extra);
        let base = *base.get_or_insert(rate(&r));
        println!(
            "{label:<46} {:>8.1} {:>12.1} {:>7.1}x {:>7}",
            r.seconds,
            rate(&r),
            rate(&r) / base,
            r.found
        );
    }

    println!("\nthe app's own time from a new search to its drawn rows (median of 3):");
    for (size, seconds) in runtime.block_on(floor(&page_url, &ids)) {
        println!("  batch of {size:>2}: {seconds:.2} s");
    }

    let hundred: Vec<String> = (0..100).map(|i| fake.catalogue().id(i)).collect();
    println!("\nleaderboard, datasets source: 100 models");
    for api in ["formatted", "rows"] {
        let r = scores(
            &fake,
            &page_url,
            &hundred,
            "datasets",
            &[("HFHARVEST__LEADERBOARD__DATASETS_API", api)],
        );
        println!("{api:<10} {:>8.2} s wall", r.seconds);
    }
}
