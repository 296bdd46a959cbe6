//! Prepare and report end to end: the fake Hub and leaderboard → `hfharvest run` →
//! `prepare` / `report` over a second day with history → the report opened in real
//! headless Chromium (Debian's chromium + chromedriver, started here).

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use support::*;
use thirtyfour::prelude::*;

const HOSTILE_ID: &str = "=HYPERLINK(\"evil.example\")";
const HOSTILE_LICENSE: &str = "=HYPERLINK(\"http://evil.example/licence\",\"click\")";
const MARKUP_ID: &str = "<b>bold</b>";

fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("tests/artifacts");
    dir
}

/// Rewrite a `models.csv` in place, row by row, keeping its header and quoting rules.
fn edit_models_csv(path: &Path, edit: impl FnOnce(&mut Vec<HashMap<String, String>>)) {
    let mut reader = csv::Reader::from_path(path).expect("models.csv");
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows: Vec<HashMap<String, String>> = reader.deserialize().map(|r| r.unwrap()).collect();
    edit(&mut rows);
    let mut out = csv::Writer::from_path(path).unwrap();
    out.write_record(&header).unwrap();
    for row in &rows {
        out.write_record(
            header
                .iter()
                .map(|h| row.get(h).map(String::as_str).unwrap_or("")),
        )
        .unwrap();
    }
    out.flush().unwrap();
}

/// A hostile or derived row, modelled on an existing one.
fn extra_row(
    template: &HashMap<String, String>,
    rank: usize,
    id: &str,
    license: &str,
) -> HashMap<String, String> {
    let mut row = template.clone();
    row.insert("rank".into(), rank.to_string());
    row.insert("model_id".into(), csv_text(id));
    row.insert("license".into(), csv_text(license));
    row
}

/// How our CSV writer stores a text cell (formula-neutralised).
fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_hub_to_dataset_and_report_viewed_in_chromium() {
    let fake = FakeHf::start(FakeConfig {
        models: 60,
        render_delay: Duration::from_millis(50),
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let cli = Cli::new(&fake).leaderboard_on(&fake);
    let run = |id: &'static str| {
        [
            "run",
            "--limit",
            "40",
            "--run-id",
            id,
            "--leaderboard-source",
            "datasets",
        ]
    };
    cli.run(&run("day1")).await.assert_ok();
    // The next night on the Hub: every model's downloads have moved.
    fake.set_night(1);
    cli.run(&run("day2")).await.assert_ok();
    let day1 = cli.out().join("runs/day1");
    let day2 = cli.out().join("runs/day2");
    for file in ["dataset.csv", "quality.json", "report.html"] {
        assert!(day2.join(file).is_file(), "`run` writes {file}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(day2.join("manifest.json")).unwrap()).unwrap();
    let stages: Vec<&str> = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["models", "scores", "evals", "prepare", "report"]);
    assert_eq!(manifest["status"], "complete");
    assert!(day1.join("dataset.parquet").is_file() && day2.join("dataset.parquet").is_file());

    // Today has a duplicate, a quantisation of a scored model, and hostile cells.
    let day2_lb = read_csv(&day2.join("leaderboard.csv"));
    let scored = day2_lb
        .iter()
        .find(|r| r["status"] == "found")
        .expect("a scored model")["model_id"]
        .clone();
    let gguf_id = format!("quantizer/{}-GGUF", scored.rsplit('/').next().unwrap());
    edit_models_csv(&day2.join("models.csv"), |rows| {
        let template = rows[0].clone();
        let n = rows.len();
        let mut dup = template.clone();
        dup.insert("rank".into(), (n + 1).to_string());
        dup.insert("model_id".into(), template["model_id"].to_uppercase());
        rows.push(dup);
        let mut gguf = extra_row(&template, n + 2, &gguf_id, "apache-2.0");
        gguf.insert("base_models".into(), scored.clone());
        gguf.insert("base_model_relation".into(), "quantized".into());
        rows.push(gguf);
        rows.push(extra_row(&template, n + 3, HOSTILE_ID, HOSTILE_LICENSE));
        rows.push(extra_row(
            &template,
            n + 4,
            MARKUP_ID,
            "<script>alert(1)</script>",
        ));
    });
    cli.run(&["prepare", "--run-id", "day2"]).await.assert_ok();
    cli.run(&["report", "--run-id", "day2"]).await.assert_ok();

    let dataset = read_csv(&day2.join("dataset.csv"));
    assert_eq!(
        dataset.len(),
        43,
        "40 models + 3 extra rows, the duplicate dropped"
    );
    let by_id: HashMap<&str, &HashMap<String, String>> = dataset
        .iter()
        .map(|r| (r["model_id"].as_str(), r))
        .collect();
    let own = by_id[scored.as_str()];
    assert_eq!(
        (own["join_status"].as_str(), own["score_source"].as_str()),
        ("found", "own")
    );
    assert!(!own["canonical_eval"].is_empty() && own["average"].parse::<f64>().is_ok());
    let gguf = by_id[gguf_id.as_str()];
    assert_eq!(gguf["score_source"], format!("inherited:{scored}"));
    assert_eq!(gguf["average"], own["average"]);
    assert!(dataset.iter().any(|r| r["join_status"] == "not_found"));
    // Against yesterday's night in the history: some rose, some fell; no run is 7 or 30
    // nights back.
    for rising in [true, false] {
        assert!(dataset.iter().any(|r| r["downloads_delta_1d"]
            .parse::<i64>()
            .is_ok_and(|d| (d > 0) == rising && d != 0)));
    }
    assert!(dataset
        .iter()
        .all(|r| r["downloads_delta_7d"].is_empty() && r["downloads_delta_30d"].is_empty()));
    for r in &dataset {
        for column in [
            "average",
            "ifeval",
            "bbh",
            "math_lvl5",
            "gpqa",
            "musr",
            "mmlu_pro",
        ] {
            if let Ok(v) = r[column].parse::<f64>() {
                assert!((0.0..=100.0).contains(&v), "{column} {v}");
            }
        }
    }
    // Formula cells are neutralised in the file and restored by a reader of ours.
    let hostile = by_id[format!("'{HOSTILE_ID}").as_str()];
    assert_eq!(hostile["license"], format!("'{HOSTILE_LICENSE}"));
    assert_eq!(hostile["license_family"], "unknown");
    let mut raw = csv::Reader::from_path(day2.join("dataset.csv")).unwrap();
    for record in raw.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "unneutralised cell {cell:?}"
            );
        }
    }
    let quality: serde_json::Value =
        serde_json::from_slice(&std::fs::read(day2.join("quality.json")).unwrap()).unwrap();
    assert_eq!(quality["previous_run"], "day1");
    let dropped = quality["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["check"], "duplicate_id");

    let html = std::fs::read_to_string(day2.join("report.html")).unwrap();
    // The markup id is in the page only escaped (a chart's tooltip) or inside the
    // compressed table data, which the script sets as text (checked in Chromium below).
    assert!(!html.contains("<b>bold</b>"));
    assert!(!html.contains("<script>alert"));
    for external in ["src=\"http", "href=\"http", "<link", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "the report fetches nothing ({external})"
        );
    }
    view_in_chromium(&day2.join("report.html")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prepare_and_report_fail_clearly_on_a_missing_run() {
    let fake = FakeHf::start(FakeConfig {
        models: 5,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let cli = Cli::new(&fake);
    let no_id = cli.run(&["prepare"]).await;
    assert_eq!(no_id.code(), 2, "{}", no_id.stderr());
    assert!(no_id.stderr().contains("--run-id"), "{}", no_id.stderr());
    let missing = cli.run(&["prepare", "--run-id", "nothing"]).await;
    assert_eq!(missing.code(), 1);
    assert!(
        missing.stderr().contains("models.csv"),
        "{}",
        missing.stderr()
    );
    let missing = cli.run(&["report", "--run-id", "nothing"]).await;
    assert_eq!(missing.code(), 1);
    assert!(
        missing.stderr().contains("dataset.csv"),
        "{}",
        missing.stderr()
    );
}

/// chromedriver on a free loopback port, killed when dropped.
struct ChromeDriver {
    child: tokio::process::Child,
    url: String,
}

impl ChromeDriver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver at /usr/bin/chromedriver (scripts/install-test-deps)");
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match client.get(&status).send().await {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, url }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The browser's console entries at SEVERE level (errors and uncaught exceptions).
async fn console_errors(browser: &WebDriver) -> Vec<String> {
    browser
        .browser_log()
        .await
        .expect("browser log")
        .into_iter()
        .filter(|e| e.level == "SEVERE")
        .map(|e| e.message)
        .collect()
}

async fn column_values(browser: &WebDriver, column: usize) -> Vec<Option<f64>> {
    let cells = browser
        .find_all(By::Css(format!("#summary tbody tr td:nth-child({column})")))
        .await
        .unwrap();
    let mut out = Vec::new();
    for cell in cells {
        let v = cell.attr("data-v").await.unwrap().unwrap_or_default();
        out.push(v.parse::<f64>().ok());
    }
    out
}

async fn view_in_chromium(report: &Path) {
    let chromedriver = ChromeDriver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium").unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1500,2600",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
        .unwrap();
    caps.set_logging_prefs("browser", thirtyfour::LoggingPrefsLogLevel::All)
        .unwrap();
    let browser = WebDriver::new(&chromedriver.url, caps)
        .await
        .expect("chromium session");
    let checks = async {
        browser
            .goto(format!("file://{}", report.display()))
            .await
            .unwrap();
        let errors = console_errors(&browser).await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
        let resources: i64 = browser
            .execute(
                "return performance.getEntriesByType('resource').length;",
                vec![],
            )
            .await
            .unwrap()
            .convert()
            .unwrap();
        assert_eq!(resources, 0, "the report loads nothing");

        // Every chart is an inline SVG with marks and axis labels.
        for (id, marks, label) in [
            ("score-params", "circle", "Parameters (billions, log scale)"),
            ("downloads-score", "circle", "Average score (0-100)"),
            ("license", "rect", "Models"),
            ("authors", "rect", "Downloads"),
            (
                "trends",
                "circle",
                "Downloads (30 days) of the top models, over the last 30 nights",
            ),
            ("dist-ifeval", "rect", "Score (0-100)"),
            ("dist-mmlu_pro", "rect", "Score (0-100)"),
        ] {
            let chart = browser
                .find(By::Css(format!("#chart-{id} svg")))
                .await
                .unwrap_or_else(|_| panic!("chart {id}"));
            let n = chart.find_all(By::Css(marks)).await.unwrap().len();
            assert!(n > 1, "chart {id} has marks ({n} {marks})");
            let texts = chart.find_all(By::Css("text")).await.unwrap();
            let mut labels = Vec::new();
            for t in texts {
                labels.push(t.text().await.unwrap());
            }
            assert!(
                labels.iter().any(|t| t == label),
                "chart {id} is labelled {label:?}: {labels:?}"
            );
        }
        let frontier = browser.find_all(By::Css("#frontier li")).await.unwrap();
        assert!(!frontier.is_empty(), "the Pareto frontier is named");
        let svg_text = browser
            .find(By::Css("#chart-score-params svg"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(svg_text.contains("Pareto frontier"));
        let coverage = browser
            .find(By::Id("coverage"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(coverage.contains("matched the leaderboard"), "{coverage}");
        let run = browser
            .find(By::Id("parameters"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(run.contains("day2") && run.contains("day1"), "{run}");
        // The script draws the table from the embedded data; the query waits for it.
        let table = browser
            .query(By::Css("#summary[data-ready]"))
            .first()
            .await
            .expect("the table is drawn");
        // A point of a scatter chart names its model on hover (its tooltip).
        let tip = browser
            .find(By::Css("#chart-score-params svg circle.pt title"))
            .await
            .unwrap()
            .inner_html()
            .await
            .unwrap();
        assert!(tip.contains('/') && tip.contains("average"), "{tip}");
        // Each id links to its Hub page.
        let link = table
            .find(By::Css("tbody td:nth-child(2) a"))
            .await
            .unwrap();
        let (href, id) = (
            link.attr("href").await.unwrap().unwrap_or_default(),
            link.text().await.unwrap(),
        );
        assert_eq!(href, format!("https://huggingface.co/{id}"));
        // The search keeps only the ids that contain it.
        let search = browser.find(By::Id("model-search")).await.unwrap();
        search.send_keys(MARKUP_ID).await.unwrap();
        let ids = table
            .find_all(By::Css("tbody td:nth-child(2)"))
            .await
            .unwrap();
        assert_eq!(ids.len(), 1, "one model matches the search");
        search.clear().await.unwrap();
        browser
            .execute(
                "document.getElementById('model-search').dispatchEvent(new Event('input'));",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            table.find_all(By::Css("tbody tr")).await.unwrap().len() > 1,
            "clearing the search shows every model again"
        );
        // The markup in a model id is shown as text.
        assert!(table.find_all(By::Css("tbody b")).await.unwrap().is_empty());
        assert!(table.text().await.unwrap().contains(MARKUP_ID));

        // Sorting: the Average column (10th) ascending, then descending; blanks stay last.
        let header = browser
            .find(By::Css("#summary thead th:nth-child(10)"))
            .await
            .unwrap();
        assert_eq!(header.text().await.unwrap().trim(), "Average");
        header.click().await.unwrap();
        let ascending = column_values(&browser, 10).await;
        header.click().await.unwrap();
        let descending = column_values(&browser, 10).await;
        let known = |v: &[Option<f64>]| {
            v.iter()
                .take_while(|x| x.is_some())
                .map(|x| x.unwrap())
                .collect::<Vec<_>>()
        };
        let (up, down) = (known(&ascending), known(&descending));
        assert!(up.len() > 5, "enough scored rows to sort ({})", up.len());
        assert!(up.windows(2).all(|w| w[0] <= w[1]), "ascending: {up:?}");
        assert!(
            down.windows(2).all(|w| w[0] >= w[1]),
            "descending: {down:?}"
        );
        assert!(
            ascending[up.len()..].iter().all(Option::is_none),
            "blanks last"
        );
        assert_eq!(
            header.attr("aria-sort").await.unwrap().as_deref(),
            Some("descending")
        );
        let first_model = browser
            .find(By::Css("#summary tbody tr td:nth-child(2)"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!first_model.is_empty());

        browser
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .unwrap();
        browser
            .screenshot(&artifacts_dir().join("report.png"))
            .await
            .unwrap();
        assert!(browser.find(By::Id("no-movers-7d")).await.is_ok());
        for (part, anchor) in [("charts", "#chart-trends"), ("table", "#models")] {
            let js = format!("document.querySelector('{anchor}').scrollIntoView();");
            browser.execute(&js, vec![]).await.unwrap();
            browser
                .screenshot(&artifacts_dir().join(format!("report-{part}.png")))
                .await
                .unwrap();
        }
        let errors = console_errors(&browser).await;
        assert!(
            errors.is_empty(),
            "console errors after sorting: {errors:?}"
        );
    };
    // Quit the browser whether or not the checks pass.
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(checks)).await;
    let _ = browser.quit().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
