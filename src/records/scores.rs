//! `leaderboard.csv`: the scores stage's rows, one per leaderboard evaluation of a
//! model, and the rule that picks a model's canonical row.

use serde::{Deserialize, Serialize};

use super::check_read_back;
use super::dataset::Scores;
use crate::formats::{self, csv::CsvReadError};
use crate::run::{Checked, Stage};

/// How a model's leaderboard lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// A row whose model id equals the query (case-insensitive).
    Found,
    /// No row for the model.
    NotFound,
    /// Rows came back, but none for exactly this model (e.g. only `…-Instruct`). Only
    /// older runs have it, from a substring search; lookups now match ids exactly, so a
    /// model without its own row is `not_found`.
    Mismatch,
    /// The lookup failed (page changed, timeout); `detail` says how.
    Error,
}

impl MatchStatus {
    /// The manifest's and the metrics' word: `found`, `not_found`, `mismatch`, `error`.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not_found",
            Self::Mismatch => "mismatch",
            Self::Error => "error",
        }
    }
}

/// One row of `leaderboard.csv`: one per leaderboard evaluation of a model (a model can
/// have several: precision and chat-template variants), or one row with empty scores
/// when the status is not `found`. Benchmarks are the leaderboard's normalised 0–100 scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LeaderboardRecord {
    #[serde(with = "crate::formats::csv::text")]
    pub model_id: String,
    pub status: Option<MatchStatus>,
    /// browser | datasets
    #[serde(with = "crate::formats::csv::text")]
    pub source: String,
    /// The leaderboard's row key (`<name>_<precision>_<sha>_<chat template>`).
    #[serde(with = "crate::formats::csv::text")]
    pub eval_name: String,
    /// The model name on the matched row (or what was seen, for a mismatch).
    #[serde(with = "crate::formats::csv::text")]
    pub matched_name: String,
    #[serde(with = "crate::formats::csv::text")]
    pub precision: String,
    #[serde(with = "crate::formats::csv::text")]
    pub model_type: String,
    #[serde(with = "crate::formats::csv::text")]
    pub weight_type: String,
    #[serde(with = "crate::formats::csv::text")]
    pub architecture: String,
    pub chat_template: Option<bool>,
    pub average: Option<f64>,
    pub ifeval: Option<f64>,
    pub bbh: Option<f64>,
    pub math_lvl5: Option<f64>,
    pub gpqa: Option<f64>,
    pub musr: Option<f64>,
    pub mmlu_pro: Option<f64>,
    pub params_b: Option<f64>,
    #[serde(with = "crate::formats::csv::text")]
    pub hub_license: String,
    #[serde(with = "crate::formats::csv::text")]
    pub submission_date: String,
    #[serde(with = "crate::formats::csv::text")]
    pub base_model: String,
    #[serde(with = "crate::formats::csv::text")]
    pub detail: String,
}

impl LeaderboardRecord {
    /// The row's seven scores, as the dataset carries them (fields of the row, as in
    /// [`super::DatasetRow`], since the csv crate cannot flatten a nested struct).
    pub fn scores(&self) -> Scores {
        Scores {
            average: self.average,
            ifeval: self.ifeval,
            bbh: self.bbh,
            math_lvl5: self.math_lvl5,
            gpqa: self.gpqa,
            musr: self.musr,
            mmlu_pro: self.mmlu_pro,
        }
    }
}

/// Parse a `leaderboard.csv` body for `stage`: a row that does not read, or whose model
/// id is not one, is set aside with its line; the file fails only when no row reads.
pub fn read_leaderboard_csv(
    body: &[u8],
    key: &str,
    stage: Stage,
) -> Result<Checked<LeaderboardRecord>, CsvReadError> {
    let read = formats::csv::read_rows(body, key).usable()?;
    Ok(check_read_back(read, stage, |r: &LeaderboardRecord| {
        &r.model_id
    }))
}

pub const CANONICAL_ROW_RULE: &str = "of a model's rows with status found: original weights over adapters; \
then bfloat16 > float16 > float32 > other > 4-bit; then the latest submission date; then the chat-template run; \
then the smallest eval_name";

/// Rank of a precision for the canonical-row rule: full-precision evaluations describe
/// the model as published; a 4-bit evaluation describes a quantisation of it.
fn precision_rank(precision: &str) -> u8 {
    match precision.trim().to_ascii_lowercase().as_str() {
        "bfloat16" => 0,
        "float16" => 1,
        "float32" => 2,
        "" => 4,
        "4bit" | "8bit" | "gptq" => 5,
        _ => 3,
    }
}

/// **The canonical-row rule.** Of a model's leaderboard rows with status `found`, use:
/// 1. original weights over adapter weights;
/// 2. then the most precise evaluation (bfloat16, float16, float32, other, 4-bit);
/// 3. then the latest submission date (a resubmission supersedes);
/// 4. then the chat-template run (how the model is meant to be prompted);
/// 5. then the smallest `eval_name`, so the choice never depends on row order.
///
/// The highest score is deliberately not a criterion: that would cherry-pick.
pub fn canonical_row<R: std::borrow::Borrow<LeaderboardRecord>>(
    rows: &[R],
) -> Option<&LeaderboardRecord> {
    rows.iter().map(R::borrow).min_by(|a, b| {
        let key = |r: &LeaderboardRecord| {
            (
                !r.weight_type.eq_ignore_ascii_case("original"),
                precision_rank(&r.precision),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| b.submission_date.cmp(&a.submission_date))
            .then_with(|| {
                b.chat_template
                    .unwrap_or(false)
                    .cmp(&a.chat_template.unwrap_or(false))
            })
            .then_with(|| a.eval_name.cmp(&b.eval_name))
    })
}
