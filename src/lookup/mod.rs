//! The lookup engine the score stages share: a [`ScoreSource`] answers models, [`drive`]
//! runs it over the models this run has not answered yet, each answer is checkpointed
//! on its own ([`checkpoint`]), [`ratio`] says when too many failed, and [`matching`]
//! says which model another source's id names.

pub mod checkpoint;
mod drive;
pub mod matching;
pub mod ratio;
mod source;

pub use checkpoint::{Answer, Answers, Checkpoint, CheckpointSink, Checkpoints, Written};
pub use drive::{drive, Driven};
pub use matching::{owner_aliases, IdMatch, IdMatcher, MatchRule, OwnerAlias};
pub use ratio::{errors_over, within_ratio};
pub use source::{ScoreSource, SourceStats};
