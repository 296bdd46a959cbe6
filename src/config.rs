//! Layered settings: built-in defaults, then a TOML file (`--config FILE` or
//! `HFHARVEST_CONFIG`), then `HFHARVEST__SECTION__KEY` environment variables, then CLI
//! flags. Credentials are not settings: they come from the environment only.
//!
//! Each section belongs to the module that uses it and checks itself; this module only
//! merges the layers and says which key, from which source, is wrong.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat, Map, Source, Value, ValueKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::evals::EvalsSettings;
use crate::http::HttpSettings;
use crate::hub::HubSettings;
use crate::run::InvalidSetting;
use crate::scores::LeaderboardSettings;
use crate::store::s3::S3Settings;
use crate::store::OutputSettings;
use crate::telemetry::TelemetrySettings;

pub const ENV_PREFIX: &str = "HFHARVEST";
pub const CONFIG_FILE_ENV: &str = "HFHARVEST_CONFIG";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub output: OutputSettings,
    pub hub: HubSettings,
    pub http: HttpSettings,
    pub leaderboard: LeaderboardSettings,
    pub evals: EvalsSettings,
    pub s3: S3Settings,
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("unknown config key `{key}` in {origin}")]
    UnknownKey { key: String, origin: String },
    #[error("config: {0}")]
    Invalid(String),
    /// A value a section refused, with the layer that set it.
    #[error("config: {setting} (set by {origin})")]
    Setting {
        setting: InvalidSetting,
        origin: String,
    },
}

/// One CLI flag that overrides a setting, e.g. `("hub.limit", 100)`.
pub type Override = (&'static str, Value);

impl Settings {
    /// Load the layers in order. `file` falls back to `HFHARVEST_CONFIG`.
    pub fn load(file: Option<&Path>, overrides: Vec<Override>) -> Result<Self, ConfigError> {
        let env_file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        let layer = match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::File {
                    path,
                    message: "no such file".into(),
                })
            }
            // A path source (not a string) makes `config` name the file in type errors.
            Some(path) => Some(FileLayer {
                source: Box::new(File::from(path.as_path()).format(FileFormat::Toml)),
                path,
            }),
            None => None,
        };
        Self::load_layers(layer, overrides)
    }

    /// Settings from TOML text in place of the file layer, with the same checks (the
    /// environment still applies); `origin` names it in errors. For tests and fuzzing.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let layer = FileLayer {
            source: Box::new(File::from_str(text, FileFormat::Toml)),
            path: PathBuf::from(origin),
        };
        Self::load_layers(Some(layer), Vec::new())
    }

    fn load_layers(file: Option<FileLayer>, overrides: Vec<Override>) -> Result<Self, ConfigError> {
        let defaults = Config::try_from(&Settings::default())
            .map_err(|e| ConfigError::Invalid(format!("built-in defaults: {e}")))?;
        let mut known = defaults
            .cache
            .clone()
            .into_table()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        // `config` drops keys whose default is an empty list (`evals.benchmarks`);
        // they are still keys.
        if let Ok(serde_json::Value::Object(all)) = serde_json::to_value(Settings::default()) {
            add_empty_lists(&mut known, &all);
        }

        let mut builder = Config::builder().add_source(defaults);
        let mut origins = Origins::default();
        let file = file.map(|FileLayer { source, path }| (source, path));
        if let Some((source, path)) = &file {
            let table = source.collect().map_err(|e| ConfigError::File {
                path: path.clone(),
                message: e.to_string(),
            })?;
            check_known_keys(&known, &table, "", &path.display().to_string())?;
            origins.file = Some((path.display().to_string(), table));
            builder = builder.add_source(vec![source.clone_into_box()]);
        }
        let file = file.map(|(_, path)| path);
        let env = environment();
        let env_table = env
            .collect()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        check_known_keys(&known, &env_table, "", "the environment (HFHARVEST__*)")?;
        origins.env = env_table;
        builder = builder.add_source(env);
        if let Ok(endpoint) = std::env::var("HF_ENDPOINT") {
            if !endpoint.trim().is_empty() {
                builder = builder
                    .set_override("hub.endpoint", endpoint.trim())
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            }
        }
        for (key, value) in overrides {
            origins.flags.push(key);
            builder = builder
                .set_override(key, value)
                .map_err(|e| ConfigError::Invalid(format!("--flag for `{key}`: {e}")))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError::Invalid(describe_origin(e, file.as_deref())))?;
        settings
            .validate()
            .map_err(|setting| ConfigError::Setting {
                origin: origins.of(&setting.key),
                setting,
            })?;
        Ok(settings)
    }

    /// Every section checks its own values.
    fn validate(&self) -> Result<(), InvalidSetting> {
        self.output.validate()?;
        self.hub.validate()?;
        self.http.validate()?;
        self.leaderboard.validate()?;
        self.evals.validate()?;
        self.s3.validate()?;
        self.telemetry.validate()
    }

    /// A digest of the effective settings for the run manifest. Settings hold no secrets.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let hash = Sha256::digest(&json);
        hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }
}

/// The file layer: its source, and the path that names it.
struct FileLayer {
    source: Box<dyn Source + Send + Sync>,
    path: PathBuf,
}

/// Which layer set which key, to say where a refused value came from.
#[derive(Default)]
struct Origins {
    file: Option<(String, Map<String, Value>)>,
    env: Map<String, Value>,
    flags: Vec<&'static str>,
}

impl Origins {
    /// The last layer that set `key` (`hub.limit`): flags win over the environment,
    /// the environment over the file, the file over the defaults.
    fn of(&self, key: &str) -> String {
        if self.flags.contains(&key) {
            return "a command-line flag".into();
        }
        if self.env.contains_key(key) {
            return format!(
                "the environment ({ENV_PREFIX}__{})",
                key.to_uppercase().replace('.', "__")
            );
        }
        if let Some((path, table)) = &self.file {
            if lookup(table, key) {
                return path.clone();
            }
        }
        if key == "hub.endpoint" && std::env::var_os("HF_ENDPOINT").is_some() {
            return "HF_ENDPOINT".into();
        }
        "the built-in default".into()
    }
}

/// Whether a nested table (a file's) has a dotted key.
fn lookup(table: &Map<String, Value>, key: &str) -> bool {
    let mut node = table;
    let mut segments = key.split('.').peekable();
    while let Some(segment) = segments.next() {
        match node.get(segment) {
            Some(_) if segments.peek().is_none() => return true,
            Some(Value {
                kind: ValueKind::Table(t),
                ..
            }) => node = t,
            _ => return false,
        }
    }
    false
}

/// Put back the keys whose default is an empty list, which `config` leaves out.
fn add_empty_lists(
    known: &mut Map<String, Value>,
    defaults: &serde_json::Map<String, serde_json::Value>,
) {
    for (key, value) in defaults {
        match value {
            serde_json::Value::Array(items) if items.is_empty() => {
                known
                    .entry(key.clone())
                    .or_insert_with(|| Value::from(Vec::<Value>::new()));
            }
            serde_json::Value::Object(child) => {
                if let Some(Value {
                    kind: ValueKind::Table(table),
                    ..
                }) = known.get_mut(key)
                {
                    add_empty_lists(table, child);
                }
            }
            _ => {}
        }
    }
}

fn environment() -> Environment {
    Environment::with_prefix(ENV_PREFIX)
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
}

/// `config` reports unknown fields without saying where they came from; we check each
/// source's keys against the defaults ourselves so the message names key and source.
fn check_known_keys(
    known: &Map<String, Value>,
    given: &Map<String, Value>,
    parent: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    // The environment source flattens keys ("hub.limit"); files nest them.
    for (key, value) in given {
        let path = if parent.is_empty() {
            key.clone()
        } else {
            format!("{parent}.{key}")
        };
        let mut node = known;
        let mut found = None;
        let segments: Vec<&str> = key.split('.').collect();
        for (i, segment) in segments.iter().enumerate() {
            match node.get(*segment) {
                Some(v) if i + 1 == segments.len() => found = Some(v),
                Some(Value {
                    kind: ValueKind::Table(t),
                    ..
                }) => node = t,
                _ => break,
            }
        }
        let Some(default) = found else {
            return Err(ConfigError::UnknownKey {
                key: path,
                origin: origin.into(),
            });
        };
        if let (ValueKind::Table(known_child), ValueKind::Table(given_child)) =
            (&default.kind, &value.kind)
        {
            if !known_child.is_empty() {
                check_known_keys(known_child, given_child, &path, origin)?;
            }
        }
    }
    Ok(())
}

fn describe_origin(error: config::ConfigError, file: Option<&Path>) -> String {
    let text = error.to_string();
    match file {
        Some(path) if !text.contains(" in ") => {
            format!(
                "{text} (sources: defaults, {}, environment, flags)",
                path.display()
            )
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_text_goes_through_the_same_checks_as_a_file() {
        let example = include_str!("../hfharvest.example.toml");
        assert_eq!(
            Settings::from_toml(example, "example.toml")
                .unwrap()
                .hub
                .limit,
            100
        );
        let err = Settings::from_toml("[http]\ntimeout_secs = nan\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("`http.timeout_secs`"), "{err}");
        assert!(err.to_string().contains("x.toml"), "{err}");
        let err = Settings::from_toml("[hub]\nlimt = 1\n", "x.toml").unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown config key `hub.limt` in x.toml"),
            "{err}"
        );
        assert!(Settings::from_toml("[hub", "x.toml").is_err());
    }
}
