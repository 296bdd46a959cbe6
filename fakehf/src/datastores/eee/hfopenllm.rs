//! `hfopenllm_v2`: EEE's conversion of the Open LLM Leaderboard (SUMMARY.md: 4,574
//! files at d9be34d6), one record per real leaderboard model of the catalogue, built
//! from its first row of realdata/leaderboard/formatted-2025-03-21.csv exactly as the
//! real examples/hfopenllm_v2__TencentARC__LLaMA-Pro-8B-Instruct__98ea850e.json is
//! from its row (the unit test below checks it). Real EEE probably has one record per
//! leaderboard row (4,576 rows, 79 models with several); the fake has one per model.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};

use super::{uuid_from, EeeRecord};
use crate::catalogue::Catalogue;

/// The real example's `retrieved_timestamp`, shared by every record here.
const HFOPENLLM_TS: &str = "1770682486.623709";

/// A model's first row of the leaderboard (realdata/leaderboard/formatted-2025-03-21.csv),
/// as the catalogue takes it.
pub(super) struct LeaderboardRow {
    precision: String,
    architecture: String,
    params_billions: Option<f64>,
    /// The six `value`s (raw, 0..1), in [`HFOPENLLM_RESULTS`] order.
    values: [Option<f64>; 6],
}

pub(super) fn leaderboard_rows(realdata: &Path) -> anyhow::Result<HashMap<String, LeaderboardRow>> {
    let path = realdata.join("leaderboard/formatted-2025-03-21.csv");
    let mut reader =
        csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_owned())
    };
    let name = col("model_name")?;
    let precision = col("model_precision")?;
    let arch = col("model_architecture")?;
    let params = col("metadata_params_billions")?;
    let values: Vec<usize> = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"]
        .iter()
        .map(|b| col(&format!("evaluations_{b}_value")))
        .collect::<anyhow::Result<_>>()?;
    let mut out = HashMap::new();
    for row in reader.records() {
        let row = row?;
        out.entry(row[name].to_lowercase())
            .or_insert_with(|| LeaderboardRow {
                precision: row[precision].to_owned(),
                architecture: row[arch].to_owned(),
                params_billions: row[params].parse().ok(),
                values: std::array::from_fn(|i| row[values[i]].parse().ok()),
            });
    }
    Ok(out)
}

/// (evaluation_name, hf_repo, description) of the six results, verbatim from
/// examples/hfopenllm_v2__TencentARC__LLaMA-Pro-8B-Instruct__98ea850e.json.
const HFOPENLLM_RESULTS: [(&str, &str, &str); 6] = [
    ("IFEval", "google/IFEval", "Accuracy on IFEval"),
    ("BBH", "SaylorTwift/bbh", "Accuracy on BBH"),
    (
        "MATH Level 5",
        "DigitalLearningGmbH/MATH-lighteval",
        "Exact Match on MATH Level 5",
    ),
    ("GPQA", "Idavidrein/gpqa", "Accuracy on GPQA"),
    ("MUSR", "TAUR-Lab/MuSR", "Accuracy on MUSR"),
    ("MMLU-PRO", "TIGER-Lab/MMLU-Pro", "Accuracy on MMLU-PRO"),
];

/// One `hfopenllm_v2` record per real leaderboard model in the catalogue but the
/// TencentARC example (served verbatim).
pub(super) fn hfopenllm_records(
    catalogue: &Catalogue,
    rows: &HashMap<String, LeaderboardRow>,
) -> Vec<EeeRecord> {
    (0..catalogue.len())
        .filter_map(|rank| catalogue.real_at(rank))
        .filter(|m| m.id != "TencentARC/LLaMA-Pro-8B-Instruct")
        .filter_map(|m| Some((m.id.as_str(), rows.get(&m.id.to_lowercase())?)))
        .map(|(id, row)| {
            let uuid = uuid_from(&format!("hfopenllm_v2:{id}"));
            EeeRecord::generated("hfopenllm_v2", uuid, hfopenllm_record(id, row))
        })
        .collect()
}

/// The record in the shape of the real TencentARC one: the six raw values rounded to
/// four decimals, as that record's scores are of its leaderboard row.
fn hfopenllm_record(id: &str, row: &LeaderboardRow) -> Value {
    let (developer, name) = id.split_once('/').unwrap_or(("", id));
    let results: Vec<Value> = HFOPENLLM_RESULTS
        .iter()
        .zip(row.values)
        .filter_map(|(&(bench, repo, description), value)| {
            Some(json!({
                "evaluation_name": bench,
                "source_data": {"dataset_name": bench, "source_type": "hf_dataset", "hf_repo": repo},
                "metric_config": {
                    "evaluation_description": description,
                    "lower_is_better": false,
                    "score_type": "continuous",
                    "min_score": 0.0,
                    "max_score": 1.0
                },
                "score_details": {"score": round4(value?)}
            }))
        })
        .collect();
    json!({
        "schema_version": "0.2.0",
        "evaluation_id": format!("hfopenllm_v2/{}/{HFOPENLLM_TS}", id.replace('/', "_")),
        "retrieved_timestamp": HFOPENLLM_TS,
        "source_metadata": {
            "source_name": "HF Open LLM v2",
            "source_type": "documentation",
            "source_organization_name": "Hugging Face",
            "evaluator_relationship": "third_party"
        },
        "model_info": {
            "name": name,
            "id": id,
            "developer": developer,
            "inference_platform": "unknown",
            "additional_details": {
                "precision": row.precision,
                "architecture": row.architecture,
                "params_billions": row.params_billions
            }
        },
        "evaluation_results": results
    })
}

pub(super) fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::super::Examples;
    use super::*;

    /// The generator gives back the real TencentARC record from its leaderboard row.
    #[test]
    fn hfopenllm_record_is_the_real_example() {
        let realdata = crate::realdata_dir();
        let rows = leaderboard_rows(&realdata).unwrap();
        let id = "TencentARC/LLaMA-Pro-8B-Instruct";
        let ours = hfopenllm_record(id, &rows[&id.to_lowercase()]);
        let examples = Examples::load(&realdata).unwrap();
        assert_eq!(ours, examples.tencent.record);
    }
}
