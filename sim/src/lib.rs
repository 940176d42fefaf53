//! Simulated hardware for Cairn's demo, benchmarks and tests: Redfish BMCs, many per process.
//!
//! ```no_run
//! # async fn example() -> Result<(), cairn_sim::SimError> {
//! let config = cairn_sim::SimConfig::builder().count(100).systems(2).tls(true).build()?;
//! let sim = cairn_sim::start(config).await?;
//! for bmc in sim.bmcs() {
//!     println!("{} {:?}", bmc.url(), bmc.info().systems[0].macs);
//! }
//! if let Some(bmc) = sim.bmc(3) {
//!     bmc.set_faults([cairn_sim::Fault::Hang]); // times out from now on
//! }
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Each BMC listens on its own address and/or port ([`Layout`]) and serves either generated,
//! DMTF-shaped resources whose MACs and UUIDs follow from its index ([`ids`]), or a captured
//! vendor [`Mockup`] verbatim. Either way its systems have a live power state
//! ([`PowerState`]) driven by `ComputerSystem.Reset` with a configurable delay, Basic auth and
//! Redfish sessions guard everything but the service root, TLS is optional, and [`Fault`]s can be
//! switched on and off per BMC at runtime through the [`Handle`].

mod bmc;
mod config;
mod error;
mod faults;
mod generated;
mod handle;
pub mod ids;
mod mockup;
pub mod node;
mod power;
mod redfish;
mod server;
mod tls;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::Instrument;

pub use config::{BmcConfig, Content, Credentials, Generated, Layout, SimConfig, SimConfigBuilder};
pub use error::SimError;
pub use faults::{FailReset, Fault, InvalidFault};
pub use handle::{BmcHandle, BmcInfo, Endpoints, Handle, SystemInfo};
pub use mockup::{Mockup, shared_mockups_dir};
pub use power::{BootOverride, PowerState, ResetType, SystemStatus, UnknownValue};

/// Binds every BMC's listener, generates TLS material if asked, and starts serving.
///
/// Fails without serving anything if any address cannot be bound.
pub async fn start(config: SimConfig) -> Result<Handle, SimError> {
    let mut listeners = Vec::with_capacity(config.bmcs.len());
    for bmc in &config.bmcs {
        let listener = TcpListener::bind(bmc.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: bmc.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: bmc.listen,
            source,
        })?;
        listeners.push((listener, addr));
    }
    let tls = if config.tls {
        let ips: Vec<_> = listeners.iter().map(|(_, addr)| addr.ip()).collect();
        Some(tls::generate(&ips)?)
    } else {
        None
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut tasks = JoinSet::new();
    let mut handles = Vec::with_capacity(listeners.len());
    for (bmc_config, (listener, addr)) in config.bmcs.iter().zip(listeners) {
        let bmc = Arc::new(bmc::Bmc::new(bmc_config, addr, scheme));
        let span = tracing::info_span!("bmc", index = bmc.index, %addr);
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        tasks.spawn(server::run_listener(listener, Arc::clone(&bmc), acceptor).instrument(span));
        handles.push(handle::BmcHandle::new(bmc));
    }
    tracing::info!(bmcs = handles.len(), tls = config.tls, "simulator started");
    Ok(Handle::new(handles, tls.map(|t| t.ca_pem), tasks))
}

/// Locks, ignoring poisoning: every critical section leaves the state consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
