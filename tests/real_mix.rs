//! The LLMs people use today, against the fake Hub's real 2026 mix
//! (`FakeConfig::real_mix`, each entry citing realdata/2026/): the default pipeline
//! tags merged into one top N in download order, test repos left out and listed with
//! their rule, quantised counts unpacked, and as few list requests as the ranking needs.

mod support;

use std::collections::{BTreeMap, HashSet};

use hfharvest::hub::DEFAULT_PIPELINE_TAGS;
use hfharvest::models::fixture_rule;
use hfharvest::records::ModelRecord;
use support::*;

const PAGE: usize = 10;
const TOP: usize = 60;

/// Every model the fake lists under `tag`, in its order (one big page).
async fn listing(fake: &FakeHf, tag: &str) -> Vec<serde_json::Value> {
    let url = format!(
        "{}/api/models?pipeline_tag={tag}&sort=downloads&direction=-1&limit=1000&expand[]=safetensors&expand[]=config&expand[]=downloads&expand[]=cardData&expand[]=tags",
        fake.url()
    );
    reqwest::get(&url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_top_n_merges_every_llm_tag_without_test_repos() {
    let fake = FakeHf::start(FakeConfig {
        models: 300,
        real_mix: true,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    // The expected ranking, from the fake's own listings: every default tag, by
    // downloads, test repos out, each model once.
    let mut all: Vec<(u64, String, &str)> = Vec::new();
    let mut fixtures: Vec<String> = Vec::new();
    let mut per_tag_before_cut: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for tag in DEFAULT_PIPELINE_TAGS {
        for item in listing(&fake, tag).await {
            let record = ModelRecord::from_hub(1, &item).expect("the mix's items are models");
            let downloads = item["downloads"].as_u64().unwrap();
            per_tag_before_cut.entry(tag).or_default().push(downloads);
            if fixture_rule(&record).is_some() {
                fixtures.push(record.model_id);
            } else {
                all.push((downloads, record.model_id, tag));
            }
        }
    }
    all.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let expected: Vec<&str> = all.iter().take(TOP).map(|(_, id, _)| id.as_str()).collect();
    assert!(!fixtures.is_empty(), "the mix has test repos near the top");

    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env(
            "HFHARVEST__HUB__PIPELINE_TAGS",
            &DEFAULT_PIPELINE_TAGS.join(","),
        )
        .env("HFHARVEST__HUB__PAGE_SIZE", &PAGE.to_string());
    cli.run(&["run", "--limit", &TOP.to_string(), "--run-id", "mix"])
        .await
        .assert_ok();
    let run = cli.out().join("runs/mix");
    let models = read_csv(&run.join("models.csv"));
    let ids: Vec<&str> = models.iter().map(|r| r["model_id"].as_str()).collect();
    assert_eq!(
        ids, expected,
        "one ranking over every tag, in download order"
    );
    let distinct: HashSet<String> = ids.iter().map(|id| id.to_lowercase()).collect();
    assert_eq!(distinct.len(), ids.len(), "no model twice");
    for flagship in [
        "Qwen/Qwen3-VL-8B-Instruct",
        "google/gemma-3-4b-it",
        "google/gemma-4-E4B-it",
    ] {
        assert!(
            ids.contains(&flagship),
            "{flagship} in the top {TOP}: {ids:?}"
        );
    }
    for tag in ["image-text-to-text", "any-to-any"] {
        assert!(
            models.iter().any(|r| r["pipeline_tag"] == tag),
            "a {tag} model in the top {TOP}"
        );
    }
    for fixture in &fixtures {
        assert!(!ids.contains(&fixture.as_str()), "{fixture} left out");
    }

    // The test repos that ranked are in quality.json, with the rule that caught them.
    let quality: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("quality.json")).unwrap()).unwrap();
    let caught: Vec<&serde_json::Value> = quality["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["check"] == "test_repo")
        .collect();
    assert!(
        caught.iter().any(
            |q| q["id"] == "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5"
                && q["detail"]
                    .as_str()
                    .unwrap()
                    .contains("trl-internal-testing")
        ),
        "{caught:?}"
    );

    // List requests per tag: within one page of the fewest that reach every model the
    // top N holds, and the stopping point, for each tag.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    let requests = &manifest["stages"][0]["requests"];
    let cutoff = all[TOP - 1].0;
    for tag in DEFAULT_PIPELINE_TAGS {
        // Its items down to the last one that can still rank (above the N-th model),
        // then the page that shows the listing can stop.
        let needed = per_tag_before_cut[tag]
            .iter()
            .filter(|d| **d >= cutoff)
            .count();
        let minimum = needed / PAGE + 1;
        let made = requests[tag].as_u64().unwrap() as usize;
        assert!(
            made <= minimum + 1 && made + 1 >= minimum,
            "{tag}: {made} requests, minimum {minimum}: {requests}"
        );
    }

    // Parameter counts: no model under 10M unless its name says so; quantised repos
    // counted unpacked where the Hub gave packed counts.
    let dataset = read_csv(&run.join("dataset.csv"));
    for row in &dataset {
        if let Ok(b) = row["parameters_b"].parse::<f64>() {
            assert!(
                b >= 0.01 || hfharvest::records::parameters_from_name(&row["model_id"]).is_some(),
                "{} has {b}B parameters",
                row["model_id"]
            );
        }
        assert!(!row["modality"].is_empty(), "{row:?}");
    }
    // The report's Pareto frontier starts at a real model, not a fixture.
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    let frontier = report
        .split(r#"<ol class="frontier" id="frontier">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("a frontier");
    let first = frontier
        .split("<li>")
        .nth(1)
        .and_then(|li| li.split(" &mdash; ").next())
        .expect("a first point");
    assert!(
        !fixtures.iter().any(|f| f == first),
        "the frontier starts at {first}"
    );
    let smallest: f64 = frontier
        .split(" &mdash; ")
        .nth(1)
        .and_then(|rest| rest.split('B').next())
        .and_then(|b| b.parse().ok())
        .expect("its size");
    assert!(
        smallest >= 0.01,
        "the frontier starts at {first}, {smallest}B"
    );
    let modality = |id: &str| {
        dataset
            .iter()
            .find(|r| r["model_id"] == id)
            .map(|r| r["modality"].clone())
    };
    assert_eq!(modality("google/gemma-4-E4B-it").as_deref(), Some("omni"));
    assert_eq!(
        modality("Qwen/Qwen3-VL-8B-Instruct").as_deref(),
        Some("vision-language")
    );
}
