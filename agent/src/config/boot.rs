//! `[boot]`: the rack's boot services, served from the agent's copy of the desired state.
//!
//! ```toml
//! [boot]
//! listen = "10.91.0.1:8080"          # HTTP: iPXE scripts, cloud-init, image cache (--boot-listen)
//! url = "http://10.91.0.1:8080"      # how nodes reach it (default: from listen / the DHCP address)
//! dhcp_interface = "rack0"           # DHCPv4 on this interface (--dhcp-interface)
//! tftp_listen = "10.91.0.1:69"       # TFTP for the iPXE binaries (--tftp-listen)
//! ipxe_dir = "/usr/lib/ipxe"         # where they are (--ipxe-dir)
//! image_cache_bytes = 21474836480    # kernels and initrds kept on disk
//! router_advertisements = true       # IPv6 RA on the DHCP interface (needs CAP_NET_RAW)
//!
//! [boot.dhcp]                        # DHCP settings (cairn_bootsvc::dhcp::DhcpConfig); the
//! router = "10.91.0.254"             # table alone, without dhcp_interface, runs DHCP in relay
//! dns = ["10.91.0.253"]              # mode on its `listen` address (relayed requests only)
//! range = "10.91.0.100-10.91.0.199"  # known nodes without an inventory address
//! pool = "10.91.0.200-10.91.0.250"   # unknown MACs (reported as seen)
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use cairn_bootsvc::dhcp::DhcpConfig;
use serde::Deserialize;

/// Where Debian's `ipxe` package puts its binaries.
pub const DEFAULT_IPXE_DIR: &str = "/usr/lib/ipxe";

/// `[boot]` (see the module docs). Every service is off until its address is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootServeConfig {
    /// HTTP boot service address (`--boot-listen`).
    pub listen: Option<SocketAddr>,
    /// Base URL nodes reach the HTTP service at, written into DHCP replies and scripts.
    /// Default: `http://<listen>`, or with an unspecified listen address, the DHCP
    /// interface's address and the listen port.
    pub url: Option<String>,
    /// DHCPv4 on this interface (`--dhcp-interface`).
    pub dhcp_interface: Option<String>,
    /// TFTP address (`--tftp-listen`).
    pub tftp_listen: Option<SocketAddr>,
    /// Directory TFTP serves (`--ipxe-dir`).
    pub ipxe_dir: PathBuf,
    /// Disk the image cache may use, bytes.
    pub image_cache_bytes: u64,
    /// Send IPv6 router advertisements on the DHCP interface, so iPXE does not wait ~15 s
    /// for IPv6 configuration.
    pub router_advertisements: bool,
    /// Seconds a failed boot waits before its script chains back.
    pub retry_delay_secs: u32,
    /// Rendered answers kept between desired-state changes: about four per node (script,
    /// meta-data, user-data, vendor-data), so a rack's storm of retries and repeated boots
    /// is answered without rendering again.
    pub answer_cache_entries: usize,
    /// `[boot.dhcp]`: DHCP settings (the boot URL comes from the HTTP service, the
    /// interface from `dhcp_interface`).
    pub dhcp: Option<DhcpConfig>,
}

impl Default for BootServeConfig {
    fn default() -> Self {
        BootServeConfig {
            listen: None,
            url: None,
            dhcp_interface: None,
            tftp_listen: None,
            ipxe_dir: PathBuf::from(DEFAULT_IPXE_DIR),
            image_cache_bytes: 20 << 30,
            router_advertisements: false,
            retry_delay_secs: 30,
            answer_cache_entries: 128 * 1024,
            dhcp: None,
        }
    }
}
