//! The rendering hook: with the cache, boot scripts name `/boot/v1/images/...` at the boot
//! service; without it, the origin.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cairn_bootsvc::images::ImageRef;
use cairn_bootsvc::{BootConfig, BootSource, BootState, NodeView, SourceResult};
use cairn_protocols::{
    BootEntry, BootKey, ClusterDefaults, GroupData, InstanceInfo, MacAddr, PhoneHome, Xname,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::origin::{Env, Origin, content, hex, sha256};

const MAC: &str = "aa:bb:cc:00:00:01";

/// One node, booting the `Default` entry.
struct OneNode {
    node: NodeView,
    entry: Arc<BootEntry>,
}

impl BootSource for OneNode {
    async fn node_by_mac(&self, mac: MacAddr) -> SourceResult<Option<NodeView>> {
        Ok(self.node.macs.contains(&mac).then(|| self.node.clone()))
    }
    async fn node_by_name(&self, xname: &Xname) -> SourceResult<Option<NodeView>> {
        Ok((&self.node.xname == xname).then(|| self.node.clone()))
    }
    async fn node_by_nid(&self, nid: i64) -> SourceResult<Option<NodeView>> {
        Ok((self.node.nid == Some(nid)).then(|| self.node.clone()))
    }
    async fn node_by_ip(&self, _: IpAddr) -> SourceResult<Option<NodeView>> {
        Ok(None)
    }
    async fn boot_entry(&self, key: &BootKey) -> SourceResult<Option<Arc<BootEntry>>> {
        Ok((key == &BootKey::Default).then(|| Arc::clone(&self.entry)))
    }
    async fn cluster_defaults(&self) -> SourceResult<Arc<ClusterDefaults>> {
        Ok(Arc::default())
    }
    async fn groups_of(&self, _: &Xname) -> SourceResult<Vec<String>> {
        Ok(Vec::new())
    }
    async fn group_data(&self, _: &str) -> SourceResult<Option<Arc<GroupData>>> {
        Ok(None)
    }
    async fn instance_info(&self, _: &Xname) -> SourceResult<Option<Arc<InstanceInfo>>> {
        Ok(None)
    }
    async fn record_phone_home(&self, _: &Xname, _: PhoneHome) -> SourceResult<()> {
        Ok(())
    }
}

fn source(kernel: &str, initrd: &str) -> OneNode {
    OneNode {
        node: NodeView {
            xname: "x1000c0s0b0n0".parse().unwrap(),
            nid: Some(1),
            role: Some("Compute".into()),
            sub_role: None,
            arch: None,
            enabled: true,
            macs: vec![MAC.parse().unwrap()],
        },
        entry: Arc::new(BootEntry {
            kernel: kernel.to_owned(),
            initrd: initrd.to_owned(),
            params: "console=ttyS0".into(),
            ..Default::default()
        }),
    }
}

async fn script(app: &Router) -> String {
    let req = Request::get(format!("/boot/v1/bootscript?mac={MAC}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn scripts_name_the_cache_and_the_cache_serves_them() {
    let origin = Origin::start().await;
    let (kbody, ibody) = (content(30, 4000), content(31, 6000));
    origin.put("vmlinuz", kbody.clone());
    origin.put("initrd.img", ibody.clone());
    // The desired state may carry the digest in the URL; the script never shows it.
    let kernel = format!(
        "{}#sha256={}",
        origin.url("img", "vmlinuz"),
        hex(&sha256(&kbody))
    );
    let initrd = origin.url("img", "initrd.img");
    let config = BootConfig::new(
        "http://10.0.0.254:27779",
        "http://10.0.0.254:27779/cloud-init",
    );

    let plain = BootState::new(source(&kernel, &initrd), config.clone()).unwrap();
    let s = script(&cairn_bootsvc::bss_router(plain)).await;
    assert!(
        s.contains(&format!("kernel --name kernel {kernel} initrd=initrd")),
        "{s}"
    );

    let env = Env::new(10 << 20);
    let wanted = [&kernel, &initrd].map(|u| ImageRef::parse(u).unwrap());
    env.cache.set_wanted(wanted.clone());
    let state = BootState::with_image_urls(
        source(&kernel, &initrd),
        config,
        Arc::new(env.cache.clone()),
    )
    .unwrap();
    let s = script(&cairn_bootsvc::bss_router(state)).await;
    let [kid, iid] = wanted.map(|r| r.id());
    assert!(
        s.contains(&format!(
            "kernel --name kernel http://10.0.0.254:27779/boot/v1/images/{kid}/vmlinuz initrd=initrd console=ttyS0"
        )),
        "{s}"
    );
    assert!(
        s.contains(&format!(
            "initrd --name initrd http://10.0.0.254:27779/boot/v1/images/{iid}/initrd.img || goto boot_retry"
        )),
        "{s}"
    );
    // Those paths are what the image router serves.
    for (id, name, body) in [(kid, "vmlinuz", &kbody), (iid, "initrd.img", &ibody)] {
        let r = env
            .request("GET", &format!("/boot/v1/images/{id}/{name}"), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body, body);
    }
}

#[tokio::test]
async fn only_http_images_are_rewritten() {
    let env = Env::new(10 << 20);
    let config = BootConfig::new(
        "http://10.0.0.254:27779",
        "http://10.0.0.254:27779/cloud-init",
    );
    let state = BootState::with_image_urls(
        source("tftp://10.1.0.1/uki.efi", "images/initrd"),
        config,
        Arc::new(env.cache.clone()),
    )
    .unwrap();
    let s = script(&cairn_bootsvc::bss_router(state)).await;
    assert!(
        s.contains("kernel --name kernel tftp://10.1.0.1/uki.efi "),
        "{s}"
    );
    assert!(s.contains("initrd --name initrd images/initrd "), "{s}");
}
