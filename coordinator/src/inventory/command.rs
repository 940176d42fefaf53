//! The commands Raft replicates, and what applying one returns.

use cairn_protocols::{
    Component, ComponentEndpoint, EthernetInterface, Group, HmsFlag, HmsState, IpAddressMapping,
    RedfishEndpoint, Xname,
};
use serde::{Deserialize, Serialize};

/// Which of the two member-set collections a group command targets: they share semantics
/// except that a component may sit in at most one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupKind {
    /// `/groups`: any number per component, unless `exclusiveGroup` says otherwise.
    Group,
    /// `/partitions`: at most one per component.
    Partition,
}

/// A change to some fields of existing components (the SMD PATCH endpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ComponentChange {
    /// `StateData`: a new state; the flag resets to OK unless given.
    State {
        /// New state.
        state: HmsState,
        /// New flag (OK when absent).
        flag: Option<HmsFlag>,
    },
    /// `FlagOnly`.
    Flag(HmsFlag),
    /// `Enabled`.
    Enabled(bool),
    /// `SoftwareStatus`.
    SoftwareStatus(String),
    /// `Role` with an optional subrole (a missing subrole clears it, as SMD does).
    Role {
        /// Normalized role.
        role: String,
        /// Normalized subrole.
        sub_role: Option<String>,
    },
}

/// One replicated change to the inventory. Everything `apply` needs (timestamps included) is
/// inside the command, so applying it is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// POST /State/Components: create, or update existing ones (state fields only with force).
    UpsertComponents {
        /// Validated components (Type filled in from the xname).
        components: Vec<Component>,
        /// Overwrite State, Flag, Subtype, NetType, Arch and Class of existing components.
        force: bool,
    },
    /// PUT /State/Components/{xname}.
    PutComponent {
        /// The component.
        component: Component,
        /// As for `UpsertComponents`.
        force: bool,
    },
    /// DELETE /State/Components/{xname}.
    DeleteComponent(Xname),
    /// DELETE /State/Components.
    DeleteAllComponents,
    /// The PATCH endpoints, single and bulk: all ids must exist or nothing changes.
    PatchComponents {
        /// Targets.
        ids: Vec<Xname>,
        /// What to change.
        change: ComponentChange,
    },
    /// PATCH NID and BulkNID.
    SetNids(Vec<(Xname, i64)>),
    /// POST /Inventory/EthernetInterfaces.
    CreateEthernetInterface(EthernetInterface),
    /// PATCH /Inventory/EthernetInterfaces/{id}.
    PatchEthernetInterface {
        /// Interface id (MAC without separators).
        id: String,
        /// New description.
        description: Option<String>,
        /// New owner.
        component_id: Option<Xname>,
        /// Replacement address list.
        ip_addresses: Option<Vec<IpAddressMapping>>,
        /// Proposal time, RFC 3339.
        now: String,
    },
    /// DELETE /Inventory/EthernetInterfaces/{id}.
    DeleteEthernetInterface(String),
    /// DELETE /Inventory/EthernetInterfaces.
    DeleteAllEthernetInterfaces,
    /// POST .../IPAddresses.
    AddIpAddress {
        /// Interface id.
        id: String,
        /// The address.
        mapping: IpAddressMapping,
        /// Proposal time.
        now: String,
    },
    /// PATCH .../IPAddresses/{ip}.
    SetIpNetwork {
        /// Interface id.
        id: String,
        /// The address to change.
        ip: std::net::IpAddr,
        /// Its new network name.
        network: Option<String>,
        /// Proposal time.
        now: String,
    },
    /// DELETE .../IPAddresses/{ip}.
    DeleteIpAddress {
        /// Interface id.
        id: String,
        /// The address.
        ip: std::net::IpAddr,
        /// Proposal time.
        now: String,
    },
    /// POST /Inventory/RedfishEndpoints (plain form): all new, or nothing.
    CreateRedfishEndpoints(Vec<RedfishEndpoint>),
    /// POST (Magellan `SchemaVersion: 1`) or PUT: an endpoint with everything discovered
    /// behind it, written at once so no half-registered node is ever visible.
    RegisterEndpoint {
        /// The BMC.
        endpoint: RedfishEndpoint,
        /// Its BMC and node components.
        components: Vec<Component>,
        /// Its systems and managers.
        component_endpoints: Vec<ComponentEndpoint>,
        /// The MACs found behind it.
        interfaces: Vec<EthernetInterface>,
        /// False for POST (409 if the endpoint exists); true for PUT.
        replace: bool,
    },
    /// PUT /Inventory/RedfishEndpoints/{xname} (plain form).
    PutRedfishEndpoint(RedfishEndpoint),
    /// PATCH /Inventory/RedfishEndpoints/{xname}: the already-merged endpoint.
    PatchRedfishEndpoint(RedfishEndpoint),
    /// DELETE /Inventory/RedfishEndpoints/{xname}, with its component endpoints.
    DeleteRedfishEndpoint(Xname),
    /// DELETE /Inventory/RedfishEndpoints.
    DeleteAllRedfishEndpoints,
    /// DELETE /Inventory/ComponentEndpoints/{xname}.
    DeleteComponentEndpoint(Xname),
    /// DELETE /Inventory/ComponentEndpoints.
    DeleteAllComponentEndpoints,
    /// POST /groups or /partitions.
    CreateGroup {
        /// Groups or partitions.
        kind: GroupKind,
        /// The new set, members included.
        group: Group,
    },
    /// PATCH /groups/{label}: description and tags.
    PatchGroup {
        /// Groups or partitions.
        kind: GroupKind,
        /// Which one.
        label: String,
        /// New description.
        description: Option<String>,
        /// New tags.
        tags: Option<Vec<String>>,
    },
    /// DELETE /groups/{label}.
    DeleteGroup {
        /// Groups or partitions.
        kind: GroupKind,
        /// Which one.
        label: String,
    },
    /// POST /groups/{label}/members.
    AddMember {
        /// Groups or partitions.
        kind: GroupKind,
        /// Which one.
        label: String,
        /// The component.
        id: Xname,
    },
    /// PUT /groups/{label}/members: replace the whole member list.
    SetMembers {
        /// Groups or partitions.
        kind: GroupKind,
        /// Which one.
        label: String,
        /// The new member list.
        ids: Vec<Xname>,
    },
    /// DELETE /groups/{label}/members/{xname}.
    RemoveMember {
        /// Groups or partitions.
        kind: GroupKind,
        /// Which one.
        label: String,
        /// The component.
        id: Xname,
    },
    /// Boot parameters, cloud-init data and phone-home reports (`/boot/v1`, `/cloud-init`).
    Boot(super::boot::BootCommand),
    /// Rack agents: registrations, reports, discover requests.
    Agent(super::agents::AgentCommand),
    /// PCS transitions (`/power-control/v1`).
    Power(super::power::PowerCommand),
}

/// What a successful command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// The inventory revision this command produced.
    pub revision: u64,
    /// How many records it created, changed or deleted.
    pub count: usize,
}

/// Why a command changed nothing. Every failing command leaves the state untouched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApplyError {
    /// A record the command needs does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A record the command would create already exists, or a constraint forbids it.
    #[error("{0}")]
    Conflict(String),
    /// The command is well formed but not acceptable for the current state.
    #[error("{0}")]
    Invalid(String),
}

/// The replicated response of one command.
pub type Outcome = Result<Applied, ApplyError>;
