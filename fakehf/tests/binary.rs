//! The `fakehf` binary starts, prints its URL and serves the Hub's list endpoint.
//!
//! Besides what it checks, this test makes `cargo test --workspace` build the binary
//! with the test build's features, so the deployment tests (tests/deploy/realrun.py) run
//! it as it is instead of rebuilding half the tree with `cargo build`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn the_binary_prints_its_url_and_serves_the_model_list() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fakehf"))
        .args(["--models", "3"])
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
        .unwrap_or_else(|| panic!("not a URL: {url:?}"));
    assert!(address.starts_with("127.0.0.1:"), "{url}");

    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /api/models?limit=2 HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.contains("\"id\""), "{body}");
}
