//! `--dry-run`: the stages that would run, then the effective settings as TOML, in the
//! form of `hfharvest.example.toml`, so the output can be read by a person, parsed by a
//! test, or saved as a config file.

use std::fmt::Write as _;

use crate::config::Settings;
use crate::run::Stage;
use crate::scores::SourceKind;

/// What one stage would do, in a few words.
fn describe(stage: Stage, settings: &Settings) -> String {
    match stage {
        Stage::Models => format!(
            "the top {} models by {} from {} into models.csv",
            settings.hub.limit, settings.hub.sort, settings.hub.endpoint
        ),
        Stage::Scores => match settings.leaderboard.source {
            SourceKind::None => "skipped (leaderboard.source = \"none\")".into(),
            SourceKind::Datasets => format!(
                "leaderboard scores from the published data ({} API) into leaderboard.csv",
                serde_json::to_value(settings.leaderboard.datasets_api)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            SourceKind::Browser => format!(
                "leaderboard scores with {} browser session(s), {} models a search, into leaderboard.csv",
                settings.leaderboard.browser_sessions, settings.leaderboard.batch_size
            ),
        },
        Stage::Evals if !settings.evals.enabled => "skipped (evals.enabled = false)".into(),
        Stage::Evals => "the Hub's evaluation results (evalResults, the official benchmarks' leaderboards, model cards) into evals.csv".into(),
        Stage::Prepare => "dataset.csv and quality.json".into(),
        Stage::Report => "report.html".into(),
        Stage::Publish => "latest.json, once every stage is done".into(),
    }
}

/// The plan as TOML comments, then the settings.
pub fn render(command: &str, stages: &[Stage], settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# hfharvest {command} --dry-run: nothing ran. It would run, in order:"
    );
    for stage in stages {
        let _ = writeln!(
            out,
            "#   {:<8} {}",
            stage.as_str(),
            describe(*stage, settings)
        );
    }
    let run = settings
        .output
        .run_id
        .clone()
        .unwrap_or_else(|| "<a new run id>".into());
    let _ = writeln!(
        out,
        "# into {}/runs/{run}/\n#\n# The effective settings (defaults, then the config file, the environment and\n# the flags), in the form of hfharvest.example.toml:\n",
        settings.output.dir.trim_end_matches('/')
    );
    out.push_str(&settings_toml(settings));
    out
}

/// The settings as TOML, section by section, with each unset key as a comment (TOML
/// has no null), as the example file shows them.
pub fn settings_toml(settings: &Settings) -> String {
    let shown = toml::to_string_pretty(settings)
        .unwrap_or_else(|e| format!("# the settings could not be shown as TOML: {e}\n"));
    let json = serde_json::to_value(settings).unwrap_or_default();
    let mut out = String::new();
    let mut section: Option<String> = None;
    let close = |out: &mut String, section: &Option<String>| {
        let Some(name) = section else { return };
        let unset = json[name.as_str()]
            .as_object()
            .map(|keys| {
                keys.iter()
                    .filter(|(_, v)| v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let trimmed = out.trim_end_matches('\n').len();
        out.truncate(trimmed);
        out.push('\n');
        for key in unset {
            let _ = writeln!(out, "# {key} is unset");
        }
        out.push('\n');
    };
    for line in shown.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            close(&mut out, &section);
            section = Some(name.to_owned());
        }
        out.push_str(line);
        out.push('\n');
    }
    close(&mut out, &section);
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_read_back_as_the_same_settings() {
        let settings = Settings::default();
        let text = render("run", &Stage::ALL, &settings);
        let back: Settings = toml::from_str(&text).expect("valid TOML");
        assert_eq!(back, settings);
        assert!(text.contains("[hub]\n"), "{text}");
        assert!(text.contains("# run_id is unset\n"), "{text}");
        assert!(
            text.contains("#   scores   leaderboard scores from the published data"),
            "{text}"
        );
    }
}
