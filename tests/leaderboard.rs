//! The scores stage against the fake leaderboard: the datasets source over HTTP and the
//! browser source in real headless Chromium (Debian's chromium + chromedriver).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use fakehf::PageMode;
use support::*;

async fn start_fake(models: usize) -> FakeHf {
    FakeHf::start(FakeConfig {
        models,
        render_delay: Duration::from_millis(150),
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn leaderboard_csv(cli: &Cli, run: &str) -> Vec<HashMap<String, String>> {
    read_csv(&cli.out().join("runs").join(run).join("leaderboard.csv"))
}

/// The rows with the `source` column left out, for comparing sources.
fn without_source(rows: &[HashMap<String, String>]) -> Vec<Vec<(String, String)>> {
    rows.iter()
        .map(|r| {
            let mut cells: Vec<(String, String)> = r
                .iter()
                .filter(|(k, _)| *k != "source")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            cells.sort();
            cells
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn both_sources_give_the_same_scores() {
    let fake = start_fake(40).await;
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    cli.run(&[
        "run",
        "--limit",
        "24",
        "--run-id",
        "ds",
        "--leaderboard-source",
        "datasets",
    ])
    .await
    .assert_ok();
    let datasets = leaderboard_csv(&cli, "ds");
    let models = cli.out().join("runs/ds/models.csv");
    let models = models.to_str().unwrap();

    let rows_api = cli
        .clone_env()
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "rows");
    rows_api
        .run(&["scores", "--models", models, "--run-id", "rows"])
        .await
        .assert_ok();
    let via_rows = read_csv(&rows_api.out().join("runs/rows/leaderboard.csv"));

    let page_loads_before = fake.leaderboard_data_requests();
    cli.run(&[
        "scores",
        "--models",
        models,
        "--run-id",
        "br",
        "--leaderboard-source",
        "browser",
        "--browser-sessions",
        "2",
    ])
    .await
    .assert_ok();
    let browser = leaderboard_csv(&cli, "br");
    // Each page load fetches the app's data once; reused sessions search in the app.
    let page_loads = fake.leaderboard_data_requests() - page_loads_before;
    assert!(
        page_loads < 24 / 2,
        "24 models took {page_loads} page loads: the sessions' search box went unused"
    );

    let found = datasets.iter().filter(|r| r["status"] == "found").count();
    assert!(
        found >= 10,
        "enough models are on the leaderboard to compare ({found})"
    );
    assert!(datasets.iter().any(|r| r["status"] == "not_found"));
    assert_eq!(
        without_source(&datasets),
        without_source(&browser),
        "browser and datasets sources agree"
    );
    assert_eq!(
        without_source(&datasets),
        without_source(&via_rows),
        "both HTTP APIs agree"
    );
    assert!(browser.iter().all(|r| r["source"] == "browser"));
    // Several evaluations of one model are all kept, each under its own key.
    let per_model =
        datasets
            .iter()
            .filter(|r| r["status"] == "found")
            .fold(HashMap::new(), |mut m, r| {
                *m.entry(r["model_id"].clone()).or_insert(0) += 1;
                m
            });
    let evals: std::collections::HashSet<&str> =
        datasets.iter().map(|r| r["eval_name"].as_str()).collect();
    assert!(evals.len() >= per_model.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn near_misses_never_take_another_models_scores() {
    let fake = start_fake(10).await;
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    // In this order, a reused session's search box goes from the -Instruct rows to the
    // base model's, whose id both contain: the rows on screen cannot tell the two searches
    // apart, so that lookup must load the page, and must still get the base model's rows.
    let ids = [
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.1-8B",
        "mistralai/Mistral-7B-Instruct",
        "nobody/nothing-like-this-7B",
    ];
    for source in ["datasets", "browser"] {
        let mut args = vec![
            "scores",
            "--run-id",
            source,
            "--leaderboard-source",
            source,
            "--models",
        ];
        args.extend(ids);
        cli.run(&args).await.assert_ok();
        let rows = leaderboard_csv(&cli, source);
        let instruct = rows.iter().find(|r| r["model_id"] == ids[0]).unwrap();
        assert_eq!(instruct["status"], "found", "{source}");
        assert_eq!(instruct["matched_name"], ids[0], "{source}");
        let base: Vec<_> = rows.iter().filter(|r| r["model_id"] == ids[1]).collect();
        assert!(!base.is_empty());
        for r in &base {
            assert_eq!(r["status"], "found", "{source}");
            assert_eq!(
                r["matched_name"], "meta-llama/Llama-3.1-8B",
                "{source}: never the -Instruct row"
            );
            assert!(
                r["eval_name"].starts_with("meta-llama/Llama-3.1-8B_"),
                "{source}"
            );
        }
        let near = rows.iter().find(|r| r["model_id"] == ids[2]).unwrap();
        assert_eq!(near["status"], "mismatch", "{source}");
        assert_eq!(near["average"], "", "{source}: no borrowed scores");
        assert!(
            near["detail"].contains("mistralai/Mistral-7B-Instruct-v0.1"),
            "{source}: {}",
            near["detail"]
        );
        let missing = rows.iter().find(|r| r["model_id"] == ids[3]).unwrap();
        assert_eq!(missing["status"], "not_found", "{source}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_way_resumes_to_the_same_csv() {
    let fake = start_fake(30).await;
    let cli = Cli::new(&fake).leaderboard_on(&fake);
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
    let cli = Cli::new(&fake).leaderboard_on(&fake);
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

#[tokio::test(flavor = "multi_thread")]
async fn changed_html_gives_a_clear_per_model_error_not_a_hang() {
    let fake = start_fake(10).await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__LEADERBOARD__PAGE_TIMEOUT_SECS", "2");
    let ids = ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"];

    fake.set_leaderboard_page(PageMode::NoTable, Duration::from_millis(50));
    let mut args = vec![
        "scores",
        "--run-id",
        "notable",
        "--leaderboard-source",
        "browser",
        "--models",
    ];
    args.extend(ids);
    let ran = cli.run(&args).await;
    ran.assert_ok();
    for r in leaderboard_csv(&cli, "notable") {
        assert_eq!(r["status"], "error");
        assert!(
            r["detail"].contains("table `table` did not appear within 2s"),
            "{}",
            r["detail"]
        );
    }

    fake.set_leaderboard_page(
        PageMode::MissingHeader("Average ⬆️".into()),
        Duration::from_millis(50),
    );
    args[2] = "nohead";
    cli.run(&args).await.assert_ok();
    for r in leaderboard_csv(&cli, "nohead") {
        assert_eq!(r["status"], "error");
        assert!(
            r["detail"].contains("header `Average ⬆️` missing"),
            "{}",
            r["detail"]
        );
    }

    fake.set_leaderboard_page(PageMode::IgnoresSearch, Duration::from_millis(50));
    args[2] = "nofilter";
    cli.run(&args).await.assert_ok();
    for r in leaderboard_csv(&cli, "nofilter") {
        assert_eq!(r["status"], "error");
        assert_eq!(r["average"], "", "no scores read from an unfiltered table");
        assert!(
            r["detail"].contains("not matching `search=") && r["detail"].contains("after 2s"),
            "{}",
            r["detail"]
        );
    }

    // Errors are retried on a rerun: with the page back, the same run id completes.
    fake.set_leaderboard_page(PageMode::Normal, Duration::from_millis(50));
    cli.run(&args).await.assert_ok();
    let rerun = leaderboard_csv(&cli, "nofilter");
    assert!(rerun.iter().all(|r| r["status"] == "found"), "{rerun:?}");

    // No WebDriver at all: a bounded wait for it to be ready, then a clear failure, exit 1.
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
            ids[0],
        ])
        .await;
    assert_eq!(ran.code(), 1);
    assert!(
        ran.stderr()
            .contains("the WebDriver at http://127.0.0.1:9 was not ready within 2s"),
        "{}",
        ran.stderr()
    );
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
    let cli = Cli::new(&fake).leaderboard_on(&fake);
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
        extra_leaderboard_rows: all,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let cli = Cli::new(&fake).leaderboard_on(&fake);

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

    // The page's table, in a real browser, with only the rows its script can draw.
    let fake = FakeHf::start(FakeConfig {
        models: 30,
        render_delay: Duration::from_millis(50),
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
    assert!(lb.iter().all(|r| r["status"] == "found"), "{lb:?}");
    let seen = quarantined(&cli, "br");
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0]["id"], format!("{first}/extra"));
    assert_eq!(seen[0]["check"], "invalid_id");
    assert!(
        seen[0]["source"]
            .as_str()
            .unwrap()
            .starts_with(&fake.page_url()),
        "{}",
        seen[0]
    );
}
