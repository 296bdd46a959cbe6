//! Identifiers that flow through every stage: a model id from the Hub and a run id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest model id we accept. Hub ids are far shorter; the bound keeps a hostile
/// input from becoming a huge object key.
const MAX_MODEL_ID_LEN: usize = 256;

/// A Hugging Face model id such as `meta-llama/Llama-3.1-8B-Instruct` (or a legacy
/// id without an owner, such as `gpt2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid model id {id:?}: {reason}")]
pub struct InvalidModelId {
    pub id: String,
    pub reason: &'static str,
}

impl ModelId {
    pub fn parse(raw: &str) -> Result<Self, InvalidModelId> {
        let id = raw.trim();
        let invalid = |reason| InvalidModelId {
            id: raw.chars().take(80).collect(),
            reason,
        };
        if id.is_empty() {
            return Err(invalid("empty"));
        }
        if id.len() > MAX_MODEL_ID_LEN {
            return Err(invalid("longer than 256 bytes"));
        }
        if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("contains whitespace or control characters"));
        }
        if id.matches('/').count() > 1 {
            return Err(invalid("has more than one '/'"));
        }
        if id.starts_with('/') || id.ends_with('/') {
            return Err(invalid("has an empty owner or name"));
        }
        if id.split('/').any(|part| part == "." || part == "..") {
            return Err(invalid("has a '.' or '..' segment"));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owner part (`meta-llama`), or empty for a legacy id without one.
    pub fn owner(&self) -> &str {
        self.0.split_once('/').map(|(owner, _)| owner).unwrap_or("")
    }

    /// The name part (`Llama-3.1-8B-Instruct`).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The key used to join model ids across sources: the Hub treats ids case-insensitively.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether `other` names the same model (exact, case-insensitive).
    pub fn same_model(&self, other: &str) -> bool {
        self.0.to_lowercase() == other.trim().to_lowercase()
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ModelId {
    type Error = InvalidModelId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ModelId> for String {
    fn from(id: ModelId) -> Self {
        id.0
    }
}

/// The id of one harvest run; names the folder `runs/<run-id>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid run id {0:?}: use 1-64 characters from A-Z a-z 0-9 . _ - , not starting with '.'")]
pub struct InvalidRunId(pub String);

impl RunId {
    pub fn parse(raw: &str) -> Result<Self, InvalidRunId> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && !raw.starts_with('.')
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidRunId(raw.chars().take(80).collect()))
        }
    }

    /// A UTC timestamp id such as `20261124T223000Z`; sorts in time order.
    pub fn now() -> Self {
        Self(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RunId {
    type Error = InvalidRunId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids() {
        let id = ModelId::parse(" meta-llama/Llama-3.1-8B ").unwrap();
        assert_eq!(id.as_str(), "meta-llama/Llama-3.1-8B");
        assert_eq!(id.owner(), "meta-llama");
        assert_eq!(id.name(), "Llama-3.1-8B");
        assert!(id.same_model("META-LLAMA/llama-3.1-8b"));
        assert!(!id.same_model("meta-llama/Llama-3.1-8B-Instruct"));
        assert_eq!(ModelId::parse("gpt2").unwrap().owner(), "");
        assert!(ModelId::parse("ünïcode/模型-7B").is_ok());
        for bad in ["", "a/b/c", "/x", "x/", "a b/c", "../x", "a/\u{7}"] {
            assert!(ModelId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn run_ids() {
        assert!(RunId::parse("20261124T223000Z").is_ok());
        assert!(RunId::parse("nightly-1.2_x").is_ok());
        for bad in ["", ".hidden", "a/b", "x y", &"a".repeat(65)] {
            assert!(RunId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(RunId::parse(RunId::now().as_str()).is_ok());
    }
}
