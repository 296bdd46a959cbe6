//! `models.csv`'s rows as typed Parquet columns: the history's `models` table. The
//! CSV's `;`-joined cells are lists here, its ISO 8601 cells timestamps, and its text
//! carries no spreadsheet prefix.

use super::models::ModelRecord;
use crate::formats::parquet::{non_empty, split_list, timestamp_ms, Table};

fn int(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok())
}

/// The columns of a `models` table, in `models.csv`'s order.
pub fn models_table() -> Table<ModelRecord> {
    Table::new()
        .int("rank", |r: &ModelRecord| int(Some(r.rank)))
        .text("model_id", |r: &ModelRecord| Some(&r.model_id))
        .text("author", |r: &ModelRecord| non_empty(&r.author))
        .list("license", |r: &ModelRecord| split_list(&r.license))
        .int("downloads", |r: &ModelRecord| int(r.downloads))
        .int("downloads_all_time", |r: &ModelRecord| {
            int(r.downloads_all_time)
        })
        .int("likes", |r: &ModelRecord| int(r.likes))
        .float("trending_score", |r: &ModelRecord| r.trending_score)
        .timestamp("created_at", |r: &ModelRecord| timestamp_ms(&r.created_at))
        .timestamp("last_modified", |r: &ModelRecord| {
            timestamp_ms(&r.last_modified)
        })
        .int("parameters", |r: &ModelRecord| int(r.parameters))
        .text("parameters_source", |r: &ModelRecord| {
            Some(r.parameters_source.as_str())
        })
        .text("pipeline_tag", |r: &ModelRecord| non_empty(&r.pipeline_tag))
        .text("library_name", |r: &ModelRecord| non_empty(&r.library_name))
        .list("architectures", |r: &ModelRecord| {
            split_list(&r.architectures)
        })
        .text("model_type", |r: &ModelRecord| non_empty(&r.model_type))
        .list("base_models", |r: &ModelRecord| split_list(&r.base_models))
        .text("base_model_relation", |r: &ModelRecord| {
            non_empty(&r.base_model_relation)
        })
        .text("gated", |r: &ModelRecord| non_empty(&r.gated))
        .list("languages", |r: &ModelRecord| split_list(&r.languages))
        .list("tags", |r: &ModelRecord| split_list(&r.tags))
        .text("sha", |r: &ModelRecord| non_empty(&r.sha))
}
