//! Component endpoints (`/Inventory/ComponentEndpoints`): how to reach each discovered
//! component through its BMC's Redfish service. Written by discovery, read by power control.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{ComponentEndpointType, HmsType};
use crate::json::{empty_as_none, null_as_default};
use crate::mac::MacAddr;
use crate::xname::Xname;

/// `ComponentEndpoint.1.0.0_ComponentEndpoint` with the info block of its subtype.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentEndpoint {
    /// The component's xname.
    #[serde(rename = "ID")]
    pub id: Xname,
    /// HMS type.
    #[serde(rename = "Type", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<HmsType>,
    /// Domain of the FQDN.
    #[serde(rename = "Domain", default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// FQDN on the management network.
    #[serde(rename = "FQDN", default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Redfish resource type (ComputerSystem, Manager, Chassis, ...).
    #[serde(
        rename = "RedfishType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_type: Option<String>,
    /// Redfish SystemType / ManagerType / ChassisType.
    #[serde(
        rename = "RedfishSubtype",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_subtype: Option<String>,
    /// Whether enabled.
    #[serde(rename = "Enabled", default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Which info block is present.
    #[serde(rename = "ComponentEndpointType")]
    pub component_endpoint_type: ComponentEndpointType,
    /// Management MAC of the component (not the HSN MAC).
    #[serde(rename = "MACAddr", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_addr: Option<MacAddr>,
    /// UUID.
    #[serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Resource path below the BMC's service root.
    #[serde(rename = "OdataID", default, skip_serializing_if = "Option::is_none")]
    pub odata_id: Option<String>,
    /// The parent RedfishEndpoint (BMC) xname.
    #[serde(
        rename = "RedfishEndpointID",
        default,
        deserialize_with = "empty_as_none"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redfish_endpoint_id: Option<Xname>,
    /// The parent endpoint's FQDN (read-only).
    #[serde(
        rename = "RedfishEndpointFQDN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_endpoint_fqdn: Option<String>,
    /// Full URL of the resource: endpoint FQDN + OdataID (read-only).
    #[serde(
        rename = "RedfishURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_url: Option<String>,
    /// ComputerSystem details.
    #[serde(
        rename = "RedfishSystemInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_system_info: Option<RedfishSystemInfo>,
    /// Manager details.
    #[serde(
        rename = "RedfishManagerInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_manager_info: Option<RedfishManagerInfo>,
    /// Chassis (and, per the spec, PDU/outlet) details.
    #[serde(
        rename = "RedfishChassisInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_chassis_info: Option<RedfishChassisInfo>,
    /// PDU details, as live SMD names them; passed through.
    #[serde(
        rename = "RedfishPDUInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub redfish_pdu_info: Option<serde_json::Value>,
    /// Outlet details, as live SMD names them; passed through.
    #[serde(
        rename = "RedfishOutletInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub redfish_outlet_info: Option<serde_json::Value>,
}

/// `ComponentEndpointArray_ComponentEndpointArray`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ComponentEndpointArray {
    /// The endpoints.
    #[serde(
        rename = "ComponentEndpoints",
        default,
        deserialize_with = "null_as_default"
    )]
    pub component_endpoints: Vec<ComponentEndpoint>,
}

/// A Redfish reset-style action: where to POST and which values are allowed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ResetAction {
    /// Allowed `ResetType` values, e.g. On, ForceOff.
    #[serde(rename = "ResetType@Redfish.AllowableValues", default)]
    #[serde(deserialize_with = "null_as_default")]
    pub allowable_values: Vec<String>,
    /// Action URI.
    #[serde(default)]
    pub target: String,
    /// ActionInfo URI, when the BMC gives one instead of allowable values.
    #[serde(
        rename = "@Redfish.ActionInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub action_info: Option<String>,
}

/// `Actions_1.0.0_ComputerSystemActions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ComputerSystemActions {
    /// `#ComputerSystem.Reset`.
    #[serde(
        rename = "#ComputerSystem.Reset",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reset: Option<ResetAction>,
}

/// `Actions_1.0.0_ManagerActions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ManagerActions {
    /// `#Manager.Reset`.
    #[serde(
        rename = "#Manager.Reset",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reset: Option<ResetAction>,
}

/// `Actions_1.0.0_ChassisActions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ChassisActions {
    /// `#Chassis.Reset`.
    #[serde(
        rename = "#Chassis.Reset",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reset: Option<ResetAction>,
}

/// `EthernetNICInfo_1.0.0`: a NIC as Redfish reported it (MACs kept as reported).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct EthernetNicInfo {
    /// Redfish `Id`.
    #[serde(rename = "RedfishId", default, skip_serializing_if = "Option::is_none")]
    pub redfish_id: Option<String>,
    /// Resource path.
    #[serde(rename = "@odata.id", default, skip_serializing_if = "Option::is_none")]
    pub odata_id: Option<String>,
    /// Description.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Redfish FQDN.
    #[serde(rename = "FQDN", default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Redfish HostName.
    #[serde(rename = "Hostname", default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// InterfaceEnabled.
    #[serde(
        rename = "InterfaceEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub interface_enabled: Option<bool>,
    /// MACAddress.
    #[serde(
        rename = "MACAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mac_address: Option<String>,
    /// PermanentMACAddress.
    #[serde(
        rename = "PermanentMACAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub permanent_mac_address: Option<String>,
}

/// `ComponentEndpoint.1.0.0_RedfishSystemInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct RedfishSystemInfo {
    /// Redfish Name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Available actions (power control relies on the reset action).
    #[serde(rename = "Actions", default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ComputerSystemActions>,
    /// Ethernet NICs.
    #[serde(
        rename = "EthernetNICInfo",
        default,
        deserialize_with = "null_as_default"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ethernet_nic_info: Vec<EthernetNicInfo>,
    /// URL of the power resource.
    #[serde(rename = "PowerURL", default, skip_serializing_if = "Option::is_none")]
    pub power_url: Option<String>,
    /// `PowerControl_1.0.0` entries, passed through.
    #[serde(rename = "PowerControl", default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub power_control: Vec<serde_json::Value>,
}

/// `ComponentEndpoint.1.0.0_RedfishManagerInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct RedfishManagerInfo {
    /// Redfish Name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Available actions.
    #[serde(rename = "Actions", default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ManagerActions>,
    /// Ethernet NICs.
    #[serde(
        rename = "EthernetNICInfo",
        default,
        deserialize_with = "null_as_default"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ethernet_nic_info: Vec<EthernetNicInfo>,
}

/// `ComponentEndpoint.1.0.0_RedfishChassisInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct RedfishChassisInfo {
    /// Redfish Name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Available actions.
    #[serde(rename = "Actions", default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ChassisActions>,
}
