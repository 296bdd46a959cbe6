//! The Hub's evaluation results against the fake Hub, whose newest models (released
//! after the leaderboard was retired, invented in its catalogue) have only those: the
//! coverage they add, the requests they cost, the faults they carry, and a kill -9 in
//! the middle of the stage.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::*;

async fn start_fake() -> FakeHf {
    FakeHf::start(FakeConfig {
        models: 1200,
        // One in three of the top 510 is newer than the leaderboard.
        new_models: 170,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn cli(fake: &FakeHf) -> Cli {
    Cli::new(fake)
        .leaderboard_on(fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets")
}

fn quality(cli: &Cli, run: &str) -> serde_json::Value {
    let path = cli.out().join("runs").join(run).join("quality.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hubs_results_cover_the_models_the_leaderboard_never_saw() {
    let fake = start_fake().await;
    let cli = cli(&fake);
    // The leaderboard alone.
    cli.clone_env()
        .env("HFHARVEST__EVALS__ENABLED", "false")
        .run(&["run", "--limit", "500", "--run-id", "lb"])
        .await
        .assert_ok();
    let lb_only = quality(&cli, "lb");
    assert!(!cli.out().join("runs/lb/evals.csv").exists());
    let before = (
        fake.requests().list(),
        fake.requests().datasets(),
        fake.requests().detail(),
    );
    cli.run(&["run", "--limit", "500", "--run-id", "both"])
        .await
        .assert_ok();
    let both = quality(&cli, "both");
    let list_pages = fake.requests().list() - before.0;
    let dataset_requests = fake.requests().datasets() - before.1;
    let detail_requests = fake.requests().detail() - before.2;

    let lb_scored = lb_only["score_coverage"]["leaderboard"].as_u64().unwrap();
    let c = &both["score_coverage"];
    let any = c["models"].as_u64().unwrap() - c["none"].as_u64().unwrap();
    println!(
        "top 500: scored by the leaderboard alone {lb_scored}; with the Hub's results {any} \
         (hub only {}, both {}); requests: {list_pages} list page(s), {dataset_requests} \
         benchmark list and leaderboards, {detail_requests} per model",
        c["hub_only"], c["both"]
    );
    assert_eq!(c["models"], 500);
    assert_eq!(
        c["leaderboard"].as_u64().unwrap(),
        lb_scored,
        "the same leaderboard"
    );
    assert!(
        c["hub_only"].as_u64().unwrap() >= 150,
        "the newest models: {c}"
    );
    assert!(any >= lb_scored + 150, "{lb_scored} -> {any}");
    // The list pages the models stage needs anyway (500 ≤ 1000 a page; a second when
    // duplicates leave the first short), the official benchmarks (1 + 7), and no
    // per-model asking.
    assert!(list_pages <= 2, "{list_pages}");
    assert_eq!(dataset_requests, 8);
    assert!(
        detail_requests <= 1,
        "{detail_requests}: only the sparse list item's"
    );

    // evals.csv: one row per model × benchmark × source, every provenance column.
    let evals = read_csv(&cli.out().join("runs/both/evals.csv"));
    let mut sources: HashMap<String, usize> = HashMap::new();
    for row in &evals {
        *sources.entry(row["source"].clone()).or_default() += 1;
        for column in [
            "model_id",
            "benchmark",
            "value",
            "original_value",
            "original_scale",
            "scale_declared",
            "verified",
            "source",
            "url",
        ] {
            assert!(!row[column].is_empty(), "{column} in {row:?}");
        }
        // One scale: every value on 0-100, traceable to the value the source gave.
        let value: f64 = row["value"].parse().unwrap();
        let original: f64 = row["original_value"].parse().unwrap();
        assert!((0.0..=100.0).contains(&value), "{row:?}");
        let times = match row["original_scale"].as_str() {
            "0-1" => 100.0,
            "0-100" => 1.0,
            other => panic!("scale {other} in {row:?}"),
        };
        assert!((original * times - value).abs() < 1e-6, "{row:?}");
    }
    assert!(
        evals.iter().any(|r| r["original_scale"] == "0-1"),
        "the fake's 0-1 Hub values are rescaled"
    );
    for source in ["leaderboard-v2", "hub-eval-results", "model-card"] {
        assert!(
            sources.get(source).copied().unwrap_or(0) > 0,
            "{source}: {sources:?}"
        );
    }
    let mut keys = std::collections::HashSet::new();
    for row in &evals {
        let key = (
            &row["model_id"],
            &row["benchmark"],
            &row["task"],
            &row["source"],
        );
        assert!(
            keys.insert(key),
            "one row per model × benchmark × source: {key:?}"
        );
    }
    assert!(
        evals.iter().any(|r| !r["pull_request"].is_empty()),
        "community results kept"
    );
    assert!(cli.out().join("runs/both/evals.parquet").is_file());

    // dataset.csv: the v2 columns, and the run's most common Hub benchmarks with sources.
    let dataset = read_csv(&cli.out().join("runs/both/dataset.csv"));
    let columns = both["hub_benchmark_columns"].as_array().unwrap();
    assert_eq!(columns.len(), 5, "{columns:?}");
    for col in columns {
        let name = col["column"].as_str().unwrap();
        let with_value: Vec<_> = dataset.iter().filter(|r| !r[name].is_empty()).collect();
        assert_eq!(
            with_value.len() as u64,
            col["models"].as_u64().unwrap(),
            "{name}"
        );
        assert!(with_value.iter().all(|r| r[&format!("{name}_source")]
            .starts_with("hub-eval-results")
            || r[&format!("{name}_source")].starts_with("model-card")));
    }
    assert!(
        dataset.iter().any(|r| !r["average"].is_empty()),
        "v2 columns kept"
    );

    // Malformed or partial results are skipped with a reason, and never fail the run.
    let skipped = both["skipped_evals"].as_array().unwrap();
    let reasons: Vec<&str> = skipped
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    for expected in [
        "no `data`",
        "is not a number",
        "no benchmark dataset id",
        "not found (HTTP 404)",
        "has no leaderboard (HTTP 400)",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(expected)),
            "{expected}: {reasons:?}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.out().join("runs/both/manifest.json")).unwrap())
            .unwrap();
    let stages: Vec<&str> = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["models", "scores", "evals", "prepare", "report"]);
    let report = std::fs::read_to_string(cli.out().join("runs/both/report.html")).unwrap();
    assert!(report.contains("Scores by source") && report.contains("Hub only"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_the_evals_stage_then_a_resume_gives_the_same_evals_csv() {
    let fake = start_fake().await;
    let cli = cli(&fake);
    let args = |run: &'static str| vec!["run", "--limit", "300", "--run-id", run];
    cli.run(&args("whole")).await.assert_ok();
    let reference = std::fs::read(cli.out().join("runs/whole/evals.csv")).unwrap();

    // One checkpoint at a time, one answer per object (the list page's answers would
    // otherwise be one object), so the stage is still going when it is killed.
    let slow = cli
        .clone_env()
        .env("HFHARVEST__OUTPUT__CONCURRENCY", "1")
        .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    let checkpoints = cli.out().join("runs/crash/checkpoints/evals");
    let mut child = {
        let mut cmd = cli.command(&args("crash"));
        cmd.env("HFHARVEST__OUTPUT__CONCURRENCY", "1")
            .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().unwrap()
    };
    wait_for("20 evals checkpoints", Duration::from_secs(90), || {
        count_json_files(&checkpoints) >= 20
    })
    .await;
    kill_job_tree(&mut child).await;
    let kept = count_json_files(&checkpoints);
    assert!(
        kept < 300 && !cli.out().join("runs/crash/evals.csv").exists(),
        "killed mid-stage ({kept} checkpoints)"
    );
    slow.run(&args("crash")).await.assert_ok();
    let resumed = std::fs::read(cli.out().join("runs/crash/evals.csv")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&resumed),
        String::from_utf8_lossy(&reference)
    );
    assert_eq!(
        count_json_files(&checkpoints),
        300,
        "one checkpoint per model"
    );
}
