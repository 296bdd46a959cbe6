//! The real mix of 2026 ([`crate::FakeConfig::real_mix`]): the models people download
//! today, mixed into the catalogue by their downloads. Every id, pipeline tag and
//! number here comes from `shared/realdata/2026/` unless its comment says "invented":
//! - `pipeline-tags.md` (P): the multimodal flagships and their real `pipeline_tag`,
//!   the "• 27B" sizes and the few download counts their Hub cards show;
//! - `test-models.md` (T): CI and fixture repos with their real downloads and sizes;
//! - `packed-quant/SUMMARY.md` (Q) and its verbatim huggingface.js spec (Q-spec:
//!   `huggingface.js__parse-safetensors-metadata.spec.ts`, pinned revisions): the
//!   `safetensors` maps of quantised repos, packed and unpacked, and real
//!   `quantization_config` fields.
//!
//! Invented throughout (the real pages do not give them): `_id`, `sha`, likes,
//! trending scores, dates other than a cited "Updated …", licences, and every
//! architecture name the comments do not cite. Totals written "rounds to the cited
//! NB" have invented low digits: the real cards show only the rounded size.

use serde_json::{json, Map, Value};

use super::{fnv, sha};

/// Why a model is in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An original model of a 2025–26 family, with its real pipeline tag (P).
    Flagship,
    /// Another model P cites for its own tag: a sibling, copy or derivative of a
    /// flagship.
    Related,
    /// A CI/fixture repo (T): random weights, a few million parameters.
    TestRepo,
    /// A quantised repo (or one whose `total` disagrees with its map), from Q.
    Quantised,
}

/// One model of the mix. `parameters` and `total` are served as they are, even where
/// they disagree: that is what the real Hub does (Q).
#[derive(Debug, Clone, Copy)]
pub struct MixModel {
    pub id: &'static str,
    pub pipeline_tag: &'static str,
    pub role: Role,
    /// Downloads in the last 30 days, on night 0.
    pub downloads: u64,
    /// `library_name`, also the first tag; `None` for a repo without one.
    pub library: Option<&'static str>,
    pub model_type: &'static str,
    pub architecture: &'static str,
    /// `safetensors.parameters`, dtype → count.
    pub parameters: &'static [(&'static str, u64)],
    /// `safetensors.total`.
    pub total: u64,
    /// `config.quantization_config`, as JSON text.
    pub quantization_config: Option<&'static str>,
    /// Tags besides the library, `safetensors`, the model type, the pipeline tag and
    /// the base-model and licence tags.
    pub tags: &'static [&'static str],
    /// (relation, base id): card data `base_model` and the `base_model:…` tags.
    pub base_model: Option<(&'static str, &'static str)>,
    pub license: Option<&'static str>,
    /// `gated`: `None` is `false`.
    pub gated: Option<&'static str>,
    /// `createdAt` / `lastModified` dates (invented unless the comment cites them).
    pub created: &'static str,
    pub modified: &'static str,
}

/// Fields most entries share; each entry overrides what it knows.
const BASE: MixModel = MixModel {
    id: "",
    pipeline_tag: "text-generation",
    role: Role::Flagship,
    downloads: 0,
    library: Some("transformers"),
    model_type: "",
    architecture: "",
    parameters: &[],
    total: 0,
    quantization_config: None,
    tags: &[],
    base_model: None,
    license: None,
    gated: None,
    created: "2025-06-01",
    modified: "2025-07-01",
};

/// Real AWQ `quantization_config`: the transformers docs' block for
/// TheBloke/zephyr-7B-alpha-AWQ (packed-quant/transformers__docs_quantization_awq.md__config_block.md).
const AWQ: &str = r#"{"quant_method": "awq", "zero_point": true, "group_size": 128, "bits": 4, "version": "gemm"}"#;

/// The mix, by downloads. Every download count not marked "real" is invented, chosen
/// so that the multimodal flagships interleave with the top of the text-generation
/// listing (whose counts the fake invents anyway: 30M, 14.5M, 9.5M, 7.0M, … by rank).
pub const REAL_MIX: [MixModel; 31] = [
    // P: "Qwen/Qwen3-VL-8B-Instruct Image-Text-to-Text • 9B • Updated Oct 15, 2025 •
    // 15.2M" (brzozz/activity/all): the tag, the size, the date and the downloads are
    // real; the model type and architecture are invented.
    MixModel {
        id: "Qwen/Qwen3-VL-8B-Instruct",
        pipeline_tag: "image-text-to-text",
        downloads: 15_200_000,
        model_type: "qwen3_vl",
        architecture: "Qwen3VLForConditionalGeneration",
        parameters: &[("BF16", 8_767_123_696)], // rounds to the cited 9B
        total: 8_767_123_696,
        tags: &["conversational"],
        license: Some("apache-2.0"),
        created: "2025-10-11",
        modified: "2025-10-15",
        ..BASE
    },
    // P: "google/gemma-4-31B-it Image-Text-to-Text • 31B • Updated Jul 20 • 8.78M"
    // (collections/admeyer/search): tag, size and downloads real; the year of the
    // update is invented. Model type `gemma4` as the E4B sibling's badge shows.
    MixModel {
        id: "google/gemma-4-31B-it",
        pipeline_tag: "image-text-to-text",
        downloads: 8_780_000,
        model_type: "gemma4",
        architecture: "Gemma4ForConditionalGeneration",
        parameters: &[("BF16", 31_273_082_416)], // rounds to the cited 31B
        total: 31_273_082_416,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2026-04-02",
        modified: "2026-07-20",
        ..BASE
    },
    // P: google/gemma-3-4b-it/discussions/4, header badge "Image-Text-to-Text". Size
    // invented from the name (P cites none); model type `gemma3` as the 27B's badges.
    MixModel {
        id: "google/gemma-3-4b-it",
        pipeline_tag: "image-text-to-text",
        downloads: 6_100_000,
        model_type: "gemma3",
        architecture: "Gemma3ForConditionalGeneration",
        parameters: &[("BF16", 4_300_079_472)],
        total: 4_300_079_472,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2025-03-07",
        modified: "2025-03-21",
        ..BASE
    },
    // P: openai/gpt-oss-20b/tree/main, badges "Text Generation, Transformers,
    // Safetensors, gpt_oss, vllm, conversational, 8-bit precision, mxfp4". Q-spec,
    // revision bbf09307: parameters {BF16: 1_804_459_584, U8: 19_110_297_600}, total
    // 20_914_757_184 — already unpacked (the mxfp4 `_blocks` counted ×2, the scales
    // left out). `quant_method: "mxfp4"` is the case huggingface.js reads
    // (parse-safetensors-metadata.ts L682-910); the config's other keys are left out.
    MixModel {
        id: "openai/gpt-oss-20b",
        downloads: 5_200_000,
        model_type: "gpt_oss",
        architecture: "GptOssForCausalLM",
        parameters: &[("BF16", 1_804_459_584), ("U8", 19_110_297_600)],
        total: 20_914_757_184,
        quantization_config: Some(r#"{"quant_method": "mxfp4"}"#),
        tags: &["vllm", "conversational", "mxfp4"],
        license: Some("apache-2.0"),
        created: "2025-08-04",
        modified: "2025-08-26",
        ..BASE
    },
    // P: google/gemma-4-E4B-it/tree/main, badges "Any-to-Any, Transformers,
    // Safetensors, gemma4, image-text-to-text, Eval Results"; "Any-to-Any • 8B". The
    // secondary tag `image-text-to-text` is real: a `filter=` on it finds this model.
    MixModel {
        id: "google/gemma-4-E4B-it",
        pipeline_tag: "any-to-any",
        downloads: 4_300_000,
        model_type: "gemma4",
        architecture: "Gemma4ForConditionalGeneration",
        parameters: &[("BF16", 7_996_156_490)], // rounds to the cited 8B
        total: 7_996_156_490,
        tags: &["image-text-to-text", "eval-results"],
        license: Some("gemma"),
        created: "2026-04-02",
        modified: "2026-06-11",
        ..BASE
    },
    // P: tag "image-text-to-text (inferred)", medium confidence: no page of this exact
    // repo; its siblings (-AWQ, -72B, unsloth's copy) show "Image-Text-to-Text". Size
    // invented; the architecture is the one the trl test repo below is named after (T).
    MixModel {
        id: "Qwen/Qwen2.5-VL-7B-Instruct",
        pipeline_tag: "image-text-to-text",
        downloads: 3_700_000,
        model_type: "qwen2_5_vl",
        architecture: "Qwen2_5_VLForConditionalGeneration",
        parameters: &[("BF16", 8_292_166_656)],
        total: 8_292_166_656,
        tags: &["conversational"],
        license: Some("apache-2.0"),
        created: "2025-01-26",
        modified: "2025-04-06",
        ..BASE
    },
    // T: "Downloads last month 3,036,239", "Model size 2.43M params", F32, Text
    // Generation; card: "a minimal model built for unit tests in the TRL library".
    MixModel {
        id: "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5",
        role: Role::TestRepo,
        downloads: 3_036_239,
        model_type: "qwen2",
        architecture: "Qwen2ForCausalLM",
        parameters: &[("F32", 2_432_504)], // rounds to the cited 2.43M
        total: 2_432_504,
        tags: &["trl", "conversational"],
        created: "2024-11-26",
        modified: "2024-11-30",
        ..BASE
    },
    // P: discussions/108, badges "Image-Text-to-Text, Transformers, Safetensors,
    // gemma3, conversational, Eval Results"; "google/gemma-3-27b-it Image-Text-to-Text
    // • 27B".
    MixModel {
        id: "google/gemma-3-27b-it",
        pipeline_tag: "image-text-to-text",
        downloads: 2_550_000,
        model_type: "gemma3",
        architecture: "Gemma3ForConditionalGeneration",
        parameters: &[("BF16", 27_432_406_640)], // rounds to the cited 27B
        total: 27_432_406_640,
        tags: &["conversational", "eval-results"],
        license: Some("gemma"),
        created: "2025-03-01",
        modified: "2025-03-21",
        ..BASE
    },
    // P: discussions/48, badges "Text Generation, Transformers, Safetensors,
    // gemma3_text…": the one Gemma 3 that is text-generation. Size invented.
    MixModel {
        id: "google/gemma-3-1b-it",
        downloads: 2_200_000,
        model_type: "gemma3_text",
        architecture: "Gemma3ForCausalLM",
        parameters: &[("BF16", 999_885_952)],
        total: 999_885_952,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2025-03-10",
        modified: "2025-04-04",
        ..BASE
    },
    // P: "google/gemma-4-E2B-it Any-to-Any • 5B" (lklol). No secondary
    // `image-text-to-text` tag cited for it (only for E4B), so it has none.
    MixModel {
        id: "google/gemma-4-E2B-it",
        pipeline_tag: "any-to-any",
        downloads: 1_900_000,
        model_type: "gemma4",
        architecture: "Gemma4ForConditionalGeneration",
        parameters: &[("BF16", 5_123_178_979)], // rounds to the cited 5B
        total: 5_123_178_979,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2026-04-02",
        modified: "2026-06-11",
        ..BASE
    },
    // T: Text Generation, badges "Transformers, ONNX, Safetensors, llama,
    // conversational". Downloads invented (T found none for hf-internal-testing); the
    // size invented, tiny as the name says.
    MixModel {
        id: "hf-internal-testing/tiny-random-LlamaForCausalLM",
        role: Role::TestRepo,
        downloads: 1_650_000,
        model_type: "llama",
        architecture: "LlamaForCausalLM",
        parameters: &[("F32", 1_034_496)],
        total: 1_034_496,
        tags: &["onnx", "conversational"],
        created: "2023-03-16",
        modified: "2024-07-03",
        ..BASE
    },
    // P: collections/meta-llama/llama-4 and models?other=base_model:finetune:
    // meta-llama/Llama-4-Scout-17B-16E, "Image-Text-to-Text • 109B": the tag, the size
    // and the base model (a finetune of Llama-4-Scout-17B-16E) are real. Gated by hand
    // as Meta's repos are (realdata/hub list item of Llama-3.1-8B-Instruct).
    MixModel {
        id: "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        pipeline_tag: "image-text-to-text",
        downloads: 1_450_000,
        model_type: "llama4",
        architecture: "Llama4ForConditionalGeneration",
        parameters: &[("BF16", 108_641_793_536)], // rounds to the cited 109B
        total: 108_641_793_536,
        tags: &["conversational"],
        base_model: Some(("finetune", "meta-llama/Llama-4-Scout-17B-16E")),
        license: Some("llama4"),
        gated: Some("manual"),
        created: "2025-04-02",
        modified: "2025-05-22",
        ..BASE
    },
    // P: "google/gemma-3n-E4B-it Image-Text-to-Text • 8B • Updated Jul 14"
    // (collections/google/gemma-3n), medium confidence. The year is invented.
    MixModel {
        id: "google/gemma-3n-E4B-it",
        pipeline_tag: "image-text-to-text",
        downloads: 1_300_000,
        model_type: "gemma3n",
        architecture: "Gemma3nForConditionalGeneration",
        parameters: &[("BF16", 7_849_978_192)], // rounds to the cited 8B
        total: 7_849_978_192,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2025-06-26",
        modified: "2025-07-14",
        ..BASE
    },
    // P: discussions/28, badges "Image-Text-to-Text, Safetensors, 24 languages, vllm,
    // mistral3…" and NO Transformers badge: `library_name` is `vllm`. Size invented
    // from the name; which three of the 24 languages it tags, invented.
    MixModel {
        id: "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
        pipeline_tag: "image-text-to-text",
        downloads: 1_150_000,
        library: Some("vllm"),
        model_type: "mistral3",
        architecture: "Mistral3ForConditionalGeneration",
        parameters: &[("BF16", 24_011_361_280)],
        total: 24_011_361_280,
        tags: &["fr", "de", "es", "conversational"],
        license: Some("apache-2.0"),
        created: "2025-03-11",
        modified: "2025-04-03",
        ..BASE
    },
    // P: "google/gemma-4-26B-A4B-it Image-Text-to-Text • 27B" (collections/thedps/google).
    MixModel {
        id: "google/gemma-4-26B-A4B-it",
        pipeline_tag: "image-text-to-text",
        downloads: 980_000,
        model_type: "gemma4",
        architecture: "Gemma4ForConditionalGeneration",
        parameters: &[("BF16", 26_806_624_512)], // rounds to the cited 27B
        total: 26_806_624_512,
        tags: &["conversational"],
        license: Some("gemma"),
        created: "2026-04-02",
        modified: "2026-06-11",
        ..BASE
    },
    // P: Qwen2.5-Omni-7B/discussions/1, PR "Add `Any-to-Any` tag" (merged), badges
    // "Any-to-Any, Transformers, Safetensors, English, qwen2_5_omni, multimodal";
    // collections/Qwen/qwen25-omni "Any-to-Any • 11B".
    MixModel {
        id: "Qwen/Qwen2.5-Omni-7B",
        pipeline_tag: "any-to-any",
        downloads: 760_000,
        model_type: "qwen2_5_omni",
        architecture: "Qwen2_5OmniForConditionalGeneration",
        parameters: &[("BF16", 10_732_225_408)], // rounds to the cited 11B
        total: 10_732_225_408,
        tags: &["multimodal"],
        license: Some("other"),
        created: "2025-03-22",
        modified: "2025-04-30",
        ..BASE
    },
    // P: DeepSeek-R1/commits/main/LICENSE, badges "Text Generation, Transformers,
    // Safetensors, deepseek_v3, conversational, custom_code, fp8". The per-dtype split
    // and total are invented (the shape of realdata/hub/list-expand-author-deepseek-ai.json:
    // F8_E4M3 weights beside BF16 and F32); `quant_method: "fp8"` is the case
    // huggingface.js reads (F8 stays one value per byte).
    MixModel {
        id: "deepseek-ai/DeepSeek-R1",
        downloads: 640_000,
        model_type: "deepseek_v3",
        architecture: "DeepseekV3ForCausalLM",
        parameters: &[
            ("BF16", 3_918_786_560),
            ("F8_E4M3", 680_571_043_840),
            ("F32", 41_555_600),
        ],
        total: 684_531_386_000,
        quantization_config: Some(r#"{"quant_method": "fp8"}"#),
        tags: &["conversational", "custom_code", "fp8"],
        license: Some("mit"),
        created: "2025-01-20",
        modified: "2025-03-27",
        ..BASE
    },
    // Q: a "Real Hub metadata" literal in a test of github Khaeldur/overflowml:
    // parameters {I32: 6_525_288_448, F16: 1_090_328_064}, already unpacked (the sum is
    // exactly Qwen2.5-7B's count, scales left out). Downloads invented; the AWQ config
    // is the docs' real one (this repo's own is not in realdata).
    MixModel {
        id: "Qwen/Qwen2.5-7B-Instruct-AWQ",
        role: Role::Quantised,
        downloads: 520_000,
        model_type: "qwen2",
        architecture: "Qwen2ForCausalLM",
        parameters: &[("I32", 6_525_288_448), ("F16", 1_090_328_064)],
        total: 7_615_616_512,
        quantization_config: Some(AWQ),
        tags: &["conversational", "4-bit", "awq"],
        base_model: Some(("quantized", "Qwen/Qwen2.5-7B-Instruct")),
        license: Some("apache-2.0"),
        created: "2024-09-19",
        modified: "2024-09-20",
        ..BASE
    },
    // P: "Qwen/Qwen2.5-VL-72B-Instruct Image-Text-to-Text • 73B" (a sibling cited for
    // Qwen2.5-VL-7B's tag).
    MixModel {
        id: "Qwen/Qwen2.5-VL-72B-Instruct",
        pipeline_tag: "image-text-to-text",
        role: Role::Related,
        downloads: 455_000,
        model_type: "qwen2_5_vl",
        architecture: "Qwen2_5_VLForConditionalGeneration",
        parameters: &[("BF16", 73_410_777_344)], // rounds to the cited 73B
        total: 73_410_777_344,
        tags: &["conversational"],
        license: Some("other"),
        created: "2025-01-27",
        modified: "2025-05-01",
        ..BASE
    },
    // Q-spec, revision 3921b6ae: {I32: 6_979_321_856, F16: 1_052_315_648}, total
    // 8_031_637_504 — unpacked (PR #1770: "Before … ~2B parameters. After: ~8B").
    // `quantization_config`: the compressed-tensors fields huggingface.js reads
    // (quant_method, format "pack-quantized", config_groups.<g>.weights.num_bits,
    // ignore); num_bits 4 from "w4a16", the group name, targets and ignore invented.
    // The base model is invented from the name, in the catalogue's spelling.
    MixModel {
        id: "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
        role: Role::Quantised,
        downloads: 420_000,
        model_type: "llama",
        architecture: "LlamaForCausalLM",
        parameters: &[("I32", 6_979_321_856), ("F16", 1_052_315_648)],
        total: 8_031_637_504,
        quantization_config: Some(
            r#"{"quant_method": "compressed-tensors", "format": "pack-quantized", "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 4}}}, "ignore": ["lm_head"]}"#,
        ),
        tags: &["int4", "vllm", "conversational", "compressed-tensors"],
        base_model: Some(("quantized", "meta-llama/Llama-3.1-8B-Instruct")),
        license: Some("llama3.1"),
        created: "2024-07-26",
        modified: "2024-11-05",
        ..BASE
    },
    // Q-spec, revision f15c379f: {BF16: 1_050_939_392, U8: 6_979_321_856}
    // ("3_489_660_928 packed bytes x 2": already unpacked), total 8_030_261_248.
    // `quantization_config`: the bitsandbytes keys Q lists; `load_in_4bit`, storage
    // `uint8` and double quantisation (the spec's nested absmax) are real, the quant
    // type and compute dtype invented among the documented values.
    MixModel {
        id: "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit",
        role: Role::Quantised,
        downloads: 310_000,
        model_type: "llama",
        architecture: "LlamaForCausalLM",
        parameters: &[("BF16", 1_050_939_392), ("U8", 6_979_321_856)],
        total: 8_030_261_248,
        quantization_config: Some(
            r#"{"quant_method": "bitsandbytes", "load_in_4bit": true, "load_in_8bit": false, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_use_double_quant": true, "bnb_4bit_quant_storage": "uint8", "llm_int8_threshold": 6.0}"#,
        ),
        tags: &["unsloth", "conversational", "4-bit", "bitsandbytes"],
        base_model: Some(("quantized", "meta-llama/Llama-3.1-8B-Instruct")),
        license: Some("llama3.1"),
        created: "2024-07-23",
        modified: "2024-09-25",
        ..BASE
    },
    // T: "Image-to-Text", "Downloads last month 188,105", 9.02M params, BF16. Its tag is
    // image-to-text, not image-text-to-text: none of the default listings has it.
    MixModel {
        id: "trl-internal-testing/tiny-Qwen2_5_VLForConditionalGeneration",
        pipeline_tag: "image-to-text",
        role: Role::TestRepo,
        downloads: 188_105,
        model_type: "qwen2_5_vl",
        architecture: "Qwen2_5_VLForConditionalGeneration",
        parameters: &[("BF16", 9_021_344)], // rounds to the cited 9.02M
        total: 9_021_344,
        tags: &["trl"],
        created: "2024-12-10",
        modified: "2025-02-18",
        ..BASE
    },
    // P: "google/gemma-4-31B-it-assistant Any-to-Any • 0.5B" (models?search=google/gemma),
    // medium confidence. A small real model, not a test repo.
    MixModel {
        id: "google/gemma-4-31B-it-assistant",
        pipeline_tag: "any-to-any",
        role: Role::Related,
        downloads: 140_000,
        model_type: "gemma4",
        architecture: "Gemma4ForConditionalGeneration",
        parameters: &[("BF16", 498_216_960)], // rounds to the cited 0.5B
        total: 498_216_960,
        license: Some("gemma"),
        created: "2026-04-02",
        modified: "2026-06-11",
        ..BASE
    },
    // P: "unsloth/Qwen2.5-VL-7B-Instruct Image-Text-to-Text" (a sibling cited for
    // Qwen2.5-VL-7B's tag). Size as the original's (invented); base model from the name.
    MixModel {
        id: "unsloth/Qwen2.5-VL-7B-Instruct",
        pipeline_tag: "image-text-to-text",
        role: Role::Related,
        downloads: 95_000,
        model_type: "qwen2_5_vl",
        architecture: "Qwen2_5_VLForConditionalGeneration",
        parameters: &[("BF16", 8_292_166_656)],
        total: 8_292_166_656,
        tags: &["unsloth", "conversational"],
        base_model: Some(("finetune", "Qwen/Qwen2.5-VL-7B-Instruct")),
        license: Some("apache-2.0"),
        created: "2025-01-31",
        modified: "2025-03-09",
        ..BASE
    },
    // P: "mlabonne/gemma-3-4b-it-qat-abliterated 'Image-Text-to-Text' but gemma3_text":
    // the tag says vision, the model type says text. Size invented (a text-only 4B).
    MixModel {
        id: "mlabonne/gemma-3-4b-it-qat-abliterated",
        pipeline_tag: "image-text-to-text",
        role: Role::Related,
        downloads: 61_000,
        model_type: "gemma3_text",
        architecture: "Gemma3ForCausalLM",
        parameters: &[("BF16", 3_880_263_168)],
        total: 3_880_263_168,
        tags: &["abliterated", "conversational"],
        base_model: Some(("finetune", "google/gemma-3-4b-it")),
        license: Some("gemma"),
        created: "2025-04-20",
        modified: "2025-04-22",
        ..BASE
    },
    // Q: the model page of graelo/Qwen2.5-7B-Instruct-1M-AWQ shows "Model size 1.96B
    // params, Tensor type I32 · BF16 · FP16" for a 7B model: PACKED. The split is
    // invented, from the stored header counts Q gives for Qwen/Qwen2.5-7B-Instruct-AWQ
    // ({I32: 822_033_408, F16: 1_141_306_880}): I32 as there; its F16 split into the
    // unquantised weights (BF16 1_090_328_064) and the scales (F16 50_978_816). The sum,
    // 1_963_340_288, is the cited 1.96B. Downloads invented; base model from the name.
    MixModel {
        id: "graelo/Qwen2.5-7B-Instruct-1M-AWQ",
        role: Role::Quantised,
        downloads: 45_000,
        model_type: "qwen2",
        architecture: "Qwen2ForCausalLM",
        parameters: &[
            ("I32", 822_033_408),
            ("BF16", 1_090_328_064),
            ("F16", 50_978_816),
        ],
        total: 1_963_340_288,
        quantization_config: Some(AWQ),
        tags: &["conversational", "4-bit", "awq"],
        base_model: Some(("quantized", "Qwen/Qwen2.5-7B-Instruct-1M")),
        license: Some("apache-2.0"),
        created: "2025-02-03",
        modified: "2025-02-03",
        ..BASE
    },
    // T: illuin's "model-internal-testing" collection, Text Generation, 36.3k
    // downloads. Size invented (T shows none).
    MixModel {
        id: "illuin/tiny-random-MistralForCausalLM",
        role: Role::TestRepo,
        downloads: 36_300,
        model_type: "mistral",
        architecture: "MistralForCausalLM",
        parameters: &[("F32", 4_160_512)],
        total: 4_160_512,
        created: "2023-09-22",
        modified: "2023-09-22",
        ..BASE
    },
    // Q: AlexsJones/llmfit#1045: the Hub's `safetensors.total` for this repo is the
    // PACKED count 7_839_289_360 (25.1 GB of files). The per-dtype split, the pipeline
    // tag and the model type are invented: I32 × 8 plus BF16 gives the 27B of its name.
    // `quantization_config`: the GPTQ fields of shuttle-3-GPTQ-Int4's real
    // quantize_config.json (Q), assumed here. No base model: Q does not say which.
    MixModel {
        id: "TelperionAI/Qwen3.8-27B-INT4-AWQ-GPTQ",
        role: Role::Quantised,
        downloads: 28_000,
        model_type: "qwen3",
        architecture: "Qwen3ForCausalLM",
        parameters: &[("I32", 2_741_827_584), ("BF16", 5_097_461_776)],
        total: 7_839_289_360,
        quantization_config: Some(
            r#"{"bits": 4, "group_size": 128, "damp_percent": 0.01, "desc_act": true, "static_groups": false, "sym": true, "true_sequential": true, "model_name_or_path": null, "model_file_base_name": null, "is_marlin_format": false, "quant_method": "gptq"}"#,
        ),
        tags: &["conversational", "4-bit", "gptq"],
        license: Some("apache-2.0"),
        created: "2026-09-02",
        modified: "2026-09-04",
        ..BASE
    },
    // P: "ErtasAI/gemma-3-4b-it 'Text Generation'": a copy whose tag differs from the
    // original's. Size and base model invented (from the name).
    MixModel {
        id: "ErtasAI/gemma-3-4b-it",
        role: Role::Related,
        downloads: 23_000,
        model_type: "gemma3",
        architecture: "Gemma3ForConditionalGeneration",
        parameters: &[("BF16", 4_300_079_472)],
        total: 4_300_079_472,
        tags: &["conversational"],
        base_model: Some(("finetune", "google/gemma-3-4b-it")),
        license: Some("gemma"),
        created: "2025-05-14",
        modified: "2025-05-14",
        ..BASE
    },
    // T: hyper-accel's "tiny-random-model-for-aida-hybrid-test" collection: Text
    // Generation, 11k downloads, 73.3M params — a test repo above "a few million". The
    // dtype is invented.
    MixModel {
        id: "hyper-accel/tiny-random-llama",
        role: Role::TestRepo,
        downloads: 11_000,
        model_type: "llama",
        architecture: "LlamaForCausalLM",
        parameters: &[("BF16", 73_297_024)], // rounds to the cited 73.3M
        total: 73_297_024,
        created: "2025-08-19",
        modified: "2025-08-19",
        ..BASE
    },
    // Q: huggingface/huggingface_hub#4221: the real response for this repo is
    // `{"parameters": {"BF16": 7615616512}, "total": 333312}` — `total` from a
    // hard-coded metadata value (maintainer's reply). Not quantised. Downloads, tag
    // and model type invented.
    MixModel {
        id: "ZonglinY/MOOSE-Star-R1D-7B",
        role: Role::Quantised,
        downloads: 9_000,
        model_type: "qwen2",
        architecture: "Qwen2ForCausalLM",
        parameters: &[("BF16", 7_615_616_512)],
        total: 333_312,
        tags: &["conversational"],
        created: "2026-04-28",
        modified: "2026-05-06",
        ..BASE
    },
];

/// The model object of a mix entry, in the shape the catalogue's other models have
/// (`Catalogue::model_json_on`), so that only what the comments above cite differs.
pub(super) fn model_json(
    m: &MixModel,
    downloads: u64,
    downloads_all_time: u64,
    eval_results: Value,
) -> Value {
    let id = m.id;
    let h = fnv(id);
    let mut tags: Vec<String> = Vec::new();
    tags.extend(m.library.map(String::from));
    tags.push("safetensors".into());
    tags.push(m.model_type.into());
    tags.push(m.pipeline_tag.into());
    tags.extend(m.tags.iter().map(|t| t.to_string()));
    tags.push("en".into());
    if let Some((relation, base)) = m.base_model {
        tags.push(format!("base_model:{base}"));
        tags.push(format!("base_model:{relation}:{base}"));
    }
    if let Some(license) = m.license {
        tags.push(format!("license:{license}"));
    }
    tags.extend(["endpoints_compatible", "region:us"].map(String::from));
    let mut card = Map::new();
    if let Some(license) = m.license {
        card.insert("license".into(), json!(license));
    }
    card.insert("language".into(), json!(["en"]));
    if let Some((_, base)) = m.base_model {
        card.insert("base_model".into(), json!(base));
    }
    let mut config = json!({"architectures": [m.architecture], "model_type": m.model_type});
    if let Some(q) = m.quantization_config {
        config["quantization_config"] =
            serde_json::from_str(q).expect("quantization_config is JSON");
    }
    let parameters: Map<String, Value> = m
        .parameters
        .iter()
        .map(|(dtype, n)| (dtype.to_string(), json!(n)))
        .collect();
    let gated = m.gated.map_or(json!(false), |g| json!(g));
    let likes = match m.role {
        Role::Flagship => 400 + h % 4000,
        _ => h % 300,
    };
    json!({
        "_id": format!("{:024x}", h as u128 * 0x9E37_79B9),
        "id": id,
        "modelId": id,
        "author": id.split_once('/').map(|(o, _)| o).unwrap_or_default(),
        "private": false,
        "disabled": false,
        "gated": gated,
        "pipeline_tag": m.pipeline_tag,
        "library_name": m.library,
        "tags": tags,
        "downloads": downloads,
        "downloadsAllTime": downloads_all_time,
        "likes": likes,
        "trendingScore": h % 60,
        "sha": sha(id),
        "createdAt": format!("{}T{:02}:{:02}:{:02}.000Z", m.created, h % 24, h / 24 % 60, h / 1440 % 60),
        "lastModified": format!("{}T12:00:00.000Z", m.modified),
        "cardData": card,
        "evalResults": eval_results,
        "config": config,
        "safetensors": {"parameters": parameters, "total": m.total},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_in_download_order_with_unique_ids() {
        for pair in REAL_MIX.windows(2) {
            assert!(pair[0].downloads > pair[1].downloads, "{}", pair[1].id);
        }
        let mut ids: Vec<String> = REAL_MIX.iter().map(|m| m.id.to_lowercase()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), REAL_MIX.len());
    }

    #[test]
    fn totals_agree_with_their_maps_except_where_the_real_hub_does_not() {
        for m in REAL_MIX {
            let sum: u64 = m.parameters.iter().map(|(_, n)| n).sum();
            if m.id == "ZonglinY/MOOSE-Star-R1D-7B" {
                assert_ne!(sum, m.total);
            } else {
                assert_eq!(sum, m.total, "{}", m.id);
            }
        }
    }
}
