//! Where a run's files go, relative to the output's root (a folder or a bucket prefix):
//!
//! ```text
//! runs/<run-id>/models.csv, models.jsonl, leaderboard.csv, evals.csv, dataset.csv,
//!              dataset.parquet, evals.parquet, report.html, quality.json,
//!              quarantine.json, evals_skipped.json, manifest.json,
//!              checkpoints/<stage>/<encoded model id>.json
//! runs/index.json  (the published runs; see [`super::history`])
//! history/<table>/date=YYYY-MM-DD/<run-id>.parquet  (every complete run's snapshot)
//! latest.json  (points at the newest run that completed every stage)
//! lock.json    (held by the run in progress)
//! ```

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use super::{ModelId, RunId, Stage};

/// The files a run writes, by name.
pub mod artifact {
    /// The models stage's output: one row per model.
    pub const MODELS_CSV: &str = "models.csv";
    /// Each model's raw Hub JSON, one per line.
    pub const MODELS_JSONL: &str = "models.jsonl";
    /// The scores stage's output: one row per leaderboard evaluation.
    pub const LEADERBOARD_CSV: &str = "leaderboard.csv";
    /// The evals stage's output: one row per model × benchmark × source.
    pub const EVALS_CSV: &str = "evals.csv";
    /// Evaluation results that were not used, and why.
    pub const EVALS_SKIPPED_JSON: &str = "evals_skipped.json";
    /// `evals.csv` with typed columns.
    pub const EVALS_PARQUET: &str = "evals.parquet";
    pub const DATASET_CSV: &str = "dataset.csv";
    /// `dataset.csv` with typed columns.
    pub const DATASET_PARQUET: &str = "dataset.parquet";
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
        self.checkpoint_of(stage, None, model)
    }

    /// The folder of one source's checkpoints in a stage that has several
    /// (`checkpoints/evals/every-eval-ever/`), or the stage's own folder.
    pub fn checkpoints_of(&self, stage: Stage, part: Option<&str>) -> String {
        match part {
            Some(part) => format!("{}{part}/", self.checkpoints(stage)),
            None => self.checkpoints(stage),
        }
    }

    pub fn checkpoint_of(&self, stage: Stage, part: Option<&str>, model: &ModelId) -> String {
        format!(
            "{}{}.json",
            self.checkpoints_of(stage, part),
            encode_model_key(model)
        )
    }

    /// The object holding a batch of answers that completed together (one response
    /// answered them all): `+batch-<hash of their ids>.json`. A model's own name never
    /// starts with `+` (the encoder writes it as `%2B`), so the two cannot collide.
    pub fn batch_checkpoint_of<'a>(
        &self,
        stage: Stage,
        part: Option<&str>,
        models: impl IntoIterator<Item = &'a ModelId>,
    ) -> String {
        let mut hasher = Sha256::new();
        for model in models {
            hasher.update(model.normalized().as_bytes());
            hasher.update(b"\n");
        }
        let hash: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{}{BATCH_PREFIX}{hash}.json",
            self.checkpoints_of(stage, part)
        )
    }
}

/// How a batch checkpoint's file name starts.
pub const BATCH_PREFIX: &str = "+batch-";

/// Bytes kept as they are in a checkpoint key; everything else is percent-encoded, so
/// `/`, `%`, unicode and leading dots cannot escape the folder or collide.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The longest file name (before `.json`) a key segment gets. File systems and MinIO
/// cap a segment at 255 bytes, and s3s-fs refused about 140 percent-encoded characters
/// (a 10,000-model run failed on one); every name we write stays well under both.
pub const MAX_KEY_STEM: usize = 96;

/// Marks a shortened name: the encoder never writes `~` itself (it encodes it as `%7E`).
const HASHED: char = '~';

/// A model's checkpoint file name: its id percent-encoded, so `/`, `%`, unicode and
/// leading dots cannot escape the folder or collide. An id too long for that is cut to
/// a readable prefix plus `~` and a hash of the whole id; the id itself is always in
/// the object, which is where readers take it from.
pub fn encode_model_key(model: &ModelId) -> String {
    let encoded = utf8_percent_encode(model.as_str(), KEY_ENCODE).to_string();
    if encoded.len() <= MAX_KEY_STEM {
        return encoded;
    }
    let digest = Sha256::digest(model.as_str().as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX_KEY_STEM - 1 - hash.len();
    // Never cut inside a `%XX` triple.
    let bytes = encoded.as_bytes();
    if bytes[cut - 1] == b'%' {
        cut -= 1;
    } else if bytes[cut - 2] == b'%' {
        cut -= 2;
    }
    format!("{}{HASHED}{hash}", &encoded[..cut])
}

/// The model id a checkpoint key names, when the name is not shortened; `None` for a
/// shortened name, a batch or a key that is not one of ours.
pub fn decode_model_key(key: &str) -> Option<ModelId> {
    let file = key.rsplit('/').next()?.strip_suffix(".json")?;
    if file.contains(HASHED) || file.starts_with(BATCH_PREFIX) {
        return None;
    }
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

    #[test]
    fn long_ids_get_short_distinct_names() {
        let layout = RunLayout::new(RunId::parse("r1").unwrap());
        // The longest ids we accept, in characters the encoder triples.
        let long = format!("{}/{}", "o".repeat(40), ".".repeat(215));
        let longer = format!("{}/{}x", "o".repeat(40), ".".repeat(214));
        let real = "quant-lab-1/Joseph717171-Hermes-3-Llama-3.1-8B_TIES_with_Base_Embeds_Initialized_to_Special_Instruct_Toks_dtypeF32-GGUF";
        let mut names = std::collections::HashSet::new();
        for raw in [long.as_str(), longer.as_str(), real] {
            let id = ModelId::parse(raw).unwrap();
            let key = layout.checkpoint(Stage::Scores, &id);
            let file = key.rsplit('/').next().unwrap();
            assert!(file.len() <= MAX_KEY_STEM + ".json".len(), "{file}");
            assert!(file.contains('~'), "{file}");
            assert!(!file.contains("%.") && !file.ends_with("%.json"), "{file}");
            assert_eq!(decode_model_key(&key), None);
            assert!(names.insert(file.to_owned()), "{file} twice");
            assert_eq!(encode_model_key(&id), encode_model_key(&id), "stable");
        }
    }
}
