//! The history over a month: 30 nights of `hfharvest run` against the fake Hub (whose
//! downloads move every night) into a real S3 server (s3s-fs), each night under a clock
//! moved to that night with libfaketime, with `keep_runs_days = 7`. Then DuckDB reads
//! `history/` straight from the server and its answers equal the per-run CSVs. On one
//! night the run is killed after its CSVs but before its history file, and rerun.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::NaiveDate;
use support::s3::{S3Server, KEY_ID, SECRET};
use support::*;

const NIGHTS: u32 = 30;
/// The night whose run is killed before its history file is written.
const KILLED: u32 = 12;
const PREFIX: &str = "nightly";

fn night_date(night: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(night - 1))
}

fn run_id(night: u32) -> String {
    format!("night{night:02}")
}

/// The job under a clock that starts at 02:30 UTC on the night, `later` minutes after
/// (libfaketime, from Debian's faketime package); it runs on from there.
fn on_night(cli: &Cli, night: u32, later: u32, extra: &[(&str, &str)]) -> tokio::process::Command {
    let id = run_id(night);
    let out = format!("s3://harvest/{PREFIX}");
    let cmd = cli.command(&["run", "--run-id", &id, "--out", &out, "--limit", "25"]);
    let mut faked = tokio::process::Command::new("faketime");
    faked
        .arg("-f")
        .arg(format!("@{} 02:{:02}:00", night_date(night), 30 + later))
        .arg(cmd.as_std().get_program())
        .args(cmd.as_std().get_args());
    for (key, value) in cmd.as_std().get_envs() {
        match value {
            Some(v) => faked.env(key, v),
            None => faked.env_remove(key),
        };
    }
    for (key, value) in extra {
        faked.env(key, value);
    }
    faked
        .env("TZ", "UTC")
        .current_dir(cli.workdir.path())
        .kill_on_drop(true);
    faked
}

async fn run_night(cli: &Cli, night: u32, later: u32) -> std::process::Output {
    tokio::time::timeout(
        Duration::from_secs(120),
        on_night(cli, night, later, &[]).output(),
    )
    .await
    .expect("a night's run ends within 120 s")
    .expect("faketime runs")
}

#[track_caller]
fn assert_ok(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .unwrap()
}

/// The history files of a table on a night.
fn history_files(s3: &S3Server, table: &str, night: u32) -> Vec<PathBuf> {
    files_under(&s3.dir(&format!(
        "{PREFIX}/history/{table}/date={}",
        night_date(night)
    )))
}

/// What DuckDB said, as JSON (tests/support/history_duckdb.py).
fn duckdb(s3: &S3Server, models: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/history_duckdb.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .args([&s3.url(), KEY_ID, SECRET, &format!("s3://harvest/{PREFIX}")])
        .args(models)
        .output()
        .expect("python3 runs (scripts/install-test-deps installs duckdb)");
    assert!(
        output.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_nights_in_s3_read_back_by_duckdb_equal_the_csvs() {
    let fake = FakeHf::start(FakeConfig {
        models: 40,
        render_delay: Duration::from_millis(20),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let s3 = S3Server::start().await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", &s3.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("HFHARVEST__S3__PATH_STYLE", "true")
        .env("HFHARVEST__OUTPUT__KEEP_RUNS_DAYS", "7");
    let bucket = s3.dir(PREFIX);
    // Each night's CSVs as the run wrote them (retention removes old run folders).
    let kept = tempfile::tempdir().unwrap();
    let keep = |night: u32| {
        for file in ["models.csv", "leaderboard.csv", "dataset.csv"] {
            let from = bucket.join("runs").join(run_id(night)).join(file);
            let to = kept.path().join(format!("{}-{file}", run_id(night)));
            std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{from:?}: {e}"));
        }
    };
    let started = std::time::Instant::now();

    for night in 1..=NIGHTS {
        fake.set_night(night);
        if night == KILLED {
            killed_before_its_history_then_rerun(&cli, &s3, night).await;
        } else {
            assert_ok(&run_night(&cli, night, 0).await, &run_id(night));
        }
        keep(night);
        for table in ["models", "scores"] {
            assert_eq!(history_files(&s3, table, night).len(), 1, "{table} {night}");
        }
    }
    eprintln!("{NIGHTS} nights in {:?}", started.elapsed());

    // Retention: the last 7 nights' run folders, and every night in the history.
    let mut folders: Vec<String> = std::fs::read_dir(bucket.join("runs"))
        .unwrap()
        .flatten()
        .filter(|e| !files_under(&e.path()).is_empty())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let last_week: Vec<String> = (NIGHTS - 6..=NIGHTS).map(run_id).collect();
    assert_eq!(folders, last_week, "keep_runs_days = 7 keeps 7 run folders");
    let index = json(&bucket.join("runs/index.json"));
    assert_eq!(index["runs"].as_array().unwrap().len(), NIGHTS as usize);
    assert_eq!(json(&bucket.join("latest.json"))["run_id"], run_id(NIGHTS));

    // The 7-night delta of the last night, against the CSVs of 7 nights before.
    let csv =
        |night: u32, file: &str| read_csv(&kept.path().join(format!("{}-{file}", run_id(night))));
    let downloads = |night: u32| -> HashMap<String, i64> {
        csv(night, "models.csv")
            .into_iter()
            .map(|r| (r["model_id"].clone(), r["downloads"].parse().unwrap()))
            .collect()
    };
    let (now, week_ago) = (downloads(NIGHTS), downloads(NIGHTS - 7));
    let mut compared = 0;
    for row in csv(NIGHTS, "dataset.csv") {
        let expected = week_ago
            .get(&row["model_id"])
            .map(|before| (now[&row["model_id"]] - before).to_string())
            .unwrap_or_default();
        assert_eq!(row["downloads_delta_7d"], expected, "{}", row["model_id"]);
        assert_eq!(row["downloads_delta_30d"], "", "no run 30 nights back");
        compared += usize::from(!expected.is_empty());
    }
    assert!(
        compared > 15,
        "most models were there a week ago ({compared})"
    );
    let quality = json(&bucket.join(format!("runs/{}/quality.json", run_id(NIGHTS))));
    assert_eq!(quality["previous_run_7d"], run_id(NIGHTS - 7));
    assert_eq!(quality["previous_run"], run_id(NIGHTS - 1));

    // DuckDB, straight from the S3 server: its answers equal the per-run CSVs.
    let first = csv(1, "models.csv");
    let models: Vec<&str> = first
        .iter()
        .take(5)
        .map(|r| r["model_id"].as_str())
        .collect();
    let answer = duckdb(&s3, &models);
    let expected_rows: Vec<serde_json::Value> = (1..=NIGHTS)
        .map(|n| {
            serde_json::json!([
                night_date(n).to_string(),
                run_id(n),
                csv(n, "models.csv").len()
            ])
        })
        .collect();
    assert_eq!(answer["models_rows"], serde_json::json!(expected_rows));
    let expected_scores: Vec<serde_json::Value> = (1..=NIGHTS)
        .map(|n| serde_json::json!([night_date(n).to_string(), csv(n, "leaderboard.csv").len()]))
        .collect();
    assert_eq!(answer["scores_rows"], serde_json::json!(expected_scores));
    let seen: HashMap<(String, String), i64> = answer["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_str().unwrap().to_owned(),
                ),
                r[2].as_i64().unwrap(),
            )
        })
        .collect();
    let mut checked = 0;
    for night in [1, 8, 15, 22, NIGHTS] {
        let on_night = downloads(night);
        for model in &models {
            let key = (night_date(night).to_string(), (*model).to_owned());
            assert_eq!(
                seen.get(&key),
                on_night.get(*model),
                "{model} on night {night}"
            );
            checked += usize::from(on_night.contains_key(*model));
        }
    }
    assert!(
        checked >= 20,
        "{checked} of 25 (model, night) pairs had the model"
    );
    let types = &answer["types"];
    assert_eq!(types["downloads"], "BIGINT");
    assert_eq!(types["snapshot_at"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(types["created_at"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(types["tags"], "VARCHAR[]");
    assert_eq!(types["date"], "DATE");
    eprintln!("with DuckDB, {:?}", started.elapsed());
}

/// The run is killed after its CSVs and its manifest's `complete`, while it is writing
/// its history file (held back by a file where the night's folder must go, so the
/// store keeps retrying). The rerun of the run id writes exactly one history file for
/// the night; a third run of it is refused.
async fn killed_before_its_history_then_rerun(cli: &Cli, s3: &S3Server, night: u32) {
    let blocker = s3.dir(&format!(
        "{PREFIX}/history/models/date={}",
        night_date(night)
    ));
    std::fs::write(&blocker, b"not a folder").unwrap();
    let mut child = on_night(
        cli,
        night,
        0,
        &[
            ("HFHARVEST__S3__MAX_ATTEMPTS", "20"),
            ("HFHARVEST__S3__OPERATION_TIMEOUT_SECS", "600"),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let run = s3.dir(&format!("{PREFIX}/runs/{}", run_id(night)));
    let manifest = run.join("manifest.json");
    wait_for(
        "the run's manifest to say complete",
        Duration::from_secs(90),
        || std::fs::read_to_string(&manifest).is_ok_and(|m| m.contains("\"complete\"")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still writing its history when it is killed"
    );
    kill_job_tree(&mut child).await;
    for file in [
        "models.csv",
        "leaderboard.csv",
        "dataset.csv",
        "report.html",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} was written before the kill"
        );
    }
    assert!(history_files(s3, "scores", night).is_empty());
    let latest = json(&s3.dir(&format!("{PREFIX}/latest.json")));
    assert_eq!(
        latest["run_id"],
        run_id(night - 1),
        "latest.json not moved yet"
    );

    std::fs::remove_file(&blocker).unwrap();
    // The retry comes a few minutes later, as the CronJob's next pod would, when the
    // killed run's lock has run out.
    let rerun = run_night(cli, night, 5).await;
    assert_ok(&rerun, "the rerun");
    assert!(
        String::from_utf8_lossy(&rerun.stderr).contains("publishing it now"),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let again = run_night(cli, night, 10).await;
    assert_eq!(again.status.code(), Some(2), "a published run is refused");
    for table in ["models", "scores"] {
        let files = history_files(s3, table, night);
        assert_eq!(files.len(), 1, "{table}: {files:?}");
        assert!(files[0].ends_with(format!("{}.parquet", run_id(night))));
    }
    let latest = json(&s3.dir(&format!("{PREFIX}/latest.json")));
    assert_eq!(latest["run_id"], run_id(night));
}

/// Runs made before the history existed get it from `hfharvest history rebuild`, which
/// writes only what is missing; a history file whose run folder is gone keeps its
/// index entry, read back from the file.
#[tokio::test(flavor = "multi_thread")]
async fn history_rebuild_backfills_from_the_complete_runs() {
    let fake = FakeHf::start(FakeConfig {
        models: 30,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets");
    for (night, id) in [(0, "old1"), (1, "old2")] {
        fake.set_night(night);
        cli.run(&["run", "--limit", "10", "--run-id", id])
            .await
            .assert_ok();
    }
    cli.run(&["models", "--limit", "5", "--run-id", "partial"])
        .await
        .assert_ok();
    let out = cli.out();
    let history = || {
        files_under(&out.join("history"))
            .into_iter()
            .map(|p| p.strip_prefix(&out).unwrap().display().to_string())
            .collect::<Vec<_>>()
    };
    let written = history();
    assert_eq!(written.len(), 4, "{written:?}");
    // As an older version left the output: no history, no index.
    std::fs::remove_dir_all(out.join("history")).unwrap();
    std::fs::remove_file(out.join("runs/index.json")).unwrap();

    let rebuilt = cli.run(&["history", "rebuild"]).await;
    rebuilt.assert_ok();
    assert!(
        rebuilt
            .stderr()
            .contains("2 complete runs, 4 files written, 0 already there"),
        "{}",
        rebuilt.stderr()
    );
    assert_eq!(history(), written, "the same files, at the same keys");
    let index = json(&out.join("runs/index.json"));
    let ids: Vec<&str> = index["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["old1", "old2"]);
    // The deltas read it: a prepare of old2 compares with old1.
    cli.run(&["prepare", "--run-id", "old2"]).await.assert_ok();
    let quality = json(&out.join("runs/old2/quality.json"));
    assert_eq!(quality["previous_run"], "old1");

    // Again: nothing to write. Then with old1's folder gone and the index lost, its
    // entry comes back from its history file.
    let again = cli.run(&["history", "rebuild"]).await;
    assert!(again.stderr().contains("0 files written, 4 already there"));
    std::fs::remove_dir_all(out.join("runs/old1")).unwrap();
    std::fs::remove_file(out.join("runs/index.json")).unwrap();
    cli.run(&["history", "rebuild"]).await.assert_ok();
    let index = json(&out.join("runs/index.json"));
    assert_eq!(index["runs"].as_array().unwrap().len(), 2);
    assert_eq!(index["runs"][0]["run_id"], "old1");
}
