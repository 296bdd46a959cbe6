//! The tidy outputs of the prepare stage: one `dataset.csv` row per model, and the
//! `quality.json` account of what was dropped or fixed; the report reads both.

use serde::{Deserialize, Serialize};

use super::check_read_back;
use super::models::ParametersSource;
use crate::formats::{self, csv::CsvReadError};
use crate::run::{Checked, Quarantined, Stage};

/// How the model's own leaderboard lookup ended, carried through from `leaderboard.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinStatus {
    Found,
    NotFound,
    Mismatch,
    Error,
    /// `leaderboard.csv` has no row for the model (no scores stage, or it was skipped).
    NotLookedUp,
}

impl JoinStatus {
    pub const ALL: [JoinStatus; 5] = [
        Self::Found,
        Self::NotFound,
        Self::Mismatch,
        Self::Error,
        Self::NotLookedUp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not_found",
            Self::Mismatch => "mismatch",
            Self::Error => "error",
            Self::NotLookedUp => "not_looked_up",
        }
    }
}

/// The six Open LLM Leaderboard v2 benchmarks (normalised 0–100) and their average.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    pub average: Option<f64>,
    pub ifeval: Option<f64>,
    pub bbh: Option<f64>,
    pub math_lvl5: Option<f64>,
    pub gpqa: Option<f64>,
    pub musr: Option<f64>,
    pub mmlu_pro: Option<f64>,
}

/// Benchmark columns in display order: (column, label).
pub const BENCHMARKS: [(&str, &str); 6] = [
    ("ifeval", "IFEval"),
    ("bbh", "BBH"),
    ("math_lvl5", "MATH Lvl 5"),
    ("gpqa", "GPQA"),
    ("musr", "MuSR"),
    ("mmlu_pro", "MMLU-PRO"),
];

impl Scores {
    /// (column, value) pairs, average first.
    pub fn named(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("average", self.average),
            ("ifeval", self.ifeval),
            ("bbh", self.bbh),
            ("math_lvl5", self.math_lvl5),
            ("gpqa", self.gpqa),
            ("musr", self.musr),
            ("mmlu_pro", self.mmlu_pro),
        ]
    }

    /// (column, value) pairs, average first, to change in place.
    pub fn named_mut(&mut self) -> [(&'static str, &mut Option<f64>); 7] {
        [
            ("average", &mut self.average),
            ("ifeval", &mut self.ifeval),
            ("bbh", &mut self.bbh),
            ("math_lvl5", &mut self.math_lvl5),
            ("gpqa", &mut self.gpqa),
            ("musr", &mut self.musr),
            ("mmlu_pro", &mut self.mmlu_pro),
        ]
    }
}

/// Where a row's leaderboard scores come from, written `own`, `inherited:<base id>`
/// (a quantisation scored as its base model) or `none`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ScoreProvenance {
    Own,
    Inherited(String),
    #[default]
    None,
}

impl std::fmt::Display for ScoreProvenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Own => f.write_str("own"),
            Self::Inherited(base) => write!(f, "inherited:{base}"),
            Self::None => f.write_str("none"),
        }
    }
}

impl std::str::FromStr for ScoreProvenance {
    type Err = String;

    fn from_str(words: &str) -> Result<Self, String> {
        match words {
            "own" => Ok(Self::Own),
            "none" => Ok(Self::None),
            other => match other.strip_prefix("inherited:") {
                Some(base) if !base.is_empty() => Ok(Self::Inherited(base.to_owned())),
                _ => Err(format!(
                    "score_source {other:?} is not own, inherited:<id> or none"
                )),
            },
        }
    }
}

impl PartialEq<&str> for ScoreProvenance {
    fn eq(&self, words: &&str) -> bool {
        match self {
            Self::Own => *words == "own",
            Self::Inherited(base) => words.strip_prefix("inherited:") == Some(base.as_str()),
            Self::None => *words == "none",
        }
    }
}

impl Serialize for ScoreProvenance {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScoreProvenance {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let words = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        words.parse().map_err(serde::de::Error::custom)
    }
}

/// One row of `dataset.csv`. The seven scores are fields of their own, not a nested
/// [`Scores`], because the csv crate cannot write a `#[serde(flatten)]` field and reads
/// one mistyped (BurntSushi/rust-csv#155, #239, #151); [`DatasetRow::scores`] gives them
/// as the one type code passes around. Text cells are formula-neutralised on write and restored on read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRow {
    pub rank: u64,
    #[serde(with = "formats::csv::text")]
    pub model_id: String,
    /// The owner part of the id (the organisation or user).
    #[serde(with = "formats::csv::text")]
    pub org: String,
    #[serde(with = "formats::csv::text")]
    pub license: String,
    pub license_family: LicenseFamily,
    pub parameters_b: Option<f64>,
    pub parameters_source: ParametersSource,
    pub size_class: Option<SizeClass>,
    pub relation: Relation,
    /// What the model takes in and gives out, from its pipeline tag and config.
    #[serde(default)]
    pub modality: Modality,
    #[serde(with = "formats::csv::text")]
    pub base_model: String,
    #[serde(with = "formats::csv::text")]
    pub created_at: String,
    pub age_days: Option<i64>,
    pub downloads: Option<u64>,
    pub downloads_all_time: Option<u64>,
    pub downloads_per_day: Option<f64>,
    pub likes: Option<u64>,
    /// Against the previous complete run (`quality.json` names it); empty without one.
    pub downloads_delta_1d: Option<i64>,
    /// Against the complete run 7 (30) nights before, or the last one before that night
    /// when it is missing (`quality.json` names it); empty without one.
    #[serde(default)]
    pub downloads_delta_7d: Option<i64>,
    #[serde(default)]
    pub downloads_delta_30d: Option<i64>,
    pub likes_delta_1d: Option<i64>,
    pub join_status: JoinStatus,
    pub score_source: ScoreProvenance,
    /// The leaderboard `eval_name` of the row the scores come from (the canonical row).
    #[serde(with = "formats::csv::text")]
    pub canonical_eval: String,
    /// How many leaderboard rows the model (or its base, when inherited) had.
    pub leaderboard_rows: u32,
    #[serde(with = "formats::csv::text")]
    pub precision: String,
    pub average: Option<f64>,
    pub ifeval: Option<f64>,
    pub bbh: Option<f64>,
    pub math_lvl5: Option<f64>,
    pub gpqa: Option<f64>,
    pub musr: Option<f64>,
    pub mmlu_pro: Option<f64>,
    /// The run's Hub benchmark columns (`quality.json` names them), after the fixed
    /// ones: written by [`write_dataset_csv`], not read back.
    #[serde(skip)]
    pub hub: Vec<HubScore>,
}

impl DatasetRow {
    pub fn benchmark(&self, column: &str) -> Option<f64> {
        self.scores()
            .named()
            .into_iter()
            .find_map(|(name, value)| (name == column).then_some(value).flatten())
    }

    /// The row's seven leaderboard scores.
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

    pub fn set_scores(&mut self, s: Scores) {
        self.average = s.average;
        self.ifeval = s.ifeval;
        self.bbh = s.bbh;
        self.math_lvl5 = s.math_lvl5;
        self.gpqa = s.gpqa;
        self.musr = s.musr;
        self.mmlu_pro = s.mmlu_pro;
    }
}

/// One thing the quality checks did to the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub model_id: String,
    /// The column or input the check looked at.
    pub field: String,
    /// `duplicate_id`, `invalid_id`, `score_out_of_range`, `implausible_parameters`, …
    pub check: String,
    pub detail: String,
}

/// Models per join status and how many got scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Coverage {
    pub models: u64,
    pub found: u64,
    pub not_found: u64,
    pub mismatch: u64,
    pub error: u64,
    pub not_looked_up: u64,
    pub with_own_scores: u64,
    pub with_inherited_scores: u64,
}

/// `quality.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub run_id: String,
    /// The date ages are measured to (the run's start).
    pub as_of: String,
    pub models_in: u64,
    pub leaderboard_rows_in: u64,
    pub rows_out: u64,
    /// The run the deltas are against, if any.
    pub previous_run: Option<String>,
    /// The runs the 7- and 30-night deltas are against, if any.
    #[serde(default)]
    pub previous_run_7d: Option<String>,
    #[serde(default)]
    pub previous_run_30d: Option<String>,
    pub coverage: Coverage,
    /// Rows removed from the dataset, and why.
    pub dropped: Vec<QualityIssue>,
    /// Values cleared or corrected in rows that were kept, and why.
    pub fixed: Vec<QualityIssue>,
    /// Values kept that a check doubts, and why: a parameter count more than 2× off
    /// the size the model's name states.
    #[serde(default)]
    pub flagged: Vec<QualityIssue>,
    /// Records from outside set aside where they came in, before any join: Hub list
    /// items and leaderboard rows that are not models, rows of our CSVs that did not
    /// read back. Each names its source (URL or file), its place there and the check
    /// it failed.
    #[serde(default)]
    pub quarantined: Vec<Quarantined>,
    pub canonical_row_rule: String,
    pub license_mapping: String,
    /// How many models have any score, and from where.
    #[serde(default)]
    pub score_coverage: ScoreCoverage,
    /// The run's most common Hub benchmarks, which are columns of `dataset.csv`.
    #[serde(default)]
    pub hub_benchmark_columns: Vec<HubColumn>,
    #[serde(default)]
    pub eval_choice_rule: String,
    /// Evaluation results that were not used, and why.
    #[serde(default)]
    pub skipped_evals: Vec<super::SkippedResult>,
}

/// `dataset.csv`: the fixed columns, then for each Hub column its value and source.
pub fn write_dataset_csv(rows: &[DatasetRow], hub: &[HubColumn]) -> Result<Vec<u8>, ::csv::Error> {
    formats::csv::write_with_extra(rows, &dataset_csv_extra(hub), |row| {
        dataset_csv_cells(row, hub.len())
    })
}

/// The names of `dataset.csv`'s columns after the fixed ones: each Hub column's value
/// and source.
pub fn dataset_csv_extra(hub: &[HubColumn]) -> Vec<String> {
    hub.iter()
        .flat_map(|c| [c.column.clone(), format!("{}_source", c.column)])
        .collect()
}

/// A row's cells for [`dataset_csv_extra`]'s columns, of `columns` Hub columns.
pub fn dataset_csv_cells(row: &DatasetRow, columns: usize) -> Vec<String> {
    (0..columns)
        .flat_map(|i| {
            let score = row.hub.get(i);
            [
                score
                    .and_then(|s| s.value)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                score.map(|s| s.source.clone()).unwrap_or_default(),
            ]
        })
        .collect()
}

/// Parse a `dataset.csv` body for `stage`: a row that does not read, or whose model id
/// is not one, is set aside with its line; the file fails only when no row reads.
pub fn read_dataset_csv(
    body: &[u8],
    key: &str,
    stage: Stage,
) -> Result<Checked<DatasetRow>, CsvReadError> {
    let read = formats::csv::read_rows(body, key).usable()?;
    Ok(check_read_back(read, stage, |r: &DatasetRow| &r.model_id))
}

/// Size buckets, in billions of parameters; a bound belongs to the bucket above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SizeClass {
    #[serde(rename = "<3B")]
    Under3B,
    #[serde(rename = "3-9B")]
    From3To9B,
    #[serde(rename = "9-20B")]
    From9To20B,
    #[serde(rename = "20-80B")]
    From20To80B,
    #[serde(rename = ">80B")]
    Over80B,
}

/// What a licence lets a user do, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseFamily {
    /// Use, change and ship freely with attribution (Apache, MIT, BSD, CC-BY, …).
    Permissive,
    /// Free use, but derivatives must keep the licence (GPL, MPL, CC-BY-SA, …).
    Copyleft,
    /// Use is limited by purpose, audience or scale (Llama, Gemma, OpenRAIL, CC-BY-NC, …).
    RestrictedUse,
    /// Empty, `other`, `unknown`, or an id not in the mapping.
    Unknown,
}

/// How a model relates to its base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Base,
    Finetune,
    Quantized,
    Adapter,
    Merge,
}

pub const EVAL_CHOICE_RULE: &str = "of a model's values for one Hub benchmark (its dataset id and task), \
from the Hub's evaluation results and its model card: verified over self-reported, then the newest date; \
ties by source, URL, metric and file name. Never the highest.";

/// One column of `dataset.csv` for a Hub benchmark, and how many models have a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubColumn {
    /// `hub_<name>`; its source is in `hub_<name>_source`.
    pub column: String,
    pub benchmark: String,
    pub task: String,
    pub models: u64,
}

/// A model's value for one Hub column, and where it came from (`hub-eval-results`,
/// `model-card`, with `, verified` when it is).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HubScore {
    pub value: Option<f64>,
    pub source: String,
}

/// How many of the run's models have any score, and from where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreCoverage {
    pub models: u64,
    /// With a leaderboard v2 score (their own, or inherited from their base model).
    pub leaderboard: u64,
    /// With a value from the Hub's evaluation results.
    pub hub_eval_results: u64,
    /// With a value from their model card.
    pub model_card: u64,
    /// With a Hub value (evaluation results or card).
    pub hub: u64,
    /// With a value from Every Eval Ever's datastore.
    #[serde(default)]
    pub every_eval_ever: u64,
    /// With a value from `OpenEvals/leaderboard-data`.
    #[serde(default)]
    pub open_evals: u64,
    /// With a value from any source.
    #[serde(default)]
    pub any: u64,
    /// With a value from the leaderboard or the Hub: the coverage without Every Eval
    /// Ever and OpenEvals, to compare `any` with.
    #[serde(default)]
    pub leaderboard_or_hub: u64,
    /// With a value a third party measured or the Hub verified (the leaderboard's own,
    /// a verified Hub result, a third-party Every Eval Ever record), not only
    /// self-reported ones.
    #[serde(default)]
    pub verified: u64,
    pub leaderboard_only: u64,
    pub hub_only: u64,
    pub both: u64,
    /// With a value from no source at all.
    pub none: u64,
}

impl ScoreCoverage {
    /// Models with a value, by source, in `EvalSource::as_str`'s words, `any` last.
    pub fn by_source(&self) -> [(&'static str, u64); 6] {
        [
            ("leaderboard-v2", self.leaderboard),
            ("hub-eval-results", self.hub_eval_results),
            ("model-card", self.model_card),
            ("every-eval-ever", self.every_eval_ever),
            ("open-evals", self.open_evals),
            ("any", self.any),
        ]
    }
}

/// What a model takes in and gives out: `text`, `vision-language` (images and text in,
/// text out), `omni` (any to any: images, audio, video, text), `audio-language`, or
/// `other`; `unknown` without a pipeline tag. The rule is `prepare::rules::modality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    Text,
    VisionLanguage,
    Omni,
    AudioLanguage,
    Other,
    #[default]
    Unknown,
}

impl Modality {
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::VisionLanguage => "vision-language",
            Self::Omni => "omni",
            Self::AudioLanguage => "audio-language",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}
