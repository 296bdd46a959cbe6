//! A real S3-compatible server on 127.0.0.1 (`s3s-fs`, from scripts/install-test-deps),
//! over a temporary folder, for the tests that write to S3.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait_for;

pub const BUCKET: &str = "harvest";
pub const KEY_ID: &str = "AKIASENTINELKEYID0042";
pub const SECRET: &str = "sentinel-secret-5f2c9d1e-do-not-print";

pub fn s3s_fs() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("s3s-fs"))
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        let home = std::env::var_os("HOME").expect("HOME");
        let installed = Path::new(&home).join(".cargo/bin/s3s-fs");
        assert!(
            installed.exists(),
            "s3s-fs is not installed: run scripts/install-test-deps"
        );
        installed
    })
}

/// A real S3-compatible server over a folder; each bucket is a sub-folder.
pub struct S3Server {
    pub root: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl S3Server {
    pub async fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            root,
            port,
            child: None,
        };
        server.restart().await;
        server
    }

    /// (Re)start on the same folder and port.
    pub async fn restart(&mut self) {
        let child = Command::new(s3s_fs())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", KEY_ID, "--secret-key", SECRET])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        self.child = Some(child);
        let port = self.port;
        wait_for("s3s-fs to listen", Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The folder the server keeps `s3://harvest/<prefix>` in.
    pub fn dir(&self, prefix: &str) -> PathBuf {
        self.root.path().join(BUCKET).join(prefix)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
