//! A node's namespace on the rack bridge.

use std::ffi::OsStr;
use std::process::Command;

use anyhow::Context;
use cairn_protocols::MacAddr;

use super::{BRIDGE, NODE_IFACE, command_in, delete_namespace, ip, ip_in};

/// A node's namespace, deleted on drop (its bridge port goes with it).
pub struct NodeNs {
    name: String,
    port: String,
    mac: MacAddr,
}

impl NodeNs {
    /// Namespace `name` with [`NODE_IFACE`] (`mac`) whose peer `port` is on the bridge of
    /// namespace `agent`. Whatever was made is removed again if a step fails.
    pub(super) fn create(
        name: String,
        port: String,
        mac: MacAddr,
        agent: &str,
    ) -> anyhow::Result<NodeNs> {
        let node = NodeNs { name, port, mac };
        node.build(agent)
            .with_context(|| format!("adding node {} ({mac})", node.name))?;
        Ok(node)
    }

    fn build(&self, agent: &str) -> anyhow::Result<()> {
        ip(&["netns", "add", &self.name])?;
        ip_in(&self.name, &["link", "set", "lo", "up"])?;
        ip(&[
            "link", "add", &self.port, "netns", agent, "type", "veth", "peer", "name", NODE_IFACE,
            "netns", &self.name,
        ])?;
        ip_in(agent, &["link", "set", &self.port, "master", BRIDGE, "up"])?;
        let mac = self.mac.to_string();
        ip_in(&self.name, &["link", "set", NODE_IFACE, "address", &mac])?;
        ip_in(&self.name, &["link", "set", NODE_IFACE, "up"])?;
        Ok(())
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's interface ([`NODE_IFACE`]).
    pub fn iface(&self) -> &str {
        NODE_IFACE
    }

    /// The node's MAC address.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// The node's port on the bridge, in the agent namespace.
    pub fn bridge_port(&self) -> &str {
        &self.port
    }

    /// Assigns a static address to the node's interface, e.g. `10.91.0.50/24`.
    pub fn add_addr(&self, cidr: &str) -> anyhow::Result<()> {
        ip_in(&self.name, &["addr", "add", cidr, "dev", NODE_IFACE])
    }

    /// `ip netns exec <node ns> program`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        command_in(&self.name, program)
    }
}

impl Drop for NodeNs {
    fn drop(&mut self) {
        delete_namespace(&self.name);
    }
}
