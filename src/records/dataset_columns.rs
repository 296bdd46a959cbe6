//! `dataset.csv`'s rows as typed Parquet columns, for `dataset.parquet`: the same
//! columns in the same order, with counts as integers, `created_at` a timestamp and
//! `license` (which the CSV joins with `;` when a card names several) a list.

use super::dataset::{DatasetRow, HubColumn};
use crate::formats::parquet::{non_empty, split_list, timestamp_ms, Table};

fn int(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok())
}

/// The columns of `dataset.parquet`, in `dataset.csv`'s order.
pub fn dataset_table() -> Table<DatasetRow> {
    type R = DatasetRow;
    Table::new()
        .int("rank", |r: &R| int(Some(r.rank)))
        .text("model_id", |r: &R| Some(&r.model_id))
        .text("org", |r: &R| non_empty(&r.org))
        .list("license", |r: &R| split_list(&r.license))
        .text("license_family", |r: &R| Some(r.license_family.label()))
        .float("parameters_b", |r: &R| r.parameters_b)
        .text("parameters_source", |r: &R| {
            Some(r.parameters_source.as_str())
        })
        .text("size_class", |r: &R| r.size_class.map(|s| s.label()))
        .text("relation", |r: &R| Some(r.relation.label()))
        .text("base_model", |r: &R| non_empty(&r.base_model))
        .timestamp("created_at", |r: &R| timestamp_ms(&r.created_at))
        .int("age_days", |r: &R| r.age_days)
        .int("downloads", |r: &R| int(r.downloads))
        .int("downloads_all_time", |r: &R| int(r.downloads_all_time))
        .float("downloads_per_day", |r: &R| r.downloads_per_day)
        .int("likes", |r: &R| int(r.likes))
        .int("downloads_delta_1d", |r: &R| r.downloads_delta_1d)
        .int("downloads_delta_7d", |r: &R| r.downloads_delta_7d)
        .int("downloads_delta_30d", |r: &R| r.downloads_delta_30d)
        .int("likes_delta_1d", |r: &R| r.likes_delta_1d)
        .text("join_status", |r: &R| Some(r.join_status.label()))
        .words("score_source", |r: &R| Some(&r.score_source))
        .text("canonical_eval", |r: &R| non_empty(&r.canonical_eval))
        .int("leaderboard_rows", |r: &R| {
            Some(i64::from(r.leaderboard_rows))
        })
        .text("precision", |r: &R| non_empty(&r.precision))
        .float("average", |r: &R| r.average)
        .float("ifeval", |r: &R| r.ifeval)
        .float("bbh", |r: &R| r.bbh)
        .float("math_lvl5", |r: &R| r.math_lvl5)
        .float("gpqa", |r: &R| r.gpqa)
        .float("musr", |r: &R| r.musr)
        .float("mmlu_pro", |r: &R| r.mmlu_pro)
}

/// The run's Hub benchmark columns after the fixed ones: each value and its source.
pub fn with_hub_columns(table: Table<DatasetRow>, hub: &[HubColumn]) -> Table<DatasetRow> {
    let mut table = table;
    for (i, column) in hub.iter().enumerate() {
        table = table
            .float(&column.column, move |r: &DatasetRow| {
                r.hub.get(i).and_then(|h| h.value)
            })
            .text(
                &format!("{}_source", column.column),
                move |r: &DatasetRow| r.hub.get(i).and_then(|h| non_empty(&h.source)),
            );
    }
    table
}
