//! What a run may and may not do to the output over its life: a complete run is never
//! rewritten, a partial one only grows, a run whose lock is taken stops, and `prepare`
//! gives the same bytes whenever it runs.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::*;

async fn start_fake(models: usize, latency: Duration) -> FakeHf {
    FakeHf::start(FakeConfig {
        models,
        latency,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn manifest(cli: &Cli, run: &str) -> serde_json::Value {
    let path = cli.out().join("runs").join(run).join("manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every file of a run, by path, with its bytes.
fn snapshot(cli: &Cli, run: &str) -> HashMap<String, Vec<u8>> {
    let root = cli.out().join("runs").join(run);
    files_under(&root)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(&root).unwrap().display().to_string(), bytes)
        })
        .collect()
}

fn datasets(cli: Cli, fake: &FakeHf) -> Cli {
    cli.leaderboard_on(fake)
        .env("HFHARVEST__LEADERBOARD__SOURCE", "datasets")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_complete_run_is_never_rewritten() {
    let fake = start_fake(60, Duration::ZERO).await;
    let cli = datasets(Cli::new(&fake), &fake);
    cli.run(&["run", "--limit", "12", "--run-id", "done"])
        .await
        .assert_ok();
    assert_eq!(manifest(&cli, "done")["status"], "complete");
    let before = snapshot(&cli, "done");
    let latest = std::fs::read(cli.out().join("latest.json")).unwrap();
    let one = read_csv(&cli.out().join("runs/done/models.csv"))[0]["model_id"].clone();

    for args in [
        vec!["scores", "--run-id", "done", "--models", one.as_str()],
        vec!["models", "--run-id", "done", "--limit", "3"],
        vec!["run", "--run-id", "done", "--limit", "3"],
    ] {
        let refused = cli.run(&args).await;
        assert_eq!(refused.code(), 2, "{args:?}: {}", refused.stderr());
        assert!(
            refused.stderr().contains("run done is complete"),
            "{}",
            refused.stderr()
        );
    }
    assert_eq!(snapshot(&cli, "done"), before, "not one byte changed");
    assert_eq!(
        std::fs::read(cli.out().join("latest.json")).unwrap(),
        latest
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_runs_outputs_only_grow() {
    let fake = start_fake(60, Duration::ZERO).await;
    let cli = datasets(Cli::new(&fake), &fake);
    cli.run(&["models", "--limit", "10", "--run-id", "p"])
        .await
        .assert_ok();
    assert_eq!(manifest(&cli, "p")["status"], "partial");
    let ids: Vec<String> = read_csv(&cli.out().join("runs/p/models.csv"))
        .into_iter()
        .map(|r| r["model_id"].clone())
        .collect();
    cli.run(&["scores", "--run-id", "p", "--models", &ids[0], &ids[1]])
        .await
        .assert_ok();
    cli.run(&["scores", "--run-id", "p", "--models", &ids[2]])
        .await
        .assert_ok();
    let scored: Vec<String> = read_csv(&cli.out().join("runs/p/leaderboard.csv"))
        .into_iter()
        .map(|r| r["model_id"].clone())
        .collect();
    let mut distinct = scored.clone();
    distinct.dedup();
    assert_eq!(distinct, ids[..3], "three models, in models.csv's order");
    let m = manifest(&cli, "p");
    assert_eq!(m["status"], "partial");
    let stages: Vec<&str> = m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["models", "scores"], "each stage recorded once");
    assert!(
        !cli.out().join("latest.json").exists(),
        "only a whole run is published"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_is_taken_stops_writing() {
    // Slow pages, so the run is still in its models stage when its lock is taken.
    let fake = start_fake(400, Duration::from_millis(400)).await;
    let cli = datasets(Cli::new(&fake), &fake).env("HFHARVEST__HUB__PAGE_SIZE", "10");
    let child = cli
        .command(&["run", "--limit", "400", "--run-id", "victim"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = cli.out().join("lock.json");
    wait_for("the run's lock", Duration::from_secs(30), || lock.exists()).await;
    // Another run's lock, written over this one's (as a run that wrongly judged it
    // expired, or an operator, would).
    let now = chrono::Utc::now();
    let theirs = serde_json::json!({
        "run_id": "thief",
        "owner": "elsewhere:1",
        "acquired_at": now.to_rfc3339(),
        "expires_at": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "token": "thief",
    });
    std::fs::write(&lock, serde_json::to_vec(&theirs).unwrap()).unwrap();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run stops within a renewal or two")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another run took over"), "{stderr}");
    assert_eq!(
        manifest(&cli, "victim")["status"],
        "running",
        "nothing written after the loss, not even the manifest"
    );
    assert!(!cli.out().join("runs/victim/models.csv").exists());
    let left: serde_json::Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
    assert_eq!(left["token"], "thief", "the other run's lock is left alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn prepare_an_hour_later_gives_the_same_bytes() {
    let fake = start_fake(60, Duration::ZERO).await;
    let cli = datasets(Cli::new(&fake), &fake);
    cli.run(&["run", "--limit", "20", "--run-id", "r"])
        .await
        .assert_ok();
    let files = ["dataset.csv", "dataset.parquet", "quality.json"];
    let read = |cli: &Cli| -> Vec<Vec<u8>> {
        files
            .iter()
            .map(|f| std::fs::read(cli.out().join("runs/r").join(f)).unwrap())
            .collect()
    };
    let first = read(&cli);
    // The same binary under a clock an hour (and then a day and an hour) ahead:
    // libfaketime, from Debian's faketime package.
    for offset in ["+1h", "+25h"] {
        let cmd = cli.command(&["prepare", "--run-id", "r"]);
        let program = cmd.as_std().get_program().to_owned();
        let args: Vec<_> = cmd.as_std().get_args().map(|a| a.to_owned()).collect();
        let mut faked = tokio::process::Command::new("faketime");
        faked.arg("-f").arg(offset).arg(program).args(args);
        for (key, value) in cmd.as_std().get_envs() {
            match value {
                Some(v) => faked.env(key, v),
                None => faked.env_remove(key),
            };
        }
        faked.current_dir(cli.workdir.path());
        let output = faked.output().await.expect("faketime runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(read(&cli), first, "prepare at {offset} changed the data");
    }
    // The clock was really moved for the binary.
    let faked = std::process::Command::new("faketime")
        .args(["-f", "+25h", "date", "+%s"])
        .output()
        .unwrap();
    let shown: i64 = String::from_utf8_lossy(&faked.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(shown - chrono::Utc::now().timestamp() > 24 * 3600);
}

/// Every file a run leaves gets the usual mode, 0666 less the process's umask, as a
/// file `open(2)` creates does, so a notebook pod with another uid (in the group, or
/// any, as the operator's umask says) reads the volume. Before, the store wrote each
/// file through a private temporary file and left it 0600.
#[tokio::test(flavor = "multi_thread")]
async fn output_files_take_the_umask_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let fake = start_fake(40, Duration::ZERO).await;
    for umask in [0o022, 0o027] {
        let cli = datasets(Cli::new(&fake), &fake);
        let mut cmd = cli.command(&["run", "--limit", "12", "--run-id", "modes"]);
        // SAFETY: between fork and exec the child only calls umask(2), which is
        // async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                libc::umask(umask);
                Ok(())
            });
        }
        let out = cmd.output().await.expect("the job runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files = files_under(&cli.out());
        assert!(files.len() > 10, "{files:?}");
        let want = 0o666 & !umask;
        let wrong: Vec<String> = files
            .iter()
            .filter_map(|p| {
                let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
                (mode != want).then(|| format!("{} {mode:o}", p.display()))
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "umask {umask:o}: want {want:o}, got {wrong:?}"
        );
    }
}
