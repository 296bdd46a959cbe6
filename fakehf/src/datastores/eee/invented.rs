//! The invented EEE records, each made from its collection's real example
//! (realdata/2026/eee/examples/) as a template: its shape, its `evaluation_id` form,
//! its source metadata; the ids in EEE's own styles (SUMMARY.md §How a model is
//! identified); the scores invented.

use serde_json::{json, Value};

use super::hfopenllm::round4;
use super::{uuid_from, EeeRecord, Examples};
use crate::catalogue::{fnv, Catalogue, Role, REAL_MIX};

/// `retrieved_timestamp` of the real examples (realdata/2026/eee/examples/*.json):
/// the invented records of a collection share it, but for the re-scrapes.
const MMLU_PRO_TS: &str = "1777613486.918081";
const HELM_TS: &str = "1770835969.095764";
const GLOBAL_MMLU_TS: &str = "1770822797.839372";

/// What is wrong on purpose with an invented record (invented, for the job's tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    /// An extra result in seconds, lower is better, with no `max_score` (helm's
    /// efficiency numbers, nested in the real gpt-oss example's `details`, as a result).
    SecondsResult,
    /// The last result scores above its `max_score`.
    AboveMax,
}

/// An invented record, made from the collection's real example as a template.
pub(super) struct Spec {
    collection: &'static str,
    id: String,
    name: String,
    schema: &'static str,
    timestamp: String,
    /// `model_availability` for 0.3.0 records.
    open_weights: bool,
    flaw: Flaw,
    samples: bool,
}

impl Spec {
    fn new(collection: &'static str, id: &str, schema: &'static str, ts: &str) -> Self {
        Self {
            collection,
            id: id.to_owned(),
            name: id.rsplit('/').next().unwrap_or(id).to_owned(),
            schema,
            timestamp: ts.to_owned(),
            open_weights: true,
            flaw: Flaw::None,
            samples: collection == "helm_capabilities",
        }
    }

    fn flaw(mut self, flaw: Flaw) -> Self {
        self.flaw = flaw;
        self
    }

    fn closed(mut self) -> Self {
        self.open_weights = false;
        self
    }

    pub(super) fn build(&self, examples: &Examples) -> EeeRecord {
        let seed = format!("{}:{}:{}", self.collection, self.id, self.timestamp);
        let mut record = examples.template(self.collection).clone();
        record["schema_version"] = json!(self.schema);
        record["retrieved_timestamp"] = json!(self.timestamp);
        record["evaluation_id"] = json!(self.evaluation_id());
        self.set_model_info(&mut record["model_info"]);
        if self.schema == "0.3.0" {
            self.make_current(&mut record);
        }
        self.set_scores(&mut record["evaluation_results"], &seed);
        let made = EeeRecord::generated(self.collection, uuid_from(&seed), record);
        if self.samples {
            made.with_samples()
        } else {
            made
        }
    }

    /// In each collection's real form (the examples' `evaluation_id`s).
    fn evaluation_id(&self) -> String {
        let id = self.id.replace('/', "_");
        let ts = &self.timestamp;
        match self.collection {
            "MMLU-Pro" => format!("mmlu-pro/{id}/tiger-lab/{ts}"),
            c => format!("{c}/{id}/{ts}"),
        }
    }

    fn set_model_info(&self, info: &mut Value) {
        info["name"] = json!(self.name);
        info["id"] = json!(self.id);
        info["developer"] = json!(self.id.split('/').next().unwrap_or(""));
        if let Some(details) = info
            .get_mut("additional_details")
            .and_then(Value::as_object_mut)
        {
            details.remove("size_billions_parameters");
            for key in ["raw_model_name", "display_name"] {
                if details.contains_key(key) {
                    details.insert(key.into(), json!(self.name));
                }
            }
        }
    }

    /// What 0.3.0 requires (eval.schema.json): `eval_library`, and
    /// `model_info.additional_details.deployment_type` and `model_availability`.
    /// The values are invented.
    fn make_current(&self, record: &mut Value) {
        if record.get("eval_library").is_none() {
            record["eval_library"] = json!({"name": self.collection, "version": "unknown"});
        }
        let info = &mut record["model_info"];
        if info.get("additional_details").is_none() {
            info["additional_details"] = json!({});
        }
        let availability = if self.open_weights {
            "open_weights"
        } else {
            "closed_weights"
        };
        info["additional_details"]["deployment_type"] = json!("unknown");
        info["additional_details"]["model_availability"] = json!(availability);
    }

    /// Invented scores in 0.2..0.9, without the template's `details`.
    fn set_scores(&self, results: &mut Value, seed: &str) {
        let Some(results) = results.as_array_mut() else {
            return;
        };
        for (i, result) in results.iter_mut().enumerate() {
            let score = 0.2 + (fnv(&format!("{seed}#{i}")) % 7000) as f64 / 10_000.0;
            result["score_details"] = json!({"score": round4(score)});
        }
        match self.flaw {
            Flaw::None => {}
            Flaw::AboveMax => {
                if let Some(last) = results.last_mut() {
                    last["score_details"] = json!({"score": 1.0712});
                }
            }
            Flaw::SecondsResult => {
                let source = results.first().map(|r| r["source_data"].clone());
                results.push(json!({
                    "evaluation_name": "Mean score - Efficiency",
                    "source_data": source,
                    "metric_config": {
                        "evaluation_description": "Mean observed inference time (s).",
                        "lower_is_better": true,
                        "score_type": "continuous",
                        "metric_unit": "seconds"
                    },
                    "score_details": {"score": 29.4131}
                }));
            }
        }
    }
}

/// `ts` plus `days` (an invented later scrape).
fn later(ts: &str, days: u64) -> String {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let secs: u64 = secs.parse().unwrap_or(0);
    format!("{}.{frac}", secs + days * 86_400)
}

/// The invented records. Ids are in EEE's own styles (realdata/2026/eee/SUMMARY.md
/// §How a model is identified): lower-cased, other owners, API variants.
pub(super) fn invented_specs(catalogue: &Catalogue) -> Vec<Spec> {
    let mut specs = vec![
        // Re-scrapes of real examples: later, other scores.
        Spec::new(
            "MMLU-Pro",
            "01-ai/yi-1.5-34b-chat",
            "0.2.3",
            &later(MMLU_PRO_TS, 9),
        ),
        Spec::new(
            "helm_capabilities",
            "openai/gpt-oss-20b",
            "0.3.0",
            &later(HELM_TS, 30),
        )
        .flaw(Flaw::SecondsResult),
        Spec::new(
            "global-mmlu-lite",
            "google/gemma-3-27b-it",
            "0.3.0",
            &later(GLOBAL_MMLU_TS, 21),
        ),
        // SUMMARY.md: an API variant with no Hub repo.
        Spec::new(
            "helm_capabilities",
            "qwen/qwen2.5-7b-instruct-turbo",
            "0.2.0",
            HELM_TS,
        ),
        // Invented: owner `mistral` where the Hub's is `mistralai`.
        Spec::new(
            "helm_capabilities",
            "mistral/mistral-small-3.1-24b-instruct-2503",
            "0.2.0",
            HELM_TS,
        ),
        // SUMMARY.md: old global-mmlu-lite names Qwen models `alibaba/…`.
        Spec::new(
            "global-mmlu-lite",
            "alibaba/qwen3-235b-a22b-instruct-2507",
            "0.2.0",
            GLOBAL_MMLU_TS,
        ),
        // Invented: closed models on the MMLU-Pro leaderboard, no Hub repo.
        Spec::new("MMLU-Pro", "openai/gpt-4o-2024-05-13", "0.3.0", MMLU_PRO_TS).closed(),
        Spec::new(
            "MMLU-Pro",
            "anthropic/claude-3-5-sonnet-20241022",
            "0.2.2",
            MMLU_PRO_TS,
        )
        .closed(),
    ];
    specs.extend(
        qwen_mix_ids().into_iter().map(|(id, flaw)| {
            Spec::new("global-mmlu-lite", &id, "0.2.0", GLOBAL_MMLU_TS).flaw(flaw)
        }),
    );
    specs.extend(
        mmlu_pro_mix_ids()
            .iter()
            .map(|id| Spec::new("MMLU-Pro", id, "0.3.0", MMLU_PRO_TS)),
    );
    specs.extend(
        mmlu_pro_new_ids(catalogue)
            .iter()
            .map(|id| Spec::new("MMLU-Pro", id, "0.2.2", MMLU_PRO_TS)),
    );
    specs
}

/// `alibaba/<name lower-cased>` for the real mix's Qwen flagships and relatives (not
/// its quantised repos); the second scores above its maximum (invented).
fn qwen_mix_ids() -> Vec<(String, Flaw)> {
    REAL_MIX
        .iter()
        .filter(|m| m.id.starts_with("Qwen/") && matches!(m.role, Role::Flagship | Role::Related))
        .enumerate()
        .map(|(i, m)| {
            let id = m.id.replace("Qwen/", "alibaba/").to_lowercase();
            (id, if i == 1 { Flaw::AboveMax } else { Flaw::None })
        })
        .collect()
}

/// Every second flagship of the real mix (0th, 2nd, …), lower-cased, whether or not
/// the catalogue has the mix.
fn mmlu_pro_mix_ids() -> Vec<String> {
    REAL_MIX
        .iter()
        .filter(|m| m.role == Role::Flagship)
        .step_by(2)
        .map(|m| m.id.to_lowercase())
        .collect()
}

/// Every third invented newer model of the catalogue (0th, 3rd, …, by rank), lower-cased.
fn mmlu_pro_new_ids(catalogue: &Catalogue) -> Vec<String> {
    (0..catalogue.len())
        .filter(|&r| catalogue.is_new(r) && catalogue.mix_at(r).is_none())
        .step_by(3)
        .map(|r| catalogue.id(r).to_lowercase())
        .collect()
}
