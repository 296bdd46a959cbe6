//! Unit tests of the join: canonical rows, inheritance, deltas, quality checks, CSV safety.

use super::*;
use crate::records::dataset::{JoinStatus, LicenseFamily, Relation};
use crate::records::history::{Baselines, PreviousRun};
use crate::records::{read_dataset_csv, read_leaderboard_csv, read_models_csv, write_dataset_csv};
use crate::records::{LeaderboardRecord, MatchStatus, ModelRecord, ParametersSource};
use crate::run::{Check, Stage};

fn model(rank: u64, id: &str) -> ModelRecord {
    ModelRecord {
        rank,
        model_id: id.into(),
        author: id.split('/').next().unwrap_or("").into(),
        license: "apache-2.0".into(),
        downloads: Some(3000),
        likes: Some(10),
        created_at: "2025-01-01T00:00:00.000Z".into(),
        parameters: Some(7_240_000_000),
        parameters_source: ParametersSource::Safetensors,
        ..Default::default()
    }
}

fn found(id: &str, precision: &str, average: f64) -> LeaderboardRecord {
    LeaderboardRecord {
        model_id: id.into(),
        status: Some(MatchStatus::Found),
        source: "datasets".into(),
        eval_name: format!("{id}_{precision}_sha_True"),
        precision: precision.into(),
        weight_type: "Original".into(),
        chat_template: Some(true),
        average: Some(average),
        ifeval: Some(50.0),
        bbh: Some(40.0),
        math_lvl5: Some(10.0),
        gpqa: Some(5.0),
        musr: Some(8.0),
        mmlu_pro: Some(30.0),
        params_b: Some(7.24),
        submission_date: "2024-10-01".into(),
        ..Default::default()
    }
}

fn status_row(id: &str, status: MatchStatus) -> LeaderboardRecord {
    LeaderboardRecord {
        model_id: id.into(),
        status: Some(status),
        ..Default::default()
    }
}

fn as_of() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2025-03-21T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn run(
    models: &[ModelRecord],
    lb: &[LeaderboardRecord],
    previous: Option<&PreviousRun>,
) -> Prepared {
    prepare(&PrepareInputs {
        run_id: "r2",
        models,
        quarantined: &[],
        leaderboard: Some(lb),
        previous: &Baselines {
            day: previous.cloned(),
            ..Baselines::default()
        },
        as_of: as_of(),
    })
}

fn by_id<'a>(p: &'a Prepared, id: &str) -> &'a DatasetRow {
    p.rows
        .iter()
        .find(|r| r.model_id == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn join_is_case_insensitive_and_carries_the_status() {
    let models = [
        model(1, "Org/Found-7B"),
        model(2, "org/gone"),
        model(3, "org/other"),
        model(4, "org/never"),
    ];
    let lb = [
        found("org/found-7b", "float16", 20.0),
        found("ORG/FOUND-7B", "bfloat16", 21.0),
        status_row("org/gone", MatchStatus::NotFound),
        status_row("org/other", MatchStatus::Mismatch),
    ];
    let p = run(&models, &lb, None);
    let f = by_id(&p, "Org/Found-7B");
    assert_eq!(f.join_status, JoinStatus::Found);
    assert_eq!(f.score_source, "own");
    assert_eq!(f.leaderboard_rows, 2);
    assert_eq!(
        f.precision, "bfloat16",
        "the canonical row is the bfloat16 one"
    );
    assert!(f.canonical_eval.contains("bfloat16"));
    assert_eq!(f.average, Some(21.0));
    assert_eq!(by_id(&p, "org/gone").join_status, JoinStatus::NotFound);
    assert_eq!(by_id(&p, "org/other").join_status, JoinStatus::Mismatch);
    assert_eq!(by_id(&p, "org/never").join_status, JoinStatus::NotLookedUp);
    assert_eq!(by_id(&p, "org/gone").score_source, "none");
    let c = &p.quality.coverage;
    assert_eq!(
        (c.models, c.found, c.not_found, c.mismatch, c.not_looked_up),
        (4, 1, 1, 1, 1)
    );
}

#[test]
fn quantized_models_inherit_their_base_scores_only_when_they_have_none() {
    let mut gguf = model(1, "someone/Base-7B-GGUF");
    gguf.base_models = "org/Base-7B".into();
    gguf.base_model_relation = "quantized".into();
    let mut awq_own = model(2, "someone/Base-7B-AWQ");
    awq_own.base_models = "org/Base-7B".into();
    awq_own.base_model_relation = "quantized".into();
    let mut finetune = model(3, "someone/Base-7B-tuned");
    finetune.base_models = "org/Base-7B".into();
    finetune.base_model_relation = "finetune".into();
    let models = [gguf, awq_own, finetune, model(4, "org/Base-7B")];
    let lb = [
        found("org/base-7b", "bfloat16", 30.0),
        found("someone/Base-7B-AWQ", "4bit", 25.0),
        status_row("someone/Base-7B-GGUF", MatchStatus::NotFound),
        status_row("someone/Base-7B-tuned", MatchStatus::NotFound),
    ];
    let p = run(&models, &lb, None);
    let g = by_id(&p, "someone/Base-7B-GGUF");
    assert_eq!(g.score_source, "inherited:org/Base-7B");
    assert_eq!(
        g.join_status,
        JoinStatus::NotFound,
        "its own lookup status is kept"
    );
    assert_eq!(g.average, Some(30.0));
    assert_eq!(by_id(&p, "someone/Base-7B-AWQ").score_source, "own");
    assert_eq!(by_id(&p, "someone/Base-7B-AWQ").average, Some(25.0));
    let t = by_id(&p, "someone/Base-7B-tuned");
    assert_eq!(
        (t.score_source.to_string().as_str(), t.average),
        ("none", None),
        "a finetune is a different model"
    );
    assert_eq!(p.quality.coverage.with_inherited_scores, 1);
}

#[test]
fn deltas_against_the_previous_run() {
    let mut before = model(1, "org/a");
    before.downloads = Some(1000);
    before.likes = Some(12);
    let previous = PreviousRun::from_models("r1", &[before]);
    let mut now = model(1, "ORG/a");
    now.downloads = Some(1500);
    now.likes = Some(10);
    let p = run(&[now, model(2, "org/new")], &[], Some(&previous));
    let a = by_id(&p, "ORG/a");
    assert_eq!(
        (a.downloads_delta_1d, a.likes_delta_1d),
        (Some(500), Some(-2))
    );
    let n = by_id(&p, "org/new");
    assert_eq!((n.downloads_delta_1d, n.likes_delta_1d), (None, None));
    assert_eq!(p.quality.previous_run.as_deref(), Some("r1"));
    // No history: no deltas at all.
    let p = run(&[model(1, "org/a")], &[], None);
    assert_eq!(p.rows[0].downloads_delta_1d, None);
}

#[test]
fn deltas_over_7_and_30_nights_each_against_their_own_run() {
    let counts = |run: &str, downloads: u64| {
        let mut m = model(1, "org/a");
        m.downloads = Some(downloads);
        PreviousRun::from_models(run, &[m])
    };
    let mut now = model(1, "org/a");
    now.downloads = Some(5000);
    let p = prepare(&PrepareInputs {
        run_id: "d31",
        models: &[now, model(2, "org/new")],
        quarantined: &[],
        leaderboard: None,
        previous: &Baselines {
            day: Some(counts("d30", 4900)),
            week: Some(counts("d24", 4000)),
            month: Some(counts("d1", 1000)),
        },
        as_of: as_of(),
    });
    let a = by_id(&p, "org/a");
    assert_eq!(
        (
            a.downloads_delta_1d,
            a.downloads_delta_7d,
            a.downloads_delta_30d
        ),
        (Some(100), Some(1000), Some(4000))
    );
    let n = by_id(&p, "org/new");
    assert_eq!((n.downloads_delta_7d, n.downloads_delta_30d), (None, None));
    let q = &p.quality;
    assert_eq!(
        (
            q.previous_run.as_deref(),
            q.previous_run_7d.as_deref(),
            q.previous_run_30d.as_deref()
        ),
        (Some("d30"), Some("d24"), Some("d1"))
    );
}

#[test]
fn quality_checks_drop_and_fix_with_reasons() {
    let mut huge = model(3, "org/huge");
    huge.parameters = Some(50_000_000_000_000);
    let mut tiny = model(4, "org/tiny");
    tiny.parameters = None;
    let models = [
        model(1, "org/a"),
        model(2, "ORG/A"),
        huge,
        tiny,
        model(5, "bad id/x"),
    ];
    let mut bad_scores = found("org/a", "bfloat16", 120.0);
    bad_scores.gpqa = Some(-3.0);
    let mut tiny_row = found("org/tiny", "bfloat16", 5.0);
    tiny_row.params_b = Some(-1.0);
    let p = run(&models, &[bad_scores, tiny_row], None);
    assert_eq!(p.rows.len(), 3);
    let checks: Vec<_> = p
        .quality
        .dropped
        .iter()
        .map(|i| (i.model_id.as_str(), i.check.as_str()))
        .collect();
    assert_eq!(
        checks,
        [("ORG/A", "duplicate_id"), ("bad id/x", "invalid_id")]
    );
    let a = by_id(&p, "org/a");
    assert_eq!((a.average, a.gpqa, a.ifeval), (None, None, Some(50.0)));
    let fixed: Vec<_> = p
        .quality
        .fixed
        .iter()
        .map(|i| (i.model_id.as_str(), i.field.as_str()))
        .collect();
    assert!(
        fixed.contains(&("org/a", "average")) && fixed.contains(&("org/a", "gpqa")),
        "{fixed:?}"
    );
    assert!(
        fixed.contains(&("org/huge", "parameters")) && fixed.contains(&("org/tiny", "params_b"))
    );
    assert_eq!(by_id(&p, "org/huge").parameters_b, None);
    assert_eq!(by_id(&p, "org/huge").size_class, None);
    assert_eq!(by_id(&p, "org/tiny").parameters_source, "none");
    assert_eq!(p.quality.rows_out, 3);
}

#[test]
fn tidy_columns() {
    let mut m = model(1, "org/m");
    m.license = "llama3.1".into();
    m.downloads = Some(90);
    let p = run(&[m], &[], None);
    let r = &p.rows[0];
    assert_eq!(r.org, "org");
    assert_eq!(r.parameters_b, Some(7.24));
    assert_eq!(r.size_class.map(|s| s.label()), Some("3-9B"));
    assert_eq!(r.license_family, LicenseFamily::RestrictedUse);
    assert_eq!(r.age_days, Some(79));
    assert_eq!(r.downloads_per_day, Some(3.0));
    assert_eq!(r.relation, Relation::Base);
}

#[test]
fn formula_cells_are_neutralised_in_dataset_csv_and_restored_on_read() {
    // A ModelId holds no space and at most one '/', so the hostile id is one token.
    let mut m = model(1, "=HYPERLINK(\"evil.example\")");
    m.license = "=HYPERLINK(\"http://evil/licence\",\"click\")".into();
    let p = run(&[m], &[], None);
    let csv = String::from_utf8(write_dataset_csv(&p.rows, &[]).unwrap()).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    let mut raw = csv::Reader::from_reader(csv.as_bytes());
    for record in raw.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '@']),
                "unneutralised cell {cell:?}"
            );
        }
    }
    let back = read_dataset_csv(csv.as_bytes(), "dataset.csv", Stage::Report).unwrap();
    assert!(back.quarantined.is_empty());
    assert_eq!(back.rows, p.rows);
    assert_eq!(back.rows[0].license_family, LicenseFamily::Unknown);
}

#[test]
fn leaderboard_csv_rows_that_do_not_read_are_set_aside_with_file_and_line() {
    let mut out = crate::formats::csv::writer(Vec::new());
    out.serialize(found("org/a", "bfloat16", 12.5)).unwrap();
    out.serialize(found("org/b", "bfloat16", 13.75)).unwrap();
    out.serialize(found("org/c/d", "bfloat16", 14.0)).unwrap();
    let body = String::from_utf8(out.into_inner().unwrap())
        .unwrap()
        .replace("13.75", "twelve");
    let read = |body: &str| {
        read_leaderboard_csv(body.as_bytes(), "runs/x/leaderboard.csv", Stage::Prepare)
    };
    let good = read(&body.replace("twelve", "1").replace("org/c/d", "org/c")).unwrap();
    assert_eq!(good.rows.len(), 3);
    assert!(good.quarantined.is_empty());

    let checked = read(&body).unwrap();
    let ids: Vec<&str> = checked.rows.iter().map(|r| r.model_id.as_str()).collect();
    assert_eq!(ids, ["org/a"]);
    let q = &checked.quarantined;
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(
        (
            q[0].source.as_str(),
            q[0].position,
            q[0].id.as_deref(),
            q[0].check
        ),
        (
            "runs/x/leaderboard.csv",
            3,
            Some("org/b"),
            Check::Unreadable
        )
    );
    assert!(
        q[0].detail.contains("twelve") || q[0].detail.contains("float"),
        "{}",
        q[0].detail
    );
    assert_eq!(
        (q[1].position, q[1].id.as_deref(), q[1].check),
        (4, Some("org/c/d"), Check::InvalidId)
    );
    assert_eq!(q[1].stage, Stage::Prepare);

    // A file of which not one row reads is not data with a few bad rows.
    let err = read(&body.replace("12.5", "x").replace("14.0", "x")).unwrap_err();
    assert!(
        err.to_string().contains("runs/x/leaderboard.csv row"),
        "{err}"
    );
}

/// `scripts/fuzz-corpus` writes seed CSVs with the headers in `fuzz/csv-headers.json`;
/// they must be ours, or the seeds would only ever test a header mismatch.
#[test]
fn the_fuzz_seed_headers_are_our_csv_headers() {
    fn header<T: serde::Serialize>(row: &T) -> Vec<String> {
        let mut out = crate::formats::csv::writer(Vec::new());
        out.serialize(row).unwrap();
        let body = String::from_utf8(out.into_inner().unwrap()).unwrap();
        body.lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect()
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/csv-headers.json");
    let seeds: std::collections::HashMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let p = run(&[model(1, "org/a")], &[], None);
    assert_eq!(seeds["models.csv"], header(&model(1, "org/a")));
    assert_eq!(
        seeds["leaderboard.csv"],
        header(&LeaderboardRecord::default())
    );
    assert_eq!(seeds["dataset.csv"], header(&p.rows[0]));
}

/// Found by the csv_models fuzz target (crash-35a74fda…): a `created_at` of
/// `-042209-13` went into dataset.csv as it was, a cell a spreadsheet would run, because
/// only some text columns were neutralised. Every text column is now, in every CSV.
#[test]
fn every_text_column_is_neutralised_and_reads_back() {
    let mut m = model(1, "org/a");
    m.created_at = "-042209-13".into();
    m.last_modified = "=1+1".into();
    m.gated = "@SUM(A1)".into();
    m.sha = "+cmd".into();
    m.base_model_relation = "'=quoted".into();
    let lb = LeaderboardRecord {
        model_id: "org/a".into(),
        status: Some(MatchStatus::Found),
        source: "=src".into(),
        precision: "-p".into(),
        weight_type: "@w".into(),
        submission_date: "\td".into(),
        eval_name: "e".into(),
        ..LeaderboardRecord::default()
    };
    let p = run(std::slice::from_ref(&m), std::slice::from_ref(&lb), None);
    let dataset = write_dataset_csv(&p.rows, &[]).unwrap();
    let mut models = crate::formats::csv::writer(Vec::new());
    models.serialize(&m).unwrap();
    let models = models.into_inner().unwrap();
    let mut board = crate::formats::csv::writer(Vec::new());
    board.serialize(&lb).unwrap();
    let board = board.into_inner().unwrap();
    for body in [&dataset, &models, &board] {
        let mut raw = csv::Reader::from_reader(body.as_slice());
        for record in raw.records() {
            for cell in record.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?}"
                );
            }
        }
    }
    let back = read_models_csv(&models, "m", Stage::Prepare).unwrap().rows;
    assert_eq!(back, [m]);
    let back = read_leaderboard_csv(&board, "l", Stage::Prepare)
        .unwrap()
        .rows;
    assert_eq!(back, [lb]);
    let back = read_dataset_csv(&dataset, "d", Stage::Report).unwrap().rows;
    assert_eq!(back, p.rows);
}

/// Bug 2: rows of `evals.csv` set aside while reading it back went into no output. They
/// are in `quality.json` and in the stage's `quarantined` count, as every other stage's.
#[tokio::test]
async fn evals_rows_that_do_not_read_back_reach_quality_json() {
    use crate::run::artifact::{EVALS_CSV, MODELS_CSV, QUALITY_JSON};
    use crate::run::{RunId, RunLayout};
    use crate::stage::StageCx;
    use crate::store::local::LocalStore;

    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(LocalStore::open(dir.path()).unwrap());
    let run = RunStore::new(store, RunLayout::new(RunId::parse("r").unwrap()));
    let mut models = crate::formats::csv::writer(Vec::new());
    models.serialize(model(1, "org/good")).unwrap();
    run.put(MODELS_CSV, models.into_inner().unwrap().into())
        .await
        .unwrap();
    let evals = "model_id,benchmark,task,metric,value,verified,source,date,url,source_name,pull_request,filename\n\
                 org/good,cais/hle,,accuracy,12.5,false,hub-eval-results,2026-01-01,,,,\n\
                 not a model id!,cais/hle,,accuracy,3.0,false,hub-eval-results,2026-01-01,,,,\n";
    run.put(EVALS_CSV, evals.as_bytes().to_vec().into())
        .await
        .unwrap();

    let stage = PrepareStage {
        hub_columns: 5,
        top_models: 0,
    };
    let cx = StageCx::new(Stage::Prepare, run.clone(), Default::default());
    let outcome = stage.prepare(&cx).await.unwrap();
    assert_eq!(outcome.quarantined, 1, "the bad evals.csv row is counted");
    let quality: crate::records::QualityReport =
        serde_json::from_slice(&run.get(QUALITY_JSON).await.unwrap().unwrap()).unwrap();
    let set_aside: Vec<_> = quality
        .quarantined
        .iter()
        .filter(|q| q.source.ends_with(EVALS_CSV))
        .collect();
    assert_eq!(set_aside.len(), 1, "{:?}", quality.quarantined);
    assert_eq!(set_aside[0].position, 3);
    assert_eq!(set_aside[0].check, Check::InvalidId);
    assert_eq!(set_aside[0].stage, Stage::Prepare);
}
