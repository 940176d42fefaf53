//! What the agent's status shows of its boot services: their counters, read live.

use std::sync::Arc;

use cairn_bootsvc::images::ImageCache;

/// Live counters of the running boot services, for the agent's status.
#[derive(Debug, Clone, Default)]
pub struct BootStats {
    pub(super) dhcp: Option<Arc<cairn_bootsvc::dhcp::DhcpStats>>,
    pub(super) tftp: Option<cairn_bootsvc::tftp::TftpStats>,
    pub(super) images: Option<ImageCache>,
}

/// What the agent's status shows of its boot services (absent: not running).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootStatus {
    /// DHCP counters.
    pub dhcp: Option<cairn_bootsvc::dhcp::DhcpCounters>,
    /// TFTP counters.
    pub tftp: Option<TftpStatus>,
    /// The image cache.
    pub images: Option<cairn_bootsvc::images::CacheStats>,
}

/// TFTP counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TftpStatus {
    /// Transfers completed.
    pub done: u64,
    /// Transfers the client ended (UEFI firmware does after reading the size).
    pub aborted: u64,
    /// Transfers given up.
    pub failed: u64,
    /// Requests refused.
    pub refused: u64,
    /// Bytes sent.
    pub bytes: u64,
}

impl BootStats {
    /// The counters now.
    pub fn status(&self) -> BootStatus {
        BootStatus {
            dhcp: self.dhcp.as_ref().map(|d| d.snapshot()),
            tftp: self.tftp.as_ref().map(|t| TftpStatus {
                done: t.transfers_done(),
                aborted: t.transfers_aborted(),
                failed: t.transfers_failed(),
                refused: t.requests_refused(),
                bytes: t.bytes_sent(),
            }),
            images: self.images.as_ref().map(ImageCache::stats),
        }
    }
}
