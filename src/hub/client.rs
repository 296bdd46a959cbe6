//! The Hub API client: the list request with `expand[]` (one request serves a whole
//! page), `/api/models/{id}`, and the preflight check of the endpoint and the token.

use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;
use url::Url;

use super::{HubSettings, HubUnready};
use crate::http::{redact, Fetched, HttpClient, HttpError, HttpSettings};
use crate::run::Secret;

/// The `expand[]` properties one list request asks for: everything `models.csv` needs.
pub const EXPANDED_FIELDS: [&str; 16] = [
    "author",
    "cardData",
    "config",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "safetensors",
    "sha",
    "tags",
    "trendingScore",
];

/// Fields every Hub model object carries. A list item without one of them is completed
/// from `/api/models/{id}`. (`safetensors`, `cardData`, `config` may be legitimately
/// absent, e.g. for GGUF-only repos, so their absence does not trigger a request.)
pub const ALWAYS_PRESENT: [&str; 5] = ["createdAt", "downloads", "lastModified", "sha", "tags"];

#[derive(Debug, Clone)]
pub struct HubClient {
    http: HttpClient,
    endpoint: Url,
    settings: HubSettings,
}

impl HubClient {
    pub fn new(
        settings: &HubSettings,
        http: &HttpSettings,
        token: Option<Secret>,
    ) -> Result<Self, HubUnready> {
        let endpoint = Url::parse(&settings.endpoint).map_err(|source| HubUnready::Endpoint {
            url: settings.endpoint.clone(),
            source,
        })?;
        let auth = token.and_then(|t| endpoint.host_str().map(|h| (h.to_owned(), t)));
        Ok(Self {
            http: HttpClient::new(http, auth).map_err(HubUnready::Client)?,
            endpoint,
            settings: settings.clone(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn settings(&self) -> &HubSettings {
        &self.settings
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The first list page's URL for `limit` models.
    pub fn list_url(&self, limit: u64, expand: bool) -> Url {
        let mut url = self.endpoint.join("api/models").expect("static path");
        {
            let mut q = url.query_pairs_mut();
            let s = &self.settings;
            for (key, value) in [
                ("pipeline_tag", &s.pipeline_tag),
                ("library", &s.library),
                ("author", &s.author),
                ("search", &s.search),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    q.append_pair(key, v);
                }
            }
            q.append_pair("sort", &s.sort);
            q.append_pair("direction", "-1");
            q.append_pair("limit", &limit.min(s.page_size).to_string());
            if expand {
                for field in EXPANDED_FIELDS {
                    q.append_pair("expand[]", field);
                }
            }
        }
        url
    }

    /// `/api/models/{id}` with the same expanded fields as the list.
    pub fn model_url(&self, model_id: &str) -> Url {
        let mut url = self.endpoint.join("api/models/").expect("static path");
        url.path_segments_mut()
            .expect("http URL")
            .pop_if_empty()
            .extend(model_id.split('/'));
        {
            let mut q = url.query_pairs_mut();
            for field in EXPANDED_FIELDS {
                q.append_pair("expand[]", field);
            }
        }
        url
    }

    /// Start a list request in the background; aborted if dropped.
    pub fn fetch_in_background(&self, url: Url) -> AbortOnDropHandle<Result<Fetched, HttpError>> {
        let http = self.http.clone();
        AbortOnDropHandle::new(tokio::spawn(
            async move { http.get(&url).await }.instrument(tracing::Span::current()),
        ))
    }

    /// The preflight check, one request and no retry: `GET /api/whoami-v2`, which
    /// huggingface_hub's `whoami()` asks. With a token it must be accepted (401 or 403:
    /// refused). Without one the Hub answers 401, which says it is there. A status
    /// worth a retry (429, 5xx) says so too: the run's own retries deal with it. A 404
    /// is not the Hub's API; no answer at all is an unreachable Hub.
    pub async fn check(&self) -> Result<(), HubUnready> {
        let url = self.endpoint.join("api/whoami-v2").expect("static path");
        let shown = redact(&self.endpoint);
        let with_token = self.http.has_auth();
        match self.http.get_once(&url).await {
            Ok(_) => Ok(()),
            Err(HttpError::Status {
                status: status @ (401 | 403),
                ..
            }) if with_token => Err(HubUnready::TokenRefused { url: shown, status }),
            Err(HttpError::Status { status: 401, .. }) => Ok(()),
            Err(HttpError::Status { status, .. }) if crate::http::is_retried(status) => {
                tracing::warn!(url = %redact(&url), status, "the Hub is busy; the run goes ahead and retries");
                Ok(())
            }
            Err(HttpError::Status { status, .. }) => Err(HubUnready::Status {
                url: redact(&url),
                status,
            }),
            Err(source) => Err(HubUnready::Unreachable { url: shown, source }),
        }
    }

    pub async fn model_info(&self, model_id: &str) -> Result<Value, HttpError> {
        self.http.get(&self.model_url(model_id)).await?.json()
    }
}

/// A list page whose JSON is not a list of items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a JSON array, got {kind}")]
pub struct NotAList {
    pub kind: &'static str,
}

/// A Hub list page's items: its JSON must be an array. Each item is then checked on
/// its own by the models stage, so one bad item costs only itself.
pub fn list_items(page: Value) -> Result<Vec<Value>, NotAList> {
    match page {
        Value::Array(items) => Ok(items),
        other => Err(NotAList {
            kind: json_kind(&other),
        }),
    }
}

/// Why a list page's body gave no items.
#[derive(Debug, thiserror::Error)]
pub enum ListPageError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    NotAList(#[from] NotAList),
}

/// A list page's body as the client reads it: JSON, then [`list_items`]. For the
/// fuzz targets and tests; the client decodes through `Fetched::json` to name the URL.
pub fn parse_list_page(body: &[u8]) -> Result<Vec<Value>, ListPageError> {
    Ok(list_items(serde_json::from_slice(body)?)?)
}

/// Add the fields of `detail` that `item` lacks.
pub fn merge_missing(item: &mut Value, detail: Value) {
    if let (Value::Object(item), Value::Object(detail)) = (item, detail) {
        for (key, value) in detail {
            item.entry(key).or_insert(value);
        }
    }
}

/// How a JSON value is described in a message.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls() {
        let s = HubSettings {
            author: Some("meta-llama".into()),
            endpoint: "http://127.0.0.1:9/".into(),
            ..HubSettings::default()
        };
        let c = HubClient::new(&s, &HttpSettings::default(), None).unwrap();
        let u = c.list_url(50, true);
        assert!(u.as_str().starts_with("http://127.0.0.1:9/api/models?pipeline_tag=text-generation&author=meta-llama&sort=downloads&direction=-1&limit=50&expand%5B%5D=author"), "{u}");
        assert_eq!(
            c.model_url("Org/ünï 1").path(),
            "/api/models/Org/%C3%BCn%C3%AF%201"
        );
    }
}
