//! The coordinators' side of the rack boot test: the inventory it starts from, and what the
//! inventory shows afterwards (boot records, the agent's registration), read over the REST API.

use std::time::Duration;

use cairn_tests::{Cluster, wait_for};
use reqwest::Method;
use serde_json::{Value, json};

use super::site::AGENT_ID;
use super::{NODES, Node};

/// The rack's nodes and interfaces, and boot parameters for role Compute from the origin.
pub(super) async fn inventory(cluster: &Cluster, origin: &str) -> anyhow::Result<()> {
    let components: Vec<Value> = NODES
        .iter()
        .map(|n| json!({"ID": n.xname(), "State": "Ready", "Role": "Compute", "NID": n.n}))
        .collect();
    send(
        cluster,
        "/hsm/v2/State/Components",
        json!({"Components": components}),
    )
    .await?;
    for n in NODES {
        let body = json!({"MACAddress": n.mac, "ComponentID": n.xname(),
                          "IPAddresses": [{"IPAddress": n.ip().to_string()}]});
        send(cluster, "/hsm/v2/Inventory/EthernetInterfaces", body).await?;
    }
    let body = json!({"hosts": ["Compute"], "kernel": format!("{origin}/vmlinuz"),
                      "initrd": format!("{origin}/initrd.gz"), "params": "console=ttyS0"});
    send(cluster, "/boot/v1/bootparameters", body).await?;
    Ok(())
}

/// POSTs to the leader; insists on a 2xx.
async fn send(cluster: &Cluster, path: &str, body: Value) -> anyhow::Result<Value> {
    let leader = cluster.leader().await?;
    let (status, answer) = cluster.send(leader, Method::POST, path, &body).await?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "POST {path} {body}: {status} {answer}"
    );
    Ok(answer)
}

/// `GET path` from the first replica that answers 200.
pub(super) async fn get(cluster: &Cluster, path: &str) -> anyhow::Result<Value> {
    for id in cluster.running() {
        if let Ok((200, body)) = cluster.get(id, path).await {
            return Ok(body);
        }
    }
    anyhow::bail!("no replica answered GET {path} with 200")
}

/// The agent as `GET /apis/cairn/v1/agents` shows it.
pub(super) async fn agent_record(cluster: &Cluster) -> Option<Value> {
    let list = get(cluster, "/apis/cairn/v1/agents").await.ok()?;
    list["agents"]
        .as_array()?
        .iter()
        .find(|a| a["id"] == AGENT_ID)
        .cloned()
}

pub(super) fn boot_record(boots: &Value, node: Node) -> Option<&Value> {
    boots["boots"]
        .as_array()?
        .iter()
        .find(|b| b["ID"] == node.xname().as_str())
}

/// Each of `steps` was served by the agent between `from_ms` and `to_ms`.
pub(super) fn check_steps(
    record: &Value,
    steps: &[&str],
    from_ms: u64,
    to_ms: u64,
) -> anyhow::Result<()> {
    for step in steps {
        let s = &record["Steps"][step];
        let at = s["AtMs"].as_u64().unwrap_or_default();
        anyhow::ensure!(
            s["Agent"] == AGENT_ID && (from_ms..=to_ms).contains(&at),
            "step {step} not served by {AGENT_ID} in [{from_ms}, {to_ms}]: {record}"
        );
    }
    Ok(())
}

/// Waits until the inventory shows each node's steps, served by the agent since `since_ms`.
pub(super) async fn wait_boots(
    cluster: &Cluster,
    want: &[(Node, &[&str])],
    since_ms: u64,
) -> anyhow::Result<()> {
    let last = std::cell::Cell::new(Value::Null);
    wait_for(
        "the boots in the inventory",
        Duration::from_secs(30),
        || async {
            let boots = get(cluster, "/apis/cairn/v1/boots").await.ok()?;
            let all = want.iter().all(|(node, steps)| {
                boot_record(&boots, *node)
                    .is_some_and(|r| check_steps(r, steps, since_ms, u64::MAX).is_ok())
            });
            last.set(boots);
            all.then_some(())
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}; boots: {}", last.take()))
}
