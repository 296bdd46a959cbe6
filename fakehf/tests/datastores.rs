//! The datastores: Every Eval Ever's `evaleval/EEE_datastore` and
//! `OpenEvals/leaderboard-data`.

use std::collections::HashMap;

use fakehf::datastores::{EEE_COLLECTIONS, OPEN_EVALS_COLUMNS, OPEN_EVALS_FILE, OPEN_EVALS_ROWS};
use fakehf::{FakeConfig, FakeHf, Fault, Route, EEE_SHA, OPEN_EVALS_SHA};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// One plain HTTP/1.1 GET, as tests/real_mix.rs makes them, keeping the body's bytes.
async fn get(fake: &FakeHf, path: &str) -> Reply {
    let addr = fake.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

const EEE: &str = "evaleval/EEE_datastore";
const OPEN_EVALS: &str = "OpenEvals/leaderboard-data";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn start(config: FakeConfig) -> FakeHf {
    FakeHf::start(config).await.unwrap()
}

/// A collection's index rows.
async fn index(fake: &FakeHf, collection: &str) -> Vec<Value> {
    let path =
        format!("/datasets/{EEE}/resolve/{EEE_SHA}/flat/indexes/by_collection/{collection}.jsonl");
    let reply = get(fake, &path).await;
    assert_eq!(reply.status, 200, "{path}");
    String::from_utf8(reply.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A file of the datastore, checked against its row's hash and size.
async fn checked(fake: &FakeHf, path: &str, sha: &Value, size: &Value) -> Vec<u8> {
    let reply = get(fake, &format!("/datasets/{EEE}/resolve/{EEE_SHA}/{path}")).await;
    assert_eq!(reply.status, 200, "{path}");
    assert_eq!(sha256_hex(&reply.body), sha.as_str().unwrap(), "{path}");
    assert_eq!(reply.body.len() as u64, size.as_u64().unwrap(), "{path}");
    reply.body
}

/// Every record of every collection: (collection, record).
async fn all_records(fake: &FakeHf) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for collection in EEE_COLLECTIONS {
        for row in index(fake, collection).await {
            let body = checked(
                fake,
                row["object_path"].as_str().unwrap(),
                &row["sha256"],
                &row["size_bytes"],
            )
            .await;
            out.push((
                collection.to_owned(),
                serde_json::from_slice(&body).unwrap(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn the_revision_endpoint_gives_the_sha_and_refuses_other_revisions() {
    let fake = start(FakeConfig::default()).await;
    for (repo, sha) in [(EEE, EEE_SHA), (OPEN_EVALS, OPEN_EVALS_SHA)] {
        for rev in ["main", sha] {
            let reply = get(&fake, &format!("/api/datasets/{repo}/revision/{rev}")).await;
            assert_eq!(reply.status, 200);
            let info = reply.json();
            assert_eq!(info["id"], repo);
            assert_eq!(info["sha"], sha);
            assert_eq!(info["private"], false);
            assert!(info["lastModified"].is_string());
            assert_eq!(sha.len(), 40);
            assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let reply = get(&fake, &format!("/api/datasets/{repo}/revision/v9")).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.header("x-error-code"), Some("RevisionNotFound"));
    }
    assert_eq!(fake.requests().datastores(), 6);
    assert_eq!(fake.requests().datasets(), 0, "datasets() counts as before");
}

#[tokio::test]
async fn every_index_row_downloads_with_its_hash_and_size() {
    let fake = start(FakeConfig::default()).await;
    let mut samples = 0;
    for collection in EEE_COLLECTIONS {
        let rows = index(&fake, collection).await;
        assert!(!rows.is_empty(), "{collection}");
        for row in rows {
            assert_eq!(row["record_type"], "aggregate");
            let uuid = row["object_uuid"].as_str().unwrap();
            let object = row["object_path"].as_str().unwrap();
            assert_eq!(
                object,
                format!("flat/objects/{}/{}/{uuid}.json", &uuid[..2], &uuid[2..4])
            );
            let record: Value = serde_json::from_slice(
                &checked(&fake, object, &row["sha256"], &row["size_bytes"]).await,
            )
            .unwrap();
            assert_eq!(row["eval_schema_version"], record["schema_version"]);
            let id = record["model_info"]["id"].as_str().unwrap();
            assert_eq!(
                row["legacy_path"],
                format!("data/{collection}/{id}/{uuid}.json")
            );
            if row["instance_level_available"] == true {
                let path = row["instance_level_path"].as_str().unwrap();
                checked(
                    &fake,
                    path,
                    &row["instance_sha"],
                    &row["instance_level_size_bytes"],
                )
                .await;
                samples += 1;
            }
        }
    }
    assert!(samples > 0);
    let truth = fake.eee_records().unwrap();
    // One request per index, object and samples file.
    assert_eq!(
        fake.requests().datastores(),
        (EEE_COLLECTIONS.len() + truth.len() + samples) as u64
    );
}

#[tokio::test]
async fn hfopenllm_v2_has_every_real_model_of_the_catalogue_and_the_real_example() {
    let fake = start(FakeConfig {
        models: 5000,
        ..FakeConfig::default()
    })
    .await;
    let catalogue = fake.catalogue();
    let real = (0..catalogue.len())
        .filter(|&r| catalogue.real_at(r).is_some())
        .count();
    assert!(real > 4400, "{real}");
    let rows = index(&fake, "hfopenllm_v2").await;
    assert_eq!(rows.len(), real);
    let tencent = rows
        .iter()
        .find(|r| {
            r["legacy_path"]
                .as_str()
                .unwrap()
                .contains("/TencentARC/LLaMA-Pro-8B-Instruct/")
        })
        .unwrap();
    let body = checked(
        &fake,
        tencent["object_path"].as_str().unwrap(),
        &tencent["sha256"],
        &tencent["size_bytes"],
    )
    .await;
    let example =
        std::fs::read(fakehf::realdata_dir().join(
            "2026/eee/examples/hfopenllm_v2__TencentARC__LLaMA-Pro-8B-Instruct__98ea850e.json",
        ))
        .unwrap();
    assert_eq!(body, example);
    // A generated one has the same shape: six 0..1 results.
    let other = &rows[1];
    let body = checked(
        &fake,
        other["object_path"].as_str().unwrap(),
        &other["sha256"],
        &other["size_bytes"],
    )
    .await;
    let record: Value = serde_json::from_slice(&body).unwrap();
    assert!(catalogue
        .rank_of(record["model_info"]["id"].as_str().unwrap())
        .is_some());
    for result in record["evaluation_results"].as_array().unwrap() {
        assert_eq!(result["metric_config"]["max_score"], 1.0);
        let score = result["score_details"]["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
    }
}

#[tokio::test]
async fn the_ids_come_in_eees_own_styles() {
    let fake = start(FakeConfig {
        real_mix: true,
        new_models: 30,
        ..FakeConfig::default()
    })
    .await;
    let records = all_records(&fake).await;
    let has = |collection: &str, id: &str| {
        records
            .iter()
            .any(|(c, r)| c == collection && r["model_info"]["id"] == id)
    };
    assert!(has(
        "helm_capabilities",
        "meta/llama-4-scout-17b-16e-instruct"
    ));
    assert!(has("helm_capabilities", "openai/gpt-oss-20b"));
    assert!(has("helm_capabilities", "qwen/qwen2.5-7b-instruct-turbo"));
    assert!(has(
        "helm_capabilities",
        "mistral/mistral-small-3.1-24b-instruct-2503"
    ));
    assert!(has("global-mmlu-lite", "google/gemma-3-27b-it"));
    assert!(has("global-mmlu-lite", "alibaba/qwen3-vl-8b-instruct"));
    assert!(has(
        "hal-assistantbench",
        "anthropic/claude-3-7-sonnet-20250219"
    ));
    assert!(has("MMLU-Pro", "01-ai/yi-1.5-34b-chat"));
    // Lower-cased: a new model of the catalogue and a flagship of the mix.
    let catalogue = fake.catalogue();
    let new = (0..catalogue.len())
        .find(|&r| catalogue.is_new(r) && catalogue.mix_at(r).is_none())
        .unwrap();
    assert!(has("MMLU-Pro", &catalogue.id(new).to_lowercase()));
    assert!(has("MMLU-Pro", "qwen/qwen3-vl-8b-instruct"));
    assert!(!has("MMLU-Pro", "Qwen/Qwen3-VL-8B-Instruct"));
    // Mixed schema versions; 0.3.0 has what it requires.
    let versions: Vec<&str> = records
        .iter()
        .filter_map(|(_, r)| r["schema_version"].as_str())
        .collect();
    for v in ["0.2.0", "0.2.2", "0.2.3", "0.3.0"] {
        assert!(versions.contains(&v), "{v}");
    }
    for (_, r) in records
        .iter()
        .filter(|(_, r)| r["schema_version"] == "0.3.0")
    {
        let details = &r["model_info"]["additional_details"];
        assert!(
            details["deployment_type"].is_string() && details["model_availability"].is_string()
        );
        assert!(r["eval_library"]["name"].is_string());
    }
}

#[tokio::test]
async fn re_scrapes_and_results_a_reader_must_refuse() {
    let fake = start(FakeConfig::default()).await;
    let records = all_records(&fake).await;
    let mut by_model: HashMap<(String, String), Vec<&Value>> = HashMap::new();
    for (c, r) in &records {
        let id = r["model_info"]["id"].as_str().unwrap().to_owned();
        by_model.entry((c.clone(), id)).or_default().push(r);
    }
    let pair = &by_model[&(
        "helm_capabilities".to_owned(),
        "openai/gpt-oss-20b".to_owned(),
    )];
    assert_eq!(pair.len(), 2);
    assert_ne!(
        pair[0]["retrieved_timestamp"],
        pair[1]["retrieved_timestamp"]
    );
    assert_ne!(
        pair[0]["evaluation_results"][1]["score_details"],
        pair[1]["evaluation_results"][1]["score_details"]
    );
    let pairs = by_model.values().filter(|v| v.len() > 1).count();
    assert!(pairs >= 3, "{pairs}");
    let results: Vec<&Value> = records
        .iter()
        .flat_map(|(_, r)| r["evaluation_results"].as_array().unwrap())
        .collect();
    assert!(results
        .iter()
        .any(|r| r["metric_config"]["metric_unit"] == "seconds"
            && r["metric_config"].get("max_score").is_none()));
    assert!(results
        .iter()
        .any(|r| r["score_details"]["score"].as_f64() > r["metric_config"]["max_score"].as_f64()));
}

#[tokio::test]
async fn unknown_files_and_revisions_are_404s_with_the_hubs_codes() {
    let fake = start(FakeConfig::default()).await;
    for (path, code) in [
        (
            format!("/datasets/{EEE}/resolve/{EEE_SHA}/flat/indexes/by_collection/nope.jsonl"),
            "EntryNotFound",
        ),
        (
            format!("/datasets/{EEE}/resolve/{EEE_SHA}/flat/objects/00/00/0000.json"),
            "EntryNotFound",
        ),
        (
            format!(
                "/datasets/{EEE}/resolve/{}/flat/indexes/by_collection/MMLU-Pro.jsonl",
                "0".repeat(40)
            ),
            "RevisionNotFound",
        ),
        (
            format!("/datasets/{OPEN_EVALS}/resolve/{OPEN_EVALS_SHA}/data/other.parquet"),
            "EntryNotFound",
        ),
        (
            "/datasets/nobody/nothing/resolve/main/x.json".to_owned(),
            "RepoNotFound",
        ),
    ] {
        let reply = get(&fake, &path).await;
        assert_eq!(
            (reply.status, reply.header("x-error-code")),
            (404, Some(code)),
            "{path}"
        );
    }
    let reply = get(
        &fake,
        &format!("/datasets/{EEE}/resolve/main/flat/latest_manifest.json"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.json()["aggregate_file_count"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn the_open_evals_parquet_has_the_cards_columns_and_rows() {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;
    let fake = start(FakeConfig::default()).await;
    let reply = get(
        &fake,
        &format!("/datasets/{OPEN_EVALS}/resolve/{OPEN_EVALS_SHA}/{OPEN_EVALS_FILE}"),
    )
    .await;
    assert_eq!(reply.status, 302);
    let location = reply.header("location").unwrap().to_owned();
    let file = get(&fake, &location).await;
    assert_eq!(file.status, 200);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(file.body),
    )
    .unwrap()
    .build()
    .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let columns: Vec<(&str, String)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().to_string()))
        .collect();
    let expected: Vec<(&str, String)> = OPEN_EVALS_COLUMNS
        .iter()
        .map(|(n, t)| {
            (
                *n,
                match *t {
                    "string" => "Utf8",
                    "int64" => "Int64",
                    _ => "Float64",
                }
                .to_owned(),
            )
        })
        .collect();
    assert_eq!(columns, expected);
    assert_eq!(columns.len(), 23);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, OPEN_EVALS_ROWS);
    assert_eq!(rows, 93);
    let ids: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids, fakehf::open_evals_model_ids(fake.catalogue()));
    for id in [
        "deepseek-ai/DeepSeek-V4-Pro",
        "zai-org/GLM-5",
        "openai/gpt-5",
        "google/gemma-3-27b-it",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id}");
    }
    let swe = batches[0]
        .column_by_name("sweVerified_score")
        .unwrap()
        .as_primitive::<arrow_array::types::Float64Type>();
    assert!(swe.null_count() > 0);
    // Revision, redirect, file.
    assert_eq!(fake.requests().datastores(), 2);
}

#[tokio::test]
async fn extra_records_are_served_in_their_collections() {
    let record = json!({
        "schema_version": "0.3.0",
        "evaluation_id": "my-bench/acme_model/1780000000.5",
        "retrieved_timestamp": "1780000000.5",
        "model_info": {"name": "model", "id": "acme/model", "additional_details": {}},
        "evaluation_results": []
    });
    let fake = start(FakeConfig {
        eee_extra_records: vec![
            ("my-bench".into(), record.clone()),
            ("MMLU-Pro".into(), record.clone()),
        ],
        ..FakeConfig::default()
    })
    .await;
    for collection in ["my-bench", "MMLU-Pro"] {
        let rows = index(&fake, collection).await;
        let row = rows
            .iter()
            .find(|r| r["legacy_path"].as_str().unwrap().contains("/acme/model/"))
            .unwrap();
        let body = checked(
            &fake,
            row["object_path"].as_str().unwrap(),
            &row["sha256"],
            &row["size_bytes"],
        )
        .await;
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), record);
    }
}

#[tokio::test]
async fn datastore_faults_apply_to_these_routes_only() {
    let fake = start(FakeConfig::default()).await;
    fake.inject(Route::Datastore, Fault::rate_limited(1), 1);
    fake.inject(Route::Datastore, Fault::Truncated(10), 1);
    // The contents dataset is not a datastore route: no fault, not counted.
    let contents = get(
        &fake,
        "/datasets/open-llm-leaderboard/contents/resolve/main/data/train-00000-of-00001.parquet",
    )
    .await;
    assert_eq!(contents.status, 302);
    let path = format!("/api/datasets/{EEE}/revision/main");
    let limited = get(&fake, &path).await;
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (429, Some("1"))
    );
    assert_eq!(get(&fake, &path).await.body.len(), 10);
    assert_eq!(get(&fake, &path).await.json()["sha"], EEE_SHA);
    assert_eq!(fake.requests().datastores(), 3);
    fake.inject(
        Route::Datastore,
        Fault::Slow(std::time::Duration::from_millis(200)),
        1,
    );
    let started = std::time::Instant::now();
    assert_eq!(get(&fake, &path).await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
}
