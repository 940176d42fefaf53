//! The few Redfish resources discovery and power control read, decoded tolerantly: unknown and
//! OEM keys are ignored, wrongly typed optional fields are treated as absent (see
//! [`super::lenient`]).

use serde::Deserialize;
use serde::de::{DeserializeOwned, Error as _};

use super::lenient;

/// Decodes a resource body. The body must be a JSON object: serde would otherwise accept an
/// array for a struct, field by field.
pub fn decode_resource<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    if !value.is_object() {
        return Err(serde_json::Error::custom(format!(
            "expected a JSON object, found {}",
            match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )));
    }
    T::deserialize(value)
}

/// `/redfish/v1`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceRoot {
    /// `RedfishVersion`; its presence is what makes a service root a Redfish one.
    #[serde(
        rename = "RedfishVersion",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub redfish_version: Option<String>,
    /// `UUID` of the service.
    #[serde(rename = "UUID", default, deserialize_with = "lenient::opt_string")]
    pub uuid: Option<String>,
    /// `Vendor`.
    #[serde(rename = "Vendor", default, deserialize_with = "lenient::opt_string")]
    pub vendor: Option<String>,
    /// `Product`.
    #[serde(rename = "Product", default, deserialize_with = "lenient::opt_string")]
    pub product: Option<String>,
    /// `Systems` collection link.
    #[serde(rename = "Systems", default, deserialize_with = "lenient::opt_link")]
    pub systems: Option<String>,
    /// `Managers` collection link.
    #[serde(rename = "Managers", default, deserialize_with = "lenient::opt_link")]
    pub managers: Option<String>,
    /// `Chassis` collection link.
    #[serde(rename = "Chassis", default, deserialize_with = "lenient::opt_link")]
    pub chassis: Option<String>,
    /// `Links`.
    #[serde(rename = "Links", default, deserialize_with = "lenient::or_default")]
    pub links: ServiceRootLinks,
}

/// `ServiceRoot.Links`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceRootLinks {
    /// Where sessions are created.
    #[serde(rename = "Sessions", default, deserialize_with = "lenient::opt_link")]
    pub sessions: Option<String>,
}

/// Any resource collection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Collection {
    /// `Members` links.
    #[serde(rename = "Members", default, deserialize_with = "lenient::links")]
    pub members: Vec<String>,
    /// The next page, for services that page long collections.
    #[serde(
        rename = "Members@odata.nextLink",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub next_link: Option<String>,
}

/// `Status`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    /// `State` (Enabled, Disabled, Absent, ...).
    #[serde(rename = "State", default, deserialize_with = "lenient::opt_string")]
    pub state: Option<String>,
}

/// A reset-style action as declared (`#ComputerSystem.Reset`, `#Manager.Reset`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResetActionDecl {
    /// Where to POST.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub target: Option<String>,
    /// `ResetType@Redfish.AllowableValues`, when declared inline.
    #[serde(
        rename = "ResetType@Redfish.AllowableValues",
        default,
        deserialize_with = "lenient::opt_strings"
    )]
    pub allowable_values: Option<Vec<String>>,
    /// `@Redfish.ActionInfo`: where the allowed values are, when not inline.
    #[serde(
        rename = "@Redfish.ActionInfo",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub action_info: Option<String>,
}

/// `ActionInfo`: the parameters of an action.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionInfo {
    /// `Parameters`.
    #[serde(rename = "Parameters", default, deserialize_with = "lenient::vec_of")]
    pub parameters: Vec<ActionParameter>,
}

/// One `ActionInfo.Parameters` entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionParameter {
    /// `Name`, e.g. ResetType.
    #[serde(rename = "Name", default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `AllowableValues`.
    #[serde(
        rename = "AllowableValues",
        default,
        deserialize_with = "lenient::opt_strings"
    )]
    pub allowable_values: Option<Vec<String>>,
}

/// `ComputerSystem`: a node.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComputerSystem {
    /// `Id`.
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(rename = "Name", default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `UUID`.
    #[serde(rename = "UUID", default, deserialize_with = "lenient::opt_string")]
    pub uuid: Option<String>,
    /// `SystemType` (Physical, Virtual, ...).
    #[serde(
        rename = "SystemType",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub system_type: Option<String>,
    /// `Manufacturer`.
    #[serde(
        rename = "Manufacturer",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub manufacturer: Option<String>,
    /// `Model`.
    #[serde(rename = "Model", default, deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
    /// `SerialNumber`.
    #[serde(
        rename = "SerialNumber",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub serial_number: Option<String>,
    /// `BiosVersion`.
    #[serde(
        rename = "BiosVersion",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub bios_version: Option<String>,
    /// `PowerState` (On, Off, PoweringOn, PoweringOff).
    #[serde(
        rename = "PowerState",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub power_state: Option<String>,
    /// `ProcessorSummary`.
    #[serde(
        rename = "ProcessorSummary",
        default,
        deserialize_with = "lenient::or_default"
    )]
    pub processor_summary: ProcessorSummary,
    /// `MemorySummary`.
    #[serde(
        rename = "MemorySummary",
        default,
        deserialize_with = "lenient::or_default"
    )]
    pub memory_summary: MemorySummary,
    /// `Actions`.
    #[serde(rename = "Actions", default, deserialize_with = "lenient::or_default")]
    pub actions: SystemActions,
    /// `EthernetInterfaces` collection link.
    #[serde(
        rename = "EthernetInterfaces",
        default,
        deserialize_with = "lenient::opt_link"
    )]
    pub ethernet_interfaces: Option<String>,
    /// `Links`.
    #[serde(rename = "Links", default, deserialize_with = "lenient::or_default")]
    pub links: SystemLinks,
    /// `Status`.
    #[serde(rename = "Status", default, deserialize_with = "lenient::or_default")]
    pub status: Status,
}

/// `ComputerSystem.ProcessorSummary`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProcessorSummary {
    /// `Count`.
    #[serde(rename = "Count", default, deserialize_with = "lenient::opt_u32")]
    pub count: Option<u32>,
    /// `Model`.
    #[serde(rename = "Model", default, deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
}

/// `ComputerSystem.MemorySummary`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemorySummary {
    /// `TotalSystemMemoryGiB`.
    #[serde(
        rename = "TotalSystemMemoryGiB",
        default,
        deserialize_with = "lenient::opt_f64"
    )]
    pub total_system_memory_gib: Option<f64>,
}

/// `ComputerSystem.Actions`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemActions {
    /// `#ComputerSystem.Reset`.
    #[serde(
        rename = "#ComputerSystem.Reset",
        default,
        deserialize_with = "lenient::or_default"
    )]
    pub reset: Option<ResetActionDecl>,
}

/// `ComputerSystem.Links`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemLinks {
    /// `Chassis`.
    #[serde(rename = "Chassis", default, deserialize_with = "lenient::links")]
    pub chassis: Vec<String>,
    /// `ManagedBy`.
    #[serde(rename = "ManagedBy", default, deserialize_with = "lenient::links")]
    pub managed_by: Vec<String>,
}

/// `Manager`: the BMC itself.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manager {
    /// `Id`.
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(rename = "Name", default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `UUID`.
    #[serde(rename = "UUID", default, deserialize_with = "lenient::opt_string")]
    pub uuid: Option<String>,
    /// `ManagerType` (BMC, EnclosureManager, ...).
    #[serde(
        rename = "ManagerType",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub manager_type: Option<String>,
    /// `FirmwareVersion`.
    #[serde(
        rename = "FirmwareVersion",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub firmware_version: Option<String>,
    /// `Model`.
    #[serde(rename = "Model", default, deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
    /// `EthernetInterfaces` collection link.
    #[serde(
        rename = "EthernetInterfaces",
        default,
        deserialize_with = "lenient::opt_link"
    )]
    pub ethernet_interfaces: Option<String>,
    /// `Actions`.
    #[serde(rename = "Actions", default, deserialize_with = "lenient::or_default")]
    pub actions: ManagerActions,
}

/// `Manager.Actions`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ManagerActions {
    /// `#Manager.Reset`.
    #[serde(
        rename = "#Manager.Reset",
        default,
        deserialize_with = "lenient::or_default"
    )]
    pub reset: Option<ResetActionDecl>,
}

/// `Chassis`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Chassis {
    /// `Id`.
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(rename = "Name", default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `ChassisType`.
    #[serde(
        rename = "ChassisType",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub chassis_type: Option<String>,
    /// `Power` resource link.
    #[serde(rename = "Power", default, deserialize_with = "lenient::opt_link")]
    pub power: Option<String>,
    /// `Links`.
    #[serde(rename = "Links", default, deserialize_with = "lenient::or_default")]
    pub links: ChassisLinks,
}

/// `Chassis.Links`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChassisLinks {
    /// `ComputerSystems`: systems in this chassis (some exist only here).
    #[serde(
        rename = "ComputerSystems",
        default,
        deserialize_with = "lenient::links"
    )]
    pub computer_systems: Vec<String>,
}

/// `EthernetInterface`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EthernetInterface {
    /// `Id`.
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(rename = "Name", default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `Description`.
    #[serde(
        rename = "Description",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub description: Option<String>,
    /// `MACAddress` (current).
    #[serde(
        rename = "MACAddress",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub mac_address: Option<String>,
    /// `PermanentMACAddress`.
    #[serde(
        rename = "PermanentMACAddress",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub permanent_mac_address: Option<String>,
    /// `InterfaceEnabled`.
    #[serde(
        rename = "InterfaceEnabled",
        default,
        deserialize_with = "lenient::opt_bool"
    )]
    pub interface_enabled: Option<bool>,
    /// `HostName`.
    #[serde(rename = "HostName", default, deserialize_with = "lenient::opt_string")]
    pub host_name: Option<String>,
    /// `FQDN`.
    #[serde(rename = "FQDN", default, deserialize_with = "lenient::opt_string")]
    pub fqdn: Option<String>,
    /// `IPv4Addresses`.
    #[serde(
        rename = "IPv4Addresses",
        default,
        deserialize_with = "lenient::vec_of"
    )]
    pub ipv4_addresses: Vec<Ipv4Address>,
    /// `IPv4StaticAddresses`.
    #[serde(
        rename = "IPv4StaticAddresses",
        default,
        deserialize_with = "lenient::vec_of"
    )]
    pub ipv4_static_addresses: Vec<Ipv4Address>,
    /// `Status`.
    #[serde(rename = "Status", default, deserialize_with = "lenient::or_default")]
    pub status: Status,
}

/// One `IPv4Addresses` entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ipv4Address {
    /// `Address` as reported (may be `"N/A"` or `"0.0.0.0"`).
    #[serde(rename = "Address", default, deserialize_with = "lenient::opt_string")]
    pub address: Option<String>,
}

#[cfg(test)]
mod tests;
