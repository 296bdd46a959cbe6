//! Traces and metrics against a real OTLP receiver on 127.0.0.1: PyPI `rotel`'s
//! collector, started here, printing what it receives (its detailed debug log). The
//! spans and their parent links, the metrics, the dashboards' queries, an unreachable
//! collector, and no secret in anything exported.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const TOKEN: &str = "hf_SENTINELtelemetry0000000000000000";

fn rotel_agent() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import rotel, os; print(os.path.dirname(rotel.__file__))",
        ])
        .output()
        .expect("python3 runs");
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let agent = Path::new(&dir).join("rotel-agent");
    assert!(
        agent.exists(),
        "rotel is not installed (pip install rotel): run scripts/install-test-deps"
    );
    agent
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// rotel's collector with OTLP gRPC and HTTP receivers, logging every span and metric
/// it receives to a file, and exporting nowhere else.
struct Receiver {
    child: Child,
    grpc: u16,
    http: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("received.log");
        let (grpc, http) = (free_port(), free_port());
        let child = Command::new(rotel_agent())
            .args(["start", "--exporter", "blackhole"])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
            .args(["--debug-log", "traces", "--debug-log", "metrics"])
            .args(["--debug-log-verbosity", "detailed"])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("rotel starts");
        for port in [grpc, http] {
            wait_for("rotel to listen", Duration::from_secs(20), || {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            })
            .await;
        }
        Self {
            child,
            grpc,
            http,
            log,
            _dir: dir,
        }
    }

    fn received(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
struct Span {
    trace: String,
    parent: String,
    name: String,
    /// The `models` attribute: how many answers a checkpoint batch holds.
    models: u64,
}

/// The spans in rotel's detailed log, by span id.
fn spans(log: &str) -> HashMap<String, Span> {
    let mut out = HashMap::new();
    for block in log.split("Span #").skip(1) {
        let field = |name: &str| {
            block
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        out.insert(
            field("ID "),
            Span {
                trace: field("Trace ID"),
                parent: field("Parent ID"),
                name: field("Name "),
                models: block
                    .lines()
                    .find(|l| l.contains("-> models:"))
                    // `Int(12)`, or `Str(12)` where the exporter took the number
                    // as text.
                    .and_then(|l| l.split_once('('))
                    .and_then(|(_, v)| v.trim_end_matches(')').trim().parse().ok())
                    .unwrap_or(0),
            },
        );
    }
    out
}

/// The Prometheus names of the metrics in rotel's detailed log, translated as the
/// OTel-to-Prometheus exporters do: dots to underscores, a unit suffix (`s` →
/// `_seconds`, `By` → `_bytes`; `{…}` annotations dropped), `_total` on monotonic
/// sums, and `_bucket` / `_sum` / `_count` series for histograms.
fn prometheus_names(log: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for block in log.split("Descriptor:").skip(1) {
        let field = |name: &str| {
            block
                .lines()
                .find(|l| l.contains(&format!("-> {name}:")))
                .and_then(|l| l.split_once(": "))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mut name = field("Name").replace('.', "_");
        let suffix = match field("Unit").as_str() {
            "s" => "seconds",
            "By" => "bytes",
            _ => "",
        };
        if !suffix.is_empty() && !name.ends_with(suffix) {
            name = format!("{name}_{suffix}");
        }
        match field("DataType").as_str() {
            "Sum" if field("IsMonotonic") == "true" => {
                names.insert(format!("{name}_total"));
            }
            "Histogram" => {
                for series in ["", "_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{series}"));
                }
            }
            _ => {
                names.insert(name);
            }
        }
    }
    names
}

/// Every metric name the dashboards' PromQL names.
fn dashboard_metrics() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let name = regex::Regex::new(r"\b((?:hfharvest|http_client)_[a-z0-9_]+)\b").unwrap();
    let mut out = BTreeSet::new();
    for file in files_under(&dir) {
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut queries = Vec::new();
        collect_queries(&dashboard, &mut queries);
        assert!(!queries.is_empty(), "{} has queries", file.display());
        for query in queries {
            for m in name.captures_iter(&query) {
                out.insert((file.display().to_string(), m[1].to_owned()));
            }
        }
    }
    out
}

fn collect_queries(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr" | "query", serde_json::Value::String(q)) => out.push(q.clone()),
                    _ => collect_queries(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_queries(v, out)),
        _ => {}
    }
}

fn cli_with_otel(fake: &FakeHf, endpoint: &str, protocol: &str) -> Cli {
    Cli::new(fake)
        .leaderboard_on(fake)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_SERVICE_NAME", "hfharvest-test")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci")
        .env("K8S_POD_NAME", "hfharvest-29412345-abcde")
        .env("K8S_NAMESPACE_NAME", "jobs")
        .env("K8S_CRONJOB_NAME", "hfharvest")
        .env("HF_TOKEN", TOKEN)
        .env("RUST_LOG", "debug")
}

fn run_args(run_id: &str) -> Vec<&str> {
    vec![
        "run",
        "--limit",
        "12",
        "--run-id",
        run_id,
        "--leaderboard-source",
        "datasets",
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_and_metrics_reach_a_real_collector_and_feed_the_dashboards() {
    let fake = FakeHf::start(FakeConfig {
        models: 40,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    // One 429 with Retry-After: the retry and the rate-limit wait are counted.
    fake.inject(Route::List, Fault::rate_limited(1), 1);
    let receiver = Receiver::start().await;
    let cli = cli_with_otel(
        &fake,
        &format!("http://127.0.0.1:{}", receiver.grpc),
        "grpc",
    );
    let ran = cli.run(&run_args("traced")).await;
    ran.assert_ok();
    // The job flushed before it exited; the collector prints what it got as it gets it.
    wait_for(
        "the run's spans and metrics",
        Duration::from_secs(20),
        || {
            let log = receiver.received();
            log.contains("Name           : hfharvest run") && log.contains("hfharvest.run.info")
        },
    )
    .await;
    let log = receiver.received();

    let spans = spans(&log);
    let named = |name: &str| -> Vec<(&String, &Span)> {
        spans.iter().filter(|(_, s)| s.name == name).collect()
    };
    let (run_id, run) = named("hfharvest run")[0];
    assert!(run.parent.is_empty(), "the run is the root span");
    let parent_name = |s: &Span| spans.get(&s.parent).map(|p| p.name.as_str());
    for stage in ["models", "scores", "evals", "prepare", "report", "publish"] {
        let found = named(&format!("stage {stage}"));
        assert_eq!(found.len(), 1, "one span for stage {stage}");
        assert_eq!(&found[0].1.parent, run_id, "stage {stage} under the run");
    }
    // Each stage that answers model by model checkpoints its answers in batches, a span
    // each, holding every model once per source: the leaderboard in scores; the Hub,
    // Every Eval Ever and OpenEvals in evals.
    let batches = named("checkpoint batch");
    for (stage, sources) in [("stage scores", 1), ("stage evals", 3)] {
        let under: u64 = batches
            .iter()
            .filter(|(_, s)| parent_name(s) == Some(stage))
            .map(|(_, s)| s.models)
            .sum();
        assert_eq!(under, 12 * sources, "every model's answer under {stage}");
    }
    assert_eq!(batches.iter().map(|(_, s)| s.models).sum::<u64>(), 48);
    // A model whose answer took its own requests (Every Eval Ever's records) has its
    // own span.
    assert!(named("model")
        .iter()
        .all(|(_, s)| parent_name(s) == Some("stage evals")));
    // batch → store call (its checkpoint), and stage → HTTP request, one span per attempt.
    assert!(named("store put")
        .iter()
        .any(|(_, s)| parent_name(s) == Some("checkpoint batch")));
    let requests = named("HTTP GET");
    assert!(requests
        .iter()
        .all(|(_, s)| s.trace == run.trace && !s.parent.is_empty()));
    let list_attempts = requests
        .iter()
        .filter(|(_, s)| parent_name(s) == Some("stage models"))
        .count();
    assert_eq!(list_attempts, 2, "the 429 and its retry are two spans");
    for attribute in [
        "http.request.method: Str(GET)",
        "server.address: Str(127.0.0.1)",
        "http.response.status_code: Int(429)",
        "error.type: Str(429)",
        "http.response.status_code: Int(200)",
    ] {
        assert!(log.contains(attribute), "{attribute}");
    }
    for resource in [
        "k8s.pod.name: Str(hfharvest-29412345-abcde)",
        "k8s.namespace.name: Str(jobs)",
        "k8s.cronjob.name: Str(hfharvest)",
        "service.name: Str(hfharvest-test)",
        "deployment.environment: Str(ci)",
    ] {
        assert!(log.contains(resource), "resource attribute {resource}");
    }

    let emitted = prometheus_names(&log);
    for metric in [
        "http_client_request_duration_seconds_bucket",
        "hfharvest_run_duration_seconds",
        "hfharvest_run_last_success_timestamp_seconds",
        "hfharvest_run_info",
        "hfharvest_run_models",
        "hfharvest_models_processed_total",
        "hfharvest_http_retries_total",
        "hfharvest_http_rate_limit_waits_total",
        "hfharvest_checkpoints_written_total",
        "hfharvest_checkpoints_resumed_total",
        "hfharvest_browser_session_restarts_total",
        "hfharvest_publish_bytes_total",
        "hfharvest_model_downloads",
        "hfharvest_model_score",
    ] {
        assert!(emitted.contains(metric), "{metric} not in {emitted:?}");
    }
    let referenced = dashboard_metrics();
    assert!(referenced.len() >= 10);
    for (dashboard, metric) in &referenced {
        assert!(
            emitted.contains(metric),
            "{dashboard} queries {metric}, which the job does not emit ({emitted:?})"
        );
    }
    assert!(log.contains("outcome: Str(not_found)") && log.contains("outcome: Str(found)"));
    assert!(log.contains("benchmark: Str(average)"));

    // No secret in any exported span, event or metric, nor in the job's own logs.
    assert!(!log.contains(TOKEN) && !log.contains("SENTINELtelemetry"));
    assert!(!ran.stderr().contains(TOKEN) && !ran.stdout().contains(TOKEN));

    // The other protocol, to the HTTP receiver.
    let http = cli_with_otel(
        &fake,
        &format!("http://127.0.0.1:{}", receiver.http),
        "http/protobuf",
    );
    http.run(&["models", "--limit", "5", "--run-id", "over-http"])
        .await
        .assert_ok();
    wait_for("spans over HTTP", Duration::from_secs(20), || {
        receiver.received().contains("run.id: Str(over-http)")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_collector_neither_fails_nor_holds_up_the_job() {
    let fake = FakeHf::start(FakeConfig {
        models: 40,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let closed = format!("http://127.0.0.1:{}", free_port());
    let plain = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HF_TOKEN", TOKEN)
        .env("RUST_LOG", "debug");
    let mut extra = Vec::new();
    for protocol in ["grpc", "http/protobuf"] {
        let started = Instant::now();
        plain
            .run(&run_args(&format!("plain-{}", extra.len())))
            .await
            .assert_ok();
        let without = started.elapsed();
        let unreachable = cli_with_otel(&fake, &closed, protocol);
        let started = Instant::now();
        let ran = unreachable.run(&run_args("unreachable")).await;
        let with = started.elapsed();
        ran.assert_ok();
        assert!(ran.stderr().contains("run unreachable complete"));
        extra.push((protocol, without, with));
    }
    for (protocol, without, with) in extra {
        // Reported, not asserted: timings belong in benchmarks, not tests.
        eprintln!(
            "unreachable collector ({protocol}): run took {with:?} vs {without:?} without telemetry (+{:?})",
            with.saturating_sub(without)
        );
    }
}

/// The traces do not follow the log level: with `RUST_LOG=warn` the terminal is quiet,
/// yet the collector still gets the run, its stages and a span per model.
#[tokio::test(flavor = "multi_thread")]
async fn traces_keep_the_jobs_spans_whatever_rust_log_says() {
    let fake = FakeHf::start(FakeConfig {
        models: 20,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let receiver = Receiver::start().await;
    let cli = cli_with_otel(
        &fake,
        &format!("http://127.0.0.1:{}", receiver.grpc),
        "grpc",
    )
    .env("RUST_LOG", "warn");
    let ran = cli.run(&run_args("quiet-logs")).await;
    ran.assert_ok();
    assert!(
        !ran.stderr().contains("\"level\":\"INFO\""),
        "RUST_LOG=warn keeps info lines out of the logs: {}",
        ran.stderr()
    );
    wait_for("the run's spans", Duration::from_secs(20), || {
        receiver
            .received()
            .contains("Name           : hfharvest run")
    })
    .await;
    let log = receiver.received();
    let spans = spans(&log);
    let count = |name: &str| spans.values().filter(|s| s.name == name).count();
    assert_eq!(count("hfharvest run"), 1);
    for stage in ["models", "scores", "evals", "prepare", "report", "publish"] {
        assert_eq!(count(&format!("stage {stage}")), 1, "stage {stage}");
    }
    let answers: u64 = spans
        .values()
        .filter(|s| s.name == "checkpoint batch")
        .map(|s| s.models)
        .sum();
    assert_eq!(
        answers, 48,
        "every model's answer in a checkpoint batch, in scores and per source in evals"
    );
    assert!(count("HTTP GET") >= 2, "the HTTP requests");
    // Bars are drawn from spans of their own, which are not part of the trace.
    assert_eq!(count("progress"), 0);
    assert!(!log.contains(TOKEN));
}
