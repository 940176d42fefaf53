//! A Redfish client for BMCs: HTTP Basic (or a session when Basic is refused), optional CA file
//! for HTTPS, per-request timeouts, bounded response bodies, bounded concurrency per BMC, and
//! tolerant models of the few resources Cairn reads.
//!
//! reqwest is built without a rustls crypto provider; binaries and tests install ring's. The
//! client installs it too if none is installed when it is built.

mod address;
mod auth;
mod client;
mod error;
mod lenient;
pub mod model;
mod response;
mod session;
mod tls;

pub use address::{AddressError, BmcAddress, Scheme};
pub use auth::Credentials;
pub use client::{ClientOptions, RedfishClient};
pub use error::RedfishError;
pub use session::{BmcSession, DEFAULT_SESSIONS_PATH, RawResponse};
pub use tls::TlsSetupError;
