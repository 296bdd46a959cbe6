//! Output to S3 against a real S3-compatible server on 127.0.0.1 (`s3s-fs`, started
//! here): the same files as a local run, crash safety under kill -9, the server dying
//! mid-run, one run at a time, clear errors for bad credentials or a missing bucket,
//! and no credential in any log, error or file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use support::s3::{S3Server, KEY_ID, SECRET};
use support::*;

/// A CLI pointed at the fake Hugging Face services and at the S3 server, with fast
/// retry bounds and no way to reach anything but loopback (no instance metadata).
fn cli_for(fake: &FakeHf, s3: &S3Server) -> Cli {
    Cli::new(fake)
        .leaderboard_on(fake)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", &s3.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("HFHARVEST__S3__PATH_STYLE", "true")
        .env("HFHARVEST__S3__MAX_ATTEMPTS", "3")
        .env("HFHARVEST__S3__CONNECT_TIMEOUT_SECS", "1")
        .env("HFHARVEST__S3__OPERATION_TIMEOUT_SECS", "10")
}

async fn start_fake(models: usize) -> FakeHf {
    FakeHf::start(FakeConfig {
        models,
        render_delay: Duration::from_millis(100),
        // The app's data must fit Chromium's storage quota (tests/leaderboard.rs).
        formatted_decimals: Some(4),
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

/// Every file under `dir`, as `/`-separated paths relative to it.
fn relative_files(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            p.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

/// A file's content without the fields that record when it was written (a checkpoint's
/// `recorded_at`; the commit a source pinned, `revision`, is kept as it is).
fn comparable(body: String, file: &str) -> String {
    if !file.contains("/checkpoints/") || !file.ends_with(".json") {
        return body;
    }
    let mut value: serde_json::Value = serde_json::from_str(&body).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("recorded_at");
    // A batch object: every answer in it has its own.
    if let Some(batch) = object.get_mut("checkpoints").and_then(|c| c.as_array_mut()) {
        for checkpoint in batch {
            checkpoint.as_object_mut().unwrap().remove("recorded_at");
        }
    }
    value.to_string()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_to_s3_writes_what_a_run_to_a_folder_writes() {
    let fake = start_fake(40).await;
    let s3 = S3Server::start().await;
    let cli = cli_for(&fake, &s3).env("RUST_LOG", "trace");
    let args = |out: &str| {
        vec![
            "run",
            "--limit",
            "25",
            "--run-id",
            "night1",
            "--leaderboard-source",
            "datasets",
            "--out",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([out.to_owned()])
        .collect::<Vec<_>>()
    };
    let to_s3 = args("s3://harvest/daily/hf");
    let to_s3: Vec<&str> = to_s3.iter().map(String::as_str).collect();
    let s3_run = cli.run(&to_s3).await;
    s3_run.assert_ok();
    let local = cli.out().join("local");
    let to_local = args(local.to_str().unwrap());
    let to_local: Vec<&str> = to_local.iter().map(String::as_str).collect();
    cli.run(&to_local).await.assert_ok();

    let in_bucket = s3.dir("daily/hf");
    let objects = relative_files(&in_bucket);
    assert_eq!(objects, relative_files(&local), "the same objects as files");
    for expected in [
        "latest.json",
        "runs/night1/manifest.json",
        "runs/night1/models.csv",
        "runs/night1/models.jsonl",
        "runs/night1/leaderboard.csv",
        "runs/night1/dataset.csv",
        "runs/night1/dataset.parquet",
        "runs/night1/quality.json",
        "runs/index.json",
        "runs/night1/report.html",
    ] {
        assert!(
            objects.contains(&expected.to_owned()),
            "{expected} in {objects:?}"
        );
    }
    assert!(
        !objects.contains(&"lock.json".to_owned()),
        "the lock is released"
    );
    for table in ["models", "scores"] {
        let written: Vec<&String> = objects
            .iter()
            .filter(|o| o.starts_with(&format!("history/{table}/date=")))
            .collect();
        assert!(
            written.len() == 1 && written[0].ends_with("/night1.parquet"),
            "one history file: {written:?}"
        );
    }
    // The leaderboard's rows answered all 25 models at once: one checkpoint object.
    let scores: Vec<&String> = objects
        .iter()
        .filter(|o| o.contains("/checkpoints/scores/"))
        .collect();
    assert!(
        scores.len() == 1 && scores[0].contains("/+batch-"),
        "{scores:?}"
    );
    for file in objects
        .iter()
        .filter(|o| o.ends_with(".csv") || o.ends_with(".jsonl") || o.contains("/checkpoints/"))
    {
        assert_eq!(
            comparable(read(in_bucket.join(file)), file),
            comparable(read(local.join(file)), file),
            "{file}"
        );
    }
    let latest: serde_json::Value =
        serde_json::from_str(&read(in_bucket.join("latest.json"))).unwrap();
    assert_eq!(latest["run_id"], "night1");
    let manifest: serde_json::Value =
        serde_json::from_str(&read(in_bucket.join("runs/night1/manifest.json"))).unwrap();
    assert_eq!(manifest["status"], "complete");

    // A failed run leaves latest.json on the last good one.
    fake.inject(Route::List, Fault::server_error(503), 1000);
    let failed = cli
        .clone_env()
        .env("HFHARVEST__HTTP__MAX_ATTEMPTS", "2")
        .run(&[
            "run",
            "--run-id",
            "night2",
            "--out",
            "s3://harvest/daily/hf",
        ])
        .await;
    assert_eq!(failed.code(), 1, "{}", failed.stderr());
    let latest: serde_json::Value =
        serde_json::from_str(&read(in_bucket.join("latest.json"))).unwrap();
    assert_eq!(
        latest["run_id"], "night1",
        "a failed run never replaces latest.json"
    );
    let manifest = read(in_bucket.join("runs/night2/manifest.json"));
    assert!(manifest.contains("\"failed\""), "{manifest}");

    // The credentials, under RUST_LOG=trace, appear in no log line and no object.
    for secret in [KEY_ID, SECRET] {
        assert!(!s3_run.stdout().contains(secret) && !s3_run.stderr().contains(secret));
        for file in files_under(s3.root.path()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{secret} in {}",
                file.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_five_points_then_resumed_gives_the_uninterrupted_csvs() {
    let fake = start_fake(30).await;
    let s3 = S3Server::start().await;
    // One answer per checkpoint object (a browser batch is otherwise one), so there
    // are points between objects to stop at.
    let cli = cli_for(&fake, &s3).env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    let args = |prefix: &'static str| {
        vec![
            "run",
            "--limit",
            "10",
            "--run-id",
            "crash",
            "--leaderboard-source",
            "browser",
            "--browser-sessions",
            "1",
            "--out",
            prefix,
        ]
    };
    cli.run(&args("s3://harvest/whole")).await.assert_ok();
    let reference = s3.dir("whole/runs/crash");

    let run = s3.dir("crashy/runs/crash");
    let lock = s3.dir("crashy/lock.json");
    let checkpoints = run.join("checkpoints/scores");
    type KillPoint<'a> = (&'a str, Box<dyn Fn() -> bool + 'a>);
    let points: [KillPoint; 5] = [
        ("the lock taken", Box::new(|| lock.exists())),
        (
            "models.csv written",
            Box::new(|| run.join("models.csv").exists()),
        ),
        ("2 checkpoints", Box::new(|| count_files(&checkpoints) >= 2)),
        ("5 checkpoints", Box::new(|| count_files(&checkpoints) >= 5)),
        ("8 checkpoints", Box::new(|| count_files(&checkpoints) >= 8)),
    ];
    for (point, reached) in points {
        let mut child = cli
            .command(&args("s3://harvest/crashy"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(point, Duration::from_secs(90), &reached).await;
        kill_job_tree(&mut child).await;
        // Whatever was written is whole: every checkpoint parses.
        for file in files_under(&checkpoints) {
            serde_json::from_str::<serde_json::Value>(&read(file.clone()))
                .unwrap_or_else(|e| panic!("{} after a kill at {point}: {e}", file.display()));
        }
    }
    assert!(
        !run.join("dataset.csv").exists(),
        "the kills came before the end"
    );
    assert!(
        !s3.dir("crashy/latest.json").exists(),
        "no latest.json for a run that never completed"
    );
    // The resume waits out the killed run's lock (3 s here), then finishes the run.
    let resumed = cli.run(&args("s3://harvest/crashy")).await;
    resumed.assert_ok();
    for file in ["models.csv", "leaderboard.csv", "dataset.csv"] {
        assert_eq!(read(run.join(file)), read(reference.join(file)), "{file}");
    }
    assert_eq!(count_files(&checkpoints), 10, "one checkpoint per model");
    assert!(s3.dir("crashy/latest.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_dying_mid_run_fails_clearly_and_a_rerun_finishes() {
    let fake = start_fake(30).await;
    let mut s3 = S3Server::start().await;
    // One answer per checkpoint object (a browser batch is otherwise one), so there
    // are points between objects to stop at.
    let cli = cli_for(&fake, &s3).env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    let args = [
        "run",
        "--limit",
        "10",
        "--run-id",
        "outage",
        "--leaderboard-source",
        "browser",
        "--out",
        "s3://harvest/o",
    ];
    let job = cli
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoints = s3.dir("o/runs/outage/checkpoints/scores");
    wait_for("3 checkpoints", Duration::from_secs(90), || {
        count_files(&checkpoints) >= 3
    })
    .await;
    s3.kill();
    let started = std::time::Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(100), job.wait_with_output())
        .await
        .expect("the job gives up within its retry bounds")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "the job gave up {:?} after the server died",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("s3://harvest/o/") && stderr.contains("cannot reach the S3 endpoint"),
        "the error names the store and what failed: {stderr}"
    );
    for file in files_under(&checkpoints) {
        serde_json::from_str::<serde_json::Value>(&read(file.clone()))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let kept = count_files(&checkpoints);
    assert!(kept >= 3);

    s3.restart().await;
    cli.run(&args).await.assert_ok();
    assert_eq!(count_files(&checkpoints), 10);
    let manifest = read(s3.dir("o/runs/outage/manifest.json"));
    assert!(manifest.contains("\"complete\""), "{manifest}");
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_concurrent_runs_exactly_one_proceeds() {
    let fake = FakeHf::start(FakeConfig {
        models: 200,
        // Slow enough that the first run still holds the lock when the second starts.
        latency: Duration::from_millis(1500),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let s3 = S3Server::start().await;
    let cli = cli_for(&fake, &s3);
    let first = cli
        .command(&[
            "models",
            "--limit",
            "200",
            "--run-id",
            "first",
            "--out",
            "s3://harvest/shared",
        ])
        .spawn()
        .unwrap();
    let lock = s3.dir("shared/lock.json");
    wait_for("the first run's lock", Duration::from_secs(30), || {
        lock.exists()
    })
    .await;
    let second = cli
        .run(&[
            "models",
            "--run-id",
            "second",
            "--out",
            "s3://harvest/shared",
        ])
        .await;
    assert_eq!(second.code(), 1, "{}", second.stderr());
    assert!(
        second.stderr().contains("is in use: run first"),
        "{}",
        second.stderr()
    );
    let first = first.wait_with_output().await.unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(s3.dir("shared/runs/first/models.csv").exists());
    assert!(
        !s3.dir("shared/runs/second").exists(),
        "the refused run wrote nothing"
    );
    assert!(!lock.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_and_a_missing_bucket_fail_fast_saying_which() {
    let fake = start_fake(10).await;
    let s3 = S3Server::start().await;
    let cli = cli_for(&fake, &s3);
    let wrong = cli
        .clone_env()
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret-sentinel-77")
        .env("RUST_LOG", "trace")
        .run(&["models", "--out", "s3://harvest/x"])
        .await;
    assert_eq!(wrong.code(), 2, "{}", wrong.stderr());
    assert!(
        wrong.stderr().contains("wrong credentials"),
        "{}",
        wrong.stderr()
    );
    for secret in ["not-the-secret-sentinel-77", KEY_ID, SECRET] {
        assert!(
            !wrong.stderr().contains(secret) && !wrong.stdout().contains(secret),
            "{secret} printed"
        );
    }
    let missing = cli.run(&["models", "--out", "s3://no-such-bucket/x"]).await;
    assert_eq!(missing.code(), 2, "{}", missing.stderr());
    assert!(
        missing
            .stderr()
            .contains("bucket `no-such-bucket` does not exist"),
        "{}",
        missing.stderr()
    );
    assert_eq!(
        fake.requests().total(),
        0,
        "nothing was collected before the check"
    );
}

/// The longest ids we accept (256 bytes, most of which the key encoding triples), and a
/// real Hub id that once failed a 10,000-model night here.
fn long_ids() -> Vec<String> {
    vec![
        "quant-lab-1/Joseph717171-Hermes-3-Llama-3.1-8B_TIES_with_Base_Embeds_Initialized_to_Special_Instruct_Toks_dtypeF32-GGUF".into(),
        format!("{}/{}", "o".repeat(40), ".".repeat(215)),
        format!("{}/{}", "o.".repeat(20), &".a".repeat(108)[..215]),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_longest_ids_are_checkpointed_in_s3_and_on_disk() {
    let ids = long_ids();
    assert!(ids[1..].iter().all(|id| id.len() == 256));
    let fake = start_fake(10).await;
    let s3 = S3Server::start().await;
    // One object per answer: the test is of a model's own key.
    let cli = cli_for(&fake, &s3).env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    for out in ["s3://harvest/long", "./data"] {
        let mut args = vec!["scores", "--run-id", "long", "--out", out];
        args.extend(["--leaderboard-source", "datasets", "--models"]);
        args.extend(ids.iter().map(String::as_str));
        cli.run(&args).await.assert_ok();
    }
    for folder in [s3.dir("long/runs/long"), cli.out().join("runs/long")] {
        let rows = read_csv(&folder.join("leaderboard.csv"));
        let got: Vec<&str> = rows.iter().map(|r| r["model_id"].as_str()).collect();
        assert_eq!(got, ids, "{}", folder.display());
        let checkpoints = files_under(&folder.join("checkpoints/scores"));
        assert_eq!(checkpoints.len(), ids.len(), "{checkpoints:?}");
        for path in checkpoints {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.len() <= 101, "{name}");
        }
    }
    // A rerun resumes from them: the ids are read from inside the objects.
    let rerun = cli
        .run(&[
            "scores",
            "--run-id",
            "long",
            "--out",
            "s3://harvest/long",
            "--models",
            &ids[1],
        ])
        .await;
    rerun.assert_ok();
}

/// The soak: a night into s3s-fs killed (kill -9) 20 times, the k-th once it has written
/// k/20 of the first 80% of an uninterrupted night's checkpoint objects (about 600,
/// 150 per source) and at least one more than before, so the kills land in every source
/// of both score stages and the last still comes before the end; then resumed: its files are those of an uninterrupted night, and
/// every checkpoint object that was ever written is whole.
#[tokio::test(flavor = "multi_thread")]
async fn twenty_kills_into_s3_lose_nothing() {
    let fake = FakeHf::start(FakeConfig {
        models: 1500,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let s3 = S3Server::start().await;
    // Small batches written one at a time, so a night has hundreds of objects and a
    // kill lands between them, in whichever source is running.
    let cli = cli_for(&fake, &s3)
        .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "10")
        .env("HFHARVEST__OUTPUT__CONCURRENCY", "1");
    let args = |prefix: &'static str| {
        vec![
            "run",
            "--limit",
            "1500",
            "--run-id",
            "soak",
            "--leaderboard-source",
            "datasets",
            "--out",
            prefix,
        ]
    };
    cli.run(&args("s3://harvest/whole")).await.assert_ok();
    let reference = s3.dir("whole/runs/soak");
    let whole = files_under(&reference.join("checkpoints")).len();
    let run = s3.dir("soaked/runs/soak");
    let checkpoints = run.join("checkpoints");
    let written = || files_under(&checkpoints).len();
    let mut folders = std::collections::BTreeSet::new();
    for kill in 1..=20 {
        let before = written();
        let target = (whole * 4 * kill / (5 * 20)).max(before + 1);
        let mut child = cli
            .command(&args("s3://harvest/soaked"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(
            &format!("{target} checkpoint objects (of {whole}) before kill {kill}"),
            Duration::from_secs(120),
            || written() >= target,
        )
        .await;
        kill_job_tree(&mut child).await;
        assert!(
            !run.join("dataset.csv").exists(),
            "kill {kill} came before the end ({} objects)",
            written()
        );
        for file in files_under(&checkpoints) {
            if file.extension().is_some_and(|x| x == "json") {
                serde_json::from_str::<serde_json::Value>(&read(file.clone()))
                    .unwrap_or_else(|e| panic!("{} after kill {kill}: {e}", file.display()));
            }
            if let Some(folder) = file.parent() {
                folders.insert(folder.strip_prefix(&checkpoints).unwrap().to_path_buf());
            }
        }
    }
    let sources: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(
        sources,
        [
            "evals",
            "evals/every-eval-ever",
            "evals/open-evals",
            "scores"
        ],
        "the kills came in every source"
    );
    cli.run(&args("s3://harvest/soaked")).await.assert_ok();
    for file in ["models.csv", "leaderboard.csv", "evals.csv"] {
        assert!(
            read(run.join(file)) == read(reference.join(file)),
            "{file} after 20 kills"
        );
    }
    same_dataset_but_its_age(&run, &reference);
    let objects = written();
    assert!(
        objects < 1500,
        "batches, not an object per model and source: {objects}"
    );
    eprintln!("20 kills across {folders:?}; {objects} checkpoint objects in the end");
}

/// `dataset.csv` of the soaked run is the reference's, but for `age_days`: the two runs
/// took their snapshots some seconds apart, so a model created at that time of day is a
/// day older in one of them. Its `age_days` must be the soaked run's own, from its
/// `created_at` at the soaked run's snapshot time (`manifest.json`).
fn same_dataset_but_its_age(run: &Path, reference: &Path) {
    let rows = |dir: &Path| -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let body = std::fs::read(dir.join("dataset.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(&body[..]);
        let header = reader.headers().unwrap().clone();
        (header, reader.records().map(Result::unwrap).collect())
    };
    let (header, soaked) = rows(run);
    let (reference_header, whole) = rows(reference);
    assert_eq!(
        header, reference_header,
        "dataset.csv's columns after 20 kills"
    );
    assert_eq!(
        soaked.len(),
        whole.len(),
        "dataset.csv's rows after 20 kills"
    );
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (age, created) = (column("age_days"), column("created_at"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    let snapshot = chrono::DateTime::parse_from_rfc3339(manifest["snapshot_at"].as_str().unwrap())
        .unwrap()
        .to_utc();
    for (line, (soaked, whole)) in soaked.iter().zip(&whole).enumerate() {
        for (i, (a, b)) in soaked.iter().zip(whole.iter()).enumerate() {
            if i != age {
                assert_eq!(
                    a,
                    b,
                    "dataset.csv line {} column {} after 20 kills",
                    line + 2,
                    &header[i]
                );
            }
        }
        let expected = hfharvest::prepare::rules::age_days(&soaked[created], snapshot)
            .map(|d| d.to_string())
            .unwrap_or_default();
        assert_eq!(
            soaked[age],
            expected,
            "age_days on dataset.csv line {}",
            line + 2
        );
    }
}
