//! `models.csv` (and `models.jsonl` beside it): one row per model the models stage
//! collected, in rank order.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{check_read_back, each_checked_row};
use crate::formats::{self, csv::CsvReadError};
use crate::run::artifact::MODELS_CSV;
use crate::run::ModelId;
use crate::run::{Checked, Quarantined, Stage};
use crate::store::{RunStore, StoreError};

/// Where a parameter count came from: `models.csv`'s `parameters_source` (safetensors,
/// unpacked, name or none) and the dataset's (which adds hub and leaderboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ParametersSource {
    /// Exact, from `safetensors.total`.
    Safetensors,
    /// From `safetensors`, its packed integer containers unpacked by the bits of the
    /// repo's `quantization_config` (`models::params::safetensors_count`).
    Unpacked,
    /// Nominal, parsed from the model name (`7b`, `8x7B`, `270m`).
    Name,
    /// The Hub's count, with no word on how it was made.
    Hub,
    /// The leaderboard's `#Params (B)`.
    Leaderboard,
    #[default]
    None,
}

impl ParametersSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Safetensors => "safetensors",
            Self::Unpacked => "unpacked",
            Self::Name => "name",
            Self::Hub => "hub",
            Self::Leaderboard => "leaderboard",
            Self::None => "none",
        }
    }
}

impl PartialEq<&str> for ParametersSource {
    fn eq(&self, words: &&str) -> bool {
        self.as_str() == *words
    }
}

/// The columns of `models.csv`, in order. List cells are joined with `;`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelRecord {
    /// 1-based position in the Hub's download order.
    pub rank: u64,
    #[serde(with = "crate::formats::csv::text")]
    pub model_id: String,
    #[serde(with = "crate::formats::csv::text")]
    pub author: String,
    #[serde(with = "crate::formats::csv::text")]
    pub license: String,
    /// Downloads in the last 30 days.
    pub downloads: Option<u64>,
    pub downloads_all_time: Option<u64>,
    pub likes: Option<u64>,
    pub trending_score: Option<f64>,
    #[serde(with = "crate::formats::csv::text")]
    pub created_at: String,
    #[serde(with = "crate::formats::csv::text")]
    pub last_modified: String,
    pub parameters: Option<u64>,
    pub parameters_source: ParametersSource,
    #[serde(with = "crate::formats::csv::text")]
    pub pipeline_tag: String,
    #[serde(with = "crate::formats::csv::text")]
    pub library_name: String,
    #[serde(with = "crate::formats::csv::text")]
    pub architectures: String,
    #[serde(with = "crate::formats::csv::text")]
    pub model_type: String,
    #[serde(with = "crate::formats::csv::text")]
    pub base_models: String,
    /// finetune | quantized | adapter | merge, or empty for a base model.
    #[serde(with = "crate::formats::csv::text")]
    pub base_model_relation: String,
    /// false | auto | manual
    #[serde(with = "crate::formats::csv::text")]
    pub gated: String,
    #[serde(with = "crate::formats::csv::text")]
    pub languages: String,
    #[serde(with = "crate::formats::csv::text")]
    pub tags: String,
    #[serde(with = "crate::formats::csv::text")]
    pub sha: String,
}

pub const RELATIONS: [&str; 4] = ["finetune", "quantized", "adapter", "merge"];

/// Parse a `models.csv` body (ours, from this or an earlier run) for `stage`. A row that
/// does not read, or whose `model_id` is not a model id, is set aside; the file fails
/// only when not one row reads.
pub fn read_models_csv(
    body: &[u8],
    key: &str,
    stage: Stage,
) -> Result<Checked<ModelRecord>, CsvReadError> {
    let read = formats::csv::read_rows::<ModelRecord>(body, key).usable()?;
    Ok(check_read_back(read, stage, |r| &r.model_id))
}

/// `8x7B` (mixture of experts: experts × size), or a plain size such as `7b`, `1.5B`,
/// `270m`. The size must stand alone: `A22B` (active parameters) and `8bit` do not count.
static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9.])(?:(\d{1,3})x)?(\d+(?:\.\d+)?)([kmbt])(?:$|[^a-z0-9])")
        .expect("valid regex")
});

/// The nominal parameter count a model name states, e.g. `Llama-3.1-8B-Instruct` → 8e9.
/// For `8x7B` this is the nominal 56e9 (the real count, with shared layers, is lower).
pub fn parameters_from_name(model_id: &str) -> Option<u64> {
    sizes_from_name(model_id).first().copied()
}

/// Every parameter count a model name states, in order: `Infinity-Instruct-3M-…-7B`
/// states two (a dataset's size and the model's), so a count is doubted only when it
/// is far from all of them.
pub fn sizes_from_name(model_id: &str) -> Vec<u64> {
    let name = model_id.rsplit('/').next().unwrap_or(model_id);
    let mut sizes = Vec::new();
    // Matches can overlap at their boundary characters, so scan from each match start.
    let mut start = 0;
    while let Some(caps) = SIZE.captures_at(name, start) {
        let Some(whole) = caps.get(0) else { break };
        start = whole.start() + 1;
        let experts: f64 = match caps.get(1).map_or(Ok(1.0), |m| m.as_str().parse()) {
            Ok(experts) => experts,
            Err(_) => continue,
        };
        let Ok(size) = caps[2].parse::<f64>() else {
            continue;
        };
        let unit = match caps[3].to_ascii_lowercase().as_str() {
            "k" => 1e3,
            "m" => 1e6,
            "b" => 1e9,
            _ => 1e12,
        };
        let count = experts * size * unit;
        // A "k" size is a context length (`4k`), not a parameter count.
        if unit > 1e3 && count >= 1e6 {
            let count = count.round() as u64;
            if !sizes.contains(&count) {
                sizes.push(count);
            }
        }
    }
    sizes
}

/// `models.csv` read row by row from `input` for `stage`, each row that reads handed to
/// `each` in rank order, so a stage never holds the whole catalogue's rows; the rows set
/// aside come back, as [`read_models_csv`] sets them aside.
pub fn each_models_row(
    input: impl std::io::Read,
    key: &str,
    stage: Stage,
    each: impl FnMut(ModelRecord),
) -> Result<Vec<Quarantined>, CsvReadError> {
    each_checked_row(input, key, stage, |r: &ModelRecord| &r.model_id, each)
}

/// The ids of the run's models, in `models.csv`'s order, for a stage that works on
/// them; `None` when the models stage has not written `models.csv`. Its rows that do
/// not read back are the models stage's to set aside, and it has. The file is read row
/// by row, keeping only the ids.
pub async fn run_model_ids<E>(run: &RunStore, stage: Stage) -> Result<Option<Vec<ModelId>>, E>
where
    E: From<StoreError> + From<CsvReadError>,
{
    let Some(file) = run.open(MODELS_CSV).await? else {
        return Ok(None);
    };
    let key = run.key(MODELS_CSV);
    let ids = tokio::task::spawn_blocking(move || {
        let mut ids = Vec::new();
        each_models_row(std::io::BufReader::new(file), &key, stage, |row| {
            ids.extend(ModelId::parse(&row.model_id).ok());
        })
        .map(|_| ids)
    })
    .await
    .map_err(|e| StoreError::io("read", run.location(MODELS_CSV), e))??;
    Ok(Some(ids))
}
