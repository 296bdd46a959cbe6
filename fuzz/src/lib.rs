//! What the fuzz targets share: how a parsed record goes on through the job, so a
//! target exercises the code that consumes what the parser let through, not only the
//! parser.

use hfharvest::csvout;
use hfharvest::hub::{read_models_csv, ModelRecord};
use hfharvest::leaderboard::{classify, LeaderboardRecord, ScoreRow};
use hfharvest::prepare::dataset::write_dataset_csv;
use hfharvest::prepare::{prepare, read_dataset_csv, PrepareInputs, QualityReport};
use hfharvest::report::{render, ReportMeta};
use hfharvest::run::Stage;
use hfharvest::ModelId;

/// The date every target's join is as of.
pub fn as_of() -> chrono::DateTime<chrono::Utc> {
    "2026-11-25T00:00:00Z".parse().expect("a date")
}

/// A model record goes into `models.csv`, must read back as the same record, and
/// then through the join.
pub fn models_round_trip(records: &[ModelRecord]) {
    let mut csv = csvout::writer(Vec::new());
    for record in records {
        csv.serialize(record).expect("a record serialises");
    }
    let body = csv.into_inner().expect("in memory");
    no_formula_cells(&body);
    let read = read_models_csv(&body, "models.csv", Stage::Prepare).expect("our own CSV reads");
    assert!(read.quarantined.is_empty(), "{:?}", read.quarantined);
    assert_eq!(read.rows, records, "models.csv gives back what was written");
    join(records, &[]);
}

/// Leaderboard rows as the scores stage sees them: searched for by model, classified,
/// written as `leaderboard.csv` rows, then joined.
pub fn score_rows(rows: Vec<ScoreRow>) {
    let mut records: Vec<LeaderboardRecord> = Vec::new();
    for row in rows.iter().take(8) {
        let Ok(id) = ModelId::parse(&row.name) else {
            panic!("a row that passed its check names a model: {:?}", row.name);
        };
        let lookup = classify(&id, rows.clone());
        records.extend(lookup.records(&id, "datasets"));
    }
    let mut csv = csvout::writer(Vec::new());
    for record in &records {
        csv.serialize(record).expect("a record serialises");
    }
    no_formula_cells(&csv.into_inner().expect("in memory"));
    let models: Vec<ModelRecord> = records
        .iter()
        .enumerate()
        .map(|(i, r)| ModelRecord {
            rank: i as u64 + 1,
            model_id: r.model_id.clone(),
            ..ModelRecord::default()
        })
        .collect();
    join(&models, &records);
}

/// The join, whose `dataset.csv` must read back as the rows written.
pub fn join(models: &[ModelRecord], leaderboard: &[LeaderboardRecord]) {
    let prepared = prepare(&PrepareInputs {
        run_id: "fuzz",
        models,
        quarantined: &[],
        leaderboard: Some(leaderboard),
        previous: None,
        as_of: as_of(),
    });
    let body = write_dataset_csv(&prepared.rows).expect("dataset rows serialise");
    no_formula_cells(&body);
    let read = read_dataset_csv(&body, "dataset.csv", Stage::Report).expect("our own CSV reads");
    assert!(read.quarantined.is_empty(), "{:?}", read.quarantined);
    assert_eq!(
        read.rows, prepared.rows,
        "dataset.csv gives back what was written"
    );
}

/// The report over dataset rows.
pub fn report(rows: &[hfharvest::prepare::DatasetRow], quality: Option<&QualityReport>) {
    let meta = ReportMeta {
        run_id: "fuzz".into(),
        run_date: "2026-11-25T00:00:00Z".into(),
        parameters: vec![],
    };
    let _ = render(rows, quality, &meta);
}

/// No cell of a CSV we write may start a spreadsheet formula (README, `models.csv`):
/// text cells are neutralised; a number may start with `-` or `+`.
pub fn no_formula_cells(body: &[u8]) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    for record in reader.byte_records() {
        let record = record.expect("our CSV parses");
        for cell in record.iter() {
            let starts = |c: u8| cell.first() == Some(&c);
            let number = std::str::from_utf8(cell).is_ok_and(|t| t.parse::<f64>().is_ok());
            assert!(
                !(starts(b'=') || starts(b'@') || starts(b'\t') || starts(b'\r'))
                    && (number || !(starts(b'-') || starts(b'+'))),
                "a cell that a spreadsheet would run: {:?}",
                String::from_utf8_lossy(cell)
            );
        }
    }
}
