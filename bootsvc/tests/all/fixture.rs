//! An in-memory `BootSource` and a small cluster for the tests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use cairn_bootsvc::{BootConfig, BootSource, BootState, NodeView, SourceResult};
use cairn_protocols::{
    BootEntry, BootKey, ClusterDefaults, GroupData, HmsArch, InstanceInfo, MacAddr, PhoneHome,
    Xname,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Test data held in maps; lookups return what is stored.
#[derive(Default)]
pub struct MemSource {
    pub nodes: Vec<NodeView>,
    pub ips: HashMap<IpAddr, Xname>,
    pub entries: HashMap<BootKey, Arc<BootEntry>>,
    pub defaults: Arc<ClusterDefaults>,
    pub members: HashMap<String, Vec<Xname>>,
    pub group_data: HashMap<String, Arc<GroupData>>,
    pub instances: HashMap<Xname, Arc<InstanceInfo>>,
    pub phone_homes: Mutex<Vec<(Xname, PhoneHome)>>,
}

impl MemSource {
    fn find(&self, f: impl Fn(&NodeView) -> bool) -> Option<NodeView> {
        self.nodes.iter().find(|n| f(n)).cloned()
    }
}

impl BootSource for MemSource {
    async fn node_by_mac(&self, mac: MacAddr) -> SourceResult<Option<NodeView>> {
        Ok(self.find(|n| n.macs.contains(&mac)))
    }

    async fn node_by_name(&self, xname: &Xname) -> SourceResult<Option<NodeView>> {
        Ok(self.find(|n| &n.xname == xname))
    }

    async fn node_by_nid(&self, nid: i64) -> SourceResult<Option<NodeView>> {
        Ok(self.find(|n| n.nid == Some(nid)))
    }

    async fn node_by_ip(&self, ip: IpAddr) -> SourceResult<Option<NodeView>> {
        let Some(x) = self.ips.get(&ip) else {
            return Ok(None);
        };
        Ok(self.find(|n| &n.xname == x))
    }

    async fn boot_entry(&self, key: &BootKey) -> SourceResult<Option<Arc<BootEntry>>> {
        Ok(self.entries.get(key).cloned())
    }

    async fn cluster_defaults(&self) -> SourceResult<Arc<ClusterDefaults>> {
        Ok(Arc::clone(&self.defaults))
    }

    async fn groups_of(&self, xname: &Xname) -> SourceResult<Vec<String>> {
        Ok(self
            .members
            .iter()
            .filter(|(_, m)| m.contains(xname))
            .map(|(g, _)| g.clone())
            .collect())
    }

    async fn group_data(&self, name: &str) -> SourceResult<Option<Arc<GroupData>>> {
        Ok(self.group_data.get(name).cloned())
    }

    async fn instance_info(&self, xname: &Xname) -> SourceResult<Option<Arc<InstanceInfo>>> {
        Ok(self.instances.get(xname).cloned())
    }

    async fn record_phone_home(&self, xname: &Xname, report: PhoneHome) -> SourceResult<()> {
        self.phone_homes
            .lock()
            .unwrap()
            .push((xname.clone(), report));
        Ok(())
    }
}

pub fn x(s: &str) -> Xname {
    s.parse().unwrap()
}

pub fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

pub fn node(xname: &str, nid: i64, role: &str, macs: &[&str]) -> NodeView {
    NodeView {
        xname: x(xname),
        nid: Some(nid),
        role: Some(role.to_owned()),
        sub_role: None,
        arch: Some(HmsArch::X86),
        enabled: true,
        macs: macs.iter().map(|m| mac(m)).collect(),
    }
}

pub fn entry(kernel: &str, initrd: &str, params: &str) -> Arc<BootEntry> {
    Arc::new(BootEntry {
        params: params.to_owned(),
        kernel: kernel.to_owned(),
        initrd: initrd.to_owned(),
        ..Default::default()
    })
}

/// Five nodes: n0 with its own entry, n1 by role Compute, n2 (Service) by Default, n3
/// disabled, n4 with its own entry without an initrd. `Unknown-x86_64` is configured,
/// `Unknown-arm64` is not.
pub fn cluster() -> MemSource {
    let mut s = MemSource {
        nodes: vec![
            node("x1000c0s0b0n0", 1, "Compute", &["aa:bb:cc:00:00:01"]),
            node(
                "x1000c0s0b0n1",
                2,
                "Compute",
                &["aa:bb:cc:00:00:02", "aa:bb:cc:00:10:02"],
            ),
            node("x1000c0s1b0n0", 3, "Service", &["aa:bb:cc:00:00:03"]),
            NodeView {
                enabled: false,
                ..node("x1000c0s1b0n1", 4, "Compute", &["aa:bb:cc:00:00:04"])
            },
            node("x1000c0s2b0n0", 5, "Storage", &[]),
        ],
        ..MemSource::default()
    };
    for (i, n) in s.nodes.iter().enumerate() {
        s.ips.insert(
            format!("10.0.0.{}", i + 1).parse().unwrap(),
            n.xname.clone(),
        );
    }
    let e = &mut s.entries;
    e.insert(
        BootKey::Node(x("x1000c0s0b0n0")),
        entry(
            "http://10.1.0.1/n0/vmlinuz",
            "http://10.1.0.1/n0/initrd.img",
            "console=ttyS0,115200 ip=dhcp",
        ),
    );
    e.insert(
        BootKey::Role("Compute".into()),
        entry(
            "http://10.1.0.1/compute/vmlinuz",
            "http://10.1.0.1/compute/initrd",
            "quiet root=live:http://10.1.0.1/compute/rootfs",
        ),
    );
    e.insert(
        BootKey::Default,
        entry(
            "http://10.1.0.1/default/vmlinuz",
            "http://10.1.0.1/default/initrd",
            "console=tty0",
        ),
    );
    e.insert(
        BootKey::Node(x("x1000c0s2b0n0")),
        entry(
            "tftp://10.1.0.1/uki.efi",
            "",
            "initrd=old ds=nocloud-net;s=http://10.9.9.9:8081/cloud-init/ nid=99 selinux=0",
        ),
    );
    e.insert(
        BootKey::Unknown("x86_64".into()),
        entry(
            "http://10.1.0.1/discovery/vmlinuz",
            "http://10.1.0.1/discovery/initrd",
            "discovery=1",
        ),
    );
    s
}

pub fn config() -> BootConfig {
    BootConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..BootConfig::new(
            "http://10.0.0.254:27779",
            "http://10.0.0.254:27779/cloud-init",
        )
    }
}

pub fn state(src: MemSource) -> BootState<Arc<MemSource>> {
    BootState::new(Arc::new(src), config()).unwrap()
}

/// Both routers as the coordinator mounts them.
pub fn app(st: &BootState<Arc<MemSource>>) -> Router {
    Router::new()
        .merge(cairn_bootsvc::bss_router(st.clone()))
        .nest("/cloud-init", cairn_bootsvc::cloud_init_router(st.clone()))
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

/// Sends one request from `peer` (None: no connect info) and collects the reply.
pub async fn send(app: &Router, req: Request<Body>, peer: Option<&str>) -> Reply {
    let mut req = req;
    if let Some(p) = peer {
        let addr: SocketAddr = p.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

pub async fn get(app: &Router, uri: &str, peer: Option<&str>) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap(), peer).await
}
