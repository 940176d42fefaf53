//! The checks a received [`EndpointDiscovery`] passes before the coordinator applies it.

use std::collections::HashSet;

use super::{DiscoveryOutcome, DiscoveryStatus, EndpointDiscovery, MAX_DETAIL_LEN, MAX_INTERFACES};
use crate::component::Component;
use crate::endpoint::ComponentEndpoint;
use crate::enums::ComponentEndpointType;
use crate::ethernet::EthernetInterface;
use crate::xname::Xname;

/// A received [`EndpointDiscovery`] is inconsistent. Display: `<field>: <message>`, the field
/// named by its JSON path, e.g. `Outcome.Found.Components[2].ID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DiscoveryValidationError {
    /// JSON path of the offending field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> DiscoveryValidationError {
    DiscoveryValidationError {
        field: field.into(),
        message: message.into(),
    }
}

impl EndpointDiscovery {
    /// The BMC's xname.
    pub fn bmc(&self) -> &Xname {
        &self.endpoint.id
    }

    /// Checks that the report is self-consistent before anything is applied:
    /// - the endpoint is a BMC xname, carries no `User`/`Password`, its `Type` (if set) matches
    ///   the xname, and its `DiscoveryInfo.LastDiscoveryStatus` agrees with the outcome;
    /// - `Failed`: a failure status from SMD's vocabulary and a non-empty detail of at most
    ///   [`MAX_DETAIL_LEN`] bytes;
    /// - `Found`: the BMC's own component is present and every other component is a node
    ///   `<bmc>n<i>`, none twice; every ComponentEndpoint belongs to one of those components
    ///   (Manager for the BMC, ComputerSystem for a node), names this BMC as its
    ///   `RedfishEndpointID`, none twice; every EthernetInterface belongs to one of those
    ///   components, its `ID` is its MAC's SMD form, no MAC twice, at most [`MAX_INTERFACES`].
    ///
    /// The first problem found is returned, naming its field.
    pub fn validate(&self) -> Result<(), DiscoveryValidationError> {
        self.validate_endpoint()?;
        match &self.outcome {
            DiscoveryOutcome::Failed { status, detail } => validate_failed(status, detail),
            DiscoveryOutcome::Found {
                components,
                component_endpoints,
                interfaces,
            } => {
                let bmc = self.bmc();
                let ids = validate_components(bmc, components)?;
                validate_component_endpoints(bmc, &ids, component_endpoints)?;
                validate_interfaces(&ids, interfaces)
            }
        }
    }

    fn validate_endpoint(&self) -> Result<(), DiscoveryValidationError> {
        let ep = &self.endpoint;
        if !ep.id.is_bmc() {
            return Err(invalid(
                "Endpoint.ID",
                format!("{} is a {}, not a BMC", ep.id, ep.id.hms_type()),
            ));
        }
        if let Some(t) = ep.r#type.filter(|t| *t != ep.id.hms_type()) {
            return Err(invalid(
                "Endpoint.Type",
                format!("{t} does not match the xname's type {}", ep.id.hms_type()),
            ));
        }
        if ep.user.is_some() {
            return Err(invalid(
                "Endpoint.User",
                "a discovery report carries no user",
            ));
        }
        if ep.password.is_some() {
            return Err(invalid(
                "Endpoint.Password",
                "a discovery report carries no password",
            ));
        }
        let reported = ep
            .discovery_info
            .as_ref()
            .and_then(|d| d.last_discovery_status.as_deref());
        match reported {
            None => Err(invalid(
                "Endpoint.DiscoveryInfo.LastDiscoveryStatus",
                "missing",
            )),
            Some(s) if s != self.outcome.status() => Err(invalid(
                "Endpoint.DiscoveryInfo.LastDiscoveryStatus",
                format!(
                    "{s:?} disagrees with the outcome's {:?}",
                    self.outcome.status()
                ),
            )),
            Some(_) => Ok(()),
        }
    }
}

fn validate_failed(status: &str, detail: &str) -> Result<(), DiscoveryValidationError> {
    const AT: &str = "Outcome.Failed";
    match status.parse::<DiscoveryStatus>() {
        Ok(s) if s.is_failure() => {}
        Ok(s) => {
            return Err(invalid(
                format!("{AT}.Status"),
                format!("{s} is not a failure status"),
            ));
        }
        Err(e) => return Err(invalid(format!("{AT}.Status"), e.to_string())),
    }
    if detail.trim().is_empty() {
        return Err(invalid(format!("{AT}.Detail"), "empty"));
    }
    if detail.len() > MAX_DETAIL_LEN {
        return Err(invalid(
            format!("{AT}.Detail"),
            format!("{} bytes, at most {MAX_DETAIL_LEN}", detail.len()),
        ));
    }
    Ok(())
}

/// Returns the set of component IDs (the BMC and its nodes).
fn validate_components(
    bmc: &Xname,
    components: &[Component],
) -> Result<HashSet<Xname>, DiscoveryValidationError> {
    let mut ids = HashSet::with_capacity(components.len());
    for (i, c) in components.iter().enumerate() {
        let at = format!("Outcome.Found.Components[{i}]");
        let is_node = c.id.is_node() && c.id.parent().as_ref() == Some(bmc);
        if c.id != *bmc && !is_node {
            return Err(invalid(
                format!("{at}.ID"),
                format!("{} is neither the BMC {bmc} nor one of its nodes", c.id),
            ));
        }
        if let Some(t) = c.r#type.filter(|t| *t != c.id.hms_type()) {
            return Err(invalid(
                format!("{at}.Type"),
                format!("{t} does not match the xname's type {}", c.id.hms_type()),
            ));
        }
        if !ids.insert(c.id.clone()) {
            return Err(invalid(
                format!("{at}.ID"),
                format!("{} listed twice", c.id),
            ));
        }
    }
    if !ids.contains(bmc) {
        return Err(invalid(
            "Outcome.Found.Components",
            format!("the BMC's own component {bmc} is missing"),
        ));
    }
    Ok(ids)
}

fn validate_component_endpoints(
    bmc: &Xname,
    ids: &HashSet<Xname>,
    endpoints: &[ComponentEndpoint],
) -> Result<(), DiscoveryValidationError> {
    let mut seen = HashSet::with_capacity(endpoints.len());
    for (i, ce) in endpoints.iter().enumerate() {
        let at = format!("Outcome.Found.ComponentEndpoints[{i}]");
        if !ids.contains(&ce.id) {
            return Err(invalid(
                format!("{at}.ID"),
                format!("{} is not one of the reported components", ce.id),
            ));
        }
        if ce.redfish_endpoint_id.as_ref() != Some(bmc) {
            let got = ce
                .redfish_endpoint_id
                .as_ref()
                .map_or_else(|| "missing".to_owned(), Xname::to_string);
            return Err(invalid(
                format!("{at}.RedfishEndpointID"),
                format!("{got}, expected the BMC {bmc}"),
            ));
        }
        let expected = if ce.id == *bmc {
            ComponentEndpointType::Manager
        } else {
            ComponentEndpointType::ComputerSystem
        };
        if ce.component_endpoint_type != expected {
            return Err(invalid(
                format!("{at}.ComponentEndpointType"),
                format!(
                    "{} for {}, expected {}",
                    ce.component_endpoint_type.as_str(),
                    ce.id,
                    expected.as_str()
                ),
            ));
        }
        if let Some(t) = ce.r#type.filter(|t| *t != ce.id.hms_type()) {
            return Err(invalid(
                format!("{at}.Type"),
                format!("{t} does not match the xname's type {}", ce.id.hms_type()),
            ));
        }
        if !seen.insert(&ce.id) {
            return Err(invalid(
                format!("{at}.ID"),
                format!("{} listed twice", ce.id),
            ));
        }
    }
    Ok(())
}

fn validate_interfaces(
    ids: &HashSet<Xname>,
    interfaces: &[EthernetInterface],
) -> Result<(), DiscoveryValidationError> {
    if interfaces.len() > MAX_INTERFACES {
        return Err(invalid(
            "Outcome.Found.EthernetInterfaces",
            format!("{} interfaces, at most {MAX_INTERFACES}", interfaces.len()),
        ));
    }
    let mut macs = HashSet::with_capacity(interfaces.len());
    for (i, e) in interfaces.iter().enumerate() {
        let at = format!("Outcome.Found.EthernetInterfaces[{i}]");
        match &e.component_id {
            None => return Err(invalid(format!("{at}.ComponentID"), "missing")),
            Some(owner) if !ids.contains(owner) => {
                return Err(invalid(
                    format!("{at}.ComponentID"),
                    format!("{owner} is not one of the reported components"),
                ));
            }
            Some(owner) => {
                if let Some(t) = e.r#type.filter(|t| *t != owner.hms_type()) {
                    return Err(invalid(
                        format!("{at}.Type"),
                        format!("{t} does not match the owner's type {}", owner.hms_type()),
                    ));
                }
            }
        }
        if e.id != e.mac_address.smd_id() {
            return Err(invalid(
                format!("{at}.ID"),
                format!(
                    "{:?} does not match MACAddress {} (expected {:?})",
                    e.id,
                    e.mac_address,
                    e.mac_address.smd_id()
                ),
            ));
        }
        if !macs.insert(e.mac_address) {
            return Err(invalid(
                format!("{at}.MACAddress"),
                format!("{} listed twice", e.mac_address),
            ));
        }
    }
    Ok(())
}
