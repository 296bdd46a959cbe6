//! The layering holds: no module of the library uses one above it (ARCHITECTURE.md).
//!
//! Every `crate::…`, `super::…` and `self::…` path in `src/` is resolved to the module
//! it names, strings included (`#[serde(with = "crate::formats::csv::text")]` is a real use),
//! comments excluded. A path into a module of a higher layer, or into another module of
//! the same layer, is a violation. Inside a stage, its sources sit below its driver.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, bottom first. A module may use only lower layers.
const LAYERS: &[&[&str]] = &[
    // The run's own types, and the file formats of its tables.
    &["run", "formats", "testdata"],
    &["telemetry", "progress"],
    &["http", "store"],
    // The Hub API, which two stages read.
    &["hub"],
    // What the stages share: the records of every artifact, and the lookup engine.
    &["records", "lookup"],
    // The stage contract.
    &["stage"],
    // The stages: one layer, so no stage imports another; they meet in `records`.
    &["models", "scores", "evals", "prepare", "report", "publish"],
    &["config"],
    &["error"],
    &["pipeline"],
    &["cli"],
];

/// Inside a module: its parts by layer. `mod.rs` (the module's face) is not checked.
const INNER_LAYERS: &[(&str, &[&[&str]])] = &[
    (
        "scores",
        &[&["rows", "settings"], &["datasets", "browser"], &["stage"]],
    ),
    ("browser", &[&["table", "driver"], &["page"], &["pool"]]),
    (
        "models",
        &[&["params"], &["record"], &["harvest"], &["stage"]],
    ),
    ("evals", &[&["results"], &["source"], &["stage"]]),
    ("prepare", &[&["rules"], &["hub_columns", "join"]]),
    (
        "records",
        &[
            &["models", "evals", "history"],
            &["dataset"],
            &["scores"],
            &["models_columns", "scores_columns", "dataset_columns"],
        ],
    ),
    (
        "lookup",
        &[&["checkpoint", "ratio"], &["source"], &["drive"]],
    ),
    ("pipeline", &[&["context", "latest", "metrics"]]),
];

fn rank(layers: &[&[&str]], name: &str) -> Option<usize> {
    layers.iter().position(|layer| layer.contains(&name))
}

/// A file's module path: `src/scores/browser/page.rs` → `scores::browser::page`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The text with comments blanked out (strings kept).
fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn ident_at(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// The module paths a file names, each as absolute segments from the crate root.
fn referenced_paths(module: &[String], source: &str) -> Vec<Vec<String>> {
    let text = strip_comments(source);
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for start in 0..text.len() {
        if !text.is_char_boundary(start) {
            continue;
        }
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &text[start..];
        let (base, mut after): (Vec<String>, &str) = if let Some(r) = rest.strip_prefix("crate::") {
            (Vec::new(), r)
        } else if rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut r = rest;
            while let Some(next) = r.strip_prefix("super::") {
                base.pop();
                r = next;
            }
            (base, r)
        } else if let Some(r) = rest.strip_prefix("self::") {
            (module.to_vec(), r)
        } else {
            continue;
        };
        // `crate::{a, b::c}`: each item of the group.
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let (name, _) = ident_at(item.trim());
                if !name.is_empty() {
                    let mut path = base.clone();
                    path.push(name.to_owned());
                    out.push(path);
                }
            }
            continue;
        }
        let mut path = base;
        loop {
            let (name, tail) = ident_at(after);
            if name.is_empty() {
                break;
            }
            path.push(name.to_owned());
            match tail.strip_prefix("::") {
                Some(next) if !next.starts_with('{') => after = next,
                _ => break,
            }
        }
        out.push(path);
    }
    out
}

/// Violations in a tree of `(path relative to src/, text)`.
fn violations(files: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut found = Vec::new();
    for (relative, source) in files {
        let module = module_path(relative);
        let Some(own) = module.first() else {
            continue; // lib.rs and main.rs: the crate's face and the binary, at the edge
        };
        let Some(own_rank) = rank(LAYERS, own) else {
            found.push(format!(
                "{}: module `{own}` has no layer",
                relative.display()
            ));
            continue;
        };
        for path in referenced_paths(&module, source) {
            let Some(target) = path.first() else { continue };
            if target == own {
                if let Some(v) = inner_violation(&module, &path) {
                    found.push(format!("{}: {v}", relative.display()));
                }
                continue;
            }
            match rank(LAYERS, target) {
                Some(r) if r < own_rank => {}
                Some(_) => found.push(format!(
                    "{}: `{own}` uses `{}`, which is not below it",
                    relative.display(),
                    path.join("::")
                )),
                None => {} // an item of the crate root (`crate::Error`, re-exported)
            }
        }
    }
    found
}

/// Within one module, at any depth: a part using a part above it.
fn inner_violation(module: &[String], path: &[String]) -> Option<String> {
    for depth in 0..module.len().saturating_sub(1) {
        if path.get(depth) != Some(&module[depth]) {
            return None;
        }
        let Some((_, layers)) = INNER_LAYERS.iter().find(|(m, _)| *m == module[depth]) else {
            continue;
        };
        let own = &module[depth + 1];
        let target = path.get(depth + 1)?;
        if target == own {
            continue;
        }
        let (Some(own_rank), Some(target_rank)) = (rank(layers, own), rank(layers, target)) else {
            return None; // an item of the module's face (mod.rs), or an unlisted part
        };
        if target_rank >= own_rank {
            return Some(format!(
                "`{}` uses `{}`, which is not below it",
                module.join("::"),
                path.join("::")
            ));
        }
        return None;
    }
    None
}

fn source_tree() -> BTreeMap<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                files.insert(path.strip_prefix(&src).unwrap().to_path_buf(), text);
            }
        }
    }
    files
}

#[test]
fn no_module_uses_one_above_it() {
    let files = source_tree();
    assert!(files.len() > 20, "the source tree was not found");
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "imports that run up the layering (see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_wrong_imports() {
    let tree = |files: &[(&str, &str)]| -> BTreeMap<PathBuf, String> {
        files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect()
    };
    // A stage reaching up into the orchestrator, in each form a path can take.
    for text in [
        "use crate::pipeline::RunContext;",
        "use crate::{run::ModelId, pipeline::RunContext};",
        "fn f(c: &crate::pipeline::RunContext) {}",
        "#[serde(with = \"crate::config::something\")]",
    ] {
        let found = violations(&tree(&[("models/stage.rs", text)]));
        assert_eq!(found.len(), 1, "{text}: {found:?}");
    }
    // Two modules of one layer; one stage importing another.
    assert_eq!(
        violations(&tree(&[("store/mod.rs", "use crate::http::HttpClient;")])).len(),
        1
    );
    assert_eq!(
        violations(&tree(&[("evals/stage.rs", "use crate::scores::Lookup;")])).len(),
        1
    );
    assert_eq!(
        violations(&tree(&[("lookup/drive.rs", "use crate::scores::Lookup;")])).len(),
        1
    );
    // A source using its stage's driver, and a page using its pool.
    assert_eq!(
        violations(&tree(&[(
            "scores/browser/mod.rs",
            "use super::stage::ScoresOutcome;"
        )]))
        .len(),
        1
    );
    assert_eq!(
        violations(&tree(&[(
            "scores/browser/page.rs",
            "use super::pool::Worker;"
        )]))
        .len(),
        1
    );
    // Allowed: downward, within a part, the module's face, comments.
    let fine = tree(&[
        (
            "scores/stage.rs",
            "use super::browser::BrowserSource; use super::{ScoresError, Lookup};",
        ),
        (
            "scores/browser/pool.rs",
            "use super::page::lookup; use crate::lookup::CheckpointSink;",
        ),
        (
            "pipeline/mod.rs",
            "use crate::{models, scores}; use crate::error::Error;",
        ),
        (
            "evals/stage.rs",
            "use crate::records::LeaderboardRecord; use crate::lookup::drive;",
        ),
        (
            "run/layout.rs",
            "//! see [`crate::store::RunStore`]\nuse super::Stage;",
        ),
    ]);
    assert_eq!(violations(&fine), Vec::<String>::new());
}
