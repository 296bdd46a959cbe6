//! The fuzz targets' bodies, one function per target in [`targets`], and what they
//! share: how a parsed record goes on through the job, so a target exercises the code
//! that consumes what the parser let through, not only the parser.
//!
//! Each file in `fuzz_targets/` hands libFuzzer's input to its function here. The main
//! workspace's `tests/fuzz_smoke.rs` includes this file too and runs every target over
//! the seed corpus and its mutations, so CI smokes each target in the normal test build
//! and this code cannot drift from the library's API.

use hfharvest::formats;
use hfharvest::prepare::{prepare, PrepareInputs};
use hfharvest::records::history::Baselines;
use hfharvest::records::write_dataset_csv;
use hfharvest::records::LeaderboardRecord;
use hfharvest::records::{read_dataset_csv, QualityReport};
use hfharvest::records::{read_models_csv, ModelRecord};
use hfharvest::report::{render, ReportMeta};
use hfharvest::run::Stage;
use hfharvest::scores::{classify, ScoreRow};
use hfharvest::ModelId;

/// The date every target's join is as of.
pub fn as_of() -> chrono::DateTime<chrono::Utc> {
    "2026-11-25T00:00:00Z".parse().expect("a date")
}

/// A model record goes into `models.csv`, must read back as the same record, and
/// then through the join.
pub fn models_round_trip(records: &[ModelRecord]) {
    let mut csv = formats::csv::writer(Vec::new());
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
    let mut csv = formats::csv::writer(Vec::new());
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
        previous: &Baselines::default(),
        as_of: as_of(),
    });
    let body = write_dataset_csv(&prepared.rows, &[]).expect("dataset rows serialise");
    no_formula_cells(&body);
    let read = read_dataset_csv(&body, "dataset.csv", Stage::Report).expect("our own CSV reads");
    assert!(read.quarantined.is_empty(), "{:?}", read.quarantined);
    assert_eq!(
        read.rows, prepared.rows,
        "dataset.csv gives back what was written"
    );
}

/// The report over dataset rows.
pub fn report(rows: &[hfharvest::records::DatasetRow], quality: Option<&QualityReport>) {
    let meta = ReportMeta {
        run_id: "fuzz".into(),
        run_date: "2026-11-25T00:00:00Z".into(),
        parameters: vec![],
        snapshot_at: Some(as_of()),
        trends: vec![],
    };
    let rows: Vec<hfharvest::report::ReportRow> = rows.iter().map(Into::into).collect();
    let _ = render(&rows, quality, &meta);
}

/// No cell of a CSV we write may start a spreadsheet formula (docs/outputs.md, `models.csv`):
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

/// One function per fuzz target, named as the target; each takes libFuzzer's input.
pub mod targets {
    use std::time::{Duration, Instant, SystemTime};

    use hfharvest::config::Settings;
    use hfharvest::http::{parse_next_link, parse_rate_limit, parse_retry_after};
    use hfharvest::hub::parse_list_page;
    use hfharvest::models::hub_item_id;
    use hfharvest::records::read_dataset_csv;
    use hfharvest::records::read_leaderboard_csv;
    use hfharvest::records::{read_models_csv, ModelRecord};
    use hfharvest::run::Stage;
    use hfharvest::scores::{
        parquet_rows, parse_formatted, parse_rows_page, parse_table, ParsedRows, ScoreRow,
    };

    /// A target's body: libFuzzer's input in, a panic on a fault.
    pub type Target = fn(&[u8]);

    /// Every target, by name, for a runner that goes through them all.
    pub const ALL: &[(&str, Target)] = &[
        ("config_toml", config_toml),
        ("csv_dataset", csv_dataset),
        ("csv_leaderboard", csv_leaderboard),
        ("csv_models", csv_models),
        ("header_link", header_link),
        ("header_ratelimit", header_ratelimit),
        ("header_retry_after", header_retry_after),
        ("hub_list_page", hub_list_page),
        ("hub_model_record", hub_model_record),
        ("leaderboard_formatted", leaderboard_formatted),
        ("leaderboard_parquet", leaderboard_parquet),
        ("leaderboard_rows", leaderboard_rows),
        ("leaderboard_table", leaderboard_table),
    ];

    /// A config file through the real loader (TOML → layers → Settings → validate); the
    /// settings it accepts must give durations and products without panicking.
    pub fn config_toml(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(s) = Settings::from_toml(text, "fuzz.toml") else {
            return;
        };
        let _ = s.digest();
        for secs in [
            s.output.lock_ttl_secs,
            s.http.timeout_secs,
            s.http.connect_timeout_secs,
            s.http.retry_budget_secs,
            s.http.max_server_wait_secs,
            s.leaderboard.webdriver_ready_timeout_secs,
            s.leaderboard.page_timeout_secs + 10.0,
            s.leaderboard.page_timeout_secs * 4.0 + 10.0,
            s.s3.operation_timeout_secs,
            s.s3.connect_timeout_secs,
            s.telemetry.shutdown_timeout_secs,
        ] {
            let _ = Duration::from_secs_f64(secs);
        }
        let ttl = Duration::from_secs_f64(s.output.lock_ttl_secs);
        let _ = std::time::Instant::now() + ttl * 2;
        let _ = chrono::Utc::now() + chrono::TimeDelta::from_std(ttl).expect("a ttl fits");
        let _ = Duration::from_millis(s.http.backoff_max_ms)
            .saturating_add(Duration::from_millis(s.http.backoff_initial_ms));
        assert!((0.0..=1.0).contains(&s.hub.max_invalid_ratio));
    }

    /// `dataset.csv` read back, then rendered as the report.
    pub fn csv_dataset(data: &[u8]) {
        if let Ok(read) = read_dataset_csv(data, "dataset.csv", Stage::Report) {
            super::report(&read.rows, None);
        }
    }

    /// `leaderboard.csv` read back, then joined with a models list that names its models.
    pub fn csv_leaderboard(data: &[u8]) {
        let Ok(read) = read_leaderboard_csv(data, "leaderboard.csv", Stage::Prepare) else {
            return;
        };
        let models: Vec<ModelRecord> = read
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| ModelRecord {
                rank: i as u64 + 1,
                model_id: r.model_id.clone(),
                base_models: r.base_model.clone(),
                ..ModelRecord::default()
            })
            .collect();
        super::join(&models, &read.rows);
    }

    /// `models.csv` read back, then joined.
    pub fn csv_models(data: &[u8]) {
        if let Ok(read) = read_models_csv(data, "models.csv", Stage::Prepare) {
            super::join(&read.rows, &[]);
        }
    }

    /// A `Link` header value: the `rel="next"` target, resolved as the client does.
    pub fn header_link(data: &[u8]) {
        let Ok(value) = std::str::from_utf8(data) else {
            return;
        };
        if let Some(target) = parse_next_link(value) {
            let base = url::Url::parse("https://huggingface.co/api/models?limit=2").unwrap();
            let _ = base.join(&target);
        }
    }

    /// A `RateLimit` value, and the pause the client makes of a spent window.
    pub fn header_ratelimit(data: &[u8]) {
        let Ok(value) = std::str::from_utf8(data) else {
            return;
        };
        if let Some(limit) = parse_rate_limit(value) {
            let capped = limit.reset.min(Duration::from_secs(86_400));
            let _ = Instant::now()
                .checked_add(capped)
                .expect("a capped wait fits");
        }
    }

    /// A `Retry-After` value, and the wait the client makes of it (capped as
    /// `http.max_server_wait_secs` caps it, from a clock anywhere in its range).
    pub fn header_retry_after(data: &[u8]) {
        let Some((&clock, text)) = data.split_first() else {
            return;
        };
        let Ok(value) = std::str::from_utf8(text) else {
            return;
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(clock) << 27);
        if let Some(wait) = parse_retry_after(value, now) {
            let capped = wait.min(Duration::from_secs(86_400));
            let _ = Instant::now()
                .checked_add(capped)
                .expect("a capped wait fits");
            let _ = Duration::from_secs(1).saturating_add(wait);
        }
    }

    /// A Hub `/api/models` list page's body: the page, then each item, then `models.csv`.
    pub fn hub_list_page(data: &[u8]) {
        let Ok(items) = parse_list_page(data) else {
            return;
        };
        let mut records = Vec::new();
        for item in &items {
            if let Ok(record) = ModelRecord::from_hub(records.len() as u64 + 1, item) {
                records.push(record);
            }
        }
        super::models_round_trip(&records);
    }

    /// One Hub model object (a list item or `/api/models/{id}`): its id check and its row.
    pub fn hub_model_record(data: &[u8]) {
        let Ok(item) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        let id = hub_item_id(&item);
        match ModelRecord::from_hub(1, &item) {
            Ok(record) => {
                assert_eq!(
                    id.map(String::from).as_deref(),
                    Ok(record.model_id.as_str())
                );
                super::models_round_trip(&[record]);
            }
            Err(fault) => {
                assert!(
                    id.is_err(),
                    "from_hub refused an item with a good id: {fault}"
                );
                let _ = (fault.check(), fault.id(), fault.to_string());
            }
        }
    }

    /// The leaderboard app's JSON API: a whole body (an array) or one row.
    pub fn leaderboard_formatted(data: &[u8]) {
        let Ok(page) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        let rows = match parse_formatted(&page) {
            Ok(parsed) => parsed.rows,
            Err(_) => ScoreRow::from_formatted(&page).into_iter().collect(),
        };
        super::score_rows(rows);
    }

    /// The `contents` dataset's parquet file (the default leaderboard source): its rows,
    /// each checked as the source checks it.
    pub fn leaderboard_parquet(data: &[u8]) {
        let Ok(rows) = parquet_rows(bytes::Bytes::copy_from_slice(data)) else {
            return;
        };
        let mut parsed = ParsedRows::default();
        for (i, row) in rows.iter().enumerate() {
            parsed.push(i as u64 + 1, ScoreRow::from_contents(row));
        }
        super::score_rows(parsed.rows);
    }

    /// A datasets-server `/rows` page of `open-llm-leaderboard/contents`.
    pub fn leaderboard_rows(data: &[u8]) {
        let Ok(page) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        if let Ok(page) = parse_rows_page(&page, 1) {
            super::score_rows(page.parsed.rows);
        }
    }

    /// The leaderboard page's HTML, read for its table by header text.
    pub fn leaderboard_table(data: &[u8]) {
        let Ok(html) = std::str::from_utf8(data) else {
            return;
        };
        // The row link selector is the default setting's.
        if let Ok(parsed) = parse_table(html, r#"a[title$=" on Hugging Face Hub"]"#) {
            super::score_rows(parsed.rows.into_iter().map(|r| r.row).collect());
        }
    }
}
