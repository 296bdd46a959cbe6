//! Parameter counts: from the Hub's `safetensors` block, unpacked for quantised repos,
//! and the nominal one a model's name states.

use serde_json::Value;

use crate::records::{parameters_from_name, ParametersSource};

/// **The quantised-count rule.** The Hub's `safetensors.parameters` (count per dtype)
/// is sometimes the packed count and sometimes already unpacked, and `total` can
/// disagree with the map (realdata/2026/packed-quant/SUMMARY.md: huggingface.js
/// unpacks since PRs #1770, #2003, #2323, #2415; hub-docs#2704 and huggingface_hub#4221
/// show both states and a hard-coded `total`). So:
/// 1. the count is recomputed from the per-dtype map, and `total` is used only when
///    there is no map;
/// 2. for a repo with a `quantization_config` (in `config`, or its `text_config`), the
///    unpacked count multiplies only the integer containers by what they hold: `I32`
///    and `U32` by 32/bits, `I64` by 64/bits, `U8` by 2 for 4-bit (bitsandbytes
///    `load_in_4bit`, mxfp4); float dtypes (the unquantised layers) are never
///    multiplied. bits come from `bits`, `w_bit`, `config_groups.*.weights.num_bits`,
///    `load_in_4bit` / `load_in_8bit`, or 4 for mxfp4. With a group size, the zero
///    points and scales are taken out (see [`unpacked_count`]);
/// 3. whether the map was packed: the candidate (as reported, or unpacked) nearer the
///    size the name (or, failing that, the base model's name) states wins; with no size
///    named, the map was packed when its integer containers hold fewer elements than its
///    floats (unpacked, the quantised linear layers outnumber everything else).
///
/// Returns the count and which source won, or `None` without a `safetensors` block.
pub fn safetensors_count(item: &Value, model_id: &str) -> Option<(Option<u64>, ParametersSource)> {
    let block = item.get("safetensors")?;
    let map: Vec<(String, u64)> = block
        .get("parameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(dtype, n)| Some((dtype.to_ascii_uppercase(), n.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    let total = block.get("total").and_then(Value::as_u64);
    if map.is_empty() {
        return total.map(|t| (Some(t), ParametersSource::Safetensors));
    }
    let reported: u64 = map.iter().map(|(_, n)| n).sum();
    let Some(bits) = quantization_bits(item.get("config")) else {
        return Some((Some(reported), ParametersSource::Safetensors));
    };
    let unpacked = unpacked_count(&map, bits, group_size(item.get("config")));
    if unpacked == reported {
        return Some((Some(reported), ParametersSource::Safetensors));
    }
    let named = parameters_from_name(model_id).or_else(|| base_model_size(item));
    let packed = match named {
        Some(size) => distance(unpacked, size) < distance(reported, size),
        None => {
            let integers: u64 = map
                .iter()
                .filter(|(d, _)| is_container(d))
                .map(|(_, n)| n)
                .sum();
            integers < reported - integers
        }
    };
    Some(if packed {
        (Some(unpacked), ParametersSource::Unpacked)
    } else {
        (Some(reported), ParametersSource::Safetensors)
    })
}

/// The bits of a quantised weight, from a `quantization_config` (or its text model's).
fn quantization_bits(config: Option<&Value>) -> Option<u32> {
    let config = config?;
    let q = config
        .get("quantization_config")
        .or_else(|| config.get("text_config")?.get("quantization_config"))?;
    let number = |v: Option<&Value>| v.and_then(Value::as_u64).map(|b| b as u32);
    let from_groups = || {
        q.get("config_groups")?
            .as_object()?
            .values()
            .find_map(|g| number(g.get("weights")?.get("num_bits")))
    };
    let flag = |key: &str| q.get(key).and_then(Value::as_bool) == Some(true);
    let bits = number(q.get("bits"))
        .or_else(|| number(q.get("w_bit")))
        .or_else(from_groups)
        .or_else(|| flag("load_in_4bit").then_some(4))
        .or_else(|| flag("load_in_8bit").then_some(8))
        .or_else(|| {
            (q.get("quant_method").and_then(Value::as_str) == Some("mxfp4")).then_some(4)
        })?;
    (1..=16).contains(&bits).then_some(bits)
}

fn is_container(dtype: &str) -> bool {
    matches!(dtype, "I32" | "U32" | "I64" | "U8")
}

/// The per-dtype map with its integer containers unpacked at `bits` a weight. With a
/// `group_size` g (AWQ, GPTQ, compressed-tensors), the packed containers also hold the
/// zero points, one per g weights (`qzeros`), and the floats hold one scale per g
/// weights (`scales`): neither is a parameter of the model, so the weights are the
/// unpacked count × g/(g+1), and their scales (weights / g) come off the floats. On the
/// real `graelo/Qwen2.5-7B-Instruct-1M-AWQ` header counts this gives 7,615,616,512, the
/// count of Qwen2.5-7B itself (realdata/2026/packed-quant/SUMMARY.md).
fn unpacked_count(map: &[(String, u64)], bits: u32, group_size: Option<u64>) -> u64 {
    let mut weights: u64 = 0;
    let mut floats: u64 = 0;
    for (dtype, n) in map {
        let per = match dtype.as_str() {
            "I32" | "U32" => 32 / bits,
            "I64" => 64 / bits,
            "U8" if bits == 4 => 2,
            _ => {
                floats = floats.saturating_add(*n);
                continue;
            }
        };
        weights = weights.saturating_add(n.saturating_mul(u64::from(per.max(1))));
    }
    match group_size.filter(|g| *g > 1) {
        Some(g) => {
            let weights = (u128::from(weights) * u128::from(g) / u128::from(g + 1)) as u64;
            weights.saturating_add(floats.saturating_sub(weights / g))
        }
        None => weights.saturating_add(floats),
    }
}

/// The quantisation's group size, where it has one: `group_size`, `q_group_size`, or
/// `config_groups.*.weights.group_size`.
fn group_size(config: Option<&Value>) -> Option<u64> {
    let config = config?;
    let q = config
        .get("quantization_config")
        .or_else(|| config.get("text_config")?.get("quantization_config"))?;
    q.get("group_size")
        .or_else(|| q.get("q_group_size"))
        .and_then(Value::as_u64)
        .or_else(|| {
            q.get("config_groups")?
                .as_object()?
                .values()
                .find_map(|g| g.get("weights")?.get("group_size")?.as_u64())
        })
}

/// How far apart two counts are, as a ratio.
fn distance(a: u64, b: u64) -> f64 {
    ((a.max(1) as f64) / (b.max(1) as f64)).ln().abs()
}

/// The size the first base model's name states (a quantised repo's card names its base).
fn base_model_size(item: &Value) -> Option<u64> {
    let base = item.get("cardData")?.get("base_model")?;
    let first = match base {
        Value::String(s) => s.as_str(),
        Value::Array(items) => items.first()?.as_str()?,
        _ => return None,
    };
    parameters_from_name(first)
}

#[cfg(test)]
mod tests {
    use super::parameters_from_name as p;
    use super::*;

    /// A Hub model object with this `safetensors` block and `quantization_config`.
    fn repo(parameters: Value, total: u64, quantization: Option<Value>) -> Value {
        let mut item = serde_json::json!({
            "safetensors": {"parameters": parameters, "total": total},
            "config": {}
        });
        if let Some(q) = quantization {
            item["config"]["quantization_config"] = q;
        }
        item
    }

    // The counts of realdata/2026/packed-quant/ (SUMMARY.md and the huggingface.js spec).
    #[test]
    fn quantised_counts_come_out_unpacked_whichever_way_the_hub_gave_them() {
        let awq = serde_json::json!({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm"});
        // Already unpacked by the Hub: kept as reported.
        let unpacked = repo(
            serde_json::json!({"I32": 6_525_288_448u64, "F16": 1_090_328_064u64}),
            7_615_616_512,
            Some(awq.clone()),
        );
        assert_eq!(
            safetensors_count(&unpacked, "Qwen/Qwen2.5-7B-Instruct-AWQ"),
            Some((Some(7_615_616_512), ParametersSource::Safetensors))
        );
        // Packed (the stored header counts): unpacked here, 8 weights an I32.
        let packed = repo(
            serde_json::json!({"I32": 822_033_408u64, "F16": 1_141_306_880u64}),
            1_963_340_288,
            Some(awq.clone()),
        );
        assert_eq!(
            safetensors_count(&packed, "graelo/Qwen2.5-7B-Instruct-1M-AWQ"),
            Some((Some(7_615_616_512), ParametersSource::Unpacked))
        );
        // With no size in the name, the containers' share decides.
        assert_eq!(
            safetensors_count(&packed, "someone/qwen-awq").unwrap().1,
            ParametersSource::Unpacked
        );
        assert_eq!(
            safetensors_count(&unpacked, "someone/qwen-awq").unwrap().1,
            ParametersSource::Safetensors
        );
        // bitsandbytes 4-bit: U8 holds two weights, found by load_in_4bit.
        let bnb = serde_json::json!({"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_storage": "uint8"});
        let stored = repo(
            serde_json::json!({"F32": 89_856u64, "BF16": 262_735_872u64, "U8": 501_762_865u64}),
            764_588_593,
            Some(bnb),
        );
        assert_eq!(
            safetensors_count(&stored, "unsloth/Llama-3.2-1B-Instruct-bnb-4bit"),
            Some((
                Some(89_856 + 262_735_872 + 1_003_525_730),
                ParametersSource::Unpacked
            ))
        );
    }

    #[test]
    fn the_map_wins_over_a_total_that_disagrees_and_floats_are_never_multiplied() {
        // huggingface_hub#4221: {"BF16": 7615616512} with "total": 333312.
        let moose = repo(serde_json::json!({"BF16": 7_615_616_512u64}), 333_312, None);
        assert_eq!(
            safetensors_count(&moose, "ZonglinY/MOOSE-Star-R1D-7B"),
            Some((Some(7_615_616_512), ParametersSource::Safetensors))
        );
        let fp8 = repo(
            serde_json::json!({"BF16": 3_000_000_000u64, "F8_E4M3": 5_000_000_000u64}),
            8_000_000_000,
            Some(serde_json::json!({"quant_method": "fp8"})),
        );
        assert_eq!(
            safetensors_count(&fp8, "x/y").unwrap().0,
            Some(8_000_000_000)
        );
        assert_eq!(safetensors_count(&serde_json::json!({}), "x/y"), None);
    }

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
