//! Component Ethernet interfaces (`/Inventory/EthernetInterfaces`): MAC ↔ IP ↔ component.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::HmsType;
use crate::json::{empty_as_none, null_as_default};
use crate::mac::MacAddr;
use crate::xname::Xname;

/// `CompEthInterface.1.0.0`. The ID is the MAC's 12 hex digits ([`MacAddr::smd_id`]); a POST
/// may omit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EthernetInterface {
    /// The MAC without separators, lower case (read-only; derived from MACAddress).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Free-form description.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The interface's MAC address.
    #[serde(rename = "MACAddress")]
    pub mac_address: MacAddr,
    /// IP addresses bound to this MAC, per network.
    #[serde(rename = "IPAddresses", default, deserialize_with = "null_as_default")]
    pub ip_addresses: Vec<IpAddressMapping>,
    /// When the record last changed (RFC 3339, read-only).
    #[serde(
        rename = "LastUpdate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update: Option<String>,
    /// The component owning the interface, once known.
    #[serde(rename = "ComponentID", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_id: Option<Xname>,
    /// The owning component's type (read-only; derived).
    #[serde(rename = "Type", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<HmsType>,
}

impl EthernetInterface {
    /// An interface with only its MAC (and the ID derived from it).
    pub fn new(mac: MacAddr) -> EthernetInterface {
        EthernetInterface {
            id: mac.smd_id(),
            description: None,
            mac_address: mac,
            ip_addresses: Vec::new(),
            last_update: None,
            component_id: None,
            r#type: None,
        }
    }

    /// Restores the invariant `id == mac_address.smd_id()` (input IDs are not trusted).
    pub fn normalize_id(&mut self) {
        self.id = self.mac_address.smd_id();
    }
}

/// `CompEthInterface.1.0.0_IPAddressMapping`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct IpAddressMapping {
    /// The address (v4 or v6).
    #[serde(rename = "IPAddress", deserialize_with = "crate::json::ip_addr")]
    #[serde(serialize_with = "crate::json::ip_addr_text")]
    #[schema(value_type = String, example = "10.252.0.1")]
    pub ip_address: IpAddr,
    /// The network it belongs to, e.g. HMN.
    #[serde(rename = "Network", default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

/// `CompEthInterface.1.0.0_Patch`: omitted fields are left unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct EthernetInterfacePatch {
    /// New description.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// New owning component; `""` clears it (serialized back as absent).
    #[serde(rename = "ComponentID", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_id: Option<Xname>,
    /// Replacement IP address list.
    #[serde(
        rename = "IPAddresses",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_addresses: Option<Vec<IpAddressMapping>>,
}

/// `CompEthInterface.1.0.0_IPAddressMapping_Patch`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct IpAddressPatch {
    /// New network name.
    #[serde(rename = "Network", default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}
