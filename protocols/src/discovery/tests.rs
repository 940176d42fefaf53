use super::*;
use crate::redfish::DiscoveryInfo;
use crate::{ComponentEndpointType, HmsState, MacAddr, Xname};

fn x(s: &str) -> Xname {
    s.parse().unwrap()
}

fn endpoint(status: &str) -> RedfishEndpoint {
    let mut ep = RedfishEndpoint::new(x("x1000c0s0b0"));
    ep.fqdn = Some("10.1.0.1".into());
    ep.discovery_info = Some(DiscoveryInfo {
        last_discovery_attempt: Some("2026-01-01T00:00:00Z".into()),
        last_discovery_status: Some(status.into()),
        redfish_version: Some("1.6.0".into()),
        last_discovery_detail: None,
    });
    ep
}

fn ce(id: &str, kind: ComponentEndpointType) -> ComponentEndpoint {
    serde_json::from_value(serde_json::json!({
        "ID": id,
        "ComponentEndpointType": kind.as_str(),
        "RedfishEndpointID": "x1000c0s0b0",
    }))
    .unwrap()
}

fn iface(mac: &str, owner: &str) -> EthernetInterface {
    let mut e = EthernetInterface::new(MacAddr::parse(mac).unwrap());
    e.component_id = Some(x(owner));
    e
}

fn found() -> EndpointDiscovery {
    EndpointDiscovery {
        endpoint: endpoint("DiscoverOK"),
        outcome: DiscoveryOutcome::Found {
            components: vec![
                Component::new(x("x1000c0s0b0")).with_state(HmsState::Ready),
                Component::new(x("x1000c0s0b0n0")).with_state(HmsState::On),
                Component::new(x("x1000c0s0b0n1")).with_state(HmsState::Off),
            ],
            component_endpoints: vec![
                ce("x1000c0s0b0", ComponentEndpointType::Manager),
                ce("x1000c0s0b0n0", ComponentEndpointType::ComputerSystem),
                ce("x1000c0s0b0n1", ComponentEndpointType::ComputerSystem),
            ],
            interfaces: vec![
                iface("aa:bb:cc:00:00:01", "x1000c0s0b0"),
                iface("aa:bb:cc:00:00:02", "x1000c0s0b0n0"),
                iface("aa:bb:cc:00:00:03", "x1000c0s0b0n1"),
            ],
        },
    }
}

fn failed() -> EndpointDiscovery {
    EndpointDiscovery {
        endpoint: endpoint("HTTPsGetFailed"),
        outcome: DiscoveryOutcome::failed(
            DiscoveryStatus::HttpsGetFailed,
            "GET /redfish/v1/Systems: 401 Unauthorized",
        ),
    }
}

fn found_parts(
    d: &mut EndpointDiscovery,
) -> (
    &mut Vec<Component>,
    &mut Vec<ComponentEndpoint>,
    &mut Vec<EthernetInterface>,
) {
    match &mut d.outcome {
        DiscoveryOutcome::Found {
            components,
            component_endpoints,
            interfaces,
        } => (components, component_endpoints, interfaces),
        DiscoveryOutcome::Failed { .. } => panic!("not found"),
    }
}

fn field_of(d: &EndpointDiscovery) -> String {
    d.validate().unwrap_err().field
}

#[test]
fn consistent_reports_pass() {
    found().validate().unwrap();
    failed().validate().unwrap();
}

#[test]
fn json_shape_round_trips() {
    let d = found();
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["Endpoint"]["ID"], "x1000c0s0b0");
    assert_eq!(
        v["Endpoint"]["DiscoveryInfo"]["LastDiscoveryStatus"],
        "DiscoverOK"
    );
    assert_eq!(
        v["Outcome"]["Found"]["Components"][1]["ID"],
        "x1000c0s0b0n0"
    );
    assert_eq!(
        v["Outcome"]["Found"]["EthernetInterfaces"][0]["ID"],
        "aabbcc000001"
    );
    assert_eq!(
        v["Outcome"]["Found"]["ComponentEndpoints"][0]["ComponentEndpointType"],
        "ComponentEndpointManager"
    );
    assert_eq!(serde_json::from_value::<EndpointDiscovery>(v).unwrap(), d);

    let f = failed();
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(v["Outcome"]["Failed"]["Status"], "HTTPsGetFailed");
    assert!(v["Endpoint"].get("Password").is_none());
    assert_eq!(serde_json::from_value::<EndpointDiscovery>(v).unwrap(), f);
}

#[test]
fn statuses_use_smd_spelling_and_parse_exactly() {
    for s in DiscoveryStatus::ALL {
        assert_eq!(s.as_str().parse::<DiscoveryStatus>(), Ok(*s));
    }
    assert!("httpsgetfailed".parse::<DiscoveryStatus>().is_err());
    assert!(!DiscoveryStatus::DiscoverOk.is_failure());
    assert!(DiscoveryStatus::EpResponseFailedDecode.is_failure());
}

#[test]
fn long_details_are_cut_on_a_char_boundary() {
    let long = "é".repeat(MAX_DETAIL_LEN);
    let DiscoveryOutcome::Failed { detail, .. } =
        DiscoveryOutcome::failed(DiscoveryStatus::HttpsGetFailed, long)
    else {
        unreachable!()
    };
    assert!(detail.len() <= MAX_DETAIL_LEN);
    assert!(detail.ends_with("..."));
}

#[test]
fn endpoint_problems_name_the_field() {
    let mut d = found();
    d.endpoint.password = Some("secret".into());
    assert_eq!(field_of(&d), "Endpoint.Password");

    let mut d = found();
    d.endpoint.user = Some("root".into());
    assert_eq!(field_of(&d), "Endpoint.User");

    let mut d = found();
    d.endpoint.id = x("x1000c0s0b0n0");
    assert_eq!(field_of(&d), "Endpoint.ID");

    let mut d = found();
    d.endpoint.discovery_info = None;
    assert_eq!(field_of(&d), "Endpoint.DiscoveryInfo.LastDiscoveryStatus");

    let mut d = failed();
    d.endpoint = endpoint("DiscoverOK");
    let err = d.validate().unwrap_err();
    assert_eq!(err.field, "Endpoint.DiscoveryInfo.LastDiscoveryStatus");
    assert!(err.to_string().contains("HTTPsGetFailed"), "{err}");
}

#[test]
fn failed_needs_a_known_failure_status_and_a_detail() {
    let mut d = failed();
    d.outcome = DiscoveryOutcome::Failed {
        status: "Oops".into(),
        detail: "x".into(),
    };
    d.endpoint = endpoint("Oops");
    assert_eq!(field_of(&d), "Outcome.Failed.Status");

    d.outcome = DiscoveryOutcome::Failed {
        status: "DiscoverOK".into(),
        detail: "x".into(),
    };
    d.endpoint = endpoint("DiscoverOK");
    let err = d.validate().unwrap_err();
    assert_eq!(err.field, "Outcome.Failed.Status");
    assert!(err.message.contains("not a failure"), "{err}");

    let mut d = failed();
    d.outcome = DiscoveryOutcome::Failed {
        status: "HTTPsGetFailed".into(),
        detail: " ".into(),
    };
    assert_eq!(field_of(&d), "Outcome.Failed.Detail");
}

#[test]
fn components_must_be_the_bmc_and_its_nodes() {
    let mut d = found();
    found_parts(&mut d)
        .0
        .push(Component::new(x("x1000c0s1b0n0")));
    let err = d.validate().unwrap_err();
    assert_eq!(err.field, "Outcome.Found.Components[3].ID");
    assert!(err.message.contains("x1000c0s1b0n0"), "{err}");

    let mut d = found();
    found_parts(&mut d).0.remove(0);
    assert_eq!(field_of(&d), "Outcome.Found.Components");

    let mut d = found();
    found_parts(&mut d)
        .0
        .push(Component::new(x("x1000c0s0b0n1")));
    assert_eq!(field_of(&d), "Outcome.Found.Components[3].ID");

    let mut d = found();
    found_parts(&mut d).0[1].r#type = Some(crate::HmsType::NodeBmc);
    assert_eq!(field_of(&d), "Outcome.Found.Components[1].Type");
}

#[test]
fn component_endpoints_must_belong_to_this_bmc() {
    let mut d = found();
    found_parts(&mut d).1[2].redfish_endpoint_id = Some(x("x1000c0s1b0"));
    assert_eq!(
        field_of(&d),
        "Outcome.Found.ComponentEndpoints[2].RedfishEndpointID"
    );

    let mut d = found();
    found_parts(&mut d).1[2].redfish_endpoint_id = None;
    assert_eq!(
        field_of(&d),
        "Outcome.Found.ComponentEndpoints[2].RedfishEndpointID"
    );

    let mut d = found();
    found_parts(&mut d)
        .1
        .push(ce("x1000c0s0b0n7", ComponentEndpointType::ComputerSystem));
    assert_eq!(field_of(&d), "Outcome.Found.ComponentEndpoints[3].ID");

    let mut d = found();
    found_parts(&mut d).1[0].component_endpoint_type = ComponentEndpointType::ComputerSystem;
    assert_eq!(
        field_of(&d),
        "Outcome.Found.ComponentEndpoints[0].ComponentEndpointType"
    );

    let mut d = found();
    let dup = found_parts(&mut d).1[1].clone();
    found_parts(&mut d).1.push(dup);
    assert_eq!(field_of(&d), "Outcome.Found.ComponentEndpoints[3].ID");
}

#[test]
fn interfaces_must_belong_to_reported_components() {
    let mut d = found();
    found_parts(&mut d)
        .2
        .push(iface("aa:bb:cc:00:00:09", "x1000c0s0b0n5"));
    assert_eq!(
        field_of(&d),
        "Outcome.Found.EthernetInterfaces[3].ComponentID"
    );

    let mut d = found();
    found_parts(&mut d).2[0].component_id = None;
    assert_eq!(
        field_of(&d),
        "Outcome.Found.EthernetInterfaces[0].ComponentID"
    );

    let mut d = found();
    found_parts(&mut d)
        .2
        .push(iface("aa:bb:cc:00:00:02", "x1000c0s0b0n1"));
    assert_eq!(
        field_of(&d),
        "Outcome.Found.EthernetInterfaces[3].MACAddress"
    );

    let mut d = found();
    found_parts(&mut d).2[1].id = "nonsense".into();
    assert_eq!(field_of(&d), "Outcome.Found.EthernetInterfaces[1].ID");
}
