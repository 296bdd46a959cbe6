//! Leaderboard rows from either source, and the rule that decides whether a row is
//! the model we asked for.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::records::{LeaderboardRecord, MatchStatus};
use crate::run::{ModelId, Problem, RecordFault, RecordKind};

/// One leaderboard evaluation: a model at one precision and chat-template setting.
/// Scores are the leaderboard's normalised 0–100 scores, rounded to the 2 decimals the
/// leaderboard shows, so the browser and the datasets source agree exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ScoreRow {
    pub eval_name: String,
    pub name: String,
    pub sha: String,
    pub precision: String,
    pub model_type: String,
    pub weight_type: String,
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
    pub hub_license: String,
    pub submission_date: String,
    pub base_model: String,
}

/// A score to the two decimals the leaderboard app shows: JavaScript's `toFixed(2)`,
/// which rounds the number's exact value, a tie away from zero. (`(v * 100).round()`
/// would not: `29.235` is stored just below it, and shows as `29.23`.)
pub fn round2(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    // Rust prints a float's exact decimal digits; a tie is `…d5` followed by zeros only.
    let exact = format!("{:.40}", v.abs());
    let (_, decimals) = exact.split_once('.').unwrap_or((&exact, ""));
    let tie = decimals.get(2..3) == Some("5") && decimals[3..].bytes().all(|b| b == b'0');
    let shown: f64 = if tie {
        let up = (v.abs() * 100.0).floor() + 1.0;
        (up / 100.0).copysign(v)
    } else {
        format!("{v:.2}").parse().unwrap_or(v)
    };
    shown
}

/// A column header reduced to its letters and digits, lowercased: `Average ⬆️` →
/// `average`, `MATH Lvl 5` → `mathlvl5`, `#Params (B)` → `paramsb`. Upstream decorates
/// headers with emoji and arrows; this keeps the match on what the header says.
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The fields a table or dataset column can fill, by [`header_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The app's rank of a row: unique per row, so it keys rows read over several
    /// scroll positions. Not kept in a [`ScoreRow`].
    Rank,
    EvalName,
    Name,
    Sha,
    Precision,
    ModelType,
    WeightType,
    Architecture,
    ChatTemplate,
    Average,
    Ifeval,
    Bbh,
    MathLvl5,
    Gpqa,
    Musr,
    MmluPro,
    ParamsB,
    HubLicense,
    SubmissionDate,
    BaseModel,
}

impl Column {
    pub fn from_header(header: &str) -> Option<Self> {
        Some(match header_key(header).as_str() {
            "rank" => Self::Rank,
            "evalname" => Self::EvalName,
            "fullname" | "model" | "modelname" => Self::Name,
            "modelsha" | "sha" => Self::Sha,
            "precision" => Self::Precision,
            "type" | "modeltype" => Self::ModelType,
            "weighttype" => Self::WeightType,
            "architecture" => Self::Architecture,
            "chattemplate" => Self::ChatTemplate,
            "average" => Self::Average,
            "ifeval" => Self::Ifeval,
            "bbh" => Self::Bbh,
            "math" | "mathlvl5" | "mathlevel5" => Self::MathLvl5,
            "gpqa" => Self::Gpqa,
            "musr" => Self::Musr,
            "mmlupro" => Self::MmluPro,
            "paramsb" | "parameters" => Self::ParamsB,
            "hublicense" | "license" => Self::HubLicense,
            "submissiondate" => Self::SubmissionDate,
            "basemodel" => Self::BaseModel,
            _ => return None,
        })
    }
}

/// Columns without which a row is not worth reading.
pub const REQUIRED: [(Column, &str); 2] = [(Column::Name, "Model"), (Column::Average, "Average")];

/// A number as a source shows it: `33.03`, or with the app's units, `33.03 %`,
/// `7.242B`, `2.11 kg`; `-` or anything else is no number.
fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    let bare = ["%", "kg", "B"]
        .iter()
        .find_map(|unit| text.strip_suffix(unit))
        .unwrap_or(text)
        .trim();
    bare.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "✓" | "✔" | "1" => Some(true),
        "false" | "no" | "✗" | "✘" | "0" => Some(false),
        _ => None,
    }
}

impl ScoreRow {
    /// Set a field from a cell's text.
    pub fn set(&mut self, column: Column, text: &str) {
        let text = text.trim();
        let score = || number(text).map(round2);
        match column {
            Column::Rank => {}
            Column::EvalName => self.eval_name = text.into(),
            Column::Name => self.name = text.into(),
            Column::Sha => self.sha = text.into(),
            Column::Precision => self.precision = text.into(),
            Column::ModelType => self.model_type = text.into(),
            Column::WeightType => self.weight_type = text.into(),
            Column::Architecture => self.architecture = text.into(),
            Column::ChatTemplate => self.chat_template = boolean(text),
            Column::Average => self.average = score(),
            Column::Ifeval => self.ifeval = score(),
            Column::Bbh => self.bbh = score(),
            Column::MathLvl5 => self.math_lvl5 = score(),
            Column::Gpqa => self.gpqa = score(),
            Column::Musr => self.musr = score(),
            Column::MmluPro => self.mmlu_pro = score(),
            Column::ParamsB => self.params_b = number(text),
            Column::HubLicense => self.hub_license = text.into(),
            Column::SubmissionDate => self.submission_date = text.into(),
            Column::BaseModel => self.base_model = text.into(),
        }
    }

    /// The leaderboard's own key, `<name>_<precision>_<sha>_<chat template>`, when a
    /// source does not give it.
    pub fn fill_eval_name(&mut self) {
        if self.eval_name.is_empty() {
            let chat = match self.chat_template {
                Some(true) => "True",
                Some(false) => "False",
                None => "",
            };
            self.eval_name = format!("{}_{}_{}_{chat}", self.name, self.precision, self.sha);
        }
    }

    /// A row of the app's JSON API (`/api/leaderboard/formatted`), whose `model.name`
    /// must be a model id; every other field may be missing or of another type, and is
    /// then left empty.
    pub fn from_formatted(item: &Value) -> Result<Self, RecordFault> {
        let Value::Object(fields) = item else {
            return Err(row_fault(Problem::NotAnObject(json_kind(item))));
        };
        let model = match fields.get("model") {
            Some(model @ Value::Object(_)) => model,
            _ => return Err(row_fault(Problem::MissingId)),
        };
        let name = model_name(model.get("name"))?;
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        };
        let score = |key: &str| {
            item.get("evaluations")
                .and_then(|e| e.get(key))
                .and_then(|e| e.get("normalized_score"))
                .and_then(Value::as_f64)
                .map(round2)
        };
        let meta = item.get("metadata");
        let mut row = Self {
            eval_name: text(item.get("id")),
            name: name.into(),
            sha: text(model.get("sha")),
            precision: text(model.get("precision")),
            model_type: text(model.get("type")),
            weight_type: text(model.get("weight_type")),
            architecture: text(model.get("architecture")),
            chat_template: model.get("has_chat_template").and_then(Value::as_bool),
            average: model
                .get("average_score")
                .and_then(Value::as_f64)
                .map(round2),
            ifeval: score("ifeval"),
            bbh: score("bbh"),
            math_lvl5: score("math"),
            gpqa: score("gpqa"),
            musr: score("musr"),
            mmlu_pro: score("mmlu_pro"),
            params_b: meta
                .and_then(|m| m.get("params_billions"))
                .and_then(Value::as_f64),
            hub_license: text(meta.and_then(|m| m.get("hub_license"))),
            submission_date: text(meta.and_then(|m| m.get("submission_date"))),
            base_model: text(meta.and_then(|m| m.get("base_model"))),
        };
        row.fill_eval_name();
        Ok(row)
    }

    /// A row of the dataset `open-llm-leaderboard/contents` (its parquet file, or the
    /// datasets-server `/rows` API), in the same terms as the app's JSON API, so every
    /// source gives the same rows: its `eval_name` (`<org>_<name>_<precision>`) is not
    /// the API's key, which is rebuilt from the fields; its `Type` is a display label
    /// (`💬 chat models (RLHF, DPO, IFT, ...)`), which becomes the API's type
    /// (`chatmodels`); its `Model` is HTML, and `fullname` the plain name, which must be a model id.
    pub fn from_contents(row: &serde_json::Map<String, Value>) -> Result<Self, RecordFault> {
        let mut out = Self::default();
        let mut name = None;
        for (column, value) in row {
            if matches!(column.as_str(), "Model" | "eval_name") {
                continue;
            }
            if column == "Type" {
                if let Some(label) = value.as_str() {
                    out.model_type = model_type_from_label(label);
                }
                continue;
            }
            let Some(field) = Column::from_header(column) else {
                continue;
            };
            if field == Column::Name {
                name = Some(value);
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            out.set(field, &text);
        }
        out.name = model_name(name)?.into();
        out.fill_eval_name();
        Ok(out)
    }

    /// Check a row read from the page's table: its name must be a model id.
    pub fn checked(mut self) -> Result<Self, RecordFault> {
        self.name = name_text(&self.name)?.into();
        self.fill_eval_name();
        Ok(self)
    }
}

/// A row's model name, checked once where it comes in: the leaderboard names models by
/// their Hub id, and a row whose name is not one can match no model.
fn model_name(value: Option<&Value>) -> Result<ModelId, RecordFault> {
    match value {
        None | Some(Value::Null) => Err(row_fault(Problem::MissingId)),
        Some(Value::String(s)) => name_text(s),
        Some(other) => Err(row_fault(Problem::NonStringId {
            kind: json_kind(other),
            id: other.to_string(),
        })),
    }
}

fn name_text(name: &str) -> Result<ModelId, RecordFault> {
    if name.trim().is_empty() {
        return Err(row_fault(Problem::MissingId));
    }
    ModelId::parse(name).map_err(|source| {
        row_fault(Problem::InvalidId {
            id: name.to_owned(),
            source,
        })
    })
}

/// A leaderboard row's fault.
pub fn row_fault(problem: Problem) -> RecordFault {
    RecordFault::new(RecordKind::LeaderboardRow, problem)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Rows read from one source, each checked: the good ones, and those set aside with
/// their place (from 1) and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedRows {
    pub rows: Vec<ScoreRow>,
    pub refused: Vec<(u64, RecordFault)>,
}

impl ParsedRows {
    pub fn push(&mut self, position: u64, row: Result<ScoreRow, RecordFault>) {
        match row {
            Ok(row) => self.rows.push(row),
            Err(fault) => self.refused.push((position, fault)),
        }
    }
}

/// Why a leaderboard response gave no rows at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageFault {
    #[error("expected a JSON array of leaderboard rows, got {0}")]
    NotAnArray(&'static str),
    #[error("no `rows` array")]
    NoRows,
    #[error("no `num_rows_total`")]
    NoTotal,
}

/// The app's JSON API body (`/api/leaderboard/formatted`): an array of rows, each
/// checked on its own.
pub fn parse_formatted(page: &Value) -> Result<ParsedRows, PageFault> {
    let Value::Array(items) = page else {
        return Err(PageFault::NotAnArray(json_kind(page)));
    };
    let mut parsed = ParsedRows::default();
    for (i, item) in items.iter().enumerate() {
        parsed.push(i as u64 + 1, ScoreRow::from_formatted(item));
    }
    Ok(parsed)
}

/// One datasets-server `/rows` page: its rows, each checked on its own (`first` is the
/// position of its first row in the whole table, from 1), how many items it held, and
/// the table's total as the server states it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowsPage {
    pub parsed: ParsedRows,
    pub items: usize,
    pub total: u64,
}

pub fn parse_rows_page(page: &Value, first: u64) -> Result<RowsPage, PageFault> {
    let items = page
        .get("rows")
        .and_then(Value::as_array)
        .ok_or(PageFault::NoRows)?;
    let total = page
        .get("num_rows_total")
        .and_then(Value::as_u64)
        .ok_or(PageFault::NoTotal)?;
    let mut parsed = ParsedRows::default();
    for (i, item) in items.iter().enumerate() {
        let row = match item.get("row") {
            Some(Value::Object(row)) => ScoreRow::from_contents(row),
            Some(other) => Err(row_fault(Problem::NotAnObject(json_kind(other)))),
            None => Err(row_fault(Problem::NotAnObject(json_kind(item)))),
        };
        parsed.push(first.saturating_add(i as u64), row);
    }
    Ok(RowsPage {
        parsed,
        items: items.len(),
        total,
    })
}

/// The app's JSON API names a model's type in one word (`chatmodels`); the dataset
/// shows a label with its emoji (`💬 chat models (RLHF, DPO, IFT, ...)`). The emoji
/// decides: the pairs below are the real data's (realdata/leaderboard: the formatted
/// export's `model_type` values and the contents rows' `T` and `Type`).
pub fn model_type_from_label(label: &str) -> String {
    const BY_EMOJI: [(&str, &str); 7] = [
        ("🟢", "pretrained"),
        ("🟩", "continuouslypretrained"),
        ("🔶", "fine-tunedondomain-specificdatasets"),
        ("💬", "chatmodels"),
        ("🤝", "basemergesandmoerges"),
        ("🌸", "multimodal"),
        ("❓", "❓other"),
    ];
    let label = label.trim();
    BY_EMOJI
        .iter()
        .find(|(emoji, _)| label.starts_with(emoji))
        .map(|(_, raw)| (*raw).to_owned())
        .unwrap_or_else(|| label.to_owned())
}

/// How one model's lookup ended, with what was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lookup {
    pub status: MatchStatus,
    pub rows: Vec<ScoreRow>,
    pub detail: String,
}

impl Lookup {
    pub fn error(detail: impl Into<String>) -> Self {
        Self {
            status: MatchStatus::Error,
            rows: vec![],
            detail: detail.into(),
        }
    }

    /// The `leaderboard.csv` rows for this model: one per evaluation, ordered by
    /// eval name, or one row with the status and no scores.
    pub fn records(&self, model: &ModelId, source: &str) -> Vec<LeaderboardRecord> {
        if self.rows.is_empty() {
            return vec![LeaderboardRecord {
                model_id: model.to_string(),
                status: Some(self.status),
                source: source.into(),
                detail: self.detail.clone(),
                ..LeaderboardRecord::default()
            }];
        }
        let mut rows = self.rows.clone();
        rows.sort_by(|a, b| a.eval_name.cmp(&b.eval_name));
        rows.dedup_by(|a, b| a.eval_name == b.eval_name);
        rows.into_iter()
            .map(|r| LeaderboardRecord {
                model_id: model.to_string(),
                status: Some(self.status),
                source: source.into(),
                eval_name: r.eval_name,
                matched_name: r.name,
                precision: r.precision,
                model_type: r.model_type,
                weight_type: r.weight_type,
                architecture: r.architecture,
                chat_template: r.chat_template,
                average: r.average,
                ifeval: r.ifeval,
                bbh: r.bbh,
                math_lvl5: r.math_lvl5,
                gpqa: r.gpqa,
                musr: r.musr,
                mmlu_pro: r.mmlu_pro,
                params_b: r.params_b,
                hub_license: r.hub_license,
                submission_date: r.submission_date,
                base_model: r.base_model,
                detail: self.detail.clone(),
            })
            .collect()
    }
}

/// Decide from a model's own rows: `found` with them, else `not_found`. A source gives
/// only rows whose name is the model's id (case-insensitive, as the Hub treats ids), so
/// `Llama-3.1-8B` never takes `Llama-3.1-8B-Instruct`'s scores.
pub fn classify(model: &ModelId, own: Vec<ScoreRow>) -> Lookup {
    let own: Vec<ScoreRow> = own
        .into_iter()
        .filter(|r| model.same_model(&r.name))
        .collect();
    if own.is_empty() {
        return Lookup {
            status: MatchStatus::NotFound,
            rows: vec![],
            detail: "no leaderboard row".into(),
        };
    }
    Lookup {
        status: MatchStatus::Found,
        detail: format!("{} evaluation(s)", own.len()),
        rows: own,
    }
}

/// Every row, grouped by lowercased model name: the index the datasets source searches.
pub fn index_by_name(rows: Vec<ScoreRow>) -> HashMap<String, Vec<ScoreRow>> {
    let mut index: HashMap<String, Vec<ScoreRow>> = HashMap::new();
    for row in rows {
        index.entry(row.name.to_lowercase()).or_default().push(row);
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Check, Stage};

    fn row(name: &str, avg: f64) -> ScoreRow {
        ScoreRow {
            name: name.into(),
            average: Some(avg),
            ..ScoreRow::default()
        }
    }

    #[test]
    fn near_miss_never_takes_the_other_models_scores() {
        let id = ModelId::parse("meta-llama/Llama-3.1-8B").unwrap();
        let seen = vec![row("meta-llama/Llama-3.1-8B-Instruct", 27.9)];
        let lookup = classify(&id, seen);
        assert_eq!(lookup.status, MatchStatus::NotFound);
        assert!(lookup.rows.is_empty());

        let seen = vec![
            row("meta-llama/Llama-3.1-8B-Instruct", 27.9),
            row("META-LLAMA/llama-3.1-8b", 13.8),
        ];
        let lookup = classify(&id, seen);
        assert_eq!(lookup.status, MatchStatus::Found);
        assert_eq!(lookup.rows.len(), 1);
        assert_eq!(lookup.rows[0].average, Some(13.8));
        assert_eq!(classify(&id, vec![]).status, MatchStatus::NotFound);
    }

    #[test]
    fn scores_round_as_the_app_shows_them() {
        // Stored just below the half: toFixed(2) shows 29.23.
        assert_eq!(round2(29.235), 29.23);
        // Exactly half (x.125 is exact in binary): away from zero.
        assert_eq!(round2(12.125), 12.13);
        assert_eq!(round2(-12.125), -12.13);
        assert_eq!(round2(33.0279214705869), 33.03);
        assert_eq!(round2(8.0), 8.0);
    }

    #[test]
    fn cells_as_the_app_shows_them() {
        let mut row = ScoreRow::default();
        row.set(Column::Ifeval, "33.03 %");
        row.set(Column::Bbh, "-");
        row.set(Column::ParamsB, "7.242B");
        row.set(Column::ChatTemplate, "Yes");
        row.set(Column::Average, " 8.91 ");
        assert_eq!(row.ifeval, Some(33.03));
        assert_eq!(row.bbh, None);
        assert_eq!(row.params_b, Some(7.242));
        assert_eq!(row.chat_template, Some(true));
        assert_eq!(row.average, Some(8.91));
        row.set(Column::Gpqa, "NaN");
        assert_eq!(row.gpqa, None);
    }

    #[test]
    fn headers_tolerate_decorations() {
        assert_eq!(Column::from_header("Average ⬆️"), Some(Column::Average));
        assert_eq!(Column::from_header(" MATH Lvl 5 "), Some(Column::MathLvl5));
        assert_eq!(Column::from_header("#Params (B)"), Some(Column::ParamsB));
        assert_eq!(Column::from_header("MMLU-PRO"), Some(Column::MmluPro));
        assert_eq!(Column::from_header("IFEval Raw"), None);
        // The app's own labels (LB/utils/columnUtils.js).
        assert_eq!(Column::from_header("MATH"), Some(Column::MathLvl5));
        assert_eq!(Column::from_header("Parameters"), Some(Column::ParamsB));
        assert_eq!(Column::from_header("License"), Some(Column::HubLicense));
        assert_eq!(Column::from_header("Rank"), Some(Column::Rank));
        assert_eq!(Column::from_header("CO₂ Cost"), None);
        assert_eq!(Column::from_header("Hub ❤️"), None);
    }

    #[test]
    fn formatted_rows_from_realdata() {
        let path = crate::testdata::realdata_dir().join("leaderboard/formatted-sample.json");
        let items: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let rows: Vec<ScoreRow> = items
            .iter()
            .map(|item| ScoreRow::from_formatted(item).unwrap())
            .collect();
        assert_eq!(rows.len(), items.len());
        let first = &rows[0];
        assert_eq!(first.name, "0-hero/Matter-0.2-7B-DPO");
        assert_eq!(
            first.eval_name,
            "0-hero/Matter-0.2-7B-DPO_bfloat16_26a66f0d862e2024ce4ad0a09c37052ac36e8af6_True"
        );
        assert_eq!(first.average, Some(8.91));
        assert_eq!(first.ifeval, Some(33.03));
        assert_eq!(first.math_lvl5, Some(1.44));
        assert_eq!(first.params_b, Some(7.242));
        assert_eq!(first.chat_template, Some(true));
        // The key we build for sources without one is the leaderboard's own.
        let mut rebuilt = first.clone();
        rebuilt.eval_name.clear();
        rebuilt.fill_eval_name();
        assert_eq!(rebuilt.eval_name, first.eval_name);
    }

    #[test]
    fn rows_that_name_no_model_are_refused_with_the_reason() {
        use serde_json::json;
        let formatted = |name: Value| {
            ScoreRow::from_formatted(
                &json!({"id": "x", "model": {"name": name, "average_score": 1.0}}),
            )
        };
        assert_eq!(formatted(json!("org/m")).unwrap().name, "org/m");
        let refused = |r: Result<ScoreRow, RecordFault>| r.unwrap_err().check();
        assert_eq!(refused(formatted(json!("org/a/b"))), Check::InvalidId);
        assert_eq!(refused(formatted(json!(""))), Check::MissingId);
        assert_eq!(refused(formatted(json!(null))), Check::MissingId);
        assert_eq!(refused(formatted(json!(42))), Check::NonStringId);
        assert_eq!(
            refused(ScoreRow::from_formatted(&json!([1]))),
            Check::NotAnObject
        );
        assert_eq!(
            refused(ScoreRow::from_formatted(&json!({"model": 3}))),
            Check::MissingId
        );

        let contents = |row: Value| ScoreRow::from_contents(row.as_object().unwrap());
        let ok = contents(json!({"fullname": "org/m", "Average ⬆️": 3.0, "Model": "<a>x</a>"}));
        assert_eq!(ok.unwrap().average, Some(3.0));
        assert_eq!(
            refused(contents(json!({"fullname": 7}))),
            Check::NonStringId
        );
        assert_eq!(
            refused(contents(json!({"Average ⬆️": 3.0}))),
            Check::MissingId
        );
        let long = format!("org/{}", "m".repeat(296));
        let fault = contents(json!({ "fullname": long })).unwrap_err();
        assert_eq!(fault.id(), Some(long.as_str()));
        let q = fault.quarantined(Stage::Scores, "http://x/rows?offset=0", 3);
        assert_eq!(
            (q.stage, q.kind, q.position),
            (Stage::Scores, RecordKind::LeaderboardRow, 3)
        );

        let page = json!({"rows": [{"row_idx": 0, "row": {"fullname": "org/a"}},
                                   {"row_idx": 1, "row": {"fullname": "a/b/c"}},
                                   {"row_idx": 2},
                                   "junk"],
                          "num_rows_total": 4});
        let parsed = parse_rows_page(&page, 101).unwrap();
        assert_eq!(parsed.items, 4);
        assert_eq!(parsed.total, 4);
        assert_eq!(parsed.parsed.rows.len(), 1);
        let positions: Vec<u64> = parsed.parsed.refused.iter().map(|(p, _)| *p).collect();
        assert_eq!(positions, [102, 103, 104]);
        assert_eq!(
            parse_rows_page(&json!({"rows": []}), 1),
            Err(PageFault::NoTotal)
        );
        assert!(parse_formatted(&json!({"a": 1})).is_err());
    }
}
