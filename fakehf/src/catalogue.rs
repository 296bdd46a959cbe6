//! A generated catalogue of Hub models, built from the real leaderboard rows in
//! `realdata/leaderboard/formatted-2025-03-21.csv` (ids, licences, parameter counts,
//! architectures, base models, upload dates, hearts). What the real data does not
//! give is invented here, deterministically: download counts (heavy-tailed), shas,
//! `_id`s, quantized GGUF re-uploads to reach large sizes, and a few odd models.
//! With the real mix ([`Catalogue::with_real_mix`]), the models of [`REAL_MIX`] join
//! them by their downloads.

mod real_mix;

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map, Value};

pub use real_mix::{MixModel, Role, REAL_MIX};

/// One real model's facts, as the leaderboard recorded them.
#[derive(Debug, Clone)]
pub struct RealModel {
    pub id: String,
    pub license: String,
    pub params_billions: f64,
    pub architecture: String,
    pub base_model: String,
    pub upload_date: String,
    pub hearts: u64,
    pub weight_type: String,
    pub is_merged: bool,
    /// The leaderboard's normalised IFEval score (for `model-index` in some cards).
    pub ifeval: Option<f64>,
}

/// Load the distinct models of the leaderboard CSV, in file order.
pub fn load_real_models(realdata: &Path) -> anyhow::Result<Vec<RealModel>> {
    let path = realdata.join("leaderboard/formatted-2025-03-21.csv");
    let mut reader =
        csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("column {name}"))
    };
    let ifeval = col("evaluations_ifeval_normalized_score")?;
    let (name, license, params, arch, base, upload, hearts, weight, merged) = (
        col("model_name")?,
        col("metadata_hub_license")?,
        col("metadata_params_billions")?,
        col("model_architecture")?,
        col("metadata_base_model")?,
        col("metadata_upload_date")?,
        col("metadata_hub_hearts")?,
        col("model_weight_type")?,
        col("features_is_merged")?,
    );
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row?;
        if !seen.insert(row[name].to_lowercase()) {
            continue;
        }
        out.push(RealModel {
            id: row[name].to_owned(),
            license: row[license].to_owned(),
            params_billions: row[params].parse().unwrap_or(0.0),
            architecture: row[arch].to_owned(),
            base_model: row[base].to_owned(),
            upload_date: row[upload].to_owned(),
            hearts: row[hearts].parse().unwrap_or(0),
            weight_type: row[weight].to_owned(),
            is_merged: row[merged].eq_ignore_ascii_case("true"),
            ifeval: row[ifeval].parse().ok(),
        });
    }
    Ok(out)
}

/// The real Hub samples in `realdata/hub/`, put at the top of the download order.
const HUB_SAMPLE_IDS: [&str; 2] = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.1-8B",
];

#[derive(Debug, Clone)]
enum Kind {
    Real(usize),
    /// A GGUF re-upload of a real model by a quantizer account.
    Quant {
        base: usize,
        k: usize,
    },
    Odd(Odd),
    /// A model released after the leaderboard was retired (invented): no leaderboard
    /// row, only the Hub's evaluation results.
    New(usize),
    /// `REAL_MIX[i]`.
    Mix(usize),
}

/// Invented ids in the style of the families released after March 2025 (the real
/// families: Qwen3, Llama 4, Gemma 3, gpt-oss, DeepSeek-R1 distills, Mistral Small 3.1,
/// Phi-4, SmolLM3; these exact ids are made up).
fn new_model_id(i: usize) -> String {
    const FAMILIES: [&str; 8] = [
        "Qwen/Qwen3-{}B",
        "meta-llama/Llama-4-Scout-{}B-Instruct",
        "google/gemma-3-{}b-it",
        "openai/gpt-oss-{}b",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-{}B",
        "mistralai/Mistral-Small-3.1-{}B-Instruct",
        "microsoft/Phi-4-{}B-reasoning",
        "HuggingFaceTB/SmolLM3-{}B",
    ];
    const SIZES: [u32; 10] = [1, 3, 4, 7, 8, 12, 14, 24, 32, 70];
    let family = FAMILIES[i % FAMILIES.len()];
    let size = SIZES[(i / FAMILIES.len()) % SIZES.len()];
    let round = i / (FAMILIES.len() * SIZES.len());
    let id = family.replace("{}", &size.to_string());
    if round == 0 {
        id
    } else {
        format!("{id}-v{round}")
    }
}

/// Models with odd or missing fields, mixed into the catalogue at fixed ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Odd {
    /// A unicode id.
    Unicode,
    /// No `safetensors`, `library_name: gguf`, parameters only in the name.
    GgufOnly,
    /// The list item lacks `sha`, `createdAt` and `lastModified`; `/api/models/{id}` has them.
    SparseListItem,
    /// No card data, no licence, no config, no parameter count anywhere.
    Bare,
}

/// (rank, kind): ranks are 0-based positions in the download order.
pub const ODD_RANKS: [(usize, Odd); 4] = [
    (6, Odd::Unicode),
    (10, Odd::GgufOnly),
    (16, Odd::SparseListItem),
    (18, Odd::Bare),
];

/// List items that a Hub stand-in has been seen to send and the real Hub should not:
/// each is invented here, in the real list item's shape, with one thing wrong. Tests
/// inject them with [`crate::FakeConfig::extra_list_items`].
pub fn malformed_items() -> Vec<(&'static str, Value)> {
    let item = |id: Value| {
        json!({
            "_id": "66a0000000000000000000ff", "id": id, "likes": 1, "downloads": 10,
            "downloadsAllTime": 10, "trendingScore": 0, "private": false,
            "pipeline_tag": "text-generation", "library_name": "transformers",
            "tags": ["transformers", "text-generation"], "sha": "0".repeat(40),
            "createdAt": "2025-01-01T00:00:00.000Z", "lastModified": "2025-01-01T00:00:00.000Z"
        })
    };
    vec![
        ("a second '/'", item(json!("bad-org/nested/model-7B"))),
        ("an empty name", item(json!("empty-name-org/"))),
        (
            "control characters",
            item(json!("ctrl-org/model\u{7}\u{1b}[31m-7B")),
        ),
        (
            "300 characters",
            item(json!(format!("long-org/{}", "x".repeat(291)))),
        ),
        ("a non-string id", item(json!(12345))),
        ("no id", {
            let mut v = item(json!(null));
            v.as_object_mut().map(|o| o.remove("id"));
            v
        }),
        ("not an object", json!("just-a-string/model")),
    ]
}

pub struct Catalogue {
    real: Vec<RealModel>,
    entries: Vec<Kind>,
    /// Each entry's 30-day downloads on night 0, descending.
    downloads: Vec<u64>,
    by_id: HashMap<String, usize>,
}

impl Catalogue {
    /// `size` models in download order. With `odd_models`, the odd ones sit at
    /// [`ODD_RANKS`]; `new_models` models newer than the leaderboard take every third
    /// rank from the second, as tonight's most-downloaded models are mostly new.
    pub fn generate(
        real: Vec<RealModel>,
        size: usize,
        odd_models: bool,
        new_models: usize,
    ) -> Self {
        let mut order: Vec<usize> = (0..real.len()).collect();
        // A fixed shuffle so the top of the list is not alphabetical, with the Hub samples first.
        order.sort_by_key(|&i| {
            let pinned = HUB_SAMPLE_IDS.iter().position(|s| *s == real[i].id);
            (pinned.unwrap_or(usize::MAX), fnv(&real[i].id))
        });
        let mut entries = Vec::with_capacity(size);
        let mut next_real = order.into_iter();
        let mut quant = 0usize;
        while entries.len() < size {
            let rank = entries.len();
            if odd_models {
                if let Some((_, odd)) = ODD_RANKS.iter().find(|(r, _)| *r == rank) {
                    entries.push(Kind::Odd(*odd));
                    continue;
                }
            }
            if rank % 3 == 1 && rank / 3 < new_models {
                entries.push(Kind::New(rank / 3));
                continue;
            }
            match next_real.next() {
                Some(i) => entries.push(Kind::Real(i)),
                None => {
                    entries.push(Kind::Quant {
                        base: quant % real.len(),
                        k: quant / real.len() + 1,
                    });
                    quant += 1;
                }
            }
        }
        let downloads = zipf_downloads(entries.len());
        let mut catalogue = Self {
            real,
            entries,
            downloads,
            by_id: HashMap::new(),
        };
        catalogue.index();
        catalogue
    }

    /// The catalogue with the models of [`REAL_MIX`] on top of its own, each at the
    /// rank its downloads give it, as the real listing sorts (`sort=downloads`,
    /// descending). A generated model whose id a mix model has (an invented new model
    /// such as `google/gemma-3-4b-it`) gives way to it.
    pub fn with_real_mix(self) -> Self {
        let mix_ids: Vec<String> = REAL_MIX.iter().map(|m| m.id.to_lowercase()).collect();
        let own: Vec<Kind> = (0..self.entries.len())
            .filter(|&rank| !mix_ids.contains(&self.id(rank).to_lowercase()))
            .map(|rank| self.entries[rank].clone())
            .collect();
        let own_downloads = zipf_downloads(own.len());
        let mut mix: Vec<usize> = (0..REAL_MIX.len()).collect();
        mix.sort_by_key(|&i| std::cmp::Reverse(REAL_MIX[i].downloads));
        let mut mix = mix.into_iter().peekable();
        let mut entries = Vec::with_capacity(own.len() + REAL_MIX.len());
        let mut downloads = Vec::with_capacity(own.len() + REAL_MIX.len());
        for (kind, n) in own.into_iter().zip(own_downloads) {
            while let Some(i) = mix.next_if(|&i| REAL_MIX[i].downloads > n) {
                entries.push(Kind::Mix(i));
                downloads.push(REAL_MIX[i].downloads);
            }
            entries.push(kind);
            downloads.push(n);
        }
        for i in mix {
            entries.push(Kind::Mix(i));
            downloads.push(REAL_MIX[i].downloads);
        }
        let mut catalogue = Self {
            real: self.real,
            entries,
            downloads,
            by_id: HashMap::new(),
        };
        catalogue.index();
        catalogue
    }

    fn index(&mut self) {
        self.by_id = (0..self.entries.len())
            .map(|rank| (self.id(rank).to_lowercase(), rank))
            .collect();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn rank_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_lowercase()).copied()
    }

    pub fn odd_at(&self, rank: usize) -> Option<Odd> {
        match self.entries.get(rank)? {
            Kind::Odd(odd) => Some(*odd),
            _ => None,
        }
    }

    pub fn id(&self, rank: usize) -> String {
        match &self.entries[rank] {
            Kind::Real(i) => self.real[*i].id.clone(),
            Kind::Quant { base, k } => {
                // The owner keeps ids unique where two real models share a name.
                let id = &self.real[*base].id;
                let (owner, name) = id.split_once('/').unwrap_or(("", id));
                format!("quant-lab-{k}/{owner}-{name}-GGUF")
            }
            Kind::Odd(Odd::Unicode) => "ünïcode-lab/Ωmega-Chat-7B".into(),
            Kind::Odd(Odd::GgufOnly) => "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF".into(),
            Kind::Odd(Odd::SparseListItem) => "sparse-org/Sparse-Listing-3B".into(),
            Kind::Odd(Odd::Bare) => "bare-org/bare-model".into(),
            Kind::New(i) => new_model_id(*i),
            Kind::Mix(i) => REAL_MIX[*i].id.into(),
        }
    }

    /// A model released after the leaderboard was retired (the mix's flagships and
    /// their relatives are: 2025–26 releases, none on the leaderboard).
    pub fn is_new(&self, rank: usize) -> bool {
        match &self.entries[rank] {
            Kind::New(_) => true,
            Kind::Mix(i) => matches!(REAL_MIX[*i].role, Role::Flagship | Role::Related),
            _ => false,
        }
    }

    /// The real leaderboard model at this rank, if it is one (not a GGUF re-upload,
    /// an odd, new or mix model).
    pub fn real_at(&self, rank: usize) -> Option<&RealModel> {
        match self.entries.get(rank)? {
            Kind::Real(i) => Some(&self.real[*i]),
            _ => None,
        }
    }

    /// The model of the real mix at this rank, if it is one.
    pub fn mix_at(&self, rank: usize) -> Option<&'static MixModel> {
        match self.entries.get(rank)? {
            Kind::Mix(i) => Some(&REAL_MIX[*i]),
            _ => None,
        }
    }

    /// The model's `pipeline_tag`: its own in the mix, else `text-generation`.
    pub fn pipeline_tag(&self, rank: usize) -> &'static str {
        self.mix_at(rank)
            .map_or("text-generation", |m| m.pipeline_tag)
    }

    /// The model's `evalResults`, and whether it declares a base model (for the
    /// leaderboards' `base_model` filter).
    pub fn eval_results(&self, rank: usize) -> (Value, bool) {
        let model = self.model_json(rank);
        let results = model.get("evalResults").cloned().unwrap_or(json!([]));
        let has_base = model
            .get("cardData")
            .and_then(|c| c.get("base_model"))
            .is_some();
        (results, has_base)
    }

    /// Downloads in the last 30 days: heavy-tailed and decreasing with rank (strictly,
    /// but for a tie the real mix may bring).
    pub fn downloads(&self, rank: usize) -> u64 {
        self.downloads_on(rank, 0)
    }

    /// Invented: the nights of the Hub, for tests of the history. On night 0 every
    /// model has [`Self::downloads`]; each later night a model's 30-day count moves by
    /// its own steady rate, between -3% and +3% a night (a hash of its id), so some rise,
    /// some fall, and the download order changes from night to night as it does on the
    /// real Hub.
    pub fn downloads_on(&self, rank: usize, night: u32) -> u64 {
        let base = self.downloads[rank];
        if night == 0 {
            return base;
        }
        let rate = ((fnv(&self.id(rank)) >> 8) % 601) as f64 / 10_000.0 - 0.03;
        (base as f64 * (1.0 + rate).powi(night as i32)).round() as u64
    }

    /// The catalogue's ranks in download order on a night (ties by rank): the listing's
    /// order. Night 0 is the catalogue's own order.
    pub fn order_on(&self, night: u32) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        if night > 0 {
            let downloads: Vec<u64> = order.iter().map(|&r| self.downloads_on(r, night)).collect();
            order.sort_by(|&a, &b| downloads[b].cmp(&downloads[a]).then(a.cmp(&b)));
        }
        order
    }

    /// The full model object, as `/api/models/{id}` returns it without `expand[]`.
    pub fn model_json(&self, rank: usize) -> Value {
        self.model_json_on(rank, 0)
    }

    /// The model object on a night (see [`Self::downloads_on`]).
    pub fn model_json_on(&self, rank: usize, night: u32) -> Value {
        let id = self.id(rank);
        let h = fnv(&id);
        let downloads = self.downloads_on(rank, night);
        // Invented: the lifetime count grows by a thirtieth of each night's 30-day count.
        let earlier: u64 = (1..=night).map(|n| self.downloads_on(rank, n) / 30).sum();
        let downloads_all_time = self.downloads(rank) * (4 + h % 20) + earlier;
        if let Some(mix) = self.mix_at(rank) {
            let evals = crate::evals::eval_results(&id, self.is_new(rank), rank);
            return real_mix::model_json(mix, downloads, downloads_all_time, evals);
        }
        let (facts, relation, base) = match &self.entries[rank] {
            Kind::Real(i) => {
                let f = &self.real[*i];
                let relation =
                    if f.base_model.is_empty() || f.base_model.eq_ignore_ascii_case(&f.id) {
                        None
                    } else if f.weight_type == "Adapter" {
                        Some("adapter")
                    } else if f.is_merged {
                        Some("merge")
                    } else {
                        Some("finetune")
                    };
                (Some(f.clone()), relation, f.base_model.clone())
            }
            Kind::Quant { base, .. } => {
                let f = &self.real[*base];
                (Some(f.clone()), Some("quantized"), f.id.clone())
            }
            Kind::Odd(Odd::Unicode) => (
                Some(RealModel {
                    id: id.clone(),
                    license: "mit".into(),
                    params_billions: 7.24,
                    architecture: "MistralForCausalLM".into(),
                    base_model: String::new(),
                    upload_date: "2025-01-02".into(),
                    hearts: 12,
                    weight_type: "Original".into(),
                    is_merged: false,
                    ifeval: None,
                }),
                None,
                String::new(),
            ),
            Kind::Odd(Odd::GgufOnly) => (
                None,
                Some("quantized"),
                "meta-llama/Llama-3.1-8B-Instruct".into(),
            ),
            Kind::Odd(Odd::SparseListItem) => (
                Some(RealModel {
                    id: id.clone(),
                    license: "apache-2.0".into(),
                    params_billions: 3.09,
                    architecture: "Qwen2ForCausalLM".into(),
                    base_model: String::new(),
                    upload_date: "2024-11-20".into(),
                    hearts: 3,
                    weight_type: "Original".into(),
                    is_merged: false,
                    ifeval: None,
                }),
                None,
                String::new(),
            ),
            Kind::Odd(Odd::Bare) | Kind::Mix(_) => (None, None, String::new()),
            Kind::New(i) => {
                let params = [1.7, 3.8, 4.0, 7.6, 8.2, 12.2, 14.8, 23.6, 32.8, 70.6][(i / 8) % 10];
                let finetune = i % 4 == 3;
                let base = if finetune {
                    new_model_id(i - 3)
                } else {
                    String::new()
                };
                (
                    Some(RealModel {
                        id: id.clone(),
                        license: ["apache-2.0", "llama4", "gemma", "mit"][i % 4].into(),
                        params_billions: params,
                        architecture: [
                            "Qwen3ForCausalLM",
                            "Llama4ForCausalLM",
                            "Gemma3ForCausalLM",
                            "GptOssForCausalLM",
                        ][i % 4]
                            .into(),
                        base_model: base.clone(),
                        upload_date: format!("2025-{:02}-{:02}", 4 + i % 9, 1 + i % 28),
                        hearts: 500 + (h % 5000),
                        weight_type: "Original".into(),
                        is_merged: false,
                        ifeval: None,
                    }),
                    finetune.then_some("finetune"),
                    base,
                )
            }
        };
        let gguf = matches!(
            self.entries[rank],
            Kind::Quant { .. } | Kind::Odd(Odd::GgufOnly)
        );
        let created = facts
            .as_ref()
            .map(|f| f.upload_date.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "2024-06-01".into());
        let created_at = format!(
            "{created}T{:02}:{:02}:{:02}.000Z",
            h % 24,
            h / 24 % 60,
            h / 1440 % 60
        );
        let mut tags: Vec<String> = Vec::new();
        tags.push(if gguf { "gguf" } else { "transformers" }.into());
        if !gguf && facts.is_some() {
            tags.push("safetensors".into());
        }
        let model_type = facts
            .as_ref()
            .map(|f| model_type(&f.architecture))
            .unwrap_or_default();
        if !model_type.is_empty() {
            tags.push(model_type.clone());
        }
        tags.push("text-generation".into());
        if h.is_multiple_of(3) {
            tags.push("conversational".into());
        }
        tags.push("en".into());
        if let Some(rel) = relation {
            tags.push(format!("base_model:{base}"));
            tags.push(format!("base_model:{rel}:{base}"));
        }
        let license = facts
            .as_ref()
            .map(|f| f.license.clone())
            .unwrap_or_default();
        if !license.is_empty() {
            tags.push(format!("license:{license}"));
        }
        tags.extend(
            ["autotrain_compatible", "endpoints_compatible", "region:us"].map(String::from),
        );
        // Meta's repos are gated by hand, as the real list item in realdata/hub shows.
        let gated = match h % 23 {
            _ if id.starts_with("meta-llama/") => json!("manual"),
            0 => json!("manual"),
            1 => json!("auto"),
            _ => json!(false),
        };
        let mut card = Map::new();
        if let Some(f) = &facts {
            if !f.license.is_empty() {
                card.insert("license".into(), json!(f.license));
            }
            card.insert("language".into(), json!(["en"]));
            if relation.is_some() {
                card.insert("base_model".into(), json!(base));
            }
        }
        if relation.is_some() && facts.is_none() {
            card.insert("base_model".into(), json!(base));
        }
        let ifeval = match &self.entries[rank] {
            Kind::Real(_) => facts.as_ref().and_then(|f| f.ifeval),
            _ => None,
        };
        if let Some(index) = crate::evals::model_index(&id, rank, ifeval) {
            card.insert("model-index".into(), index);
        }
        let mut m = Map::new();
        m.insert(
            "_id".into(),
            json!(format!("{:024x}", h as u128 * 0x9E37_79B9)),
        );
        m.insert("id".into(), json!(id));
        m.insert("modelId".into(), json!(id));
        m.insert(
            "author".into(),
            json!(id.split_once('/').map(|(o, _)| o).unwrap_or_default()),
        );
        m.insert("private".into(), json!(false));
        m.insert("disabled".into(), json!(false));
        m.insert("gated".into(), gated);
        m.insert("pipeline_tag".into(), json!("text-generation"));
        m.insert(
            "library_name".into(),
            json!(if gguf { "gguf" } else { "transformers" }),
        );
        m.insert("tags".into(), json!(tags));
        m.insert("downloads".into(), json!(downloads));
        m.insert("downloadsAllTime".into(), json!(downloads_all_time));
        m.insert(
            "likes".into(),
            json!(facts.as_ref().map(|f| f.hearts).unwrap_or(h % 7)),
        );
        m.insert("trendingScore".into(), json!(h % 60));
        m.insert("sha".into(), json!(sha(&id)));
        m.insert("createdAt".into(), json!(created_at));
        m.insert(
            "lastModified".into(),
            json!(format!("{created}T12:00:00.000Z").replace("-01T", "-15T")),
        );
        if !card.is_empty() {
            m.insert("cardData".into(), Value::Object(card));
        }
        m.insert(
            "evalResults".into(),
            crate::evals::eval_results(&id, self.is_new(rank), rank),
        );
        if let Some(f) = facts
            .as_ref()
            .filter(|f| !f.architecture.is_empty() && !f.architecture.contains('?'))
        {
            m.insert(
                "config".into(),
                json!({"architectures": [f.architecture], "model_type": model_type}),
            );
        }
        if let Some(f) = facts.as_ref().filter(|f| f.params_billions > 0.0 && !gguf) {
            let total = (f.params_billions * 1e9).round() as u64;
            m.insert(
                "safetensors".into(),
                json!({"parameters": {"BF16": total}, "total": total}),
            );
        }
        Value::Object(m)
    }
}

/// Heavy-tailed and strictly decreasing with rank (invented).
fn zipf_downloads(len: usize) -> Vec<u64> {
    (0..len)
        .map(|rank| {
            let zipf = 30_000_000.0 / ((rank + 1) as f64).powf(1.05);
            zipf as u64 + (len - rank) as u64
        })
        .collect()
}

/// `LlamaForCausalLM` → `llama`, `Qwen2MoeForCausalLM` → `qwen2_moe`, `GPTNeoForCausalLM` → `gpt_neo`.
fn model_type(architecture: &str) -> String {
    let stem: Vec<char> = architecture
        .split("For")
        .next()
        .unwrap_or_default()
        .chars()
        .collect();
    let mut out = String::new();
    for (i, &c) in stem.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = stem[i - 1];
            let next_lower = stem.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn sha(id: &str) -> String {
    let a = fnv(id);
    let b = fnv(&format!("{id}#"));
    let c = fnv(&format!("{id}##"));
    format!("{a:016x}{b:016x}{:08x}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_types() {
        assert_eq!(model_type("LlamaForCausalLM"), "llama");
        assert_eq!(model_type("Qwen2MoeForCausalLM"), "qwen2_moe");
        assert_eq!(model_type("MistralForCausalLM"), "mistral");
        assert_eq!(model_type("GPTNeoForCausalLM"), "gpt_neo");
        assert_eq!(model_type("Qwen2ForCausalLM"), "qwen2");
    }
}
