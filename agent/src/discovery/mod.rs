//! Redfish discovery, as Magellan's `scan` and `collect` do it, near the BMCs:
//!
//! 1. [`scan`]: find BMCs in subnets × ports (bounded concurrency, connect timeout, a probe of
//!    the service root over https then http);
//! 2. [`naming`]: give each BMC its xname (map, xname host name, or derived in scope);
//! 3. [`crawl`]: read each BMC's systems, managers, chassis, NICs and reset actions, all or
//!    nothing, with bounded concurrency per BMC and a per-BMC timeout;
//! 4. [`report`]: turn each crawl into an [`EndpointDiscovery`] for the coordinator: the BMC's
//!    complete record set, or a failure status and no records.
//!
//! [`Discoverer`] runs the pipeline; [`Discoverer::discover`] yields one result per BMC as soon
//! as it is ready, and [`DiscoveryRun`] sums them up.
//!
//! [`EndpointDiscovery`]: cairn_protocols::EndpointDiscovery

pub mod crawl;
pub mod inventory;
pub mod naming;
pub mod report;
mod run;
pub mod scan;
mod summary;

use cairn_protocols::Xname;

use crate::redfish::{BmcAddress, Credentials};

pub use naming::{Namer, NamingError};
pub use run::{Discoverer, DiscoveryError, DiscoveryOptions};
pub use summary::{DiscoveryRun, EndpointSummary, same_result};

/// A BMC to discover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where it answers.
    pub address: BmcAddress,
    /// Its name when already known (e.g. a RedfishEndpoint the coordinator holds); otherwise
    /// [`Namer`] derives one.
    pub xname: Option<Xname>,
    /// Credentials for this BMC only (a RedfishEndpoint's `User`/`Password`); otherwise the
    /// agent's defaults.
    pub credentials: Option<Credentials>,
}

impl Target {
    /// A target known only by its address.
    pub fn new(address: BmcAddress) -> Target {
        Target {
            address,
            xname: None,
            credentials: None,
        }
    }
}

/// A BMC to discover, with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTarget {
    /// The BMC's xname.
    pub xname: Xname,
    /// Where it answers.
    pub address: BmcAddress,
    /// Credentials for this BMC only; otherwise the agent's defaults.
    pub credentials: Option<Credentials>,
}
