//! One evaluation result, from any of its three sources, checked where it enters: the
//! Hub's `evalResults` items, a benchmark's leaderboard entries, and `model-index` in a
//! model card. A result that cannot be used is skipped with the reason, never guessed.

use crate::records::{EvalResult, EvalSource, Scaled};
use serde_json::Value;

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_owned()
}

/// A score: a finite JSON number, on 0–100. The Hub's results do not say their scale
/// (the spec's own examples are 20.90 and 0.412), so it is read from the value
/// ([`Scaled::by_value`]). `"86.2%"` is not a score.
fn score(v: &Value) -> Result<Scaled, String> {
    number(v).and_then(Scaled::by_value)
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("value {n} is not a finite number")),
        Value::Null => Err("no value".into()),
        other => Err(format!("value {} is not a number", short(other))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// A `YYYY-MM-DD` (or an RFC 3339 time's date), or empty.
fn date(v: &Value) -> String {
    let raw = text(v);
    let day: String = raw.chars().take(10).collect();
    let ok = day.len() == 10
        && day.as_bytes()[4] == b'-'
        && day.as_bytes()[7] == b'-'
        && day.chars().filter(char::is_ascii_digit).count() == 8;
    if ok {
        day
    } else {
        String::new()
    }
}

/// A benchmark dataset id: `org/name`, or a bare name.
fn benchmark_id(v: &Value) -> Result<String, String> {
    let id = text(v);
    let valid = !id.is_empty()
        && id.len() <= 200
        && id.matches('/').count() <= 1
        && !id.starts_with('/')
        && !id.ends_with('/')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(id)
    } else if id.is_empty() {
        Err("no benchmark dataset id".into())
    } else {
        Err(format!("benchmark id {} is not a dataset id", short(v)))
    }
}

/// The URL of a results file in the model's repository, for a result that cites nothing.
fn file_url(endpoint: &str, model: &str, filename: &str) -> String {
    format!(
        "{}/{model}/blob/main/{filename}",
        endpoint.trim_end_matches('/')
    )
}

/// One item of a model's `evalResults`: `{filename, verified, data{dataset{id,
/// task_id}, value, date?, source{url, name?}?}, pullRequest?}`.
pub fn from_eval_results_item(
    model: &str,
    endpoint: &str,
    item: &Value,
) -> Result<EvalResult, String> {
    let data = item
        .get("data")
        .filter(|d| d.is_object())
        .ok_or("no `data`")?;
    let benchmark = benchmark_id(&data["dataset"]["id"])?;
    let scaled = score(&data["value"])?;
    let filename = text(&item["filename"]);
    let url = match data["source"]["url"].as_str() {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => file_url(endpoint, model, &filename),
    };
    Ok(EvalResult {
        benchmark,
        task: text(&data["dataset"]["task_id"]),
        metric: text(&data["metric"]),
        value: scaled.value,
        original: Some(scaled.original()),
        verified: item["verified"].as_bool().unwrap_or(false),
        source: EvalSource::HubEvalResults,
        date: date(&data["date"]),
        url,
        source_name: text(&data["source"]["name"]),
        pull_request: item["pullRequest"].as_u64(),
        filename,
    })
}

/// One entry of a benchmark's leaderboard: `{rank, modelId, value, filename, verified,
/// author, source{url, name, isExternal}?, pullRequest?, notes?}`. Returns its model id.
pub fn from_leaderboard_entry(
    benchmark: &str,
    task: &str,
    endpoint: &str,
    entry: &Value,
) -> Result<(String, EvalResult), String> {
    let model = text(&entry["modelId"]);
    if model.is_empty() {
        return Err("no `modelId`".into());
    }
    let scaled = score(&entry["value"])?;
    let filename = text(&entry["filename"]);
    let url = match entry["source"]["url"].as_str() {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => file_url(endpoint, &model, &filename),
    };
    let result = EvalResult {
        benchmark: benchmark.to_owned(),
        task: task.to_owned(),
        metric: String::new(),
        value: scaled.value,
        original: Some(scaled.original()),
        verified: entry["verified"].as_bool().unwrap_or(false),
        source: EvalSource::HubEvalResults,
        date: String::new(),
        url,
        source_name: text(&entry["source"]["name"]),
        pull_request: entry["pullRequest"].as_u64(),
        filename,
    };
    Ok((model, result))
}

/// Every metric of a card's `model-index` (`null` is none): `[{name, results: [{task,
/// dataset{name, type, config?}, metrics: [{type, value, name?, verified?}], source?}]}]`.
pub fn from_model_index(
    model: &str,
    endpoint: &str,
    index: &Value,
) -> Vec<Result<EvalResult, String>> {
    let mut out = Vec::new();
    let Some(entries) = index.as_array() else {
        if !index.is_null() {
            out.push(Err(format!(
                "`model-index` is {}, not a list",
                short(index)
            )));
        }
        return out;
    };
    let card = format!("{}/{model}", endpoint.trim_end_matches('/'));
    for entry in entries {
        for result in entry["results"].as_array().into_iter().flatten() {
            let dataset = &result["dataset"];
            let benchmark =
                match benchmark_id(&dataset["type"]).or_else(|_| benchmark_id(&dataset["name"])) {
                    Ok(b) => b,
                    Err(e) => {
                        out.push(Err(e));
                        continue;
                    }
                };
            let url = result["source"]["url"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| card.clone());
            let metrics = result["metrics"].as_array().cloned().unwrap_or_default();
            if metrics.is_empty() {
                out.push(Err(format!("{benchmark}: no `metrics`")));
            }
            for metric in metrics {
                out.push(score(&metric["value"]).map(|scaled| EvalResult {
                    benchmark: benchmark.clone(),
                    task: text(&dataset["config"]),
                    metric: text(&metric["type"]),
                    value: scaled.value,
                    original: Some(scaled.original()),
                    // The API adds `verified` to self-reported metrics too; only a
                    // metric the evaluation service signed (a `verifyToken`) is verified.
                    verified: metric["verified"].as_bool().unwrap_or(false)
                        && metric.get("verifyToken").is_some(),
                    source: EvalSource::ModelCard,
                    date: String::new(),
                    url: url.clone(),
                    source_name: text(&result["source"]["name"]),
                    pull_request: None,
                    filename: String::new(),
                }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::preferred;

    fn realdata(name: &str) -> Value {
        let path = crate::testdata::realdata_dir().join("hub").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_hubs_item_shape_reads() {
        let items = realdata("eval-results-items.json");
        let r = from_eval_results_item("microsoft/Phi-3-mini", "https://huggingface.co", &items[0])
            .unwrap();
        assert_eq!(r.benchmark, "openai/gsm8k");
        assert_eq!(r.task, "main");
        assert_eq!(r.value, 86.2);
        assert!(!r.verified);
        assert_eq!(r.date, "2024-04-22");
        assert_eq!(r.url, "https://hf.co/papers/2404.14219");
        assert_eq!(r.pull_request, Some(44), "a community result");
    }

    #[test]
    fn a_real_model_index_reads_and_self_reported_is_not_verified() {
        let info = realdata("model-info-deepset--roberta-base-squad2.json");
        let (results, refused): (Vec<_>, Vec<_>) = from_model_index(
            "deepset/roberta-base-squad2",
            "https://huggingface.co",
            &info["model-index"],
        )
        .into_iter()
        .partition(Result::is_ok);
        let results: Vec<EvalResult> = results.into_iter().map(Result::unwrap).collect();
        // The card's squad_v2 `total` is 11869, the number of questions: not a score on
        // any 0-100 reading, so it is refused with the reason, not kept as one.
        let refused: Vec<String> = refused.into_iter().map(Result::unwrap_err).collect();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(refused[0].contains("11869") && refused[0].contains("outside 0-100"));
        assert_eq!(results.len(), 16);
        let exact = results
            .iter()
            .find(|r| r.benchmark == "squad_v2" && r.metric == "exact_match")
            .unwrap();
        assert_eq!(exact.value, 79.9309);
        assert!(exact.verified, "signed by the evaluation service");
        let squad = results
            .iter()
            .find(|r| r.benchmark == "squad" && r.metric == "exact_match")
            .unwrap();
        assert!(!squad.verified);
        assert!(from_model_index("x/y", "", &Value::Null).is_empty());
    }

    #[test]
    fn malformed_results_are_skipped_with_a_reason() {
        let e = |v: Value| from_eval_results_item("a/b", "https://huggingface.co", &v).unwrap_err();
        assert_eq!(e(serde_json::json!({"filename": "x"})), "no `data`");
        assert!(e(
            serde_json::json!({"data": {"dataset": {"id": "openai/gsm8k"}, "value": "86.2%"}})
        )
        .contains("is not a number"));
        assert_eq!(
            e(serde_json::json!({"data": {"dataset": {"task_id": "main"}, "value": 1.0}})),
            "no benchmark dataset id"
        );
        let no_source = from_eval_results_item(
            "a/b",
            "https://huggingface.co",
            &serde_json::json!({"filename": ".eval_results/x.yaml", "data": {"dataset": {"id": "cais/hle"}, "value": 3.5}}),
        )
        .unwrap();
        assert_eq!(
            no_source.url,
            "https://huggingface.co/a/b/blob/main/.eval_results/x.yaml"
        );
    }

    #[test]
    fn verified_then_newest_never_the_highest() {
        let r = |value: f64, verified: bool, date: &str| EvalResult {
            benchmark: "b".into(),
            task: String::new(),
            metric: String::new(),
            value,
            original: None,
            verified,
            source: EvalSource::HubEvalResults,
            date: date.into(),
            url: format!("u{value}"),
            source_name: String::new(),
            pull_request: None,
            filename: String::new(),
        };
        let all = [
            r(90.0, false, "2025-06-01"),
            r(70.0, true, "2025-01-01"),
            r(75.0, true, "2025-03-01"),
        ];
        assert_eq!(preferred(&all).unwrap().value, 75.0);
        let unverified = [r(90.0, false, "2025-01-01"), r(60.0, false, "2025-02-01")];
        assert_eq!(preferred(&unverified).unwrap().value, 60.0);
    }
}
