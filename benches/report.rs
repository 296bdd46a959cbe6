//! Prepare + report benchmark (`cargo bench --bench report`). Prints figures; asserts nothing.
//!
//! 1,000 models built from the real leaderboard export (ids, licences, parameter counts,
//! scores; every tenth model a GGUF re-upload that inherits its base's scores, as on the
//! Hub), with a previous complete run for deltas. Times the stages as the pipeline runs
//! them, through a local store: the prepare stage (read CSVs, join, write dataset.csv and
//! quality.json) and the report stage (read dataset.csv, draw the charts, write report.html).
//! The target is under one second for both together.

use std::time::Instant;

use hfharvest::records::{LeaderboardRecord, MatchStatus};
use hfharvest::records::{ModelRecord, ParametersSource};
use std::sync::Arc;

use hfharvest::run::{Manifest, RunLayout, RunStatus};
use hfharvest::store::{local::LocalStore, PutMode, RunStore, Store};
use hfharvest::RunId;

const MODELS: usize = 1000;

fn realdata() -> std::path::PathBuf {
    std::env::var_os("HFHARVEST_REALDATA")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata")
        })
}

fn num(row: &csv::StringRecord, i: usize) -> Option<f64> {
    row.get(i)?.parse().ok()
}

/// Models and leaderboard rows from the real export, deterministic.
fn inputs() -> (Vec<ModelRecord>, Vec<LeaderboardRecord>) {
    let path = realdata().join("leaderboard/formatted-2025-03-21.csv");
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (id, name, precision, weight, arch, avg, chat) = (
        col("id"),
        col("model_name"),
        col("model_precision"),
        col("model_weight_type"),
        col("model_architecture"),
        col("model_average_score"),
        col("model_has_chat_template"),
    );
    let bench = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"]
        .map(|b| col(&format!("evaluations_{b}_normalized_score")));
    let (license, params, base, submitted, hearts) = (
        col("metadata_hub_license"),
        col("metadata_params_billions"),
        col("metadata_base_model"),
        col("metadata_submission_date"),
        col("metadata_hub_hearts"),
    );
    let mut models: Vec<ModelRecord> = Vec::new();
    let mut rows = Vec::new();
    for (i, row) in reader.records().map(Result::unwrap).enumerate() {
        let model_id = row[name].to_owned();
        let scored = i % 10 < 7;
        if models.last().is_none_or(|m| m.model_id != model_id) {
            if models.len() == MODELS {
                break;
            }
            let rank = models.len() as u64 + 1;
            // A heavy tail: the top model has ~millions, the thousandth a few hundred.
            let downloads = (50_000_000.0 / (rank as f64).powf(1.3)) as u64 + 100;
            let mut m = ModelRecord {
                rank,
                model_id: model_id.clone(),
                author: model_id.split('/').next().unwrap_or("").into(),
                license: row[license].to_owned(),
                downloads: Some(downloads),
                likes: num(&row, hearts).map(|h| h as u64),
                created_at: format!("{}T00:00:00.000Z", &row[submitted]),
                parameters: num(&row, params)
                    .filter(|p| *p > 0.0)
                    .map(|p| (p * 1e9) as u64),
                parameters_source: ParametersSource::Safetensors,
                base_models: row[base].to_owned(),
                ..Default::default()
            };
            if rank.is_multiple_of(10) {
                m.model_id = format!("quant-lab/{}-GGUF", model_id.replace('/', "-"));
                m.base_models = model_id.clone();
                m.base_model_relation = "quantized".into();
                rows.push(LeaderboardRecord {
                    model_id: m.model_id.clone(),
                    status: Some(MatchStatus::NotFound),
                    source: "datasets".into(),
                    ..Default::default()
                });
            } else if !scored {
                rows.push(LeaderboardRecord {
                    model_id: model_id.clone(),
                    status: Some(MatchStatus::NotFound),
                    source: "datasets".into(),
                    ..Default::default()
                });
            }
            models.push(m);
        }
        if scored || models.last().unwrap().rank.is_multiple_of(10) {
            rows.push(LeaderboardRecord {
                model_id,
                status: Some(MatchStatus::Found),
                source: "datasets".into(),
                eval_name: row[id].to_owned(),
                matched_name: row[name].to_owned(),
                precision: row[precision].to_owned(),
                weight_type: row[weight].to_owned(),
                architecture: row[arch].to_owned(),
                chat_template: Some(&row[chat] == "TRUE"),
                average: num(&row, avg),
                ifeval: num(&row, bench[0]),
                bbh: num(&row, bench[1]),
                math_lvl5: num(&row, bench[2]),
                gpqa: num(&row, bench[3]),
                musr: num(&row, bench[4]),
                mmlu_pro: num(&row, bench[5]),
                params_b: num(&row, params),
                hub_license: row[license].to_owned(),
                submission_date: row[submitted].to_owned(),
                base_model: row[base].to_owned(),
                ..Default::default()
            });
        }
    }
    (models, rows)
}

fn csv_bytes<T: serde::Serialize>(rows: &[T]) -> Vec<u8> {
    let mut out = hfharvest::formats::csv::writer(Vec::new());
    for r in rows {
        out.serialize(r).unwrap();
    }
    out.into_inner().unwrap()
}

async fn put_run(
    store: &Arc<LocalStore>,
    id: &str,
    started: &str,
    models: &[ModelRecord],
    lb: &[LeaderboardRecord],
) -> RunStore {
    let layout = RunLayout::new(RunId::parse(id).unwrap());
    store
        .put(
            &layout.file("models.csv"),
            csv_bytes(models).into(),
            PutMode::Overwrite,
        )
        .await
        .unwrap();
    store
        .put(
            &layout.file("leaderboard.csv"),
            csv_bytes(lb).into(),
            PutMode::Overwrite,
        )
        .await
        .unwrap();
    let manifest = Manifest {
        run_id: id.into(),
        status: RunStatus::Complete,
        tool_version: "bench".into(),
        config_digest: "bench".into(),
        started_at: started.into(),
        snapshot_at: None,
        finished_at: Some(started.into()),
        stages: vec![],
        error: None,
    };
    store
        .put(
            &layout.file("manifest.json"),
            serde_json::to_vec(&manifest).unwrap().into(),
            PutMode::Overwrite,
        )
        .await
        .unwrap();
    RunStore::new(store.clone(), layout)
}

#[tokio::main]
async fn main() {
    let (models, rows) = inputs();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let mut yesterday = models.clone();
    for (i, m) in yesterday.iter_mut().enumerate() {
        m.downloads = m
            .downloads
            .map(|d| d.saturating_sub((i as u64 * 7919) % 5000));
    }
    put_run(&store, "day1", "2026-01-01T00:00:00Z", &yesterday, &rows).await;
    let run = put_run(&store, "day2", "2026-01-02T00:00:00Z", &models, &rows).await;
    let parameters = vec![("models (top N)".to_owned(), MODELS.to_string())];

    let mut prepare_s = Vec::new();
    let mut report_s = Vec::new();
    let mut bytes = 0;
    let mut dropped = 0;
    let prepare = hfharvest::prepare::PrepareStage {
        hub_columns: 5,
        top_models: 0,
    };
    let report_stage = hfharvest::report::ReportStage { parameters };
    let cx = |stage| {
        hfharvest::stage::StageCx::new(
            stage,
            run.clone(),
            tokio_util::sync::CancellationToken::new(),
        )
    };
    for _ in 0..5 {
        let t = Instant::now();
        let prepared = prepare
            .prepare(&cx(hfharvest::run::Stage::Prepare))
            .await
            .unwrap();
        prepare_s.push(t.elapsed().as_secs_f64());
        assert_eq!(
            prepared.rows as usize + prepared.dropped as usize,
            models.len()
        );
        dropped = prepared.dropped;
        let t = Instant::now();
        let report = report_stage
            .report(&cx(hfharvest::run::Stage::Report))
            .await
            .unwrap();
        report_s.push(t.elapsed().as_secs_f64());
        bytes = report.bytes;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (p, r) = (median(&mut prepare_s), median(&mut report_s));
    println!(
        "report bench: {} models ({dropped} dropped by the quality checks), {} leaderboard rows, previous run for deltas",
        models.len(),
        rows.len()
    );
    println!("  prepare stage (models.csv + leaderboard.csv -> dataset.csv + quality.json): median {:.1} ms", p * 1e3);
    println!("  report stage  (dataset.csv -> report.html, {:.0} KiB, 11 charts):          median {:.1} ms", bytes as f64 / 1024.0, r * 1e3);
    println!(
        "  prepare + report: {:.1} ms (target < 1000 ms) over 5 runs",
        (p + r) * 1e3
    );
}
