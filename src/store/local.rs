//! The local-folder store (the default, `./data`). Writes go to a temporary file in the
//! same folder and are renamed into place, so a crash never leaves a torn file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{DeleteMode, PutMode, Store, StoreError, Version};

/// Temporary files end so, and start with `.`: listings skip them, and
/// [`Store::remove_leftovers`] removes the ones a killed writer left.
const TEMP_SUFFIX: &str = ".tmp";

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root)
            .map_err(|e| StoreError::io("create folder", root.display().to_string(), e))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(StoreError::io(
                "resolve key",
                key,
                "not a clean relative key",
            ));
        }
        Ok(self.root.join(key))
    }
}

/// A new, uniquely named temporary file beside `path`, holding `body`, synced.
///
/// It is created with mode 0666 less the process's umask, as `open(2)` creates any file,
/// not tempfile's private 0600: the object it becomes is an output others read (a
/// notebook pod with another uid on the same volume). The umask is the operator's
/// choice, so a private run sets `umask 077`.
fn temp_beside(path: &Path, body: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    temp_beside_with(path, |temp| temp.write_all(body))
}

/// A temporary file beside `path`, filled by `fill` and synced.
fn temp_beside_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("object");
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    builder.permissions(output_mode());
    let mut temp = builder.tempfile_in(dir)?;
    fill(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// 0666: `open(2)` takes the umask off it.
#[cfg(unix)]
fn output_mode() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o666)
}

/// Make a rename or a link in `path`'s folder durable.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Write `body` to `path` whole: a reader sees the old file or the new one.
fn write_atomically(path: &Path, body: &[u8]) -> std::io::Result<()> {
    temp_beside(path, body)?
        .persist(path)
        .map_err(|e| e.error)?;
    sync_parent(path)
}

fn version_of(body: &[u8]) -> Version {
    let digest = Sha256::digest(body);
    Version(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
}

/// Hold an exclusive lock on `path`'s folder for a compare-and-swap, across processes
/// (`flock` on the folder itself, so no lock file is left behind).
fn cas_guard(path: &Path) -> std::io::Result<File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let guard = File::open(dir)?;
    guard.lock()?;
    Ok(guard)
}

fn read_if_exists(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(body) => Ok(Some(body)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn blocking<T: Send + 'static>(
    op: &'static str,
    shown: String,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::io(op, &shown, e))?
        .map_err(|e| StoreError::io(op, &shown, e))
}

#[async_trait]
impl Store for LocalStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn put(&self, key: &str, body: Bytes, mode: PutMode) -> Result<Version, StoreError> {
        let path = self.path(key)?;
        let location = path.display().to_string();
        let version = version_of(&body);
        match mode {
            PutMode::Overwrite => {
                blocking("write", location, move || write_atomically(&path, &body)).await?;
            }
            // A link that fails if the target exists; the linked file is already complete.
            PutMode::Create => {
                let created = blocking("create", location.clone(), move || {
                    match temp_beside(&path, &body)?.persist_noclobber(&path) {
                        Ok(_) => sync_parent(&path).map(|()| true),
                        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                        Err(e) => Err(e.error),
                    }
                })
                .await?;
                if !created {
                    return Err(StoreError::AlreadyExists { location });
                }
            }
            PutMode::Update(expected) => {
                let replaced = blocking("write", location.clone(), move || {
                    let _guard = cas_guard(&path)?;
                    match read_if_exists(&path)? {
                        Some(current) if version_of(&current) == expected => {
                            write_atomically(&path, &body).map(|()| true)
                        }
                        _ => Ok(false),
                    }
                })
                .await?;
                if !replaced {
                    return Err(StoreError::Precondition { location });
                }
            }
        }
        Ok(version)
    }

    async fn put_file(&self, key: &str, source: &Path) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let source = source.to_path_buf();
        // Copied through a small buffer, not read whole: a CSV can be hundreds of MB.
        blocking("write", path.display().to_string(), move || {
            let mut from = File::open(&source)?;
            temp_beside_with(&path, |temp| std::io::copy(&mut from, temp).map(drop))?
                .persist(&path)
                .map_err(|e| e.error)?;
            sync_parent(&path)
        })
        .await
    }

    async fn get_into(&self, key: &str, file: &mut File) -> Result<bool, StoreError> {
        let path = self.path(key)?;
        let mut into = file
            .try_clone()
            .map_err(|e| StoreError::io("read", path.display().to_string(), e))?;
        blocking(
            "read",
            path.display().to_string(),
            move || match File::open(&path) {
                Ok(mut from) => std::io::copy(&mut from, &mut into).map(|_| true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e),
            },
        )
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => Ok(Some(Bytes::from(body))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", path.display().to_string(), e)),
        }
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, Version)>, StoreError> {
        Ok(self.get(key).await?.map(|body| {
            let version = version_of(&body);
            (body, version)
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        let shown = self.root.display().to_string();
        tokio::task::spawn_blocking(move || list_files(&root, &prefix))
            .await
            .map_err(|e| StoreError::io("list", shown, e))?
    }

    async fn delete(&self, key: &str, mode: DeleteMode) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let location = path.display().to_string();
        let expected = match mode {
            DeleteMode::Any => {
                return match tokio::fs::remove_file(&path).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(StoreError::io("delete", location, e)),
                }
            }
            DeleteMode::IfMatch(expected) => expected,
        };
        let deleted = blocking("delete", location.clone(), move || {
            let _guard = cas_guard(&path)?;
            match read_if_exists(&path)? {
                Some(current) if version_of(&current) == expected => {
                    std::fs::remove_file(&path)?;
                    sync_parent(&path).map(|()| true)
                }
                _ => Ok(false),
            }
        })
        .await?;
        if deleted {
            Ok(())
        } else {
            Err(StoreError::Precondition { location })
        }
    }

    async fn list_files(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = self.path(prefix.trim_end_matches('/'))?;
        let prefix = prefix.to_owned();
        blocking("list", dir.display().to_string(), move || {
            let mut files = Vec::new();
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type()?.is_file() && !name.starts_with('.') {
                    files.push(format!("{prefix}{name}"));
                }
            }
            files.sort();
            Ok(files)
        })
        .await
    }

    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = self.path(prefix.trim_end_matches('/'))?;
        let prefix = prefix.to_owned();
        blocking("list", dir.display().to_string(), move || {
            let mut folders = Vec::new();
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(folders),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type()?.is_dir() && !name.starts_with('.') {
                    folders.push(format!("{prefix}{name}/"));
                }
            }
            folders.sort();
            Ok(folders)
        })
        .await
    }

    /// The folder goes whole, so no empty folders are left behind.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        let dir = self.path(prefix.trim_end_matches('/'))?;
        let count = self.list(prefix).await?.len() as u64;
        blocking(
            "delete",
            dir.display().to_string(),
            move || match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        )
        .await?;
        Ok(count)
    }

    async fn remove_leftovers(&self) -> Result<u64, StoreError> {
        let root = self.root.clone();
        blocking("clean", self.describe(), move || remove_temp_files(&root)).await
    }
}

/// Remove every temporary file under `root`.
fn remove_temp_files(root: &Path) -> std::io::Result<u64> {
    let mut removed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Keys under `prefix`; the walk starts at the prefix's folder so a big store is not scanned whole.
fn list_files(root: &Path, prefix: &str) -> Result<Vec<String>, StoreError> {
    let start_dir = match prefix.rfind('/') {
        Some(i) => root.join(&prefix[..i]),
        None => root.to_path_buf(),
    };
    let mut keys = Vec::new();
    let mut stack = vec![start_dir];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io("list", dir.display().to_string(), e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", dir.display().to_string(), e))?;
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue; // our temporary files
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if key.starts_with(prefix) {
                    keys.push(key);
                }
            }
        }
    }
    keys.sort();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_overwrites_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store
            .put(
                "runs/a/x.json",
                Bytes::from_static(b"1"),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        store
            .put(
                "runs/a/x.json",
                Bytes::from_static(b"2"),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        store
            .put(
                "runs/b/y.json",
                Bytes::from_static(b"3"),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        assert_eq!(store.get("runs/a/x.json").await.unwrap().unwrap(), "2");
        assert_eq!(store.get("runs/a/none").await.unwrap(), None);
        assert_eq!(store.list("runs/a/").await.unwrap(), vec!["runs/a/x.json"]);
        store
            .put(
                "runs/a/checkpoints/scores/m.json",
                Bytes::from_static(b"4"),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        assert_eq!(
            store.list_files("runs/a/").await.unwrap(),
            vec!["runs/a/x.json"]
        );
        store
            .delete("runs/a/checkpoints/scores/m.json", DeleteMode::Any)
            .await
            .unwrap();
        assert_eq!(store.list("runs/").await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn local_store_keeps_its_conditions() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let mine = store
            .put("lock", Bytes::from_static(b"me"), PutMode::Create)
            .await
            .expect("created");
        assert!(matches!(
            store
                .put("lock", Bytes::from_static(b"you"), PutMode::Create)
                .await,
            Err(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(store.get("lock").await.unwrap().unwrap(), "me");
        // Compare-and-swap: only from the version read.
        let (_, read) = store.get_versioned("lock").await.unwrap().unwrap();
        assert_eq!(read, mine);
        let next = store
            .put(
                "lock",
                Bytes::from_static(b"me again"),
                PutMode::Update(mine.clone()),
            )
            .await
            .expect("still mine");
        assert!(matches!(
            store
                .put(
                    "lock",
                    Bytes::from_static(b"stale"),
                    PutMode::Update(mine.clone())
                )
                .await,
            Err(StoreError::Precondition { .. })
        ));
        assert!(matches!(
            store.delete("lock", DeleteMode::IfMatch(mine)).await,
            Err(StoreError::Precondition { .. })
        ));
        assert!(store
            .delete("lock", DeleteMode::IfMatch(next))
            .await
            .is_ok());
        store.delete("lock", DeleteMode::Any).await.unwrap();
        assert!(store
            .put("../escape", Bytes::new(), PutMode::Overwrite)
            .await
            .is_err());
        // Nothing temporary is left, and nothing temporary is listed.
        assert_eq!(store.remove_leftovers().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_killed_writers_temp_files_are_removed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store
            .put(
                "runs/a/checkpoints/scores/x.json",
                Bytes::from_static(b"{}"),
                PutMode::Overwrite,
            )
            .await
            .unwrap();
        // What a writer killed between its write and its rename leaves.
        let folder = dir.path().join("runs/a/checkpoints/scores");
        std::fs::write(folder.join(".y.json.Ab12Cd.tmp"), b"{half").unwrap();
        std::fs::write(dir.path().join(".lock.json.Zz99.tmp"), b"").unwrap();
        assert_eq!(
            store.list("runs/").await.unwrap(),
            vec!["runs/a/checkpoints/scores/x.json"]
        );
        assert_eq!(store.remove_leftovers().await.unwrap(), 2);
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn two_writers_of_one_key_in_one_process_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(LocalStore::open(dir.path()).unwrap());
        let writers = (0..16u8).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .put(
                        "runs/a/same.json",
                        Bytes::from(vec![i; 64 * 1024]),
                        PutMode::Overwrite,
                    )
                    .await
            })
        });
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        let body = store.get("runs/a/same.json").await.unwrap().unwrap();
        assert_eq!(body.len(), 64 * 1024);
        assert!(
            body.iter().all(|b| *b == body[0]),
            "one writer's whole body"
        );
    }
}
