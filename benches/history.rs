//! The history's cost and payoff: 30 nights of `hfharvest run` over 10,000 models (the
//! fake Hub moves a night each time, each run under a clock moved to its night with
//! libfaketime) into a local folder, then:
//! - the bytes of `history/` (Parquet), against the same data as CSV (each night's
//!   `models.csv` and `leaderboard.csv`);
//! - DuckDB's time for a query over `history/`, and its time to load the CSVs and run
//!   the same query (benches/history_query.py, duckdb from scripts/test-requirements.txt).
//!
//! `cargo bench --bench history` (HISTORY_BENCH_MODELS, HISTORY_BENCH_NIGHTS to change
//! the 10,000 and 30). Prints each night's time and the figures; needs faketime and
//! python3 with duckdb (scripts/install-test-deps).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fakehf::{FakeConfig, FakeHf};

fn env_or(key: &str, default: u32) -> u32 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Bytes of the files under `dir` whose name passes `keep`.
fn bytes_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> (u64, usize) {
    let mut total = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&path) {
                total.0 += entry.metadata().map(|m| m.len()).unwrap_or(0);
                total.1 += 1;
            }
        }
    }
    total
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[tokio::main]
async fn main() {
    let models = env_or("HISTORY_BENCH_MODELS", 10_000);
    let nights = env_or("HISTORY_BENCH_NIGHTS", 30);
    let fake = FakeHf::start(FakeConfig {
        models: models as usize + 500,
        ..FakeConfig::default()
    })
    .await
    .expect("the fake starts");
    // On tmpfs where there is one: the runs' many checkpoint syncs are not what this
    // measures, and sizes and DuckDB's reads do not depend on the file system.
    let shm = Path::new("/dev/shm");
    let work = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    let out = work.path().join("out");
    let started = Instant::now();
    for night in 1..=nights {
        fake.set_night(night);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
            + chrono::Days::new(u64::from(night - 1));
        let run_started = Instant::now();
        let output = Command::new("faketime")
            .arg("-f")
            .arg(format!("@{date} 02:30:00"))
            .arg(env!("CARGO_BIN_EXE_hfharvest"))
            .current_dir(work.path())
            .args(["run", "--run-id", &format!("night{night:02}")])
            .args([
                "--limit",
                &models.to_string(),
                "--leaderboard-source",
                "datasets",
            ])
            .arg("--out")
            .arg(&out)
            .env("TZ", "UTC")
            .env("HF_ENDPOINT", fake.url())
            .env(
                "HFHARVEST__LEADERBOARD__FORMATTED_URL",
                fake.formatted_url(),
            )
            .env("HFHARVEST__TELEMETRY__LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .output()
            .expect("faketime runs hfharvest");
        assert!(
            output.status.success(),
            "night {night}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!(
            "night {night:>2} ({date}): {:.1} s",
            run_started.elapsed().as_secs_f64()
        );
    }
    println!(
        "{nights} nights of {models} models in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let (parquet, files) = bytes_under(&out.join("history"), &|_| true);
    let (csv, csv_files) = bytes_under(&out.join("runs"), &|p| {
        p.file_name()
            .is_some_and(|n| n == "models.csv" || n == "leaderboard.csv")
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/history_query.py");
    let query = Command::new("python3")
        .arg(script)
        .arg(&out)
        .output()
        .expect("python3 runs the DuckDB queries");
    assert!(
        query.status.success(),
        "{}",
        String::from_utf8_lossy(&query.stderr)
    );
    println!();
    println!("history/ (Parquet): {} in {files} files", mb(parquet));
    println!(
        "the same data as CSV (models.csv + leaderboard.csv): {} in {csv_files} files ({:.1}x)",
        mb(csv),
        csv as f64 / parquet.max(1) as f64
    );
    print!("{}", String::from_utf8_lossy(&query.stdout));
}
