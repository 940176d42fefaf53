//! Cairn's domain model: xnames, MAC addresses and the OpenCHAMI SMD (`/hsm/v2`) records.
//!
//! The JSON shapes follow SMD's `swagger_v2.yaml` key for key, so existing OpenCHAMI clients
//! (coresmd, BSS, cloud-init, Magellan, `ochami`) can talk to Cairn unchanged:
//! - optional fields are omitted when unset, and `""` / `null` are accepted where Go-based
//!   clients send them for "unset";
//! - unknown keys are ignored, as SMD does;
//! - xnames and MACs are validated and normalized on the way in, with errors that name the
//!   bad part; [`from_json_slice`] adds the failing field's path.
//!
//! The rack agents' protocol lives here too, so agents and coordinators share it and nothing
//! else: `proto/agent.proto` (generated into [`pb::agent`]), its validated domain types in
//! [`agent`] with the conversions in [`pb_impl`], and PCS power control in [`power`]
//! (vocabularies, JSON records, and the ResetType rules both sides apply).
//!
//! ```
//! use cairn_protocols::{Component, HmsState, HmsType, MacAddr, Xname};
//!
//! let node: Xname = "X3000C0S05B0N0".parse()?;
//! assert_eq!(node.as_str(), "x3000c0s5b0n0");
//! assert_eq!(node.hms_type(), HmsType::Node);
//! assert_eq!(node.parent().map(|p| p.to_string()).as_deref(), Some("x3000c0s5b0"));
//!
//! let c = Component::new(node).with_state(HmsState::Ready);
//! assert_eq!(
//!     serde_json::to_string(&c)?,
//!     r#"{"ID":"x3000c0s5b0n0","Type":"Node","State":"Ready"}"#
//! );
//!
//! let mac = MacAddr::parse("A4BF.012B.7310")?;
//! assert_eq!((mac.to_string().as_str(), mac.smd_id().as_str()), ("a4:bf:01:2b:73:10", "a4bf012b7310"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod agent;
pub mod boot;
pub mod cloudinit;
pub mod component;
pub mod desired;
pub mod discovery;
pub mod endpoint;
pub mod enums;
pub mod ethernet;
pub mod group;
pub mod json;
pub mod mac;
pub mod magellan;
pub mod pb;
pub mod pb_impl;
pub mod power;
pub mod problem;
pub mod query;
pub mod redfish;
pub mod xname;

pub use boot::{
    BootData, BootEntry, BootKey, BootParameters, BssCloudInit, FieldError, ImageData, KNOWN_ROLES,
    validate_arch, validate_image_path, validate_params,
};
pub use cloudinit::{
    CloudConfigFile, ClusterDefaults, FileEncoding, GroupData, InstanceInfo, PhoneHome,
    UserDataKind,
};
pub use component::{
    BulkEnabled, BulkFlagOnly, BulkNid, BulkRole, BulkSoftwareStatus, BulkStateData, Component,
    ComponentArray, ComponentPut, ComponentsPost, NidPatchItem, PatchEnabled, PatchFlagOnly,
    PatchNid, PatchRole, PatchSoftwareStatus, PatchStateData,
};
pub use discovery::{
    DiscoveryOutcome, DiscoveryStatus, DiscoveryValidationError, EndpointDiscovery,
    UnknownDiscoveryStatus,
};
pub use endpoint::{
    ChassisActions, ComponentEndpoint, ComponentEndpointArray, ComputerSystemActions,
    EthernetNicInfo, ManagerActions, RedfishChassisInfo, RedfishManagerInfo, RedfishSystemInfo,
    ResetAction,
};
pub use enums::{
    ComponentEndpointType, HmsArch, HmsClass, HmsFlag, HmsState, HmsType, NetType,
    UnknownValueError,
};
pub use ethernet::{EthernetInterface, EthernetInterfacePatch, IpAddressMapping, IpAddressPatch};
pub use group::{
    Group, GroupPatch, LabelError, MemberId, Members, Membership, Partition, PartitionPatch,
    normalize_label, validate_label,
};
pub use json::{DecodeError, from_json_slice, from_json_value};
pub use mac::{MacAddr, MacError};
pub use magellan::{
    MagellanAdapter, MagellanEndpoint, MagellanEthernetInterface, MagellanLinks, MagellanManager,
    MagellanNetworkInterface, MagellanPower, MagellanSystem,
};
pub use pb_impl::PbError;
pub use problem::Problem;
pub use query::{ByNidQuery, ComponentQuery, NidRangeError, parse_nid_range};
pub use redfish::{
    DiscoveryInfo, RedfishEndpoint, RedfishEndpointArray, RedfishEndpointPost,
    parse_redfish_endpoint_post,
};
pub use xname::{Xname, XnameError, XnameErrorReason};
