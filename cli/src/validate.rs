//! Argument checks run by clap before any request: bad xnames, MACs and enum values are
//! refused with a message naming them. The rules themselves live in `cairn_protocols`.

use std::net::IpAddr;
use std::str::FromStr;

use cairn_protocols::{HmsArch, HmsClass, HmsFlag, HmsState, HmsType, MacAddr, Xname};

/// An xname, normalized (`X1000C0S05B0N0` → `x1000c0s5b0n0`).
pub fn xname(s: &str) -> Result<String, String> {
    Xname::parse(s)
        .map(|x| x.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// The HMS type an xname names (`x1000c0s0b0` → `NodeBMC`).
pub fn type_of(xname: &str) -> Result<String, String> {
    Xname::parse(xname)
        .map(|x| x.hms_type().as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// A MAC address in any usual form, normalized to lower-case colon form.
pub fn mac(s: &str) -> Result<String, String> {
    MacAddr::parse(s)
        .map(|m| m.to_string())
        .map_err(|e| e.to_string())
}

/// SMD's EthernetInterface id for a MAC: lower-case hex without separators.
pub fn mac_id(s: &str) -> Result<String, String> {
    MacAddr::parse(s)
        .map(|m| m.smd_id())
        .map_err(|e| e.to_string())
}

/// An IP address (v4 or v6).
pub fn ip(s: &str) -> Result<String, String> {
    IpAddr::from_str(s)
        .map(|ip| ip.to_string())
        .map_err(|_| format!("invalid IP address {s:?}"))
}

/// `IP` or `IP/NETWORK` where NETWORK is a network name such as `hmn` (not a prefix length).
pub fn ip_on_network(s: &str) -> Result<(String, Option<String>), String> {
    match s.split_once('/') {
        None => Ok((ip(s)?, None)),
        Some((addr, net)) if net.is_empty() || net.bytes().all(|b| b.is_ascii_digit()) => Err(
            format!("{s:?}: after '/' give a network name such as {addr}/hmn, not a prefix length"),
        ),
        Some((addr, net)) => Ok((ip(addr)?, Some(net.to_owned()))),
    }
}

fn canonical<T: FromStr<Err = E>, E: ToString>(
    s: &str,
    spell: fn(T) -> &'static str,
) -> Result<String, String> {
    T::from_str(s)
        .map(spell)
        .map(str::to_owned)
        .map_err(|e| e.to_string())
}

/// A component state (`on` → `On`).
pub fn state(s: &str) -> Result<String, String> {
    canonical(s, HmsState::as_str)
}

/// A component flag (`ok` → `OK`).
pub fn flag(s: &str) -> Result<String, String> {
    canonical(s, HmsFlag::as_str)
}

/// An architecture (`x86` → `X86`).
pub fn arch(s: &str) -> Result<String, String> {
    canonical(s, HmsArch::as_str)
}

/// A hardware class (`river` → `River`).
pub fn class(s: &str) -> Result<String, String> {
    canonical(s, HmsClass::as_str)
}

/// An HMS type (`node` → `Node`).
pub fn hms_type(s: &str) -> Result<String, String> {
    canonical(s, HmsType::as_str)
}

/// A BSS `hosts` key: a node xname, a role, `Default`, `Global` or `Unknown-<arch>`, in its
/// canonical spelling (`compute` → `Compute`).
pub fn boot_key(s: &str) -> Result<String, String> {
    cairn_protocols::BootKey::parse_field("--host", s)
        .map(|k| k.to_string())
        .map_err(|e| e.reason)
}

/// A kernel URL or path, as boot parameters accept it.
pub fn kernel(s: &str) -> Result<String, String> {
    cairn_protocols::validate_image_path("--kernel", s)
        .map(|()| s.to_owned())
        .map_err(|e| e.reason)
}

/// An initrd URL or path.
pub fn initrd(s: &str) -> Result<String, String> {
    cairn_protocols::validate_image_path("--initrd", s)
        .map(|()| s.to_owned())
        .map_err(|e| e.reason)
}

/// A kernel command line (no newline, iPXE separator, comment or `${`).
pub fn kernel_params(s: &str) -> Result<String, String> {
    cairn_protocols::validate_params(s)
        .map(|()| s.to_owned())
        .map_err(|e| e.reason)
}

/// A node named the three ways BSS accepts: MAC, xname or NID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRef {
    /// By the MAC it boots from (normalized).
    Mac(String),
    /// By xname (normalized).
    Name(String),
    /// By NID.
    Nid(i64),
}

impl NodeRef {
    /// The bootscript query pair naming the node.
    pub fn query(&self) -> (&'static str, String) {
        match self {
            NodeRef::Mac(m) => ("mac", m.clone()),
            NodeRef::Name(x) => ("name", x.clone()),
            NodeRef::Nid(n) => ("nid", n.to_string()),
        }
    }
}

/// A MAC (any usual form), a Node xname or a NID.
pub fn node_ref(s: &str) -> Result<NodeRef, String> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(NodeRef::Nid(n));
    }
    if let Ok(m) = MacAddr::parse(s) {
        return Ok(NodeRef::Mac(m.to_string()));
    }
    match Xname::parse(s) {
        Ok(x) if x.hms_type() == HmsType::Node => Ok(NodeRef::Name(x.as_str().to_owned())),
        Ok(x) => Err(format!("{x} is a {}, not a node", x.hms_type())),
        Err(e) => Err(format!("expected a node's xname, MAC or NID ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xnames_are_normalized_or_refused_by_name() {
        assert_eq!(xname("X1000C0S05B0N0").as_deref(), Ok("x1000c0s5b0n0"));
        let err = xname("x1000q7").expect_err("bad xname");
        assert!(err.contains("x1000q7"), "{err}");
        assert_eq!(type_of("x1000c0s0b0").as_deref(), Ok("NodeBMC"));
        assert_eq!(type_of("x1000c0s0b0n1").as_deref(), Ok("Node"));
    }

    #[test]
    fn macs_are_normalized_or_refused_by_name() {
        assert_eq!(mac("AA-BB-CC-00-11-22").as_deref(), Ok("aa:bb:cc:00:11:22"));
        assert_eq!(mac_id("aa:bb:cc:00:11:22").as_deref(), Ok("aabbcc001122"));
        let err = mac("aa:bb:cc").expect_err("bad MAC");
        assert!(err.contains("aa:bb:cc"), "{err}");
    }

    #[test]
    fn enums_take_the_spec_spelling() {
        assert_eq!(state("on").as_deref(), Ok("On"));
        assert_eq!(flag("ok").as_deref(), Ok("OK"));
        assert!(state("Sleeping").expect_err("unknown").contains("Sleeping"));
    }

    #[test]
    fn boot_arguments() {
        assert_eq!(boot_key("compute").as_deref(), Ok("Compute"));
        assert_eq!(boot_key("unknown-X86_64").as_deref(), Ok("Unknown-x86_64"));
        assert!(boot_key("x1000c0s0b0").unwrap_err().contains("NodeBMC"));
        assert!(
            kernel_params("quiet || chain http://evil")
                .unwrap_err()
                .contains("||")
        );
        assert!(kernel("http://h/a\nb").unwrap_err().contains("newline"));
        assert_eq!(node_ref("17"), Ok(NodeRef::Nid(17)));
        assert_eq!(
            node_ref("AA-BB-CC-DD-EE-FF"),
            Ok(NodeRef::Mac("aa:bb:cc:dd:ee:ff".into()))
        );
        assert_eq!(
            node_ref("X1000C0S0B0N0"),
            Ok(NodeRef::Name("x1000c0s0b0n0".into()))
        );
        assert!(node_ref("x1000c0s0b0").unwrap_err().contains("not a node"));
        assert!(
            node_ref("nid0001")
                .unwrap_err()
                .contains("xname, MAC or NID")
        );
    }

    #[test]
    fn ips_with_networks() {
        assert_eq!(ip_on_network("10.0.0.5"), Ok(("10.0.0.5".into(), None)));
        assert_eq!(
            ip_on_network("10.0.0.5/hmn"),
            Ok(("10.0.0.5".into(), Some("hmn".into())))
        );
        assert!(ip_on_network("10.0.0.5/24").is_err());
        assert!(
            ip_on_network("10.0.0.500")
                .expect_err("bad")
                .contains("10.0.0.500")
        );
    }
}
