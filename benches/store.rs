//! Checkpoint writes at scale: a whole `run` of N models (default 10,000) with the
//! browserless datasets source, into a local folder and into a real S3-compatible
//! server (s3s-fs on 127.0.0.1), side by side in one run, with checkpoints written one
//! at a time (`output.concurrency = 1`, the old way) and concurrently (the default).
//!
//! `cargo bench --bench store` (STORE_BENCH_MODELS=N to change N). Prints each run's
//! wall time and its scores stage's time, and the S3 / local ratios. Needs s3s-fs
//! (scripts/install-test-deps).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use fakehf::{FakeConfig, FakeHf};

// The tests' S3 server (s3s-fs on 127.0.0.1), shared rather than written again.
#[path = "../tests/support/mod.rs"]
mod support;

use support::s3::{S3Server, BUCKET, KEY_ID, SECRET};

struct Figures {
    wall: f64,
    scores: f64,
}

/// One `run` into `out`; `manifest` is where that run's manifest lands on disk.
fn run(
    fake: &FakeHf,
    out: &str,
    manifest: &Path,
    models: usize,
    concurrency: usize,
    s3_url: &str,
) -> Figures {
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_hfharvest"))
        .current_dir(work.path())
        .args(["run", "--run-id", "bench", "--out", out])
        .args([
            "--limit",
            &models.to_string(),
            "--leaderboard-source",
            "datasets",
        ])
        .env("HF_ENDPOINT", fake.url())
        .env(
            "HFHARVEST__LEADERBOARD__FORMATTED_URL",
            fake.formatted_url(),
        )
        .env("HFHARVEST__OUTPUT__CONCURRENCY", concurrency.to_string())
        .env("HFHARVEST__S3__PATH_STYLE", "true")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", s3_url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("hfharvest runs");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(manifest).expect("the run's manifest")).unwrap();
    let scores = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "scores")
        .and_then(|s| s["seconds"].as_f64())
        .unwrap();
    Figures { wall, scores }
}

#[tokio::main]
async fn main() {
    let models: usize = std::env::var("STORE_BENCH_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let fake = FakeHf::start(FakeConfig {
        models,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let server = S3Server::start().await;
    let s3_url = server.url();

    println!("store bench: `hfharvest run` of {models} models, datasets source, one run each");
    println!(
        "{:<34} {:>9} {:>12}",
        "output, checkpoint writes", "wall s", "scores s"
    );
    let mut rows = Vec::new();
    let local_root = tempfile::tempdir().unwrap();
    for concurrency in [1, 32] {
        let folder = local_root.path().join(format!("c{concurrency}"));
        let local = run(
            &fake,
            folder.to_str().unwrap(),
            &folder.join("runs/bench/manifest.json"),
            models,
            concurrency,
            &s3_url,
        );
        let prefix = format!("c{concurrency}");
        let s3 = run(
            &fake,
            &format!("s3://{BUCKET}/{prefix}"),
            &server.dir(&prefix).join("runs/bench/manifest.json"),
            models,
            concurrency,
            &s3_url,
        );
        for (name, f) in [("local folder", &local), ("s3s-fs", &s3)] {
            println!(
                "{:<34} {:>9.2} {:>12.2}",
                format!("{name}, {concurrency} at a time"),
                f.wall,
                f.scores
            );
        }
        rows.push((concurrency, local, s3));
    }
    for (concurrency, local, s3) in &rows {
        println!(
            "{concurrency:>2} at a time: S3 / local = {:.2}x wall, {:.2}x scores stage",
            s3.wall / local.wall,
            s3.scores / local.scores
        );
    }
    let (_, _, s3_one) = &rows[0];
    let (_, _, s3_many) = &rows[1];
    println!(
        "S3 scores stage, 32 at a time vs 1 at a time: {:.1}x faster",
        s3_one.scores / s3_many.scores
    );
}
