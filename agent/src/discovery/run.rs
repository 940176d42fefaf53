//! Running discovery: finding targets, crawling each BMC under its time limit, yielding
//! reports as they are ready.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cairn_protocols::EndpointDiscovery;
use futures::{Stream, StreamExt};
use tracing::Instrument;

use super::crawl::{CrawlError, crawl};
use super::scan::{ScanSpec, probe, scan};
use super::{NamedTarget, Target, report};
use crate::config::{AgentConfig, BmcConfig, ConfigError};
use crate::redfish::{
    AddressError, BmcAddress, ClientOptions, Credentials, RedfishClient, RedfishError, Scheme,
};

/// How discovery runs, beyond the client's own settings.
#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    /// Limit for one BMC's whole crawl.
    pub bmc_timeout: Duration,
    /// BMCs crawled at once.
    pub bmc_concurrency: usize,
    /// Most members accepted in one collection.
    pub max_collection_members: usize,
}

impl DiscoveryOptions {
    /// The options of a `[bmc]` configuration.
    pub fn from_config(bmc: &BmcConfig) -> DiscoveryOptions {
        DiscoveryOptions {
            bmc_timeout: bmc.bmc_timeout(),
            bmc_concurrency: bmc.bmc_concurrency,
            max_collection_members: bmc.max_collection_members,
        }
    }
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions::from_config(&BmcConfig::default())
    }
}

/// Discovery could not start.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// A file the configuration names is unusable.
    #[error("configuration")]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built (e.g. a bad CA file).
    #[error("Redfish client")]
    Client(#[from] RedfishError),
}

/// Runs discovery (cheap to clone; clones share the HTTP client).
#[derive(Debug, Clone)]
pub struct Discoverer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: RedfishClient,
    options: DiscoveryOptions,
    credentials: Option<Credentials>,
}

impl Discoverer {
    /// A discoverer using `client`, with `credentials` for BMCs that have none of their own.
    pub fn new(
        client: RedfishClient,
        options: DiscoveryOptions,
        credentials: Option<Credentials>,
    ) -> Discoverer {
        Discoverer {
            inner: Arc::new(Inner {
                client,
                options,
                credentials,
            }),
        }
    }

    /// A discoverer for a configuration: reads the password and CA files, builds the client.
    pub fn from_config(config: &AgentConfig) -> Result<Discoverer, DiscoveryError> {
        let client = RedfishClient::new(&ClientOptions::from_config(&config.bmc)?)?;
        Ok(Discoverer::new(
            client,
            DiscoveryOptions::from_config(&config.bmc),
            config.bmc.credentials()?,
        ))
    }

    /// The HTTP client (power control uses the same one).
    pub fn client(&self) -> &RedfishClient {
        &self.inner.client
    }

    /// The configured BMCs: `urls` (those without a scheme are probed with `schemes`; one that
    /// does not answer is still a target, so its failure gets reported) and a scan of
    /// `subnets`. Unparsable URLs are returned apart.
    pub async fn find_targets(&self, bmc: &BmcConfig) -> (Vec<Target>, Vec<AddressError>) {
        let client = &self.inner.client;
        let first = bmc.schemes.first().copied().unwrap_or(Scheme::Https);
        let mut targets = Vec::new();
        let mut errors = Vec::new();
        for url in &bmc.urls {
            let address = match BmcAddress::parse(url, first) {
                Ok(a) => a,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let address = if url.contains("://") {
                address
            } else {
                let port = explicit_port(url).unwrap_or(address.port);
                let probed = probe(client, &address.host, port, &bmc.schemes).await;
                probed.unwrap_or(address)
            };
            targets.push(Target::new(address));
        }
        if !bmc.subnets.is_empty() {
            let found = scan(client, &ScanSpec::from_config(bmc)).await;
            targets.extend(found.into_iter().map(Target::new));
        }
        (targets, errors)
    }

    /// Discovers one BMC: crawl within the per-BMC limit, log out, report.
    pub async fn discover_one(&self, target: &NamedTarget) -> EndpointDiscovery {
        let span = tracing::info_span!("discover", bmc = %target.xname, address = %target.address);
        async {
            let attempted = SystemTime::now();
            let credentials = target
                .credentials
                .clone()
                .or_else(|| self.inner.credentials.clone());
            let crawled = match self.inner.client.session(&target.address, credentials) {
                Err(e) => Err(CrawlError::from(e)),
                Ok(session) => {
                    let limit = self.inner.options.bmc_timeout;
                    let members = self.inner.options.max_collection_members;
                    let result = tokio::time::timeout(limit, crawl(&session, members))
                        .await
                        .unwrap_or(Err(CrawlError::Timeout { after: limit }));
                    session.logout().await;
                    result
                }
            };
            match &crawled {
                Ok(inv) => tracing::info!(systems = inv.systems.len(), "discovered"),
                Err(e) => tracing::warn!(
                    status = %e.discovery_status(),
                    error = %e.detail(),
                    "discovery failed"
                ),
            }
            report::build(target, crawled, attempted)
        }
        .instrument(span)
        .await
    }

    /// Discovers `targets`, at most `bmc_concurrency` at once, yielding each BMC's report as
    /// soon as it is ready.
    pub fn discover(
        &self,
        targets: Vec<NamedTarget>,
    ) -> impl Stream<Item = EndpointDiscovery> + Send + 'static {
        let this = self.clone();
        let concurrency = self.inner.options.bmc_concurrency.max(1);
        futures::stream::iter(targets)
            .map(move |target| {
                let this = this.clone();
                async move { this.discover_one(&target).await }
            })
            .buffer_unordered(concurrency)
    }
}

/// The port written in a scheme-less `host:port` (IPv6 as `[v6]:port`).
fn explicit_port(url: &str) -> Option<u16> {
    let (host, port) = url.trim().rsplit_once(':')?;
    if host.contains(':') && !host.ends_with(']') {
        return None;
    }
    port.trim_end_matches('/').parse().ok()
}
