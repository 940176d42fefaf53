//! The stand-in agent: a relay-mode DHCP responder built with dhcproto, and an axum server
//! for the boot script and cloud-init that knows nodes by their source address.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_protocols::MacAddr;
use cairn_sim::node::{self, BootTarget};
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

pub const RELAY: Ipv4Addr = Ipv4Addr::new(127, 64, 0, 1);
pub const SERVER: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// A hang guard only: every boot here takes milliseconds.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What the stand-in does besides answering.
#[derive(Default)]
pub struct Quirks {
    /// Ignore each node's first DISCOVER.
    pub drop_first_discover: bool,
    /// Before each OFFER, send replies a node must skip: another xid, another MAC, a NAK (no
    /// meaning while selecting), and bytes that are not DHCP.
    pub decoys: bool,
    /// Leave option 54 out of OFFERs.
    pub no_server_id: bool,
    /// Answer these with silence.
    pub silent: HashSet<MacAddr>,
    /// NAK these nodes' REQUESTs.
    pub nak: HashSet<MacAddr>,
    /// 500 for these nodes' scripts.
    pub script_fails: HashSet<MacAddr>,
    /// 404 for vendor-data.
    pub no_vendor_data: bool,
    /// `Connection: close` on every response.
    pub close: bool,
    /// Take an unknown source asking for a MAC's script as that node (when another server
    /// leased the address and the test learns of it only later).
    pub learn_from_bootscript: bool,
}

#[derive(Default)]
pub struct Seen {
    pub discovers: HashMap<MacAddr, u32>,
    /// Address → node, from the ACKs.
    pub leased: HashMap<Ipv4Addr, MacAddr>,
    /// Every HTTP request: the peer and the path and query.
    pub http: Vec<(SocketAddr, String)>,
    /// Nodes between their first DISCOVER and their vendor-data, now and at most.
    pub booting: HashSet<MacAddr>,
    pub most_booting: usize,
}

struct Shared {
    quirks: Quirks,
    http: SocketAddr,
    seen: Mutex<Seen>,
}

/// The stand-in agent: DHCP and HTTP on loopback ports, stopped on drop.
pub struct StandIn {
    pub dhcp: SocketAddr,
    pub http: SocketAddr,
    shared: Arc<Shared>,
    _tasks: JoinSet<()>,
}

/// The address the stand-in leases to `mac`: in 127.64.0.0/16, from the MAC's last two bytes.
pub fn lease_for(mac: MacAddr) -> Ipv4Addr {
    Ipv4Addr::new(127, 64, mac.0[4].wrapping_add(1), mac.0[5])
}

impl StandIn {
    pub async fn start(quirks: Quirks) -> StandIn {
        let udp = UdpSocket::bind((SERVER, 0)).await.unwrap();
        let tcp = TcpListener::bind((SERVER, 0)).await.unwrap();
        let shared = Arc::new(Shared {
            quirks,
            http: tcp.local_addr().unwrap(),
            seen: Mutex::new(Seen::default()),
        });
        let app = Router::new()
            .route("/boot/v1/bootscript", get(bootscript))
            .route("/cloud-init/meta-data", get(meta_data))
            .route("/cloud-init/user-data", get(user_data))
            .route("/cloud-init/vendor-data", get(vendor_data))
            .with_state(Arc::clone(&shared));
        let mut tasks = JoinSet::new();
        let dhcp = udp.local_addr().unwrap();
        tasks.spawn(serve_dhcp(udp, Arc::clone(&shared)));
        tasks.spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(tcp, app).await.unwrap();
        });
        StandIn {
            dhcp,
            http: shared.http,
            shared,
            _tasks: tasks,
        }
    }

    pub fn target(&self) -> BootTarget {
        BootTarget::new(self.dhcp, RELAY).with_retry(Duration::from_millis(100))
    }

    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.shared.seen.lock().unwrap())
    }

    /// Tells the HTTP side that `ip` is `mac`'s (when another server leased it).
    pub fn learn(&self, ip: Ipv4Addr, mac: MacAddr) {
        self.shared.seen.lock().unwrap().leased.insert(ip, mac);
    }
}

async fn serve_dhcp(sock: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 1500];
    loop {
        let (len, src) = sock.recv_from(&mut buf).await.unwrap();
        let Ok(req) = Message::decode(&mut Decoder::new(&buf[..len])) else {
            continue;
        };
        // Relay mode answers relayed requests only.
        if req.giaddr().is_unspecified() || req.hlen() != 6 {
            continue;
        }
        let mac = MacAddr(req.chaddr().try_into().unwrap());
        let q = &shared.quirks;
        if q.silent.contains(&mac) {
            continue;
        }
        let ip = lease_for(mac);
        let reply = match req.opts().msg_type() {
            Some(MessageType::Discover) => {
                let count = {
                    let mut seen = shared.seen.lock().unwrap();
                    seen.booting.insert(mac);
                    seen.most_booting = seen.most_booting.max(seen.booting.len());
                    let n = seen.discovers.entry(mac).or_default();
                    *n += 1;
                    *n
                };
                if q.drop_first_discover && count == 1 {
                    continue;
                }
                if q.decoys {
                    let mut other_xid = reply(
                        &req,
                        MessageType::Offer,
                        lease_for(node::mac_of(9999)),
                        &shared,
                    );
                    other_xid.set_xid(req.xid().wrapping_add(1));
                    let mut other_mac = reply(&req, MessageType::Offer, ip, &shared);
                    other_mac.set_chaddr(&node::mac_of(9998).0);
                    let nak = reply(&req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, &shared);
                    for m in [other_xid, other_mac, nak] {
                        sock.send_to(&m.to_vec().unwrap(), src).await.unwrap();
                    }
                    sock.send_to(b"not DHCP at all", src).await.unwrap();
                }
                let mut offer = reply(&req, MessageType::Offer, ip, &shared);
                if q.no_server_id {
                    offer.opts_mut().remove(OptionCode::ServerIdentifier);
                }
                offer
            }
            Some(MessageType::Request) => {
                let server_id = req.opts().get(OptionCode::ServerIdentifier);
                let requested = req.opts().get(OptionCode::RequestedIpAddress);
                let right = server_id == Some(&DhcpOption::ServerIdentifier(SERVER))
                    && requested == Some(&DhcpOption::RequestedIpAddress(ip));
                if q.nak.contains(&mac) || !right {
                    let mut nak = reply(&req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, &shared);
                    nak.opts_mut()
                        .insert(DhcpOption::Message("not on this network".into()));
                    nak
                } else {
                    shared.seen.lock().unwrap().leased.insert(ip, mac);
                    reply(&req, MessageType::Ack, ip, &shared)
                }
            }
            _ => continue,
        };
        // Unicast to the datagram's source, as a relay-mode server does.
        sock.send_to(&reply.to_vec().unwrap(), src).await.unwrap();
    }
}

fn reply(req: &Message, kind: MessageType, yiaddr: Ipv4Addr, shared: &Shared) -> Message {
    let unspecified = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(
        req.xid(),
        unspecified,
        yiaddr,
        unspecified,
        req.giaddr(),
        req.chaddr(),
    );
    m.set_opcode(Opcode::BootReply);
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    opts.insert(DhcpOption::ServerIdentifier(SERVER));
    if kind != MessageType::Nak {
        opts.insert(DhcpOption::AddressLeaseTime(3600));
        opts.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 0, 0)));
        let ipxe =
            req.opts().get(OptionCode::UserClass) == Some(&DhcpOption::UserClass(b"iPXE".to_vec()));
        let mac = MacAddr(req.chaddr().try_into().unwrap());
        let bootfile = if ipxe {
            format!("http://{}/boot/v1/bootscript?mac={mac}", shared.http)
        } else {
            "ipxe.efi".to_owned()
        };
        m.set_fname_str(&bootfile);
        m.opts_mut()
            .insert(DhcpOption::BootfileName(bootfile.into_bytes()));
    }
    m
}

/// The node a request comes from, by its source address; records the request.
fn node_of(shared: &Shared, peer: SocketAddr, path: String) -> Option<MacAddr> {
    let mut seen = shared.seen.lock().unwrap();
    seen.http.push((peer, path));
    let IpAddr::V4(ip) = peer.ip() else {
        return None;
    };
    seen.leased.get(&ip).copied()
}

fn answer(shared: &Shared, status: StatusCode, body: String) -> Response {
    if shared.quirks.close {
        (status, [(header::CONNECTION, "close")], body).into_response()
    } else {
        (status, body).into_response()
    }
}

async fn bootscript(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mac = query.get("mac").cloned().unwrap_or_default();
    let path = format!("/boot/v1/bootscript?mac={mac}");
    let known = node_of(&shared, peer, path);
    let learned = match (known, MacAddr::parse(&mac), peer.ip()) {
        (None, Ok(asked), IpAddr::V4(ip)) if shared.quirks.learn_from_bootscript => {
            shared.seen.lock().unwrap().leased.insert(ip, asked);
            Some(asked)
        }
        _ => known,
    };
    let Some(node) = learned else {
        return answer(&shared, StatusCode::FORBIDDEN, "unknown source".into());
    };
    if node.to_string() != mac {
        return answer(&shared, StatusCode::FORBIDDEN, "not your MAC".into());
    }
    if shared.quirks.script_fails.contains(&node) {
        return answer(&shared, StatusCode::INTERNAL_SERVER_ERROR, "boom".into());
    }
    let script = format!(
        "#!ipxe\nkernel http://{}/k BOOTIF={mac}\nboot\n",
        shared.http
    );
    answer(&shared, StatusCode::OK, script)
}

async fn meta_data(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    match node_of(&shared, peer, "/cloud-init/meta-data".into()) {
        Some(node) => answer(&shared, StatusCode::OK, format!("instance-id: i-{node}\n")),
        None => answer(&shared, StatusCode::NOT_FOUND, String::new()),
    }
}

async fn user_data(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    match node_of(&shared, peer, "/cloud-init/user-data".into()) {
        Some(_) => answer(&shared, StatusCode::OK, "#cloud-config\n{}\n".into()),
        None => answer(&shared, StatusCode::NOT_FOUND, String::new()),
    }
}

async fn vendor_data(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let node = node_of(&shared, peer, "/cloud-init/vendor-data".into());
    if let Some(node) = node {
        shared.seen.lock().unwrap().booting.remove(&node);
    }
    match node {
        Some(_) if !shared.quirks.no_vendor_data => {
            answer(&shared, StatusCode::OK, "#cloud-config\n{}\n".into())
        }
        _ => answer(&shared, StatusCode::NOT_FOUND, String::new()),
    }
}
