//! The lookup engine the score stages share: a [`ScoreSource`] answers models, [`drive`]
//! runs it over the models this run has not answered yet, each answer is checkpointed
//! on its own ([`checkpoint`]), and [`ratio`] says when too many failed.

pub mod checkpoint;
mod drive;
pub mod ratio;
mod source;

pub use checkpoint::{Answer, Checkpoint, CheckpointSink, Checkpoints};
pub use drive::{drive, Driven};
pub use ratio::{errors_over, within_ratio};
pub use source::{ScoreSource, SourceStats};
