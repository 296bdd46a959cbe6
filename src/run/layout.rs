//! Where a run's files go, relative to the output's root (a folder or a bucket prefix):
//!
//! ```text
//! runs/<run-id>/models.csv, models.jsonl, leaderboard.csv, dataset.csv, report.html,
//!              quality.json, quarantine.json, manifest.json, checkpoints/<stage>/<encoded model id>.json
//! latest.json  (points at the newest run that completed every stage)
//! lock.json    (held by the run in progress)
//! ```

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{ModelId, RunId, Stage};

/// The files a run writes, by name.
pub mod artifact {
    /// The models stage's output: one row per model.
    pub const MODELS_CSV: &str = "models.csv";
    /// Each model's raw Hub JSON, one per line.
    pub const MODELS_JSONL: &str = "models.jsonl";
    /// The scores stage's output: one row per leaderboard evaluation.
    pub const LEADERBOARD_CSV: &str = "leaderboard.csv";
    pub const DATASET_CSV: &str = "dataset.csv";
    pub const QUALITY_JSON: &str = "quality.json";
    /// Records from outside that failed their checks, set aside by the stages that met
    /// them (`run::QuarantineLog`); the prepare stage copies them into `quality.json`.
    pub const QUARANTINE_JSON: &str = "quarantine.json";
    pub const REPORT_HTML: &str = "report.html";
    pub const MANIFEST_JSON: &str = "manifest.json";
    /// At the output's root: the newest complete run.
    pub const LATEST_JSON: &str = "latest.json";
    /// At the output's root: the run in progress.
    pub const LOCK_JSON: &str = "lock.json";
}

/// The keys of one run's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    pub run_id: RunId,
}

/// Every run's folder sits under this prefix.
pub const RUNS_PREFIX: &str = "runs/";

impl RunLayout {
    pub fn new(run_id: RunId) -> Self {
        Self { run_id }
    }

    pub fn root(&self) -> String {
        format!("runs/{}", self.run_id)
    }

    /// A file directly in the run folder, e.g. `file(artifact::MODELS_CSV)`.
    pub fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.root())
    }

    /// The folder of a stage's per-model checkpoints, with a trailing `/`.
    pub fn checkpoints(&self, stage: Stage) -> String {
        format!("{}/checkpoints/{stage}/", self.root())
    }

    pub fn checkpoint(&self, stage: Stage, model: &ModelId) -> String {
        format!(
            "{}{}.json",
            self.checkpoints(stage),
            encode_model_key(model)
        )
    }
}

/// Bytes kept as they are in a checkpoint key; everything else is percent-encoded, so
/// `/`, `%`, unicode and leading dots cannot escape the folder or collide.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

pub fn encode_model_key(model: &ModelId) -> String {
    utf8_percent_encode(model.as_str(), KEY_ENCODE).to_string()
}

/// The model id a checkpoint key names, or `None` for a key that is not one of ours.
pub fn decode_model_key(key: &str) -> Option<ModelId> {
    let file = key.rsplit('/').next()?.strip_suffix(".json")?;
    let id = percent_decode_str(file).decode_utf8().ok()?;
    ModelId::parse(&id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_keys_round_trip() {
        let layout = RunLayout::new(RunId::parse("r1").unwrap());
        for raw in [
            "meta-llama/Llama-3.1-8B",
            "ünï/模型.v2",
            "a/..x",
            "gpt2",
            "x/100%_y",
        ] {
            let id = ModelId::parse(raw).unwrap();
            let key = layout.checkpoint(Stage::Scores, &id);
            assert!(key.starts_with("runs/r1/checkpoints/scores/"));
            let file = key.rsplit('/').next().unwrap();
            assert!(!file.contains('/') && !file.starts_with('.'), "{file}");
            assert_eq!(decode_model_key(&key), Some(id));
        }
    }
}
