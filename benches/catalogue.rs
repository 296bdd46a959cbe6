//! The whole catalogue, every night (`cargo bench --bench catalogue`). Prints figures;
//! asserts nothing.
//!
//! The release binary's whole run (`hfharvest run`, datasets source, every score source
//! on, local output) against the out-of-process fake Hub with pages of 1,000 and 50 ms
//! on every response, at N = 10,000, 100,000 and 500,000, side by side:
//! - wall time against the floor, the Hub's list pages (the models stage's requests, as
//!   the manifest counts them) × the latency, and the ratio;
//! - peak RSS of the job (from `wait4`);
//! - the objects the night wrote (every file under the output), against N / 50;
//! - the size of `report.html`, against 5 MB;
//! - each stage's seconds, from the manifest, to show where the time goes.
//!
//! Before each timed night one untimed `hfharvest models` reads every list page, so the
//! fake has rendered its items (its own CPU, not a round trip) when the night starts.
//!
//! `CATALOGUE_BENCH_SIZES=10000,100000` limits the sizes.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const LATENCY_MS: u64 = 50;
const PAGE: u64 = 1000;

struct Night {
    n: u64,
    seconds: f64,
    floor: f64,
    rss_mib: f64,
    objects: u64,
    report_bytes: u64,
    rows: u64,
    stages: Vec<(String, f64)>,
    exit: i32,
}

fn sizes() -> Vec<u64> {
    std::env::var("CATALOGUE_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 500_000])
}

fn files_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                1
            }
        })
        .sum()
}

// The children are reaped by `wait4` (the job) and `wait` (the fake).
#[allow(clippy::zombie_processes)]
fn night(n: u64) -> Night {
    let (mut fake, url) = support::start_fake(&[
        "--models".into(),
        n.to_string(),
        "--latency-ms".into(),
        LATENCY_MS.to_string(),
    ]);
    let job = |command: &str, out: &Path| {
        let mut job = Command::new(env!("CARGO_BIN_EXE_hfharvest"));
        job.args([
            command,
            "--limit",
            &n.to_string(),
            "--run-id",
            "bench",
            "-q",
        ])
        .arg("--out")
        .arg(out)
        .env("HF_ENDPOINT", &url)
        .env("HFHARVEST__HUB__PAGE_SIZE", PAGE.to_string())
        .env(
            "HFHARVEST__LEADERBOARD__FORMATTED_URL",
            format!("{url}/api/leaderboard/formatted"),
        )
        .env("HFHARVEST__LEADERBOARD__DATASETS_SERVER_URL", &url)
        .env("RUST_LOG", "warn")
        .env_remove("HF_TOKEN")
        .stdout(Stdio::null());
        job
    };
    // The fake renders each list item the first time a page asks for it (its own CPU,
    // which the Hub's servers spend, not this machine's): one untimed models stage
    // first, so the timed night's pages cost the fake what a cached page costs.
    let warm = tempfile::tempdir().unwrap();
    let warmed = job("models", warm.path())
        .status()
        .expect("hfharvest models");
    assert!(
        warmed.success(),
        "the warm-up models stage failed: {warmed}"
    );
    drop(warm);
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = job("run", out.path())
        .args(["--leaderboard-source", "datasets"])
        .spawn()
        .expect("hfharvest");
    let (exit, max_rss_kib) = support::wait_with_rusage(child.id() as libc::pid_t);
    let seconds = started.elapsed().as_secs_f64();
    let _ = fake.kill();
    let _ = fake.wait();
    let run = out.path().join("runs/bench");
    let manifest: serde_json::Value = std::fs::read(run.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let stages = manifest["stages"].as_array().cloned().unwrap_or_default();
    let pages: u64 = stages
        .iter()
        .filter(|s| s["name"] == "models")
        .flat_map(|s| s["requests"].as_object().cloned().unwrap_or_default())
        .filter_map(|(_, v)| v.as_u64())
        .sum();
    let rows = std::fs::read_to_string(run.join("dataset.csv"))
        .map(|csv| csv.lines().count().saturating_sub(1) as u64)
        .unwrap_or(0);
    Night {
        n,
        seconds,
        floor: pages as f64 * LATENCY_MS as f64 / 1000.0,
        rss_mib: max_rss_kib as f64 / 1024.0,
        objects: files_under(out.path()),
        report_bytes: std::fs::metadata(run.join("report.html")).map_or(0, |m| m.len()),
        rows,
        stages: stages
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap_or("?").to_owned(),
                    s["seconds"].as_f64().unwrap_or(0.0),
                )
            })
            .collect(),
        exit,
    }
}

fn main() {
    let nights: Vec<Night> = sizes().into_iter().map(night).collect();
    println!(
        "\nwhole run, datasets source, pages of {PAGE}, {LATENCY_MS} ms a response (targets: \
         ≤ 1.5× floor, ≤ 1 GiB at 500,000, ≤ N/50 objects, ≤ 5 MB report)"
    );
    println!(
        "{:>8} {:>5} {:>8} {:>8} {:>6} {:>9} {:>8} {:>7} {:>10} {:>8}",
        "N", "exit", "rows", "wall s", "floor", "ratio", "RSS MiB", "objects", "N/50", "report MB"
    );
    for night in &nights {
        println!(
            "{:>8} {:>5} {:>8} {:>8.1} {:>6.1} {:>8.2}× {:>8.0} {:>7} {:>10} {:>8.2}",
            night.n,
            night.exit,
            night.rows,
            night.seconds,
            night.floor,
            night.seconds / night.floor.max(f64::MIN_POSITIVE),
            night.rss_mib,
            night.objects,
            night.n / 50,
            night.report_bytes as f64 / 1e6,
        );
    }
    println!("\nseconds by stage");
    for night in &nights {
        let stages: Vec<String> = night
            .stages
            .iter()
            .map(|(name, s)| format!("{name} {s:.1}"))
            .collect();
        let staged: f64 = night.stages.iter().map(|(_, s)| s).sum();
        println!(
            "{:>8}  {}, publish and start-up {:.1}",
            night.n,
            stages.join(", "),
            night.seconds - staged
        );
    }
}
