//! The error a stage's own settings give when they do not make sense. The stage names
//! the key within its section; the configuration layer adds the section and the source.

/// A setting that cannot be used, e.g. `limit` "must be >= 1" in section `hub`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` {reason}")]
pub struct InvalidSetting {
    /// The key, with its section: `hub.limit`.
    pub key: String,
    pub reason: String,
}

impl InvalidSetting {
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// `Err(InvalidSetting)`, for `return invalid(...)` in a validator.
    pub fn err<T>(key: impl Into<String>, reason: impl Into<String>) -> Result<T, Self> {
        Err(Self::new(key, reason))
    }
}

/// Check that a number of seconds from the settings is finite and within bounds, so it
/// can become a `Duration` without panicking.
pub fn check_secs(key: &str, value: f64, min: f64, max: f64) -> Result<(), InvalidSetting> {
    if !value.is_finite() || value < min || value > max {
        return InvalidSetting::err(
            key,
            format!("must be a number of seconds from {min} to {max}"),
        );
    }
    Ok(())
}
