//! What a run says at its end, on stderr: for a person, a short table (each stage's
//! time and counts in the manifest's words, the run the deltas are against, the files
//! to open next, and on failure what to run to resume); for machines, one JSON log line
//! with the same facts as fields.

use std::fmt::Write as _;

use crate::run::{Manifest, Stage};

/// The order the manifest's outcome words are shown in; any other word follows.
const OUTCOME_ORDER: [&str; 13] = [
    "collected",
    "rows",
    "found",
    "not_found",
    "mismatch",
    "error",
    "inherited",
    "dropped",
    "fixed",
    "models",
    "resumed",
    "not_looked_up",
    "skipped",
];

/// Everything the summary says about one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run_id: String,
    /// The run's folder: `./data/runs/<id>` or `s3://bucket/prefix/runs/<id>`.
    pub location: String,
    /// The stages this command runs, in order.
    pub planned: Vec<Stage>,
    /// This attempt's manifest, when it got as far as writing one.
    pub manifest: Option<Manifest>,
    /// The complete run the deltas are against.
    pub previous_run: Option<String>,
    /// The files to open next, by name, with where they are.
    pub files: Vec<(&'static str, String)>,
    pub seconds: f64,
    /// On failure, the command that resumes the run.
    pub resume: Option<String>,
}

impl RunSummary {
    /// The first line, kept as the job has always said it: `run <id> complete: <where>`.
    pub fn headline(&self) -> String {
        match &self.resume {
            None => format!("run {} complete: {}", self.run_id, self.location),
            Some(_) => match self.failed_stage() {
                Some(stage) => format!(
                    "run {} failed in stage {stage}: {}",
                    self.run_id, self.location
                ),
                None => format!("run {} failed: {}", self.run_id, self.location),
            },
        }
    }

    /// The first planned stage this attempt did not record: the one that failed.
    fn failed_stage(&self) -> Option<Stage> {
        let manifest = self.manifest.as_ref()?;
        self.planned
            .iter()
            .copied()
            .filter(|s| *s != Stage::Publish)
            .find(|s| manifest.stage(*s).is_none())
    }

    /// A stage's counts in the manifest's words: `212 found, 61 not_found`.
    fn outcomes(&self, stage: Stage) -> Option<(f64, String)> {
        let summary = self.manifest.as_ref()?.stage(stage)?;
        let mut words: Vec<(&String, &u64)> = summary.outcomes.iter().collect();
        words.sort_by_key(|(word, _)| {
            OUTCOME_ORDER
                .iter()
                .position(|w| w == word)
                .unwrap_or(OUTCOME_ORDER.len())
        });
        let said = words
            .iter()
            .map(|(word, n)| format!("{n} {word}"))
            .collect::<Vec<_>>()
            .join(", ");
        Some((summary.seconds, said))
    }

    /// The table for a person.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} ({})",
            self.headline(),
            crate::progress::short_duration(std::time::Duration::from_secs_f64(
                self.seconds.max(0.0)
            ))
        );
        let failed = self.resume.as_ref().and(self.failed_stage());
        for stage in self.planned.iter().filter(|s| **s != Stage::Publish) {
            let (time, said) = match self.outcomes(*stage) {
                Some((seconds, said)) => (format!("{seconds:.1}s"), said),
                None if Some(*stage) == failed => ("-".into(), "failed".into()),
                None => ("-".into(), "not run".into()),
            };
            let _ = writeln!(out, "  {:<9}{time:>7}  {said}", stage.as_str());
        }
        if self.planned.contains(&Stage::Prepare) && self.resume.is_none() {
            let deltas = match &self.previous_run {
                Some(run) => format!("against run {run}"),
                None => "none (no earlier complete run in this output)".into(),
            };
            let _ = writeln!(out, "  {:<9}{:>7}  {deltas}", "deltas", "");
        }
        for (name, location) in &self.files {
            let _ = writeln!(out, "  {name:<16}  {location}");
        }
        if let Some(resume) = &self.resume {
            let _ = writeln!(out, "  to resume: {resume}");
        }
        out
    }

    /// The same facts as one log line, for machines.
    pub fn log(&self) {
        let stages = self
            .planned
            .iter()
            .filter_map(|s| {
                self.outcomes(*s)
                    .map(|(seconds, said)| format!("{s} {seconds:.1}s: {said}"))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let files = self
            .files
            .iter()
            .map(|(_, location)| location.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let previous_run = self.previous_run.as_deref().unwrap_or("");
        match &self.resume {
            None => tracing::info!(
                run.id = %self.run_id,
                seconds = self.seconds,
                stages,
                previous_run,
                files,
                "{}",
                self.headline()
            ),
            Some(resume) => tracing::info!(
                run.id = %self.run_id,
                seconds = self.seconds,
                stages,
                resume,
                "{}",
                self.headline()
            ),
        }
    }
}

/// The command that resumes this run: the same command line with `--run-id <id>`.
pub fn resume_command(args: &[String], run_id: &str) -> String {
    let mut out = vec!["hfharvest".to_owned()];
    let mut skip_next = false;
    for arg in args.iter().skip(1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        if arg == "--run-id" {
            skip_next = true;
            continue;
        }
        if arg.starts_with("--run-id=") || arg == "--dry-run" {
            continue;
        }
        out.push(shell_quote(arg));
    }
    out.push("--run-id".into());
    out.push(shell_quote(run_id));
    out.join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{RunStatus, StageSummary};

    fn manifest(stages: &[(Stage, &[(&str, u64)])]) -> Manifest {
        let mut m = Manifest::start("r1", "digest".into(), "2026-11-25T00:00:00Z".into());
        m.status = RunStatus::Complete;
        for (stage, outcomes) in stages {
            m.stages.push(StageSummary {
                stage: *stage,
                seconds: 1.25,
                outcomes: outcomes
                    .iter()
                    .map(|(w, n)| ((*w).to_owned(), *n))
                    .collect(),
                requests: Default::default(),
            });
        }
        m
    }

    #[test]
    fn a_complete_run_names_counts_deltas_and_files() {
        let summary = RunSummary {
            run_id: "r1".into(),
            location: "./data/runs/r1".into(),
            planned: Stage::ALL.to_vec(),
            manifest: Some(manifest(&[
                (Stage::Models, &[("collected", 300)]),
                (
                    Stage::Scores,
                    &[("not_found", 61), ("found", 212), ("mismatch", 27)],
                ),
                (Stage::Prepare, &[("rows", 300), ("inherited", 14)]),
                (Stage::Report, &[("models", 300)]),
            ])),
            previous_run: Some("r0".into()),
            files: vec![("dataset.csv", "./data/runs/r1/dataset.csv".into())],
            seconds: 4.0,
            resume: None,
        };
        let text = summary.render();
        assert!(
            text.starts_with("run r1 complete: ./data/runs/r1 (4s)\n"),
            "{text}"
        );
        assert!(
            text.contains("  scores      1.2s  212 found, 61 not_found, 27 mismatch\n"),
            "{text}"
        );
        assert!(text.contains("300 rows, 14 inherited"), "{text}");
        assert!(text.contains("against run r0"), "{text}");
        assert!(
            text.contains("dataset.csv       ./data/runs/r1/dataset.csv"),
            "{text}"
        );
        assert!(!text.contains("publish"), "{text}");
    }

    #[test]
    fn a_failed_run_names_its_stage_and_how_to_resume() {
        let mut m = manifest(&[(Stage::Models, &[("collected", 300)])]);
        m.status = RunStatus::Failed;
        let summary = RunSummary {
            run_id: "r1".into(),
            location: "./data/runs/r1".into(),
            planned: Stage::ALL.to_vec(),
            manifest: Some(m),
            previous_run: None,
            files: vec![],
            seconds: 2.0,
            resume: Some("hfharvest run --run-id r1".into()),
        };
        let text = summary.render();
        assert!(
            text.starts_with("run r1 failed in stage scores: ./data/runs/r1"),
            "{text}"
        );
        assert!(text.contains("  scores         -  failed\n"), "{text}");
        assert!(text.contains("  prepare        -  not run\n"), "{text}");
        assert!(
            text.contains("to resume: hfharvest run --run-id r1"),
            "{text}"
        );
    }

    #[test]
    fn the_resume_command_keeps_the_arguments_and_sets_the_run_id() {
        let args: Vec<String> = [
            "target/release/hfharvest",
            "run",
            "--run-id",
            "old",
            "--limit",
            "5",
            "--out",
            "my dir",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            resume_command(&args, "r1"),
            "hfharvest run --limit 5 --out 'my dir' --run-id r1"
        );
    }
}
