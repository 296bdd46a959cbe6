//! The `fakehf` binary starts, prints its URL and serves the Hub's list endpoint.
//!
//! Besides what it checks, this test makes `cargo test --workspace` build the binary
//! with the test build's features, so the deployment tests (tests/deploy/realrun.py) run
//! it as it is instead of rebuilding half the tree with `cargo build`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// The binary, started with `args`, and the address it printed.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fakehf"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("fakehf starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim();
    let address = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not a URL: {url:?}"))
        .to_owned();
    assert!(address.starts_with("127.0.0.1:"), "{url}");
    (child, address)
}

/// The status line and body of a GET (HTTP/1.0, so the body is not chunked).
fn get(address: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

#[test]
fn the_binary_prints_its_url_and_serves_the_model_list() {
    let (mut child, address) = start(&["--models", "3"]);
    let (status, body) = get(&address, "/api/models?limit=2");
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.contains(" 200"), "{status}");
    assert!(body.contains("\"id\""), "{body}");
}

#[test]
fn formatted_decimals_rounds_the_leaderboard_apis_floats() {
    let (mut child, address) = start(&["--models", "3", "--formatted-decimals", "2"]);
    let (status, body) = get(&address, "/api/leaderboard/formatted");
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.contains(" 200"), "{status}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).expect("JSON rows");
    let score = &rows[0]["evaluations"]["ifeval"]["normalized_score"];
    let text = score.to_string();
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(score.is_number() && decimals <= 2, "{text}");
}
