//! `models.csv` (and `models.jsonl` beside it): one row per model the models stage
//! collected, in rank order.

use serde::{Deserialize, Serialize};

use super::check_read_back;
use crate::formats::{self, csv::CsvReadError};
use crate::run::{Checked, Stage};

/// Where a parameter count came from: `models.csv`'s `parameters_source` (safetensors,
/// name or none) and the dataset's (which adds hub and leaderboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ParametersSource {
    /// Exact, from `safetensors.total`.
    Safetensors,
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
