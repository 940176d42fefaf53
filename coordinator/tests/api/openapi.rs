//! `/openapi.json` kept true: every documented (method, path) is served, and the SMD subset
//! Cairn implements is documented.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::App;

/// A plausible value for each path parameter.
fn fill(path: &str) -> String {
    let mut out = path.to_owned();
    for (param, value) in [
        ("{xname}", "x1000c0s0b0n0"),
        ("{xname_id}", "x1000c0s0b0n0"),
        ("{ethInterfaceID}", "a4bf012b7310"),
        ("{ipAddress}", "10.0.0.1"),
        ("{group_label}", "blue"),
        ("{partition_name}", "p1"),
        ("{nid}", "1"),
        ("{id}", "2"),
        ("{kind}", "role"),
        ("{transitionID}", "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ("{group}", "compute"),
    ] {
        out = out.replace(param, value);
    }
    assert!(
        !out.contains('{'),
        "no sample value for a parameter of {path}"
    );
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn served_document_matches_the_generated_one() {
    let app = App::start().await;
    let served = app.get_ok("/openapi.json").await;
    let generated = serde_json::to_value(cairn_coordinator::api::openapi()).unwrap();
    assert_eq!(served, generated);
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        served["openapi"]
    );
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = App::start().await;
    let doc = serde_json::to_value(cairn_coordinator::api::openapi()).unwrap();
    let ops = documented(&doc);
    assert!(ops.len() > 60, "only {} operations documented", ops.len());
    for (method, path) in &ops {
        let uri = fill(path);
        let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then(|| b"{}".to_vec());
        let r = app.raw(method, &uri, body).await;
        assert_ne!(
            r.status, 405,
            "{method} {path} is documented but not routed"
        );
        if r.status == 404 {
            assert_ne!(
                r.body["detail"], "no such API path",
                "{method} {path} is documented but not routed"
            );
        }
        assert!(
            r.status.as_u16() < 500,
            "{method} {uri}: {} {}",
            r.status,
            r.body
        );
    }
}

/// The SMD routes (BEHAVIOUR.md §1.1) Cairn implements.
const SMD: &[(&str, &str)] = &[
    ("GET", "/service/ready"),
    ("GET", "/service/liveness"),
    ("GET", "/service/values"),
    ("GET", "/service/values/{kind}"),
    ("GET", "/State/Components"),
    ("POST", "/State/Components"),
    ("DELETE", "/State/Components"),
    ("GET", "/State/Components/{xname}"),
    ("PUT", "/State/Components/{xname}"),
    ("DELETE", "/State/Components/{xname}"),
    ("GET", "/State/Components/ByNID/{nid}"),
    ("POST", "/State/Components/Query"),
    ("POST", "/State/Components/ByNID/Query"),
    ("PATCH", "/State/Components/BulkStateData"),
    ("PATCH", "/State/Components/{xname}/StateData"),
    ("PATCH", "/State/Components/BulkFlagOnly"),
    ("PATCH", "/State/Components/{xname}/FlagOnly"),
    ("PATCH", "/State/Components/BulkEnabled"),
    ("PATCH", "/State/Components/{xname}/Enabled"),
    ("PATCH", "/State/Components/BulkSoftwareStatus"),
    ("PATCH", "/State/Components/{xname}/SoftwareStatus"),
    ("PATCH", "/State/Components/BulkRole"),
    ("PATCH", "/State/Components/{xname}/Role"),
    ("PATCH", "/State/Components/BulkNID"),
    ("PATCH", "/State/Components/{xname}/NID"),
    ("GET", "/Inventory/RedfishEndpoints"),
    ("POST", "/Inventory/RedfishEndpoints"),
    ("DELETE", "/Inventory/RedfishEndpoints"),
    ("GET", "/Inventory/RedfishEndpoints/{xname}"),
    ("PUT", "/Inventory/RedfishEndpoints/{xname}"),
    ("PATCH", "/Inventory/RedfishEndpoints/{xname}"),
    ("DELETE", "/Inventory/RedfishEndpoints/{xname}"),
    ("POST", "/Inventory/Discover"),
    ("GET", "/Inventory/DiscoveryStatus"),
    ("GET", "/Inventory/DiscoveryStatus/{id}"),
    ("GET", "/Inventory/ComponentEndpoints"),
    ("DELETE", "/Inventory/ComponentEndpoints"),
    ("GET", "/Inventory/ComponentEndpoints/{xname}"),
    ("DELETE", "/Inventory/ComponentEndpoints/{xname}"),
    ("GET", "/Inventory/EthernetInterfaces"),
    ("POST", "/Inventory/EthernetInterfaces"),
    ("DELETE", "/Inventory/EthernetInterfaces"),
    ("GET", "/Inventory/EthernetInterfaces/{ethInterfaceID}"),
    ("PATCH", "/Inventory/EthernetInterfaces/{ethInterfaceID}"),
    ("DELETE", "/Inventory/EthernetInterfaces/{ethInterfaceID}"),
    (
        "GET",
        "/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses",
    ),
    (
        "POST",
        "/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses",
    ),
    (
        "PATCH",
        "/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses/{ipAddress}",
    ),
    (
        "DELETE",
        "/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses/{ipAddress}",
    ),
    ("GET", "/groups"),
    ("POST", "/groups"),
    ("GET", "/groups/labels"),
    ("GET", "/groups/{group_label}"),
    ("PATCH", "/groups/{group_label}"),
    ("DELETE", "/groups/{group_label}"),
    ("GET", "/groups/{group_label}/members"),
    ("POST", "/groups/{group_label}/members"),
    ("PUT", "/groups/{group_label}/members"),
    ("DELETE", "/groups/{group_label}/members/{xname_id}"),
    ("GET", "/partitions"),
    ("POST", "/partitions"),
    ("GET", "/partitions/names"),
    ("GET", "/partitions/{partition_name}"),
    ("PATCH", "/partitions/{partition_name}"),
    ("DELETE", "/partitions/{partition_name}"),
    ("GET", "/partitions/{partition_name}/members"),
    ("POST", "/partitions/{partition_name}/members"),
    // Not in SMD's router, but the same as for groups.
    ("PUT", "/partitions/{partition_name}/members"),
    ("DELETE", "/partitions/{partition_name}/members/{xname_id}"),
    ("GET", "/memberships"),
    ("GET", "/memberships/{xname}"),
];

/// Cairn's own routes.
const CAIRN: &[(&str, &str)] = &[
    ("GET", "/apis/cairn/v1/cluster"),
    ("POST", "/apis/cairn/v1/cluster/members"),
    ("DELETE", "/apis/cairn/v1/cluster/members/{id}"),
    ("POST", "/apis/cairn/v1/internal/propose"),
    ("POST", "/apis/cairn/v1/internal/read-index"),
    ("GET", "/apis/cairn/v1/agents"),
    ("GET", "/apis/cairn/v1/boots"),
    ("GET", "/apis/cairn/v1/boots/{id}"),
    ("DELETE", "/apis/cairn/v1/agents/{id}"),
    ("POST", "/apis/cairn/v1/internal/agents/seen"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// BSS (BEHAVIOUR.md §3.1) and OpenCHAMI cloud-init (§4.1) routes Cairn implements, plus
/// Cairn's phone-home listing.
const BOOT: &[(&str, &str)] = &[
    ("GET", "/boot/v1/bootparameters"),
    ("POST", "/boot/v1/bootparameters"),
    ("PUT", "/boot/v1/bootparameters"),
    ("PATCH", "/boot/v1/bootparameters"),
    ("DELETE", "/boot/v1/bootparameters"),
    ("GET", "/boot/v1/bootscript"),
    ("GET", "/boot/v1/hosts"),
    ("POST", "/boot/v1/hosts"),
    ("GET", "/boot/v1/service/status"),
    ("GET", "/boot/v1/service/status/all"),
    ("GET", "/boot/v1/service/version"),
    ("GET", "/boot/v1/service/hsm"),
    ("GET", "/boot/v1/service/storage/status"),
    ("GET", "/cloud-init/meta-data"),
    ("GET", "/cloud-init/user-data"),
    ("GET", "/cloud-init/vendor-data"),
    ("GET", "/cloud-init/{group}.yaml"),
    ("POST", "/cloud-init/phone-home/{id}"),
    ("GET", "/cloud-init/admin/cluster-defaults"),
    ("POST", "/cloud-init/admin/cluster-defaults"),
    ("GET", "/cloud-init/admin/groups"),
    ("POST", "/cloud-init/admin/groups"),
    ("GET", "/cloud-init/admin/groups/{id}"),
    ("PUT", "/cloud-init/admin/groups/{id}"),
    ("DELETE", "/cloud-init/admin/groups/{id}"),
    ("GET", "/cloud-init/admin/instance-info/{id}"),
    ("PUT", "/cloud-init/admin/instance-info/{id}"),
    ("GET", "/cloud-init/admin/phone-home"),
];

/// PCS (BEHAVIOUR.md §5) routes Cairn implements (power capping is not).
const PCS: &[(&str, &str)] = &[
    ("POST", "/power-control/v1/transitions"),
    ("GET", "/power-control/v1/transitions"),
    ("GET", "/power-control/v1/transitions/{transitionID}"),
    ("DELETE", "/power-control/v1/transitions/{transitionID}"),
    ("GET", "/power-control/v1/power-status"),
    ("POST", "/power-control/v1/power-status"),
    ("GET", "/power-control/v1/liveness"),
    ("GET", "/power-control/v1/readiness"),
    ("GET", "/power-control/v1/health"),
];

#[tokio::test]
async fn the_smd_subset_is_documented() {
    let doc = serde_json::to_value(cairn_coordinator::api::openapi()).unwrap();
    let ops = documented(&doc);
    let wanted: Vec<(String, String)> = SMD
        .iter()
        .map(|(m, p)| ((*m).to_owned(), format!("/hsm/v2{p}")))
        .chain(
            CAIRN
                .iter()
                .chain(BOOT)
                .chain(PCS)
                .map(|(m, p)| ((*m).to_owned(), (*p).to_owned())),
        )
        .collect();
    let missing: Vec<_> = wanted.iter().filter(|w| !ops.contains(w)).collect();
    assert!(missing.is_empty(), "not documented: {missing:?}");
    // And nothing undocumented sneaks in: the document is exactly this list.
    let extra: Vec<_> = ops.iter().filter(|o| !wanted.contains(o)).collect();
    assert!(
        extra.is_empty(),
        "documented but not in the expected list: {extra:?}"
    );
    // The documented routes are served (SMD's list included).
    let app = App::start().await;
    for (method, path) in &wanted {
        let r = app.raw(method, &fill(path), None).await;
        assert_ne!(r.status, 405, "{method} {path}");
        assert_ne!(r.body["detail"], "no such API path", "{method} {path}");
    }
}
