//! The agent's integration tests, one binary: discovery against the Redfish simulator
//! (generated BMCs, every vendor mockup, faults, scans) and against sushy-tools.
//!
//! Simulated BMCs listen on loopback addresses under 127.42.0.0/16, one /24 per test, so
//! tests can run in parallel and beside other crates' tests.

// Test helpers panic on anything unexpected; that is their job.
#![allow(clippy::unwrap_used)]

mod faults;
mod generated;
mod mockups;
mod runtime;
mod scan;
mod sessions;
mod sushy;
mod vendor_shapes;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use cairn_agent::config::BmcConfig;
use cairn_agent::discovery::{Discoverer, DiscoveryOptions, NamedTarget, Namer, Target};
use cairn_agent::redfish::{BmcAddress, ClientOptions, Credentials, RedfishClient, Scheme};
use cairn_protocols::{DiscoveryOutcome, EndpointDiscovery, Xname};
use futures::StreamExt;

/// Installs the crypto provider and a test log subscriber (`RUST_LOG` to see more).
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// The /24 a test's simulated BMCs live in: `127.42.<n>.0/24`.
pub fn subnet(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 42, n, 0)
}

/// A discoverer with `bmc`'s settings and the sim's default credentials.
pub fn discoverer(
    bmc: &BmcConfig,
    ca_pem: Option<&str>,
    credentials: Option<Credentials>,
) -> Discoverer {
    let mut options = ClientOptions::from_config(bmc).unwrap();
    options.ca_pem = ca_pem.map(|p| p.as_bytes().to_vec());
    let client = RedfishClient::new(&options).unwrap();
    Discoverer::new(client, DiscoveryOptions::from_config(bmc), credentials)
}

/// The simulator's default credentials (`admin`/`password`).
pub fn sim_credentials() -> Credentials {
    let c = cairn_sim::Credentials::default();
    Credentials::new(c.username, c.password)
}

/// Names the simulator's BMCs within scope `[cabinet]` from subnet `net`/24.
pub fn name_bmcs(sim: &cairn_sim::Handle, cabinet: u32, net: Ipv4Addr) -> Vec<NamedTarget> {
    let namer = Namer::new(
        &[cabinet],
        &[format!("{net}/24").parse().unwrap()],
        &[443],
        &BTreeMap::new(),
    );
    let targets = sim
        .bmcs()
        .iter()
        .map(|b| Target::new(BmcAddress::parse(b.url(), Scheme::Https).unwrap()));
    let (named, errors) = namer.plan(targets);
    assert!(errors.is_empty(), "{errors:?}");
    named
}

/// Discovers every target, returning the reports keyed by BMC xname (each validated as the
/// coordinator would).
pub async fn discover_all(
    discoverer: &Discoverer,
    targets: Vec<NamedTarget>,
) -> BTreeMap<Xname, EndpointDiscovery> {
    let expected = targets.len();
    let reports: Vec<EndpointDiscovery> = discoverer.discover(targets).collect().await;
    assert_eq!(reports.len(), expected);
    reports
        .into_iter()
        .map(|d| {
            d.validate().unwrap_or_else(|e| panic!("{e}: {d:#?}"));
            (d.endpoint.id.clone(), d)
        })
        .collect()
}

/// The parts of a Found outcome; panics with the report on a failure.
pub fn found(
    d: &EndpointDiscovery,
) -> (
    &[cairn_protocols::Component],
    &[cairn_protocols::ComponentEndpoint],
    &[cairn_protocols::EthernetInterface],
) {
    match &d.outcome {
        DiscoveryOutcome::Found {
            components,
            component_endpoints,
            interfaces,
        } => (components, component_endpoints, interfaces),
        DiscoveryOutcome::Failed { status, detail } => {
            panic!("{} failed: {status}: {detail}", d.endpoint.id)
        }
    }
}

/// `(status, detail)` of a Failed outcome; panics on a Found one.
pub fn failure(d: &EndpointDiscovery) -> (&str, &str) {
    match &d.outcome {
        DiscoveryOutcome::Failed { status, detail } => (status, detail),
        DiscoveryOutcome::Found { .. } => panic!("{} was found: {d:#?}", d.endpoint.id),
    }
}
