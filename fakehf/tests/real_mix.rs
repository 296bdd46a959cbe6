//! The fake Hub with and without the real mix of 2026 (`FakeConfig::real_mix`).

use std::fmt::Write as _;

use fakehf::catalogue::{MixModel, REAL_MIX};
use fakehf::{FakeConfig, FakeHf};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One plain HTTP/1.1 GET: (status line, `link` header, body).
async fn get(fake: &FakeHf, path: &str) -> (String, Option<String>, String) {
    let addr = fake.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let link = lines
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("link"))
        .map(|(_, v)| v.replace(&addr.to_string(), "HOST"));
    (status, link, body.to_owned())
}

/// The hash of a body, a JSON one with its keys in sorted order: serde_json keeps
/// insertion order when another crate of the workspace turns on its `preserve_order`
/// feature (as `cargo test --workspace` builds it) and sorted order otherwise, and the
/// same response must hash the same under both.
fn fnv(s: &str) -> u64 {
    let canonical = match serde_json::from_str::<serde_json::Value>(s) {
        Ok(value) => sorted(&value),
        Err(_) => s.to_owned(),
    };
    canonical.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// `value` with every object's keys in sorted order.
fn sorted(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(k.as_str()),
                        sorted(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(sorted).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Requests whose answers without the real mix must stay as they were on `main`
/// before the mix existed (tests/golden/default-responses.txt was taken there).
const GOLDEN_PATHS: [&str; 12] = [
    "/api/models?pipeline_tag=text-generation&sort=downloads&limit=100",
    "/api/models?pipeline_tag=text-generation&sort=downloads&limit=1000&expand[]=downloads&expand[]=safetensors&expand[]=config&expand[]=tags&expand[]=pipeline_tag&expand[]=cardData",
    "/api/models?pipeline_tag=text-generation&sort=downloads&limit=300&cursor=eyIkb2Zmc2V0IjozMDB9",
    "/api/models?sort=downloads&limit=50",
    "/api/models?pipeline_tag=image-text-to-text&sort=downloads&limit=100",
    "/api/models?pipeline_tag=any-to-any&sort=downloads&limit=100",
    "/api/models?pipeline_tag=text-generation&filter=conversational&limit=20",
    "/api/models?pipeline_tag=text-generation&filter=image-text-to-text&limit=20",
    "/api/models?author=meta-llama&limit=20",
    "/api/models/meta-llama/Llama-3.1-8B-Instruct",
    "/api/models/Qwen/Qwen3-VL-8B-Instruct",
    "/api/models/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF?expand[]=safetensors&expand[]=tags",
];

async fn default_responses() -> String {
    let fake = FakeHf::start(FakeConfig::default()).await.unwrap();
    let mut out = String::new();
    for path in GOLDEN_PATHS {
        let (status, link, body) = get(&fake, path).await;
        writeln!(
            out,
            "{path}\n  {status} link={link:?} bytes={} fnv={:016x}",
            body.len(),
            fnv(&body)
        )
        .unwrap();
    }
    // Another night, new models and no odd ones: the other paths through the catalogue.
    let fake = FakeHf::start(FakeConfig {
        models: 400,
        odd_models: false,
        new_models: 40,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    fake.set_night(2);
    for path in &GOLDEN_PATHS[..2] {
        let (status, link, body) = get(&fake, path).await;
        writeln!(
            out,
            "night 2, new models: {path}\n  {status} link={link:?} bytes={} fnv={:016x}",
            body.len(),
            fnv(&body)
        )
        .unwrap();
    }
    out
}

#[tokio::test]
async fn without_the_real_mix_the_responses_are_as_on_main() {
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/default-responses.txt"
    );
    let now = default_responses().await;
    if std::env::var_os("FAKEHF_WRITE_GOLDEN").is_some() {
        std::fs::write(golden, &now).unwrap();
    }
    assert_eq!(now, std::fs::read_to_string(golden).unwrap());
}

const EXPAND: &str = "expand[]=downloads&expand[]=pipeline_tag&expand[]=tags&expand[]=safetensors&expand[]=config&expand[]=cardData&expand[]=library_name";

/// Every item of a listing, following its `Link` cursors, and the pages it took.
async fn listing(fake: &FakeHf, query: &str) -> (Vec<Value>, usize) {
    let mut path = format!("/api/models?{query}");
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let (status, link, body) = get(fake, &path).await;
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{path}: {status} {body}"
        );
        pages += 1;
        let page: Vec<Value> = serde_json::from_str(&body).unwrap();
        items.extend(page);
        match link {
            Some(link) => {
                let next = link.split_once("HOST").unwrap().1;
                path = next.split_once('>').unwrap().0.to_owned();
            }
            None => return (items, pages),
        }
    }
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

fn mix_ids(f: impl Fn(&MixModel) -> bool) -> Vec<&'static str> {
    REAL_MIX.iter().filter(|m| f(m)).map(|m| m.id).collect()
}

async fn real_mix() -> FakeHf {
    FakeHf::start(FakeConfig {
        real_mix: true,
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

const DEFAULT_TAGS: [&str; 3] = ["text-generation", "image-text-to-text", "any-to-any"];

#[tokio::test]
async fn each_default_listing_is_its_own_tag_by_downloads() {
    let fake = real_mix().await;
    for tag in DEFAULT_TAGS {
        let (items, pages) = listing(
            &fake,
            &format!("pipeline_tag={tag}&sort=downloads&direction=-1&limit=100&{EXPAND}"),
        )
        .await;
        assert!(!items.is_empty(), "{tag}");
        for m in &items {
            assert_eq!(m["pipeline_tag"], tag, "{}", m["id"]);
            let tags = m["tags"].as_array().unwrap();
            assert!(tags.iter().any(|t| t == tag), "{}", m["id"]);
        }
        let downloads: Vec<u64> = items
            .iter()
            .map(|m| m["downloads"].as_u64().unwrap())
            .collect();
        assert!(
            downloads.windows(2).all(|w| w[0] >= w[1]),
            "{tag}: {downloads:?}"
        );
        // The mix's models of this tag are all there, in their download order.
        let listed = ids(&items);
        let mixed: Vec<&str> = listed
            .iter()
            .copied()
            .filter(|id| REAL_MIX.iter().any(|m| m.id == *id))
            .collect();
        assert_eq!(mixed, mix_ids(|m| m.pipeline_tag == tag), "{tag}");
        if tag == "text-generation" {
            assert_eq!(items.len(), 1000 + mixed.len());
            assert_eq!(pages, items.len().div_ceil(100));
        } else {
            // Only the mix has these tags; one page holds them, and says there is no more.
            assert_eq!(listed, mixed, "{tag}");
            assert_eq!(pages, 1);
        }
    }
}

#[tokio::test]
async fn the_flagships_are_in_their_real_tags_listing_only() {
    let fake = real_mix().await;
    let mut listed = Vec::new();
    for tag in DEFAULT_TAGS {
        let (items, _) = listing(&fake, &format!("pipeline_tag={tag}&limit=1000")).await;
        listed.push((
            tag,
            ids(&items)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        ));
    }
    // pipeline-tags.md, one row each.
    let real = [
        ("google/gemma-3-4b-it", "image-text-to-text"),
        ("google/gemma-3-27b-it", "image-text-to-text"),
        (
            "meta-llama/Llama-4-Scout-17B-16E-Instruct",
            "image-text-to-text",
        ),
        (
            "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
            "image-text-to-text",
        ),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "image-text-to-text"),
        ("Qwen/Qwen3-VL-8B-Instruct", "image-text-to-text"),
        ("google/gemma-4-31B-it", "image-text-to-text"),
        ("google/gemma-4-26B-A4B-it", "image-text-to-text"),
        ("google/gemma-4-E2B-it", "any-to-any"),
        ("google/gemma-4-E4B-it", "any-to-any"),
        ("Qwen/Qwen2.5-Omni-7B", "any-to-any"),
        ("google/gemma-3-1b-it", "text-generation"),
        ("openai/gpt-oss-20b", "text-generation"),
        ("deepseek-ai/DeepSeek-R1", "text-generation"),
    ];
    for (id, tag) in real {
        let found: Vec<&str> = listed
            .iter()
            .filter(|(_, ids)| ids.iter().any(|i| i == id))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(found, [tag], "{id}");
    }
    // The multimodal flagships interleave with the text-generation top: merged by
    // downloads, the top ten of the three listings hold some of each.
    let (mut top, _) = listing(&fake, &format!("limit=15&{EXPAND}")).await;
    top.truncate(10);
    let multimodal = top
        .iter()
        .filter(|m| m["pipeline_tag"] != "text-generation")
        .count();
    assert!((3..=7).contains(&multimodal), "{:?}", ids(&top));
    assert_eq!(top[1]["id"], "Qwen/Qwen3-VL-8B-Instruct");
    assert_eq!(top[1]["downloads"], 15_200_000);
}

#[tokio::test]
async fn test_repos_are_listed_under_their_tag_near_the_top() {
    let fake = real_mix().await;
    let (text, _) = listing(
        &fake,
        &format!("pipeline_tag=text-generation&limit=50&{EXPAND}"),
    )
    .await;
    let text = &text[..50];
    let at = |id: &str| ids(text).iter().position(|i| *i == id);
    let trl = at("trl-internal-testing/tiny-Qwen2ForCausalLM-2.5").expect("in the top 50");
    assert!(trl < 15, "{trl}");
    assert_eq!(text[trl]["downloads"], 3_036_239);
    assert_eq!(text[trl]["safetensors"]["parameters"]["F32"], 2_432_504);
    assert!(at("hf-internal-testing/tiny-random-LlamaForCausalLM").is_some_and(|r| r < 25));
    // Its real tag is image-to-text, so none of the default listings has it.
    let (image, _) = listing(&fake, &format!("pipeline_tag=image-to-text&{EXPAND}")).await;
    assert_eq!(
        ids(&image),
        ["trl-internal-testing/tiny-Qwen2_5_VLForConditionalGeneration"]
    );
    assert_eq!(image[0]["downloads"], 188_105);
    assert_eq!(image[0]["safetensors"]["total"], 9_021_344);
    // The small ones sit by their downloads further down.
    let (all, _) = listing(
        &fake,
        "pipeline_tag=text-generation&limit=1000&expand[]=downloads",
    )
    .await;
    for (id, downloads) in [
        ("illuin/tiny-random-MistralForCausalLM", 36_300),
        ("hyper-accel/tiny-random-llama", 11_000),
    ] {
        let m = all.iter().find(|m| m["id"] == id).expect(id);
        assert_eq!(m["downloads"], downloads);
    }
}

#[tokio::test]
async fn quantised_repos_carry_their_maps_and_configs() {
    let fake = real_mix().await;
    let info = |id: &str| {
        let fake = &fake;
        let path = format!("/api/models/{id}");
        async move {
            let (status, _, body) = get(fake, &path).await;
            assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
            serde_json::from_str::<Value>(&body).unwrap()
        }
    };
    let cases = [
        // (id, parameters, total, quant_method): packed-quant/SUMMARY.md and its spec.
        (
            "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
            json!({"I32": 6_979_321_856u64, "F16": 1_052_315_648u64}),
            8_031_637_504u64,
            Some("compressed-tensors"),
        ),
        (
            "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit",
            json!({"BF16": 1_050_939_392u64, "U8": 6_979_321_856u64}),
            8_030_261_248,
            Some("bitsandbytes"),
        ),
        (
            "openai/gpt-oss-20b",
            json!({"BF16": 1_804_459_584u64, "U8": 19_110_297_600u64}),
            20_914_757_184,
            Some("mxfp4"),
        ),
        (
            "graelo/Qwen2.5-7B-Instruct-1M-AWQ",
            json!({"I32": 822_033_408u64, "BF16": 1_090_328_064u64, "F16": 50_978_816u64}),
            1_963_340_288,
            Some("awq"),
        ),
        (
            "Qwen/Qwen2.5-7B-Instruct-AWQ",
            json!({"I32": 6_525_288_448u64, "F16": 1_090_328_064u64}),
            7_615_616_512,
            Some("awq"),
        ),
        (
            "TelperionAI/Qwen3.8-27B-INT4-AWQ-GPTQ",
            json!({"I32": 2_741_827_584u64, "BF16": 5_097_461_776u64}),
            7_839_289_360,
            Some("gptq"),
        ),
        (
            "ZonglinY/MOOSE-Star-R1D-7B",
            json!({"BF16": 7_615_616_512u64}),
            333_312,
            None,
        ),
    ];
    for (id, parameters, total, method) in cases {
        let m = info(id).await;
        assert_eq!(m["safetensors"]["parameters"], parameters, "{id}");
        assert_eq!(m["safetensors"]["total"], total, "{id}");
        let q = &m["config"]["quantization_config"];
        assert_eq!(q["quant_method"].as_str(), method, "{id}");
    }
    let awq = info("graelo/Qwen2.5-7B-Instruct-1M-AWQ").await;
    assert_eq!(
        awq["config"]["quantization_config"],
        json!({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm"})
    );
    assert_eq!(awq["cardData"]["base_model"], "Qwen/Qwen2.5-7B-Instruct-1M");
    assert!(awq["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "base_model:quantized:Qwen/Qwen2.5-7B-Instruct-1M"));
    let bnb = info("unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit").await;
    assert_eq!(bnb["config"]["quantization_config"]["load_in_4bit"], true);
    // A list item is the same object as the model's own page, field for field.
    let (items, _) = listing(&fake, &format!("search=AWQ&limit=10&{EXPAND}")).await;
    for item in &items {
        let id = item["id"].as_str().unwrap();
        let (_, _, body) = get(&fake, &format!("/api/models/{id}?{EXPAND}")).await;
        assert_eq!(&serde_json::from_str::<Value>(&body).unwrap(), item, "{id}");
    }
    // The mix's three and a real leaderboard model, maldv/Awqward2.5-32B-Instruct.
    assert_eq!(items.len(), 4, "{:?}", ids(&items));
}

#[tokio::test]
async fn filter_values_are_anded_over_the_tags() {
    let fake = real_mix().await;
    let (items, _) = listing(&fake, "pipeline_tag=any-to-any&filter=image-text-to-text").await;
    assert_eq!(ids(&items), ["google/gemma-4-E4B-it"]);
    let (items, _) = listing(&fake, "filter=image-text-to-text&filter=gemma4").await;
    assert_eq!(
        ids(&items),
        [
            "google/gemma-4-31B-it",
            "google/gemma-4-E4B-it",
            "google/gemma-4-26B-A4B-it"
        ]
    );
    let (items, _) = listing(&fake, "filter=conversational&filter=no-such-tag").await;
    assert!(items.is_empty());
    // Paged, a filtered listing still ends where the matches end.
    let (items, pages) = listing(&fake, "filter=awq&limit=1").await;
    assert_eq!(
        ids(&items),
        [
            "Qwen/Qwen2.5-7B-Instruct-AWQ",
            "graelo/Qwen2.5-7B-Instruct-1M-AWQ"
        ]
    );
    assert_eq!(pages, 2);
    // `library`: the mix's own (Mistral Small 3.1 has no Transformers badge).
    let (items, _) = listing(&fake, "pipeline_tag=image-text-to-text&library=vllm").await;
    assert_eq!(
        ids(&items),
        ["mistralai/Mistral-Small-3.1-24B-Instruct-2503"]
    );
}

#[tokio::test]
async fn on_another_night_the_mixed_listing_is_still_by_downloads() {
    let fake = real_mix().await;
    fake.set_night(3);
    for tag in DEFAULT_TAGS {
        let (items, _) = listing(&fake, &format!("pipeline_tag={tag}&expand[]=downloads")).await;
        let downloads: Vec<u64> = items
            .iter()
            .map(|m| m["downloads"].as_u64().unwrap())
            .collect();
        assert!(downloads.windows(2).all(|w| w[0] >= w[1]), "{tag}");
    }
}

#[test]
fn the_binary_serves_the_real_mix_with_its_flag() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fakehf"))
        .args(["--models", "20", "--real-mix"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("fakehf starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first.trim().strip_prefix("http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /api/models?pipeline_tag=any-to-any HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let items: Vec<Value> = serde_json::from_str(body).unwrap();
    assert_eq!(ids(&items), mix_ids(|m| m.pipeline_tag == "any-to-any"));
}
