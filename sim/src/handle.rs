//! The running simulator as seen by its owner: where each BMC is, what it should be found to
//! have, its counters and power states, and switches for its faults and credentials.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::bmc::Bmc;
use crate::config::{Content, Credentials};
use crate::faults::Fault;
use crate::power::{PowerState, SystemStatus};

/// One system behind a BMC, as discovery should find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// Redfish `Id` (`Node0`, `1`, `Self`, ...).
    pub id: String,
    /// `@odata.id` of the ComputerSystem, without a trailing slash.
    pub path: String,
    /// `UUID`, when the resource has one.
    pub uuid: Option<String>,
    /// MACs of its EthernetInterfaces, as the resources spell them.
    pub macs: Vec<String>,
    /// The reset action's `target`, without a trailing slash.
    pub reset_target: Option<String>,
    /// The allowable `ResetType` values it publishes (empty: it publishes none).
    pub reset_types: Vec<String>,
    /// Its `PowerState` when the report was made.
    pub power_state: PowerState,
}

/// One BMC: where to reach it and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BmcInfo {
    /// The BMC's index (MACs and UUIDs of generated BMCs derive from it).
    pub index: u32,
    /// Base URL, e.g. `https://127.0.20.1:8443`.
    pub url: String,
    /// Bound address.
    pub address: IpAddr,
    /// Bound port.
    pub port: u16,
    /// User name it accepts.
    pub username: String,
    /// Password it accepts.
    pub password: String,
    /// Its management interface's MAC (generated BMCs).
    pub mac: Option<String>,
    /// The mockup it serves, by directory name; `None` for a generated BMC.
    pub mockup: Option<String>,
    /// Its systems.
    pub systems: Vec<SystemInfo>,
}

/// Every BMC of a simulator: what `cairn-sim` prints and writes with `--json-out`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// PEM of the CA that signed the BMCs' certificate, when TLS is on.
    pub ca_pem: Option<String>,
    /// The BMCs, in configuration order.
    pub bmcs: Vec<BmcInfo>,
}

/// One running BMC.
#[derive(Clone, Debug)]
pub struct BmcHandle {
    bmc: Arc<Bmc>,
}

impl BmcHandle {
    pub(crate) fn new(bmc: Arc<Bmc>) -> Self {
        Self { bmc }
    }

    /// Its index.
    pub fn index(&self) -> u32 {
        self.bmc.index
    }

    /// Base URL (`http(s)://address:port`).
    pub fn url(&self) -> &str {
        &self.bmc.url
    }

    /// Bound address and port.
    pub fn addr(&self) -> SocketAddr {
        self.bmc.addr
    }

    /// Everything about it, with current credentials and power states.
    pub fn info(&self) -> BmcInfo {
        let b = &self.bmc;
        let credentials = b.credentials();
        let now = Instant::now();
        BmcInfo {
            index: b.index,
            url: b.url.clone(),
            address: b.addr.ip(),
            port: b.addr.port(),
            username: credentials.username,
            password: credentials.password,
            mac: b.mac(),
            mockup: match &b.content {
                Content::Generated(_) => None,
                Content::Mockup(m) => Some(m.name().to_owned()),
            },
            systems: b
                .systems
                .iter()
                .map(|s| SystemInfo {
                    id: s.id.clone(),
                    path: s.path.clone(),
                    uuid: s.uuid.clone(),
                    macs: s.macs.clone(),
                    reset_target: s.reset_target.clone(),
                    reset_types: s.reset_types.clone(),
                    power_state: s.power.power_state(now),
                })
                .collect(),
        }
    }

    /// Requests received so far (answered or not, authenticated or not).
    pub fn requests(&self) -> u64 {
        self.bmc.requests()
    }

    /// Open Redfish sessions.
    pub fn sessions(&self) -> usize {
        self.bmc.sessions.len()
    }

    /// Number of systems.
    pub fn system_count(&self) -> usize {
        self.bmc.systems.len()
    }

    /// The `PowerState` a GET of system `system` (0-based) shows now.
    pub fn power_state(&self, system: usize) -> Option<PowerState> {
        let s = self.bmc.systems.get(system)?;
        Some(s.power.power_state(Instant::now()))
    }

    /// Power state, reset count and boot override of system `system`.
    pub fn system_status(&self, system: usize) -> Option<SystemStatus> {
        let s = self.bmc.systems.get(system)?;
        Some(s.power.status(Instant::now()))
    }

    /// Sets a system's power state at once, dropping any pending transition (test setup).
    /// Returns false if there is no such system.
    pub fn set_power_state(&self, system: usize, state: PowerState) -> bool {
        self.bmc
            .systems
            .get(system)
            .map(|s| s.power.force(state))
            .is_some()
    }

    /// Replaces its faults; `DieAfter` counts from now. An empty list heals it.
    pub fn set_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        let faults: Vec<Fault> = faults.into_iter().collect();
        tracing::info!(bmc = self.bmc.index, ?faults, "faults set");
        self.bmc.set_faults(faults);
    }

    /// Adds one fault to those it has (a second `FailReset` replaces the first).
    pub fn add_fault(&self, fault: Fault) {
        let mut faults = self.faults();
        if matches!(fault, Fault::FailReset(_)) {
            faults.retain(|f| !matches!(f, Fault::FailReset(_)));
        }
        faults.push(fault);
        self.set_faults(faults);
    }

    /// Its current faults.
    pub fn faults(&self) -> Vec<Fault> {
        self.bmc.faults()
    }

    /// Changes the credentials it accepts (open sessions stay valid).
    pub fn set_credentials(&self, credentials: Credentials) {
        self.bmc.set_credentials(credentials);
    }
}

/// A running simulator. Dropping it stops every BMC, as [`Handle::shutdown`] does.
#[derive(Debug)]
pub struct Handle {
    bmcs: Vec<BmcHandle>,
    ca_pem: Option<String>,
    tasks: JoinSet<()>,
}

impl Handle {
    pub(crate) fn new(bmcs: Vec<BmcHandle>, ca_pem: Option<String>, tasks: JoinSet<()>) -> Self {
        Self {
            bmcs,
            ca_pem,
            tasks,
        }
    }

    /// The BMCs, in configuration order.
    pub fn bmcs(&self) -> &[BmcHandle] {
        &self.bmcs
    }

    /// The `i`th BMC in configuration order (not its index).
    pub fn bmc(&self, i: usize) -> Option<&BmcHandle> {
        self.bmcs.get(i)
    }

    /// PEM of the CA that signed the BMCs' certificate, when TLS is on.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Everything about every BMC (the binary's JSON output).
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            ca_pem: self.ca_pem.clone(),
            bmcs: self.bmcs.iter().map(BmcHandle::info).collect(),
        }
    }

    /// Sum of every BMC's request count.
    pub fn total_requests(&self) -> u64 {
        self.bmcs.iter().map(BmcHandle::requests).sum()
    }

    /// Stops every BMC: listeners close and open connections are dropped (hung ones too).
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        tracing::info!(bmcs = self.bmcs.len(), "simulator stopped");
    }
}
