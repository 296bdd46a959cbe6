//! Every Eval Ever and OpenEvals against the fake Hub with the real 2026 mix (their
//! datastores served in the real shapes of realdata/2026/eee/ and community-evals/):
//! the coverage of the top 500 they add, the requests they cost, no wrong join, and a
//! kill -9 during either source.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use hfharvest::hub::DEFAULT_PIPELINE_TAGS;
use hfharvest::lookup::owner_aliases;
use support::*;

const TOP: &str = "500";

async fn start_fake(latency: Duration) -> FakeHf {
    FakeHf::start(FakeConfig {
        models: 1200,
        // One in three of the top 510 is newer than the leaderboard.
        new_models: 170,
        real_mix: true,
        latency,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn cli(fake: &FakeHf) -> Cli {
    Cli::new(fake)
        .leaderboard_on(fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets")
        .env(
            "HFHARVEST__HUB__PIPELINE_TAGS",
            &DEFAULT_PIPELINE_TAGS.join(","),
        )
}

fn json(cli: &Cli, run: &str, file: &str) -> serde_json::Value {
    let path = cli.out().join("runs").join(run).join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The evals stage's requests by source, from the run's manifest.
fn requests(cli: &Cli, run: &str) -> BTreeMap<String, u64> {
    let manifest = json(cli, run, "manifest.json");
    let evals = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "evals")
        .expect("an evals stage")
        .clone();
    serde_json::from_value(evals["requests"].clone()).unwrap()
}

/// The model a record's `model_info.id` names, as a Hub id lower-cased: itself, or
/// its owner through a written alias.
fn named_ids(id: &str) -> Vec<String> {
    let id = id.to_lowercase();
    let mut ids = vec![id.clone()];
    if let Some((owner, name)) = id.split_once('/') {
        for alias in owner_aliases().iter().filter(|a| a.alias == owner) {
            ids.push(format!("{}/{name}", alias.hub_owner.to_lowercase()));
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn the_newer_sources_add_coverage_of_the_top_500_and_join_nothing_wrong() {
    let fake = start_fake(Duration::ZERO).await;
    let cli = cli(&fake);
    cli.clone_env()
        .env("HFHARVEST__EVALS__EVERY_EVAL_EVER__ENABLED", "false")
        .env("HFHARVEST__EVALS__OPEN_EVALS__ENABLED", "false")
        .run(&["run", "--limit", TOP, "--run-id", "before"])
        .await
        .assert_ok();
    let datastore_requests = fake.requests().datastores();
    cli.run(&["run", "--limit", TOP, "--run-id", "after"])
        .await
        .assert_ok();
    let datastore_requests = fake.requests().datastores() - datastore_requests;
    let before = json(&cli, "before", "quality.json")["score_coverage"].clone();
    let after = json(&cli, "after", "quality.json")["score_coverage"].clone();
    let count = |c: &serde_json::Value, key: &str| c[key].as_u64().unwrap();
    let models = count(&after, "models");
    assert_eq!(models, count(&before, "models"));
    println!("models with a score, of the top {models} (real mix):");
    println!("{:<18} {:>10} {:>10}", "source", "before", "after");
    for key in [
        "leaderboard",
        "hub_eval_results",
        "model_card",
        "every_eval_ever",
        "open_evals",
        "any",
        "verified",
    ] {
        let share = |c: &serde_json::Value| {
            format!(
                "{} ({:.1}%)",
                count(c, key),
                100.0 * count(c, key) as f64 / models as f64
            )
        };
        println!("{key:<18} {:>10} {:>10}", share(&before), share(&after));
    }
    let spent = requests(&cli, "after");
    println!("requests of the evals stage by source: {spent:?}");
    println!("requests the fake's two datastores served: {datastore_requests}");

    assert_eq!(
        count(&before, "every_eval_ever") + count(&before, "open_evals"),
        0
    );
    assert!(count(&after, "every_eval_ever") > 0 && count(&after, "open_evals") > 0);
    assert_eq!(count(&after, "leaderboard_or_hub"), count(&before, "any"));
    assert!(count(&after, "any") >= count(&before, "any"));
    assert!(
        count(&after, "verified") > count(&before, "verified"),
        "third-party scores for models the leaderboard never saw"
    );

    // The costs: OpenEvals its commit and one file; Every Eval Ever its commit, one
    // index per collection and one request per record of a run's model, nothing else.
    let run = cli.out().join("runs/after");
    let ids: HashSet<String> = read_csv(&run.join("models.csv"))
        .iter()
        .map(|r| r["model_id"].to_lowercase())
        .collect();
    let all_records =
        fakehf::datastores::eee_records(fake.catalogue(), &fakehf::realdata_dir(), &[]).unwrap();
    let collections = hfharvest::evals::EveryEvalEverSettings::default().collections;
    let of_run_models = all_records
        .iter()
        .filter(|r| collections.contains(&r.collection))
        .filter(|r| named_ids(&r.model_id).iter().any(|id| ids.contains(id)))
        .count() as u64;
    println!(
        "Every Eval Ever: {of_run_models} of the datastore's {} records name a model of the run",
        all_records.len()
    );
    assert_eq!(spent["open-evals"], 2, "{spent:?}");
    assert_eq!(spent["every-eval-ever"], 1 + 4 + of_run_models, "{spent:?}");
    // The fake's own count: the same, and OpenEvals' file is one redirect more.
    assert_eq!(datastore_requests, spent["every-eval-ever"] + 2 + 1);

    // Every joined record names its model: the same id but for case, or a written alias.
    let evals = read_csv(&run.join("evals.csv"));
    let eee_rows: Vec<_> = evals
        .iter()
        .filter(|r| r["source"] == "every-eval-ever")
        .collect();
    // Set aside with the reason: an owner with no alias line, an API-only model.
    let skipped = json(&cli, "after", "quality.json")["skipped_evals"].clone();
    let reason = |id: &str| {
        skipped
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["model_id"] == id)
            .map(|s| s["reason"].as_str().unwrap().to_owned())
    };
    for id in [
        "mistral/mistral-small-3.1-24b-instruct-2503",
        "qwen/qwen2.5-7b-instruct-turbo",
    ] {
        let why = reason(id).unwrap_or_else(|| panic!("{id} is set aside"));
        assert!(why.contains("names no model of this run"), "{why}");
    }
    assert!(
        !eee_rows
            .iter()
            .any(|r| r["model_id"] == "mistralai/Mistral-Small-3.1-24B-Instruct-2503"),
        "no alias, no join"
    );
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("Every Eval Ever") && report.contains("OpenEvals"));
}

/// The files a kill and a rerun must give byte for byte as an uninterrupted run does.
const OUTPUTS: [&str; 3] = ["evals.csv", "evals_skipped.json", "dataset.csv"];

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_either_source_then_a_rerun_gives_the_same_outputs() {
    // Each request a little slow, so the source is still going when it is killed.
    let fake = start_fake(Duration::from_millis(5)).await;
    let args = |run: &'static str| vec!["run", "--limit", "300", "--run-id", run];
    // Each run in its own output folder, so none has another as its previous night.
    let whole = cli(&fake);
    whole.run(&args("night")).await.assert_ok();
    let read = |cli: &Cli| -> Vec<Vec<u8>> {
        OUTPUTS
            .iter()
            .map(|f| std::fs::read(cli.out().join("runs/night").join(f)).unwrap())
            .collect()
    };
    let reference = read(&whole);
    for part in ["every-eval-ever", "open-evals"] {
        // One answer per object, so there are points between objects to kill at.
        let cli = cli(&fake)
            .env("HFHARVEST__OUTPUT__CONCURRENCY", "1")
            .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
        let checkpoints = cli.out().join("runs/night/checkpoints/evals").join(part);
        let mut child = {
            let mut cmd = cli.command(&args("night"));
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            cmd.spawn().unwrap()
        };
        wait_for(
            &format!("20 {part} checkpoints"),
            Duration::from_secs(120),
            || count_files(&checkpoints) >= 20,
        )
        .await;
        kill_job_tree(&mut child).await;
        let kept = count_files(&checkpoints);
        assert!(
            kept < 300 && !cli.out().join("runs/night/evals.csv").exists(),
            "killed during {part} ({kept} checkpoints)"
        );
        cli.run(&args("night")).await.assert_ok();
        for (file, (resumed, whole)) in OUTPUTS.iter().zip(read(&cli).iter().zip(&reference)) {
            assert!(resumed == whole, "{file} after a kill during {part}");
        }
        // 300 answers and the commit the run pinned.
        assert_eq!(count_files(&checkpoints), 301, "{part}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_datastore_outage_leaves_the_sources_out_not_the_run() {
    let fake = start_fake(Duration::ZERO).await;
    // Every request to the two datastores fails, retries included.
    fake.inject(
        fakehf::Route::Datastore,
        fakehf::Fault::server_error(503),
        1000,
    );
    let cli = cli(&fake)
        .env("HFHARVEST__HTTP__MAX_ATTEMPTS", "2")
        .env("HFHARVEST__HTTP__BACKOFF_INITIAL_MS", "10");
    cli.run(&["run", "--limit", "100", "--run-id", "outage"])
        .await
        .assert_ok();
    let run = cli.out().join("runs/outage");
    let evals = read_csv(&run.join("evals.csv"));
    assert!(evals.iter().any(|r| r["source"] == "hub-eval-results"));
    assert!(!evals
        .iter()
        .any(|r| r["source"] == "every-eval-ever" || r["source"] == "open-evals"));
    let skipped = json(&cli, "outage", "quality.json")["skipped_evals"].clone();
    for dataset in ["evaleval/EEE_datastore", "OpenEvals/leaderboard-data"] {
        let why = skipped
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["reason"].as_str())
            .find(|r| r.starts_with(dataset))
            .unwrap_or_else(|| panic!("{dataset} is said to be left out: {skipped}"));
        assert!(
            why.contains("left out of this run") && why.contains("503"),
            "{why}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_cut_short_is_set_aside_and_the_others_kept() {
    let fake = start_fake(Duration::ZERO).await;
    // The commit and the four indexes as they are, then one record cut after 50 bytes.
    fake.inject(fakehf::Route::Datastore, fakehf::Fault::Headers(vec![]), 5);
    fake.inject(fakehf::Route::Datastore, fakehf::Fault::Truncated(50), 1);
    let cli = cli(&fake);
    cli.run(&["run", "--limit", "100", "--run-id", "cut"])
        .await
        .assert_ok();
    let skipped = json(&cli, "cut", "evals_skipped.json")["skipped"].clone();
    let cut: Vec<&str> = skipped
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["reason"].as_str())
        .filter(|r| r.contains("bytes where the index says"))
        .collect();
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert!(
        cut[0].starts_with("record ") && cut[0].contains(": 50 bytes"),
        "{cut:?}"
    );
    let evals = read_csv(&cli.out().join("runs/cut/evals.csv"));
    assert!(evals.iter().any(|r| r["source"] == "every-eval-ever"));
}
