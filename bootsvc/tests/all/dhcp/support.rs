//! An in-memory inventory, a relay-mode server and a relay-agent client.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_bootsvc::dhcp::{DhcpConfig, DhcpEvent, DhcpHosts, DhcpServer, DhcpStats, Host};
use cairn_protocols::{MacAddr, Xname};
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Encodable};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 1);
/// The simulated relay's address on the boot subnet (giaddr): the router, as on a real
/// routed boot network.
pub const GIADDR: Ipv4Addr = SERVER_IP;
/// Long enough for a loaded 2-core machine; only reached when something is broken.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn mac(a: u8, b: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0x00, 0x91, a, b])
}

/// The inventory, in memory.
#[derive(Default)]
pub struct MemHosts(Mutex<HashMap<MacAddr, Host>>);

impl MemHosts {
    pub fn add(&self, mac: MacAddr, xname: &str, ipv4: &[Ipv4Addr]) {
        self.0.lock().unwrap().insert(
            mac,
            Host {
                xname: Xname::parse(xname).unwrap(),
                ipv4: ipv4.to_vec(),
                hostname: xname.to_owned(),
                enabled: true,
            },
        );
    }
}

impl DhcpHosts for MemHosts {
    fn host(&self, mac: MacAddr) -> Option<Host> {
        self.0.lock().unwrap().get(&mac).cloned()
    }

    fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.0
            .lock()
            .unwrap()
            .values()
            .any(|h| h.ipv4.contains(&ip))
    }
}

/// The config of the relay-mode server: 10.91.0.0/24, range .1-.190, pool .191-.254.
pub fn relay_config() -> DhcpConfig {
    let mut c = DhcpConfig::new("http://10.91.0.1:8080");
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.server_ip = Some(SERVER_IP);
    c.subnet = Some("10.91.0.0/24".parse().unwrap());
    c.router = Some(SERVER_IP);
    c.dns = vec![SERVER_IP];
    c
}

/// A running server and what it reports.
pub struct Running {
    pub addr: SocketAddr,
    pub stats: Arc<DhcpStats>,
    pub events: mpsc::Receiver<DhcpEvent>,
    task: JoinHandle<()>,
    _db: sled::Db,
}

impl Running {
    /// Starts a server over the sled database in `dir`.
    pub async fn start(config: DhcpConfig, hosts: Arc<MemHosts>, dir: &Path) -> Running {
        let db = sled::open(dir).unwrap();
        let (tx, events) = mpsc::channel(100_000);
        let server = DhcpServer::bind(config, hosts, db.open_tree("dhcp").unwrap(), tx)
            .await
            .unwrap();
        Running {
            addr: server.local_addr(),
            stats: server.stats(),
            events,
            task: tokio::spawn(server.serve()),
            _db: db,
        }
    }

    /// Stops the server and closes its database (so it can be opened again).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// The next event matching `pred`, skipping others.
    pub async fn event(&mut self, pred: impl Fn(&DhcpEvent) -> bool) -> DhcpEvent {
        let mut all = self.events_until(pred).await;
        all.pop().unwrap()
    }

    /// Every event up to and including the next one matching `pred`.
    pub async fn events_until(&mut self, pred: impl Fn(&DhcpEvent) -> bool) -> Vec<DhcpEvent> {
        let deadline = Instant::now() + PATIENCE;
        let mut all = Vec::new();
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("no matching event in time")
                .expect("event channel closed");
            let done = pred(&ev);
            all.push(ev);
            if done {
                return all;
            }
        }
    }

    /// Events already queued.
    pub fn queued_events(&mut self) -> Vec<DhcpEvent> {
        let mut out = Vec::new();
        while let Ok(ev) = self.events.try_recv() {
            out.push(ev);
        }
        out
    }
}

/// A relay agent on loopback forwarding its clients' requests (giaddr set) to the server.
pub struct Relay {
    pub sock: UdpSocket,
    server: SocketAddr,
    next_xid: Mutex<u32>,
}

impl Relay {
    pub async fn new(server: SocketAddr) -> Relay {
        Relay {
            sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            server,
            next_xid: Mutex::new(0x1000),
        }
    }

    pub fn xid(&self) -> u32 {
        let mut x = self.next_xid.lock().unwrap();
        *x += 1;
        *x
    }

    /// A request from `mac` as the relay forwards it.
    pub fn message(&self, kind: MessageType, mac: MacAddr, xid: u32) -> Message {
        let z = Ipv4Addr::UNSPECIFIED;
        let mut m = Message::new_with_id(xid, z, z, z, GIADDR, &mac.octets());
        m.set_hops(1);
        m.opts_mut().insert(DhcpOption::MessageType(kind));
        m
    }

    pub async fn send_raw(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.server).await.unwrap();
    }

    /// The next reply with this xid (others are skipped), or `None` after `wait`.
    pub async fn reply(&self, xid: u32, wait: Duration) -> Option<Message> {
        let deadline = Instant::now() + wait;
        let mut buf = vec![0u8; 2048];
        loop {
            let got = tokio::time::timeout_at(deadline, self.sock.recv_from(&mut buf)).await;
            let (n, _) = got.ok()?.unwrap();
            let m = Message::from_bytes(&buf[..n]).unwrap();
            assert_eq!(m.opcode(), Opcode::BootReply);
            if m.xid() == xid {
                return Some(m);
            }
        }
    }

    /// Sends `msg` until its reply arrives (clients retransmit; a flood may hide one send).
    pub async fn exchange(&self, msg: &Message) -> Message {
        let bytes = msg.to_vec().unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.send_raw(&bytes).await;
            if let Some(m) = self.reply(msg.xid(), Duration::from_millis(500)).await {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no reply to xid {:#x}",
                msg.xid()
            );
        }
    }

    /// DISCOVER, OFFER, REQUEST, ACK with `extra` options in both requests.
    pub async fn handshake(&self, mac: MacAddr, extra: &[DhcpOption]) -> (Message, Message) {
        let xid = self.xid();
        let mut d = self.message(MessageType::Discover, mac, xid);
        for o in extra {
            d.opts_mut().insert(o.clone());
        }
        let offer = self.exchange(&d).await;
        assert_eq!(offer.opts().msg_type(), Some(MessageType::Offer));
        let mut r = self.message(MessageType::Request, mac, xid);
        for o in extra {
            r.opts_mut().insert(o.clone());
        }
        r.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER_IP));
        r.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(offer.yiaddr()));
        let ack = self.exchange(&r).await;
        (offer, ack)
    }
}

pub fn opt(m: &Message, code: u8) -> Option<&DhcpOption> {
    m.opts().get(OptionCode::from(code))
}

pub fn bootfile(m: &Message) -> Option<String> {
    match opt(m, 67) {
        Some(DhcpOption::BootfileName(b)) => Some(String::from_utf8(b.clone()).unwrap()),
        _ => None,
    }
}
