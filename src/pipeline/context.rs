//! What a run is given: its settings, its store, its token and its cancellation.

use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::run::{RunId, RunLayout, Secret};
use crate::store::{self, RunStore};

/// Defined here, at the top, and handed down: each stage gets only the parts it needs.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub settings: Settings,
    pub run: RunStore,
    pub hf_token: Option<Secret>,
    /// Cancelled on SIGTERM / Ctrl-C: stages stop taking new work and clean up.
    pub cancel: CancellationToken,
}

impl RunContext {
    /// Open the output (checked before anything runs) for the configured run id, or a
    /// new one.
    pub async fn open(settings: Settings, cancel: CancellationToken) -> Result<Self> {
        let run_id = match &settings.output.run_id {
            Some(id) => RunId::parse(id).map_err(|e| Error::usage("--run-id", e.to_string()))?,
            None => RunId::now(),
        };
        let store = store::open(&settings.output.dir, &settings.s3)
            .await
            .map_err(Error::Preflight)?;
        Ok(Self {
            run: RunStore::new(store, RunLayout::new(run_id))
                .with_concurrency(settings.output.concurrency)
                .with_checkpoint_batch(settings.output.checkpoint_batch),
            hf_token: crate::hub::token_from_env(),
            settings,
            cancel,
        })
    }

    pub fn run_id(&self) -> &RunId {
        self.run.run_id()
    }
}
