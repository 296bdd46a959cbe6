//! One scale for every score: 0–100. A source's value is kept beside it with the scale
//! it came on and whether the source declared that scale or it was read from the value.

use serde::{Deserialize, Serialize};

/// The scale a value came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OriginalScale {
    /// A proportion: 0.412 is 41.2.
    #[serde(rename = "0-1")]
    Proportion,
    /// A percentage, kept as it is.
    #[serde(rename = "0-100")]
    Percent,
}

impl OriginalScale {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Proportion => "0-1",
            Self::Percent => "0-100",
        }
    }
}

/// A value on 0–100, with the value and scale it came as.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaled {
    /// On 0–100.
    pub value: f64,
    pub original_value: f64,
    pub original_scale: OriginalScale,
    /// The source said which scale (a metric's unit or maximum); `false` when it was
    /// read from the value (at most 1 is a proportion).
    pub scale_declared: bool,
}

/// Where a 0–100 value came from: the value as its source gave it, and on which scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Original {
    pub value: f64,
    pub scale: OriginalScale,
    /// See [`Scaled::scale_declared`].
    pub declared: bool,
}

impl Scaled {
    pub fn original(&self) -> Original {
        Original {
            value: self.original_value,
            scale: self.original_scale,
            declared: self.scale_declared,
        }
    }

    /// A value whose source declares its unit or maximum: Every Eval Ever's rule, as
    /// its own exporter converts to the Hub's 0–100 (`_community_eval_value` in
    /// realdata/2026/eee/code/hf_community_evals.py__L200-1000.py): a `percent` unit or a
    /// maximum of 100 is kept, a `proportion` unit or a maximum of 1 is multiplied by
    /// 100, anything else (seconds, an Elo) is refused, as is a result outside 0–100.
    pub fn declared(
        score: f64,
        metric_unit: Option<&str>,
        max_score: Option<f64>,
    ) -> Result<Self, String> {
        let unit = metric_unit.unwrap_or_default().trim().to_lowercase();
        let scale = if unit == "percent" || unit == "percentage" || max_score == Some(100.0) {
            OriginalScale::Percent
        } else if unit == "proportion" || max_score == Some(1.0) {
            OriginalScale::Proportion
        } else {
            return Err(format!(
                "not a 0-1 or 0-100 score (metric unit {:?}, max score {})",
                metric_unit.unwrap_or_default(),
                max_score.map_or("none".to_owned(), |m| m.to_string())
            ));
        };
        Self::on(score, scale, true)
    }

    /// A value whose source does not say its scale (the Hub's evaluation results and
    /// model cards mix 0.412 and 58.6 for the same benchmark, realdata/2026/
    /// community-evals/SUMMARY.md): at most 1 is read as a proportion, above that as a
    /// percentage. Only a score under 1% on a 0–100 scale is misread; `scale_declared`
    /// is `false` so a user can tell.
    pub fn by_value(score: f64) -> Result<Self, String> {
        let scale = if score.abs() <= 1.0 {
            OriginalScale::Proportion
        } else {
            OriginalScale::Percent
        };
        Self::on(score, scale, false)
    }

    /// A value known to be on `scale`.
    pub fn on(score: f64, scale: OriginalScale, declared: bool) -> Result<Self, String> {
        if !score.is_finite() {
            return Err(format!("the score {score} is not a finite number"));
        }
        let value = match scale {
            OriginalScale::Proportion => score * 100.0,
            OriginalScale::Percent => score,
        };
        // Rounded as the exporter rounds, so 0.5229 is 52.29, not 52.290000000000006.
        let value = (value * 1e10).round() / 1e10;
        if !(0.0..=100.0).contains(&value) {
            return Err(format!(
                "the score {score} on {} is {value}, outside 0-100",
                scale.as_str()
            ));
        }
        Ok(Self {
            value,
            original_value: score,
            original_scale: scale,
            scale_declared: declared,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_scales_follow_the_eee_exporter() {
        // eee/examples/MMLU-Pro__01-ai__yi-1.5-34b-chat…: unit proportion, max 1, 0.5229.
        let s = Scaled::declared(0.5229, Some("proportion"), Some(1.0)).unwrap();
        assert_eq!(s.value, 52.29);
        assert_eq!(
            (s.original_value, s.original_scale),
            (0.5229, OriginalScale::Proportion)
        );
        assert!(s.scale_declared);
        // eee/examples/helm_capabilities__meta__…: no unit, max 1, 0.742.
        assert_eq!(
            Scaled::declared(0.742, None, Some(1.0)).unwrap().value,
            74.2
        );
        assert_eq!(
            Scaled::declared(58.6, Some("percent"), None).unwrap().value,
            58.6
        );
        assert_eq!(
            Scaled::declared(58.6, None, Some(100.0)).unwrap().value,
            58.6
        );
        // An efficiency in seconds (helm's details) has no 0-100 reading.
        let e = Scaled::declared(8.88, Some("seconds"), None).unwrap_err();
        assert!(e.contains("not a 0-1 or 0-100 score"), "{e}");
        assert!(Scaled::declared(1.2, Some("proportion"), Some(1.0)).is_err());
    }

    #[test]
    fn undeclared_scales_are_read_from_the_value_and_say_so() {
        // The Hub's GPQA values as the spec's examples give them: 0.412 and 58.6.
        let p = Scaled::by_value(0.412).unwrap();
        assert_eq!(
            (p.value, p.original_scale, p.scale_declared),
            (41.2, OriginalScale::Proportion, false)
        );
        let q = Scaled::by_value(58.6).unwrap();
        assert_eq!((q.value, q.original_scale), (58.6, OriginalScale::Percent));
        assert!(Scaled::by_value(120.0).is_err());
        assert!(Scaled::by_value(-3.0).is_err());
        assert!(Scaled::by_value(f64::NAN).is_err());
    }
}
