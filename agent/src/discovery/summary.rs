//! A discovery run's summary: per endpoint what was found, whether it changed since the last
//! run, what failed; and the totals a progress bar shows.

use cairn_protocols::{DiscoveryOutcome, EndpointDiscovery, Xname};
use serde::{Deserialize, Serialize};

/// One endpoint's line in a [`DiscoveryRun`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// The BMC.
    pub xname: Xname,
    /// Where it was reached (SMD's FQDN form).
    pub address: String,
    /// `LastDiscoveryStatus`.
    pub status: String,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Nodes found.
    pub nodes: usize,
    /// MACs found (BMC and nodes).
    pub macs: usize,
    /// Whether the result differs from the previous run's (always true the first time).
    pub changed: bool,
}

/// Totals and per-endpoint lines of one discovery run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryRun {
    /// Endpoints discovered completely.
    pub found: usize,
    /// Endpoints whose result changed since the previous run (found or failed).
    pub changed: usize,
    /// Endpoints that failed.
    pub failed: usize,
    /// One line per endpoint, in the order results arrived.
    pub endpoints: Vec<EndpointSummary>,
}

impl DiscoveryRun {
    /// Adds a result; `previous` is the same endpoint's result from the last run, if any.
    pub fn record(
        &mut self,
        result: &EndpointDiscovery,
        previous: Option<&EndpointDiscovery>,
    ) -> &EndpointSummary {
        let changed = previous.is_none_or(|p| !same_result(p, result));
        let (nodes, macs, detail) = match &result.outcome {
            DiscoveryOutcome::Found {
                components,
                interfaces,
                ..
            } => {
                self.found += 1;
                let nodes = components.iter().filter(|c| c.id.is_node()).count();
                (nodes, interfaces.len(), None)
            }
            DiscoveryOutcome::Failed { detail, .. } => {
                self.failed += 1;
                (0, 0, Some(detail.clone()))
            }
        };
        if changed {
            self.changed += 1;
        }
        self.endpoints.push(EndpointSummary {
            xname: result.endpoint.id.clone(),
            address: result.endpoint.fqdn.clone().unwrap_or_default(),
            status: result.outcome.status().to_owned(),
            detail,
            nodes,
            macs,
            changed,
        });
        let last = self.endpoints.len() - 1;
        &self.endpoints[last]
    }

    /// Endpoints recorded so far.
    pub fn total(&self) -> usize {
        self.endpoints.len()
    }
}

/// Whether two results of one endpoint say the same, ignoring when they were taken.
pub fn same_result(a: &EndpointDiscovery, b: &EndpointDiscovery) -> bool {
    let timeless = |d: &EndpointDiscovery| {
        let mut d = d.clone();
        if let Some(info) = &mut d.endpoint.discovery_info {
            info.last_discovery_attempt = None;
        }
        if let DiscoveryOutcome::Found { interfaces, .. } = &mut d.outcome {
            for e in interfaces {
                e.last_update = None;
            }
        }
        d
    };
    timeless(a) == timeless(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocols::{Component, DiscoveryInfo, DiscoveryStatus, RedfishEndpoint};

    fn result(at: &str, nodes: usize) -> EndpointDiscovery {
        let bmc: Xname = "x1c0s1b0".parse().unwrap();
        let mut endpoint = RedfishEndpoint::new(bmc.clone());
        endpoint.fqdn = Some("10.0.0.1".into());
        endpoint.discovery_info = Some(DiscoveryInfo {
            last_discovery_attempt: Some(at.into()),
            last_discovery_status: Some("DiscoverOK".into()),
            redfish_version: None,
            last_discovery_detail: None,
        });
        let mut components = vec![Component::new(bmc.clone())];
        for i in 0..nodes {
            components.push(Component::new(bmc.child('n', i as u32).unwrap()));
        }
        EndpointDiscovery {
            endpoint,
            outcome: DiscoveryOutcome::Found {
                components,
                component_endpoints: Vec::new(),
                interfaces: Vec::new(),
            },
        }
    }

    #[test]
    fn counts_found_changed_and_failed() {
        let mut run = DiscoveryRun::default();
        let first = result("2026-01-01T00:00:00Z", 2);
        let again = result("2026-01-01T00:10:00Z", 2);
        let grown = result("2026-01-01T00:10:00Z", 3);
        assert!(run.record(&first, None).changed);
        assert!(!run.record(&again, Some(&first)).changed);
        let line = run.record(&grown, Some(&first)).clone();
        assert!(line.changed);
        assert_eq!(line.nodes, 3);
        let mut failed = result("t", 0);
        failed.outcome = DiscoveryOutcome::failed(DiscoveryStatus::HttpsGetFailed, "timed out");
        let line = run.record(&failed, Some(&grown)).clone();
        assert_eq!(line.status, "HTTPsGetFailed");
        assert_eq!(line.detail.as_deref(), Some("timed out"));
        assert_eq!(
            (run.found, run.changed, run.failed, run.total()),
            (3, 3, 1, 4)
        );
    }
}
