//! Helpers shared by the unit tests: requests as clients send them, an in-memory inventory,
//! a relay-mode config.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};

use cairn_protocols::{MacAddr, Xname};

use super::config::{DhcpConfig, Resolved};
use super::{DhcpHosts, Host};

pub(crate) const SERVER: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 1);
pub(crate) const GIADDR: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 1);

pub(crate) fn mac(last: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0, 0x91, 0, last])
}

/// A request as a client behind a relay sends it.
pub(crate) fn request(kind: MessageType, mac: MacAddr) -> Message {
    let mut m = Message::new_with_id(
        0x1234_5678,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        GIADDR,
        &mac.octets(),
    );
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m
}

pub(crate) fn with(mut m: Message, opt: DhcpOption) -> Message {
    m.opts_mut().insert(opt);
    m
}

pub(crate) fn bytes(m: &Message) -> Vec<u8> {
    m.to_vec().unwrap()
}

pub(crate) fn user_class_ipxe() -> DhcpOption {
    DhcpOption::UserClass(b"iPXE".to_vec())
}

pub(crate) fn server_id(ip: Ipv4Addr) -> DhcpOption {
    DhcpOption::ServerIdentifier(ip)
}

pub(crate) fn requested(ip: Ipv4Addr) -> DhcpOption {
    DhcpOption::RequestedIpAddress(ip)
}

pub(crate) fn arch(a: u16) -> DhcpOption {
    DhcpOption::ClientSystemArchitecture(a.into())
}

pub(crate) fn opt(m: &Message, code: u8) -> Option<&DhcpOption> {
    m.opts().get(OptionCode::from(code))
}

/// An inventory in memory, changeable while a server runs.
#[derive(Default)]
pub(crate) struct MemHosts {
    pub hosts: Mutex<HashMap<MacAddr, Host>>,
}

impl MemHosts {
    pub(crate) fn add(&self, mac: MacAddr, xname: &str, ipv4: &[Ipv4Addr]) {
        self.hosts.lock().unwrap().insert(
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
        self.hosts.lock().unwrap().get(&mac).cloned()
    }

    fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.hosts
            .lock()
            .unwrap()
            .values()
            .any(|h| h.ipv4.contains(&ip))
    }
}

pub(crate) fn config() -> DhcpConfig {
    let mut c = DhcpConfig::new("http://10.91.0.1:8080");
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.server_ip = Some(SERVER);
    c.subnet = Some("10.91.0.0/24".parse().unwrap());
    c.router = Some(SERVER);
    c
}

pub(crate) fn resolved() -> Resolved {
    config().resolve().unwrap()
}

pub(crate) fn tree() -> sled::Tree {
    let db = sled::Config::new().temporary(true).open().unwrap();
    db.open_tree("leases").unwrap()
}

pub(crate) fn hosts() -> Arc<MemHosts> {
    Arc::new(MemHosts::default())
}
