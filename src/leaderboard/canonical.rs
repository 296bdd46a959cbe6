//! Which of a model's leaderboard rows speaks for it.

use super::LeaderboardRecord;

/// Rank of a precision for the canonical-row rule: full-precision evaluations describe
/// the model as published; a 4-bit evaluation describes a quantisation of it.
fn precision_rank(precision: &str) -> u8 {
    match precision.trim().to_ascii_lowercase().as_str() {
        "bfloat16" => 0,
        "float16" => 1,
        "float32" => 2,
        "" => 4,
        "4bit" | "8bit" | "gptq" => 5,
        _ => 3,
    }
}

/// **The canonical-row rule.** Of a model's leaderboard rows with status `found`, use:
/// 1. original weights over adapter weights;
/// 2. then the most precise evaluation (bfloat16, float16, float32, other, 4-bit);
/// 3. then the latest submission date (a resubmission supersedes);
/// 4. then the chat-template run (how the model is meant to be prompted);
/// 5. then the smallest `eval_name`, so the choice never depends on row order.
///
/// The highest score is deliberately not a criterion: that would cherry-pick.
pub fn canonical_row<'a>(rows: &[&'a LeaderboardRecord]) -> Option<&'a LeaderboardRecord> {
    rows.iter().copied().min_by(|a, b| {
        let key = |r: &LeaderboardRecord| {
            (
                !r.weight_type.eq_ignore_ascii_case("original"),
                precision_rank(&r.precision),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| b.submission_date.cmp(&a.submission_date))
            .then_with(|| {
                b.chat_template
                    .unwrap_or(false)
                    .cmp(&a.chat_template.unwrap_or(false))
            })
            .then_with(|| a.eval_name.cmp(&b.eval_name))
    })
}
