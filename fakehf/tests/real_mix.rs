//! The fake Hub with and without the real mix of 2026 (`FakeConfig::real_mix`).

use std::fmt::Write as _;

use fakehf::{FakeConfig, FakeHf};
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

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
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
