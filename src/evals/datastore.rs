//! A Hub dataset read at one revision a run: a branch is resolved to its commit once
//! (`GET /api/datasets/{id}/revision/{branch}`, as Every Eval Ever's own tool does in
//! `resolve_datastore_locator`, realdata/2026/eee/code/hf_community_evals.py__L200-1000.py),
//! the commit is kept in the run so a resume reads the same files, and every file is
//! fetched through `/resolve/{commit}/`.

use bytes::Bytes;
use serde_json::Value;
use url::Url;

use super::EvalsError;
use crate::http::{HttpClient, HttpError};
use crate::run::Stage;
use crate::store::RunStore;

/// A Hub dataset at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pinned {
    pub dataset: String,
    pub commit: String,
}

impl Pinned {
    /// `{hub}/datasets/{dataset}/resolve/{commit}/{path}`.
    pub fn file_url(&self, endpoint: &Url, path: &str) -> Result<Url, EvalsError> {
        let mut url = endpoint.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|()| not_a_base(endpoint))?;
            segments.pop_if_empty().push("datasets");
            segments.extend(self.dataset.split('/'));
            segments.push("resolve").push(&self.commit);
            segments.extend(path.split('/'));
        }
        Ok(url)
    }

    /// The file's page on the Hub, for a row's `url`: `{hub}/datasets/{dataset}/blob/{commit}/{path}`.
    pub fn blob_url(&self, endpoint: &Url, path: &str) -> String {
        format!(
            "{}/datasets/{}/blob/{}/{path}",
            endpoint.as_str().trim_end_matches('/'),
            self.dataset,
            self.commit
        )
    }
}

fn not_a_base(endpoint: &Url) -> EvalsError {
    EvalsError::Http(HttpError::Transport {
        url: endpoint.to_string(),
        message: "not a base URL".into(),
    })
}

fn is_commit(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}

/// Where the run keeps the commit a source read: beside its checkpoints, not a
/// checkpoint itself (not `.json`).
fn pin_key(run: &RunStore, part: &str) -> String {
    format!(
        "{}revision",
        run.layout().checkpoints_of(Stage::Evals, Some(part))
    )
}

/// The commit this run reads `dataset` at: the one kept from an earlier try of the
/// run, else `revision` itself when it is a commit, else the branch's commit now (one
/// request), kept for a resume.
pub(super) async fn pin(
    run: &RunStore,
    part: &str,
    http: &HttpClient,
    endpoint: &Url,
    dataset: &str,
    revision: &str,
) -> Result<Pinned, EvalsError> {
    let key = pin_key(run, part);
    if let Some(kept) = run.store().get(&key).await? {
        let kept = String::from_utf8_lossy(&kept).trim().to_owned();
        if let Some((kept_dataset, commit)) = kept.split_once('@') {
            if kept_dataset == dataset && is_commit(commit) {
                return Ok(Pinned {
                    dataset: dataset.to_owned(),
                    commit: commit.to_owned(),
                });
            }
        }
    }
    let commit = if is_commit(revision) {
        revision.to_owned()
    } else {
        resolve(http, endpoint, dataset, revision).await?
    };
    run.store()
        .put(
            &key,
            Bytes::from(format!("{dataset}@{commit}\n")),
            crate::store::PutMode::Overwrite,
        )
        .await?;
    Ok(Pinned {
        dataset: dataset.to_owned(),
        commit,
    })
}

/// A branch's commit: the `sha` of the dataset's info at that revision.
async fn resolve(
    http: &HttpClient,
    endpoint: &Url,
    dataset: &str,
    revision: &str,
) -> Result<String, EvalsError> {
    let mut url = endpoint.clone();
    {
        let mut segments = url.path_segments_mut().map_err(|()| not_a_base(endpoint))?;
        segments.pop_if_empty().extend(["api", "datasets"]);
        segments.extend(dataset.split('/'));
        segments.push("revision").push(revision);
    }
    let info: Value = http.get(&url).await?.json()?;
    match info["sha"].as_str().map(str::trim) {
        Some(sha) if is_commit(sha) => Ok(sha.to_owned()),
        _ => Err(EvalsError::NoCommit {
            dataset: dataset.to_owned(),
            revision: revision.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_at_the_commit() {
        let pinned = Pinned {
            dataset: "evaleval/EEE_datastore".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
        };
        let endpoint = Url::parse("https://huggingface.co").unwrap();
        assert_eq!(
            pinned
                .file_url(&endpoint, "flat/indexes/by_collection/MMLU-Pro.jsonl")
                .unwrap()
                .as_str(),
            "https://huggingface.co/datasets/evaleval/EEE_datastore/resolve/0123456789abcdef0123456789abcdef01234567/flat/indexes/by_collection/MMLU-Pro.jsonl"
        );
        assert!(is_commit(&pinned.commit));
        assert!(!is_commit("main"));
    }
}
