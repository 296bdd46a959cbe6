//! Run the fake Hugging Face services until killed; prints its URL on stdout.

use std::time::Duration;

use clap::Parser;
use fakehf::{FakeConfig, FakeHf};

#[derive(Parser)]
#[command(about = "A local fake of the Hugging Face Hub API, from shared/realdata")]
struct Args {
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Models in the catalogue.
    #[arg(long, default_value_t = 1000)]
    models: usize,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Leave out the odd models.
    #[arg(long)]
    no_odd_models: bool,
    /// A token `/api/whoami-v2` refuses (repeatable).
    #[arg(long)]
    refuse_token: Vec<String>,
    /// Round the leaderboard JSON API's floats to this many decimals (the browser
    /// source needs it: the real app overflows Chromium's storage quota otherwise).
    #[arg(long)]
    formatted_decimals: Option<i32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fake = FakeHf::start_on(
        FakeConfig {
            models: args.models,
            latency: Duration::from_millis(args.latency_ms),
            odd_models: !args.no_odd_models,
            refused_tokens: args.refuse_token,
            formatted_decimals: args.formatted_decimals,
            ..FakeConfig::default()
        },
        args.port,
    )
    .await?;
    println!("{}", fake.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
