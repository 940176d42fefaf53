//! Virtual nodes: many booting machines in one process, for the demo and `cairn bench
//! bootstorm`. Each one does what a real node's firmware and cloud-init do against the rack
//! agent: DHCP DISCOVER/REQUEST, the iPXE boot script over HTTP, then cloud-init's meta-data,
//! user-data and vendor-data.
//!
//! Without root there is no boot network to broadcast on, so a virtual node poses as a client
//! behind a DHCP relay: it sends from an ephemeral UDP port on `relay_ip` with `giaddr =
//! relay_ip`, and the server (in relay mode, bound to a loopback address) answers by unicast to
//! the datagram's source. The boot subnet is a loopback one (say 127.64.0.0/16, relay
//! 127.64.0.1), so that every leased address is local: the node then opens its HTTP
//! connection *from* its leased address, which is how the server tells nodes apart.
//!
//! ```no_run
//! # async fn f() {
//! use std::time::Duration;
//! use cairn_sim::node::{BootTarget, NodeSpec, boot_all};
//! let target = BootTarget::new("127.0.0.1:6767".parse().unwrap(), "127.64.0.1".parse().unwrap())
//!     .with_retry(Duration::from_secs(1));
//! let specs = (0..10_000u32)
//!     .map(|i| NodeSpec::new(cairn_sim::node::mac_of(i)))
//!     .collect();
//! let results = boot_all(specs, target, 512, Duration::from_secs(60)).await;
//! let summary = cairn_sim::node::BootSummary::of(&results);
//! println!("{} of {} booted, p99 DHCP {:?}", summary.booted, summary.nodes, summary.dhcp.p99);
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cairn_protocols::MacAddr;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

mod dhcp;
mod error;
mod http;
mod rng;
mod summary;

pub use error::{FailReason, NodeError, Step};
pub use summary::{BootSummary, Latency};

/// RFC 2131 §4.1's first retransmission interval ("4 seconds" for 10 Mb/s Ethernet).
pub const RFC_RETRY: Duration = Duration::from_secs(4);

/// DHCP option 93 for x86-64 UEFI (what iPXE's `ipxe.efi` sends).
pub const ARCH_X86_64_EFI: u16 = 7;

/// One virtual node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpec {
    /// Its MAC (`chaddr`, and the `?mac=` of the boot script).
    pub mac: MacAddr,
    /// Option 93, the client architecture: 0 BIOS, 7 x86-64 UEFI, 11 ARM64 UEFI.
    pub arch: u16,
    /// Whether it is iPXE already (option 77 "iPXE"), which servers answer with the boot
    /// script's URL rather than an iPXE binary to chain-load.
    pub ipxe: bool,
}

impl NodeSpec {
    /// An iPXE x86-64 UEFI node: what boots in one step.
    pub fn new(mac: MacAddr) -> NodeSpec {
        NodeSpec {
            mac,
            arch: ARCH_X86_64_EFI,
            ipxe: true,
        }
    }
}

/// A locally administered, unicast MAC for virtual node `index`: `02:cb:` and the index.
pub fn mac_of(index: u32) -> MacAddr {
    let [a, b, c, d] = index.to_be_bytes();
    MacAddr([0x02, 0xcb, a, b, c, d])
}

/// Where the nodes boot from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootTarget {
    /// The DHCP server (in relay mode).
    pub dhcp: SocketAddr,
    /// The relay's address: `giaddr`, and the nodes' UDP source address. It selects the boot
    /// subnet on the server.
    pub relay_ip: Ipv4Addr,
    /// The HTTP server for the boot script and cloud-init; `None`: the host and port of the
    /// boot file URL the ACK carried.
    pub http: Option<SocketAddr>,
    /// The first DHCP retransmission interval; it doubles on each retransmission (up to 64 s),
    /// ±25 %.
    pub dhcp_retry: Duration,
}

impl BootTarget {
    /// Serving from `dhcp`, relayed through `relay_ip`, HTTP from the boot file URL,
    /// retransmitting as RFC 2131 says ([`RFC_RETRY`]).
    pub fn new(dhcp: SocketAddr, relay_ip: Ipv4Addr) -> BootTarget {
        BootTarget {
            dhcp,
            relay_ip,
            http: None,
            dhcp_retry: RFC_RETRY,
        }
    }

    /// The HTTP server to use whatever the boot file says.
    pub fn with_http(mut self, http: SocketAddr) -> BootTarget {
        self.http = Some(http);
        self
    }

    /// The first DHCP retransmission interval (benchmarks use about 1 s).
    pub fn with_retry(mut self, interval: Duration) -> BootTarget {
        self.dhcp_retry = interval;
        self
    }
}

/// How long each step took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepTimes {
    /// DISCOVER to ACK, retransmissions included.
    pub dhcp: Duration,
    /// Connecting from the leased address and fetching the script.
    pub bootscript: Duration,
    /// `GET /cloud-init/meta-data`.
    pub meta_data: Duration,
    /// `GET /cloud-init/user-data`.
    pub user_data: Duration,
    /// `GET /cloud-init/vendor-data`.
    pub vendor_data: Duration,
}

impl StepTimes {
    /// All steps together.
    pub fn total(&self) -> Duration {
        self.dhcp + self.bootscript + self.meta_data + self.user_data + self.vendor_data
    }
}

/// A completed boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOutcome {
    /// The leased address.
    pub ip: Ipv4Addr,
    /// The boot file the ACK named (option 67 or the `file` field).
    pub bootfile: String,
    /// The iPXE script.
    pub script: String,
    /// Time per step.
    pub times: StepTimes,
}

/// The cloud-init documents, in the order cloud-init fetches them.
const CLOUD_INIT: [(Step, &str); 3] = [
    (Step::MetaData, "/cloud-init/meta-data"),
    (Step::UserData, "/cloud-init/user-data"),
    (Step::VendorData, "/cloud-init/vendor-data"),
];

/// Boots one node: DHCP, the boot script, then meta-data, user-data and vendor-data, over
/// one keep-alive connection from the leased address. The script must be an iPXE script
/// (`#!ipxe`), meta-data must name an `instance-id`, vendor-data may be absent (404), as
/// cloud-init has it. `timeout` bounds the whole boot.
pub async fn boot(
    spec: &NodeSpec,
    target: &BootTarget,
    timeout: Duration,
) -> Result<BootOutcome, NodeError> {
    let fail = |(step, reason)| NodeError {
        mac: spec.mac,
        step,
        reason,
    };
    let deadline = Instant::now() + timeout;
    let mut rng = rng::Rng::for_node(&spec.mac.0);
    let mut times = StepTimes::default();

    let started = Instant::now();
    let lease = dhcp::lease(spec, target, &mut rng, deadline)
        .await
        .map_err(fail)?;
    times.dhcp = started.elapsed();

    let plan = http::plan(&lease.bootfile, target.http, spec.mac)
        .map_err(|r| fail((Step::Bootscript, r)))?;
    let script = documents(lease.ip, &plan, deadline, &mut times)
        .await
        .map_err(fail)?;
    Ok(BootOutcome {
        ip: lease.ip,
        bootfile: lease.bootfile,
        script,
        times,
    })
}

/// The HTTP part of a boot alone, for a node that has its address already: the boot script
/// at `/boot/v1/bootscript?mac=` and the cloud-init documents from `http`, over one
/// keep-alive connection from `ip`, checked as [`boot`] checks them (its DHCP time is zero
/// and its boot file empty). `cairn bench bootstorm` runs it against the agent and against
/// a static file server serving the same bytes.
pub async fn fetch_boot_documents(
    spec: &NodeSpec,
    ip: Ipv4Addr,
    http: SocketAddr,
    timeout: Duration,
) -> Result<BootOutcome, NodeError> {
    let deadline = Instant::now() + timeout;
    let plan = http::plan("", Some(http), spec.mac).map_err(|reason| NodeError {
        mac: spec.mac,
        step: Step::Bootscript,
        reason,
    })?;
    let mut times = StepTimes::default();
    let script = documents(ip, &plan, deadline, &mut times)
        .await
        .map_err(|(step, reason)| NodeError {
            mac: spec.mac,
            step,
            reason,
        })?;
    Ok(BootOutcome {
        ip,
        bootfile: String::new(),
        script,
        times,
    })
}

/// The boot script, then meta-data, user-data and vendor-data, from `ip` over one session;
/// the time of each goes into `times`.
async fn documents(
    ip: Ipv4Addr,
    plan: &http::Plan,
    deadline: Instant,
    times: &mut StepTimes,
) -> Result<String, (Step, FailReason)> {
    let mut session = http::Session::new(ip, plan);
    let started = Instant::now();
    let script = fetch(&mut session, &plan.script, deadline)
        .await
        .and_then(|(status, body)| {
            expect_ok(&plan.script, status)?;
            let script = String::from_utf8_lossy(&body).into_owned();
            if !script.starts_with("#!ipxe") {
                return Err(FailReason::Protocol(
                    "the boot script does not start with #!ipxe".to_owned(),
                ));
            }
            Ok(script)
        })
        .map_err(|r| (Step::Bootscript, r))?;
    times.bootscript = started.elapsed();

    for (step, path) in CLOUD_INIT {
        let started = Instant::now();
        let (status, body) = fetch(&mut session, path, deadline)
            .await
            .map_err(|r| (step, r))?;
        let checked = match step {
            // cloud-init treats missing vendor-data as none.
            Step::VendorData if status == 404 => Ok(()),
            Step::MetaData => expect_ok(path, status).and_then(|()| {
                if String::from_utf8_lossy(&body).contains("instance-id") {
                    Ok(())
                } else {
                    Err(FailReason::Protocol(
                        "meta-data names no instance-id".to_owned(),
                    ))
                }
            }),
            _ => expect_ok(path, status),
        };
        checked.map_err(|r| (step, r))?;
        let took = started.elapsed();
        match step {
            Step::MetaData => times.meta_data = took,
            Step::UserData => times.user_data = took,
            _ => times.vendor_data = took,
        }
    }
    Ok(script)
}

async fn fetch(
    session: &mut http::Session,
    path: &str,
    deadline: Instant,
) -> Result<(u16, hyper::body::Bytes), FailReason> {
    tokio::time::timeout_at(deadline, session.get(path))
        .await
        .unwrap_or(Err(FailReason::Timeout { ignored: None }))
}

fn expect_ok(path: &str, status: u16) -> Result<(), FailReason> {
    if status == 200 {
        Ok(())
    } else {
        Err(FailReason::Status {
            path: path.to_owned(),
            status,
        })
    }
}

/// Boots every node, at most `concurrency` at once (at least one), each within `timeout`.
/// The results are in the order of `specs`.
///
/// # Panics
/// Re-raises a panic of a node's boot (a bug, not a failed boot).
pub async fn boot_all(
    specs: Vec<NodeSpec>,
    target: BootTarget,
    concurrency: usize,
    timeout: Duration,
) -> Vec<Result<BootOutcome, NodeError>> {
    let target = Arc::new(target);
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut results: Vec<Option<Result<BootOutcome, NodeError>>> =
        std::iter::repeat_with(|| None).take(specs.len()).collect();
    let mut running = JoinSet::new();
    for (index, spec) in specs.into_iter().enumerate() {
        // Waiting for a slot before spawning keeps the task count (and memory) bounded too.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            unreachable!("the semaphore is never closed");
        };
        while let Some(done) = running.try_join_next() {
            store(&mut results, done);
        }
        let target = Arc::clone(&target);
        running.spawn(async move {
            let result = boot(&spec, &target, timeout).await;
            drop(slot);
            (index, result)
        });
    }
    while let Some(done) = running.join_next().await {
        store(&mut results, done);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| unreachable!("every node's task reported")))
        .collect()
}

type Done = (usize, Result<BootOutcome, NodeError>);

fn store(
    results: &mut [Option<Result<BootOutcome, NodeError>>],
    done: Result<Done, tokio::task::JoinError>,
) {
    match done {
        Ok((index, result)) => results[index] = Some(result),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Nothing aborts these tasks; a cancelled one means the runtime is shutting down.
        Err(e) => panic!("a node's boot task was cancelled: {e}"),
    }
}
