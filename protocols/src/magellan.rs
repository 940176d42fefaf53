//! Magellan's inventory payload (OpenCHAMI extension of `POST /Inventory/RedfishEndpoints`,
//! marked by `SchemaVersion`). Every inner field is optional: BMCs differ wildly in what they
//! report, and one missing field must not lose the whole crawl. MACs and IPs stay raw strings
//! for the same reason; [`MagellanEthernetInterface::mac_addr`] validates one at a time.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::json::null_as_default;
use crate::mac::{MacAddr, MacError};
use crate::redfish::RedfishEndpoint;

/// The whole payload: the RedfishEndpoint keys at top level plus `SchemaVersion`, `Systems`
/// and `Managers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MagellanEndpoint {
    /// The endpoint fields (ID, FQDN, User, MACAddr, ...).
    #[serde(flatten)]
    pub endpoint: RedfishEndpoint,
    /// Payload schema version (1 today).
    #[serde(rename = "SchemaVersion")]
    pub schema_version: u32,
    /// The BMC's ComputerSystems (nodes).
    #[serde(rename = "Systems", default, deserialize_with = "null_as_default")]
    pub systems: Vec<MagellanSystem>,
    /// The BMC's Managers.
    #[serde(rename = "Managers", default, deserialize_with = "null_as_default")]
    pub managers: Vec<MagellanManager>,
}

/// One crawled Redfish ComputerSystem.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanSystem {
    /// Full URL of the system resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// System UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Manufacturer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Redfish SystemType, e.g. Physical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_type: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// BIOS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios_version: Option<String>,
    /// The system's Ethernet interfaces.
    #[serde(deserialize_with = "null_as_default")]
    pub ethernet_interfaces: Vec<MagellanEthernetInterface>,
    /// The system's network adapters.
    #[serde(deserialize_with = "null_as_default")]
    pub network_interfaces: Vec<MagellanNetworkInterface>,
    /// Power state and controls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<MagellanPower>,
    /// Processor count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processor_count: Option<u32>,
    /// Processor model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processor_type: Option<String>,
    /// Total memory in GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_total: Option<f64>,
    /// Trusted modules, e.g. "TPM2_0 ...".
    #[serde(deserialize_with = "null_as_default")]
    pub trusted_modules: Vec<String>,
    /// Chassis SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_sku: Option<String>,
    /// Chassis serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_serial: Option<String>,
    /// Allowable `ComputerSystem.Reset` types, e.g. On, ForceOff.
    #[serde(deserialize_with = "null_as_default")]
    pub actions: Vec<String>,
    /// Links to related resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<MagellanLinks>,
}

/// An Ethernet interface as Magellan reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanEthernetInterface {
    /// URL of the interface resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// MAC as the BMC reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// First IPv4 address, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// InterfaceEnabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

impl MagellanEthernetInterface {
    /// The MAC, validated; `None` when absent or blank.
    pub fn mac_addr(&self) -> Option<Result<MacAddr, MacError>> {
        let mac = self
            .mac
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())?;
        Some(MacAddr::parse(mac))
    }
}

/// A network adapter (Redfish NetworkInterface).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanNetworkInterface {
    /// URL of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The adapter hardware.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter: Option<MagellanAdapter>,
}

/// Network adapter hardware identity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanAdapter {
    /// Manufacturer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

/// A system's power information.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanPower {
    /// Redfish PowerState, e.g. On.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// PowerControl resource IDs.
    #[serde(deserialize_with = "null_as_default")]
    pub power_control_ids: Vec<String>,
}

/// Links from a system.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanLinks {
    /// Chassis resource paths.
    #[serde(deserialize_with = "null_as_default")]
    pub chassis: Vec<String>,
}

/// One crawled Redfish Manager (BMC).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MagellanManager {
    /// URL of the manager resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Manager UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// ManagerType, e.g. BMC.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Firmware version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// Interfaces that carry an IPv4 address.
    #[serde(deserialize_with = "null_as_default")]
    pub ethernet_interfaces: Vec<MagellanEthernetInterface>,
    /// Allowable `Manager.Reset` types.
    #[serde(deserialize_with = "null_as_default")]
    pub actions: Vec<String>,
    /// Command shell connect types (shape varies across Magellan versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub command_shell: Option<serde_json::Value>,
    /// Serial console connect types (shape varies across Magellan versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub serial_console: Option<serde_json::Value>,
}
