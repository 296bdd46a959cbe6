//! What the benches that run the release binary share: the out-of-process fake, and
//! the job's exit status and peak RSS from `wait4`.

use std::process::{Child, Command, Stdio};

/// The fake Hub binary (beside the job's: the target folder's own name may say
/// hfharvest too), started with `args`, and the URL it printed.
pub fn start_fake(args: &[String]) -> (Child, String) {
    let fake_bin = std::path::Path::new(env!("CARGO_BIN_EXE_hfharvest"))
        .with_file_name("fakehf")
        .display()
        .to_string();
    let mut fake = Command::new(&fake_bin)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{fake_bin}: {e} (cargo build --release -p fakehf)"));
    let mut url = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(fake.stdout.take().unwrap()),
        &mut url,
    )
    .unwrap();
    (fake, url.trim().to_owned())
}

/// Wait for our own child; its exit status and peak RSS in KiB.
pub fn wait_with_rusage(pid: libc::pid_t) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: rusage is plain data, and wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}
