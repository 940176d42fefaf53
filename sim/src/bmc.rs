//! The live state of one simulated BMC, shared (behind an `Arc`) by its listener, its
//! connections and the [`crate::Handle`].

use std::net::SocketAddr;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::{BmcConfig, Content, Credentials};
use crate::faults::{FailReset, Fault, FaultSet, PathFault, normalize};
use crate::ids;
use crate::power::{BootOverride, PowerCell};
use crate::redfish::sessions::Sessions;
use crate::{read, write};

/// Boot override targets generated systems allow.
pub(crate) const GENERATED_BOOT_TARGETS: [&str; 7] =
    ["None", "Pxe", "Hdd", "Cd", "Usb", "BiosSetup", "UefiHttp"];

/// One ComputerSystem and its live power state.
#[derive(Debug)]
pub(crate) struct SimSystem {
    pub(crate) id: String,
    /// Normalized `@odata.id`.
    pub(crate) path: String,
    pub(crate) uuid: Option<String>,
    pub(crate) macs: Vec<String>,
    /// Normalized reset action target.
    pub(crate) reset_target: Option<String>,
    /// `ResetType@Redfish.AllowableValues` as published (empty: the BMC publishes none).
    pub(crate) reset_types: Vec<String>,
    /// `BootSourceOverrideTarget@Redfish.AllowableValues` as published (empty: none published).
    pub(crate) boot_targets: Vec<String>,
    /// Whether the resource has a `Boot` object at all (PATCHing one it lacks is refused).
    pub(crate) has_boot: bool,
    /// Index in the mockup's systems, for the resource body.
    pub(crate) mockup_system: Option<usize>,
    pub(crate) power: PowerCell,
}

/// What the connection layer should do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Serve,
    Hang,
    /// Close the connection without an answer.
    Dead,
}

/// One simulated BMC.
#[derive(Debug)]
pub(crate) struct Bmc {
    pub(crate) index: u32,
    pub(crate) addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) content: Content,
    pub(crate) systems: Vec<SimSystem>,
    pub(crate) sessions: Sessions,
    credentials: RwLock<Credentials>,
    faults: RwLock<FaultSet>,
    requests: AtomicU64,
    /// Requests since the faults were last set: what `DieAfter` counts.
    since_faults: AtomicU64,
}

impl Bmc {
    pub(crate) fn new(config: &BmcConfig, addr: SocketAddr, scheme: &str) -> Self {
        let cell = |initial, boot| {
            PowerCell::new(
                initial,
                config.power_delay,
                config.transitional_states,
                boot,
            )
        };
        let systems = match &config.content {
            Content::Generated(g) => (0..g.systems)
                .map(|s| {
                    let id = ids::system_id(s);
                    let path = format!("/redfish/v1/Systems/{id}");
                    SimSystem {
                        reset_target: Some(format!("{path}/Actions/ComputerSystem.Reset")),
                        reset_types: g
                            .reset_types
                            .iter()
                            .map(|r| r.as_str().to_owned())
                            .collect(),
                        boot_targets: GENERATED_BOOT_TARGETS.map(str::to_owned).to_vec(),
                        has_boot: true,
                        uuid: Some(ids::system_uuid(config.index, s)),
                        macs: (0..g.nics)
                            .map(|n| ids::system_mac(config.index, s, n))
                            .collect(),
                        mockup_system: None,
                        power: cell(g.initial_power, BootOverride::default()),
                        id,
                        path,
                    }
                })
                .collect(),
            Content::Mockup(m) => m
                .systems()
                .iter()
                .enumerate()
                .map(|(i, s)| SimSystem {
                    id: s.id.clone(),
                    path: s.path.clone(),
                    uuid: s.uuid.clone(),
                    macs: s.macs.clone(),
                    reset_target: s.reset_target.clone(),
                    reset_types: s.reset_types.clone(),
                    boot_targets: s.boot_targets.clone(),
                    has_boot: s.boot.is_some(),
                    mockup_system: Some(i),
                    power: cell(s.power_state, s.boot.clone().unwrap_or_default()),
                })
                .collect(),
        };
        Self {
            index: config.index,
            addr,
            url: format!("{scheme}://{addr}"),
            content: config.content.clone(),
            systems,
            sessions: Sessions::default(),
            credentials: RwLock::new(config.credentials.clone()),
            faults: RwLock::new(FaultSet::new(config.faults.clone())),
            requests: AtomicU64::new(0),
            since_faults: AtomicU64::new(0),
        }
    }

    pub(crate) fn credentials(&self) -> Credentials {
        read(&self.credentials).clone()
    }

    pub(crate) fn set_credentials(&self, credentials: Credentials) {
        *write(&self.credentials) = credentials;
    }

    /// Whether `username`/`password` are this BMC's, compared without early exit so a timing
    /// probe learns nothing (good manners even for a simulator).
    pub(crate) fn check_password(&self, username: &str, password: &str) -> bool {
        let creds = read(&self.credentials);
        let eq = |a: &[u8], b: &[u8]| {
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        };
        eq(creds.username.as_bytes(), username.as_bytes())
            & eq(creds.password.as_bytes(), password.as_bytes())
    }

    pub(crate) fn faults(&self) -> Vec<Fault> {
        read(&self.faults).faults().to_vec()
    }

    /// The `Status500`/`MalformedJson` fault for a request to `path`, if any.
    pub(crate) fn path_fault(&self, path: &str) -> Option<PathFault> {
        read(&self.faults).for_path(path)
    }

    pub(crate) fn fail_reset(&self) -> Option<FailReset> {
        read(&self.faults).fail_reset
    }

    pub(crate) fn set_faults(&self, faults: Vec<Fault>) {
        let mut guard = write(&self.faults);
        *guard = FaultSet::new(faults);
        self.since_faults.store(0, Ordering::SeqCst);
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Counts a request and decides whether it is answered.
    pub(crate) fn admit(&self) -> Admission {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let n = self.since_faults.fetch_add(1, Ordering::SeqCst) + 1;
        let faults = read(&self.faults);
        if faults.die_after.is_some_and(|limit| n > limit) {
            Admission::Dead
        } else if faults.hang {
            Admission::Hang
        } else {
            Admission::Serve
        }
    }

    /// Whether a `DieAfter` fault has run out (new connections are dropped at once).
    pub(crate) fn is_dead(&self) -> bool {
        let faults = read(&self.faults);
        faults
            .die_after
            .is_some_and(|limit| self.since_faults.load(Ordering::SeqCst) >= limit)
    }

    /// The system whose resource is at `path` (any case, trailing slashes ignored).
    pub(crate) fn system_at(&self, path: &str) -> Option<&SimSystem> {
        let path = normalize(path);
        self.systems
            .iter()
            .find(|s| s.path.eq_ignore_ascii_case(path))
    }

    /// The system whose reset action is at `path`.
    pub(crate) fn system_by_reset_target(&self, path: &str) -> Option<&SimSystem> {
        let path = normalize(path);
        self.systems.iter().find(|s| {
            s.reset_target
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(path))
        })
    }

    /// The BMC's own MAC (generated BMCs only).
    pub(crate) fn mac(&self) -> Option<String> {
        matches!(self.content, Content::Generated(_)).then(|| ids::bmc_mac(self.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;

    fn bmc() -> Bmc {
        let config = SimConfig::builder().build().unwrap();
        Bmc::new(&config.bmcs[0], "127.0.0.1:1".parse().unwrap(), "http")
    }

    #[test]
    fn die_after_counts_from_when_it_is_set() {
        let bmc = bmc();
        assert_eq!(bmc.admit(), Admission::Serve);
        bmc.set_faults(vec![Fault::DieAfter(2)]);
        assert!(!bmc.is_dead());
        assert_eq!(bmc.admit(), Admission::Serve);
        assert_eq!(bmc.admit(), Admission::Serve);
        assert!(bmc.is_dead());
        assert_eq!(bmc.admit(), Admission::Dead);
        assert_eq!(bmc.requests(), 4);
        bmc.set_faults(vec![Fault::Hang]);
        assert!(!bmc.is_dead());
        assert_eq!(bmc.admit(), Admission::Hang);
        bmc.set_faults(Vec::new());
        assert_eq!(bmc.admit(), Admission::Serve);
    }

    #[test]
    fn systems_are_found_by_path_and_reset_target_in_any_case() {
        let bmc = bmc();
        assert_eq!(
            bmc.system_at("/redfish/v1/systems/node1/")
                .map(|s| s.id.as_str()),
            Some("Node1")
        );
        let target = "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset/";
        assert_eq!(
            bmc.system_by_reset_target(target).map(|s| s.id.as_str()),
            Some("Node0")
        );
        assert!(bmc.system_at("/redfish/v1/Systems/Node2").is_none());
        assert!(bmc.check_password("admin", "password"));
        assert!(!bmc.check_password("admin", "passwordx"));
        assert!(!bmc.check_password("", ""));
    }
}
