//! The join itself, as a pure function of the inputs: models × leaderboard rows (×
//! the previous run) → dataset rows and a quality report.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::rules;
use crate::records::dataset::{
    Coverage, DatasetRow, JoinStatus, QualityIssue, QualityReport, Scores,
};
use crate::records::dataset::{Relation, ScoreProvenance, SizeClass};
use crate::records::history::{Baselines, PreviousRun};
use crate::records::scores::CANONICAL_ROW_RULE;
use crate::records::{LeaderboardRecord, MatchStatus};
use crate::records::{ModelRecord, ParametersSource};
use crate::run::{ModelId, Quarantined};

pub const LICENSE_MAPPING: &str = "Hub license ids by prefix: apache/mit/bsd/cc-by/cc0/afl/isc/zlib/unlicense/wtfpl/artistic/ecl \
= permissive; gpl/lgpl/agpl/mpl/osl/epl/eupl/odbl/cc-by-sa = copyleft; llama*/gemma/deepseek/*openrail*/bigscience*/\
cc-by-nc*/cc-by-nd*/apple-ascl/qwen = restricted-use; empty/other/unknown/unmapped = unknown; several ids: the most restrictive known";

/// Everything the join reads.
#[derive(Debug, Clone)]
pub struct PrepareInputs<'a> {
    pub run_id: &'a str,
    pub models: &'a [ModelRecord],
    /// Records set aside before the join, copied into the report as they are.
    pub quarantined: &'a [Quarantined],
    /// `None` when the run has no `leaderboard.csv`.
    pub leaderboard: Option<&'a [LeaderboardRecord]>,
    /// The runs the deltas compare with.
    pub previous: &'a Baselines,
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Prepared {
    pub rows: Vec<DatasetRow>,
    pub quality: QualityReport,
}

/// A model's leaderboard rows, grouped by normalised id: the rows with scores kept
/// whole, the others only as their status, so the index grows with the leaderboard's
/// models, not with every model the run asked about.
#[derive(Default)]
struct LeaderboardIndex {
    found: HashMap<String, Vec<LeaderboardRecord>>,
    /// The status of the model's non-`found` row (`not_found`, `mismatch`, `error`).
    other: HashMap<String, MatchStatus>,
    seen_evals: HashSet<(String, String)>,
    rows: u64,
}

impl LeaderboardIndex {
    fn add(&mut self, row: LeaderboardRecord, fixed: &mut Vec<QualityIssue>) {
        self.rows += 1;
        let key = row.model_id.trim().to_lowercase();
        match row.status {
            Some(MatchStatus::Found) => {
                if !row.eval_name.is_empty()
                    && !self.seen_evals.insert((key.clone(), row.eval_name.clone()))
                {
                    fixed.push(issue(
                        &row.model_id,
                        "eval_name",
                        "duplicate_leaderboard_row",
                        format!(
                            "leaderboard row {} appears more than once; the first is used",
                            row.eval_name
                        ),
                    ));
                    return;
                }
                self.found.entry(key).or_default().push(row);
            }
            Some(status) => {
                self.other.entry(key).or_insert(status);
            }
            None => {}
        }
    }

    fn status(&self, key: &str) -> JoinStatus {
        if self.found.contains_key(key) {
            return JoinStatus::Found;
        }
        match self.other.get(key) {
            Some(MatchStatus::Found) => JoinStatus::Found,
            Some(MatchStatus::NotFound) => JoinStatus::NotFound,
            Some(MatchStatus::Mismatch) => JoinStatus::Mismatch,
            Some(MatchStatus::Error) => JoinStatus::Error,
            None => JoinStatus::NotLookedUp,
        }
    }
}

fn issue(model_id: &str, field: &str, check: &str, detail: String) -> QualityIssue {
    QualityIssue {
        model_id: model_id.to_owned(),
        field: field.to_owned(),
        check: check.to_owned(),
        detail,
    }
}

/// Clear scores outside 0–100 (or not finite), recording each.
fn check_scores(model_id: &str, scores: &mut Scores, fixed: &mut Vec<QualityIssue>) {
    for (column, value) in scores.named_mut() {
        if let Some(v) = *value {
            if !(0.0..=100.0).contains(&v) || !v.is_finite() {
                fixed.push(issue(
                    model_id,
                    column,
                    "score_out_of_range",
                    format!("{v} is outside 0-100; cleared"),
                ));
                *value = None;
            }
        }
    }
}

fn plausible(parameters: f64) -> bool {
    (rules::MIN_PLAUSIBLE_PARAMETERS..=rules::MAX_PLAUSIBLE_PARAMETERS).contains(&parameters)
}

/// Parameters in billions: the Hub's count if plausible, else the leaderboard's.
fn parameters_b(
    model: &ModelRecord,
    scored_row: Option<&LeaderboardRecord>,
    fixed: &mut Vec<QualityIssue>,
) -> (Option<f64>, ParametersSource) {
    if let Some(count) = model.parameters {
        if plausible(count as f64) {
            let source = match model.parameters_source {
                ParametersSource::None => ParametersSource::Hub,
                known => known,
            };
            return (Some(count as f64 / 1e9), source);
        }
        fixed.push(issue(
            &model.model_id,
            "parameters",
            "implausible_parameters",
            format!("{count} parameters is outside 1M-10T; cleared"),
        ));
    }
    if let Some(b) = scored_row.and_then(|r| r.params_b) {
        if plausible(b * 1e9) {
            return (Some(b), ParametersSource::Leaderboard);
        }
        fixed.push(issue(
            &model.model_id,
            "params_b",
            "implausible_parameters",
            format!("leaderboard #Params (B) {b} is outside 0.001-10000; ignored"),
        ));
    }
    (None, ParametersSource::None)
}

/// Join the inputs. Never fails: every problem becomes a dropped row or a fixed value
/// in the quality report. The stage itself joins row by row with a [`Joiner`].
pub fn prepare<'a>(inputs: &PrepareInputs<'a>) -> Prepared {
    let mut joiner = Joiner::new(inputs.run_id, inputs.previous, inputs.as_of);
    for row in inputs.leaderboard.unwrap_or(&[]) {
        joiner.add_leaderboard_row(row.clone());
    }
    let rows = inputs
        .models
        .iter()
        .filter_map(|model| joiner.join(model))
        .collect();
    Prepared {
        rows,
        quality: joiner.finish(inputs.quarantined.to_vec()),
    }
}

/// The join, one model at a time: the leaderboard's rows go in first
/// ([`Joiner::add_leaderboard_row`]), then each model in rank order
/// ([`Joiner::join`]), and [`Joiner::finish`] gives the quality report. What it keeps
/// between models is the leaderboard's index and the ids seen, never the rows it made.
pub struct Joiner<'a> {
    run_id: &'a str,
    previous: &'a Baselines,
    as_of: DateTime<Utc>,
    leaderboard: LeaderboardIndex,
    /// The first of each normalised id, for the duplicates after it.
    seen: HashMap<String, String>,
    models_in: u64,
    rows_out: u64,
    coverage: Coverage,
    dropped: Vec<QualityIssue>,
    fixed: Vec<QualityIssue>,
    flagged: Vec<QualityIssue>,
}

impl<'a> Joiner<'a> {
    pub fn new(run_id: &'a str, previous: &'a Baselines, as_of: DateTime<Utc>) -> Self {
        Self {
            run_id,
            previous,
            as_of,
            leaderboard: LeaderboardIndex::default(),
            seen: HashMap::new(),
            models_in: 0,
            rows_out: 0,
            coverage: Coverage::default(),
            dropped: Vec::new(),
            fixed: Vec::new(),
            flagged: Vec::new(),
        }
    }

    /// A row of `leaderboard.csv`, before any model is joined.
    pub fn add_leaderboard_row(&mut self, row: LeaderboardRecord) {
        self.leaderboard.add(row, &mut self.fixed);
    }

    /// A model's dataset row; `None` when it is dropped (an invalid or repeated id).
    pub fn join(&mut self, model: &ModelRecord) -> Option<DatasetRow> {
        self.models_in += 1;
        let id = match ModelId::parse(&model.model_id) {
            Ok(id) => id,
            Err(e) => {
                self.dropped.push(issue(
                    &model.model_id,
                    "model_id",
                    "invalid_id",
                    e.to_string(),
                ));
                return None;
            }
        };
        let key = id.normalized();
        if let Some(first) = self.seen.get(&key) {
            self.dropped.push(issue(
                id.as_str(),
                "model_id",
                "duplicate_id",
                format!(
                    "rank {} repeats {first} (ids compare case-insensitively); the first is kept",
                    model.rank
                ),
            ));
            return None;
        }
        self.seen
            .insert(key, format!("{} at rank {}", id, model.rank));
        let row = join_model(
            self.previous,
            self.as_of,
            &self.leaderboard,
            model,
            &id,
            &mut self.fixed,
        );
        if let Some(doubt) = size_disagrees_with_name(&row) {
            self.flagged.push(doubt);
        }
        self.coverage.count(&row);
        self.rows_out += 1;
        Some(row)
    }

    /// The quality report, with the records set aside before the join.
    pub fn finish(self, quarantined: Vec<Quarantined>) -> QualityReport {
        QualityReport {
            run_id: self.run_id.to_owned(),
            as_of: self.as_of.to_rfc3339(),
            models_in: self.models_in,
            leaderboard_rows_in: self.leaderboard.rows,
            rows_out: self.rows_out,
            previous_run: self.previous.day.as_ref().map(|p| p.run_id.clone()),
            previous_run_7d: self.previous.week.as_ref().map(|p| p.run_id.clone()),
            previous_run_30d: self.previous.month.as_ref().map(|p| p.run_id.clone()),
            coverage: self.coverage,
            dropped: self.dropped,
            fixed: self.fixed,
            flagged: self.flagged,
            quarantined,
            canonical_row_rule: CANONICAL_ROW_RULE.into(),
            license_mapping: LICENSE_MAPPING.into(),
            score_coverage: Default::default(),
            hub_benchmark_columns: Vec::new(),
            eval_choice_rule: crate::records::dataset::EVAL_CHOICE_RULE.into(),
            skipped_evals: Vec::new(),
        }
    }
}

/// One model's row of the dataset: its relation and base, its canonical scores (its
/// own, or a quantisation's base model's), its parameters, licence and deltas.
fn join_model(
    previous: &Baselines,
    as_of: DateTime<Utc>,
    leaderboard: &LeaderboardIndex,
    model: &ModelRecord,
    id: &ModelId,
    fixed: &mut Vec<QualityIssue>,
) -> DatasetRow {
    let key = id.normalized();
    let join_status = leaderboard.status(&key);
    let relation = rules::relation(
        &model.base_model_relation,
        &model.base_models,
        id.as_str(),
        &model.tags,
    );
    let base = rules::primary_base(&model.base_models, id.as_str());
    let (score_row, score_source, row_count) =
        scored_row(leaderboard, &key, relation, base.as_deref());
    let mut scores = score_row.map(LeaderboardRecord::scores).unwrap_or_default();
    check_scores(id.as_str(), &mut scores, fixed);
    let (params_b, params_source) = parameters_b(model, score_row, fixed);
    let license = if model.license.is_empty() {
        score_row.map(|r| r.hub_license.clone()).unwrap_or_default()
    } else {
        model.license.clone()
    };
    let deltas = Deltas::of(model, &key, previous);

    let mut row = DatasetRow {
        rank: model.rank,
        org: if id.owner().is_empty() {
            model.author.clone()
        } else {
            id.owner().to_owned()
        },
        model_id: id.to_string(),
        license_family: rules::license_family(&license),
        license,
        parameters_b: params_b.map(|b| (b * 1000.0).round() / 1000.0),
        parameters_source: params_source,
        size_class: params_b.map(SizeClass::of),
        relation,
        modality: rules::modality(&model.pipeline_tag, &model.model_type),
        base_model: base.unwrap_or_default(),
        created_at: model.created_at.clone(),
        age_days: rules::age_days(&model.created_at, as_of),
        downloads: model.downloads,
        downloads_all_time: model.downloads_all_time,
        downloads_per_day: rules::downloads_per_day(model.downloads),
        likes: model.likes,
        downloads_delta_1d: deltas.downloads_1d,
        downloads_delta_7d: deltas.downloads_7d,
        downloads_delta_30d: deltas.downloads_30d,
        likes_delta_1d: deltas.likes_1d,
        join_status,
        score_source,
        canonical_eval: score_row.map(|r| r.eval_name.clone()).unwrap_or_default(),
        leaderboard_rows: row_count as u32,
        precision: score_row.map(|r| r.precision.clone()).unwrap_or_default(),
        average: None,
        ifeval: None,
        bbh: None,
        math_lvl5: None,
        gpqa: None,
        musr: None,
        mmlu_pro: None,
        hub: Vec::new(),
    };
    row.set_scores(round_scores(scores));
    row
}

/// The leaderboard row a model's scores come from: its own canonical row, or, for a
/// quantisation without one, its base model's (the same weights); with how many rows
/// there were to choose from.
fn scored_row<'a>(
    leaderboard: &'a LeaderboardIndex,
    key: &str,
    relation: Relation,
    base: Option<&str>,
) -> (Option<&'a LeaderboardRecord>, ScoreProvenance, usize) {
    let own_rows = leaderboard.found.get(key).map(Vec::as_slice).unwrap_or(&[]);
    match rules::canonical_row(own_rows) {
        Some(row) => (Some(row), ScoreProvenance::Own, own_rows.len()),
        None => {
            // A quantisation has the base model's weights, so its scores stand in.
            let inherited = (relation == Relation::Quantized)
                .then_some(base)
                .flatten()
                .and_then(|b| {
                    leaderboard
                        .found
                        .get(&b.to_lowercase())
                        .map(|rows| (b, rows))
                })
                .and_then(|(b, rows)| rules::canonical_row(rows).map(|r| (b, r, rows.len())));
            match inherited {
                Some((b, row, n)) => (Some(row), ScoreProvenance::Inherited(b.to_owned()), n),
                None => (None, ScoreProvenance::None, 0),
            }
        }
    }
}

/// A parameter count more than 2× off the size the model's name states is kept (the
/// name can be the active count of a mixture of experts, `Llama-4-Scout-17B-16E`), but
/// not silently: it is flagged in `quality.json`.
fn size_disagrees_with_name(row: &DatasetRow) -> Option<QualityIssue> {
    let counted = row.parameters_b?;
    if row.parameters_source == ParametersSource::Name {
        return None;
    }
    let off = |named: f64| counted.max(named) / counted.min(named).max(1e-9);
    let named = crate::records::sizes_from_name(&row.model_id)
        .into_iter()
        .map(|n| n as f64 / 1e9)
        .min_by(|a, b| off(*a).total_cmp(&off(*b)))?;
    let ratio = off(named);
    (ratio > 2.0).then(|| {
        issue(
            &row.model_id,
            "parameters_b",
            "parameters_disagree_with_name",
            format!(
                "{counted}B from {} is {ratio:.1}x the {named}B the name states; kept",
                row.parameters_source.as_str()
            ),
        )
    })
}

/// A model's downloads and likes against the runs 1, 7 and 30 nights before.
struct Deltas {
    downloads_1d: Option<i64>,
    likes_1d: Option<i64>,
    downloads_7d: Option<i64>,
    downloads_30d: Option<i64>,
}

impl Deltas {
    fn of<'b>(model: &ModelRecord, key: &str, previous: &'b Baselines) -> Self {
        let counts = |run: &'b Option<PreviousRun>| run.as_ref().and_then(|p| p.models.get(key));
        let (downloads_1d, likes_1d) = counts(&previous.day)
            .map(|prev| {
                (
                    delta(model.downloads, prev.downloads),
                    delta(model.likes, prev.likes),
                )
            })
            .unwrap_or((None, None));
        Self {
            downloads_1d,
            likes_1d,
            downloads_7d: counts(&previous.week)
                .and_then(|prev| delta(model.downloads, prev.downloads)),
            downloads_30d: counts(&previous.month)
                .and_then(|prev| delta(model.downloads, prev.downloads)),
        }
    }
}

impl Coverage {
    /// Count a row: its join status, and whether it has scores of its own or its base's.
    fn count(&mut self, row: &DatasetRow) {
        self.models += 1;
        match row.join_status {
            JoinStatus::Found => self.found += 1,
            JoinStatus::NotFound => self.not_found += 1,
            JoinStatus::Mismatch => self.mismatch += 1,
            JoinStatus::Error => self.error += 1,
            JoinStatus::NotLookedUp => self.not_looked_up += 1,
        }
        match row.score_source {
            ScoreProvenance::Own => self.with_own_scores += 1,
            ScoreProvenance::Inherited(_) => self.with_inherited_scores += 1,
            ScoreProvenance::None => {}
        }
    }
}

fn delta(now: Option<u64>, before: Option<u64>) -> Option<i64> {
    Some(now? as i64 - before? as i64)
}

fn round_scores(mut s: Scores) -> Scores {
    for (_, v) in s.named_mut() {
        *v = v.map(|x| (x * 10_000.0).round() / 10_000.0);
    }
    s
}
