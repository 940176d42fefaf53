//! The demo's boot data: BSS boot parameters (a `Default` and one for the `Compute` role),
//! cloud-init cluster defaults and group data, then one node's view of it — its iPXE script
//! and the cloud-init meta-data, user-data and vendor-data it would fetch.
//!
//! Node-facing cloud-init identifies a node by the address it connects from. The demo does
//! not pretend: it gives the node's interface one more address, on loopback
//! ([`NODE_LOOPBACK`], on a network named `demo-loopback`), through the ordinary API, and
//! connects from that address. Nothing is configured to believe a forwarded address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use crate::client::Client;
use crate::cmd::HSM;
use crate::cmd::boot::BSS;
use crate::cmd::cloud_init::ADMIN;

/// The node whose boot the demo shows (NID 1, in groups `compute` and `rack-x1000`).
pub const NODE: &str = "x1000c0s0b0n0";
/// Its management MAC (see `sample.rs`).
pub const NODE_MAC: &str = "02:ca:0e:00:00:00";
/// The loopback address the demo gives that node, to ask for its cloud-init data as it would.
pub const NODE_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 77, 0, 1));

/// The `compute` group's cloud-config file.
const COMPUTE_CLOUD_CONFIG: &str = "#cloud-config
packages: [chrony, nfs-common]
write_files:
  - path: /etc/motd
    content: |
      A Cairn demo compute node.
runcmd:
  - [systemctl, enable, --now, chrony]
";

/// Assign boot parameters and cloud-init data, and give [`NODE`] its loopback address.
pub async fn load(client: &Client) -> anyhow::Result<()> {
    let params = format!("{BSS}/bootparameters");
    client
        .put(
            &params,
            &json!({"hosts": ["Default"],
                "kernel": "http://10.100.255.254/images/base/vmlinuz",
                "initrd": "http://10.100.255.254/images/base/initrd.img",
                "params": "console=ttyS0,115200 ip=dhcp quiet"}),
        )
        .await?;
    client
        .put(
            &params,
            &json!({"hosts": ["Compute"],
                "kernel": "http://10.100.255.254/images/compute/vmlinuz",
                "initrd": "http://10.100.255.254/images/compute/initrd.img",
                "params": "console=ttyS0,115200 ip=dhcp root=live:http://10.100.255.254/images/compute/rootfs"}),
        )
        .await?;
    client
        .post(
            &format!("{ADMIN}/cluster-defaults"),
            &json!({"cluster-name": "demo", "short-name": "nid", "nid-length": 4,
                "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyOnlyForTheCairnDemo admin@demo"]}),
        )
        .await?;
    client
        .put(
            &format!("{ADMIN}/groups/compute"),
            &json!({"name": "compute", "description": "every compute node",
                "meta-data": {"slurm_role": "worker"},
                "file": {"content": COMPUTE_CLOUD_CONFIG, "filename": "compute.yaml"}}),
        )
        .await?;
    client
        .put(
            &format!("{ADMIN}/groups/rack-x1000"),
            &json!({"name": "rack-x1000", "description": "nodes of cabinet x1000",
                "meta-data": {"rack": "x1000", "ntp_server": "10.100.255.254"}}),
        )
        .await?;
    let iface = NODE_MAC.replace(':', "");
    client
        .post(
            &format!("{HSM}/Inventory/EthernetInterfaces/{iface}/IPAddresses"),
            &json!({"IPAddress": NODE_LOOPBACK.to_string(), "Network": "demo-loopback"}),
        )
        .await?;
    Ok(())
}

/// What [`show`] fetched, for printing.
pub struct NodeBoot {
    /// The iPXE script.
    pub script: String,
    /// `/cloud-init/meta-data`.
    pub meta_data: String,
    /// `/cloud-init/user-data`.
    pub user_data: String,
    /// `/cloud-init/vendor-data`.
    pub vendor_data: String,
}

/// Fetch [`NODE`]'s script (by MAC, as iPXE asks) and its cloud-init data (from its address).
pub async fn fetch(client: &Client) -> anyhow::Result<NodeBoot> {
    let script = client
        .get_text(
            &format!("{BSS}/bootscript"),
            &[("mac", NODE_MAC.to_owned())],
        )
        .await?;
    let as_node = reqwest::Client::builder()
        .local_address(NODE_LOOPBACK)
        .timeout(Duration::from_secs(5))
        .build()
        .context("cannot build an HTTP client bound to the node's address")?;
    let get = |what: &'static str| {
        let url = format!("{}/cloud-init/{what}", client.base());
        let as_node = as_node.clone();
        async move {
            let resp = as_node
                .get(&url)
                .send()
                .await
                .with_context(|| format!("GET {url} from {NODE_LOOPBACK}"))?;
            let status = resp.status();
            let text = resp.text().await?;
            anyhow::ensure!(status.is_success(), "GET {url}: {status} {text}");
            Ok::<_, anyhow::Error>(text)
        }
    };
    Ok(NodeBoot {
        script,
        meta_data: get("meta-data").await?,
        user_data: get("user-data").await?,
        vendor_data: get("vendor-data").await?,
    })
}

/// Print a fetched text indented under a title.
pub fn print_block(title: &str, text: &str) {
    println!("  {title}");
    for line in text.trim_end().lines() {
        println!("    │ {line}");
    }
}

impl NodeBoot {
    /// Check the answers say what was configured, so the demo fails loudly if they do not.
    pub fn check(&self) -> anyhow::Result<()> {
        let expect = |what: &str, text: &str, needle: &str| {
            anyhow::ensure!(text.contains(needle), "{what} lacks {needle:?}:\n{text}");
            Ok(())
        };
        expect("the script", &self.script, "images/compute/vmlinuz")?;
        expect("the script", &self.script, &format!("xname={NODE} nid=1"))?;
        expect("meta-data", &self.meta_data, "local-hostname: nid0001")?;
        expect("user-data", &self.user_data, "#cloud-config")?;
        expect("vendor-data", &self.vendor_data, "/cloud-init/compute.yaml")?;
        Ok(())
    }
}
