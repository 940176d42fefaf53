//! The rack agent: Redfish discovery and power control next to the BMCs, reporting to the
//! coordinator over gRPC.
//!
//! - [`config`]: the configuration file (discovery's parts);
//! - [`redfish`]: the Redfish client (auth, TLS trust, timeouts, limits, tolerant models);
//! - [`discovery`]: scan, naming, crawl and the per-BMC reports;
//! - [`boot`]: boot serving at the rack (DHCP, TFTP, HTTP) from the cached desired state;
//! - [`runtime`]: the running agent ([`runtime::start`]): registration, the Watch stream, the
//!   sled outbox, the power executor, the power-status poll, discovery runs, its HTTP API;
//! - [`args`]: `cairn-agent`'s command line;
//! - [`raise_open_files_limit`]: the process limit an agent of thousands of BMCs needs.

pub mod args;
pub mod boot;
pub mod config;
pub mod discovery;
mod open_files;
pub mod redfish;
pub mod runtime;

pub use open_files::raise_open_files_limit;
