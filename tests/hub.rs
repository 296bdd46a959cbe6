//! The models stage against the fake Hub, through the real binary.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::*;

async fn start_fake(models: usize) -> FakeHf {
    FakeHf::start(FakeConfig {
        models,
        ..FakeConfig::default()
    })
    .await
    .expect("fake Hub starts")
}

fn models_csv(cli: &Cli, run: &str) -> Vec<std::collections::HashMap<String, String>> {
    read_csv(&cli.out().join("runs").join(run).join("models.csv"))
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_gives_exactly_n_unique_models_in_download_order() {
    let fake = start_fake(1000).await;
    let cli = Cli::new(&fake).env("HFHARVEST__HUB__PAGE_SIZE", "100");
    cli.run(&["models", "--limit", "250", "--run-id", "p1"])
        .await
        .assert_ok();

    let rows = models_csv(&cli, "p1");
    assert_eq!(rows.len(), 250);
    let ids: HashSet<&str> = rows.iter().map(|r| r["model_id"].as_str()).collect();
    assert_eq!(ids.len(), 250, "ids are unique");
    let downloads: Vec<u64> = rows
        .iter()
        .map(|r| r["downloads"].parse().unwrap())
        .collect();
    assert!(downloads.windows(2).all(|w| w[0] > w[1]), "download order");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["rank"], (i + 1).to_string());
        assert_eq!(
            row["model_id"],
            fake.catalogue().id(i),
            "same order as the Hub"
        );
    }
    assert_eq!(fake.requests().list(), 3, "three pages of 100");
    // Only the sparse list item needs /api/models/{id}.
    assert_eq!(fake.requests().detail(), 1);
    let jsonl = std::fs::read_to_string(cli.out().join("runs/p1/models.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 250);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], rows[0]["model_id"].as_str());
    assert!(
        first["cardData"].is_object(),
        "the raw JSON keeps every field"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_models_are_kept_with_what_they_have() {
    let fake = start_fake(40).await;
    let cli = Cli::new(&fake);
    cli.run(&["models", "--limit", "25", "--run-id", "odd"])
        .await
        .assert_ok();
    let rows = models_csv(&cli, "odd");
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r["model_id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };

    let unicode = by_id("ünïcode-lab/Ωmega-Chat-7B");
    assert_eq!(unicode["author"], "ünïcode-lab");
    let gguf = by_id("bartowski/Meta-Llama-3.1-8B-Instruct-GGUF");
    assert_eq!(gguf["parameters"], "8000000000");
    assert_eq!(gguf["parameters_source"], "name");
    assert_eq!(gguf["base_model_relation"], "quantized");
    assert_eq!(gguf["library_name"], "gguf");
    let sparse = by_id("sparse-org/Sparse-Listing-3B");
    assert_eq!(sparse["sha"].len(), 40, "completed from /api/models/{{id}}");
    assert!(!sparse["created_at"].is_empty());
    let bare = by_id("bare-org/bare-model");
    assert_eq!(bare["parameters"], "");
    assert_eq!(bare["parameters_source"], "none");
    assert_eq!(bare["license"], "");
    let llama = by_id("meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(llama["gated"], "manual");
    assert_eq!(llama["parameters_source"], "safetensors");
    assert_eq!(llama["architectures"], "LlamaForCausalLM");
    assert_eq!(llama["base_model_relation"], "finetune");
    assert_eq!(llama["license"], "llama3.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_is_waited_out_then_the_run_succeeds() {
    let fake = start_fake(50).await;
    fake.inject(Route::List, Fault::rate_limited(1), 1);
    let cli = Cli::new(&fake);
    let ran = cli
        .run(&["models", "--limit", "20", "--run-id", "r429"])
        .await;
    ran.assert_ok();
    assert_eq!(fake.requests().list(), 2, "the 429, then the page");
    assert!(
        ran.elapsed >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({:?})",
        ran.elapsed
    );
    assert_eq!(models_csv(&cli, "r429").len(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_errors_fail_clearly_within_the_budget() {
    let fake = start_fake(50).await;
    fake.inject(Route::List, Fault::server_error(503), 1000);
    let cli = Cli::new(&fake)
        .env("HFHARVEST__HTTP__MAX_ATTEMPTS", "4")
        .env("HFHARVEST__HTTP__BACKOFF_INITIAL_MS", "50")
        .env("HFHARVEST__HTTP__RETRY_BUDGET_SECS", "5");
    let ran = cli
        .run(&["models", "--limit", "20", "--run-id", "r5xx"])
        .await;
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    let err = ran.stderr();
    assert!(err.contains("gave up after 4 attempt(s)"), "{err}");
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(
        err.contains(&format!("{}/api/models?", fake.url())),
        "names the URL: {err}"
    );
    assert_eq!(fake.requests().list(), 4);
    assert!(!err.contains("panicked"));
    assert!(
        !cli.out().join("runs/r5xx/models.csv").exists(),
        "no partial CSV is published"
    );
    let manifest = std::fs::read_to_string(cli.out().join("runs/r5xx/manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"failed\""), "{manifest}");

    // The time budget bounds the retries too, whatever the attempt limit.
    let fake = start_fake(50).await;
    fake.inject(Route::List, Fault::server_error(500), 1000);
    let cli = Cli::new(&fake)
        .env("HFHARVEST__HTTP__MAX_ATTEMPTS", "1000")
        .env("HFHARVEST__HTTP__BACKOFF_INITIAL_MS", "200")
        .env("HFHARVEST__HTTP__BACKOFF_MAX_MS", "400")
        .env("HFHARVEST__HTTP__RETRY_BUDGET_SECS", "2");
    let ran = cli.run(&["models", "--limit", "20"]).await;
    assert_eq!(ran.code(), 1);
    assert!(ran.stderr().contains("gave up after"), "{}", ran.stderr());
    assert!(fake.requests().list() < 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_truncated_json_name_the_url_and_position() {
    let fake = start_fake(50).await;
    fake.inject(Route::List, Fault::Body("[{\"id\": \"a/b\",, }]".into()), 1);
    let cli = Cli::new(&fake);
    let ran = cli.run(&["models", "--limit", "5"]).await;
    assert_eq!(ran.code(), 1);
    let err = ran.stderr();
    assert!(err.contains("invalid JSON at line 1, column"), "{err}");
    assert!(
        err.contains(&format!("{}/api/models?", fake.url())),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    fake.inject(Route::List, Fault::Truncated(300), 1);
    let ran = cli.run(&["models", "--limit", "5"]).await;
    assert_eq!(ran.code(), 1);
    assert!(ran.stderr().contains("truncated"), "{}", ran.stderr());

    fake.inject(
        Route::List,
        Fault::Body("{\"error\": \"not a list\"}".into()),
        1,
    );
    let ran = cli.run(&["models", "--limit", "5"]).await;
    assert_eq!(ran.code(), 1);
    assert!(
        ran.stderr()
            .contains("expected a JSON array, got an object"),
        "{}",
        ran.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_is_sent_but_never_printed_or_written() {
    const SENTINEL: &str = "hf_SENTINELtokenDoNotLeak0123456789";
    let fake = start_fake(60).await;
    // Trace logging on everything, so a leak anywhere in the HTTP stack would show.
    let cli = Cli::new(&fake)
        .env("HF_TOKEN", SENTINEL)
        .env("RUST_LOG", "trace");
    fake.inject(Route::List, Fault::rate_limited(0), 1);
    let ran = cli
        .run(&[
            "models",
            "--limit",
            "30",
            "--run-id",
            "tok",
            "--log-format",
            "json",
        ])
        .await;
    ran.assert_ok();
    assert!(
        fake.requests()
            .bearer_tokens
            .lock()
            .unwrap()
            .iter()
            .any(|t| t == SENTINEL),
        "token was sent"
    );
    assert!(!ran.stdout().contains(SENTINEL));
    assert!(!ran.stderr().contains(SENTINEL));
    assert!(ran.stderr().len() > 1000, "trace logging was on");
    for file in files_under(&cli.out()) {
        let body = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains(SENTINEL),
            "{} leaks the token",
            file.display()
        );
    }

    // The dry run prints the effective settings: no token there either.
    let ran = cli.run(&["--dry-run", "models"]).await;
    ran.assert_ok();
    assert!(!ran.stdout().contains(SENTINEL));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_from_a_dotenv_file() {
    let fake = start_fake(20).await;
    let cli = Cli::new(&fake);
    std::fs::write(
        cli.workdir.path().join(".env"),
        "HF_TOKEN=hf_from_dotenv_file\n",
    )
    .unwrap();
    cli.run(&["models", "--limit", "3"]).await.assert_ok();
    assert_eq!(
        *fake.requests().bearer_tokens.lock().unwrap(),
        vec!["hf_from_dotenv_file".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_rerun_of_a_finished_stage() {
    let fake = start_fake(1000).await;
    let cli = Cli::new(&fake).env("HFHARVEST__HUB__AUTHOR", "meta-llama");
    cli.run(&["models", "--limit", "5", "--run-id", "f1"])
        .await
        .assert_ok();
    let rows = models_csv(&cli, "f1");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["author"] == "meta-llama"), "{rows:?}");
    // A rerun of the same run id reuses the finished stage without asking the Hub again.
    let before = fake.requests().total();
    cli.run(&["models", "--limit", "5", "--run-id", "f1"])
        .await
        .assert_ok();
    assert_eq!(fake.requests().total(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_config_is_a_usage_error_naming_key_and_source() {
    let fake = start_fake(5).await;
    let cli = Cli::new(&fake);
    let file = cli.workdir.path().join("bad.toml");
    std::fs::write(&file, "[hub]\nlimt = 3\n").unwrap();
    let ran = cli
        .run(&["--config", file.to_str().unwrap(), "models"])
        .await;
    assert_eq!(ran.code(), 2);
    assert!(
        ran.stderr().contains("unknown config key `hub.limt`"),
        "{}",
        ran.stderr()
    );
    assert!(ran.stderr().contains("bad.toml"), "{}", ran.stderr());

    std::fs::write(&file, "[hub]\nlimit = \"many\"\n").unwrap();
    let ran = cli
        .run(&["--config", file.to_str().unwrap(), "models"])
        .await;
    assert_eq!(ran.code(), 2);
    assert!(
        ran.stderr().contains("for key `hub.limit` in "),
        "{}",
        ran.stderr()
    );
    assert!(ran.stderr().contains("bad.toml"), "{}", ran.stderr());
    let ran = Cli::new(&fake)
        .env("HFHARVEST__HUB__LIMIT", "lots")
        .run(&["models"])
        .await;
    assert_eq!(ran.code(), 2);
    assert!(
        ran.stderr().contains("`hub.limit` in the environment"),
        "{}",
        ran.stderr()
    );

    let ran = cli.run(&["models", "--limit", "-3"]).await;
    assert_eq!(ran.code(), 2);
    let ran = cli.run(&["models", "--run-id", "../escape"]).await;
    assert_eq!(ran.code(), 2);
    assert!(ran.stderr().contains("invalid run id"), "{}", ran.stderr());
    assert_eq!(fake.requests().total(), 0, "nothing ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_example_config_is_valid() {
    let fake = start_fake(5).await;
    let cli = Cli::new(&fake);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/hfharvest.example.toml");
    let ran = cli.run(&["--config", example, "--dry-run", "run"]).await;
    ran.assert_ok();
    // The dry run prints the settings as TOML, in the example file's form.
    let shown: toml::Table = toml::from_str(&ran.stdout()).unwrap();
    assert_eq!(shown["hub"]["limit"].as_integer(), Some(100));
    assert_eq!(shown["leaderboard"]["source"].as_str(), Some("datasets"));
    // And, as comments, the stages that would run.
    for stage in ["models", "scores", "prepare", "report", "publish"] {
        assert!(
            ran.stdout().contains(&format!("#   {stage:<8} ")),
            "{stage} in the plan:\n{}",
            ran.stdout()
        );
    }
    assert_eq!(fake.requests().total(), 0, "nothing ran");
}

/// The fake Hub with the malformed list items of `fakehf::malformed_items` at `ranks`.
async fn start_fake_with_bad_items(models: usize, ranks: &[usize]) -> FakeHf {
    let bad = fakehf::malformed_items();
    assert_eq!(bad.len(), ranks.len());
    FakeHf::start(FakeConfig {
        models,
        render_delay: Duration::from_millis(50),
        extra_list_items: ranks
            .iter()
            .zip(bad)
            .map(|(rank, (_, item))| (*rank, item))
            .collect(),
        ..FakeConfig::default()
    })
    .await
    .expect("fake Hub starts")
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_list_items_are_quarantined_and_the_night_goes_on() {
    const RANKS: [usize; 7] = [2, 5, 9, 49, 50, 99, 120];
    let fake = start_fake_with_bad_items(200, &RANKS).await;
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__HUB__PAGE_SIZE", "50");
    let ran = cli.run(&["run", "--limit", "150", "--run-id", "bad"]).await;
    ran.assert_ok();
    assert!(!ran.stderr().contains("panicked"), "{}", ran.stderr());
    let run = cli.out().join("runs/bad");

    // Every good model, in the Hub's order, in every output.
    let wanted: Vec<String> = (0..150).map(|i| fake.catalogue().id(i)).collect();
    let rows = models_csv(&cli, "bad");
    let ids: Vec<&str> = rows.iter().map(|r| r["model_id"].as_str()).collect();
    assert_eq!(
        ids, wanted,
        "models.csv holds every good model and no bad one"
    );
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["rank"], (i + 1).to_string());
    }
    let jsonl = std::fs::read_to_string(run.join("models.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 150);
    let scored: HashSet<String> = read_csv(&run.join("leaderboard.csv"))
        .into_iter()
        .map(|r| r["model_id"].clone())
        .collect();
    let dataset: Vec<String> = read_csv(&run.join("dataset.csv"))
        .into_iter()
        .map(|r| r["model_id"].clone())
        .collect();
    assert_eq!(dataset, wanted, "dataset.csv");
    let report = report_model_ids(&std::fs::read_to_string(run.join("report.html")).unwrap());
    assert_eq!(report, wanted, "the report's table, in rank order");
    for id in &wanted {
        assert!(scored.contains(id), "{id} looked up");
    }

    // Every bad record, with where it came from and why.
    let quality: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("quality.json")).unwrap()).unwrap();
    let quarantined = quality["quarantined"].as_array().expect("quarantined list");
    assert_eq!(quarantined.len(), 7, "{quarantined:#?}");
    for q in quarantined {
        assert_eq!(q["stage"], "models", "{q}");
        assert_eq!(q["kind"], "hub_item", "{q}");
        let source = q["source"].as_str().unwrap();
        assert!(
            source.starts_with(&format!("{}/api/models?", fake.url())),
            "{q}"
        );
        assert!(q["position"].as_u64().unwrap() >= 1, "{q}");
        assert!(!q["detail"].as_str().unwrap().is_empty(), "{q}");
    }
    let by_id = |id: &str| {
        quarantined
            .iter()
            .find(|q| q["id"] == id)
            .unwrap_or_else(|| panic!("{id:?} not quarantined: {quarantined:#?}"))
    };
    assert_eq!(by_id("bad-org/nested/model-7B")["check"], "invalid_id");
    assert_eq!(by_id("empty-name-org/")["check"], "invalid_id");
    assert_eq!(
        by_id("ctrl-org/model\u{7}\u{1b}[31m-7B")["check"],
        "invalid_id"
    );
    let long = format!("long-org/{}", "x".repeat(291));
    assert_eq!(long.chars().count(), 300);
    assert_eq!(by_id(&long)["check"], "invalid_id");
    assert_eq!(by_id("12345")["check"], "non_string_id");
    let checks: Vec<&str> = quarantined
        .iter()
        .map(|q| q["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"missing_id"), "{checks:?}");
    assert!(checks.contains(&"not_an_object"), "{checks:?}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "complete");
    let models_stage = &manifest["stages"][0];
    assert_eq!(models_stage["name"], "models");
    assert_eq!(models_stage["outcomes"]["collected"], 150);
    assert_eq!(models_stage["outcomes"]["quarantined"], 7);

    // The quarantine is kept with the run: prepare again, and it is still there.
    cli.run(&["prepare", "--run-id", "bad"]).await.assert_ok();
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("quality.json")).unwrap()).unwrap();
    assert_eq!(again["quarantined"], quality["quarantined"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_bad_records_fail_the_run_and_say_so() {
    const RANKS: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];
    let fake = start_fake_with_bad_items(60, &RANKS).await;
    let cli = Cli::new(&fake);
    let ran = cli
        .run(&["models", "--limit", "40", "--run-id", "worse"])
        .await;
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    let err = ran.stderr();
    assert!(err.contains("hub.max_invalid_ratio (0.05)"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let run = cli.out().join("runs/worse");
    assert!(
        !run.join("models.csv").exists(),
        "nothing half-good is published"
    );
    let quarantine: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("quarantine.json")).unwrap()).unwrap();
    // It stops as soon as the listing cannot pass: 3 bad items against a limit of 40.
    let records = quarantine["records"].as_array().unwrap().len();
    assert_eq!(records, 3, "{quarantine}");
    assert!(
        err.contains("3 of the 5 Hub list items read were not models"),
        "{err}"
    );
    assert!(err.contains("quarantine.json"), "{err}");

    // A higher bound lets the same listing through.
    let ran = cli
        .clone_env()
        .env("HFHARVEST__HUB__MAX_INVALID_RATIO", "0.2")
        .run(&["models", "--limit", "40", "--run-id", "tolerant"])
        .await;
    ran.assert_ok();
    assert_eq!(models_csv(&cli, "tolerant").len(), 40);
}

/// A 429 with these headers (the body as the Hub sends it).
fn throttled(headers: &[(&str, &str)]) -> Fault {
    Fault::Status {
        status: 429,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_wait_headers_never_panic_and_long_waits_are_capped() {
    let fake = start_fake(30).await;
    // Pages of 2, so a window spent on the first page holds up the second.
    let cli = Cli::new(&fake)
        .env("HFHARVEST__HUB__PAGE_SIZE", "2")
        .env("HFHARVEST__HTTP__BACKOFF_INITIAL_MS", "50")
        .env("HFHARVEST__HTTP__MAX_SERVER_WAIT_SECS", "1");
    let u64_max = u64::MAX.to_string();
    let far_future = "Fri, 31 Dec 9999 23:59:59 GMT";
    let cases: Vec<(&str, Fault, bool)> = vec![
        (
            "Retry-After: 1e20",
            throttled(&[("Retry-After", "1e20")]),
            true,
        ),
        (
            "Retry-After: -5",
            throttled(&[("Retry-After", "-5")]),
            false,
        ),
        (
            "Retry-After: a date far in the future",
            throttled(&[("Retry-After", far_future)]),
            true,
        ),
        (
            "Retry-After: 99999999999999999999999 (past u64)",
            throttled(&[("Retry-After", "99999999999999999999999")]),
            true,
        ),
        (
            "RateLimit t=u64::MAX on a 429",
            throttled(&[("RateLimit", &format!("\"api\";r=0;t={u64_max}"))]),
            true,
        ),
        (
            "RateLimit t=u64::MAX on a 200 (a spent window)",
            Fault::Headers(vec![(
                "RateLimit".into(),
                format!("\"api\";r=0;t={u64_max}"),
            )]),
            true,
        ),
    ];
    for (i, (what, fault, capped)) in cases.into_iter().enumerate() {
        fake.inject(Route::List, fault, 1);
        let run_id = format!("wait{i}");
        let ran = cli
            .run(&["models", "--limit", "5", "--run-id", &run_id])
            .await;
        let err = ran.stderr();
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(ran.code(), 0, "{what}: {err}");
        assert_eq!(models_csv(&cli, &run_id).len(), 5, "{what}");
        assert!(
            ran.elapsed < Duration::from_secs(20),
            "{what}: waited {:?}",
            ran.elapsed
        );
        assert_eq!(
            err.contains("http.max_server_wait_secs"),
            capped,
            "{what}: a capped wait says so: {err}"
        );
        if capped {
            assert!(
                ran.elapsed >= Duration::from_secs(1),
                "{what}: {:?}",
                ran.elapsed
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn non_finite_negative_and_huge_settings_exit_2_naming_the_key() {
    let fake = start_fake(5).await;
    const SECS: [&str; 14] = [
        "output.lock_ttl_secs",
        "http.timeout_secs",
        "http.connect_timeout_secs",
        "http.retry_budget_secs",
        "http.max_server_wait_secs",
        "http.backoff_initial_ms",
        "http.backoff_max_ms",
        "hub.max_invalid_ratio",
        "leaderboard.webdriver_ready_timeout_secs",
        "leaderboard.page_timeout_secs",
        "leaderboard.max_invalid_ratio",
        "s3.operation_timeout_secs",
        "s3.connect_timeout_secs",
        "telemetry.shutdown_timeout_secs",
    ];
    let env_name = |key: &str| format!("HFHARVEST__{}", key.to_uppercase().replace('.', "__"));
    for key in SECS {
        for value in ["inf", "NaN", "-inf", "-1", "1e300", "10000000000000"] {
            let ran = Cli::new(&fake)
                .env(&env_name(key), value)
                .run(&["--dry-run", "models"])
                .await;
            let err = ran.stderr();
            assert_eq!(ran.code(), 2, "{key}={value}: {err}");
            assert!(err.contains(key), "{key}={value} names the key: {err}");
            assert!(!err.contains("panicked"), "{key}={value}: {err}");
        }
    }
    // The same from a file: TOML spells them inf, nan, -inf.
    let cli = Cli::new(&fake);
    let file = cli.workdir.path().join("odd.toml");
    for (section, key, value) in [
        ("s3", "operation_timeout_secs", "inf"),
        ("http", "timeout_secs", "nan"),
        ("http", "max_server_wait_secs", "-inf"),
        ("leaderboard", "page_timeout_secs", "1e308"),
        ("telemetry", "shutdown_timeout_secs", "nan"),
        ("http", "backoff_max_ms", "9223372036854775807"),
        ("hub", "limit", "0"),
        ("hub", "detail_concurrency", "1000000"),
        ("http", "max_attempts", "4294967295"),
    ] {
        std::fs::write(&file, format!("[{section}]\n{key} = {value}\n")).unwrap();
        let ran = cli
            .run(&["--config", file.to_str().unwrap(), "--dry-run", "models"])
            .await;
        let err = ran.stderr();
        assert_eq!(ran.code(), 2, "{section}.{key} = {value}: {err}");
        assert!(err.contains(&format!("{section}.{key}")), "{err}");
        assert!(err.contains("odd.toml"), "names the file: {err}");
    }
    // A backoff that starts above its own cap is refused too.
    let ran = Cli::new(&fake)
        .env("HFHARVEST__HTTP__BACKOFF_INITIAL_MS", "5000")
        .env("HFHARVEST__HTTP__BACKOFF_MAX_MS", "100")
        .run(&["--dry-run", "models"])
        .await;
    assert_eq!(ran.code(), 2, "{}", ran.stderr());
    assert!(ran.stderr().contains("http.backoff_initial_ms"));
    assert_eq!(fake.requests().total(), 0, "nothing ran");
}
