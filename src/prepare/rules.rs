//! The normalisation rules that turn raw Hub and leaderboard values into tidy columns.
//! Each rule is a small pure function so it can be read, documented and tested alone.

use crate::records::dataset::{LicenseFamily, Modality, Relation, SizeClass};

/// The smallest and largest parameter counts we believe. Below 1M it is a tokenizer or a
/// stub repo; above 10T no released model comes close, so it is a bad count (the
/// leaderboard uses `-1` for "unknown").
pub const MIN_PLAUSIBLE_PARAMETERS: f64 = 1e6;
pub const MAX_PLAUSIBLE_PARAMETERS: f64 = 1e13;

impl SizeClass {
    pub const ALL: [SizeClass; 5] = [
        Self::Under3B,
        Self::From3To9B,
        Self::From9To20B,
        Self::From20To80B,
        Self::Over80B,
    ];

    pub fn of(parameters_b: f64) -> Self {
        match parameters_b {
            p if p < 3.0 => Self::Under3B,
            p if p < 9.0 => Self::From3To9B,
            p if p < 20.0 => Self::From9To20B,
            p if p < 80.0 => Self::From20To80B,
            _ => Self::Over80B,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Under3B => "<3B",
            Self::From3To9B => "3-9B",
            Self::From9To20B => "9-20B",
            Self::From20To80B => "20-80B",
            Self::Over80B => ">80B",
        }
    }
}

impl LicenseFamily {
    pub const ALL: [LicenseFamily; 4] = [
        Self::Permissive,
        Self::Copyleft,
        Self::RestrictedUse,
        Self::Unknown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Permissive => "permissive",
            Self::Copyleft => "copyleft",
            Self::RestrictedUse => "restricted-use",
            Self::Unknown => "unknown",
        }
    }
}

/// Hub licence ids (the `license:` tag values) by family. Prefix rules catch the
/// versioned families (`llama3.1`, `gpl-3.0`, `cc-by-nc-sa-4.0`); order matters, so
/// the non-commercial and share-alike Creative Commons ids are tested before `cc-by`.
const LICENSE_PREFIXES: [(&str, LicenseFamily); 27] = [
    ("cc-by-nc", LicenseFamily::RestrictedUse),
    ("cc-by-nd", LicenseFamily::RestrictedUse),
    ("cc-by-sa", LicenseFamily::Copyleft),
    ("cc-by", LicenseFamily::Permissive),
    ("cc0", LicenseFamily::Permissive),
    ("apache", LicenseFamily::Permissive),
    ("mit", LicenseFamily::Permissive),
    ("bsd", LicenseFamily::Permissive),
    ("bsl", LicenseFamily::Permissive),
    ("afl", LicenseFamily::Permissive),
    ("isc", LicenseFamily::Permissive),
    ("zlib", LicenseFamily::Permissive),
    ("unlicense", LicenseFamily::Permissive),
    ("wtfpl", LicenseFamily::Permissive),
    ("artistic", LicenseFamily::Permissive),
    ("ecl", LicenseFamily::Permissive),
    ("agpl", LicenseFamily::Copyleft),
    ("lgpl", LicenseFamily::Copyleft),
    ("gpl", LicenseFamily::Copyleft),
    ("mpl", LicenseFamily::Copyleft),
    ("osl", LicenseFamily::Copyleft),
    ("epl", LicenseFamily::Copyleft),
    ("eupl", LicenseFamily::Copyleft),
    ("odbl", LicenseFamily::Copyleft),
    ("llama", LicenseFamily::RestrictedUse),
    ("gemma", LicenseFamily::RestrictedUse),
    ("deepseek", LicenseFamily::RestrictedUse),
];

/// Restricted-use ids that do not share a prefix with a family above.
const RESTRICTED_SUBSTRINGS: [&str; 6] = [
    "openrail",
    "bigscience",
    "apple-ascl",
    "qwen",
    "tongyi",
    "mistral-research",
];

/// Map one Hub licence id to its family; case and surrounding space are ignored.
pub fn license_family_of_id(id: &str) -> LicenseFamily {
    let id = id.trim().to_ascii_lowercase();
    if id.is_empty() || id == "other" || id == "unknown" {
        return LicenseFamily::Unknown;
    }
    if RESTRICTED_SUBSTRINGS.iter().any(|s| id.contains(s)) {
        return LicenseFamily::RestrictedUse;
    }
    LICENSE_PREFIXES
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map(|(_, family)| *family)
        .unwrap_or(LicenseFamily::Unknown)
}

/// The family of a `;`-joined licence cell: the most restrictive known family among its
/// ids (a user must honour every licence), or unknown when none is known.
pub fn license_family(cell: &str) -> LicenseFamily {
    cell.split(';')
        .map(license_family_of_id)
        .filter(|f| *f != LicenseFamily::Unknown)
        .max_by_key(|f| match f {
            LicenseFamily::Permissive => 0,
            LicenseFamily::Copyleft => 1,
            LicenseFamily::RestrictedUse => 2,
            LicenseFamily::Unknown => -1,
        })
        .unwrap_or(LicenseFamily::Unknown)
}

impl Relation {
    pub fn label(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Finetune => "finetune",
            Self::Quantized => "quantized",
            Self::Adapter => "adapter",
            Self::Merge => "merge",
        }
    }
}

/// Name or tag markers of a quantised repo whose card does not say `quantized`.
const QUANTIZED_MARKERS: [&str; 6] = ["gguf", "gptq", "awq", "exl2", "bnb-4bit", "mlx-4bit"];

/// The relation from the card (`base_model_relation` or the `base_model:<relation>:` tag),
/// else `quantized` for a GGUF/GPTQ/AWQ/EXL2 repo, else `finetune` when a base model is
/// named (the Hub's own default), else `base`.
pub fn relation(declared: &str, base_models: &str, model_id: &str, tags: &str) -> Relation {
    match declared.trim() {
        "finetune" => return Relation::Finetune,
        "quantized" => return Relation::Quantized,
        "adapter" => return Relation::Adapter,
        "merge" => return Relation::Merge,
        _ => {}
    }
    let id = model_id.to_ascii_lowercase();
    let quantized_tag = tags
        .split(';')
        .any(|t| QUANTIZED_MARKERS.contains(&t.trim().to_ascii_lowercase().as_str()));
    let has_base = base_models
        .split(';')
        .any(|b| !b.trim().is_empty() && !b.trim().eq_ignore_ascii_case(model_id));
    if has_base && (quantized_tag || QUANTIZED_MARKERS.iter().any(|m| id.contains(m))) {
        Relation::Quantized
    } else if has_base {
        Relation::Finetune
    } else {
        Relation::Base
    }
}

/// The first base model named on the card, if it is not the model itself.
pub fn primary_base(base_models: &str, model_id: &str) -> Option<String> {
    base_models
        .split(';')
        .map(str::trim)
        .find(|b| !b.is_empty() && !b.eq_ignore_ascii_case(model_id))
        .map(str::to_owned)
}

/// The canonical-row rule belongs to the leaderboard's rows; the dataset applies it.
pub use crate::records::canonical_row;

/// **The modality rule.** From the config's `model_type` first, where it says more than
/// the tag (a community copy can carry another tag than its weights: realdata/2026/
/// pipeline-tags.md, `mlabonne/gemma-3-4b-it-qat-abliterated` is tagged
/// `image-text-to-text` with the text-only `gemma3_text`): a `*_text` type is `text`,
/// an `*omni*` type `omni`, a `*_vl*`/`*vl` or `llava`/`mllama` type `vision-language`.
/// Then the pipeline tag: `any-to-any` → `omni`; `image-text-to-text`, `image-to-text`,
/// `visual-question-answering`, `video-text-to-text` → `vision-language`;
/// `audio-text-to-text` → `audio-language`; `text-generation`, `text2text-generation`
/// → `text`; any other tag → `other`; none → `unknown`.
pub fn modality(pipeline_tag: &str, model_type: &str) -> Modality {
    let model_type = model_type.trim().to_ascii_lowercase();
    if model_type.ends_with("_text") {
        return Modality::Text;
    }
    if model_type.contains("omni") {
        return Modality::Omni;
    }
    if model_type.contains("_vl")
        || model_type.ends_with("vl")
        || model_type.contains("llava")
        || model_type == "mllama"
    {
        return Modality::VisionLanguage;
    }
    match pipeline_tag.trim() {
        "" => Modality::Unknown,
        "any-to-any" => Modality::Omni,
        "image-text-to-text"
        | "image-to-text"
        | "visual-question-answering"
        | "video-text-to-text" => Modality::VisionLanguage,
        "audio-text-to-text" => Modality::AudioLanguage,
        "text-generation" | "text2text-generation" => Modality::Text,
        _ => Modality::Other,
    }
}

/// Whole days from an RFC 3339 timestamp to `as_of`; `None` for an unparsable date.
pub fn age_days(created_at: &str, as_of: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let created = chrono::DateTime::parse_from_rfc3339(created_at.trim()).ok()?;
    Some(
        (as_of - created.with_timezone(&chrono::Utc))
            .num_days()
            .max(0),
    )
}

/// Mean daily downloads over the Hub's 30-day `downloads` window.
pub fn downloads_per_day(downloads_30d: Option<u64>) -> Option<f64> {
    downloads_30d.map(|d| round2(d as f64 / 30.0))
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modality_of_the_2026_flagships() {
        // Tags and model types from realdata/2026/pipeline-tags.md.
        for (tag, model_type, expected) in [
            ("image-text-to-text", "gemma3", Modality::VisionLanguage),
            ("image-text-to-text", "gemma3_text", Modality::Text),
            ("text-generation", "gemma3_text", Modality::Text),
            ("any-to-any", "gemma4", Modality::Omni),
            ("any-to-any", "qwen2_5_omni", Modality::Omni),
            ("image-text-to-text", "qwen2_5_vl", Modality::VisionLanguage),
            ("text-generation", "qwen3_vl", Modality::VisionLanguage),
            ("image-text-to-text", "mistral3", Modality::VisionLanguage),
            ("text-generation", "gpt_oss", Modality::Text),
            ("image-to-text", "", Modality::VisionLanguage),
            ("feature-extraction", "bert", Modality::Other),
            ("", "", Modality::Unknown),
        ] {
            assert_eq!(modality(tag, model_type), expected, "{tag} {model_type}");
        }
    }
    use crate::records::LeaderboardRecord;

    #[test]
    fn license_mapping_covers_the_real_leaderboard_ids() {
        use LicenseFamily::*;
        let cases = [
            ("apache-2.0", Permissive),
            ("MIT", Permissive),
            ("bsd-3-clause-clear", Permissive),
            ("cc-by-4.0", Permissive),
            ("wtfpl", Permissive),
            ("afl-3.0", Permissive),
            ("gpl-3.0", Copyleft),
            ("agpl-3.0", Copyleft),
            ("cc-by-sa-4.0", Copyleft),
            ("osl-3.0", Copyleft),
            ("mpl-2.0", Copyleft),
            ("llama3.1", RestrictedUse),
            ("llama2", RestrictedUse),
            ("gemma", RestrictedUse),
            ("cc-by-nc-4.0", RestrictedUse),
            ("cc-by-nc-sa-4.0", RestrictedUse),
            ("cc-by-nc-nd-4.0", RestrictedUse),
            ("creativeml-openrail-m", RestrictedUse),
            ("bigscience-bloom-rail-1.0", RestrictedUse),
            ("bigcode-openrail-m", RestrictedUse),
            ("apple-ascl", RestrictedUse),
            ("openrail", RestrictedUse),
            ("other", Unknown),
            ("unknown", Unknown),
            ("", Unknown),
            ("=HYPERLINK(\"http://evil\")", Unknown),
            ("some-new-licence", Unknown),
        ];
        for (id, family) in cases {
            assert_eq!(license_family(id), family, "{id:?}");
        }
        // Several licences: the most restrictive known one wins; unknown ids do not dilute it.
        assert_eq!(license_family("apache-2.0;llama3"), RestrictedUse);
        assert_eq!(license_family("mit;gpl-2.0"), Copyleft);
        assert_eq!(license_family("other;mit"), Permissive);
    }

    #[test]
    fn size_classes_have_closed_lower_bounds() {
        let cases = [
            (0.135, "<3B"),
            (2.99, "<3B"),
            (3.0, "3-9B"),
            (8.03, "3-9B"),
            (9.0, "9-20B"),
            (19.9, "9-20B"),
            (20.0, "20-80B"),
            (72.7, "20-80B"),
            (80.0, ">80B"),
            (671.0, ">80B"),
        ];
        for (params, label) in cases {
            assert_eq!(SizeClass::of(params).label(), label, "{params}");
        }
    }

    #[test]
    fn relations_from_card_then_markers() {
        assert_eq!(relation("merge", "a/b;c/d", "x/y", ""), Relation::Merge);
        assert_eq!(relation("adapter", "a/b", "x/y", ""), Relation::Adapter);
        assert_eq!(relation("", "", "x/y", ""), Relation::Base);
        assert_eq!(relation("", "a/b", "x/y", ""), Relation::Finetune);
        assert_eq!(
            relation("", "a/b", "TheBloke/Llama-2-7B-GGUF", ""),
            Relation::Quantized
        );
        assert_eq!(relation("", "a/b", "x/y", "gguf;en"), Relation::Quantized);
        // A card naming itself as its base is a base model.
        assert_eq!(relation("", "x/y", "x/y", ""), Relation::Base);
        assert_eq!(primary_base(" ;x/y;a/b", "x/y").as_deref(), Some("a/b"));
    }

    fn row(eval: &str, precision: &str, weight: &str, date: &str, chat: bool) -> LeaderboardRecord {
        LeaderboardRecord {
            model_id: "o/m".into(),
            eval_name: eval.into(),
            precision: precision.into(),
            weight_type: weight.into(),
            submission_date: date.into(),
            chat_template: Some(chat),
            ..Default::default()
        }
    }

    #[test]
    fn canonical_row_rule() {
        let bf16 = row(
            "o/m_bfloat16_a_False",
            "bfloat16",
            "Original",
            "2024-10-01",
            false,
        );
        let fp16 = row(
            "o/m_float16_a_True",
            "float16",
            "Original",
            "2024-12-01",
            true,
        );
        let q4 = row("o/m_4bit_a_True", "4bit", "Original", "2025-01-01", true);
        let adapter = row(
            "o/m_bfloat16_b_True",
            "bfloat16",
            "Adapter",
            "2025-01-01",
            true,
        );
        assert_eq!(
            canonical_row(&[&q4, &fp16, &bf16, &adapter])
                .unwrap()
                .eval_name,
            bf16.eval_name
        );
        assert_eq!(
            canonical_row(&[&q4, &fp16]).unwrap().eval_name,
            fp16.eval_name
        );
        let later = row(
            "o/m_bfloat16_c_False",
            "bfloat16",
            "Original",
            "2024-11-01",
            false,
        );
        assert_eq!(
            canonical_row(&[&bf16, &later]).unwrap().eval_name,
            later.eval_name
        );
        let chat = row(
            "o/m_bfloat16_a_True",
            "bfloat16",
            "Original",
            "2024-10-01",
            true,
        );
        assert_eq!(
            canonical_row(&[&bf16, &chat]).unwrap().eval_name,
            chat.eval_name
        );
        // Ties fall to the name, whatever the order.
        let twin = row(
            "o/m_bfloat16_0_False",
            "bfloat16",
            "Original",
            "2024-10-01",
            false,
        );
        assert_eq!(
            canonical_row(&[&bf16, &twin]).unwrap().eval_name,
            twin.eval_name
        );
        assert_eq!(
            canonical_row(&[&twin, &bf16]).unwrap().eval_name,
            twin.eval_name
        );
        assert!(canonical_row::<&LeaderboardRecord>(&[]).is_none());
    }

    #[test]
    fn ages_and_rates() {
        let as_of = chrono::DateTime::parse_from_rfc3339("2025-03-21T12:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(age_days("2025-03-01T12:00:00.000Z", as_of), Some(20));
        assert_eq!(age_days("2026-01-01T00:00:00Z", as_of), Some(0));
        assert_eq!(age_days("yesterday", as_of), None);
        assert_eq!(downloads_per_day(Some(3000)), Some(100.0));
        assert_eq!(downloads_per_day(None), None);
    }
}
