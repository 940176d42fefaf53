//! cloud-init rendering through the node-facing routes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cairn_protocols::{CloudConfigFile, ClusterDefaults, GroupData, InstanceInfo};

use crate::fixture::{MemSource, app, cluster, get, send, state, x};

/// n0 (10.0.0.1) in groups compute and slurm; n1 (10.0.0.2) in compute.
fn cloud_cluster() -> MemSource {
    let mut s = cluster();
    s.defaults = Arc::new(ClusterDefaults {
        cluster_name: Some("demo".into()),
        short_name: Some("nid".into()),
        nid_length: Some(3),
        public_keys: vec!["ssh-ed25519 AAAA admin@head".into()],
        user_data: Some(
            "#cloud-config\ntimezone: UTC\npackages: [chrony]\nruncmd: [[echo, cluster]]\n".into(),
        ),
        ..Default::default()
    });
    s.members.insert(
        "compute".into(),
        vec![x("x1000c0s0b0n0"), x("x1000c0s0b0n1")],
    );
    s.members.insert("slurm".into(), vec![x("x1000c0s0b0n0")]);
    s.members.insert("storage".into(), vec![x("x1000c0s2b0n0")]);
    let file = |content: &str| {
        Some(CloudConfigFile {
            content: content.into(),
            ..Default::default()
        })
    };
    s.group_data.insert(
        "compute".into(),
        Arc::new(GroupData {
            name: "compute".into(),
            description: Some("compute nodes".into()),
            meta_data: Some(
                serde_json::from_str(r#"{"syslog":"10.1.0.9","ntp":["a","b"]}"#).unwrap(),
            ),
            file: file("#cloud-config\ntimezone: Europe/Paris\npackages: [chrony, slurmd]\n"),
        }),
    );
    s.group_data.insert(
        "slurm".into(),
        Arc::new(GroupData {
            name: "slurm".into(),
            file: file(
                "## template: jinja\n#cloud-config\nhostname: {{ ds.meta_data.local_hostname }}\n",
            ),
            ..Default::default()
        }),
    );
    s.instances.insert(
        x("x1000c0s0b0n0"),
        Arc::new(InstanceInfo {
            local_hostname: Some("login-1".into()),
            public_keys: vec!["ssh-ed25519 BBBB me@laptop".into()],
            user_data: Some(
                "#cloud-config\ntimezone: America/Denver\nruncmd: [[echo, instance]]\n".into(),
            ),
            ..Default::default()
        }),
    );
    s
}

fn yaml(s: &str) -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[tokio::test]
async fn meta_data_has_openchami_shape() {
    let app = app(&state(cloud_cluster()));
    let r = get(&app, "/cloud-init/meta-data", Some("10.0.0.2:40000")).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (StatusCode::OK, "application/x-yaml")
    );
    let v = yaml(&r.body);
    assert_eq!(v["instance-id"], "i-x1000c0s0b0n1");
    assert_eq!(v["local-hostname"], "nid002");
    assert_eq!(v["hostname"], "nid002");
    assert_eq!(v["cluster-name"], "demo");
    let v1 = &v["instance_data"]["v1"];
    assert_eq!(v1["local_ipv4"], "10.0.0.2");
    assert_eq!(v1["public_keys"], yaml("[ssh-ed25519 AAAA admin@head]"));
    let vd = &v1["vendor_data"];
    assert_eq!(
        (
            vd["version"].as_str(),
            vd["nid"].as_i64(),
            vd["role"].as_str()
        ),
        (Some("1.0"), Some(2), Some("Compute"))
    );
    assert_eq!(vd["cabinet"], "x1000");
    assert_eq!(
        vd["cloud_init_base_url"],
        "http://10.0.0.254:27779/cloud-init"
    );
    assert_eq!(
        vd["groups"],
        yaml("compute: {Description: compute nodes, ntp: [a, b], syslog: 10.1.0.9}")
    );

    let r = get(&app, "/cloud-init/meta-data", Some("10.0.0.1:40000")).await;
    let v = yaml(&r.body);
    assert_eq!(v["local-hostname"], "login-1");
    let v1 = &v["instance_data"]["v1"];
    assert_eq!(
        v1["public_keys"],
        yaml("[ssh-ed25519 AAAA admin@head, ssh-ed25519 BBBB me@laptop]")
    );
    assert_eq!(
        v1["vendor_data"]["groups"]["slurm"]["Description"],
        "No description Found"
    );
}

#[tokio::test]
async fn user_data_merges_defaults_then_groups_then_instance() {
    let app = app(&state(cloud_cluster()));
    let r = get(&app, "/cloud-init/user-data", Some("10.0.0.1:1")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("#cloud-config\n"), "{}", r.body);
    assert_eq!(
        yaml(&r.body),
        yaml(
            "timezone: America/Denver\npackages: [chrony, slurmd]\nruncmd: [[echo, cluster], [echo, instance]]\n"
        )
    );
    let r = get(&app, "/cloud-init/user-data", Some("10.0.0.2:1")).await;
    assert_eq!(
        yaml(&r.body),
        yaml("timezone: Europe/Paris\npackages: [chrony, slurmd]\nruncmd: [[echo, cluster]]\n")
    );
    // A node with no layers at all still gets a valid, empty cloud-config.
    let app = app_without_layers();
    let r = get(&app, "/cloud-init/user-data", Some("10.0.0.3:1")).await;
    assert_eq!(r.body, "#cloud-config\n");
}

fn app_without_layers() -> axum::Router {
    app(&state(cluster()))
}

#[tokio::test]
async fn vendor_data_includes_each_group() {
    let app = app(&state(cloud_cluster()));
    let r = get(&app, "/cloud-init/vendor-data", Some("10.0.0.1:1")).await;
    assert_eq!(
        r.body,
        "#include\nhttp://10.0.0.254:27779/cloud-init/compute.yaml\nhttp://10.0.0.254:27779/cloud-init/slurm.yaml\n"
    );
    let r = get(&app, "/cloud-init/vendor-data", Some("10.0.0.3:1")).await;
    assert_eq!(r.body, "#include\n");
}

#[tokio::test]
async fn vendor_data_base_url_prefers_instance_then_defaults() {
    let mut src = cloud_cluster();
    src.defaults = Arc::new(ClusterDefaults {
        base_url: Some("http://ci.example/cloud-init/".into()),
        ..(*src.defaults).clone()
    });
    src.instances.insert(
        x("x1000c0s0b0n1"),
        Arc::new(InstanceInfo {
            cloud_init_base_url: Some("https://wg.example/ci".into()),
            ..Default::default()
        }),
    );
    let app = app(&state(src));
    let r = get(&app, "/cloud-init/vendor-data", Some("10.0.0.1:1")).await;
    assert!(
        r.body
            .contains("\nhttp://ci.example/cloud-init/compute.yaml\n"),
        "{}",
        r.body
    );
    let r = get(&app, "/cloud-init/vendor-data", Some("10.0.0.2:1")).await;
    assert_eq!(r.body, "#include\nhttps://wg.example/ci/compute.yaml\n");
}

#[tokio::test]
async fn group_files_only_for_members() {
    let app = app(&state(cloud_cluster()));
    let r = get(&app, "/cloud-init/slurm.yaml", Some("10.0.0.1:1")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("## template: jinja\n"), "{}", r.body);
    let r = get(&app, "/cloud-init/slurm.yaml", Some("10.0.0.2:1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.body
            .contains("x1000c0s0b0n1 is not a member of group \\\"slurm\\\""),
        "{}",
        r.body
    );
    // Member of a group without cloud-init data: an empty cloud-config, not an error.
    let r = get(&app, "/cloud-init/storage.yaml", Some("10.0.0.5:1")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "#cloud-config\n")
    );
    let r = get(&app, "/cloud-init/storage.txt", Some("10.0.0.5:1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_address_is_422_and_no_connect_info_is_500() {
    let app = app(&state(cloud_cluster()));
    for route in ["meta-data", "user-data", "vendor-data", "compute.yaml"] {
        let r = get(&app, &format!("/cloud-init/{route}"), Some("192.0.2.7:1")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{route}");
        assert!(
            r.body
                .contains("no node in the inventory has address 192.0.2.7"),
            "{}",
            r.body
        );
    }
    let r = get(&app, "/cloud-init/meta-data", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.body.contains("serve with connect info"), "{}", r.body);
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let app = app(&state(cloud_cluster()));
    let req = |xff: &str| {
        Request::get("/cloud-init/vendor-data")
            .header("x-forwarded-for", xff)
            .body(Body::empty())
            .unwrap()
    };
    // 127.0.0.1 is trusted in the fixture config.
    let r = send(&app, req("10.0.0.2"), Some("127.0.0.1:5000")).await;
    assert_eq!(
        r.body,
        "#include\nhttp://10.0.0.254:27779/cloud-init/compute.yaml\n"
    );
    // Anyone else's header is ignored: the peer address decides.
    let r = send(&app, req("10.0.0.2"), Some("10.0.0.3:5000")).await;
    assert_eq!(r.body, "#include\n");
    let r = send(&app, req("not-an-ip"), Some("127.0.0.1:5000")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn phone_home_records_the_report() {
    let st = state(cloud_cluster());
    let app = app(&st);
    let form = |body: &'static str| {
        Request::post("/cloud-init/phone-home/i-1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let r = send(
        &app,
        form("pub_key_rsa=ssh-rsa+AAA%0A&pub_key_ecdsa=&pub_key_ed25519=ssh-ed25519+CCC&instance_id=i-1&hostname=nid001&fqdn=nid001.demo"),
        Some("10.0.0.1:1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = st.source().phone_homes.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, x("x1000c0s0b0n0"));
    assert_eq!(
        (got[0].1.pub_key_rsa.as_str(), got[0].1.fqdn.as_str()),
        ("ssh-rsa AAA", "nid001.demo")
    );

    let r = send(&app, form("hostname=a%0Ab"), Some("10.0.0.1:1")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("hostname: newline"), "{}", r.body);
    let r = send(&app, form("hostname=n"), Some("192.0.2.1:1")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let big = Request::post("/cloud-init/phone-home/i-1")
        .body(Body::from(vec![b'a'; 70 * 1024]))
        .unwrap();
    let r = send(&app, big, Some("10.0.0.1:1")).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(st.source().phone_homes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn broken_stored_layer_is_a_500_naming_it() {
    let mut src = cloud_cluster();
    src.defaults = Arc::new(ClusterDefaults {
        user_data: Some("#cloud-config\n- not a mapping\n".into()),
        ..Default::default()
    });
    let app = app(&state(src));
    let r = get(&app, "/cloud-init/user-data", Some("10.0.0.1:1")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.body.contains("cluster defaults user-data is invalid"),
        "{}",
        r.body
    );
}
