//! The demo's sample inventory: two River cabinets (x1000, x1001), each with 16 slots of one
//! BMC and two nodes: 64 nodes (NID 1..64), 32 BMCs, an interface per node and per BMC.

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

use crate::client::Client;
use crate::cmd::HSM;

/// Cabinets in the sample.
pub const CABINETS: [u32; 2] = [1000, 1001];
/// Slots per cabinet (one BMC each).
pub const SLOTS: u32 = 16;
/// Nodes per BMC.
pub const NODES_PER_BMC: u32 = 2;

/// Everything the demo loads, as request bodies.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Components (nodes and BMCs).
    pub components: Vec<Value>,
    /// Redfish endpoints (one per BMC).
    pub endpoints: Vec<Value>,
    /// Ethernet interfaces (one per node and per BMC).
    pub interfaces: Vec<Value>,
    /// Groups: `compute` and one per cabinet.
    pub groups: Vec<Value>,
    /// Partitions: `p1`.
    pub partitions: Vec<Value>,
}

fn mac(kind: u8, cabinet: usize, slot: u32, node: u32) -> String {
    format!("02:ca:{kind:02x}:{cabinet:02x}:{slot:02x}:{node:02x}")
}

/// Build the sample.
pub fn build() -> Sample {
    let mut s = Sample {
        components: Vec::new(),
        endpoints: Vec::new(),
        interfaces: Vec::new(),
        groups: Vec::new(),
        partitions: Vec::new(),
    };
    let mut all_nodes = Vec::new();
    let mut nid = 0;
    for (ci, cab) in CABINETS.iter().enumerate() {
        let mut rack_nodes = Vec::new();
        for slot in 0..SLOTS {
            let bmc = format!("x{cab}c0s{slot}b0");
            s.components.push(
                json!({"ID": bmc, "Type": "NodeBMC", "State": "Ready", "Flag": "OK",
                "Enabled": true, "Arch": "X86", "Class": "River"}),
            );
            let bmc_mac = mac(0xb0, ci, slot, 0);
            let bmc_ip = format!("10.254.{ci}.{}", slot + 1);
            s.endpoints.push(
                json!({"ID": bmc, "Type": "NodeBMC", "Hostname": bmc, "Domain": "bmc.demo",
                "FQDN": format!("{bmc}.bmc.demo"), "Enabled": true, "User": "root",
                "MACAddr": bmc_mac, "IPAddress": bmc_ip, "RediscoverOnUpdate": false}),
            );
            s.interfaces.push(
                json!({"MACAddress": bmc_mac, "ComponentID": bmc, "Description": "BMC port",
                "IPAddresses": [{"IPAddress": bmc_ip, "Network": "hmn"}]}),
            );
            for n in 0..NODES_PER_BMC {
                nid += 1;
                let node = format!("{bmc}n{n}");
                s.components.push(json!({"ID": node, "Type": "Node", "State": "Off", "Flag": "OK",
                    "Enabled": true, "Role": "Compute", "NID": nid, "Arch": "X86", "Class": "River"}));
                s.interfaces.push(json!({"MACAddress": mac(0x0e, ci, slot, n), "ComponentID": node,
                    "Description": "node management port",
                    "IPAddresses": [{"IPAddress": format!("10.100.{ci}.{}", slot * NODES_PER_BMC + n + 1), "Network": "nmn"}]}));
                rack_nodes.push(node.clone());
                all_nodes.push(node);
            }
        }
        s.groups.push(json!({"label": format!("rack-x{cab}"), "description": format!("nodes of cabinet x{cab}"),
            "tags": ["rack"], "members": {"ids": rack_nodes}}));
    }
    s.groups.insert(
        0,
        json!({"label": "compute", "description": "every compute node",
        "tags": ["role"], "members": {"ids": all_nodes.clone()}}),
    );
    s.partitions.push(
        json!({"name": "p1", "description": "the demo partition", "members": {"ids": all_nodes}}),
    );
    s
}

/// Load the sample through the REST API, in bulk where the API allows.
pub async fn load(client: &Client, sample: &Sample) -> anyhow::Result<()> {
    client
        .post(
            &format!("{HSM}/State/Components"),
            &json!({"Components": sample.components, "Force": true}),
        )
        .await?;
    client
        .post(
            &format!("{HSM}/Inventory/RedfishEndpoints"),
            &json!({"RedfishEndpoints": sample.endpoints}),
        )
        .await?;
    let path = format!("{HSM}/Inventory/EthernetInterfaces");
    futures::stream::iter(&sample.interfaces)
        .map(|i| client.post(&path, i))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    for g in &sample.groups {
        client.post(&format!("{HSM}/groups"), g).await?;
    }
    for p in &sample.partitions {
        client.post(&format!("{HSM}/partitions"), p).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn sample_is_valid_and_sized() {
        let s = build();
        assert_eq!(
            (s.components.len(), s.endpoints.len(), s.interfaces.len()),
            (96, 32, 96)
        );
        assert_eq!((s.groups.len(), s.partitions.len()), (3, 1));
        for c in &s.components {
            let id = c["ID"].as_str().expect("id");
            assert_eq!(
                validate::type_of(id).as_deref(),
                Ok(c["Type"].as_str().expect("type"))
            );
        }
        for i in &s.interfaces {
            validate::mac(i["MACAddress"].as_str().expect("mac")).expect("valid MAC");
        }
        let nids: Vec<i64> = s
            .components
            .iter()
            .filter_map(|c| c["NID"].as_i64())
            .collect();
        assert_eq!(nids, (1..=64).collect::<Vec<_>>());
    }
}
