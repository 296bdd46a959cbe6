//! `leaderboard.csv`'s rows as typed Parquet columns: the history's `scores` table, one
//! row per model and leaderboard evaluation (a model without a row of its own has one
//! row saying so), with the benchmarks as columns, as in the CSV.

use super::scores::LeaderboardRecord;
use crate::formats::parquet::{non_empty, timestamp_ms, Table};

/// The columns of a `scores` table, in `leaderboard.csv`'s order.
pub fn scores_table() -> Table<LeaderboardRecord> {
    type R = LeaderboardRecord;
    Table::new()
        .text("model_id", |r: &R| Some(&r.model_id))
        .text("status", |r: &R| r.status.map(|s| s.outcome()))
        .text("source", |r: &R| non_empty(&r.source))
        .text("eval_name", |r: &R| non_empty(&r.eval_name))
        .text("matched_name", |r: &R| non_empty(&r.matched_name))
        .text("precision", |r: &R| non_empty(&r.precision))
        .text("model_type", |r: &R| non_empty(&r.model_type))
        .text("weight_type", |r: &R| non_empty(&r.weight_type))
        .text("architecture", |r: &R| non_empty(&r.architecture))
        .bool("chat_template", |r: &R| r.chat_template)
        .float("average", |r: &R| r.average)
        .float("ifeval", |r: &R| r.ifeval)
        .float("bbh", |r: &R| r.bbh)
        .float("math_lvl5", |r: &R| r.math_lvl5)
        .float("gpqa", |r: &R| r.gpqa)
        .float("musr", |r: &R| r.musr)
        .float("mmlu_pro", |r: &R| r.mmlu_pro)
        .float("params_b", |r: &R| r.params_b)
        .text("hub_license", |r: &R| non_empty(&r.hub_license))
        .timestamp("submission_date", |r: &R| timestamp_ms(&r.submission_date))
        .text("base_model", |r: &R| non_empty(&r.base_model))
        .text("detail", |r: &R| non_empty(&r.detail))
}
