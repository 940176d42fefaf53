//! The agent protocol's messages as validated domain types (the gRPC messages live in
//! [`crate::pb::agent`]; `pb_impl` converts between the two, refusing malformed input with a
//! [`PbError`](crate::pb_impl::PbError) that names the field). See `proto/agent.proto` for
//! the protocol's semantics: registration, exactly-once reports, the Watch stream.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cloudinit::PhoneHome;
use crate::desired::{DesiredItem, DesiredMark};
use crate::discovery::EndpointDiscovery;
use crate::mac::MacAddr;
use crate::power::{ManagementState, PowerOperation, PowerState, TaskStatus};
use crate::xname::Xname;

/// Longest agent id.
pub const MAX_AGENT_ID_LEN: usize = 64;
/// Most items one report may carry.
pub const MAX_REPORT_ITEMS: usize = 1000;
/// Largest encoded report.
pub const MAX_REPORT_BYTES: usize = 1 << 20;
/// Most cabinets one agent may serve.
pub const MAX_SCOPE: usize = 4096;

/// Why an agent id is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid agent id {id:?}: 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'")]
pub struct AgentIdError {
    /// The rejected id.
    pub id: String,
}

/// Checks an agent id: 1 to [`MAX_AGENT_ID_LEN`] characters of `[A-Za-z0-9._-]`, so it is safe
/// in URLs, logs and file names.
pub fn validate_agent_id(id: &str) -> Result<(), AgentIdError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_AGENT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AgentIdError { id: id.to_owned() })
    }
}

/// The xname of cabinet `n` (`x1000`).
pub fn cabinet_name(n: u32) -> String {
    format!("x{n}")
}

/// Where an agent serves what it serves (informational).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEndpoints {
    /// Its own HTTP API (health, metrics).
    pub api_url: Option<String>,
    /// Its boot service (iPXE, kernels, cloud-init).
    pub boot_url: Option<String>,
}

/// An agent announcing itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// A valid agent id (see [`validate_agent_id`]).
    pub agent_id: String,
    /// The cabinet numbers it serves (at least one).
    pub scope: BTreeSet<u32>,
    /// Its software version.
    pub version: String,
    /// What it serves, where.
    pub endpoints: AgentEndpoints,
}

/// A batch of results from one agent, applied once per `(agent_id, seq)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The reporting agent.
    pub agent_id: String,
    /// Positive, strictly increasing per agent.
    pub seq: u64,
    /// The results, applied in order.
    pub items: Vec<ReportItem>,
}

/// One result.
// Discovery is the big variant and the common one in volume; items are moved, not copied.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportItem {
    /// One BMC discovered (or not).
    Discovery(EndpointDiscovery),
    /// Progress or outcome of one power task.
    PowerResult(PowerTaskResult),
    /// A polled power state.
    PowerStatus(PowerSample),
    /// The discover request with this id is done.
    DiscoverDone(u64),
    /// The agent served a step of a node's boot.
    BootEvent(BootEvent),
    /// A MAC unknown to the inventory asked for an address.
    MacSeen(MacSeen),
    /// A known node without an address got one from the rack's range.
    LeaseAssigned(LeaseAssigned),
    /// A node's cloud-init phone-home.
    PhoneHome(PhoneHomeReport),
}

impl ReportItem {
    /// The component the item is about (its cabinet must be in the agent's scope), if any.
    pub fn subject(&self) -> Option<&Xname> {
        match self {
            ReportItem::Discovery(d) => Some(d.bmc()),
            ReportItem::PowerResult(r) => Some(&r.xname),
            ReportItem::PowerStatus(s) => Some(&s.xname),
            ReportItem::BootEvent(e) => e.xname.as_ref(),
            ReportItem::LeaseAssigned(l) => Some(&l.xname),
            ReportItem::PhoneHome(p) => Some(&p.xname),
            ReportItem::DiscoverDone(_) | ReportItem::MacSeen(_) => None,
        }
    }
}

/// The steps of a network boot an agent serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BootStep {
    /// A DHCP ACK.
    Dhcp,
    /// The iPXE script.
    Script,
    /// A kernel or initrd.
    Image,
    /// cloud-init meta-data.
    CloudInit,
}

impl BootStep {
    /// Lower-case name, as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            BootStep::Dhcp => "dhcp",
            BootStep::Script => "script",
            BootStep::Image => "image",
            BootStep::CloudInit => "cloud-init",
        }
    }
}

/// A step of a node's boot, served by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootEvent {
    /// The node, when the agent knew it.
    pub xname: Option<Xname>,
    /// The MAC, when known.
    pub mac: Option<MacAddr>,
    /// Which step.
    pub step: BootStep,
    /// The node's address.
    pub ip: Option<IpAddr>,
    /// When it was served.
    pub at_ms: u64,
}

/// A MAC the inventory does not know asked for an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacSeen {
    /// The MAC.
    pub mac: MacAddr,
    /// The pool address it got, if any.
    pub ip: Option<IpAddr>,
    /// Its DHCP vendor class (option 60), if sent.
    pub vendor_class: Option<String>,
    /// When it asked first.
    pub at_ms: u64,
}

/// A known node without an address got `ip` from the rack's range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseAssigned {
    /// The node.
    pub xname: Xname,
    /// Its interface.
    pub mac: MacAddr,
    /// The address.
    pub ip: IpAddr,
    /// When.
    pub at_ms: u64,
}

/// A node's cloud-init phone-home, received by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneHomeReport {
    /// The node (identified by its source address).
    pub xname: Xname,
    /// What it posted.
    pub report: PhoneHome,
    /// When.
    pub at_ms: u64,
}

/// Progress or outcome of one power task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerTaskResult {
    /// The transition.
    pub transition_id: String,
    /// The node.
    pub xname: Xname,
    /// In progress, or final (never `new`).
    pub status: TaskStatus,
    /// PCS's `taskStatusDescription`.
    pub description: String,
    /// PCS's `error` (empty on success).
    pub error: String,
    /// The PowerState read last, if any.
    pub power_state: Option<PowerState>,
    /// When it was read.
    pub observed_ms: Option<u64>,
}

/// A node's power state as the agent polled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerSample {
    /// The node.
    pub xname: Xname,
    /// Its state.
    pub power_state: PowerState,
    /// Whether its BMC answered.
    pub management_state: ManagementState,
    /// Why the state is unknown (empty when known).
    pub error: String,
    /// When the agent read it.
    pub observed_ms: u64,
}

/// One message of the Watch stream.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkBatch {
    /// The inventory revision it reflects.
    pub revision: u64,
    /// Whether it is the agent's complete work (the first message of a stream).
    pub full: bool,
    /// The work.
    pub items: Vec<WorkItem>,
    /// Set when the items bring the desired state to a revision.
    pub desired: Option<DesiredMark>,
}

/// One piece of work.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkItem {
    /// Power one node.
    PowerTask(PowerTask),
    /// Stop the transition with this id.
    PowerAbort(String),
    /// A BMC in scope, with its credentials.
    Endpoint(BmcEndpoint),
    /// Discover now.
    Discover(DiscoverRequest),
    /// A piece of the rack's desired state.
    Desired(DesiredItem),
}

/// Power one node through its BMC (see `PowerTask` in `agent.proto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerTask {
    /// The transition.
    pub transition_id: String,
    /// The node.
    pub xname: Xname,
    /// What to do.
    pub operation: PowerOperation,
    /// The node's BMC.
    pub bmc: Xname,
    /// The BMC's FQDN as stored (host, host:port or URL).
    pub bmc_fqdn: String,
    /// The ComputerSystem's path (GET it for PowerState).
    pub system_path: String,
    /// The `#ComputerSystem.Reset` target.
    pub reset_target: String,
    /// The ResetTypes the BMC allows (empty: not declared).
    pub allowed_reset_types: Vec<String>,
    /// When the task fails unless confirmed; `None`: no deadline.
    pub deadline_ms: Option<u64>,
    /// Whether to confirm by polling PowerState.
    pub confirm: bool,
    /// New, or in progress when resuming.
    pub status: TaskStatus,
    /// When the transition was created.
    pub created_ms: u64,
}

/// A BMC in the agent's scope. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct BmcEndpoint {
    /// The BMC xname.
    pub id: Xname,
    /// Its FQDN as stored.
    pub fqdn: String,
    /// Operator-set user name (empty: the agent's default).
    pub username: String,
    /// Operator-set password (empty: the agent's default).
    pub password: String,
    /// The endpoint's Enabled flag.
    pub enabled: bool,
    /// The endpoint was deleted (incremental messages only).
    pub removed: bool,
}

impl fmt::Debug for BmcEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BmcEndpoint")
            .field("id", &self.id)
            .field("fqdn", &self.fqdn)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("enabled", &self.enabled)
            .field("removed", &self.removed)
            .finish()
    }
}

/// A request to discover now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverRequest {
    /// Its id (increasing).
    pub id: u64,
    /// BMCs to discover; empty: everything in scope.
    pub targets: Vec<Xname>,
    /// Rediscover even BMCs discovered recently.
    pub force: bool,
    /// When it was asked.
    pub requested_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids() {
        assert!(validate_agent_id("rack-x1000.a_1").is_ok());
        for bad in ["", "a b", "é", "a/b", &"a".repeat(65)] {
            assert!(validate_agent_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_passwords() {
        let ep = BmcEndpoint {
            id: Xname::parse("x1000c0s0b0").unwrap(),
            fqdn: "10.0.0.1".into(),
            username: "root".into(),
            password: "hunter2".into(),
            enabled: true,
            removed: false,
        };
        let text = format!("{ep:?}");
        assert!(!text.contains("hunter2") && text.contains("***"), "{text}");
    }
}
