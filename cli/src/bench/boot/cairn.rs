//! The Cairn side of `cairn bench boot`: a coordinator holding `--nodes` nodes (component,
//! interface with an IP, BSS boot parameters, an SMD group with a cloud-init group), and the
//! exact bytes it serves each node, written out as the per-node files nginx serves.
//!
//! Node-facing reads (bootscript, meta-data) are answered from the contacted replica's applied
//! state, without a Raft round trip, so one replica measures the serving path; `--replicas 3`
//! is there to show that replication does not change it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::json;

use super::super::nodes::{NodeRecord, load_nodes};
use super::super::xname;
use super::Endpoint;
use crate::client::Client;
use crate::cmd::cluster::fetch_status;
use crate::local_cluster::{LocalCluster, wait_for};

/// Site addresses written into the boot data; nothing ever connects to them.
const IMAGES: &str = "http://10.1.0.1/boot/images/compute";
const CLOUD_INIT_BASE: &str = "http://10.1.0.1:27777/cloud-init";
/// Typical operator params: the script comes to about 400 bytes, as in DESIGN.md's anchor.
const PARAMS: &str = "console=ttyS0,115200 ip=dhcp root=live:http://10.1.0.1/boot/images/compute/rootfs.squashfs rd.live.overlay.overlayfs=1 quiet";

/// Node `k`'s boot MAC.
pub fn mac(k: u64) -> String {
    let b = k.to_be_bytes();
    format!("02:00:b0:{:02x}:{:02x}:{:02x}", b[5], b[6], b[7])
}

/// Node `k`'s address on the boot network (data only: the bench sends it as
/// `X-Forwarded-For`, never to it).
pub fn ip(k: u64) -> String {
    let n = k + 1;
    format!(
        "10.{}.{}.{}",
        100 + (n >> 16) % 100,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

/// The paths nginx serves node `k`'s files at.
pub fn static_paths(k: u64) -> (String, String) {
    (
        format!("/bootscript/{}", mac(k).replace(':', "-")),
        format!("/meta-data/{}", ip(k)),
    )
}

/// Flags for each replica: trust 127.0.0.1 (where wrk runs) to say, in `X-Forwarded-For`, which
/// node a meta-data request is for, as a site's front proxy would.
pub fn replica_flags() -> Vec<String> {
    vec!["--trusted-proxy".into(), "127.0.0.1/32".into()]
}

/// Load `nodes` nodes into the coordinator at `api`.
pub async fn load(api: &str, nodes: u64) -> anyhow::Result<()> {
    let client = Client::with_timeout(api, false, Duration::from_secs(60))?;
    load_nodes(&client, nodes, 32, |k| NodeRecord {
        xname: xname(k),
        mac: mac(k),
        ip: ip(k),
    })
    .await?;
    for from in (0..nodes).step_by(1000) {
        let hosts: Vec<String> = (from..(from + 1000).min(nodes)).map(xname).collect();
        let body = json!({"hosts": hosts, "kernel": format!("{IMAGES}/vmlinuz"),
            "initrd": format!("{IMAGES}/initrd.img"), "params": PARAMS});
        client.post("/boot/v1/bootparameters", &body).await?;
    }
    client
        .post(
            "/cloud-init/admin/cluster-defaults",
            &json!({"cluster-name": "bench", "short-name": "nid", "nid-length": 5,
                "base-url": CLOUD_INIT_BASE,
                "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLtQNuzGcMDatF+YVMMkuxbX2c5v2OxWftBhEVfFb+U ops@bench"]}),
        )
        .await?;
    let members: Vec<String> = (0..nodes).map(xname).collect();
    client
        .post(
            "/hsm/v2/groups",
            &json!({"label": "compute", "members": {"ids": members}}),
        )
        .await?;
    client
        .post(
            "/cloud-init/admin/groups",
            &json!({"name": "compute", "description": "compute nodes",
                "meta-data": {"slurm": "worker", "site": "bench"},
                "file": {"encoding": "plain",
                    "content": "#cloud-config\npackages:\n  - chrony\n"}}),
        )
        .await?;
    Ok(())
}

/// Fetch what Cairn serves each node and write it under `root` at [`static_paths`]. Fails if
/// any node gets no answer: the comparison is only fair when both serve the same bytes.
pub async fn write_reference_files(api: &str, nodes: u64, root: &Path) -> anyhow::Result<()> {
    for d in ["bootscript", "meta-data"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    stream::iter(0..nodes)
        .map(|k| {
            let http = &http;
            async move {
                let (boot_path, meta_path) = static_paths(k);
                let script = fetch(http, &bootscript_url(api, k), None).await?;
                std::fs::write(root.join(&boot_path[1..]), script)?;
                let meta =
                    fetch(http, &format!("{api}/cloud-init/meta-data"), Some(&ip(k))).await?;
                std::fs::write(root.join(&meta_path[1..]), meta)?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<()>()
        .await
}

/// `GET` and insist on a 200, returning the body.
pub async fn fetch(
    http: &reqwest::Client,
    url: &str,
    forwarded_for: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let mut req = http.get(url);
    if let Some(ip) = forwarded_for {
        req = req.header("X-Forwarded-For", ip);
    }
    let resp = req.send().await.with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp.bytes().await?.to_vec();
    anyhow::ensure!(
        status.is_success(),
        "GET {url}{}: {status} {}",
        forwarded_for
            .map(|f| format!(" (X-Forwarded-For: {f})"))
            .unwrap_or_default(),
        String::from_utf8_lossy(&body)
    );
    Ok(body)
}

/// Wait until replica `serving` has applied everything the leader had applied after the load.
pub async fn wait_applied(cluster: &LocalCluster, leader: u64, serving: u64) -> anyhow::Result<()> {
    let target = fetch_status(&cluster.client(leader)?).await?.last_applied;
    let client = cluster.client(serving)?;
    wait_for(
        Duration::from_secs(60),
        "the serving replica to apply the load",
        || {
            let client = &client;
            async move { Ok((fetch_status(client).await?.last_applied >= target).then_some(())) }
        },
    )
    .await
}

/// Check, on a sample of nodes, that nginx serves exactly what Cairn does.
pub async fn same_bytes(cairn: &str, nginx: &str, nodes: u64) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let step = (nodes / 16).max(1);
    for k in (0..nodes).step_by(step as usize) {
        let (boot_path, meta_path) = static_paths(k);
        let pairs = [
            (
                fetch(&http, &bootscript_url(cairn, k), None).await?,
                fetch(&http, &format!("{nginx}{boot_path}"), None).await?,
            ),
            (
                fetch(
                    &http,
                    &format!("{cairn}/cloud-init/meta-data"),
                    Some(&ip(k)),
                )
                .await?,
                fetch(&http, &format!("{nginx}{meta_path}"), Some(&ip(k))).await?,
            ),
        ];
        for (c, n) in pairs {
            anyhow::ensure!(c == n, "node {k}: nginx does not serve Cairn's bytes");
        }
    }
    Ok(())
}

/// The wrk targets files of one endpoint, for each server.
pub struct Targets {
    /// Requests to Cairn.
    pub cairn: PathBuf,
    /// The same requests to nginx.
    pub nginx: PathBuf,
}

/// Write the targets files of `endpoint` into `dir`: every node once, in order.
pub fn targets(dir: &Path, endpoint: Endpoint, nodes: u64) -> anyhow::Result<Targets> {
    let (mut to_cairn, mut to_nginx) = (Vec::new(), Vec::new());
    for k in 0..nodes {
        let (boot_path, meta_path) = static_paths(k);
        match endpoint {
            Endpoint::Bootscript => {
                to_cairn.push((format!("/boot/v1/bootscript?mac={}", mac(k)), None));
                to_nginx.push((boot_path, None));
            }
            Endpoint::MetaData => {
                to_cairn.push(("/cloud-init/meta-data".to_owned(), Some(ip(k))));
                to_nginx.push((meta_path, Some(ip(k))));
            }
        }
    }
    let name = match endpoint {
        Endpoint::Bootscript => "bootscript",
        Endpoint::MetaData => "meta-data",
    };
    let t = Targets {
        cairn: dir.join(format!("{name}.cairn.targets")),
        nginx: dir.join(format!("{name}.nginx.targets")),
    };
    super::wrk::write_targets(&t.cairn, &to_cairn)?;
    super::wrk::write_targets(&t.nginx, &to_nginx)?;
    Ok(t)
}

/// Node `k`'s bootscript URL on Cairn.
pub fn bootscript_url(api: &str, k: u64) -> String {
    format!("{api}/boot/v1/bootscript?mac={}", mac(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_identities_are_distinct_and_valid() {
        let macs: std::collections::BTreeSet<String> = (0..100_000).map(mac).collect();
        let ips: std::collections::BTreeSet<String> = (0..100_000).map(ip).collect();
        assert_eq!((macs.len(), ips.len()), (100_000, 100_000));
        assert_eq!(mac(0), "02:00:b0:00:00:00");
        assert_eq!(ip(0), "10.100.0.1");
        assert_eq!(ip(255), "10.100.1.0");
        for k in [0, 255, 65_535, 99_999] {
            assert!(ip(k).parse::<std::net::Ipv4Addr>().is_ok(), "{}", ip(k));
            crate::validate::mac(&mac(k)).expect("valid MAC");
        }
        assert_eq!(
            static_paths(1),
            (
                "/bootscript/02-00-b0-00-00-01".to_owned(),
                "/meta-data/10.100.0.2".to_owned()
            )
        );
    }
}
