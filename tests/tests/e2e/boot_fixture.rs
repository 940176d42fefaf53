//! A node as an operator registers it before its first boot, over Cairn's REST APIs only:
//! its component (SMD), its interface with the MAC and IP the network gives it, its BSS boot
//! parameters, and optionally cloud-init groups.

use std::path::PathBuf;

use cairn_tests::Cluster;
use reqwest::Method;
use serde_json::{Value, json};

/// One compute node.
pub struct Node {
    pub xname: &'static str,
    pub nid: u64,
    pub mac: &'static str,
    pub ip: &'static str,
}

impl Node {
    /// `BOOTIF=` as BSS renders it: `01-` and the MAC with dashes.
    pub fn bootif(&self) -> String {
        format!("01-{}", self.mac.replace(':', "-"))
    }
}

/// Send and insist on a 2xx, naming the request when it fails.
pub async fn ok(c: &Cluster, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
    let (status, answer) = c.send(1, method.clone(), path, &body).await?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "{method} {path} {body} answered {status}: {answer}"
    );
    Ok(answer)
}

/// The component and its interface (with `ip` on it).
pub async fn register(c: &Cluster, node: &Node) -> anyhow::Result<()> {
    ok(
        c,
        Method::POST,
        "/hsm/v2/State/Components",
        json!({"Components": [{"ID": node.xname, "Type": "Node", "State": "Ready",
            "Enabled": true, "Role": "Compute", "NID": node.nid, "Arch": "X86"}]}),
    )
    .await?;
    ok(
        c,
        Method::POST,
        "/hsm/v2/Inventory/EthernetInterfaces",
        json!({"MACAddress": node.mac, "ComponentID": node.xname,
            "IPAddresses": [{"IPAddress": node.ip}]}),
    )
    .await?;
    Ok(())
}

/// BSS boot parameters for the node's xname.
pub async fn boot_parameters(
    c: &Cluster,
    node: &Node,
    kernel: &str,
    initrd: &str,
    params: &str,
) -> anyhow::Result<()> {
    ok(
        c,
        Method::POST,
        "/boot/v1/bootparameters",
        json!({"hosts": [node.xname], "kernel": kernel, "initrd": initrd, "params": params}),
    )
    .await?;
    Ok(())
}

/// A directory for one test's files, kept when the test fails.
pub fn workdir(test: &str) -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("cairn-e2e-{test}-"))
        .tempdir()?)
}

/// Keep `dir` for inspection (tests call it before failing assertions' output is read).
pub fn keep(dir: tempfile::TempDir) -> PathBuf {
    let kept = dir.keep();
    eprintln!("test files kept in {}", kept.display());
    kept
}
