//! Where answers come from. [`super::drive`] runs a [`ScoreSource`]; the scores stage's
//! datasets and browser sources and the evals stage's Hub source implement it, and so
//! may any later one.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{Answer, CheckpointSink};
use crate::run::{ModelId, Quarantined, SourceName};
use crate::store::StoreError;

/// What a source did besides answering, for the stage's log and outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// HTTP requests made (a browser's page loads are not counted here).
    pub requests: u64,
    /// Browser sessions that died and were replaced.
    pub session_restarts: u64,
}

/// A source of answers for a list of models. It answers every model it is given,
/// handing each answer to the sink the moment it is known, so a crash loses nothing;
/// a model it could not look up is an answer too (an error), not a failure of the
/// source. It returns an error only when it cannot go on at all.
#[async_trait]
pub trait ScoreSource: Send + Sync {
    type Answer: Answer;
    type Error: From<StoreError> + Send;

    /// The name each answer is recorded with.
    fn name(&self) -> SourceName;

    /// The folder below the stage's that holds this source's checkpoints, for a stage
    /// with several sources; `None` for the stage's own folder.
    fn checkpoint_part(&self) -> Option<&'static str> {
        None
    }

    async fn answer(
        &self,
        models: &[ModelId],
        sink: &CheckpointSink<Self::Answer>,
        cancel: &CancellationToken,
    ) -> Result<SourceStats, Self::Error>;

    /// The records from outside this source set aside since it was last asked (rows
    /// that name no model), each with its source and why. They are asked for after
    /// [`ScoreSource::answer`], whether it succeeded or not.
    fn quarantined(&self) -> Vec<Quarantined> {
        Vec::new()
    }
}
