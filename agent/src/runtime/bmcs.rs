//! What the agent knows of its BMCs: the RedfishEndpoints the coordinators hold for its scope
//! (with operator-set credentials, from the Watch stream), where discovery reached each BMC,
//! which nodes sit behind it, and one Redfish session per BMC shared by power tasks and the
//! power-status poll (so requests to one BMC stay bounded whatever runs).
//!
//! Credentials never reach a log: [`BmcEndpoint`] and [`Credentials`] redact them in `Debug`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cairn_protocols::agent::BmcEndpoint;
use cairn_protocols::{ComponentEndpointType, DiscoveryOutcome, EndpointDiscovery, Xname};

use crate::discovery::scan::probe;
use crate::redfish::{BmcAddress, BmcSession, Credentials, RedfishClient, RedfishError, Scheme};

/// A node as the power-status poll reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    /// Its BMC.
    pub bmc: Xname,
    /// Its ComputerSystem's path.
    pub system_path: String,
}

#[derive(Debug)]
struct CachedSession {
    address: BmcAddress,
    credentials: Option<Credentials>,
    session: Arc<BmcSession>,
}

#[derive(Debug, Default)]
struct Inner {
    endpoints: HashMap<Xname, BmcEndpoint>,
    discovered: HashMap<Xname, BmcAddress>,
    nodes: BTreeMap<Xname, NodeRef>,
    sessions: HashMap<Xname, CachedSession>,
}

/// The BMC registry (see the module docs).
#[derive(Debug)]
pub struct Bmcs {
    inner: RwLock<Inner>,
    client: RedfishClient,
    defaults: Option<Credentials>,
    schemes: Vec<Scheme>,
}

impl Bmcs {
    /// A registry using `client`, with `defaults` for BMCs without their own credentials and
    /// `schemes` to try on a BMC known only by `host:port`.
    pub fn new(client: RedfishClient, defaults: Option<Credentials>, schemes: Vec<Scheme>) -> Bmcs {
        Bmcs {
            inner: RwLock::default(),
            client,
            defaults,
            schemes,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The endpoints of a full Watch snapshot replace those held.
    pub fn replace_endpoints(&self, endpoints: Vec<BmcEndpoint>) {
        let mut inner = self.write();
        inner.endpoints = endpoints
            .into_iter()
            .filter(|e| !e.removed)
            .map(|e| (e.id.clone(), e))
            .collect();
    }

    /// An endpoint added, changed or removed.
    pub fn update_endpoint(&self, endpoint: BmcEndpoint) {
        let mut inner = self.write();
        if endpoint.removed {
            inner.endpoints.remove(&endpoint.id);
            inner.sessions.remove(&endpoint.id);
        } else {
            inner.endpoints.insert(endpoint.id.clone(), endpoint);
        }
    }

    /// The endpoints held.
    pub fn endpoints(&self) -> Vec<BmcEndpoint> {
        self.read().endpoints.values().cloned().collect()
    }

    /// Whether the coordinators hold BMC `id` as disabled.
    pub fn is_disabled(&self, id: &Xname) -> bool {
        self.read().endpoints.get(id).is_some_and(|e| !e.enabled)
    }

    /// The credentials an operator set for BMC `id`, if any (else the defaults apply).
    pub fn own_credentials(&self, id: &Xname) -> Option<Credentials> {
        let inner = self.read();
        let e = inner.endpoints.get(id)?;
        (!e.username.is_empty() || !e.password.is_empty())
            .then(|| Credentials::new(e.username.clone(), e.password.clone()))
    }

    /// Where BMC `id` was last reached (by discovery, or by a probe of its FQDN).
    pub fn discovered_address(&self, id: &Xname) -> Option<BmcAddress> {
        self.read().discovered.get(id).cloned()
    }

    /// Records a discovery result reached at `address`: a complete one replaces the BMC's
    /// nodes; a failed one keeps what was known (the BMC may be down for a moment).
    pub fn record_discovery(&self, d: &EndpointDiscovery, address: &BmcAddress) {
        let bmc = d.endpoint.id.clone();
        let mut inner = self.write();
        inner.discovered.insert(bmc.clone(), address.clone());
        let DiscoveryOutcome::Found {
            component_endpoints,
            ..
        } = &d.outcome
        else {
            return;
        };
        inner.nodes.retain(|_, n| n.bmc != bmc);
        for ce in component_endpoints {
            if ce.component_endpoint_type != ComponentEndpointType::ComputerSystem {
                continue;
            }
            if let Some(path) = ce.odata_id.clone().filter(|p| !p.is_empty()) {
                inner.nodes.insert(
                    ce.id.clone(),
                    NodeRef {
                        bmc: bmc.clone(),
                        system_path: path,
                    },
                );
            }
        }
    }

    /// Every node discovery found, by xname.
    pub fn nodes(&self) -> BTreeMap<Xname, NodeRef> {
        self.read().nodes.clone()
    }

    /// How many nodes discovery found.
    pub fn node_count(&self) -> usize {
        self.read().nodes.len()
    }

    /// A BMC's address from its FQDN as the coordinators store it (`host`, `host:port` or a
    /// URL). Without a scheme: the one discovery used for that host and port, else the
    /// configured schemes probed in order.
    pub async fn resolve(&self, bmc: &Xname, fqdn: &str) -> Result<BmcAddress, RedfishError> {
        let first = self.schemes.first().copied().unwrap_or(Scheme::Https);
        let parsed = BmcAddress::parse(fqdn, first).map_err(RedfishError::Address)?;
        if fqdn.contains("://") {
            return Ok(parsed);
        }
        if let Some(known) = self.discovered_address(bmc)
            && known.host.eq_ignore_ascii_case(&parsed.host)
            && (known.port == parsed.port || !has_port(fqdn))
        {
            return Ok(known);
        }
        if self.schemes.len() > 1 {
            let port = if has_port(fqdn) {
                Some(parsed.port)
            } else {
                None
            };
            for scheme in &self.schemes {
                let port = port.unwrap_or(scheme.default_port());
                if let Some(a) = probe(&self.client, &parsed.host, port, &[*scheme]).await {
                    // Later tasks on this BMC need not probe again.
                    self.write().discovered.insert(bmc.clone(), a.clone());
                    return Ok(a);
                }
            }
        }
        Ok(parsed)
    }

    /// The shared session for BMC `bmc` at `address`, with its current credentials.
    pub fn session(
        &self,
        bmc: &Xname,
        address: &BmcAddress,
    ) -> Result<Arc<BmcSession>, RedfishError> {
        let credentials = self.own_credentials(bmc).or_else(|| self.defaults.clone());
        if let Some(s) = self.read().sessions.get(bmc)
            && s.address == *address
            && s.credentials == credentials
        {
            return Ok(Arc::clone(&s.session));
        }
        let session = Arc::new(self.client.session(address, credentials.clone())?);
        self.write().sessions.insert(
            bmc.clone(),
            CachedSession {
                address: address.clone(),
                credentials,
                session: Arc::clone(&session),
            },
        );
        Ok(session)
    }
}

/// Whether a scheme-less `host:port` names a port (IPv6 as `[v6]:port`).
fn has_port(fqdn: &str) -> bool {
    match fqdn.rsplit_once(':') {
        Some((host, port)) => {
            (!host.contains(':') || host.ends_with(']')) && port.parse::<u16>().is_ok()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redfish::ClientOptions;

    fn bmcs() -> Bmcs {
        let client = RedfishClient::new(&ClientOptions::default()).unwrap();
        Bmcs::new(
            client,
            Some(Credentials::new("root", "default")),
            vec![Scheme::Https],
        )
    }

    fn endpoint(id: &str, user: &str, password: &str) -> BmcEndpoint {
        BmcEndpoint {
            id: id.parse().unwrap(),
            fqdn: "127.0.0.9:8443".into(),
            username: user.into(),
            password: password.into(),
            enabled: true,
            removed: false,
        }
    }

    #[test]
    fn endpoint_credentials_override_the_defaults() {
        let b = bmcs();
        let x: Xname = "x1c0s0b0".parse().unwrap();
        b.replace_endpoints(vec![endpoint("x1c0s0b0", "", "")]);
        assert_eq!(b.own_credentials(&x), None);
        b.update_endpoint(endpoint("x1c0s0b0", "admin", "s3cret"));
        assert_eq!(
            b.own_credentials(&x),
            Some(Credentials::new("admin", "s3cret"))
        );
        let mut gone = endpoint("x1c0s0b0", "", "");
        gone.removed = true;
        b.update_endpoint(gone);
        assert!(b.endpoints().is_empty());
    }

    #[tokio::test]
    async fn fqdns_resolve_to_the_discovered_scheme() {
        let b = bmcs();
        let x: Xname = "x1c0s0b0".parse().unwrap();
        let d = EndpointDiscovery {
            endpoint: cairn_protocols::RedfishEndpoint::new(x.clone()),
            outcome: DiscoveryOutcome::failed(
                cairn_protocols::DiscoveryStatus::HttpsGetFailed,
                "x",
            ),
        };
        let http = BmcAddress::new(Scheme::Http, "127.0.0.9", 8000);
        b.record_discovery(&d, &http);
        assert_eq!(b.resolve(&x, "127.0.0.9:8000").await.unwrap(), http);
        let other = b.resolve(&x, "127.0.0.9:8443").await.unwrap();
        assert_eq!(other.scheme, Scheme::Https);
        assert_eq!(
            b.resolve(&x, "http://10.0.0.1").await.unwrap(),
            BmcAddress::new(Scheme::Http, "10.0.0.1", 80)
        );
        assert!(has_port("[fd00::1]:443") && !has_port("fd00::1") && !has_port("host"));
    }
}
