//! State components (`/State/Components`): the record and its create, put and patch bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{HmsArch, HmsClass, HmsFlag, HmsState, HmsType, NetType};
use crate::json::empty_as_none;
use crate::xname::Xname;

/// `Component.1.0.0_Component`: one tracked component, keyed by xname. Unset fields are
/// omitted from JSON, as SMD does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Component {
    /// The component's location name.
    #[serde(rename = "ID")]
    pub id: Xname,
    /// HMS type; derived from the xname when not given.
    #[serde(rename = "Type", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<HmsType>,
    /// Logical state.
    #[serde(rename = "State", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<HmsState>,
    /// State flag.
    #[serde(rename = "Flag", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<HmsFlag>,
    /// Whether the component is enabled.
    #[serde(rename = "Enabled", default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Free-form status owned by the managed plane.
    #[serde(
        rename = "SoftwareStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub software_status: Option<String>,
    /// Role (configurable in SMD, e.g. Compute, Management).
    #[serde(rename = "Role", default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Sub-role (configurable in SMD, e.g. Worker, Master).
    #[serde(rename = "SubRole", default, skip_serializing_if = "Option::is_none")]
    pub sub_role: Option<String>,
    /// Node ID, for nodes.
    #[serde(rename = "NID", default, skip_serializing_if = "Option::is_none")]
    pub nid: Option<i64>,
    /// Further distinguishes components of one type.
    #[serde(rename = "Subtype", default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// High-speed network type.
    #[serde(rename = "NetType", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_type: Option<NetType>,
    /// CPU architecture.
    #[serde(rename = "Arch", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<HmsArch>,
    /// Hardware class.
    #[serde(rename = "Class", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<HmsClass>,
    /// Whether reservations are disabled (read-only, locking API).
    #[serde(
        rename = "ReservationDisabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reservation_disabled: Option<bool>,
    /// Whether the component is locked (read-only, locking API).
    #[serde(rename = "Locked", default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
}

impl Component {
    /// A component with only its ID and the type its xname implies.
    pub fn new(id: Xname) -> Component {
        Component {
            r#type: Some(id.hms_type()),
            id,
            state: None,
            flag: None,
            enabled: None,
            software_status: None,
            role: None,
            sub_role: None,
            nid: None,
            subtype: None,
            net_type: None,
            arch: None,
            class: None,
            reservation_disabled: None,
            locked: None,
        }
    }

    /// Sets the state (builder style).
    pub fn with_state(mut self, state: HmsState) -> Component {
        self.state = Some(state);
        self
    }

    /// The type given, or else the one the xname implies.
    pub fn effective_type(&self) -> HmsType {
        self.r#type.unwrap_or_else(|| self.id.hms_type())
    }
}

/// `ComponentArray_ComponentArray`: the `{"Components":[...]}` wrapper of list responses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ComponentArray {
    /// The components.
    #[serde(
        rename = "Components",
        default,
        deserialize_with = "crate::json::null_as_default"
    )]
    pub components: Vec<Component>,
}

/// `ComponentArray_PostArray`: bulk create body of `POST /State/Components`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentsPost {
    /// The components to create.
    #[serde(rename = "Components")]
    pub components: Vec<Component>,
    /// Overwrite State, Flag, Subtype, NetType and Arch of existing components.
    #[serde(rename = "Force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `Component.1.0.0_Put`: body of `PUT /State/Components/{xname}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentPut {
    /// The component to create or replace.
    #[serde(rename = "Component")]
    pub component: Component,
    /// Overwrite State, Flag, Subtype, NetType and Arch if it exists.
    #[serde(rename = "Force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `Component.1.0.0_Patch.StateData`. A missing Flag resets the flag to OK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchStateData {
    /// The new state.
    #[serde(rename = "State")]
    pub state: HmsState,
    /// The new flag (OK when absent).
    #[serde(rename = "Flag", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<HmsFlag>,
    /// Allow a normally prohibited transition.
    #[serde(rename = "Force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Why the change happened (`Message_1.0.0_ExtendedInfo`), passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_Patch.FlagOnly`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchFlagOnly {
    /// The new flag.
    #[serde(rename = "Flag")]
    pub flag: HmsFlag,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_Patch.Enabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchEnabled {
    /// Enable (true) or disable (false).
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_Patch.SoftwareStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchSoftwareStatus {
    /// The new software status.
    #[serde(rename = "SoftwareStatus")]
    pub software_status: String,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_Patch.Role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchRole {
    /// The new role.
    #[serde(rename = "Role")]
    pub role: String,
    /// The new sub-role (cleared when absent).
    #[serde(rename = "SubRole", default, skip_serializing_if = "Option::is_none")]
    pub sub_role: Option<String>,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_Patch.NID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatchNid {
    /// The new node ID.
    #[serde(rename = "NID")]
    pub nid: i64,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.StateData`: `PATCH /State/Components/BulkStateData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkStateData {
    /// The components to update.
    #[serde(rename = "ComponentIDs")]
    pub component_ids: Vec<Xname>,
    /// The new state.
    #[serde(rename = "State")]
    pub state: HmsState,
    /// The new flag (OK when absent).
    #[serde(rename = "Flag", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<HmsFlag>,
    /// Allow normally prohibited transitions.
    #[serde(rename = "Force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.FlagOnly`: `PATCH /State/Components/BulkFlagOnly`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkFlagOnly {
    /// The components to update.
    #[serde(rename = "ComponentIDs")]
    pub component_ids: Vec<Xname>,
    /// The new flag.
    #[serde(rename = "Flag")]
    pub flag: HmsFlag,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.Enabled`: `PATCH /State/Components/BulkEnabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkEnabled {
    /// The components to update.
    #[serde(rename = "ComponentIDs")]
    pub component_ids: Vec<Xname>,
    /// Enable (true) or disable (false).
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.SoftwareStatus`: `PATCH /State/Components/BulkSoftwareStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkSoftwareStatus {
    /// The components to update.
    #[serde(rename = "ComponentIDs")]
    pub component_ids: Vec<Xname>,
    /// The new software status.
    #[serde(rename = "SoftwareStatus")]
    pub software_status: String,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.Role`: `PATCH /State/Components/BulkRole`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkRole {
    /// The components to update.
    #[serde(rename = "ComponentIDs")]
    pub component_ids: Vec<Xname>,
    /// The new role.
    #[serde(rename = "Role")]
    pub role: String,
    /// The new sub-role.
    #[serde(rename = "SubRole", default, skip_serializing_if = "Option::is_none")]
    pub sub_role: Option<String>,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `Component.1.0.0_PatchArrayItem.NID`: one entry of a bulk NID patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NidPatchItem {
    /// The component to update.
    #[serde(rename = "ID")]
    pub id: Xname,
    /// Its type, informational only.
    #[serde(rename = "Type", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<HmsType>,
    /// The new node ID.
    #[serde(rename = "NID")]
    pub nid: i64,
    /// Why the change happened, passed through.
    #[serde(
        rename = "ExtendedInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub extended_info: Option<serde_json::Value>,
}

/// `ComponentArray_PatchArray.NID`: `PATCH /State/Components/BulkNID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkNid {
    /// Descriptive name (read-only in the spec, ignored).
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ID/NID pairs.
    #[serde(rename = "Components")]
    pub components: Vec<NidPatchItem>,
}
