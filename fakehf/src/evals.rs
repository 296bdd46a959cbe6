//! The Hub's evaluation results, for models newer than the leaderboard
//! (realdata/README.md, "Evaluation results on the Hub"):
//! - `evalResults`, an `expand[]` property of the list and model endpoints, whose items
//!   have the shape of realdata/hub/eval-results-items.json (a test literal of
//!   huggingface_hub's: `filename`, `verified`, `data{dataset{id, task_id}, value,
//!   date?, source{url, name?}?}`, and `pullRequest` for a community result);
//! - the official benchmarks, `GET /api/datasets?filter=benchmark:official`, and each
//!   one's leaderboard, `GET /api/datasets/{id}/leaderboard` (rank order; `base_model`
//!   defaults to true, which keeps only models with no declared base model);
//! - `model-index` in the card data, in the shape of
//!   realdata/hub/model-info-deepset--roberta-base-squad2.json.
//!
//! Which models have which results, and every value, is invented, deterministically.
//! So are a few faults the real services may show: an item without `data`, a string
//! `value`, a result without a benchmark id, a benchmark whose leaderboard is gone
//! (404) and one that has none (400), and `model-index: null`.

use std::collections::HashMap;

use serde_json::{json, Value};

/// The official benchmarks: (dataset id, task id). The first five are the known ids
/// the README lists; the last two are invented, to fail.
pub const OFFICIAL: [(&str, &str); 7] = [
    ("cais/hle", "hle"),
    ("Idavidrein/gpqa", "gpqa_diamond"),
    ("TIGER-Lab/MMLU-Pro", "mmlu_pro"),
    ("openai/gsm8k", "main"),
    ("SWE-bench/SWE-bench_Verified", "default"),
    // Invented: listed, but its leaderboard is gone (404).
    ("retired-org/retired-benchmark", "default"),
    // Invented: listed, but it has no leaderboard (an error of undocumented status).
    ("board-less/no-leaderboard", "default"),
];

/// A benchmark's leaderboard answer: `Ok(entries)` or an HTTP error status.
pub fn leaderboard_status(dataset: &str) -> Result<(), u16> {
    match dataset {
        "retired-org/retired-benchmark" => Err(404),
        "board-less/no-leaderboard" => Err(400),
        _ if OFFICIAL.iter().any(|(id, _)| *id == dataset) => Ok(()),
        _ => Err(404),
    }
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// A value in 0..100 with one decimal, from a model and a benchmark (invented). GPQA's
/// is a proportion (0..1, three decimals), as the spec's own example writes it
/// (realdata/2026/community-evals/hub-docs__eval_results.yaml: `value: 0.412` for
/// Idavidrein/gpqa), so the Hub's results mix the two scales as the real ones do.
fn value(model: &str, dataset: &str, newest: bool) -> f64 {
    let base = if newest { 55.0 } else { 30.0 };
    let spread = (hash(&format!("{model}|{dataset}")) % 400) as f64 / 10.0;
    let percent = ((base + spread) * 10.0).round() / 10.0;
    if dataset == "Idavidrein/gpqa" {
        (percent * 10.0).round() / 1000.0
    } else {
        percent
    }
}

/// One `evalResults` item, in the real item's shape.
fn item(model: &str, dataset: &str, task: &str, newest: bool, i: u64) -> Value {
    let h = hash(&format!("{model}#{dataset}"));
    let file = dataset.rsplit('/').next().unwrap_or(dataset).to_lowercase();
    let mut data = json!({
        "dataset": {"id": dataset, "task_id": task},
        "value": value(model, dataset, newest),
        "date": format!("2025-{:02}-{:02}", 4 + h % 8, 1 + h % 27),
    });
    // Most results cite a report; some cite nothing (a real quirk: `source` is optional).
    if !h.is_multiple_of(5) {
        data["source"] = json!({
            "url": format!("https://huggingface.co/{model}"),
            "name": "Model card",
        });
    }
    let mut out = json!({
        "filename": format!(".eval_results/{file}.yaml"),
        // Invented proportions: a third verified.
        "verified": h.is_multiple_of(3),
        "data": data,
    });
    // A community result comes from an open pull request.
    if (h + i).is_multiple_of(7) {
        out["pullRequest"] = json!(10 + h % 90);
        out["verified"] = json!(false);
    }
    out
}

/// The model's `evalResults`. `newest`: a model released after the leaderboard, with
/// several results; other models have one now and then, or none.
pub fn eval_results(model: &str, newest: bool, rank: usize) -> Value {
    let h = hash(model);
    let mut items: Vec<Value> = Vec::new();
    let official = &OFFICIAL[..5];
    if newest {
        let n = 2 + (h % 3) as usize;
        for (i, (dataset, task)) in official
            .iter()
            .cycle()
            .skip((h % 5) as usize)
            .take(n)
            .enumerate()
        {
            items.push(item(model, dataset, task, true, i as u64));
        }
    } else if h.is_multiple_of(11) {
        let (dataset, task) = official[(h % 5) as usize];
        items.push(item(model, dataset, task, false, 0));
    }
    // Invented faults, at fixed ranks of the catalogue (the results themselves are
    // kept; only the faulty item is skipped).
    match rank {
        3 => items.push(json!({"filename": ".eval_results/broken.yaml", "verified": false})),
        5 => items.push(json!({
            "filename": ".eval_results/gsm8k.yaml",
            "verified": false,
            "data": {"dataset": {"id": "openai/gsm8k", "task_id": "main"}, "value": "86.2%"}
        })),
        8 => items.push(json!({
            "filename": ".eval_results/mystery.yaml",
            "verified": false,
            "data": {"dataset": {"task_id": "main"}, "value": 12.5}
        })),
        _ => {}
    }
    Value::Array(items)
}

/// Card data `model-index` for some models that were on the leaderboard, as the cards
/// written for it report their scores (the README: `source{url, name: "Open LLM
/// Leaderboard"}` and metric types such as `inst_level_strict_acc and
/// prompt_level_strict_acc`). `None`: no `model-index`. One model has `null`.
pub fn model_index(model: &str, rank: usize, ifeval: Option<f64>) -> Option<Value> {
    if rank == 12 {
        return Some(Value::Null);
    }
    let ifeval = ifeval?;
    if !hash(model).is_multiple_of(4) {
        return None;
    }
    Some(json!([{
        "name": model,
        "results": [{
            "task": {"type": "text-generation", "name": "Text Generation"},
            "dataset": {"name": "IFEval (0-Shot)", "type": "HuggingFaceH4/ifeval", "args": {"num_few_shot": 0}},
            "metrics": [{
                "type": "inst_level_strict_acc and prompt_level_strict_acc",
                "value": ifeval,
                "name": "strict accuracy",
            }],
            "source": {
                "url": format!("https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard?query={model}"),
                "name": "Open LLM Leaderboard",
            }
        }]
    }]))
}

/// Every benchmark's leaderboard from every model's results, by dataset id, in one pass
/// over the models: the real shape (`GET /api/datasets/{id}/leaderboard`), by rank.
pub fn leaderboards(
    models: impl Iterator<Item = (String, Value, bool)>,
    base_model_filter: bool,
) -> HashMap<String, Value> {
    let mut boards: HashMap<String, Vec<(f64, Value)>> = HashMap::new();
    for (model, results, has_base) in models {
        if base_model_filter && has_base {
            continue;
        }
        for r in results.as_array().into_iter().flatten() {
            let data = &r["data"];
            let Some(dataset) = data["dataset"]["id"].as_str() else {
                continue;
            };
            let Some(v) = data["value"].as_f64() else {
                continue;
            };
            let mut entry = json!({
                "modelId": model,
                "value": v,
                "filename": r["filename"],
                "verified": r["verified"],
                "author": {"type": "user", "name": model.split('/').next().unwrap_or("")},
            });
            if let Some(url) = data["source"]["url"].as_str() {
                entry["source"] =
                    json!({"url": url, "name": data["source"]["name"], "isExternal": false});
            }
            if let Some(pr) = r.get("pullRequest") {
                entry["pullRequest"] = pr.clone();
            }
            boards
                .entry(dataset.to_owned())
                .or_default()
                .push((v, entry));
        }
    }
    boards
        .into_iter()
        .map(|(dataset, mut entries)| {
            entries.sort_by(|a, b| b.0.total_cmp(&a.0));
            let ranked = entries
                .into_iter()
                .enumerate()
                .map(|(i, (_, mut e))| {
                    e["rank"] = json!(i + 1);
                    e
                })
                .collect();
            (dataset, Value::Array(ranked))
        })
        .collect()
}
