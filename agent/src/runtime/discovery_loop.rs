//! When discovery runs: at start, every `rediscover_interval`, and on the Watch stream's
//! DiscoverRequests. Runs never overlap: requests arriving during a run are merged into the
//! next one. Each BMC's result goes to the outbox as soon as it is ready; `DiscoverDone` for
//! each request follows its results (the outbox keeps order).
//!
//! A whole-scope run covers the configured BMC URLs, the subnet scan, and every enabled
//! RedfishEndpoint the coordinators hold for the scope (with its own credentials, if an
//! operator set them). A request naming BMCs covers just those.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cairn_protocols::agent::{DiscoverRequest, ReportItem};
use cairn_protocols::{EndpointDiscovery, Xname};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Ctx;
use super::shutdown::Shutdown;
use crate::config::AgentConfig;
use crate::discovery::{Discoverer, DiscoveryRun, Namer, NamingError, Target};

/// `meta` counter: the highest discover request whose DiscoverDone is in the outbox.
pub(super) const DISCOVER_AFTER: &str = "discover_after";

/// A far-away instant: no periodic run.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

pub(super) struct DiscoveryLoop {
    pub ctx: Arc<Ctx>,
    pub discoverer: Discoverer,
    pub namer: Namer,
    pub config: Arc<AgentConfig>,
    pub interval: Option<Duration>,
}

impl DiscoveryLoop {
    pub(super) async fn run(
        self,
        mut requests: mpsc::Receiver<DiscoverRequest>,
        mut shutdown: Shutdown,
    ) {
        let mut done_up_to = self.ctx.store.counter(DISCOVER_AFTER).unwrap_or(0);
        let mut previous: HashMap<Xname, EndpointDiscovery> = HashMap::new();
        let mut next_full = Instant::now();
        loop {
            let mut pending = Vec::new();
            let full_due = tokio::select! {
                () = tokio::time::sleep_until(next_full) => true,
                r = requests.recv() => match r {
                    Some(r) => {
                        pending.push(r);
                        false
                    }
                    None => return,
                },
                () = shutdown.wait() => return,
            };
            while let Ok(r) = requests.try_recv() {
                pending.push(r);
            }
            pending.retain(|r| r.id > done_up_to);
            if !full_due && pending.is_empty() {
                continue;
            }
            let everything = full_due || pending.iter().any(|r| r.targets.is_empty());
            let named: BTreeSet<Xname> = pending.iter().flat_map(|r| r.targets.clone()).collect();
            let Some(()) = shutdown
                .clone()
                .guard(self.run_once(everything, &named, &mut previous))
                .await
            else {
                return;
            };
            if let Some(max) = pending.iter().map(|r| r.id).max() {
                let items = pending
                    .iter()
                    .map(|r| ReportItem::DiscoverDone(r.id))
                    .collect();
                if let Err(e) = self
                    .ctx
                    .reporter
                    .commit(items, Vec::new(), vec![(DISCOVER_AFTER, max)])
                    .await
                {
                    tracing::warn!(error = %e, "discover requests not marked done");
                } else {
                    done_up_to = max;
                }
            }
            if everything {
                next_full = Instant::now() + self.interval.unwrap_or(NEVER);
            }
        }
    }

    /// The BMCs the coordinators hold for the scope (all enabled ones, or those `only` names),
    /// with their credentials; plus, for named BMCs the coordinators do not hold, where
    /// discovery last found them.
    async fn known(&self, only: Option<&BTreeSet<Xname>>) -> Vec<Target> {
        let bmcs = &self.ctx.bmcs;
        let mut targets = Vec::new();
        let mut covered = BTreeSet::new();
        for e in bmcs.endpoints() {
            if !e.enabled || only.is_some_and(|o| !o.contains(&e.id)) || e.fqdn.is_empty() {
                continue;
            }
            match bmcs.resolve(&e.id, &e.fqdn).await {
                Ok(address) => {
                    covered.insert(e.id.clone());
                    targets.push(Target {
                        address,
                        xname: Some(e.id.clone()),
                        credentials: bmcs.own_credentials(&e.id),
                    });
                }
                Err(err) => {
                    tracing::warn!(bmc = %e.id, error = %err.detail(), "unusable BMC address")
                }
            }
        }
        for x in only.into_iter().flatten() {
            if covered.contains(x) {
                continue;
            }
            match bmcs.discovered_address(x) {
                Some(address) => targets.push(Target {
                    address,
                    xname: Some(x.clone()),
                    credentials: bmcs.own_credentials(x),
                }),
                None => {
                    tracing::warn!(bmc = %x, "asked to discover a BMC this agent knows no address for")
                }
            }
        }
        targets
    }

    async fn run_once(
        &self,
        everything: bool,
        named: &BTreeSet<Xname>,
        previous: &mut HashMap<Xname, EndpointDiscovery>,
    ) {
        let ctx = &self.ctx;
        ctx.status.discovery_started();
        let mut targets = self.known((!everything).then_some(named)).await;
        if everything {
            let (found, errors) = self.discoverer.find_targets(&self.config.bmc).await;
            for e in errors {
                tracing::warn!(error = %e, "skipping a configured BMC URL");
            }
            targets.extend(found);
        }
        let (mut named_targets, errors) = self.namer.plan(targets);
        for e in errors {
            match e {
                // The same BMC reached under two names (its endpoint's and the scan's).
                NamingError::Duplicate { .. } => tracing::debug!(error = %e, "BMC not named"),
                _ => tracing::warn!(error = %e, "BMC not named: not discovered"),
            }
        }
        named_targets.retain(|t| !ctx.bmcs.is_disabled(&t.xname));
        tracing::info!(bmcs = named_targets.len(), everything, "discovery started");
        let addresses: HashMap<Xname, _> = named_targets
            .iter()
            .map(|t| (t.xname.clone(), t.address.clone()))
            .collect();
        let mut run = DiscoveryRun::default();
        let mut results = self.discoverer.discover(named_targets);
        while let Some(d) = results.next().await {
            if let Err(e) = d.validate() {
                // Sent, it would make the coordinators refuse the whole report it rides in.
                tracing::error!(bmc = %d.endpoint.id, error = %e, "discarding an invalid discovery result");
                continue;
            }
            let id = d.endpoint.id.clone();
            if let Some(address) = addresses.get(&id) {
                ctx.bmcs.record_discovery(&d, address);
            }
            run.record(&d, previous.get(&id));
            previous.insert(id, d.clone());
            ctx.reporter.report(vec![ReportItem::Discovery(d)]).await;
        }
        ctx.nodes_changed.send_modify(|n| *n += 1);
        ctx.status
            .discovery_finished(run.found, run.changed, run.failed);
        tracing::info!(
            found = run.found,
            changed = run.changed,
            failed = run.failed,
            "discovery finished"
        );
    }
}
