//! The command line: argument parsing, settings from the layers, and the commands.

mod plan;
mod summary;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config::Value;
use tokio_util::sync::CancellationToken;

use crate::config::{Override, Settings};
use crate::error::Error;
use crate::pipeline::{self, RunContext, Stages};
use crate::run::artifact::{
    DATASET_CSV, LEADERBOARD_CSV, MANIFEST_JSON, MODELS_CSV, QUALITY_JSON, REPORT_HTML,
};
use crate::run::{ModelId, Stage};
use crate::scores::SourceKind;
use crate::telemetry::{Console, LogFormat, Verbosity};

pub use summary::RunSummary;

/// Harvest the most-downloaded text-generation models on Hugging Face, with their
/// Open LLM Leaderboard scores, into CSVs and a report.
///
/// Exit codes: 0 success, 1 the run failed, 2 bad usage or configuration.
#[derive(Debug, Parser)]
#[command(name = "hfharvest", version, about, long_about = None)]
pub struct Cli {
    /// TOML config file (layered over the defaults, under env vars and flags).
    #[arg(long, global = true, env = "HFHARVEST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format: text on a TTY and JSON otherwise by default.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Check the arguments and settings, print the stages that would run and the
    /// effective settings (as TOML), and exit.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// More detail in the logs: -v the job's debug lines, -vv trace (RUST_LOG wins).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only warnings, errors and the final summary; no progress bars (RUST_LOG wins).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The models stage only: Hub metadata into runs/<run-id>/models.csv.
    Models(ModelsArgs),
    /// The scores stage only: leaderboard scores for a run's models.csv or model ids.
    Scores(ScoresArgs),
    /// The whole pipeline: models, scores, evals, prepare, report, then publish (the
    /// history, runs/index.json and latest.json).
    Run(RunArgs),
    /// The prepare stage over an existing run: its models, scores and evals into
    /// dataset.csv, dataset.parquet and quality.json.
    Prepare(OutputArgs),
    /// The report stage over an existing run: report.html.
    Report(OutputArgs),
    /// The history table (history/models, history/scores) of every complete run.
    #[command(subcommand)]
    History(HistoryCommand),
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Write the history files and runs/index.json entries of the complete runs already
    /// in the output that lack them (runs made before the history existed).
    Rebuild(StoreArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// Output location: a folder (default ./data) or s3://bucket/prefix.
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Output location: a folder (default ./data) or s3://bucket/prefix.
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Run id (default: a UTC timestamp). Reuse one to resume a run.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct LimitArgs {
    /// How many of the most-downloaded models to collect.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct LeaderboardArgs {
    /// Where scores come from.
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub leaderboard_source: Option<SourceKind>,
    /// WebDriver URL for the browser source (e.g. the Selenium sidecar).
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Browser sessions in parallel.
    #[arg(long, value_name = "K")]
    pub browser_sessions: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub limit: LimitArgs,
}

#[derive(Debug, Args)]
pub struct ScoresArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub leaderboard: LeaderboardArgs,
    /// A models.csv file, or model ids.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE|ID")]
    pub models: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub limit: LimitArgs,
    #[command(flatten)]
    pub leaderboard: LeaderboardArgs,
}

impl Cli {
    /// The flags that override settings, as (key, value) layers.
    pub fn overrides(&self) -> Vec<Override> {
        let mut out: Vec<Override> = Vec::new();
        if let Some(format) = self.log_format {
            out.push(("telemetry.log_format", enum_value(format)));
        }
        let history_output;
        let (output, limit, leaderboard) = match &self.command {
            Command::Models(a) => (&a.output, Some(&a.limit), None),
            Command::Scores(a) => (&a.output, None, Some(&a.leaderboard)),
            Command::Run(a) => (&a.output, Some(&a.limit), Some(&a.leaderboard)),
            Command::Prepare(o) | Command::Report(o) => (o, None, None),
            Command::History(HistoryCommand::Rebuild(a)) => {
                history_output = OutputArgs {
                    out: a.out.clone(),
                    run_id: None,
                };
                (&history_output, None, None)
            }
        };
        if let Some(dir) = &output.out {
            out.push(("output.dir", dir.clone().into()));
        }
        if let Some(id) = &output.run_id {
            out.push(("output.run_id", id.clone().into()));
        }
        if let Some(n) = limit.and_then(|l| l.limit) {
            out.push(("hub.limit", n.into()));
        }
        if let Some(lb) = leaderboard {
            if let Some(source) = lb.leaderboard_source {
                out.push(("leaderboard.source", enum_value(source)));
            }
            if let Some(url) = &lb.webdriver {
                out.push(("leaderboard.webdriver", url.clone().into()));
            }
            if let Some(k) = lb.browser_sessions {
                out.push(("leaderboard.browser_sessions", k.into()));
            }
        }
        out
    }

    pub fn settings(&self) -> Result<Settings, crate::config::ConfigError> {
        Settings::load(self.config.as_deref(), self.overrides())
    }

    /// The log level and bars the flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        Verbosity::from_flags(self.verbose, self.quiet)
    }

    /// The command's name and the stages it runs, in order.
    fn plan(&self) -> (&'static str, Vec<Stage>) {
        match &self.command {
            Command::Models(_) => ("models", vec![Stage::Models]),
            Command::Scores(_) => ("scores", vec![Stage::Scores]),
            Command::Run(_) => ("run", Stage::ALL.to_vec()),
            Command::Prepare(_) => ("prepare", vec![Stage::Prepare]),
            Command::Report(_) => ("report", vec![Stage::Report]),
            Command::History(_) => ("history rebuild", vec![Stage::Publish]),
        }
    }
}

fn enum_value<T: serde::Serialize>(v: T) -> Value {
    let json = serde_json::to_value(v).expect("enum serialises");
    json.as_str().unwrap_or_default().to_owned().into()
}

/// Run a parsed command. Errors carry context for the user; the binary maps them to exit codes.
pub async fn execute(
    cli: Cli,
    settings: Settings,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let (command, mut planned) = cli.plan();
    planned.retain(|s| *s != Stage::Evals || settings.evals.enabled);
    if cli.dry_run {
        print!("{}", plan::render(command, &planned, &settings));
        return Ok(());
    }
    let console = Console::new(&settings.telemetry, cli.verbosity());
    let stages = match &cli.command {
        Command::Models(_) => Stages::ModelsOnly,
        Command::Run(_) => Stages::All,
        Command::Scores(args) => Stages::ScoresOnly(models_from_args(&args.models)?),
        Command::Prepare(_) => return rerun_stage(Stage::Prepare, settings, console, cancel).await,
        Command::Report(_) => return rerun_stage(Stage::Report, settings, console, cancel).await,
        Command::History(HistoryCommand::Rebuild(_)) => return rebuild_history(settings).await,
    };
    let started = Instant::now();
    let began = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let ctx = RunContext::open(settings, cancel)
        .await
        .context("opening the output store")?;
    let run_id = ctx.run_id().clone();
    let where_ = ctx.run.describe();
    let result = pipeline::run(&ctx, stages).await;
    let mut summary = RunSummary {
        run_id: run_id.to_string(),
        location: format!("{where_}/{}", ctx.run.layout().root()),
        planned,
        manifest: None,
        previous_run: None,
        files: Vec::new(),
        seconds: started.elapsed().as_secs_f64(),
        resume: None,
    };
    match &result {
        Ok(manifest) => {
            summary.manifest = Some(manifest.clone());
            summary.previous_run = previous_run(&ctx).await;
            let files: &[&'static str] = match cli.command {
                Command::Models(_) => &[MODELS_CSV, MANIFEST_JSON],
                Command::Scores(_) => &[LEADERBOARD_CSV, MANIFEST_JSON],
                _ => &[DATASET_CSV, REPORT_HTML, MANIFEST_JSON],
            };
            summary.files = files.iter().map(|f| (*f, ctx.run.location(f))).collect();
        }
        Err(_) => {
            // What this attempt recorded before it failed, if it got that far.
            summary.manifest = ctx.run.manifest().await.ok().flatten().filter(|m| {
                chrono::DateTime::parse_from_rfc3339(&m.started_at).is_ok_and(|t| t >= began)
            });
            let args: Vec<String> = std::env::args().collect();
            summary.resume = Some(summary::resume_command(&args, run_id.as_str()));
        }
    }
    if console.is_json() {
        summary.log();
    } else {
        eprint!("{}", summary.render());
    }
    result.with_context(|| format!("run {run_id} (output {where_})"))?;
    Ok(())
}

/// The run the deltas were computed against, as `quality.json` records it.
async fn previous_run(ctx: &RunContext) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Quality {
        previous_run: Option<String>,
    }
    let body = ctx.run.get(QUALITY_JSON).await.ok().flatten()?;
    serde_json::from_slice::<Quality>(&body).ok()?.previous_run
}

/// `prepare` / `report`: one stage over an existing run.
async fn rerun_stage(
    stage: Stage,
    settings: Settings,
    console: Console,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    if settings.output.run_id.is_none() {
        anyhow::bail!(Error::usage(
            "--run-id is required",
            format!("name the existing run to {stage}")
        ));
    }
    let ctx = RunContext::open(settings, cancel)
        .await
        .context("opening the output store")?;
    let run_id = ctx.run_id().clone();
    let where_ = ctx.run.describe();
    let doing = if stage == Stage::Prepare {
        "preparing"
    } else {
        "reporting on"
    };
    let (written, said) = pipeline::rerun_stage(&ctx, stage)
        .await
        .with_context(|| format!("{doing} run {run_id} (output {where_})"))?;
    let location = ctx.run.location(written);
    if console.is_json() {
        tracing::info!(run.id = %run_id, file = %location, "{said}");
    } else {
        eprintln!("{said}");
        eprintln!("wrote {location}");
    }
    Ok(())
}

/// `history rebuild`: backfill the history from the runs in the output.
async fn rebuild_history(settings: Settings) -> anyhow::Result<()> {
    let where_ = settings.output.dir.clone();
    let done = pipeline::rebuild_history(&settings)
        .await
        .with_context(|| format!("rebuilding the history (output {where_})"))?;
    eprintln!(
        "history rebuilt: {} complete runs, {} files written, {} already there, {} runs skipped; \
         {} runs in {where_}/runs/index.json",
        done.complete_runs, done.written, done.already, done.skipped, done.indexed
    );
    Ok(())
}

/// Model ids from `--models`: a models.csv (its `model_id` column), a text file with
/// one id per line, or the ids themselves.
fn models_from_args(args: &[String]) -> Result<Vec<ModelId>, Error> {
    let mut out = Vec::new();
    for arg in args {
        let path = std::path::Path::new(arg);
        if !path.is_file() {
            out.push(ModelId::parse(arg).map_err(|e| Error::usage("--models", e.to_string()))?);
            continue;
        }
        let reading = || format!("reading models from {arg}");
        if arg.ends_with(".csv") {
            // Read row by row (a models.csv of the whole catalogue is hundreds of MB).
            // Ids named on the command line are all wanted: a bad row is an error here.
            let file =
                std::fs::File::open(path).map_err(|e| Error::usage(reading(), e.to_string()))?;
            let mut invalid = None;
            let bad = crate::formats::csv::each_row(
                std::io::BufReader::new(file),
                |r: crate::records::ModelRecord, _| match ModelId::parse(&r.model_id) {
                    Ok(id) => out.push(id),
                    Err(e) => {
                        invalid.get_or_insert(e);
                    }
                },
            );
            if let Some(first) = bad.first() {
                return Err(Error::usage(
                    reading(),
                    format!("{arg} row {}: {}", first.line, first.message),
                ));
            }
            if let Some(e) = invalid {
                return Err(Error::usage(reading(), e.to_string()));
            }
            continue;
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::usage(reading(), e.to_string()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.push(ModelId::parse(line).map_err(|e| {
                Error::usage(
                    format!("reading models from {arg} line {}", i + 1),
                    e.to_string(),
                )
            })?);
        }
    }
    Ok(out)
}
