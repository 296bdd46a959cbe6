//! OpenEvals: the dataset `OpenEvals/leaderboard-data`, one parquet file
//! (`data/train-00000-of-00001.parquet`, the path of
//! realdata/2026/community-evals/hub-docs__docs_hub_leaderboard-data-guide.md) whose
//! columns and dtypes are the dataset card's (realdata/2026/community-evals/SUMMARY.md
//! §`OpenEvals/leaderboard-data` parquet), 93 rows as the card counts.
//!
//! Every row's values are invented but the ids and the four SWE-bench Verified scores
//! cited below. Scores: every column on 0-100 (invented: the card does not say; the
//! guide's example prints `aime2026_score` and `mmluPro_score` without a scale), null
//! where the model was not scored; a model is scored on a few benchmarks.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;

use crate::catalogue::{fnv, Catalogue, Role, REAL_MIX};

pub const OPEN_EVALS_REPO: &str = "OpenEvals/leaderboard-data";
/// The dataset's commit (invented).
pub const OPEN_EVALS_SHA: &str = "5630ace0b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";
pub const OPEN_EVALS_FILE: &str = "data/train-00000-of-00001.parquet";
/// The card's `num_examples`.
pub const OPEN_EVALS_ROWS: usize = 93;

/// The benchmark columns, in the card's order; then come `aggregate_score`,
/// `coverage_count`, `coverage_percent`.
pub const OPEN_EVALS_BENCHMARKS: [&str; 11] = [
    "aime2026_score",
    "evasionBench_score",
    "gpqa_score",
    "gsm8k_score",
    "hle_score",
    "hmmt2026_score",
    "mmluPro_score",
    "olmOcr_score",
    "swePro_score",
    "sweVerified_score",
    "terminalBench_score",
];

/// Every column of the card, in order, with its dtype.
pub const OPEN_EVALS_COLUMNS: [(&str, &str); 23] = [
    ("model_id", "string"),
    ("model_name", "string"),
    ("provider", "string"),
    ("model_type", "string"),
    ("parameters_billions", "float64"),
    ("license", "string"),
    ("context_window", "int64"),
    ("modality", "string"),
    ("architecture", "string"),
    ("aime2026_score", "float64"),
    ("evasionBench_score", "float64"),
    ("gpqa_score", "float64"),
    ("gsm8k_score", "float64"),
    ("hle_score", "float64"),
    ("hmmt2026_score", "float64"),
    ("mmluPro_score", "float64"),
    ("olmOcr_score", "float64"),
    ("swePro_score", "float64"),
    ("sweVerified_score", "float64"),
    ("terminalBench_score", "float64"),
    ("aggregate_score", "float64"),
    ("coverage_count", "int64"),
    ("coverage_percent", "float64"),
];

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenEvalsRow {
    pub model_id: String,
    pub model_name: String,
    pub provider: String,
    /// `open` or `proprietary` (invented values).
    pub model_type: String,
    pub parameters_billions: Option<f64>,
    pub license: Option<String>,
    pub context_window: Option<i64>,
    pub modality: String,
    pub architecture: Option<String>,
    /// In [`OPEN_EVALS_BENCHMARKS`] order, 0-100.
    pub scores: [Option<f64>; 11],
}

impl OpenEvalsRow {
    fn open(id: &str) -> Self {
        let name = id.rsplit('/').next().unwrap_or(id).to_owned();
        let h = fnv(id);
        Self {
            model_id: id.to_owned(),
            model_name: name,
            provider: provider(id.split('/').next().unwrap_or("")),
            model_type: "open".into(),
            parameters_billions: None,
            license: None,
            context_window: Some([32_768, 131_072, 262_144, 1_048_576][(h % 4) as usize]),
            modality: "text".into(),
            architecture: None,
            scores: scores(id),
        }
    }

    fn proprietary(id: &str) -> Self {
        Self {
            model_type: "proprietary".into(),
            license: Some("proprietary".into()),
            ..Self::open(id)
        }
    }

    /// Mean of the scores it has (invented formula).
    pub fn aggregate_score(&self) -> Option<f64> {
        let have: Vec<f64> = self.scores.iter().flatten().copied().collect();
        (!have.is_empty()).then(|| round1(have.iter().sum::<f64>() / have.len() as f64))
    }

    pub fn coverage_count(&self) -> i64 {
        self.scores.iter().flatten().count() as i64
    }

    /// Share of the benchmarks scored, 0-100.
    pub fn coverage_percent(&self) -> f64 {
        round1(self.coverage_count() as f64 * 100.0 / OPEN_EVALS_BENCHMARKS.len() as f64)
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A display name for an owner (invented).
fn provider(owner: &str) -> String {
    match owner {
        "google" => "Google",
        "Qwen" => "Alibaba",
        "openai" => "OpenAI",
        "meta-llama" => "Meta",
        "mistralai" => "Mistral AI",
        "deepseek-ai" => "DeepSeek",
        "moonshotai" => "Moonshot AI",
        "zai-org" => "Z.ai",
        "anthropic" => "Anthropic",
        "xai" => "xAI",
        "microsoft" => "Microsoft",
        "HuggingFaceTB" => "Hugging Face",
        other => other,
    }
    .to_owned()
}

/// About a third of the benchmarks, at least one, 10-90 (invented).
fn scores(id: &str) -> [Option<f64>; 11] {
    let mut out: [Option<f64>; 11] = std::array::from_fn(|j| {
        let h = fnv(&format!("{id}#{j}"));
        (h % 100 < 35).then(|| round1(10.0 + (h / 100 % 8000) as f64 / 100.0))
    });
    if out.iter().all(Option::is_none) {
        out[(fnv(id) % 11) as usize] = Some(round1(10.0 + (fnv(id) % 800) as f64 / 10.0));
    }
    out
}

/// SWE-bench Verified's top four on the Hub (real: the `hf datasets leaderboard
/// SWE-bench/SWE-bench_Verified` rendering in huggingface_hub PR #4154, SUMMARY.md);
/// that OpenEvals has the same values is invented.
const SWE_VERIFIED: [(&str, f64); 4] = [
    ("deepseek-ai/DeepSeek-V4-Pro", 80.6),
    ("moonshotai/Kimi-K2.6", 80.2),
    ("deepseek-ai/DeepSeek-V4-Flash", 79.0),
    ("zai-org/GLM-5", 77.8),
];

/// Closed models (invented ids): no Hub repo, though some owners are on the Hub.
const PROPRIETARY: [&str; 8] = [
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "anthropic/claude-opus-4-5",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-3-pro",
    "google/gemini-2.5-flash",
    "xai/grok-4",
    "openai/o3",
];

/// At most this many of the catalogue's invented newer models.
const NEW_MODELS: usize = 30;

/// The file's rows, in order:
/// 1. every flagship of the real mix ([`REAL_MIX`], `Role::Flagship`), whether or not
///    the catalogue has the mix;
/// 2. the four SWE-bench models ([`SWE_VERIFIED`]), whatever the catalogue;
/// 3. eight closed models ([`PROPRIETARY`]);
/// 4. every second invented newer model of the catalogue (by rank: 0th, 2nd, …; not the
///    mix), at most 30;
/// 5. filler to 93: the catalogue's real leaderboard models by rank, then (a catalogue
///    too small) invented `filler-lab/filler-model-{n}` ids.
pub fn open_evals_rows(catalogue: &Catalogue) -> Vec<OpenEvalsRow> {
    let mut rows: Vec<OpenEvalsRow> = REAL_MIX
        .iter()
        .filter(|m| m.role == Role::Flagship)
        .map(|m| OpenEvalsRow {
            parameters_billions: Some(round1(m.total as f64 / 1e9)),
            license: m.license.map(str::to_owned),
            modality: modality(m.pipeline_tag).into(),
            architecture: Some(m.architecture.to_owned()).filter(|a| !a.is_empty()),
            ..OpenEvalsRow::open(m.id)
        })
        .collect();
    rows.extend(SWE_VERIFIED.iter().map(|&(id, swe)| {
        let mut row = OpenEvalsRow::open(id);
        row.scores[9] = Some(swe);
        row
    }));
    rows.extend(PROPRIETARY.iter().map(|id| OpenEvalsRow::proprietary(id)));
    let new = (0..catalogue.len())
        .filter(|&r| catalogue.is_new(r) && catalogue.mix_at(r).is_none())
        .step_by(2)
        .take(NEW_MODELS);
    let real = (0..catalogue.len()).filter(|&r| catalogue.real_at(r).is_some());
    for rank in new.chain(real) {
        if rows.len() == OPEN_EVALS_ROWS {
            break;
        }
        rows.push(catalogue_row(catalogue, rank));
    }
    let mut n = 0;
    while rows.len() < OPEN_EVALS_ROWS {
        n += 1;
        rows.push(OpenEvalsRow::open(&format!("filler-lab/filler-model-{n}")));
    }
    rows
}

/// The ids of [`open_evals_rows`], in order.
pub fn open_evals_model_ids(catalogue: &Catalogue) -> Vec<String> {
    open_evals_rows(catalogue)
        .into_iter()
        .map(|r| r.model_id)
        .collect()
}

fn catalogue_row(catalogue: &Catalogue, rank: usize) -> OpenEvalsRow {
    let model = catalogue.model_json(rank);
    let total = model["safetensors"]["total"].as_f64();
    OpenEvalsRow {
        parameters_billions: total.map(|t| round1(t / 1e9)),
        license: model["cardData"]["license"].as_str().map(str::to_owned),
        architecture: model["config"]["architectures"][0]
            .as_str()
            .map(str::to_owned),
        ..OpenEvalsRow::open(&catalogue.id(rank))
    }
}

/// From the pipeline tag (invented labels).
fn modality(pipeline_tag: &str) -> &'static str {
    match pipeline_tag {
        "image-text-to-text" => "text+image",
        "any-to-any" => "multimodal",
        _ => "text",
    }
}

/// The rows as one parquet file, snappy-compressed as the Hub's dataset files are
/// (as `leaderboard::data::contents_parquet` writes the `contents` one).
pub fn open_evals_parquet(rows: &[OpenEvalsRow]) -> anyhow::Result<Bytes> {
    let text = |f: fn(&OpenEvalsRow) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let float = |f: &dyn Fn(&OpenEvalsRow) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let int = |f: fn(&OpenEvalsRow) -> Option<i64>| -> ArrayRef {
        let mut b = Int64Builder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let mut columns: Vec<ArrayRef> = vec![
        text(|r| Some(&r.model_id)),
        text(|r| Some(&r.model_name)),
        text(|r| Some(&r.provider)),
        text(|r| Some(&r.model_type)),
        float(&|r| r.parameters_billions),
        text(|r| r.license.as_deref()),
        int(|r| r.context_window),
        text(|r| Some(&r.modality)),
        text(|r| r.architecture.as_deref()),
    ];
    for j in 0..OPEN_EVALS_BENCHMARKS.len() {
        columns.push(float(&|r| r.scores[j]));
    }
    columns.push(float(&|r| r.aggregate_score()));
    columns.push(int(|r| Some(r.coverage_count())));
    columns.push(float(&|r| Some(r.coverage_percent())));
    let fields: Vec<Field> = OPEN_EVALS_COLUMNS
        .iter()
        .map(|(name, dtype)| {
            let data_type = match *dtype {
                "float64" => DataType::Float64,
                "int64" => DataType::Int64,
                _ => DataType::Utf8,
            };
            Field::new(*name, data_type, true)
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(Bytes::from(out))
}
