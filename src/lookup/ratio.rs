//! The ratios a stage may tolerate before it fails: records set aside as invalid
//! (`*.max_invalid_ratio`) and lookups that ended in error (`*.max_error_ratio`).

/// Whether `bad` records out of `bad + good` stay within `max_ratio`.
pub fn within_ratio(bad: u64, good: u64, max_ratio: f64) -> bool {
    let seen = bad.saturating_add(good);
    seen == 0 || (bad as f64) <= max_ratio * seen as f64
}

/// Whether `errors` of `looked_up` lookups are over `max_ratio`: the share, when it is.
/// No error is never over, whatever the ratio.
pub fn errors_over(errors: u64, looked_up: u64, max_ratio: f64) -> Option<f64> {
    let ratio = errors as f64 / looked_up.max(1) as f64;
    (errors > 0 && ratio > max_ratio).then_some(ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_records_within_their_ratio() {
        assert!(within_ratio(0, 0, 0.0));
        assert!(within_ratio(5, 95, 0.05));
        assert!(!within_ratio(6, 94, 0.05));
        assert!(!within_ratio(1, 0, 0.99));
    }

    #[test]
    fn errors_over_their_ratio() {
        assert_eq!(errors_over(0, 0, 0.0), None);
        assert_eq!(errors_over(0, 10, 0.0), None);
        assert_eq!(errors_over(1, 10, 0.1), None);
        assert_eq!(errors_over(2, 10, 0.1), Some(0.2));
        assert_eq!(errors_over(1, 0, 0.5), Some(1.0));
    }
}
