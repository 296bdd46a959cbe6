//! Which of the run's models a record from another score source names, by its id:
//! an exact, case-insensitive match, then the owner aliases written down in
//! `owner_aliases.tsv` (each line with where it was seen). Nothing else: no fuzzy match.
//! A record that names no model, or more than one (two Hub models whose ids differ only
//! by case), is not joined; [`IdMatch::reason`] says why, for `quality.json`.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::run::ModelId;

/// The table as kept in the repository.
const OWNER_ALIASES_TSV: &str = include_str!("owner_aliases.tsv");

/// One line of `owner_aliases.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerAlias {
    /// The owner as the other source writes it, lower-cased (`meta`).
    pub alias: String,
    /// The owner on the Hub (`meta-llama`).
    pub hub_owner: String,
    /// Where the alias was seen.
    pub source: String,
}

/// Every line of `owner_aliases.tsv`. A line that does not have its three fields is a
/// fault of the table itself, caught by its unit test; here it is left out.
pub fn owner_aliases() -> &'static [OwnerAlias] {
    static TABLE: OnceLock<Vec<OwnerAlias>> = OnceLock::new();
    TABLE.get_or_init(|| parse_aliases(OWNER_ALIASES_TSV).unwrap_or_default())
}

fn parse_aliases(tsv: &str) -> Result<Vec<OwnerAlias>, String> {
    tsv.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            match fields.as_slice() {
                [alias, owner, source]
                    if !alias.is_empty() && !owner.is_empty() && !source.is_empty() =>
                {
                    Ok(OwnerAlias {
                        alias: alias.to_lowercase(),
                        hub_owner: (*owner).to_owned(),
                        source: (*source).to_owned(),
                    })
                }
                _ => Err(format!(
                    "owner_aliases.tsv line {}: want alias, hub owner and source, tab-separated",
                    i + 1
                )),
            }
        })
        .collect()
}

/// How a record's id matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchRule {
    /// The same id, letter for letter.
    Exact,
    /// The same id but for case (`01-ai/yi-1.5-34b-chat` for `01-ai/Yi-1.5-34B-Chat`).
    Case,
    /// The owner is a written alias (`meta/…` for `meta-llama/…`), then case-insensitive.
    OwnerAlias { alias: String, hub_owner: String },
}

/// What a record's id names among the run's models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMatch {
    One {
        model: ModelId,
        rule: MatchRule,
    },
    /// No model of the run.
    None,
    /// More than one model of the run: never joined.
    Several(Vec<ModelId>),
}

impl IdMatch {
    /// Why a record is not joined; `None` when it is.
    pub fn reason(&self) -> Option<String> {
        match self {
            IdMatch::One { .. } => None,
            IdMatch::None => Some(
                "names no model of this run (exact, case-insensitive and written owner aliases tried)"
                    .to_owned(),
            ),
            IdMatch::Several(models) => Some(format!(
                "names {} models of this run that differ only by case ({}); not joined",
                models.len(),
                models
                    .iter()
                    .map(ModelId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// The run's models, by lower-cased id, for matching other sources' ids. Each id's
/// models are a sorted list without repeats (nearly always one model: a `BTreeSet`
/// would give each of the catalogue's ids a node of eleven).
#[derive(Debug, Clone, Default)]
pub struct IdMatcher {
    by_lower: HashMap<String, Vec<ModelId>>,
}

impl IdMatcher {
    pub fn new<'a>(models: impl IntoIterator<Item = &'a ModelId>) -> Self {
        let mut by_lower: HashMap<String, Vec<ModelId>> = HashMap::new();
        for model in models {
            let same = by_lower.entry(model.as_str().to_lowercase()).or_default();
            if let Err(at) = same.binary_search(model) {
                same.insert(at, model.clone());
            }
        }
        Self { by_lower }
    }

    /// The model `id` names: case-insensitively, then through a written owner alias.
    pub fn find(&self, id: &str) -> IdMatch {
        let id = id.trim();
        match self.lookup(id) {
            Some(found) => match found.as_slice() {
                [model] => IdMatch::One {
                    rule: if model.as_str() == id {
                        MatchRule::Exact
                    } else {
                        MatchRule::Case
                    },
                    model: model.clone(),
                },
                _ => IdMatch::Several(found),
            },
            None => self.through_alias(id),
        }
    }

    fn lookup(&self, id: &str) -> Option<Vec<ModelId>> {
        self.by_lower.get(&id.to_lowercase()).cloned()
    }

    fn through_alias(&self, id: &str) -> IdMatch {
        let Some((owner, name)) = id.split_once('/') else {
            return IdMatch::None;
        };
        let owner = owner.to_lowercase();
        let mut found: BTreeSet<ModelId> = BTreeSet::new();
        let mut rule = None;
        for alias in owner_aliases().iter().filter(|a| a.alias == owner) {
            if let Some(models) = self.lookup(&format!("{}/{name}", alias.hub_owner)) {
                found.extend(models);
                rule = Some(MatchRule::OwnerAlias {
                    alias: alias.alias.clone(),
                    hub_owner: alias.hub_owner.clone(),
                });
            }
        }
        let mut found = found.into_iter();
        match (found.next(), found.next(), rule) {
            (Some(model), None, Some(rule)) => IdMatch::One { model, rule },
            (Some(first), Some(second), Some(_)) => {
                IdMatch::Several([first, second].into_iter().chain(found).collect())
            }
            _ => IdMatch::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[&str]) -> Vec<ModelId> {
        ids.iter().map(|id| ModelId::parse(id).unwrap()).collect()
    }

    #[test]
    fn the_alias_table_reads_and_every_line_names_its_source() {
        let table = parse_aliases(OWNER_ALIASES_TSV).unwrap();
        assert_eq!(table.len(), owner_aliases().len());
        assert!(table.len() >= 4);
        for line in &table {
            assert!(line.source.contains("realdata/"), "{line:?}");
            assert_ne!(line.alias, line.hub_owner.to_lowercase(), "{line:?}");
        }
        assert!(parse_aliases("meta\tmeta-llama\n").is_err());
    }

    #[test]
    fn exact_and_case_insensitive_ids_match_one_model() {
        let models = ids(&["01-ai/Yi-1.5-34B-Chat", "google/gemma-3-27b-it"]);
        let matcher = IdMatcher::new(&models);
        assert_eq!(
            matcher.find("google/gemma-3-27b-it"),
            IdMatch::One {
                model: models[1].clone(),
                rule: MatchRule::Exact
            }
        );
        // The real EEE MMLU-Pro record's id (eee/examples/MMLU-Pro__01-ai__yi-1.5-34b-chat…).
        assert_eq!(
            matcher.find("01-ai/yi-1.5-34b-chat"),
            IdMatch::One {
                model: models[0].clone(),
                rule: MatchRule::Case
            }
        );
    }

    /// The first case: one EEE id names two Hub models by case. Neither is joined.
    #[test]
    fn an_id_naming_two_models_by_case_joins_neither() {
        let models = ids(&["CaseOrg/Twin-7B", "caseorg/twin-7b", "other/model"]);
        let matcher = IdMatcher::new(&models);
        for id in ["caseorg/twin-7b", "CaseOrg/Twin-7B", "CASEORG/TWIN-7B"] {
            let found = matcher.find(id);
            assert_eq!(
                found,
                IdMatch::Several(ids(&["CaseOrg/Twin-7B", "caseorg/twin-7b"]))
            );
            let reason = found.reason().unwrap();
            assert!(reason.contains("differ only by case"), "{reason}");
            assert!(
                reason.contains("CaseOrg/Twin-7B, caseorg/twin-7b"),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_written_owner_alias_matches() {
        let models = ids(&[
            "meta-llama/Llama-4-Scout-17B-16E-Instruct",
            "Qwen/Qwen3-235B-A22B-Instruct-2507",
        ]);
        let matcher = IdMatcher::new(&models);
        // The real ids of eee/examples/helm_capabilities__meta__… and of global-mmlu-lite.
        assert_eq!(
            matcher.find("meta/llama-4-scout-17b-16e-instruct"),
            IdMatch::One {
                model: models[0].clone(),
                rule: MatchRule::OwnerAlias {
                    alias: "meta".into(),
                    hub_owner: "meta-llama".into()
                }
            }
        );
        assert!(matches!(
            matcher.find("alibaba/qwen3-235b-a22b-instruct-2507"),
            IdMatch::One { .. }
        ));
    }

    /// The second case: an owner alias that is not written down is never guessed,
    /// however close the ids are.
    #[test]
    fn a_missing_owner_alias_joins_nothing() {
        let models = ids(&[
            "ibm-granite/granite-3.3-8b-instruct",
            "mistralai/Mistral-7B-v0.3",
        ]);
        let matcher = IdMatcher::new(&models);
        for id in [
            "ibm/granite-3.3-8b-instruct",
            "mistral/mistral-7b-v0.3",
            "mistralai/mistral-7b-v0.3-instruct",
            "anthropic/claude-3-7-sonnet-20250219",
            "no-slash",
        ] {
            let found = matcher.find(id);
            assert_eq!(found, IdMatch::None, "{id}");
            assert!(found.reason().unwrap().contains("names no model"), "{id}");
        }
    }

    #[test]
    fn an_alias_never_outranks_the_id_itself() {
        // `meta/x` is a model of the run in its own right: the alias is not tried.
        let models = ids(&["meta/x", "meta-llama/x"]);
        let matcher = IdMatcher::new(&models);
        assert_eq!(
            matcher.find("meta/x"),
            IdMatch::One {
                model: models[0].clone(),
                rule: MatchRule::Exact
            }
        );
    }
}
