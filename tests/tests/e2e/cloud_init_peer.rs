//! cloud-init's own NoCloud-net datasource code (`cloudinit-fetch.sh`, Debian's cloud-init 22.4)
//! fetches a node's meta-data, user-data and vendor-data from a real coordinator, and
//! `cloud-init schema` accepts what it got; the group file named in vendor-data's `#include`
//! list is served and valid too.
//!
//! Identity: Cairn knows the node by the source address of the request, looked up in the
//! interfaces' `IPAddresses`. cloud-init's fetch leaves from 127.0.0.1 (the peer script cannot
//! pick a source address), so node A's interface carries 127.0.0.1. A network namespace with a
//! veth address would need Cairn reachable from it, that is a non-loopback address in the
//! root namespace or Cairn inside the namespace out of the harness's reach; the loopback range
//! gives distinct identities without either: the test's own requests bind 127.0.0.2 (node B)
//! and 127.0.0.3 (nobody) to show that the answer follows the source address.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use cairn_tests::Cluster;
use cairn_tests::peers;
use reqwest::Method;
use serde_json::json;

use crate::boot_fixture::{self, Node};

const NODE_A: Node = Node {
    xname: "x1000c0s0b0n0",
    nid: 1,
    mac: "02:ce:00:00:00:01",
    ip: "127.0.0.1",
};
const NODE_B: Node = Node {
    xname: "x1000c0s0b0n1",
    nid: 2,
    mac: "02:ce:00:00:00:02",
    ip: "127.0.0.2",
};

/// The group's cloud-config, as an operator would upload it.
const GROUP_FILE: &str = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: |\n      compute node, managed by Cairn\npackages:\n  - chrony\n";

/// GET `url` with the request leaving from `from`.
async fn get_from(from: &str, url: &str) -> anyhow::Result<(u16, String)> {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>()?)
        .timeout(Duration::from_secs(10))
        .build()?;
    let resp = client.get(url).send().await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

/// `cloud-init schema --config-file` on `text`.
fn schema_ok(dir: &Path, name: &str, text: &str) -> anyhow::Result<(bool, String)> {
    let file = dir.join(name);
    std::fs::write(&file, text)?;
    let out = std::process::Command::new("cloud-init")
        .args(["schema", "--config-file"])
        .arg(&file)
        .output()?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[tokio::test]
async fn cloud_inits_own_nocloud_net_code_fetches_a_nodes_data_from_cairn_and_the_schema_accepts_it()
-> anyhow::Result<()> {
    let test = "cloud_init";
    let Some(peers) = peers::require(
        test,
        &["cloudinit-fetch.sh"],
        &["cloud-init", "/usr/bin/python3"],
    ) else {
        return Ok(());
    };
    let work = boot_fixture::workdir(test)?;
    let cluster = Cluster::builder().coordinators(1).start().await?;
    let api = cluster.api_url(1);
    let base = format!("{api}/cloud-init");

    for node in [&NODE_A, &NODE_B] {
        boot_fixture::register(&cluster, node).await?;
    }
    boot_fixture::ok(
        &cluster,
        Method::POST,
        "/cloud-init/admin/cluster-defaults",
        json!({"cluster-name": "e2e", "short-name": "nid", "nid-length": 4, "base-url": base,
            "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLtQNuzGcMDatF+YVMMkuxbX2c5v2OxWftBhEVfFb+U ops@e2e"]}),
    )
    .await?;
    // Group membership is SMD's; the group's cloud-config is cloud-init's.
    boot_fixture::ok(
        &cluster,
        Method::POST,
        "/hsm/v2/groups",
        json!({"label": "compute", "members": {"ids": [NODE_A.xname, NODE_B.xname]}}),
    )
    .await?;
    boot_fixture::ok(
        &cluster,
        Method::POST,
        "/cloud-init/admin/groups",
        json!({"name": "compute", "description": "compute nodes", "meta-data": {"slurm": "worker"},
            "file": {"content": GROUP_FILE, "encoding": "plain"}}),
    )
    .await?;

    let run = peers::run_script(
        &peers,
        "cloudinit-fetch.sh",
        &[&format!("{base}/")],
        &[],
        &work.path().join("cloudinit-fetch.log"),
        Duration::from_secs(300),
    )
    .await?;
    eprintln!("{}", run.output);
    let field = |name: &str| {
        run.output.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.trim_start().strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        })
    };
    assert!(
        run.ok(),
        "cloudinit-fetch.sh exited {} (1 fetch failed, 3 schema invalid):\n{}",
        run.status,
        run.output
    );
    assert_eq!(
        field("hostname").as_deref(),
        Some("nid0001"),
        "{}",
        run.output
    );
    let instance = field("instance-id").unwrap_or_default();
    assert!(!instance.is_empty() && instance != "None", "{}", run.output);
    assert!(
        field("user-data").is_some_and(|v| v.contains("'#cloud-config'")),
        "{}",
        run.output
    );
    assert!(
        field("vendor-data").is_some_and(|v| v.contains("'#include'")),
        "{}",
        run.output
    );
    let meta = field("meta-data").unwrap_or_default();
    assert!(
        meta.contains(NODE_A.xname) || meta.contains("nid0001"),
        "{meta}"
    );

    // vendor-data lists the node's group file; it is served and valid cloud-config.
    let (status, vendor) = get_from(NODE_A.ip, &format!("{base}/vendor-data")).await?;
    assert_eq!(status, 200, "{vendor}");
    let includes: Vec<&str> = vendor
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(includes, [format!("{base}/compute.yaml")], "{vendor}");
    let (status, group) = get_from(NODE_A.ip, includes[0]).await?;
    assert_eq!(status, 200, "{group}");
    assert!(group.contains("managed by Cairn"), "{group}");
    let (valid, report) = schema_ok(work.path(), "compute.yaml", &group)?;
    assert!(
        valid,
        "cloud-init schema refused compute.yaml:\n{report}\n{group}"
    );

    // The answer follows the source address: node B from 127.0.0.2, nobody from 127.0.0.3.
    let (status, meta_b) = get_from(NODE_B.ip, &format!("{base}/meta-data")).await?;
    assert_eq!(status, 200, "{meta_b}");
    assert!(
        meta_b.contains("nid0002") && !meta_b.contains("nid0001"),
        "{meta_b}"
    );
    let (status, body) = get_from("127.0.0.3", &format!("{base}/meta-data")).await?;
    assert!(
        (400..500).contains(&status),
        "an unknown address gets no node's data: {status} {body}"
    );
    // A group the node is not in is not served to it.
    let (status, _) = get_from(NODE_A.ip, &format!("{base}/storage.yaml")).await?;
    assert_eq!(status, 404);
    Ok(())
}
