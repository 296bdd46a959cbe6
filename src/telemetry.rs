//! Logging (text on a TTY, with progress bars kept below the log lines; JSON lines in
//! containers) and, when an OTLP endpoint is configured, OpenTelemetry traces and
//! metrics.
//!
//! Each layer has its own filter: the logs follow `RUST_LOG` (or `-v` / `-q`), while
//! the exported traces keep the job's own spans at info whatever the log level, so
//! `RUST_LOG=warn` quiets the terminal without blinding the traces. The crates that log
//! secrets below info are capped at info for every layer.
//!
//! Export follows the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or the
//! `_TRACES_` / `_METRICS_` variants; none set means telemetry is off),
//! `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc` or `http/protobuf`, the default),
//! `OTEL_SERVICE_NAME` (default `hfharvest`) and `OTEL_RESOURCE_ATTRIBUTES`. In
//! Kubernetes, `K8S_POD_NAME`, `K8S_NAMESPACE_NAME`, `K8S_CRONJOB_NAME`, `K8S_JOB_NAME`
//! and `K8S_NODE_NAME` (the Helm chart sets them from the downward API) become the
//! `k8s.*` resource attributes.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use serde::{Deserialize, Serialize};
use tracing::Level;
use tracing_indicatif::filter::IndicatifFilter;
use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::filter::{filter_fn, FilterExt, Targets};
use tracing_subscriber::layer::Filter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::run::{check_secs, InvalidSetting};

mod console;

pub use console::escape_controls;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    #[default]
    Auto,
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    /// How many of the top models (by downloads) the `hfharvest.model.*` gauges carry.
    pub top_models: usize,
    /// Longest wait at exit for the last traces and metrics to be sent.
    pub shutdown_timeout_secs: f64,
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check_secs(
            "telemetry.shutdown_timeout_secs",
            self.shutdown_timeout_secs,
            0.0,
            600.0,
        )
    }
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Auto,
            top_models: 25,
            shutdown_timeout_secs: 5.0,
        }
    }
}

/// How much to log, from `-q` / `-v` / `-vv`; `RUST_LOG`, when set, wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Warnings and errors only, and no progress bars.
    Quiet,
    #[default]
    Normal,
    /// The job's debug lines too.
    Verbose,
    /// The job's trace lines and every crate's debug lines.
    VeryVerbose,
}

impl Verbosity {
    /// From the command line's counts of `-v` and `-q`.
    pub fn from_flags(verbose: u8, quiet: bool) -> Self {
        match (quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, 1) => Self::Verbose,
            (false, _) => Self::VeryVerbose,
        }
    }

    fn directives(self) -> &'static str {
        match self {
            Self::Quiet => "warn",
            Self::Normal => "info",
            Self::Verbose => "info,hfharvest=debug",
            Self::VeryVerbose => "debug,hfharvest=trace",
        }
    }
}

/// What stderr gets: decided once, from the settings and whether it is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// JSON lines, for machines: no TTY (a container), or `--log-format json`.
    Json,
    /// Short text lines for a person; `bars` when stderr is a terminal (and not `-q`):
    /// progress bars then stay below the log lines instead of periodic progress lines.
    Text { bars: bool },
}

impl Console {
    pub fn new(settings: &TelemetrySettings, verbosity: Verbosity) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let json = match settings.log_format {
            LogFormat::Json => true,
            LogFormat::Text => false,
            LogFormat::Auto => !terminal,
        };
        if json {
            Self::Json
        } else {
            Self::Text {
                bars: terminal && verbosity != Verbosity::Quiet,
            }
        }
    }

    pub fn is_json(self) -> bool {
        self == Self::Json
    }
}

/// These crates log credentials' key ids, signed requests or raw headers at debug and
/// trace; whatever RUST_LOG asks for, they stop at info.
const SECRET_BEARING_TARGETS: [&str; 9] = [
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_config",
    "aws_credential_types",
    "hyper",
    "hyper_util",
    "h2",
];

/// The Kubernetes downward-API variables and the resource attributes they become.
const K8S_ATTRIBUTES: [(&str, &str); 5] = [
    ("K8S_POD_NAME", "k8s.pod.name"),
    ("K8S_NAMESPACE_NAME", "k8s.namespace.name"),
    ("K8S_CRONJOB_NAME", "k8s.cronjob.name"),
    ("K8S_JOB_NAME", "k8s.job.name"),
    ("K8S_NODE_NAME", "k8s.node.name"),
];

/// Flushes telemetry at [`TelemetryGuard::shutdown`]; keep it for the whole run.
#[derive(Debug)]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
    timeout: Duration,
}

impl TelemetryGuard {
    /// Send what is buffered and stop the exporters, within the timeout: an unreachable
    /// collector must not hold up the job's exit. The providers are shut down on a
    /// thread of their own, not on a runtime worker, because their blocking shutdown
    /// waits for exports that need the runtime (opentelemetry-rust#2583: a deadlock on a
    /// runtime with one worker).
    pub async fn shutdown(self) {
        if self.tracer.is_none() && self.meter.is_none() {
            return;
        }
        let started = Instant::now();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let (tracer, meter) = (self.tracer, self.meter);
        let spawned = std::thread::Builder::new()
            .name("otel-shutdown".into())
            .spawn(move || {
                if let Some(meter) = meter {
                    if let Err(e) = meter.shutdown() {
                        eprintln!("telemetry: metrics not flushed: {e}");
                    }
                }
                if let Some(tracer) = tracer {
                    if let Err(e) = tracer.shutdown() {
                        eprintln!("telemetry: traces not flushed: {e}");
                    }
                }
                let _ = done_tx.send(());
            });
        if spawned.is_err() {
            return;
        }
        if tokio::time::timeout(self.timeout, done_rx).await.is_err() {
            eprintln!(
                "telemetry: the collector did not take the last traces and metrics within {:?}; exiting without them",
                self.timeout
            );
        }
        tracing::debug!(elapsed = ?started.elapsed(), "telemetry flushed");
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// Whether OTLP export is configured, by the standard variables.
pub fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ]
    .iter()
    .any(|k| env(k).is_some())
}

fn resource() -> Resource {
    let mut attributes: Vec<KeyValue> = K8S_ATTRIBUTES
        .iter()
        .filter_map(|(var, key)| env(var).map(|v| KeyValue::new(*key, v)))
        .collect();
    attributes.push(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    let builder = Resource::builder().with_attributes(attributes);
    // The SDK reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES itself; without a
    // name it would say `unknown_service`.
    if env("OTEL_SERVICE_NAME").is_none() {
        builder.with_service_name("hfharvest").build()
    } else {
        builder.build()
    }
}

fn protocol() -> Result<Protocol, String> {
    let raw = env("OTEL_EXPORTER_OTLP_PROTOCOL").unwrap_or_else(|| "http/protobuf".into());
    match raw.as_str() {
        "grpc" => Ok(Protocol::Grpc),
        "http/protobuf" => Ok(Protocol::HttpBinary),
        other => Err(format!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={other:?} is not supported; use grpc or http/protobuf"
        )),
    }
}

/// The tracer and meter providers for the configured endpoint. Needs a Tokio runtime
/// (the gRPC exporter's channel lives on it).
fn providers() -> Result<(SdkTracerProvider, SdkMeterProvider), String> {
    let protocol = protocol()?;
    let resource = resource();
    let spans = match protocol {
        Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build(),
        _ => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .build(),
    }
    .map_err(|e| format!("the OTLP span exporter: {e}"))?;
    let metrics = match protocol {
        Protocol::Grpc => opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build(),
        _ => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .build(),
    }
    .map_err(|e| format!("the OTLP metric exporter: {e}"))?;
    let tracer = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource.clone())
        .build();
    let meter = SdkMeterProvider::builder()
        .with_periodic_exporter(metrics)
        .with_resource(resource)
        .build();
    Ok((tracer, meter))
}

/// What the logs show: `RUST_LOG` if set, else the verbosity's level; the crates that
/// log secrets below info stop at info whatever either says.
fn log_filter(verbosity: Verbosity) -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(verbosity.directives()));
    for target in SECRET_BEARING_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// What the traces keep: the job's own spans and events at info whatever the log level,
/// plus whatever the logs show (so `RUST_LOG=debug` adds detail to traces too). Spans
/// that only carry a progress bar are not part of the trace.
fn export_filter<S>(verbosity: Verbosity) -> impl Filter<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    Targets::new()
        .with_target("hfharvest", Level::INFO)
        .or(log_filter(verbosity))
        .and(filter_fn(|meta| {
            meta.fields().field("indicatif.pb_show").is_none()
        }))
}

/// The text logs also see the job's spans at info when `RUST_LOG` hides them, so a
/// warning still names its stage.
fn text_filter<S>(verbosity: Verbosity) -> impl Filter<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    filter_fn(|meta| {
        meta.is_span() && meta.target().starts_with("hfharvest") && *meta.level() <= Level::INFO
    })
    .or(log_filter(verbosity))
}

/// Install logging and, when configured, OTLP traces and metrics. Logs go to stderr.
/// A telemetry set-up error is reported and the job goes on without it: telemetry must
/// never fail a run.
pub fn init(settings: &TelemetrySettings, verbosity: Verbosity) -> TelemetryGuard {
    let (tracer, meter) = if otlp_configured() {
        match providers() {
            Ok((tracer, meter)) => (Some(tracer), Some(meter)),
            Err(e) => {
                eprintln!("telemetry: off: {e}");
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    if let Some(meter) = &meter {
        opentelemetry::global::set_meter_provider(meter.clone());
        let _ = METER_PROVIDER.set(meter.clone());
    }
    let otel_layer = tracer.as_ref().map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t.tracer("hfharvest"))
            .with_filter(export_filter(verbosity))
    });
    let registry = tracing_subscriber::registry().with(otel_layer);
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let human = || {
        fmt::layer()
            .fmt_fields(console::StageOnly)
            .event_format(console::HumanFormat { ansi })
    };
    let result = match Console::new(settings, verbosity) {
        Console::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_filter(log_filter(verbosity)),
            )
            .try_init(),
        Console::Text { bars: false } => registry
            .with(
                human()
                    .with_writer(std::io::stderr)
                    .with_filter(text_filter(verbosity)),
            )
            .try_init(),
        Console::Text { bars: true } => {
            // Log lines are written through the bars' writer, which lifts the bars,
            // writes the line and draws them again below it.
            let bars = IndicatifLayer::new();
            let writer = bars.get_stderr_writer();
            registry
                .with(
                    human()
                        .with_writer(writer)
                        .with_filter(text_filter(verbosity)),
                )
                .with(bars.with_filter(IndicatifFilter::new(false)))
                .try_init()
        }
    };
    if let Err(e) = result {
        eprintln!("logging already initialised: {e}");
    }
    TelemetryGuard {
        tracer,
        meter,
        timeout: Duration::from_secs_f64(settings.shutdown_timeout_secs.max(0.1)),
    }
}

/// The job's metric instruments (OTel names; docs/operations.md, "Metrics", lists their
/// Prometheus names).
/// No-ops when telemetry is off.
pub struct Metrics {
    /// Semantic-conventions HTTP client duration, one point per attempt.
    pub http_duration: Histogram<f64>,
    pub http_retries: Counter<u64>,
    pub rate_limit_waits: Counter<u64>,
    pub run_duration: Gauge<f64>,
    pub last_success: Gauge<f64>,
    /// 1 for the run just finished, with its id, status, error type and trace id.
    pub run_info: Gauge<u64>,
    /// The last run's counts per stage and outcome.
    pub run_models: Gauge<u64>,
    pub models_processed: Counter<u64>,
    pub checkpoints_written: Counter<u64>,
    pub checkpoints_resumed: Counter<u64>,
    pub session_restarts: Counter<u64>,
    pub publish_bytes: Counter<u64>,
    pub model_downloads: Gauge<u64>,
    pub model_score: Gauge<f64>,
    /// The last run's models with a score, per source (`any` for any source).
    pub models_scored: Gauge<u64>,
}

fn build_metrics(meter: Meter) -> Metrics {
    Metrics {
        http_duration: meter
            .f64_histogram("http.client.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP client requests (each attempt).")
            .with_boundaries(vec![
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
            ])
            .build(),
        http_retries: meter
            .u64_counter("hfharvest.http.retries")
            .with_unit("{retry}")
            .with_description("HTTP requests retried after a transient failure.")
            .build(),
        rate_limit_waits: meter
            .u64_counter("hfharvest.http.rate_limit_waits")
            .with_unit("{wait}")
            .with_description("Waits for a rate-limit window (429 Retry-After, RateLimit).")
            .build(),
        run_duration: meter
            .f64_gauge("hfharvest.run.duration")
            .with_unit("s")
            .with_description("Wall time of the last run.")
            .build(),
        last_success: meter
            .f64_gauge("hfharvest.run.last_success_timestamp")
            .with_unit("s")
            .with_description("Unix time at which a run last completed.")
            .build(),
        run_info: meter
            .u64_gauge("hfharvest.run.info")
            .with_unit("{run}")
            .with_description("The last run: run_id, status, error_type, trace_id.")
            .build(),
        run_models: meter
            .u64_gauge("hfharvest.run.models")
            .with_unit("{model}")
            .with_description("Models per stage and outcome in the last run.")
            .build(),
        models_processed: meter
            .u64_counter("hfharvest.models.processed")
            .with_unit("{model}")
            .with_description("Models processed, per stage and outcome.")
            .build(),
        checkpoints_written: meter
            .u64_counter("hfharvest.checkpoints.written")
            .with_unit("{checkpoint}")
            .build(),
        checkpoints_resumed: meter
            .u64_counter("hfharvest.checkpoints.resumed")
            .with_unit("{checkpoint}")
            .with_description("Models skipped because a checkpoint already had them.")
            .build(),
        session_restarts: meter
            .u64_counter("hfharvest.browser.session_restarts")
            .with_unit("{restart}")
            .build(),
        publish_bytes: meter
            .u64_counter("hfharvest.publish.bytes")
            .with_unit("By")
            .with_description("Bytes written to the output folder or bucket.")
            .build(),
        model_downloads: meter
            .u64_gauge("hfharvest.model.downloads")
            .with_unit("{download}")
            .with_description("30-day downloads of the top models of the last run.")
            .build(),
        model_score: meter
            .f64_gauge("hfharvest.model.score")
            .with_description("Leaderboard scores (0-100) of the top models of the last run.")
            .build(),
        models_scored: meter
            .u64_gauge("hfharvest.models.scored")
            .with_unit("{model}")
            .with_description(
                "The last run's models with a score, per source (any: from any source).",
            )
            .build(),
    }
}

/// The meter provider, once telemetry is on, so the run can flush early.
static METER_PROVIDER: OnceLock<SdkMeterProvider> = OnceLock::new();

/// Send what the instruments hold now, without waiting: on a thread of its own, since
/// the flush blocks until the exporter, which may need the runtime, is done.
pub fn flush_metrics_soon() {
    if let Some(provider) = METER_PROVIDER.get() {
        let provider = provider.clone();
        let _ = std::thread::Builder::new()
            .name("otel-flush".into())
            .spawn(move || {
                if let Err(e) = provider.force_flush() {
                    tracing::debug!(error = %e, "early metrics flush failed");
                }
            });
    }
}

/// The instruments, made on first use from the global meter provider (so after
/// [`init`]).
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| build_metrics(opentelemetry::global::meter("hfharvest")))
}

/// The trace id of the current span, when traces are exported.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let id = span.span_context().trace_id();
    (id != opentelemetry::trace::TraceId::INVALID).then(|| id.to_string())
}
