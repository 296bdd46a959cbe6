//! The stage contract, seen from outside: every stage is recorded once in the manifest,
//! however many attempts a run takes, and each stage's check before the run fails in
//! seconds, with exit 2, a message naming what failed, and nothing written.

mod support;

use std::time::Duration;

use support::*;

fn manifest(cli: &Cli, run: &str) -> serde_json::Value {
    let path = cli.out().join("runs").join(run).join("manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn datasets(cli: Cli, fake: &FakeHf) -> Cli {
    cli.leaderboard_on(fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets")
}

/// Bug 1: a run whose scores stage failed, rerun with the same run id, listed `models`
/// twice (`collected`, then `resumed`).
#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_after_a_failed_stage_records_each_stage_once() {
    // The leaderboard's parquet file is corrupt: the scores stage fails after models.
    let broken = FakeHf::start(FakeConfig {
        models: 40,
        contents_parquet: Some(bytes::Bytes::from_static(b"PAR1 not a parquet file PAR1")),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = datasets(Cli::new(&broken), &broken);
    let failed = cli.run(&["run", "--limit", "6", "--run-id", "again"]).await;
    assert_eq!(failed.code(), 1, "{}", failed.stderr());
    let first = manifest(&cli, "again");
    assert_eq!(first["status"], "failed");

    let fine = FakeHf::start(FakeConfig {
        models: 40,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = datasets(cli.env("HF_ENDPOINT", &fine.url()), &fine);
    cli.run(&["run", "--limit", "6", "--run-id", "again"])
        .await
        .assert_ok();
    let done = manifest(&cli, "again");
    assert_eq!(done["status"], "complete");
    let names: Vec<&str> = done["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["models", "scores", "evals", "prepare", "report"],
        "each stage once, in order: {done}"
    );
    assert_eq!(
        done["stages"][0]["outcomes"],
        serde_json::json!({"resumed": 6}),
        "the rerun's models stage resumed the first attempt's models.csv"
    );
}

/// A failed check: exit 2, within seconds, the message names the stage and what
/// failed, and not one file was written.
async fn refused_before_the_run(cli: &Cli, expected: &[&str]) -> String {
    let ran = cli
        .run(&["run", "--limit", "5", "--run-id", "checked"])
        .await;
    assert_eq!(ran.code(), 2, "stderr:\n{}", ran.stderr());
    assert!(
        ran.elapsed < Duration::from_secs(20),
        "took {:?}",
        ran.elapsed
    );
    let stderr = ran.stderr();
    for part in expected {
        assert!(stderr.contains(part), "{part:?} not in:\n{stderr}");
    }
    let written = if cli.out().exists() {
        files_under(&cli.out())
    } else {
        Vec::new()
    };
    assert!(written.is_empty(), "written before the check: {written:?}");
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_hub_is_refused_before_the_run() {
    let fake = FakeHf::start(FakeConfig::default()).await.unwrap();
    // Nothing listens on port 1 of loopback: the connection is refused at once.
    let cli = datasets(Cli::new(&fake), &fake).env("HF_ENDPOINT", "http://127.0.0.1:1");
    refused_before_the_run(
        &cli,
        &[
            "the models stage is not ready",
            "the Hub at http://127.0.0.1:1/ does not answer",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_refused_before_the_run() {
    let fake = FakeHf::start(FakeConfig {
        refused_tokens: vec!["hf_revokedTokenForTheTest".into()],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = datasets(Cli::new(&fake), &fake).env("HF_TOKEN", "hf_revokedTokenForTheTest");
    let stderr = refused_before_the_run(
        &cli,
        &[
            "the models stage is not ready",
            "refused the token (HF_TOKEN): HTTP 401",
        ],
    )
    .await;
    assert!(
        !stderr.contains("hf_revokedTokenForTheTest"),
        "the token is never shown: {stderr}"
    );
    // An accepted token passes the check.
    let fine = datasets(Cli::new(&fake), &fake).env("HF_TOKEN", "hf_someOtherToken");
    fine.run(&["models", "--limit", "3", "--run-id", "ok"])
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_dataset_revision_is_refused_before_the_run() {
    let fake = FakeHf::start(FakeConfig::default()).await.unwrap();
    let cli = datasets(Cli::new(&fake), &fake).env(
        "HFHARVEST__LEADERBOARD__DATASET_REVISION",
        "no-such-revision",
    );
    refused_before_the_run(
        &cli,
        &[
            "the scores stage is not ready",
            "has no file",
            "at revision no-such-revision",
            "HTTP 404",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webdriver_that_is_not_ready_is_refused_before_the_run() {
    let fake = FakeHf::start(FakeConfig::default()).await.unwrap();
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "browser")
        .env("HFHARVEST__LEADERBOARD__WEBDRIVER", "http://127.0.0.1:1")
        .env("HFHARVEST__LEADERBOARD__WEBDRIVER_READY_TIMEOUT_SECS", "2");
    refused_before_the_run(
        &cli,
        &[
            "the scores stage is not ready",
            "the WebDriver at http://127.0.0.1:1 was not ready",
        ],
    )
    .await;
}
