//! The scores stage against the fake leaderboard: the datasets source over HTTP, and the
//! browser source in real headless Chromium (Debian's chromium + chromedriver), both
//! through a local chromedriver and through the real Selenium server, the program the
//! chart's sidecar runs. The fake app follows the real app's source (fakehf/src/
//! leaderboard/app.js); its data is the real rows.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use fakehf::PageMode;
use support::*;

/// A fake whose app data fits Chromium's storage quota, as the real app was checked:
/// the real API's full-precision floats overflow it (a test below shows that).
async fn start_fake(models: usize) -> FakeHf {
    FakeHf::start(FakeConfig {
        models,
        render_delay: Duration::from_millis(150),
        formatted_decimals: Some(4),
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn leaderboard_csv(cli: &Cli, run: &str) -> Vec<HashMap<String, String>> {
    read_csv(&cli.out().join("runs").join(run).join("leaderboard.csv"))
}

const BENCHMARKS: [&str; 6] = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"];
const COLUMNS: [&str; 6] = ["ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro"];

/// Two decimals, as the app shows them (`toFixed(2)`).
fn shown(v: f64) -> String {
    format!("{:.2}", hfharvest::scores::round2(v))
}

/// A row of leaderboard.csv, as (name, precision, chat template, average, six scores).
type Seen = (String, String, String, String, Vec<String>);

/// What the app shows for each model, from the JSON the fake serves: each row's
/// precision and chat template, the six normalised scores to two decimals, and the
/// average the app computes itself (the mean of the six).
async fn expected_from_json(fake: &FakeHf) -> HashMap<String, Vec<Seen>> {
    let items: Vec<serde_json::Value> = reqwest::get(fake.formatted_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut by_model: HashMap<String, Vec<Seen>> = HashMap::new();
    for item in items {
        let name = item["model"]["name"].as_str().unwrap().to_owned();
        let scores: Vec<f64> = BENCHMARKS
            .iter()
            .map(|b| {
                item["evaluations"][b]["normalized_score"]
                    .as_f64()
                    .unwrap_or(0.0)
            })
            .collect();
        let average = scores.iter().sum::<f64>() / scores.len() as f64;
        let seen = (
            name.clone(),
            item["model"]["precision"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            item["model"]["has_chat_template"]
                .as_bool()
                .map(|b| b.to_string())
                .unwrap_or_default(),
            shown(average),
            scores.into_iter().map(shown).collect(),
        );
        by_model.entry(name.to_lowercase()).or_default().push(seen);
    }
    by_model
}

/// The rows a run wrote for each model, in the same shape.
fn seen_in_csv(rows: &[HashMap<String, String>]) -> HashMap<String, (String, Vec<Seen>)> {
    let mut by_model: HashMap<String, (String, Vec<Seen>)> = HashMap::new();
    for r in rows {
        let entry = by_model
            .entry(r["model_id"].to_lowercase())
            .or_insert_with(|| (r["status"].clone(), Vec::new()));
        if r["status"] == "found" {
            let num = |c: &str| r[c].parse::<f64>().map(shown).unwrap_or_default();
            entry.1.push((
                r["matched_name"].clone(),
                r["precision"].clone(),
                r["chat_template"].clone(),
                num("average"),
                COLUMNS.iter().map(|c| num(c)).collect(),
            ));
        }
    }
    by_model
}

/// 47 ids: real models of every kind the issue names, and three that are not there.
fn test_models() -> Vec<String> {
    let picked = [
        // Near misses: each is on the leaderboard next to a longer name containing it.
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-8B-Instruct",
        "Qwen/Qwen2.5-7B",
        "Qwen/Qwen2.5-7B-Instruct",
        // Two rows each (precisions; chat-template variants).
        "BoltMonkey/NeuralDaredevil-SuperNova-Lite-7B-DARETIES-abliterated",
        "google/gemma-2-2b-jpn-it",
        "Gunulhona/Gemma-Ko-Merge-PEFT",
        "Columbia-NLP/LION-Gemma-2b-dpo-v1.0",
        "DavieLion/Llama-3.2-1B-SPIN-iter0",
        // `❓other`: hidden by the app's default filters.
        "allenai/OLMo-1.7-7B-hf",
        "databricks/dbrx-base",
        "internlm/internlm2-7b",
        // Two names that differ only in case (one chat, one other), one Hub id.
        "DeepMount00/Llama-3.1-8b-ITA",
        // 4bit rows.
        "EpistemeAI/FineLlama3.1-8B-Instruct",
        "vihangd/smart-dan-sft-v0.1",
        // Dots and other regular-expression characters.
        "mistral-community/Mixtral-8x22B-v0.1",
        "0-hero/Matter-0.2-7B-DPO",
        // Not on the leaderboard.
        "nobody/nothing-like-this-7B",
        "meta-llama/Llama-3.1-8",
        "Qwen/Qwen2.5",
    ];
    let mut ids: Vec<String> = picked.iter().map(|s| s.to_string()).collect();
    // And every 170th real row, for the rest.
    let path = fakehf::realdata_dir().join("leaderboard/formatted-2025-03-21.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    for (i, record) in reader.deserialize::<HashMap<String, String>>().enumerate() {
        let name = record.unwrap()["model_name"].clone();
        if i % 170 == 5 && !ids.iter().any(|id| id.eq_ignore_ascii_case(&name)) {
            ids.push(name);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_real_models_read_exactly_through_chromedriver_and_selenium() {
    let fake = start_fake(10).await;
    let selenium = SeleniumServer::start().await;
    let ids = test_models();
    assert!(ids.len() >= 40, "{}", ids.len());
    let expected = expected_from_json(&fake).await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__BATCH_SIZE", "10");
    let run = |run_id: &'static str, source: &'static str, extra: &[&'static str]| {
        let mut args = vec!["scores", "--run-id", run_id, "--leaderboard-source", source];
        args.extend_from_slice(extra);
        args.push("--models");
        args.extend(ids.iter().map(String::as_str));
        args
    };
    // The datasets source reads the same JSON the app does (its floats rounded here to
    // fit the app's storage quota; the parquet file keeps them whole).
    cli.clone_env()
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "formatted")
        .run(&run("ds", "datasets", &[]))
        .await
        .assert_ok();
    cli.run(&run("local", "browser", &["--browser-sessions", "2"]))
        .await
        .assert_ok();
    let selenium_url = selenium.url();
    let via_selenium: &'static str = Box::leak(selenium_url.into_boxed_str());
    cli.run(&run("grid", "browser", &["--webdriver", via_selenium]))
        .await
        .assert_ok();
    assert!(
        selenium.sessions_created() >= 1,
        "the sessions went through Selenium"
    );

    let datasets = seen_in_csv(&leaderboard_csv(&cli, "ds"));
    for run_id in ["local", "grid"] {
        let rows = leaderboard_csv(&cli, run_id);
        assert!(rows.iter().all(|r| r["source"] == "browser"));
        let browser = seen_in_csv(&rows);
        for id in &ids {
            let key = id.to_lowercase();
            let (status, mut got) = browser.get(&key).cloned().unwrap_or_default();
            match expected.get(&key) {
                None => {
                    assert_eq!(status, "not_found", "{run_id}: {id}");
                    assert!(got.is_empty());
                }
                Some(want) => {
                    let mut want = want.clone();
                    want.sort();
                    got.sort();
                    assert_eq!(status, "found", "{run_id}: {id}");
                    assert_eq!(got, want, "{run_id}: {id}: every row, every score");
                }
            }
            // The datasets source agrees on every model's rows and scores (its average
            // is the leaderboard's own, which the app recomputes: they may differ by
            // the last digit's rounding, so it is left out here).
            let (ds_status, mut ds_rows) = datasets.get(&key).cloned().unwrap_or_default();
            assert_eq!(ds_status, status, "{run_id}: {id}: datasets and browser");
            ds_rows.sort();
            let without_average = |rows: &[Seen]| -> Vec<(String, String, String, Vec<String>)> {
                let mut rows: Vec<_> = rows
                    .iter()
                    .map(|(n, p, c, _, s)| (n.clone(), p.clone(), c.clone(), s.clone()))
                    .collect();
                rows.sort();
                rows
            };
            assert_eq!(without_average(&ds_rows), without_average(&got), "{id}");
        }
    }
    // The kinds the issue names are there: two rows, the hidden type, 4bit, near misses.
    let local = seen_in_csv(&leaderboard_csv(&cli, "local"));
    assert_eq!(local["google/gemma-2-2b-jpn-it"].1.len(), 2);
    assert_eq!(local["allenai/olmo-1.7-7b-hf"].0, "found");
    assert!(local["epistemeai/finellama3.1-8b-instruct"]
        .1
        .iter()
        .any(|r| r.1 == "4bit"));
    assert!(local["meta-llama/llama-3.1-8b"]
        .1
        .iter()
        .all(|r| r.0 == "meta-llama/Llama-3.1-8B"));
    assert!(
        local["qwen/qwen2.5-7b-instruct"]
            .1
            .iter()
            .all(|r| r.0 == "Qwen/Qwen2.5-7B-Instruct"),
        "not the -1M rows"
    );
    assert_eq!(local["meta-llama/llama-3.1-8"].0, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_inside_a_wrapping_page_is_searched_in_its_frame() {
    let fake = start_fake(10).await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__PAGE_URL", &fake.space_url())
        .env("HFHARVEST__LEADERBOARD__IFRAME_SELECTOR", "iframe");
    let ids = [
        "allenai/OLMo-1.7-7B-hf",
        "meta-llama/Llama-3.1-8B-Instruct",
        "nobody/none",
    ];
    let mut args = vec![
        "scores",
        "--run-id",
        "framed",
        "--leaderboard-source",
        "browser",
        "--models",
    ];
    args.extend(ids);
    cli.run(&args).await.assert_ok();
    let rows = leaderboard_csv(&cli, "framed");
    let status = |id: &str| rows.iter().find(|r| r["model_id"] == id).unwrap()["status"].clone();
    assert_eq!(
        status(ids[0]),
        "found",
        "the hidden type too: the frame's filters are off"
    );
    assert_eq!(status(ids[1]), "found");
    assert_eq!(status(ids[2]), "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_way_resumes_to_the_same_csv() {
    let fake = start_fake(30).await;
    // One answer per checkpoint object (a browser batch is otherwise one), so there
    // are points between objects to stop at.
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    let args = |run: &'static str| {
        vec![
            "run",
            "--limit",
            "10",
            "--run-id",
            run,
            "--leaderboard-source",
            "browser",
            "--browser-sessions",
            "1",
        ]
    };
    cli.run(&args("whole")).await.assert_ok();
    let reference = std::fs::read(cli.out().join("runs/whole/leaderboard.csv")).unwrap();

    let checkpoints = cli.out().join("runs/crash/checkpoints/scores");
    let models_csv = cli.out().join("runs/crash/models.csv");
    // Kill points: once the models stage is done, then after 1, 4 and 8 checkpoints.
    type KillPoint<'a> = (&'a str, Box<dyn Fn() -> bool + 'a>);
    let points: [KillPoint; 4] = [
        ("models.csv", Box::new(|| models_csv.exists())),
        ("1 checkpoint", Box::new(|| count_files(&checkpoints) >= 1)),
        ("4 checkpoints", Box::new(|| count_files(&checkpoints) >= 4)),
        ("8 checkpoints", Box::new(|| count_files(&checkpoints) >= 8)),
    ];
    for (point, reached) in points {
        let mut child = cli
            .command(&args("crash"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for(point, Duration::from_secs(90), &reached).await;
        kill_job_tree(&mut child).await;
    }
    assert!(
        count_files(&checkpoints) < 10 || !cli.out().join("runs/crash/leaderboard.csv").exists()
    );
    cli.run(&args("crash")).await.assert_ok();
    let resumed = std::fs::read(cli.out().join("runs/crash/leaderboard.csv")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&resumed),
        String::from_utf8_lossy(&reference)
    );
    assert_eq!(count_files(&checkpoints), 10, "one checkpoint per model");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_mid_run_is_replaced_and_the_run_finishes() {
    let fake = start_fake(20).await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    let child = cli
        .command(&[
            "run",
            "--limit",
            "8",
            "--run-id",
            "bk",
            "--leaderboard-source",
            "browser",
            "--log-format",
            "text",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoints = cli.out().join("runs/bk/checkpoints/scores");
    wait_for("2 checkpoints", Duration::from_secs(90), || {
        count_files(&checkpoints) >= 2
    })
    .await;
    let browsers = descendants(child.id().unwrap(), "chromium");
    assert!(!browsers.is_empty(), "found the job's browser");
    for pid in browsers {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("browser session failed; starting a new one"),
        "{stderr}"
    );
    let rows = leaderboard_csv(&cli, "bk");
    let models: std::collections::HashSet<_> = rows.iter().map(|r| r["model_id"].clone()).collect();
    assert_eq!(models.len(), 8, "every model has its answer");
    assert!(rows.iter().all(|r| r["status"] != "error"), "{rows:?}");
}

/// A run whose lookups fail: the page's own message, within a bounded time, exit 1,
/// the manifest `failed`, and `latest.json` left on the last good run.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_page_fails_the_run_quickly_and_says_why() {
    let fake = start_fake(30).await;
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    let run = |id: &'static str| {
        vec![
            "run",
            "--limit",
            "10",
            "--run-id",
            id,
            "--leaderboard-source",
            "browser",
        ]
    };
    cli.run(&[
        "run",
        "--limit",
        "10",
        "--run-id",
        "good",
        "--leaderboard-source",
        "datasets",
    ])
    .await
    .assert_ok();
    let latest = std::fs::read(cli.out().join("latest.json")).unwrap();
    let failed_run = |ran: &Ran, id: &str, says: &str| {
        assert_eq!(ran.code(), 1, "{id}: {}", ran.stderr());
        assert!(ran.stderr().contains(says), "{id}: {}", ran.stderr());
        let manifest =
            std::fs::read_to_string(cli.out().join("runs").join(id).join("manifest.json")).unwrap();
        assert!(manifest.contains("\"failed\""), "{manifest}");
        assert_eq!(
            std::fs::read(cli.out().join("latest.json")).unwrap(),
            latest,
            "{id}"
        );
        // 10 models, 4 batches, 15 s a page: a lookup that waited out its timeout on
        // every batch would take a minute.
        assert!(
            ran.elapsed < Duration::from_secs(45),
            "{id}: {:?}",
            ran.elapsed
        );
    };

    // The app's data request fails: it shows `HTTP error! status: 500`.
    fake.set_leaderboard_page(
        PageMode::DataFails {
            status: 500,
            requests: None,
        },
        Duration::from_millis(50),
    );
    let ran = cli.run(&run("down")).await;
    failed_run(&ran, "down", "HTTP error! status: 500");
    assert!(
        ran.stderr().contains("failed 3 times in a row"),
        "{}",
        ran.stderr()
    );

    // A redesign renamed a header the source reads.
    fake.set_leaderboard_page(
        PageMode::RenamedHeader("Average".into()),
        Duration::from_millis(50),
    );
    let ran = cli.run(&run("renamed")).await;
    failed_run(&ran, "renamed", "header `Average` missing");

    // One batch of four fails (its page load's two tries), the others are read: 3 of
    // 10 errors pass `max_error_ratio` = 0.5 and the run completes, saying so in the
    // manifest; at the default 0.1 it fails. A rerun asks for the errors again.
    for (id, ratio, code) in [("some-strict", "0.1", 1), ("some", "0.5", 0)] {
        fake.set_leaderboard_page(
            PageMode::DataFails {
                status: 503,
                requests: Some(2),
            },
            Duration::from_millis(50),
        );
        let ran = cli
            .clone_env()
            .env("HFHARVEST__LEADERBOARD__MAX_ERROR_RATIO", ratio)
            .run(&run(id))
            .await;
        assert_eq!(ran.code(), code, "{id}: {}", ran.stderr());
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.out().join("runs/some/manifest.json")).unwrap())
            .unwrap();
    let scores = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "scores")
        .unwrap();
    assert_eq!(scores["outcomes"]["error"], 3, "{manifest}");
    let ran = cli
        .run(&[
            "run",
            "--limit",
            "10",
            "--run-id",
            "some-strict",
            "--leaderboard-source",
            "browser",
        ])
        .await;
    ran.assert_ok();
    let rows = leaderboard_csv(&cli, "some-strict");
    assert!(
        rows.iter().all(|r| r["status"] != "error"),
        "the rerun asked again: {rows:?}"
    );

    // No WebDriver at all: a bounded wait for it to be ready, then a clear failure. It is
    // found by the check before the run (issue 21), so the exit is 2, as for every other
    // check before anything was written; it was 1 when it was found mid-run.
    let ran = cli
        .clone_env()
        .env("HFHARVEST__LEADERBOARD__WEBDRIVER_READY_TIMEOUT_SECS", "2")
        .run(&[
            "scores",
            "--leaderboard-source",
            "browser",
            "--webdriver",
            "http://127.0.0.1:9",
            "--models",
            "a/b",
        ])
        .await;
    assert_eq!(ran.code(), 2);
    assert!(
        ran.stderr()
            .contains("the WebDriver at http://127.0.0.1:9 was not ready within 2s"),
        "{}",
        ran.stderr()
    );
}

/// The real API's full-precision rows overflow Chromium's storage quota in the real app,
/// which then shows the browser's own message instead of its table: the run reports it
/// as such, within a bounded time.
#[tokio::test(flavor = "multi_thread")]
async fn the_storage_quota_error_is_reported_as_such() {
    let fake = FakeHf::start(FakeConfig {
        models: 10,
        render_delay: Duration::from_millis(50),
        formatted_decimals: None,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    let ran = cli
        .run(&[
            "scores",
            "--run-id",
            "quota",
            "--leaderboard-source",
            "browser",
            "--models",
            "meta-llama/Llama-3.1-8B-Instruct",
        ])
        .await;
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    assert!(
        ran.stderr().contains("exceeded the quota"),
        "{}",
        ran.stderr()
    );
    assert!(ran.elapsed < Duration::from_secs(60), "{:?}", ran.elapsed);
}

/// A corrupt download of the leaderboard's parquet file (the default source): here, the
/// input the leaderboard_parquet fuzz target found to panic the parquet reader. The run
/// fails with an error naming the file, exit 1, and nothing on stderr reads as a panic.
#[tokio::test(flavor = "multi_thread")]
async fn a_parquet_file_that_panics_the_reader_fails_the_run_with_a_message() {
    let fake = FakeHf::start(FakeConfig {
        models: 10,
        contents_parquet: Some(bytes::Bytes::from_static(include_bytes!(
            "fixtures/fuzz/leaderboard_parquet-crash-948df65d.parquet"
        ))),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    let ran = cli
        .run(&[
            "scores",
            "--run-id",
            "corrupt",
            "--models",
            "meta-llama/Llama-3.1-8B-Instruct",
        ])
        .await;
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    let stderr = ran.stderr();
    assert!(
        stderr.contains(
            "train-00000-of-00001.parquet: a malformed parquet file (the parquet reader failed: "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Processes anywhere on the machine whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_quits_every_browser_and_keeps_the_checkpoints() {
    let fake = start_fake(20).await;
    // One answer per checkpoint object (a browser batch is otherwise one), so there
    // are points between objects to stop at.
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__OUTPUT__CHECKPOINT_BATCH", "1");
    // The job's temp folder, so its browser profiles (and browsers) can be told apart.
    let tmp = cli.workdir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let tmp_text = tmp.to_str().unwrap().to_owned();
    let cli = cli.env("TMPDIR", &tmp_text);
    let args = [
        "run",
        "--limit",
        "10",
        "--run-id",
        "term",
        "--leaderboard-source",
        "browser",
        "--browser-sessions",
        "2",
    ];
    let child = cli
        .command(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoints = cli.out().join("runs/term/checkpoints/scores");
    wait_for("2 checkpoints", Duration::from_secs(90), || {
        count_files(&checkpoints) >= 2
    })
    .await;
    assert!(
        !processes_mentioning(&tmp_text).is_empty(),
        "the browsers run with a profile in the job's temp folder"
    );
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the job exits soon after SIGTERM")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // quit() ran for every session: no browser is left, and their profiles are gone.
    wait_for("the browsers to exit", Duration::from_secs(15), || {
        processes_mentioning(&tmp_text).is_empty()
    })
    .await;
    let profiles: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("hfharvest-chromium-")
        })
        .collect();
    assert!(profiles.is_empty(), "profiles left: {profiles:?}");
    let kept = count_files(&checkpoints);
    assert!((2..10).contains(&kept), "{kept} checkpoints kept");
    let manifest = std::fs::read_to_string(cli.out().join("runs/term/manifest.json")).unwrap();
    assert!(manifest.contains("\"failed\""), "{manifest}");

    cli.run(&args).await.assert_ok();
    let rows = leaderboard_csv(&cli, "term");
    let models: std::collections::HashSet<_> = rows.iter().map(|r| r["model_id"].clone()).collect();
    assert_eq!(models.len(), 10, "the rerun finishes the rest");
}

/// A leaderboard row in the JSON API's shape, named `name`.
fn row_named(name: serde_json::Value, eval: &str) -> serde_json::Value {
    serde_json::json!({
        "id": eval,
        "model": {"name": name, "sha": "0", "precision": "bfloat16", "type": "chatmodels",
                  "weight_type": "Original", "architecture": "LlamaForCausalLM",
                  "average_score": 10.0, "has_chat_template": true},
        "evaluations": {}, "features": {}, "metadata": {}
    })
}

fn quarantined(cli: &Cli, run: &str) -> Vec<serde_json::Value> {
    let path = cli.out().join("runs").join(run).join("quarantine.json");
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    log["records"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn leaderboard_rows_that_name_no_model_are_set_aside_in_every_source() {
    let first = start_fake(1).await.catalogue().id(0);
    // Bad rows whose names are strings, so the fake app's script can draw them; the one
    // that contains a model's id shows when the page is searched for that model.
    let drawable = vec![
        row_named(serde_json::json!(format!("{first}/extra")), "bad_1"),
        row_named(serde_json::json!(""), "bad_2"),
        row_named(serde_json::json!("ctrl-org/\u{7}x"), "bad_3"),
    ];
    let mut all = drawable.clone();
    all.push(row_named(serde_json::json!(42), "bad_4"));
    all.push(serde_json::json!("not a row"));
    let fake = FakeHf::start(FakeConfig {
        models: 30,
        render_delay: Duration::from_millis(50),
        formatted_decimals: Some(4),
        extra_leaderboard_rows: all,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "formatted");

    // The app's JSON API: the run goes on, and quality.json lists each row and why.
    cli.run(&["run", "--limit", "12", "--run-id", "fmt"])
        .await
        .assert_ok();
    let lb = leaderboard_csv(&cli, "fmt");
    assert!(lb
        .iter()
        .any(|r| r["status"] == "found" && r["model_id"] == first));
    assert!(lb.iter().all(|r| !r["matched_name"].contains("/extra")));
    let quality: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.out().join("runs/fmt/quality.json")).unwrap())
            .unwrap();
    let rows: Vec<&serde_json::Value> = quality["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["kind"] == "leaderboard_row")
        .collect();
    assert_eq!(rows.len(), 5, "{rows:#?}");
    let real_rows = 4576;
    for (q, (position, check)) in rows.iter().zip([
        (real_rows + 1, "invalid_id"),
        (real_rows + 2, "missing_id"),
        (real_rows + 3, "invalid_id"),
        (real_rows + 4, "non_string_id"),
        (real_rows + 5, "not_an_object"),
    ]) {
        assert_eq!(q["stage"], "scores");
        assert_eq!(q["source"], fake.formatted_url());
        assert_eq!(q["position"], position, "{q}");
        assert_eq!(q["check"], check, "{q}");
    }
    assert_eq!(rows[0]["id"], format!("{first}/extra"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.out().join("runs/fmt/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["stages"][1]["outcomes"]["quarantined"], 5);

    // The datasets-server `/rows` API: the same rows, each named by its page.
    let models = cli.out().join("runs/fmt/models.csv");
    let rows_api = cli
        .clone_env()
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "rows");
    rows_api
        .run(&[
            "scores",
            "--models",
            models.to_str().unwrap(),
            "--run-id",
            "rows",
        ])
        .await
        .assert_ok();
    let via_rows = quarantined(&cli, "rows");
    assert_eq!(via_rows.len(), 5, "{via_rows:#?}");
    assert!(via_rows
        .iter()
        .all(|q| q["source"].as_str().unwrap().contains("/rows?dataset=")
            && q["source"].as_str().unwrap().contains("offset=4500")));
    assert_eq!(via_rows[3]["check"], "non_string_id");

    // The dataset's parquet file (the default): the same rows, by their place in it. A
    // parquet column is typed, so the number and the non-object arrive as null names.
    let parquet_api = cli
        .clone_env()
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "parquet");
    parquet_api
        .run(&[
            "scores",
            "--models",
            models.to_str().unwrap(),
            "--run-id",
            "parquet",
        ])
        .await
        .assert_ok();
    let via_parquet = quarantined(&cli, "parquet");
    assert_eq!(via_parquet.len(), 5, "{via_parquet:#?}");
    for (q, (position, check)) in via_parquet.iter().zip([
        (real_rows + 1, "invalid_id"),
        (real_rows + 2, "missing_id"),
        (real_rows + 3, "invalid_id"),
        (real_rows + 4, "missing_id"),
        (real_rows + 5, "missing_id"),
    ]) {
        assert!(q["source"].as_str().unwrap().ends_with(".parquet"), "{q}");
        assert_eq!(q["position"], position, "{q}");
        assert_eq!(q["check"], check, "{q}");
    }

    // The page's table, in a real browser, with the rows its script can draw. The
    // search is an anchored, exact regular expression per model, so the app never shows
    // a row whose name is not the model's: the bad rows cannot reach the table, and the
    // model is found. (A table row that names no model is refused by rank:
    // browser::table's `rows_without_a_model_id_are_refused_by_rank`, and the
    // leaderboard_table fuzz target.)
    let fake = FakeHf::start(FakeConfig {
        models: 30,
        render_delay: Duration::from_millis(50),
        formatted_decimals: Some(4),
        extra_leaderboard_rows: drawable,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    cli.run(&[
        "scores",
        "--models",
        &first,
        "--run-id",
        "br",
        "--leaderboard-source",
        "browser",
    ])
    .await
    .assert_ok();
    let lb = leaderboard_csv(&cli, "br");
    assert!(!lb.is_empty());
    assert!(lb.iter().all(|r| r["status"] == "found"), "{lb:?}");
    assert!(lb.iter().all(|r| r["matched_name"] == first), "{lb:?}");
    assert!(!cli.out().join("runs/br/quarantine.json").exists());
}
