//! Loading many compute nodes for a boot benchmark: components 1,000 per request, then one
//! Ethernet interface (MAC and address) per node, a few requests at a time.

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::json;

use crate::client::Client;

/// What one node is loaded with.
pub struct NodeRecord {
    /// Its xname.
    pub xname: String,
    /// Its boot MAC.
    pub mac: String,
    /// Its address.
    pub ip: String,
}

/// Loads nodes `0..count` (NID = index + 1, role Compute, Ready) as `node` describes them,
/// with `concurrency` interface requests in flight.
pub async fn load_nodes(
    client: &Client,
    count: u64,
    concurrency: usize,
    node: impl Fn(u64) -> NodeRecord,
) -> anyhow::Result<()> {
    for from in (0..count).step_by(1000) {
        let list: Vec<_> = (from..(from + 1000).min(count))
            .map(|k| {
                json!({"ID": node(k).xname, "Type": "Node", "State": "Ready", "Flag": "OK",
                    "Enabled": true, "Role": "Compute", "NID": k + 1, "Arch": "X86"})
            })
            .collect();
        client
            .post("/hsm/v2/State/Components", &json!({"Components": list}))
            .await
            .context("loading components")?;
    }
    stream::iter(0..count)
        .map(|k| {
            let n = node(k);
            async move {
                let body = json!({"MACAddress": n.mac, "ComponentID": n.xname,
                    "IPAddresses": [{"IPAddress": n.ip}]});
                client
                    .post("/hsm/v2/Inventory/EthernetInterfaces", &body)
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await
        .context("loading interfaces")
}
