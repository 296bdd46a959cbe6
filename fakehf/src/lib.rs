//! A local fake of the Hugging Face services, for tests and benchmarks: real HTTP on
//! 127.0.0.1, with response shapes taken from `shared/realdata/` (see its README).
//!
//! Hub API: `GET /api/models` (filters, `sort=downloads`, `expand[]`, `limit` ≤ 1000,
//! cursor pagination with `Link: <…>; rel="next"`) and `GET /api/models/{id}`.
//! It can be scripted to misbehave: 429 with `Retry-After` and `RateLimit`, 5xx
//! bursts, slow, truncated or malformed responses (see [`Fault`]).

pub mod catalogue;
pub mod datastores;
pub mod evals;
mod hub;
pub mod leaderboard;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;

pub use catalogue::{malformed_items, Catalogue, Odd, ODD_RANKS};
pub use datastores::{
    eee_records, open_evals_model_ids, open_evals_rows, EeeRecord, OpenEvalsRow, EEE_SHA,
    OPEN_EVALS_SHA,
};
pub use leaderboard::{Leaderboard, PageMode};

/// `../shared/realdata` next to the workspace, or `HFHARVEST_REALDATA`.
pub fn realdata_dir() -> PathBuf {
    std::env::var_os("HFHARVEST_REALDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata"))
}

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Models in the catalogue (the real ~4,500, then generated GGUF re-uploads).
    pub models: usize,
    /// Added to every response, to model network round trips.
    pub latency: Duration,
    /// Mix the odd models (unicode id, GGUF-only, sparse list item, bare) into the top 20.
    pub odd_models: bool,
    /// Models newer than the leaderboard (invented), at every third rank from the
    /// second: they have only the Hub's evaluation results.
    pub new_models: usize,
    pub realdata: PathBuf,
    /// How long the leaderboard app waits before asking for its data (invented: the
    /// real one's load takes seconds).
    pub render_delay: Duration,
    /// Round the leaderboard JSON API's floats to this many decimals. `None` sends them
    /// in full, as the real API does; the real app then overflows Chromium's storage
    /// quota and shows only the error. Browser tests use `Some(4)`, as the real app was
    /// checked here.
    pub formatted_decimals: Option<i32>,
    /// Raw list items served just before the model at each rank (0-based), on top of
    /// the catalogue: bad records from a Hub stand-in (see [`malformed_items`]).
    /// Invented: the real Hub has not been seen to list such items.
    pub extra_list_items: Vec<(usize, serde_json::Value)>,
    /// Leaderboard rows (in the JSON API's shape) served after the real ones by both
    /// leaderboard APIs. Invented, like `extra_list_items`.
    pub extra_leaderboard_rows: Vec<serde_json::Value>,
    /// Serve these bytes as the `contents` dataset's parquet file instead of the one
    /// built from the real rows. Invented: a corrupt or truncated download.
    pub contents_parquet: Option<bytes::Bytes>,
    /// Tokens `/api/whoami-v2` refuses with 401, as the real Hub refuses an invalid or
    /// revoked token. Any other token is accepted (invented: the fake has no accounts).
    pub refused_tokens: Vec<String>,
    /// The Hub as it is in 2026 ([`catalogue::REAL_MIX`], from `realdata/2026/`): the
    /// multimodal flagships with their real pipeline tags, CI test repos and quantised
    /// repos, on top of `models`, by downloads. `/api/models` then matches
    /// `pipeline_tag` against each model's own tag and ANDs `filter=` over its tags.
    /// Off, every model is `text-generation` and `filter=` is not read, as before.
    /// The odd and new models keep their ranks among the catalogue's own models, so
    /// with the mix they sit a few places lower.
    pub real_mix: bool,
    /// Invented, for tests: extra Every Eval Ever records, (collection, whole record),
    /// served in that collection's index (a new collection gets its own) and as
    /// objects, after the fake's own (see [`datastores::eee`]). Their uuids are a hash
    /// of the collection and the record.
    pub eee_extra_records: Vec<(String, serde_json::Value)>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            models: 1000,
            latency: Duration::ZERO,
            odd_models: true,
            new_models: 0,
            realdata: realdata_dir(),
            render_delay: Duration::from_millis(300),
            formatted_decimals: None,
            extra_list_items: Vec::new(),
            extra_leaderboard_rows: Vec::new(),
            contents_parquet: None,
            refused_tokens: Vec::new(),
            real_mix: false,
            eee_extra_records: Vec::new(),
        }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    List,
    Detail,
    /// The datastores' routes ([`datastores`]): dataset info, files, the parquet's
    /// storage redirect target.
    Datastore,
    Any,
}

/// A scripted misbehaviour, used for the next `times` matching requests.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A status with headers and a JSON error body, e.g. 429 with `Retry-After: 1`.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// A 200 whose body is cut off after this many bytes.
    Truncated(usize),
    /// A 200 with this body verbatim.
    Body(String),
    /// Serve normally after this extra delay.
    Slow(Duration),
    /// Serve normally, with these headers set (they replace the usual `RateLimit`).
    Headers(Vec<(String, String)>),
}

impl Fault {
    /// HTTP 429 as the Hub sends it: `Retry-After` plus the `RateLimit` headers.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::Status {
            status: 429,
            headers: vec![
                ("Retry-After".into(), retry_after_secs.to_string()),
                (
                    "RateLimit".into(),
                    format!("\"api\";r=0;t={retry_after_secs}"),
                ),
                (
                    "RateLimit-Policy".into(),
                    "\"fixed window\";\"api\";q=500;w=300".into(),
                ),
            ],
        }
    }

    pub fn server_error(status: u16) -> Self {
        Self::Status {
            status,
            headers: vec![],
        }
    }
}

#[derive(Debug, Default)]
pub struct RequestLog {
    pub list: AtomicU64,
    pub detail: AtomicU64,
    /// `/api/datasets` requests (the benchmark list and leaderboards).
    pub datasets: AtomicU64,
    /// `/api/whoami-v2` requests (the job's check before a run).
    pub whoami: AtomicU64,
    /// Requests to the datastores (`evaleval/EEE_datastore`,
    /// `OpenEvals/leaderboard-data`): revision, files, and the parquet's storage.
    pub datastores: AtomicU64,
    pub faults_served: AtomicU64,
    /// Bearer tokens seen, so a test can prove the token was sent.
    pub bearer_tokens: Mutex<Vec<String>>,
}

impl RequestLog {
    pub fn list(&self) -> u64 {
        self.list.load(Ordering::Relaxed)
    }
    pub fn detail(&self) -> u64 {
        self.detail.load(Ordering::Relaxed)
    }
    pub fn datasets(&self) -> u64 {
        self.datasets.load(Ordering::Relaxed)
    }
    pub fn whoami(&self) -> u64 {
        self.whoami.load(Ordering::Relaxed)
    }
    pub fn datastores(&self) -> u64 {
        self.datastores.load(Ordering::Relaxed)
    }
    /// Requests to the models API (`/api/models`, `/api/models/{id}`).
    pub fn total(&self) -> u64 {
        self.list() + self.detail()
    }
}

pub(crate) struct State {
    pub catalogue: Catalogue,
    /// List items rendered once per (fields asked for, rank): the fake's own CPU time
    /// would otherwise dominate benchmarks that model network round trips.
    pub rendered: Mutex<HashMap<(String, usize), Arc<str>>>,
    pub latency: Duration,
    pub faults: Mutex<VecDeque<(Route, Fault, usize)>>,
    pub log: RequestLog,
    /// The Hub's night (see [`FakeHf::set_night`]) and the listing's order on it.
    pub night: AtomicU32,
    pub order: RwLock<Arc<Vec<usize>>>,
    /// [`FakeConfig::extra_list_items`], rendered, by rank.
    pub extra_list_items: HashMap<usize, Vec<String>>,
    /// [`FakeConfig::refused_tokens`].
    pub refused_tokens: Vec<String>,
    /// [`FakeConfig::real_mix`].
    pub real_mix: bool,
    /// The datastores' files, built on first use.
    pub datastores: datastores::Datastores,
    /// The benchmarks' leaderboards (without, then with, the `base_model` filter), by
    /// dataset id, built on first use.
    pub leaderboards: [std::sync::OnceLock<HashMap<String, Arc<str>>>; 2],
}

impl State {
    pub fn rendered(
        &self,
        rank: usize,
        expand: &Option<Vec<String>>,
        listing: bool,
        render: impl FnOnce() -> serde_json::Value,
    ) -> Arc<str> {
        let night = self.night();
        let key = (format!("{listing}:{expand:?}:{night}"), rank);
        let mut cache = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| Arc::from(render().to_string()))
            .clone()
    }

    pub fn night(&self) -> u32 {
        self.night.load(Ordering::Relaxed)
    }

    /// Catalogue ranks in the listing's order tonight.
    pub fn order(&self) -> Arc<Vec<usize>> {
        self.order.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The next scripted fault for this route, if any.
    pub fn take_fault(&self, route: Route) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let pos = faults
            .iter()
            .position(|(r, _, _)| *r == route || *r == Route::Any)?;
        let (_, fault, times) = &mut faults[pos];
        let fault = fault.clone();
        *times -= 1;
        if *times == 0 {
            faults.remove(pos);
        }
        self.log.faults_served.fetch_add(1, Ordering::Relaxed);
        Some(fault)
    }
}

/// A running fake; stops when dropped.
pub struct FakeHf {
    addr: SocketAddr,
    state: Arc<State>,
    leaderboard: Arc<Leaderboard>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeHf {
    /// Start on 127.0.0.1 with a free port.
    pub async fn start(config: FakeConfig) -> anyhow::Result<Self> {
        Self::start_on(config, 0).await
    }

    pub async fn start_on(config: FakeConfig, port: u16) -> anyhow::Result<Self> {
        let real = catalogue::load_real_models(&config.realdata)
            .with_context(|| format!("loading real data from {}", config.realdata.display()))?;
        let mut catalogue =
            Catalogue::generate(real, config.models, config.odd_models, config.new_models);
        if config.real_mix {
            catalogue = catalogue.with_real_mix();
        }
        let order = RwLock::new(Arc::new(catalogue.order_on(0)));
        let state = Arc::new(State {
            catalogue,
            night: AtomicU32::new(0),
            order,
            latency: config.latency,
            rendered: Mutex::new(HashMap::new()),
            faults: Mutex::new(VecDeque::new()),
            log: RequestLog::default(),
            extra_list_items: config.extra_list_items.iter().fold(
                HashMap::new(),
                |mut by_rank: HashMap<usize, Vec<String>>, (rank, item)| {
                    by_rank.entry(*rank).or_default().push(item.to_string());
                    by_rank
                },
            ),
            refused_tokens: config.refused_tokens.clone(),
            real_mix: config.real_mix,
            leaderboards: Default::default(),
            datastores: datastores::Datastores::new(
                config.realdata.clone(),
                config.eee_extra_records.clone(),
            ),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let mut board = Leaderboard::load_with(
            &config.realdata,
            config.render_delay,
            config.formatted_decimals,
            &config.extra_leaderboard_rows,
        )?;
        if let Some(file) = &config.contents_parquet {
            board.replace_parquet(file.clone());
        }
        board.set_hub(state.clone());
        let leaderboard = Arc::new(board);
        let app = hub::router(state.clone()).merge(leaderboard::router(leaderboard.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            state,
            leaderboard,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:<port>`, to use as `HF_ENDPOINT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Script a fault for the next `times` requests on `route`. Faults apply in order.
    pub fn inject(&self, route: Route, fault: Fault, times: usize) {
        if times > 0 {
            let mut faults = self.state.faults.lock().unwrap_or_else(|p| p.into_inner());
            faults.push_back((route, fault, times));
        }
    }

    /// Invented, for tests of the history: move the Hub to another night, on which
    /// download counts (and so the listing's order) differ (see
    /// [`Catalogue::downloads_on`]). Night 0, the default, is the catalogue as it is.
    pub fn set_night(&self, night: u32) {
        let order = Arc::new(self.state.catalogue.order_on(night));
        *self.state.order.write().unwrap_or_else(|p| p.into_inner()) = order;
        self.state.night.store(night, Ordering::Relaxed);
    }

    /// A model's 30-day downloads on a night, as the fake serves them.
    pub fn downloads_on(&self, model_id: &str, night: u32) -> Option<u64> {
        let rank = self.state.catalogue.rank_of(model_id)?;
        Some(self.state.catalogue.downloads_on(rank, night))
    }

    pub fn requests(&self) -> &RequestLog {
        &self.state.log
    }

    /// Make the leaderboard page misbehave, or change its render delay.
    pub fn set_leaderboard_page(&self, mode: PageMode, render_delay: Duration) {
        self.leaderboard.set_page(mode, render_delay);
    }

    /// Leaderboard data requests served (JSON API and `/rows`), page loads included.
    pub fn leaderboard_data_requests(&self) -> u64 {
        self.leaderboard.data_requests.load(Ordering::Relaxed)
    }

    /// The leaderboard app's JSON API on this fake.
    pub fn formatted_url(&self) -> String {
        format!("{}/api/leaderboard/formatted", self.url())
    }

    /// The leaderboard app's own origin on this fake (the real one's is
    /// `https://open-llm-leaderboard-open-llm-leaderboard.hf.space/`).
    pub fn page_url(&self) -> String {
        format!("{}/", self.url())
    }

    /// The Space page that wraps the app in an iframe, as huggingface.co shows it.
    pub fn space_url(&self) -> String {
        format!(
            "{}/spaces/open-llm-leaderboard/open_llm_leaderboard",
            self.url()
        )
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.state.catalogue
    }

    /// Every Eval Ever's records as this fake serves them (extras included), in index
    /// order: the truth for tests. Builds the datastores if no request has yet.
    pub fn eee_records(&self) -> anyhow::Result<Vec<EeeRecord>> {
        let built = self.state.datastores.get(&self.state.catalogue);
        Ok(built.map_err(anyhow::Error::msg)?.eee.clone())
    }

    /// The rows of `OpenEvals/leaderboard-data`'s parquet file, as served.
    pub fn open_evals_rows(&self) -> anyhow::Result<Vec<OpenEvalsRow>> {
        let built = self.state.datastores.get(&self.state.catalogue);
        Ok(built.map_err(anyhow::Error::msg)?.open_evals.clone())
    }
}

impl Drop for FakeHf {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
