//! Query bodies: `POST /State/Components/Query` and `POST /State/Components/ByNID/Query`.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::json::null_as_default;
use crate::xname::Xname;

/// `ComponentArray_PostQuery`. Filters are string lists as in the spec (values are validated
/// where they are applied, mirroring the GET query parameters).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ComponentQuery {
    /// The components to query.
    #[serde(rename = "ComponentIDs", default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub component_ids: Vec<Xname>,
    /// Only members of this partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Only members of this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Return only ID, Type, State and Flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateonly: Option<bool>,
    /// Return only ID, Type and Flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagonly: Option<bool>,
    /// Return only ID, Type, Role and SubRole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roleonly: Option<bool>,
    /// Return only ID, Type and NID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nidonly: Option<bool>,
    /// HMS types to match.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub r#type: Vec<String>,
    /// States to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub state: Vec<String>,
    /// Flags to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flag: Vec<String>,
    /// Enabled values ("true"/"false") to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub enabled: Vec<String>,
    /// Software statuses to match (case-insensitive).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub softwarestatus: Vec<String>,
    /// Roles to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub role: Vec<String>,
    /// Sub-roles to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subrole: Vec<String>,
    /// Subtypes to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subtype: Vec<String>,
    /// Architectures to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch: Vec<String>,
    /// Hardware classes to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub class: Vec<String>,
    /// NIDs to match.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nid: Vec<String>,
    /// Lower NID bounds (inclusive).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nid_start: Vec<String>,
    /// Upper NID bounds (inclusive).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nid_end: Vec<String>,
}

/// `ComponentArray_PostByNIDQuery`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ByNidQuery {
    /// NID ranges such as `"0-24"` or `"2"`; see [`parse_nid_range`].
    #[serde(rename = "NIDRanges")]
    pub nid_ranges: Vec<String>,
    /// Only members of this partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Return only ID, Type, State and Flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateonly: Option<bool>,
    /// Return only ID, Type and Flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagonly: Option<bool>,
    /// Return only ID, Type, Role and SubRole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roleonly: Option<bool>,
    /// Return only ID, Type and NID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nidonly: Option<bool>,
}

/// A NID range string is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid NID range {input:?}: {reason}")]
pub struct NidRangeError {
    /// The rejected input.
    pub input: String,
    /// Why.
    pub reason: &'static str,
}

/// Parses `"N"` or `"A-B"` (inclusive, `A <= B`, non-negative) into a range.
pub fn parse_nid_range(input: &str) -> Result<RangeInclusive<i64>, NidRangeError> {
    let fail = |reason| NidRangeError {
        input: input.to_owned(),
        reason,
    };
    let num = |s: &str| {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("expected a non-negative integer or \"start-end\""));
        }
        s.parse::<i64>().map_err(|_| fail("number too large"))
    };
    let (start, end) = match input.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let n = num(input)?;
            (n, n)
        }
    };
    if start > end {
        return Err(fail("start is greater than end"));
    }
    Ok(start..=end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nid_ranges() {
        assert_eq!(parse_nid_range("2"), Ok(2..=2));
        assert_eq!(parse_nid_range("0-24"), Ok(0..=24));
        let e = parse_nid_range("24-0").unwrap_err().to_string();
        assert!(e.contains("\"24-0\"") && e.contains("greater"), "{e}");
        assert!(parse_nid_range("a-3").is_err());
        assert!(parse_nid_range("-3").is_err());
        assert!(parse_nid_range("").is_err());
    }

    #[test]
    fn query_uses_spec_keys() {
        let q: ComponentQuery = serde_json::from_str(
            r#"{"ComponentIDs":["x1c0s0b0n0"],"type":["Node"],"nid_start":["1"],"stateonly":true}"#,
        )
        .unwrap();
        assert_eq!(q.r#type, ["Node"]);
        assert_eq!(q.nid_start, ["1"]);
        assert_eq!(q.stateonly, Some(true));
        let back = serde_json::to_value(&q).unwrap();
        assert_eq!(back["ComponentIDs"][0], "x1c0s0b0n0");
        assert!(back.get("role").is_none());
        let b: ByNidQuery = serde_json::from_str(r#"{"NIDRanges":["0-24","30"]}"#).unwrap();
        assert_eq!(b.nid_ranges.len(), 2);
    }
}
