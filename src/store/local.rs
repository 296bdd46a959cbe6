//! The local-folder store (the default, `./data`). Writes go to a temporary file in the
//! same folder and are renamed into place, so a crash never leaves a torn file.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{Store, StoreError};

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

    fn temp_path(path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object");
        path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
    }
}

fn write_temp(path: &Path, body: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temp = LocalStore::temp_path(path);
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(body)?;
    file.sync_all()?;
    Ok(temp)
}

#[async_trait]
impl Store for LocalStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || {
            let temp = write_temp(&path, &body)?;
            std::fs::rename(&temp, &path)
        })
        .await
        .map_err(|e| StoreError::io("write", &shown, e))?
        .map_err(|e| StoreError::io("write", &shown, e))
    }

    async fn put_file(&self, key: &str, source: &Path) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let shown = path.display().to_string();
        let source = source.to_path_buf();
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let temp = LocalStore::temp_path(&path);
            std::fs::copy(&source, &temp)?;
            std::fs::File::open(&temp)?.sync_all()?;
            std::fs::rename(&temp, &path)
        })
        .await
        .map_err(|e| StoreError::io("write", &shown, e))?
        .map_err(|e| StoreError::io("write", &shown, e))
    }

    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError> {
        let path = self.path(key)?;
        let shown = path.display().to_string();
        // A hard link fails if the target exists, and the linked file is already complete.
        tokio::task::spawn_blocking(move || {
            let temp = write_temp(&path, &body)?;
            let linked = std::fs::hard_link(&temp, &path);
            std::fs::remove_file(&temp)?;
            match linked {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(|e| StoreError::io("create", &shown, e))?
        .map_err(|e| StoreError::io("create", &shown, e))
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => Ok(Some(Bytes::from(body))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", path.display().to_string(), e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        let shown = self.root.display().to_string();
        tokio::task::spawn_blocking(move || list_files(&root, &prefix))
            .await
            .map_err(|e| StoreError::io("list", shown, e))?
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("delete", path.display().to_string(), e)),
        }
    }
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
    async fn local_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store
            .put("runs/a/x.json", Bytes::from_static(b"1"))
            .await
            .unwrap();
        store
            .put("runs/a/x.json", Bytes::from_static(b"2"))
            .await
            .unwrap();
        store
            .put("runs/b/y.json", Bytes::from_static(b"3"))
            .await
            .unwrap();
        assert_eq!(store.get("runs/a/x.json").await.unwrap().unwrap(), "2");
        assert_eq!(store.get("runs/a/none").await.unwrap(), None);
        assert_eq!(store.list("runs/a/").await.unwrap(), vec!["runs/a/x.json"]);
        assert_eq!(store.list("runs/").await.unwrap().len(), 2);
        assert!(store
            .put_if_absent("lock", Bytes::from_static(b"me"))
            .await
            .unwrap());
        assert!(!store
            .put_if_absent("lock", Bytes::from_static(b"you"))
            .await
            .unwrap());
        assert_eq!(store.get("lock").await.unwrap().unwrap(), "me");
        store.delete("lock").await.unwrap();
        store.delete("lock").await.unwrap();
        assert!(store.put("../escape", Bytes::new()).await.is_err());
    }
}
