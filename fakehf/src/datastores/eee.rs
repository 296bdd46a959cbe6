//! Every Eval Ever: the dataset `evaleval/EEE_datastore`, its generated "flat" view
//! (realdata/2026/eee/SUMMARY.md §Datastore layout): one JSONL index per collection,
//! `flat/indexes/by_collection/<collection>.jsonl`, whose rows point at record objects
//! `flat/objects/<uuid[0:2]>/<uuid[2:4]>/<uuid>.json` with their `sha256` and
//! `size_bytes` (hf_community_evals.py verifies both).
//!
//! Which records exist (see [`eee_records`]):
//! - the six real example records of realdata/2026/eee/examples/, served byte for
//!   byte, whatever the catalogue;
//! - `hfopenllm_v2`: one record per real leaderboard model in the catalogue, built
//!   from its first leaderboard row exactly as the real TencentARC example is (a unit
//!   test checks that the generator gives that example back);
//! - records invented in the real examples' shapes (templates), listed in
//!   [`invented_specs`], with invented scores;
//! - [`crate::FakeConfig::eee_extra_records`].

use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalogue::Catalogue;

mod hfopenllm;
mod invented;

use hfopenllm::{hfopenllm_records, leaderboard_rows};
use invented::invented_specs;

pub const EEE_REPO: &str = "evaleval/EEE_datastore";
/// The datastore's commit (invented).
pub const EEE_SHA: &str = "e3e0d9be34d6a1c07f5b2c4e8a9d1f3b5c7e9a0b";
/// The collections the fake serves: the four the job reads by default, and HAL's
/// AssistantBench, which it does not.
pub const EEE_COLLECTIONS: [&str; 5] = [
    "hfopenllm_v2",
    "MMLU-Pro",
    "helm_capabilities",
    "global-mmlu-lite",
    "hal-assistantbench",
];

/// One record as the datastore serves it.
#[derive(Debug, Clone)]
pub struct EeeRecord {
    pub collection: String,
    pub uuid: String,
    /// `model_info.id`, as the record has it (not necessarily a Hub id).
    pub model_id: String,
    pub retrieved_timestamp: String,
    /// The record.
    pub record: Value,
    /// The object's bytes, as served (pretty JSON, as the real objects are).
    pub bytes: Bytes,
    /// The `{uuid}_samples.jsonl` file, when the row says `instance_level_available`.
    pub samples: Option<Bytes>,
    /// The real index row (examples/flat_index_row__aggregate.jsonl) has no
    /// `instance_level_available`; the one record it describes is served that way.
    pub bare_row: bool,
}

impl EeeRecord {
    fn new(collection: &str, uuid: String, record: Value, bytes: Bytes) -> Self {
        Self {
            collection: collection.to_owned(),
            uuid,
            model_id: record["model_info"]["id"].as_str().unwrap_or("").to_owned(),
            retrieved_timestamp: record["retrieved_timestamp"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            record,
            bytes,
            samples: None,
            bare_row: false,
        }
    }

    /// A record the fake serializes itself.
    fn generated(collection: &str, uuid: String, record: Value) -> Self {
        let text = serde_json::to_string_pretty(&record).unwrap_or_default();
        Self::new(collection, uuid, record, Bytes::from(text))
    }

    pub fn object_path(&self) -> String {
        let u = &self.uuid;
        format!("flat/objects/{}/{}/{u}.json", &u[0..2], &u[2..4])
    }

    pub fn samples_path(&self) -> String {
        let u = &self.uuid;
        format!("flat/objects/{}/{}/{u}_samples.jsonl", &u[0..2], &u[2..4])
    }

    /// `data/{collection}/{model_info.id}/{uuid}.json` (the real row's
    /// `legacy_path`; `_write_collection_rows` in tests__test_community_evals_converter.py).
    pub fn legacy_path(&self) -> String {
        format!(
            "data/{}/{}/{}.json",
            self.collection, self.model_id, self.uuid
        )
    }

    /// The index row, keys in the real row's (sorted) order.
    pub fn index_row(&self) -> Value {
        let mut row = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            row.insert(k.to_owned(), v);
        };
        // `benchmark` is the collection's name in the one real row (invented elsewhere).
        put("benchmark", json!(self.collection));
        put("eval_schema_version", self.record["schema_version"].clone());
        if !self.bare_row {
            put("instance_level_available", json!(self.samples.is_some()));
        }
        if let Some(samples) = &self.samples {
            put("instance_level_path", json!(self.samples_path()));
            put("instance_level_size_bytes", json!(samples.len()));
            put("instance_sha", json!(sha256_hex(samples)));
        }
        put("legacy_path", json!(self.legacy_path()));
        put("object_path", json!(self.object_path()));
        put("object_uuid", json!(self.uuid));
        put("record_type", json!("aggregate"));
        put("sha256", json!(sha256_hex(&self.bytes)));
        put("size_bytes", json!(self.bytes.len()));
        Value::Object(row)
    }

    /// Give the record an instance-level file, in the shape the converter's tests
    /// write (`{schema_version, evaluation_id, model_id}` per line; invented content).
    fn with_samples(mut self) -> Self {
        let line = json!({
            "schema_version": self.record["schema_version"],
            "evaluation_id": self.record["evaluation_id"],
            "model_id": self.model_id,
        });
        self.samples = Some(Bytes::from(format!("{line}\n")));
        self
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A UUID4-looking id from a hash of `seed` (invented; the real ones are random UUID4s).
pub fn uuid_from(seed: &str) -> String {
    let h = sha256_hex(seed.as_bytes());
    let variant = ["8", "9", "a", "b"][usize::from(h.as_bytes()[16]) % 4];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Every record the datastore serves for this catalogue, by collection in
/// [`EEE_COLLECTIONS`] order, then the extra records.
pub fn eee_records(
    catalogue: &Catalogue,
    realdata: &Path,
    extra: &[(String, Value)],
) -> anyhow::Result<Vec<EeeRecord>> {
    let examples = Examples::load(realdata)?;
    let rows = leaderboard_rows(realdata)?;
    let mut out = vec![examples.tencent.clone()];
    out.extend(hfopenllm_records(catalogue, &rows));
    out.push(examples.yi.clone());
    for spec in invented_specs(catalogue) {
        out.push(spec.build(&examples));
    }
    out.extend([
        examples.scout.clone().with_samples(),
        examples.gpt_oss.clone().with_samples(),
        examples.gemma.clone(),
        examples.claude.clone(),
    ]);
    out.sort_by_key(|r| EEE_COLLECTIONS.iter().position(|c| *c == r.collection));
    for (collection, record) in extra {
        let uuid = uuid_from(&format!("extra:{collection}:{record}"));
        out.push(EeeRecord::generated(collection, uuid, record.clone()));
    }
    Ok(out)
}

/// The real example records, verbatim.
struct Examples {
    tencent: EeeRecord,
    yi: EeeRecord,
    scout: EeeRecord,
    gpt_oss: EeeRecord,
    gemma: EeeRecord,
    claude: EeeRecord,
}

impl Examples {
    fn load(realdata: &Path) -> anyhow::Result<Self> {
        let dir = realdata.join("2026/eee/examples");
        let load = |collection: &str, file: &str, uuid: String| -> anyhow::Result<EeeRecord> {
            let path = dir.join(file);
            let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
            let record: Value = serde_json::from_slice(&bytes)?;
            Ok(EeeRecord::new(collection, uuid, record, Bytes::from(bytes)))
        };
        // Only the first 8 hex digits of these uuids are real (the file names); the
        // rest is invented.
        let short = |prefix: &str| format!("{prefix}{}", &uuid_from(prefix)[8..]);
        let mut yi = load(
            "MMLU-Pro",
            "MMLU-Pro__01-ai__yi-1.5-34b-chat__676f4465.json",
            // Real, whole: examples/flat_index_row__aggregate.jsonl.
            "676f4465-ce78-411a-9f5a-c97b3d2eac4f".into(),
        )?;
        yi.bare_row = true;
        Ok(Self {
            tencent: load(
                "hfopenllm_v2",
                "hfopenllm_v2__TencentARC__LLaMA-Pro-8B-Instruct__98ea850e.json",
                short("98ea850e"),
            )?,
            yi,
            scout: load(
                "helm_capabilities",
                "helm_capabilities__meta__llama-4-scout-17b-16e-instruct__1a1edfb2.json",
                short("1a1edfb2"),
            )?,
            gpt_oss: load(
                "helm_capabilities",
                "helm_capabilities__openai__gpt-oss-20b__1d9ac688.json",
                short("1d9ac688"),
            )?,
            gemma: load(
                "global-mmlu-lite",
                "global-mmlu-lite__google__gemma-3-27b-it__ab4940d1.json",
                short("ab4940d1"),
            )?,
            claude: load(
                "hal-assistantbench",
                "hal-assistantbench__anthropic__claude-3-7-sonnet-20250219__1972de5d.json",
                short("1972de5d"),
            )?,
        })
    }

    fn template(&self, collection: &str) -> &Value {
        match collection {
            "MMLU-Pro" => &self.yi.record,
            "helm_capabilities" => &self.scout.record,
            "global-mmlu-lite" => &self.gemma.record,
            _ => &self.claude.record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_row_is_served_as_it_is() {
        let realdata = crate::realdata_dir();
        let examples = Examples::load(&realdata).unwrap();
        let real = std::fs::read_to_string(
            realdata.join("2026/eee/examples/flat_index_row__aggregate.jsonl"),
        )
        .unwrap();
        let real: Value = serde_json::from_str(real.trim()).unwrap();
        assert_eq!(examples.yi.index_row(), real);
    }

    #[test]
    fn uuids_look_like_uuid4() {
        let u = uuid_from("x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
    }
}
