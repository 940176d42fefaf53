//! The HTTP client shared by every BMC conversation: TLS trust, timeouts, limits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::address::BmcAddress;
use super::auth::Credentials;
use super::error::RedfishError;
use super::session::BmcSession;
use super::tls;
use crate::config::{BmcConfig, ConfigError};

/// Idle connections kept per BMC: enough for the status poll and a node's power task to
/// find one open, while an agent of thousands of BMCs (and each BMC's few connection slots)
/// is not held down by connections a crawl's burst opened.
const IDLE_CONNECTIONS_PER_BMC: usize = 2;

/// How the client talks to BMCs.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// PEM certificates trusted for HTTPS (see [`super::tls`]); `None` uses the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one request, body included.
    pub request_timeout: Duration,
    /// Largest accepted response body.
    pub max_response_bytes: usize,
    /// Requests in flight to one BMC at once.
    pub requests_per_bmc: usize,
    /// How long an idle connection is kept for reuse (zero: none is).
    pub idle_timeout: Duration,
}

impl ClientOptions {
    /// The options of a `[bmc]` configuration (reads the CA file).
    pub fn from_config(bmc: &BmcConfig) -> Result<ClientOptions, ConfigError> {
        Ok(ClientOptions {
            ca_pem: bmc.ca_pem()?,
            connect_timeout: bmc.connect_timeout(),
            request_timeout: bmc.request_timeout(),
            max_response_bytes: bmc.max_response_bytes,
            requests_per_bmc: bmc.requests_per_bmc,
            idle_timeout: bmc.idle_timeout(),
        })
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        let bmc = BmcConfig::default();
        ClientOptions {
            ca_pem: None,
            connect_timeout: bmc.connect_timeout(),
            request_timeout: bmc.request_timeout(),
            max_response_bytes: bmc.max_response_bytes,
            requests_per_bmc: bmc.requests_per_bmc,
            idle_timeout: bmc.idle_timeout(),
        }
    }
}

/// A Redfish HTTP client for many BMCs (cheap to clone; connections are pooled per BMC).
#[derive(Debug, Clone)]
pub struct RedfishClient {
    pub(crate) http: reqwest::Client,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    requests_per_bmc: usize,
}

impl RedfishClient {
    /// Builds the client. With a CA file, HTTPS trusts exactly its certificates.
    pub fn new(options: &ClientOptions) -> Result<RedfishClient, RedfishError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("cairn-agent/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            // BMC web servers are small; HTTP/1.1 is what all of them get right.
            .http1_only()
            .redirect(reqwest::redirect::Policy::limited(4))
            .pool_max_idle_per_host(if options.idle_timeout.is_zero() {
                0
            } else {
                options.requests_per_bmc.min(IDLE_CONNECTIONS_PER_BMC)
            })
            .pool_idle_timeout(options.idle_timeout);
        builder = match &options.ca_pem {
            Some(pem) => builder
                .tls_backend_preconfigured(tls::client_config(pem).map_err(RedfishError::Tls)?),
            None => {
                // reqwest is built without a crypto provider and panics if none is installed;
                // an Err here only means one already is.
                let _ = rustls::crypto::ring::default_provider().install_default();
                builder
            }
        };
        let http = builder.build().map_err(RedfishError::Client)?;
        Ok(RedfishClient {
            http,
            request_timeout: options.request_timeout,
            max_response_bytes: options.max_response_bytes,
            requests_per_bmc: options.requests_per_bmc.max(1),
        })
    }

    /// A conversation with one BMC, authenticating with `credentials` if given.
    pub fn session(
        &self,
        address: &BmcAddress,
        credentials: Option<Credentials>,
    ) -> Result<BmcSession, RedfishError> {
        let base = address.base_url().map_err(RedfishError::Address)?;
        Ok(BmcSession::new(
            self.clone(),
            address.clone(),
            base,
            credentials,
            Arc::new(Semaphore::new(self.requests_per_bmc)),
        ))
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
}
