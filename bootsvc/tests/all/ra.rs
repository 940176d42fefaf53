//! Router advertisements between two network namespaces joined by a veth pair (root only).
//!
//! The sender runs as a child process of this test binary under `ip netns exec`, as the agent
//! would run in its namespace (with that namespace's sysfs, so the RA carries the MAC). The
//! receiving end is watched two ways: a raw ICMPv6 socket opened inside its namespace, and the
//! kernel there, which must accept the RA (hop limit 255, link-local source, checksum) and
//! build a SLAAC address from the prefix.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsFd as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cairn_bootsvc::ra::{
    INITIAL_ADVERTISEMENTS, ROUTER_ADVERTISEMENT, RaConfig, RaError, RaSender,
};
use socket2::{Domain, Protocol, Socket, Type};

const PREFIX: &str = "fd91:cafe::/64";

/// Two namespaces `cb-ra-s<pid>` / `cb-ra-r<pid>` with veth ends `ras<pid>` / `rar<pid>`;
/// deleted (with the veth and the child) on drop.
struct Topology {
    sender_ns: String,
    receiver_ns: String,
    sender_if: String,
    receiver_if: String,
    child: Option<Child>,
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?}");
}

fn sysctl(ns: &str, setting: &str) {
    let status = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-qw", setting])
        .status()
        .unwrap();
    assert!(status.success(), "sysctl {setting} in {ns}");
}

impl Topology {
    fn new() -> Topology {
        let pid = std::process::id();
        let topology = Topology {
            sender_ns: format!("cb-ra-s{pid}"),
            receiver_ns: format!("cb-ra-r{pid}"),
            sender_if: format!("ras{pid}"),
            receiver_if: format!("rar{pid}"),
            child: None,
        };
        for ns in [&topology.sender_ns, &topology.receiver_ns] {
            ip(&["netns", "add", ns]);
            // Link-local addresses usable at once (no DAD wait), no RS from the kernel: every
            // RA after the first one is then an answer to the test's own solicitation.
            sysctl(ns, "net.ipv6.conf.default.accept_dad=0");
            sysctl(ns, "net.ipv6.conf.default.router_solicitations=0");
            sysctl(ns, "net.ipv6.conf.default.accept_ra=2");
        }
        ip(&[
            "link",
            "add",
            &topology.sender_if,
            "netns",
            &topology.sender_ns,
            "type",
            "veth",
            "peer",
            "name",
            &topology.receiver_if,
            "netns",
            &topology.receiver_ns,
        ]);
        ip(&[
            "-n",
            &topology.sender_ns,
            "link",
            "set",
            &topology.sender_if,
            "up",
        ]);
        ip(&[
            "-n",
            &topology.receiver_ns,
            "link",
            "set",
            &topology.receiver_if,
            "up",
        ]);
        // Carrier and the link-local addresses come a moment after "up" (linkwatch): until
        // then an RA would leave without a valid source or be dropped by the veth.
        for (ns, interface) in [
            (&topology.sender_ns, &topology.sender_if),
            (&topology.receiver_ns, &topology.receiver_if),
        ] {
            wait_until("a link-local address", || {
                let text = ip_output(&["-n", ns, "-6", "addr", "show", "dev", interface]);
                text.contains("fe80::") && !text.contains("tentative")
            });
        }
        topology
    }

    fn sender_mac(&self) -> [u8; 6] {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.sender_ns, "cat"])
            .arg(format!("/sys/class/net/{}/address", self.sender_if))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let bytes: Vec<u8> = text
            .trim()
            .split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// A raw ICMPv6 socket inside `ns`, bound to `interface`: opened on a thread that moved into
    /// the namespace, since a socket belongs to the namespace it was created in.
    fn socket_in(ns: &str, interface: &str) -> (Socket, u32) {
        let path = format!("/run/netns/{ns}");
        let interface = interface.to_owned();
        std::thread::spawn(move || {
            let file = std::fs::File::open(path).unwrap();
            rustix::thread::move_into_link_name_space(
                file.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap();
            let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).unwrap();
            let ifindex = rustix::net::netdevice::name_to_index(&socket, &interface).unwrap();
            socket.bind_device(Some(interface.as_bytes())).unwrap();
            socket.set_multicast_hops_v6(255).unwrap();
            socket.set_multicast_if_v6(ifindex).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            (socket, ifindex)
        })
        .join()
        .unwrap()
    }

    fn start_sender(&mut self, interval: Duration) {
        let exe = std::env::current_exe().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.sender_ns])
            .arg(exe)
            .args([
                "--exact",
                "ra::sender_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CAIRN_RA_CHILD_IFACE", &self.sender_if)
            .env(
                "CAIRN_RA_CHILD_INTERVAL_MS",
                interval.as_millis().to_string(),
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // `ip netns exec` execs, so this PID is the test binary's child itself.
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.sender_ns, &self.receiver_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Receive ICMPv6 messages until a router advertisement, within `deadline`.
fn next_advertisement(socket: &Socket, deadline: Instant) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    loop {
        assert!(Instant::now() < deadline, "no router advertisement in time");
        use std::io::Read as _;
        match (&*socket).read(&mut buf) {
            Ok(len) if len >= 16 && buf[0] == ROUTER_ADVERTISEMENT => return buf[..len].to_vec(),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("receive: {e}"),
        }
    }
}

fn ip_output(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Poll `condition` (a few times a second) until it holds, failing after 30 s.
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "no {what} in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn advertisements_reach_the_link_and_solicitations_are_answered() {
    if !is_root() {
        eprintln!("SKIP: router advertisements need root (network namespaces, raw sockets)");
        return;
    }
    let mut topology = Topology::new();
    let (receiver, ifindex) = Topology::socket_in(&topology.receiver_ns, &topology.receiver_if);
    // A long interval: after the first RA at start, only solicitations cause more.
    topology.start_sender(Duration::from_secs(3600));
    let deadline = Instant::now() + Duration::from_secs(30);
    // The first advertisement comes at start, then INITIAL_ADVERTISEMENTS - 1 more.
    let first = next_advertisement(&receiver, deadline);
    assert_eq!(first[5] & 0xc0, 0, "M and O flags clear");
    assert_eq!(&first[6..8], &[0, 0], "router lifetime 0");
    let mac = topology.sender_mac();
    let slla: Vec<u8> = [&[1u8, 1][..], &mac[..]].concat();
    assert_eq!(&first[16..24], &slla[..], "SLLA option");
    assert_eq!(&first[24..28], &[3, 4, 64, 0xc0], "prefix option");
    let prefix: Ipv6Addr = "fd91:cafe::".parse().unwrap();
    assert_eq!(first[40..56], prefix.octets());
    for _ in 1..INITIAL_ADVERTISEMENTS {
        assert_eq!(next_advertisement(&receiver, deadline), first);
    }

    // The next unsolicited one is an hour away: a Router Solicitation gets an answer now.
    let solicitation = [133u8, 0, 0, 0, 0, 0, 0, 0];
    let all_routers = SocketAddrV6::new("ff02::2".parse().unwrap(), 0, 0, ifindex);
    receiver
        .send_to(&solicitation, &SocketAddr::V6(all_routers).into())
        .unwrap();
    let answer = next_advertisement(&receiver, Instant::now() + Duration::from_secs(30));
    assert_eq!(answer, first);

    // The receiving kernel accepted the RA and configured an address from the prefix.
    wait_until("a SLAAC address from the advertised prefix", || {
        let args = [
            "-n",
            &topology.receiver_ns,
            "-6",
            "addr",
            "show",
            "dev",
            &topology.receiver_if,
        ];
        ip_output(&args).contains("fd91:cafe:")
    });
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    if !is_root() {
        eprintln!("SKIP: the raw ICMPv6 socket needs root");
        return;
    }
    let config = RaConfig {
        interface: "cairn-nope0".into(),
        interval: Duration::from_secs(10),
        prefix: None,
    };
    let error = RaSender::bind(config).unwrap_err();
    assert!(matches!(error, RaError::Interface { .. }), "{error:?}");
    assert!(error.to_string().contains("cairn-nope0"), "{error}");
}

#[test]
fn without_cap_net_raw_the_error_says_so() {
    if !is_root() {
        eprintln!("SKIP: dropping CAP_NET_RAW on one thread needs it first (root)");
        return;
    }
    // Capabilities are per thread: drop CAP_NET_RAW from the effective set of a fresh one.
    let error = std::thread::spawn(|| {
        use rustix::thread::{CapabilitySet, capabilities, set_capabilities};
        let mut sets = capabilities(None).unwrap();
        sets.effective.remove(CapabilitySet::NET_RAW);
        set_capabilities(None, sets).unwrap();
        let config = RaConfig {
            interface: "lo".into(),
            interval: Duration::from_secs(10),
            prefix: None,
        };
        RaSender::bind(config).unwrap_err()
    })
    .join()
    .unwrap();
    assert!(matches!(error, RaError::Permission(_)), "{error:?}");
    assert!(error.to_string().contains("CAP_NET_RAW"), "{error}");
}

/// Not a test: the sender process of the namespace test, run by it under `ip netns exec`.
#[test]
#[ignore = "child process of advertisements_reach_the_link_and_solicitations_are_answered"]
fn sender_child() {
    let Ok(interface) = std::env::var("CAIRN_RA_CHILD_IFACE") else {
        return;
    };
    let interval_ms: u64 = std::env::var("CAIRN_RA_CHILD_INTERVAL_MS")
        .unwrap()
        .parse()
        .unwrap();
    let config = RaConfig {
        interface,
        interval: Duration::from_millis(interval_ms),
        prefix: Some(PREFIX.parse().unwrap()),
    };
    let sender = RaSender::bind(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(sender.serve());
}
