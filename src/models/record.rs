//! One row of `models.csv`, derived from the Hub's JSON for a model.

use serde_json::Value;

use super::params::parameters_from_name;
use crate::hub::json_kind;
use crate::records::{ModelRecord, ParametersSource, RELATIONS};
use crate::run::{ModelId, Problem, RecordFault, RecordKind};

/// The id of a Hub model object (`id`, or the legacy `modelId`), checked once, here,
/// where it comes in.
pub fn hub_item_id(item: &Value) -> Result<ModelId, RecordFault> {
    let fault = |problem| RecordFault::new(RecordKind::HubItem, problem);
    let Value::Object(map) = item else {
        return Err(fault(Problem::NotAnObject(json_kind(item))));
    };
    let raw = match map.get("id").or_else(|| map.get("modelId")) {
        None | Some(Value::Null) => return Err(fault(Problem::MissingId)),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(fault(Problem::NonStringId {
                kind: json_kind(other),
                id: other.to_string(),
            }))
        }
    };
    ModelId::parse(raw).map_err(|source| {
        fault(Problem::InvalidId {
            id: raw.clone(),
            source,
        })
    })
}

impl ModelRecord {
    /// Build a row from a Hub model object (list item or model info), whose id must be
    /// a model id ([`hub_item_id`]); every other field may be missing or of the wrong
    /// type, and is then left empty.
    pub fn from_hub(rank: u64, item: &Value) -> Result<Self, RecordFault> {
        let model_id = String::from(hub_item_id(item)?);
        let card = item.get("cardData");
        let tags: Vec<&str> = item
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let (base_models, base_model_relation) = lineage(card, &tags);
        let license = license_of(card, &tags);
        let (parameters, parameters_source) = parameter_count(item, &model_id);
        let config = item.get("config");
        let gated = match item.get("gated") {
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        Ok(Self {
            rank,
            author: str_field(item, "author")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    model_id
                        .split_once('/')
                        .map(|(o, _)| o)
                        .unwrap_or("")
                        .to_owned()
                }),
            license,
            downloads: item.get("downloads").and_then(Value::as_u64),
            downloads_all_time: item.get("downloadsAllTime").and_then(Value::as_u64),
            likes: item.get("likes").and_then(Value::as_u64),
            trending_score: item.get("trendingScore").and_then(Value::as_f64),
            created_at: str_field(item, "createdAt").unwrap_or_default().to_owned(),
            last_modified: str_field(item, "lastModified")
                .unwrap_or_default()
                .to_owned(),
            parameters,
            parameters_source,
            pipeline_tag: str_field(item, "pipeline_tag")
                .unwrap_or_default()
                .to_owned(),
            library_name: str_field(item, "library_name")
                .unwrap_or_default()
                .to_owned(),
            architectures: config
                .and_then(|c| c.get("architectures"))
                .map(string_or_list)
                .unwrap_or_default(),
            model_type: config
                .and_then(|c| str_field(c, "model_type"))
                .unwrap_or_default()
                .to_owned(),
            base_models,
            base_model_relation,
            gated,
            languages: card
                .and_then(|c| c.get("language"))
                .map(string_or_list)
                .unwrap_or_default(),
            tags: tags.join(";"),
            sha: str_field(item, "sha").unwrap_or_default().to_owned(),
            model_id,
        })
    }
}

/// The base models and how the model relates to them: the card's, else the tags'.
fn lineage(card: Option<&Value>, tags: &[&str]) -> (String, String) {
    let (base_from_tags, relation_from_tags) = lineage_from_tags(tags);
    let base_models = card
        .and_then(|c| c.get("base_model"))
        .map(string_or_list)
        .filter(|b| !b.is_empty())
        .unwrap_or(base_from_tags);
    let base_model_relation = card
        .and_then(|c| str_field(c, "base_model_relation"))
        .filter(|r| RELATIONS.contains(r))
        .map(str::to_owned)
        .unwrap_or(relation_from_tags);
    (base_models, base_model_relation)
}

/// The card's licence (or licences, joined with `;`), else the `license:` tag's.
fn license_of(card: Option<&Value>, tags: &[&str]) -> String {
    card.and_then(|c| c.get("license"))
        .map(string_or_list)
        .filter(|l| !l.is_empty())
        .or_else(|| {
            tags.iter()
                .find_map(|t| t.strip_prefix("license:"))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// The exact count from `safetensors.total`, else the nominal one in the name.
fn parameter_count(item: &Value, model_id: &str) -> (Option<u64>, ParametersSource) {
    let exact = item
        .get("safetensors")
        .and_then(|s| s.get("total"))
        .and_then(Value::as_u64);
    match exact {
        Some(total) => (Some(total), ParametersSource::Safetensors),
        None => match parameters_from_name(model_id) {
            Some(n) => (Some(n), ParametersSource::Name),
            None => (None, ParametersSource::None),
        },
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A card field that may be a string or a list of strings, joined with `;`.
fn string_or_list(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(";"),
        _ => String::new(),
    }
}

/// `base_model:<id>` names a parent; `base_model:<relation>:<id>` names how it relates.
fn lineage_from_tags(tags: &[&str]) -> (String, String) {
    let mut bases: Vec<&str> = Vec::new();
    let mut relation = String::new();
    for rest in tags.iter().filter_map(|t| t.strip_prefix("base_model:")) {
        match rest.split_once(':') {
            Some((rel, _)) if RELATIONS.contains(&rel) => {
                if relation.is_empty() {
                    relation = rel.to_owned();
                }
            }
            _ => {
                if !bases.contains(&rest) {
                    bases.push(rest);
                }
            }
        }
    }
    (bases.join(";"), relation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Check;

    fn realdata(name: &str) -> Value {
        let path = crate::testdata::realdata_dir().join("hub").join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).expect("realdata file")).unwrap()
    }

    #[test]
    fn full_model_info() {
        let item = realdata("model-info-OrionLLM--GRM-2.6-Opus.json");
        let r = ModelRecord::from_hub(1, &item).unwrap();
        assert_eq!(r.model_id, "OrionLLM/GRM-2.6-Opus");
        assert_eq!(r.author, "OrionLLM");
        assert_eq!(r.license, "apache-2.0");
        assert_eq!(r.parameters, Some(27_781_427_952));
        assert_eq!(r.parameters_source, ParametersSource::Safetensors);
        assert_eq!(r.base_model_relation, "merge");
        assert_eq!(
            r.base_models,
            "rico03/Qwen3.6-27B-Claude-Opus-Reasoning-Distilled;OrionLLM/GRM-2.6-Plus"
        );
        assert_eq!(r.gated, "false");
        assert_eq!(r.created_at, "2026-05-07T23:25:30.000Z");
        assert_eq!(r.architectures, "");
    }

    #[test]
    fn expanded_model_info() {
        let item = realdata("model-info-expand-Qwen--Qwen3-235B-A22B.json");
        let r = ModelRecord::from_hub(1, &item).unwrap();
        assert_eq!(r.author, "Qwen");
        assert_eq!(r.architectures, "Qwen3MoeForCausalLM");
        assert_eq!(r.model_type, "qwen3_moe");
        assert_eq!(r.parameters, Some(235_093_634_560));
        assert_eq!(r.downloads, Some(354_190));
    }

    #[test]
    fn lineage_and_license_from_tags_and_gating() {
        let item = serde_json::json!({
            "id": "meta-llama/Llama-3.1-8B-Instruct", "gated": "manual",
            "tags": ["en", "base_model:meta-llama/Llama-3.1-8B",
                     "base_model:finetune:meta-llama/Llama-3.1-8B", "license:llama3.1"]
        });
        let r = ModelRecord::from_hub(3, &item).unwrap();
        assert_eq!(r.base_models, "meta-llama/Llama-3.1-8B");
        assert_eq!(r.base_model_relation, "finetune");
        assert_eq!(r.license, "llama3.1");
        assert_eq!(r.gated, "manual");
        assert_eq!(r.parameters, Some(8_000_000_000));
        assert_eq!(r.parameters_source, ParametersSource::Name);
        assert_eq!(
            ModelRecord::from_hub(1, &serde_json::json!({"downloads": 3})),
            Err(RecordFault::new(RecordKind::HubItem, Problem::MissingId))
        );
    }

    #[test]
    fn items_without_a_model_id_are_refused_with_the_reason() {
        use serde_json::json;
        let refused = |item: Value| ModelRecord::from_hub(1, &item).unwrap_err().check();
        assert_eq!(refused(json!("a/b")), Check::NotAnObject);
        assert_eq!(refused(json!({"id": null})), Check::MissingId);
        assert_eq!(refused(json!({"id": 7})), Check::NonStringId);
        assert_eq!(refused(json!({"id": ["a/b"]})), Check::NonStringId);
        for bad in [
            "a/b/c",
            "org/",
            "",
            "a/\u{7}b",
            &format!("o/{}", "x".repeat(298)),
        ] {
            assert_eq!(refused(json!({ "id": bad })), Check::InvalidId, "{bad:?}");
        }
        let fault = hub_item_id(&json!({"id": 12345})).unwrap_err();
        assert_eq!(fault.id(), Some("12345"));
        assert_eq!(fault.to_string(), "`id` is a number, not a string");
        // The legacy field still names a model.
        let r = ModelRecord::from_hub(1, &json!({"modelId": "gpt2"})).unwrap();
        assert_eq!(r.model_id, "gpt2");
    }
}
