//! The `hfharvest` binary: parse, configure, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use hfharvest::cli::{execute, Cli};
use tokio_util::sync::CancellationToken;

/// Documented in the README and `--help`: 0 success, 1 the run failed, 2 bad usage,
/// settings, or an output refused before anything ran.
#[repr(u8)]
enum Exit {
    Ok = 0,
    Failed = 1,
    Usage = 2,
}

fn main() -> ExitCode {
    // The original tool read HF_TOKEN from a .env file; variables already set win.
    let _ = dotenvy::dotenv();
    // A panic the parquet reader raises on a malformed file is caught and reported as
    // that file's error; the default hook's report of it would only mislead.
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !hfharvest::formats::parquet::reading_parquet() {
            report_panic(info);
        }
    }));
    let cli = Cli::parse();
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Failed as u8);
        }
    };
    runtime.block_on(async {
        let telemetry = hfharvest::telemetry::init(&settings.telemetry, cli.verbosity());
        let cancel = CancellationToken::new();
        tokio::spawn(cancel_on_signal(cancel.clone()));
        let result = execute(cli, settings, cancel).await;
        telemetry.shutdown().await;
        match result {
            Ok(()) => ExitCode::from(Exit::Ok as u8),
            Err(e) => {
                // One line, however many lines the causes' messages have; a cause an
                // error's own message already says is not said again.
                let message = error_chain(&e);
                let lines: Vec<&str> = message
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                let line = hfharvest::telemetry::escape_controls(&lines.join(" | "));
                eprintln!("error: {line}");
                let code = e
                    .downcast_ref::<hfharvest::Error>()
                    .map_or(Exit::Failed as u8, hfharvest::Error::exit_code);
                ExitCode::from(code)
            }
        }
    })
}

/// The error and its causes, outermost first, joined with `: `; a cause whose text the
/// message so far already holds is left out.
fn error_chain(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

async fn cancel_on_signal(cancel: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            tracing::warn!("termination signal: stopping after cleanup");
            cancel.cancel();
            return;
        }
    }
    let _ = ctrl_c.await;
    tracing::warn!("interrupt: stopping after cleanup");
    cancel.cancel();
}
