//! Boot events: each step the rack serves a node (a DHCP lease, its script, an image, its
//! cloud-init meta-data) goes to the outbox, so the inventory shows which racks booted what,
//! also while they were cut off. HTTP steps are noted by [`note_http`], a middleware around
//! the boot routes; DHCP steps by the lease relay.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use cairn_protocols::agent::{BootEvent, BootStep, ReportItem};
use cairn_protocols::{MacAddr, Xname};

use super::rack::RackState;
use crate::runtime::Reporter;

/// What the middleware needs.
#[derive(Debug, Clone)]
pub struct EventSink {
    /// The rack, to name the node behind a MAC or address.
    pub rack: Arc<RackState>,
    /// The outbox.
    pub reporter: Reporter,
}

impl EventSink {
    /// Queues one event for the outbox (not waiting for the disk: an event is a record of
    /// what happened, not a promise made to the node).
    pub async fn note(
        &self,
        step: BootStep,
        xname: Option<Xname>,
        mac: Option<MacAddr>,
        ip: Option<IpAddr>,
    ) {
        if xname.is_none() && mac.is_none() {
            return;
        }
        let event = BootEvent {
            xname,
            mac,
            step,
            ip,
            at_ms: crate::runtime::now_ms(),
        };
        self.reporter
            .report(vec![ReportItem::BootEvent(event)])
            .await;
    }
}

/// The step a request path serves, if it is one worth a record.
fn step_of(path: &str) -> Option<BootStep> {
    if path == "/boot/v1/bootscript" {
        Some(BootStep::Script)
    } else if path.starts_with("/boot/v1/images/") {
        Some(BootStep::Image)
    } else if path == "/cloud-init/meta-data" {
        Some(BootStep::CloudInit)
    } else {
        None
    }
}

/// The `mac=` of a bootscript query.
fn query_mac(query: Option<&str>) -> Option<MacAddr> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "mac")
        .and_then(|(_, v)| v.parse().ok())
}

/// Notes a successful boot step (see the module docs). The node is named by the script's
/// `mac=`, else by the client's address.
pub async fn note_http(
    State(sink): State<EventSink>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let step = step_of(req.uri().path());
    let mac = step.and_then(|_| query_mac(req.uri().query()));
    let resp = next.run(req).await;
    if let Some(step) = step
        && resp.status().is_success()
    {
        let ip = peer.ip().to_canonical();
        let xname = {
            let rack = sink.rack.read();
            mac.and_then(|m| rack.node_by_mac(m))
                .or_else(|| rack.node_by_ip(ip))
                .map(|n| n.xname.clone())
        };
        // Only HEAD/GET successes get here; a Range request of an image counts once per
        // request, which is what a booting node does.
        sink.note(step, xname, mac, Some(ip)).await;
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_macs() {
        assert_eq!(step_of("/boot/v1/bootscript"), Some(BootStep::Script));
        assert_eq!(step_of("/boot/v1/images/ab/vmlinuz"), Some(BootStep::Image));
        assert_eq!(step_of("/cloud-init/meta-data"), Some(BootStep::CloudInit));
        assert_eq!(step_of("/cloud-init/user-data"), None);
        assert_eq!(
            query_mac(Some("mac=02:00:00:00:00:01&retry=1")),
            Some("02:00:00:00:00:01".parse().unwrap())
        );
        assert_eq!(query_mac(Some("nid=3")), None);
        assert_eq!(query_mac(None), None);
    }
}
