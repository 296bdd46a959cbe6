//! What a person sees in a terminal: the binary runs under a pseudo-terminal
//! (`portable-pty`), and what it writes is rendered by a terminal emulator (`vt100`),
//! so the checks are on screens, as a person sees them, not on the raw bytes: the bars
//! move, none is left behind, no line carries a span path, and the summary names the
//! files and counts. The same run without a terminal gives JSON lines only.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use support::*;

const ROWS: u16 = 40;
const COLS: u16 = 160;

/// What the run wrote to the terminal, chunk by chunk, and how it exited.
struct Captured {
    chunks: Vec<Vec<u8>>,
    success: bool,
}

impl Captured {
    /// Every screen the terminal showed (one per chunk read), and the last.
    fn screens(&self) -> (Vec<String>, vt100::Parser) {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("not zero");
        let mut parser = vt100::Parser::new(size(ROWS), size(COLS), 0);
        let mut screens = Vec::new();
        for chunk in &self.chunks {
            parser.process(chunk);
            screens.push(parser.screen().contents());
        }
        (screens, parser)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.chunks.concat()).into_owned()
    }
}

/// Run the binary as `cli` would, but under a pseudo-terminal of ROWS × COLS, on a
/// thread of its own (the fake Hub serves from the test's runtime meanwhile).
async fn run_in_terminal(cli: &Cli, args: &[&str]) -> Captured {
    let workdir = cli.workdir.path().to_path_buf();
    let envs = cli.envs.clone();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || run_blocking(&workdir, &envs, &args))
        .await
        .expect("the terminal thread")
}

fn run_blocking(workdir: &std::path::Path, envs: &[(String, String)], args: &[String]) -> Captured {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_hfharvest"));
    command.args(args);
    command.cwd(workdir);
    for key in SCRUBBED_ENV {
        command.env_remove(key);
    }
    command.env_remove("NO_COLOR");
    command.env("TERM", "xterm-256color");
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = pty.slave.spawn_command(command).expect("hfharvest starts");
    // Only the child holds the terminal now, so the reader ends when it exits.
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("a reader");
    let reading = std::thread::spawn(move || {
        let mut chunks = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => chunks.push(buf[..n].to_vec()),
            }
        }
        chunks
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hfharvest did not finish within 120 s under a terminal");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(pty.master);
    let chunks = reading.join().expect("the reader thread");
    Captured {
        chunks,
        success: status.success(),
    }
}

/// A progress bar's stage and position, if the line is one:
/// `models [=====>      ]   150/300     210/s eta 1s`.
fn bar(line: &str) -> Option<(String, u64, u64)> {
    let line = line.trim_start();
    let (stage, rest) = line.split_once(" [")?;
    if !["models", "scores"].contains(&stage) {
        return None;
    }
    let (_, after) = rest.split_once(']')?;
    let (pos, len) = after.split_whitespace().next()?.split_once('/')?;
    Some((stage.to_owned(), pos.parse().ok()?, len.parse().ok()?))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_in_a_terminal_shows_moving_bars_short_lines_and_a_summary() {
    let fake = FakeHf::start(FakeConfig {
        models: 400,
        latency: Duration::from_millis(20),
        ..FakeConfig::default()
    })
    .await
    .expect("fake Hub starts");
    // One 429 with Retry-After: the bar says it is waiting, and for how long.
    fake.inject(Route::List, Fault::rate_limited(2), 1);
    // Pages of 50 with a detail request per model, so the models bar has steps to show.
    let cli = Cli::new(&fake)
        .leaderboard_on(&fake)
        .env("HFHARVEST__HUB__PAGE_SIZE", "50")
        .env("HFHARVEST__HUB__DETAIL", "always");
    let args = [
        "run",
        "--limit",
        "300",
        "--run-id",
        "tty1",
        "--leaderboard-source",
        "datasets",
    ];
    let captured = run_in_terminal(&cli, &args).await;
    let (screens, last) = captured.screens();
    let final_screen = last.screen().contents();
    assert!(captured.success, "the run failed:\n{final_screen}");

    // The bars move: several positions of each seen, on screen.
    let mut seen: BTreeSet<(String, u64)> = BTreeSet::new();
    for screen in &screens {
        for line in screen.lines() {
            if let Some((stage, pos, len)) = bar(line) {
                assert_eq!(len, 300, "{line}");
                seen.insert((stage, pos));
            }
        }
    }
    let positions = |stage: &str| seen.iter().filter(|(s, _)| s == stage).count();
    assert!(
        positions("models") >= 3,
        "the models bar should move: {seen:?}\n{final_screen}"
    );
    assert!(
        positions("models") + positions("scores") >= 5,
        "the bars should move: {seen:?}"
    );
    assert!(
        screens
            .iter()
            .any(|s| s.contains("waiting: HTTP 429") && s.contains("left")),
        "the wait for Retry-After shows on the bar"
    );

    // No bar, no spinner left behind on the last screen.
    for line in final_screen.lines() {
        assert!(bar(line).is_none(), "a stale bar: {line:?}\n{final_screen}");
        assert!(!line.contains("waiting:"), "a stale wait: {line:?}");
    }

    // Short lines: no span path, no module path, the URL without its query.
    let text = captured.text();
    for path in ["run{", "stage{", "hfharvest::", "expand[]"] {
        assert!(
            !text.contains(path),
            "{path} written to the terminal:\n{text}"
        );
    }
    let retry = final_screen
        .lines()
        .find(|l| l.contains(" models  WARN retrying url=127.0.0.1:"))
        .unwrap_or_else(|| panic!("the retry is a warning line:\n{final_screen}"));
    assert!(retry.contains("/api/models?… "), "{retry}");
    assert!(
        final_screen.contains(" scores  leaderboard rows loaded"),
        "log lines name their stage:\n{final_screen}"
    );

    // The summary: the counts in the manifest's words, the deltas and the files.
    for expected in [
        "run tty1 complete: ./data/runs/tty1",
        "300 collected",
        " found",
        "not_found",
        "300 rows",
        "300 models",
        "none (no earlier complete run",
        "./data/runs/tty1/dataset.csv",
        "./data/runs/tty1/report.html",
        "./data/runs/tty1/manifest.json",
    ] {
        assert!(
            final_screen.contains(expected),
            "the summary lacks {expected:?}:\n{final_screen}"
        );
    }

    // The same run without a terminal: JSON lines only, in the shape they always had.
    let piped = cli
        .run(&[
            "run",
            "--limit",
            "300",
            "--run-id",
            "piped",
            "--leaderboard-source",
            "datasets",
        ])
        .await;
    piped.assert_ok();
    let stderr = piped.stderr();
    assert!(
        !stderr.contains('\x1b'),
        "no escape codes without a terminal"
    );
    let mut lines = 0;
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for key in ["timestamp", "level", "fields", "target"] {
            assert!(value.get(key).is_some(), "{key} missing: {line}");
        }
        lines += 1;
    }
    assert!(lines > 3, "{stderr}");
    assert!(stderr.contains("\"run piped complete: "), "{stderr}");
    assert!(
        stderr.contains("\"spans\":[{") && stderr.contains("\"name\":\"stage\""),
        "JSON lines keep their spans: {stderr}"
    );
}

/// A failed run in a terminal says which stage failed and what to run to resume.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_says_how_to_resume() {
    let fake = FakeHf::start(FakeConfig {
        models: 60,
        ..FakeConfig::default()
    })
    .await
    .expect("fake Hub starts");
    // The leaderboard's data is not where the settings say: the scores stage fails.
    let cli = Cli::new(&fake)
        .env("HFHARVEST__LEADERBOARD__DATASETS_API", "formatted")
        .env(
            "HFHARVEST__LEADERBOARD__FORMATTED_URL",
            &format!("{}/no-such-leaderboard", fake.url()),
        )
        .env("HFHARVEST__HTTP__MAX_ATTEMPTS", "1");
    let captured = run_in_terminal(&cli, &["run", "--limit", "20", "--run-id", "broken"]).await;
    let (_, last) = captured.screens();
    let screen = last.screen().contents();
    assert!(!captured.success, "{screen}");
    assert!(
        screen.contains("run broken failed in stage scores"),
        "{screen}"
    );
    assert!(screen.contains("20 collected"), "{screen}");
    assert!(
        screen.contains("to resume: hfharvest run --limit 20 --run-id broken"),
        "{screen}"
    );
    let error_lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(error_lines.len(), 1, "one error line:\n{screen}");
    for line in screen.lines() {
        assert!(bar(line).is_none(), "a stale bar: {line:?}\n{screen}");
    }
}
