//! Checks for cloud-init user-data text: the header that tells cloud-init what it is, and for
//! `#cloud-config`, that the rest is a YAML mapping.

use crate::boot::FieldError;

/// The first-line markers cloud-init recognizes (its part handlers), longest first so that
/// `#cloud-config-archive` is not taken for `#cloud-config`.
const HEADERS: &[&str] = &[
    "#cloud-config-archive",
    "#cloud-config-jsonp",
    "#cloud-config",
    "#cloud-boothook",
    "#include-once",
    "#include",
    "#part-handler",
    "## template: jinja",
    "#!",
    "Content-Type:",
];

/// What kind of user-data a text is, from its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserDataKind {
    /// `#cloud-config`: a YAML mapping of modules' settings.
    CloudConfig,
    /// `## template: jinja`: rendered by cloud-init against its instance data first.
    JinjaTemplate,
    /// Any other recognized type (script, include list, boothook, MIME, archive).
    Other,
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim_end()
}

/// Classifies user-data by its header, or fails naming `field` when there is none.
pub fn user_data_kind(field: &str, text: &str) -> Result<UserDataKind, FieldError> {
    let line = first_line(text);
    let header = HEADERS
        .iter()
        .find(|h| {
            line.get(..h.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(h))
        })
        .ok_or_else(|| {
            FieldError::invalid(
                field,
                format!(
                    "first line {line:?} is not a cloud-init header (#cloud-config, \
                     ## template: jinja, #!, #include, ...): cloud-init would ignore it"
                ),
            )
        })?;
    Ok(match *header {
        "#cloud-config" if line.len() == header.len() => UserDataKind::CloudConfig,
        "#cloud-config" => {
            return Err(FieldError::invalid(
                field,
                format!("first line {line:?} must be exactly #cloud-config"),
            ));
        }
        "## template: jinja" => UserDataKind::JinjaTemplate,
        _ => UserDataKind::Other,
    })
}

/// Checks `#cloud-config` text: the first line is `#cloud-config` and the document parses as
/// a YAML mapping (or is empty). Returns the parsed mapping.
pub fn parse_cloud_config(field: &str, text: &str) -> Result<serde_yaml_ng::Mapping, FieldError> {
    if first_line(text) != "#cloud-config" {
        return Err(FieldError::invalid(
            field,
            format!(
                "must start with a #cloud-config line (found {:?})",
                first_line(text)
            ),
        ));
    }
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
        .map_err(|e| FieldError::invalid(field, format!("invalid YAML: {e}")))?;
    match value {
        serde_yaml_ng::Value::Null => Ok(serde_yaml_ng::Mapping::new()),
        serde_yaml_ng::Value::Mapping(m) => Ok(m),
        other => Err(FieldError::invalid(
            field,
            format!(
                "cloud-config must be a YAML mapping of module settings, found a {}",
                yaml_kind(&other)
            ),
        )),
    }
}

/// Checks any user-data text: a recognized header, and for `#cloud-config` valid YAML (see
/// [`parse_cloud_config`]); jinja templates are only checked for their header, since their
/// YAML exists only after cloud-init renders them.
pub fn validate_user_data(field: &str, text: &str) -> Result<UserDataKind, FieldError> {
    let kind = user_data_kind(field, text)?;
    if kind == UserDataKind::CloudConfig {
        parse_cloud_config(field, text)?;
    }
    Ok(kind)
}

fn yaml_kind(v: &serde_yaml_ng::Value) -> &'static str {
    match v {
        serde_yaml_ng::Value::Null => "null",
        serde_yaml_ng::Value::Bool(_) => "boolean",
        serde_yaml_ng::Value::Number(_) => "number",
        serde_yaml_ng::Value::String(_) => "string",
        serde_yaml_ng::Value::Sequence(_) => "list",
        serde_yaml_ng::Value::Mapping(_) => "mapping",
        serde_yaml_ng::Value::Tagged(_) => "tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |t: &str| user_data_kind("f", t);
        assert_eq!(k("#cloud-config\na: 1"), Ok(UserDataKind::CloudConfig));
        assert_eq!(k("#cloud-config  \r\na: 1"), Ok(UserDataKind::CloudConfig));
        assert_eq!(
            k("## template: jinja\n#cloud-config\n"),
            Ok(UserDataKind::JinjaTemplate)
        );
        assert_eq!(k("#!/bin/sh\necho hi"), Ok(UserDataKind::Other));
        assert_eq!(k("#cloud-config-archive\n- a"), Ok(UserDataKind::Other));
        assert!(k("#cloud-configx\n").is_err());
        assert!(
            k("packages: [vim]\n")
                .unwrap_err()
                .to_string()
                .contains("not a cloud-init header")
        );
    }

    #[test]
    fn cloud_config_must_be_a_yaml_mapping() {
        assert!(
            parse_cloud_config("u", "#cloud-config\n")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            parse_cloud_config("u", "#cloud-config\npackages: [vim]\n")
                .unwrap()
                .len(),
            1
        );
        let e = parse_cloud_config("user-data", "#cloud-config\nusers: [a\n").unwrap_err();
        assert!(e.to_string().starts_with("user-data: invalid YAML"), "{e}");
        let e = parse_cloud_config("u", "#cloud-config\n- a\n").unwrap_err();
        assert!(e.to_string().contains("found a list"), "{e}");
        let e = parse_cloud_config("u", "packages: [vim]\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("must start with a #cloud-config line"),
            "{e}"
        );
    }
}
