//! DHCP at the rack: the server's view of the inventory ([`RackHosts`], answered from the
//! desired state) and the relay of its events to the outbox: every lease bound is a boot
//! event, an address given from the range goes back to the inventory, an unknown MAC is
//! reported as seen.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use cairn_bootsvc::dhcp::{DhcpEvent, DhcpHosts, Host};
use cairn_protocols::MacAddr;
use cairn_protocols::agent::{BootEvent, BootStep, LeaseAssigned, MacSeen, ReportItem};
use tokio::sync::mpsc;

use super::rack::RackState;
use crate::runtime::Reporter;

/// Events waiting for the relay before the server starts counting drops.
pub const EVENT_QUEUE: usize = 8192;

/// The DHCP server's view of the rack.
#[derive(Debug, Clone)]
pub struct RackHosts(pub Arc<RackState>);

impl DhcpHosts for RackHosts {
    fn host(&self, mac: MacAddr) -> Option<Host> {
        let rack = self.0.read();
        let node = rack.node_by_mac(mac)?;
        let ipv4 = node
            .interfaces
            .iter()
            .filter(|i| i.mac == mac)
            .flat_map(|i| i.ips.iter())
            .filter_map(|ip| match ip.to_canonical() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(_) => None,
            })
            .collect();
        let hostname = node
            .instance_info
            .as_ref()
            .and_then(|i| i.local_hostname.clone())
            .unwrap_or_else(|| node.xname.to_string());
        Some(Host {
            xname: node.xname.clone(),
            ipv4,
            hostname,
            enabled: node.enabled,
        })
    }

    fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.0.read().is_reserved(ip)
    }
}

/// Turns the server's events into report items until the server is gone.
pub async fn relay(mut events: mpsc::Receiver<DhcpEvent>, reporter: Reporter) {
    let mut batch = Vec::new();
    while events.recv_many(&mut batch, 1024).await > 0 {
        let items: Vec<ReportItem> = batch.drain(..).flat_map(items_of).collect();
        reporter.report(items).await;
    }
}

fn items_of(event: DhcpEvent) -> Vec<ReportItem> {
    match event {
        DhcpEvent::Bound {
            mac,
            ip,
            xname,
            at_ms,
            ..
        } => vec![ReportItem::BootEvent(BootEvent {
            xname,
            mac: Some(mac),
            step: BootStep::Dhcp,
            ip: Some(IpAddr::V4(ip)),
            at_ms,
        })],
        DhcpEvent::RangeAssigned {
            xname,
            mac,
            ip,
            at_ms,
        } => vec![ReportItem::LeaseAssigned(LeaseAssigned {
            xname,
            mac,
            ip: IpAddr::V4(ip),
            at_ms,
        })],
        DhcpEvent::MacSeen {
            mac,
            ip,
            vendor_class,
            at_ms,
            ..
        } => vec![ReportItem::MacSeen(MacSeen {
            mac,
            ip: ip.map(IpAddr::V4),
            vendor_class,
            at_ms,
        })],
        DhcpEvent::Declined { mac, ip, .. } => {
            tracing::warn!(%mac, %ip, "a node declined its address: another host answers ARP for it");
            Vec::new()
        }
    }
}
