//! Test and fixture repos: real repositories, often among the most downloaded (every
//! `config.json` fetch counts as a download, and CI suites load them on every run), but
//! not models anyone uses. `trl-internal-testing/tiny-Qwen2ForCausalLM-2.5` has about
//! 3 million downloads a month for 2.43M parameters (realdata/2026/test-models.md).
//!
//! **The rule**, in order, the first that holds names the repo a fixture:
//! 1. its owner hosts CI fixtures: `hf-internal-testing`, or any `*-internal-testing`
//!    (`trl-internal-testing`, `optimum-internal-testing`, `optimum-intel-internal-testing`),
//!    or `hf-tiny-*` (the transformers bot's `hf-tiny-v2`);
//! 2. its name says so: it contains `tiny-random`, or starts with `tiny-` and names a
//!    transformers class (`…ForCausalLM`, `…ForConditionalGeneration`);
//! 3. its exact parameter count (`safetensors`) is under 10 million, and its name gives
//!    no size of its own (a repo named `…-5M` says what it is).

use crate::records::parameters_from_name;
use crate::records::{ModelRecord, ParametersSource};

/// Below this many parameters an exactly counted repo is a fixture (rule 3): the
/// smallest language models people run have about a hundred million.
pub const FIXTURE_PARAMETERS: u64 = 10_000_000;

/// The rule that makes `record` a test or fixture repo, in words for `quality.json`; or
/// `None` for a model.
pub fn fixture_rule(record: &ModelRecord) -> Option<String> {
    let (owner, name) = record
        .model_id
        .split_once('/')
        .unwrap_or(("", record.model_id.as_str()));
    let owner_lower = owner.to_ascii_lowercase();
    if owner_lower.ends_with("-internal-testing") || owner_lower.starts_with("hf-tiny") {
        return Some(format!("test repo: its owner {owner} hosts CI fixtures"));
    }
    let name_lower = name.to_ascii_lowercase();
    let names_a_class = ["forcausallm", "forconditionalgeneration"]
        .iter()
        .any(|class| name_lower.contains(class));
    if name_lower.contains("tiny-random") || (name_lower.starts_with("tiny-") && names_a_class) {
        return Some(format!("test repo: its name {name} is a fixture's"));
    }
    match (record.parameters, record.parameters_source) {
        (Some(n), ParametersSource::Safetensors | ParametersSource::Unpacked)
            if n < FIXTURE_PARAMETERS && parameters_from_name(&record.model_id).is_none() =>
        {
            Some(format!(
                "test repo: {n} parameters, under {FIXTURE_PARAMETERS}, and no size in its name"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, parameters: Option<u64>, source: ParametersSource) -> ModelRecord {
        ModelRecord {
            model_id: id.into(),
            parameters,
            parameters_source: source,
            ..Default::default()
        }
    }

    #[test]
    fn the_fixtures_of_test_models_md_are_caught() {
        // Each from realdata/2026/test-models.md, with its real parameter count.
        for (id, params) in [
            (
                "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5",
                Some(2_430_000),
            ),
            (
                "trl-internal-testing/tiny-Qwen2_5_VLForConditionalGeneration",
                Some(9_020_000),
            ),
            ("hf-internal-testing/tiny-random-LlamaForCausalLM", None),
            ("illuin/tiny-random-MistralForCausalLM", None),
            ("hyper-accel/tiny-random-llama", Some(73_300_000)),
            (
                "hf-tiny-v2/tiny-random-Qwen2_5_VLForConditionalGeneration",
                None,
            ),
            (
                "optimum-intel-internal-testing/tiny-random-LlamaForCausalLM",
                None,
            ),
            ("yujiepan/llama-3-tiny-random", None),
        ] {
            let r = record(id, params, ParametersSource::Safetensors);
            assert!(fixture_rule(&r).is_some(), "{id}");
        }
        let tiny = record(
            "someone/unnamed-model",
            Some(2_430_000),
            ParametersSource::Safetensors,
        );
        assert!(fixture_rule(&tiny).unwrap().contains("2430000 parameters"));
    }

    #[test]
    fn real_models_are_not() {
        for (id, params, source) in [
            (
                "Qwen/Qwen3-0.6B",
                Some(751_632_384),
                ParametersSource::Safetensors,
            ),
            (
                "HuggingFaceTB/SmolLM2-135M",
                Some(134_515_008),
                ParametersSource::Safetensors,
            ),
            (
                "google/gemma-3-4b-it",
                Some(4_300_079_472),
                ParametersSource::Safetensors,
            ),
            (
                "someone/Tiny-Llama-5M",
                Some(5_000_000),
                ParametersSource::Name,
            ),
            (
                "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                Some(1_100_048_384),
                ParametersSource::Safetensors,
            ),
            ("unknown/no-count", None, ParametersSource::None),
        ] {
            assert_eq!(fixture_rule(&record(id, params, source)), None, "{id}");
        }
    }
}
