//! Discovery results: what a rack agent reports for one BMC after crawling its Redfish service,
//! and the checks the coordinator runs on a received report before applying it.
//!
//! A report is all or nothing. [`DiscoveryOutcome::Found`] carries the complete record set of
//! one BMC (the BMC itself, its nodes, their ComponentEndpoints and EthernetInterfaces), which
//! replaces what the inventory held for that BMC; [`DiscoveryOutcome::Failed`] carries only the
//! status for the RedfishEndpoint's `DiscoveryInfo`, so a BMC with bad credentials or garbage
//! replies never leaves half-registered nodes behind (OpenCHAMI magellan#10).
//!
//! JSON shape (keys in SMD's PascalCase style; the outcome is externally tagged so it survives
//! any serde format, MessagePack included):
//!
//! ```json
//! {"Endpoint": {"ID": "x1000c0s0b0", "FQDN": "10.1.0.1", "DiscoveryInfo": {...}, ...},
//!  "Outcome": {"Found": {"Components": [...], "ComponentEndpoints": [...],
//!                        "EthernetInterfaces": [...]}}}
//! {"Endpoint": {...}, "Outcome": {"Failed": {"Status": "HTTPsGetFailed", "Detail": "..."}}}
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::component::Component;
use crate::endpoint::ComponentEndpoint;
use crate::ethernet::EthernetInterface;
use crate::redfish::RedfishEndpoint;

mod validate;

pub use validate::DiscoveryValidationError;

/// Longest accepted [`DiscoveryOutcome::Failed`] detail, in bytes; agents truncate to it.
pub const MAX_DETAIL_LEN: usize = 2048;

/// Most EthernetInterfaces one report may carry (a BMC's nodes rarely have more than a dozen).
pub const MAX_INTERFACES: usize = 4096;

/// The result of discovering one BMC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointDiscovery {
    /// The BMC as discovered: ID (xname), FQDN/IPAddress it was reached at, UUID, MACAddr when
    /// known, and `DiscoveryInfo` (`LastDiscoveryAttempt`, `LastDiscoveryStatus`,
    /// `RedfishVersion`). Never carries `User` or `Password`: credentials stay where they were
    /// configured.
    #[serde(rename = "Endpoint")]
    pub endpoint: RedfishEndpoint,
    /// What the crawl produced.
    #[serde(rename = "Outcome")]
    pub outcome: DiscoveryOutcome,
}

/// What discovering one BMC produced: its complete record set, or why there is none.
// Found is the common case and is moved, not copied, so the size difference is harmless.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DiscoveryOutcome {
    /// The whole crawl succeeded. These records replace the BMC's previous ones.
    Found {
        /// The BMC (first) and its nodes `<bmc>n<i>`.
        #[serde(rename = "Components")]
        components: Vec<Component>,
        /// One per component: the BMC's Manager and each node's ComputerSystem, with the reset
        /// action (target and allowed ResetTypes) exactly as the BMC declares it.
        #[serde(rename = "ComponentEndpoints")]
        component_endpoints: Vec<ComponentEndpoint>,
        /// Node MACs and the BMC's own MAC (with the IP it was reached at), one per MAC.
        #[serde(rename = "EthernetInterfaces")]
        interfaces: Vec<EthernetInterface>,
    },
    /// Some step of the crawl failed; nothing but the endpoint's `DiscoveryInfo` is to change.
    Failed {
        /// SMD's `LastDiscoveryStatus` vocabulary (a failure value of [`DiscoveryStatus`]).
        #[serde(rename = "Status")]
        status: String,
        /// What failed, for operators: the request, the HTTP status or error, the limit hit.
        #[serde(rename = "Detail")]
        detail: String,
    },
}

impl DiscoveryOutcome {
    /// A failure with SMD's status for `status`; `detail` is cut to [`MAX_DETAIL_LEN`].
    pub fn failed(status: DiscoveryStatus, detail: impl Into<String>) -> DiscoveryOutcome {
        let mut detail = detail.into();
        if detail.len() > MAX_DETAIL_LEN {
            let mut cut = MAX_DETAIL_LEN - 3;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push_str("...");
        }
        DiscoveryOutcome::Failed {
            status: status.as_str().to_owned(),
            detail,
        }
    }

    /// The `LastDiscoveryStatus` this outcome stands for.
    pub fn status(&self) -> &str {
        match self {
            DiscoveryOutcome::Found { .. } => DiscoveryStatus::DiscoverOk.as_str(),
            DiscoveryOutcome::Failed { status, .. } => status,
        }
    }

    /// Whether the crawl succeeded.
    pub fn is_found(&self) -> bool {
        matches!(self, DiscoveryOutcome::Found { .. })
    }
}

/// SMD's `LastDiscoveryStatus` values (swagger `RedfishEndpoint.DiscoveryInfo.LastStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiscoveryStatus {
    /// Discovery completed; the records are current.
    DiscoverOk,
    /// A request failed: connection refused or dropped, timeout, TLS, an HTTP error status
    /// (401/403 for refused credentials, 5xx), or a reply over the size limit.
    HttpsGetFailed,
    /// A reply was not the JSON expected (malformed, or the wrong shape where it matters).
    EpResponseFailedDecode,
    /// The endpoint is not usable for discovery (e.g. not a Redfish service).
    EndpointInvalid,
    /// The service root answered but could not be verified as a Redfish service.
    VerificationFailed,
    /// A child resource (system, manager, interface) was inconsistent or could not be named.
    ChildVerificationFailed,
    /// Never discovered yet.
    NotYetQueried,
}

impl DiscoveryStatus {
    /// Every value.
    pub const ALL: &'static [DiscoveryStatus] = &[
        DiscoveryStatus::DiscoverOk,
        DiscoveryStatus::HttpsGetFailed,
        DiscoveryStatus::EpResponseFailedDecode,
        DiscoveryStatus::EndpointInvalid,
        DiscoveryStatus::VerificationFailed,
        DiscoveryStatus::ChildVerificationFailed,
        DiscoveryStatus::NotYetQueried,
    ];

    /// SMD's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscoveryStatus::DiscoverOk => "DiscoverOK",
            DiscoveryStatus::HttpsGetFailed => "HTTPsGetFailed",
            DiscoveryStatus::EpResponseFailedDecode => "EPResponseFailedDecode",
            DiscoveryStatus::EndpointInvalid => "EndpointInvalid",
            DiscoveryStatus::VerificationFailed => "VerificationFailed",
            DiscoveryStatus::ChildVerificationFailed => "ChildVerificationFailed",
            DiscoveryStatus::NotYetQueried => "NotYetQueried",
        }
    }

    /// Whether this value may be the status of a [`DiscoveryOutcome::Failed`].
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            DiscoveryStatus::DiscoverOk | DiscoveryStatus::NotYetQueried
        )
    }
}

impl fmt::Display for DiscoveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string is not one of SMD's discovery statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown discovery status {0:?}")]
pub struct UnknownDiscoveryStatus(pub String);

impl FromStr for DiscoveryStatus {
    type Err = UnknownDiscoveryStatus;

    /// Exact match: these strings are compared byte for byte by SMD's clients
    /// (`?laststatus=HTTPsGetFailed`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DiscoveryStatus::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownDiscoveryStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests;
