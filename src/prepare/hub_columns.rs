//! The Hub's evaluation results in the dataset: one value per model for each of the
//! run's most common Hub benchmarks (verified over self-reported, then the newest;
//! never the highest), each with its source, and coverage by source.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::records::dataset::{HubColumn, HubScore, ScoreCoverage};
use crate::records::{preferred, EvalResult, EvalRow, EvalSource};

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// `hub_gpqa_diamond` for (`Idavidrein/gpqa`, `gpqa_diamond`), `hub_gsm8k` for
/// (`openai/gsm8k`, `main`), `hub_mmlu_pro` for (`TIGER-Lab/MMLU-Pro`, ``).
fn column_name(benchmark: &str, task: &str) -> String {
    let name = slug(benchmark.rsplit('/').next().unwrap_or(benchmark));
    let task = slug(task);
    let part = if task.is_empty() || matches!(task.as_str(), "main" | "default") || task == name {
        name
    } else if task.starts_with(&name) {
        task
    } else {
        format!("{name}_{task}")
    };
    format!("hub_{part}")
}

fn is_hub(source: EvalSource) -> bool {
    matches!(source, EvalSource::HubEvalResults | EvalSource::ModelCard)
}

/// The run's `columns` most common Hub benchmarks (by models with a value), and each
/// model's preferred value for each, by lower-cased model id.
pub fn hub_columns(
    evals: &[EvalRow],
    columns: usize,
) -> (Vec<HubColumn>, HashMap<String, Vec<HubScore>>) {
    let mut by_key: BTreeMap<(String, String), HashMap<String, Vec<EvalResult>>> = BTreeMap::new();
    for row in evals.iter().filter(|r| is_hub(r.source)) {
        by_key
            .entry((row.benchmark.clone(), row.task.clone()))
            .or_default()
            .entry(row.model_id.to_lowercase())
            .or_default()
            .push(row.result());
    }
    let mut keys: Vec<(&(String, String), usize)> =
        by_key.iter().map(|(k, models)| (k, models.len())).collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut chosen: Vec<HubColumn> = Vec::new();
    let mut names = HashSet::new();
    for ((benchmark, task), models) in keys.into_iter().take(columns) {
        let mut column = column_name(benchmark, task);
        if !names.insert(column.clone()) {
            column = format!("{column}_{}", names.len());
            names.insert(column.clone());
        }
        chosen.push(HubColumn {
            column,
            benchmark: benchmark.clone(),
            task: task.clone(),
            models: models as u64,
        });
    }
    let mut scores: HashMap<String, Vec<HubScore>> = HashMap::new();
    for (i, col) in chosen.iter().enumerate() {
        for (model, results) in &by_key[&(col.benchmark.clone(), col.task.clone())] {
            let Some(best) = preferred(results) else {
                continue;
            };
            let entry = scores
                .entry(model.clone())
                .or_insert_with(|| vec![HubScore::default(); chosen.len()]);
            entry[i] = HubScore {
                value: Some(best.value),
                source: if best.verified {
                    format!("{}, verified", best.source.as_str())
                } else {
                    best.source.as_str().to_owned()
                },
            };
        }
    }
    (chosen, scores)
}

/// Coverage of the dataset's models by source: each model as its id and whether it has
/// a leaderboard score (a row's `average`).
pub fn score_coverage<'a>(
    models: impl IntoIterator<Item = (&'a str, bool)>,
    evals: &[EvalRow],
) -> ScoreCoverage {
    let mut counter = ScoreCounter::new(evals);
    for (model_id, leaderboard) in models {
        counter.count(model_id, leaderboard);
    }
    counter.coverage
}

/// [`score_coverage`] counted one model at a time, as the join makes its rows.
pub struct ScoreCounter {
    sources: HashMap<String, HashSet<EvalSource>>,
    verified: HashSet<String>,
    pub coverage: ScoreCoverage,
}

impl ScoreCounter {
    pub fn new(evals: &[EvalRow]) -> Self {
        let mut sources: HashMap<String, HashSet<EvalSource>> = HashMap::new();
        let mut verified: HashSet<String> = HashSet::new();
        for row in evals {
            sources
                .entry(row.model_id.to_lowercase())
                .or_default()
                .insert(row.source);
            if row.verified {
                verified.insert(row.model_id.to_lowercase());
            }
        }
        Self {
            sources,
            verified,
            coverage: ScoreCoverage::default(),
        }
    }

    /// A model of the dataset, and whether it has a leaderboard score.
    pub fn count(&mut self, model_id: &str, leaderboard: bool) {
        let key = model_id.to_lowercase();
        let c = &mut self.coverage;
        c.models += 1;
        let of = self.sources.get(&key);
        let has = |s: EvalSource| of.is_some_and(|set| set.contains(&s));
        let hub = has(EvalSource::HubEvalResults) || has(EvalSource::ModelCard);
        let other = has(EvalSource::EveryEvalEver) || has(EvalSource::OpenEvals);
        c.leaderboard += u64::from(leaderboard);
        c.hub_eval_results += u64::from(has(EvalSource::HubEvalResults));
        c.model_card += u64::from(has(EvalSource::ModelCard));
        c.hub += u64::from(hub);
        c.every_eval_ever += u64::from(has(EvalSource::EveryEvalEver));
        c.open_evals += u64::from(has(EvalSource::OpenEvals));
        c.leaderboard_or_hub += u64::from(leaderboard || hub);
        c.any += u64::from(leaderboard || hub || other);
        c.verified += u64::from(leaderboard || self.verified.contains(&key));
        match (leaderboard, hub) {
            (true, true) => c.both += 1,
            (true, false) => c.leaderboard_only += 1,
            (false, true) => c.hub_only += 1,
            (false, false) => c.none += u64::from(!other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_read_well() {
        assert_eq!(
            column_name("Idavidrein/gpqa", "gpqa_diamond"),
            "hub_gpqa_diamond"
        );
        assert_eq!(column_name("openai/gsm8k", "main"), "hub_gsm8k");
        assert_eq!(
            column_name("TIGER-Lab/MMLU-Pro", "mmlu_pro"),
            "hub_mmlu_pro"
        );
        assert_eq!(column_name("cais/hle", ""), "hub_hle");
        assert_eq!(column_name("squad_v2", "squad_v2"), "hub_squad_v2");
        assert_eq!(column_name("HuggingFaceH4/ifeval", "x"), "hub_ifeval_x");
    }
}
