//! Node-facing answers are kept between requests (`cairn-bootsvc`'s answer cache keyed by
//! the inventory revision): each change an operator makes shows in the very next answer, and
//! no node is ever handed another's.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use serde_json::json;

use crate::boot::{fixture, ip, mac};
use crate::support::{App, node};

/// The body of `GET path` asked from node `i`'s address, which must answer 200.
async fn asked_by(app: &App, path: &str, i: u32) -> String {
    let peer: SocketAddr = format!("{}:40001", ip(i)).parse().unwrap();
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let r = app.send(req).await;
    assert_eq!(r.status, 200, "{path} from node {i}: {}", r.body);
    r.body.as_str().unwrap().to_owned()
}

/// The bootscript for node `i` by its MAC.
async fn script_of(app: &App, i: u32) -> String {
    let r = app
        .raw("GET", &format!("/boot/v1/bootscript?mac={}", mac(i)), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_str().unwrap().to_owned()
}

async fn set_kernel(app: &App, i: u32, kernel: &str) {
    app.expect(
        "PUT",
        "/boot/v1/bootparameters",
        Some(json!({"hosts": [node(i)], "kernel": format!("http://10.1.0.1/{kernel}")})),
        200,
    )
    .await;
}

#[tokio::test]
async fn a_changed_boot_entry_shows_in_the_next_script() {
    let app = fixture().await;
    set_kernel(&app, 0, "first").await;
    set_kernel(&app, 1, "other").await;
    for _ in 0..2 {
        let s = script_of(&app, 0).await;
        assert!(s.contains("/first ") && s.contains(&node(0)), "{s}");
        let s = script_of(&app, 1).await;
        assert!(s.contains("/other ") && s.contains(&node(1)), "{s}");
    }
    set_kernel(&app, 0, "second").await;
    let s = script_of(&app, 0).await;
    assert!(s.contains("/second ") && !s.contains("/first "), "{s}");
    assert!(script_of(&app, 1).await.contains("/other "));
}

#[tokio::test]
async fn changed_cloud_init_data_and_groups_show_in_the_next_answer() {
    let app = fixture().await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "compute", "members": {"ids": [node(0), node(1)]}})),
        201,
    )
    .await;
    let group = |role: &str| json!({"meta-data": {"slurm_role": role}});
    let compute = "/cloud-init/admin/groups/compute";
    app.expect("PUT", compute, Some(group("worker")), 201).await;

    for _ in 0..2 {
        for i in [0, 1] {
            let meta = asked_by(&app, "/cloud-init/meta-data", i).await;
            assert!(meta.contains(&format!("i-{}", node(i))), "{meta}");
            assert!(meta.contains(&format!("local_ipv4: {}", ip(i))), "{meta}");
            assert!(meta.contains("slurm_role: worker"), "{meta}");
        }
    }
    app.expect("PUT", compute, Some(group("controller")), 201)
        .await;
    let meta = asked_by(&app, "/cloud-init/meta-data", 0).await;
    assert!(meta.contains("slurm_role: controller"), "{meta}");

    let vendor = asked_by(&app, "/cloud-init/vendor-data", 0).await;
    assert!(vendor.contains("/compute.yaml"), "{vendor}");
    app.expect(
        "DELETE",
        &format!("/hsm/v2/groups/compute/members/{}", node(0)),
        None,
        200,
    )
    .await;
    assert_eq!(
        asked_by(&app, "/cloud-init/vendor-data", 0).await,
        "#include\n"
    );
    let meta = asked_by(&app, "/cloud-init/meta-data", 0).await;
    assert!(!meta.contains("slurm_role"), "{meta}");
    assert!(
        asked_by(&app, "/cloud-init/vendor-data", 1)
            .await
            .contains("/compute.yaml")
    );
}
