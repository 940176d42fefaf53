//! Conversions between the generated agent-protocol messages ([`crate::pb::agent`]) and the
//! domain types ([`crate::agent`], [`crate::power`]), one file per domain type. Decoding a
//! message validates it: a malformed one is a [`PbError`] naming the field, which the
//! coordinator answers with `INVALID_ARGUMENT`.

mod boot_report;
mod desired;
mod power;
mod registration;
mod report;
mod work;

use crate::xname::Xname;

/// A message field is missing or malformed. Display: `<field>: <message>`, the field named by
/// its path, e.g. `items[3].power_result.xname`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PbError {
    /// Path of the offending field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl PbError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> PbError {
        PbError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error under `prefix` (`items[2]` + `xname` → `items[2].xname`).
    pub(crate) fn within(self, prefix: &str) -> PbError {
        PbError {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

/// Longest free-text field (descriptions, errors, versions, URLs) accepted from an agent.
pub const MAX_TEXT_LEN: usize = 4096;

pub(crate) fn xname(field: &str, s: &str) -> Result<Xname, PbError> {
    Xname::parse(s).map_err(|e| PbError::new(field, e.to_string()))
}

pub(crate) fn text(field: &str, s: String) -> Result<String, PbError> {
    if s.len() > MAX_TEXT_LEN {
        return Err(PbError::new(
            field,
            format!("{} bytes, at most {MAX_TEXT_LEN}", s.len()),
        ));
    }
    Ok(s)
}

/// A time in Unix milliseconds; 0 means unset, negative is refused.
pub(crate) fn time_ms(field: &str, v: i64) -> Result<Option<u64>, PbError> {
    match u64::try_from(v) {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(ms)),
        Err(_) => Err(PbError::new(field, format!("negative time {v}"))),
    }
}

pub(crate) fn unix_ms(ms: Option<u64>) -> i64 {
    ms.map_or(0, |ms| i64::try_from(ms).unwrap_or(i64::MAX))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}
