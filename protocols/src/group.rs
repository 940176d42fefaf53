//! Groups, partitions and memberships (`/groups`, `/partitions`, `/memberships`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::json::null_as_default;
use crate::xname::Xname;

/// Longest accepted label, partition name or tag (SMD stores them as `VARCHAR(255)`).
pub const MAX_LABEL_LEN: usize = 255;

/// `Members.1.0.0`: `{"ids":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Members {
    /// Member xnames.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ids: Vec<Xname>,
}

/// `Group.1.0.0`: a possibly overlapping, labelled set of components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    /// Unique label; see [`normalize_label`].
    pub label: String,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Groups sharing this value may not share members.
    #[serde(
        rename = "exclusiveGroup",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exclusive_group: Option<String>,
    /// The members.
    #[serde(default)]
    pub members: Members,
}

/// `Group.1.0.0_Patch`: omitted fields are left unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct GroupPatch {
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `MemberID`: body of `POST /groups/{label}/members` and `/partitions/{name}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberId {
    /// The xname to add.
    pub id: Xname,
}

/// `Partition.1.0.0`: a non-overlapping division; a component is in at most one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Partition {
    /// Unique name; see [`normalize_label`].
    pub name: String,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// The members.
    #[serde(default)]
    pub members: Members,
}

/// `Partition.1.0.0_Patch`.
pub type PartitionPatch = GroupPatch;

/// `Membership.1.0.0`: the groups and partition of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    /// The component.
    pub id: Xname,
    /// Labels of the groups it belongs to.
    #[serde(rename = "groupLabels", default, deserialize_with = "null_as_default")]
    pub group_labels: Vec<String>,
    /// Its partition, or `""` when in none (SMD always emits the key).
    #[serde(rename = "partitionName", default)]
    pub partition_name: String,
}

/// A group label, partition name or tag is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name {input:?}: {reason}")]
pub struct LabelError {
    /// The rejected input.
    pub input: String,
    /// Why, naming the bad character if there is one.
    pub reason: String,
}

/// Checks a label already in canonical form: 1..=255 of `a-z 0-9 - _ .`, no surrounding
/// whitespace (SMD's `ResourceName`).
pub fn validate_label(label: &str) -> Result<(), LabelError> {
    let fail = |reason: String| {
        Err(LabelError {
            input: label.to_owned(),
            reason,
        })
    };
    if label.is_empty() {
        return fail("empty".to_owned());
    }
    if label.len() > MAX_LABEL_LEN {
        return fail(format!(
            "{} bytes long, at most {MAX_LABEL_LEN}",
            label.len()
        ));
    }
    if let Some((pos, c)) = label
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(*c)))
    {
        return fail(format!(
            "character {c:?} at position {pos} is not allowed (use a-z, 0-9, '-', '_', '.')"
        ));
    }
    Ok(())
}

/// SMD lower-cases labels before storing them; this does the same, then validates.
pub fn normalize_label(label: &str) -> Result<String, LabelError> {
    let lower = label.trim().to_ascii_lowercase();
    validate_label(&lower).map_err(|e| LabelError {
        input: label.to_owned(),
        ..e
    })?;
    Ok(lower)
}
