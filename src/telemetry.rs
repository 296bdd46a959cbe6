//! Logging (text on a TTY, JSON lines in containers) and, when configured, OpenTelemetry.

use std::io::IsTerminal;

use serde::{Deserialize, Serialize};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    #[default]
    Auto,
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
}

/// Flushes telemetry when dropped or shut down; keep it alive for the whole run.
#[derive(Debug)]
pub struct TelemetryGuard;

impl TelemetryGuard {
    pub async fn shutdown(self) {}
}

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

/// Install the global subscriber. `RUST_LOG` filters (default `info`). Logs go to stderr.
pub fn init(settings: &TelemetrySettings) -> TelemetryGuard {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // These crates log credentials' key ids, signed requests or raw headers at debug
    // and trace; whatever RUST_LOG asks for, they stop at info.
    for target in SECRET_BEARING_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    if let Err(e) = result {
        eprintln!("logging already initialised: {e}");
    }
    TelemetryGuard
}
