//! The names boot parameters are stored under: a node, a role, `Default`, `Global` or
//! `Unknown-<arch>` (BSS's `hosts` values).

use std::fmt;
use std::str::FromStr;

use crate::enums::HmsType;
use crate::xname::Xname;

use super::FieldError;

/// SMD's default roles; a role name in `hosts` is matched case-insensitively and stored in
/// this spelling (the coordinator normalizes component roles to the same list).
pub const KNOWN_ROLES: &[&str] = &[
    "Compute",
    "Service",
    "System",
    "Application",
    "Storage",
    "Management",
];

/// Longest accepted architecture in `Unknown-<arch>` (iPXE's `${buildarch}`: `x86_64`,
/// `i386`, `arm64`, `arm32`, `riscv64`, `loong64`, ...).
pub const MAX_ARCH_LEN: usize = 16;

/// One BSS `hosts` entry: what a set of boot parameters applies to.
///
/// Text forms (parsing is case-insensitive, [`fmt::Display`] gives the canonical form):
/// a Node xname (`x3000c0s5b0n0`), a role from [`KNOWN_ROLES`] (`Compute`), `Default` (any
/// known node without a better match), `Global` (stored and returned, as BSS does; Cairn does
/// not apply it when booting) or `Unknown-<arch>` (nodes not in the inventory, by iPXE
/// build architecture, e.g. `Unknown-x86_64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BootKey {
    /// One node.
    Node(Xname),
    /// Every node with this role (canonical spelling from [`KNOWN_ROLES`]).
    Role(String),
    /// Known nodes that match neither their xname nor their role.
    Default,
    /// BSS's global entry.
    Global,
    /// Nodes unknown to the inventory whose iPXE reports this `${buildarch}` (lower case).
    Unknown(String),
}

impl BootKey {
    /// Parses a `hosts` entry; `field` names it in the error (e.g. `hosts[2]`).
    pub fn parse_field(field: &str, input: &str) -> Result<BootKey, FieldError> {
        let s = input.trim();
        if s.eq_ignore_ascii_case("default") {
            return Ok(BootKey::Default);
        }
        if s.eq_ignore_ascii_case("global") {
            return Ok(BootKey::Global);
        }
        if let Some(arch) = s
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("unknown-"))
            .and_then(|_| s.get(8..))
        {
            return validate_arch(field, arch).map(BootKey::Unknown);
        }
        if let Some(role) = KNOWN_ROLES.iter().find(|r| r.eq_ignore_ascii_case(s)) {
            return Ok(BootKey::Role((*role).to_owned()));
        }
        let looks_like_xname = matches!(s.as_bytes(), [b'x' | b'X' | b'd' | b'D' | b's' | b'S', d, ..] if d.is_ascii_digit());
        if !looks_like_xname {
            return Err(FieldError::invalid(
                field,
                format!(
                    "{input:?} is not a node xname, a role ({}), \"Default\", \"Global\" or \
                     \"Unknown-<arch>\"",
                    KNOWN_ROLES.join(", ")
                ),
            ));
        }
        let x = Xname::parse(s).map_err(|e| FieldError::invalid(field, e.to_string()))?;
        if x.hms_type() != HmsType::Node {
            return Err(FieldError::invalid(
                field,
                format!(
                    "{x} is a {}, not a Node: boot parameters apply to nodes",
                    x.hms_type()
                ),
            ));
        }
        Ok(BootKey::Node(x))
    }

    /// The node's xname, for [`BootKey::Node`].
    pub fn node(&self) -> Option<&Xname> {
        match self {
            BootKey::Node(x) => Some(x),
            _ => None,
        }
    }

    /// `Unknown-<arch>` for an architecture reported by iPXE; `field` names it in the error.
    pub fn unknown(field: &str, arch: &str) -> Result<BootKey, FieldError> {
        validate_arch(field, arch).map(BootKey::Unknown)
    }
}

/// Checks an iPXE `${buildarch}` value (`[a-z0-9_]{1,16}`, any case) and lower-cases it.
pub fn validate_arch(field: &str, arch: &str) -> Result<String, FieldError> {
    let ok = !arch.is_empty()
        && arch.len() <= MAX_ARCH_LEN
        && arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(FieldError::invalid(
            field,
            format!(
                "architecture {arch:?} must be 1 to {MAX_ARCH_LEN} letters, digits or '_' \
                 (an iPXE ${{buildarch}} such as x86_64 or arm64)"
            ),
        ));
    }
    Ok(arch.to_ascii_lowercase())
}

impl fmt::Display for BootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootKey::Node(x) => f.write_str(x.as_str()),
            BootKey::Role(r) => f.write_str(r),
            BootKey::Default => f.write_str("Default"),
            BootKey::Global => f.write_str("Global"),
            BootKey::Unknown(arch) => write!(f, "Unknown-{arch}"),
        }
    }
}

impl FromStr for BootKey {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BootKey::parse_field("hosts", s)
    }
}

impl serde::Serialize for BootKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for BootKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // The decoder adds the path (`hosts[2]`), so only the reason goes in the message.
        BootKey::parse_field("", &s).map_err(|e| serde::de::Error::custom(e.reason))
    }
}

impl utoipa::PartialSchema for BootKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A Node xname, a role (Compute, Service, ...), Default, Global or Unknown-<arch>",
            ))
            .examples(["x3000c0s5b0n0", "Compute", "Default", "Unknown-x86_64"])
            .into()
    }
}

impl utoipa::ToSchema for BootKey {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Result<String, String> {
        BootKey::parse_field("hosts[0]", s)
            .map(|k| k.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(key("X3000C0S05B0N0").as_deref(), Ok("x3000c0s5b0n0"));
        assert_eq!(key("compute").as_deref(), Ok("Compute"));
        assert_eq!(key("DEFAULT").as_deref(), Ok("Default"));
        assert_eq!(key("global").as_deref(), Ok("Global"));
        assert_eq!(key("unknown-X86_64").as_deref(), Ok("Unknown-x86_64"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = key("x3000c0s5b0").unwrap_err();
        assert!(e.starts_with("hosts[0]: x3000c0s5b0 is a NodeBMC"), "{e}");
        let e = key("x3000c0s5b0n0q").unwrap_err();
        assert!(e.starts_with("hosts[0]: invalid xname"), "{e}");
        let e = key("frontend").unwrap_err();
        assert!(e.contains("not a node xname, a role"), "{e}");
        let e = key("Unknown-").unwrap_err();
        assert!(e.contains("architecture \"\""), "{e}");
        let e = key("Unknown-x86 64").unwrap_err();
        assert!(e.contains("architecture"), "{e}");
    }

    #[test]
    fn serde_round_trip() {
        let k: BootKey = serde_json::from_str("\"unknown-arm64\"").unwrap();
        assert_eq!(k, BootKey::Unknown("arm64".into()));
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"Unknown-arm64\"");
    }
}
