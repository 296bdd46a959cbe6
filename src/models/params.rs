//! Parameter counts parsed from a model's name, for repos without `safetensors` metadata.

use std::sync::LazyLock;

use regex::Regex;

/// `8x7B` (mixture of experts: experts × size), or a plain size such as `7b`, `1.5B`,
/// `270m`. The size must stand alone: `A22B` (active parameters) and `8bit` do not count.
static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9.])(?:(\d{1,3})x)?(\d+(?:\.\d+)?)([kmbt])(?:$|[^a-z0-9])")
        .expect("valid regex")
});

/// The nominal parameter count a model name states, e.g. `Llama-3.1-8B-Instruct` → 8e9.
/// For `8x7B` this is the nominal 56e9 (the real count, with shared layers, is lower).
pub fn parameters_from_name(model_id: &str) -> Option<u64> {
    let name = model_id.rsplit('/').next().unwrap_or(model_id);
    // Matches can overlap at their boundary characters, so scan from each match start.
    let mut start = 0;
    while let Some(caps) = SIZE.captures_at(name, start) {
        let whole = caps.get(0)?;
        let experts: f64 = caps.get(1).map_or(Ok(1.0), |m| m.as_str().parse()).ok()?;
        let size: f64 = caps[2].parse().ok()?;
        let unit = match caps[3].to_ascii_lowercase().as_str() {
            "k" => 1e3,
            "m" => 1e6,
            "b" => 1e9,
            _ => 1e12,
        };
        let count = experts * size * unit;
        // A "k" size is a context length (`4k`), not a parameter count.
        if unit > 1e3 && count >= 1e6 {
            return Some(count.round() as u64);
        }
        start = whole.start() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parameters_from_name as p;

    #[test]
    fn real_names() {
        let cases: &[(&str, Option<u64>)] = &[
            ("meta-llama/Llama-3.1-8B-Instruct", Some(8_000_000_000)),
            ("meta-llama/Llama-2-7b-chat-hf", Some(7_000_000_000)),
            ("meta-llama/Meta-Llama-3-70B", Some(70_000_000_000)),
            ("mistralai/Mixtral-8x7B-Instruct-v0.1", Some(56_000_000_000)),
            ("mistralai/Mixtral-8x22B-v0.1", Some(176_000_000_000)),
            ("mistralai/Mistral-7B-v0.1", Some(7_000_000_000)),
            ("Qwen/Qwen2.5-1.5B-Instruct", Some(1_500_000_000)),
            ("Qwen/Qwen3-235B-A22B", Some(235_000_000_000)),
            ("Qwen/Qwen3-30B-A3B", Some(30_000_000_000)),
            ("Qwen/Qwen1.5-MoE-A2.7B", None),
            ("google/gemma-3-270m", Some(270_000_000)),
            ("google/gemma-2-2b-it", Some(2_000_000_000)),
            ("HuggingFaceTB/SmolLM2-135M-Instruct", Some(135_000_000)),
            ("HuggingFaceTB/SmolLM2-1.7B", Some(1_700_000_000)),
            ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", Some(1_100_000_000)),
            (
                "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
                Some(1_500_000_000),
            ),
            ("deepseek-ai/DeepSeek-V3", None),
            ("microsoft/Phi-3-mini-4k-instruct", None),
            ("microsoft/phi-2", None),
            ("openai-community/gpt2", None),
            ("openai/gpt-oss-20b", Some(20_000_000_000)),
            ("EleutherAI/pythia-1.4b-deduped", Some(1_400_000_000)),
            ("facebook/opt-1.3b", Some(1_300_000_000)),
            ("bigscience/bloom-560m", Some(560_000_000)),
            ("tiiuae/falcon-40b", Some(40_000_000_000)),
            (
                "meta-llama/Llama-4-Scout-17B-16E-Instruct",
                Some(17_000_000_000),
            ),
            ("TheBloke/Llama-2-13B-chat-GPTQ", Some(13_000_000_000)),
            (
                "unsloth/Llama-3.2-1B-Instruct-bnb-4bit",
                Some(1_000_000_000),
            ),
            ("01-ai/Yi-1.5-34B", Some(34_000_000_000)),
            ("moonshotai/Kimi-K2-Instruct", None),
            ("someone/frankenmerge-2x7B", Some(14_000_000_000)),
            (
                "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                Some(8_000_000_000),
            ),
        ];
        for (name, want) in cases {
            assert_eq!(p(name), *want, "{name}");
        }
    }
}
