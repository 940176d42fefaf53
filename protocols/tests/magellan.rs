//! The three shapes of `POST /Inventory/RedfishEndpoints`, including Magellan's payload.

use cairn_protocols::*;
use serde_json::json;

fn magellan_body() -> serde_json::Value {
    json!({"ID":"x1000c0s0b0","Type":"","Name":"","FQDN":"172.16.0.101","User":"root",
     "Password":"pw","MACRequired":true,"RediscoverOnUpdate":false,"MACAddr":"AA:BB:CC:DD:EE:01",
     "SchemaVersion":1,
     "Systems":[{"uri":"https://h/redfish/v1/Systems/1","uuid":"u1","manufacturer":"m",
       "system_type":"Physical","name":"n","model":"mod","serial":"s","bios_version":"b",
       "ethernet_interfaces":[{"uri":"e1","mac":"aa:bb:cc:dd:ee:02","ip":"172.16.0.5",
         "name":"eth0","description":"d","enabled":true},{"uri":"e2","mac":"","ip":""}],
       "network_interfaces":[{"uri":"ni","name":"n","adapter":{"manufacturer":"m","model":"x",
         "serial":"y"}}],
       "power":{"state":"On","power_control_ids":["/redfish/v1/Chassis/1/Power#/PowerControl/0"]},
       "processor_count":2,"processor_type":"EPYC","memory_total":256,
       "trusted_modules":["TPM2_0 7.2"],"chassis_sku":"k","chassis_serial":"cs",
       "actions":["On","ForceOff","GracefulShutdown"],"links":{"chassis":["/redfish/v1/Chassis/1"]}},
       {"uri":"https://h/redfish/v1/Systems/2","ethernet_interfaces":null,"actions":null}],
     "Managers":[{"uri":"https://h/redfish/v1/Managers/1","uuid":"mu","name":"BMC","type":"BMC",
       "firmware_version":"1.0","ethernet_interfaces":[],"actions":["ForceRestart"],
       "command_shell":["SSH"]}]})
}

#[test]
fn magellan_payload_is_recognized_and_decoded() {
    let post = parse_redfish_endpoint_post(&magellan_body()).unwrap();
    let RedfishEndpointPost::Magellan(m) = &post else {
        panic!("{post:?}")
    };
    assert_eq!(m.schema_version, 1);
    assert_eq!(m.endpoint.id.as_str(), "x1000c0s0b0");
    assert_eq!(m.endpoint.r#type, None);
    assert_eq!(m.endpoint.mac_required, Some(true));
    assert_eq!(
        m.endpoint.mac_addr.map(|m| m.to_string()).as_deref(),
        Some("aa:bb:cc:dd:ee:01")
    );
    assert_eq!(m.systems.len(), 2);
    let sys = &m.systems[0];
    assert_eq!(sys.processor_count, Some(2));
    assert_eq!(sys.memory_total, Some(256.0));
    assert_eq!(
        sys.power.as_ref().and_then(|p| p.state.as_deref()),
        Some("On")
    );
    assert_eq!(sys.links.as_ref().map(|l| l.chassis.len()), Some(1));
    let nic = &sys.ethernet_interfaces[0];
    assert_eq!(nic.mac_addr().unwrap().unwrap().smd_id(), "aabbccddee02");
    assert!(sys.ethernet_interfaces[1].mac_addr().is_none());
    assert!(m.systems[1].ethernet_interfaces.is_empty());
    assert_eq!(m.managers[0].r#type.as_deref(), Some("BMC"));
    assert_eq!(post.endpoints().len(), 1);
    assert!(post.endpoints()[0].redacted().password.is_none());
}

#[test]
fn array_and_single_bodies() {
    let arr = json!({"RedfishEndpoints":[{"ID":"x1c0s0b0","FQDN":"10.0.0.1"},{"ID":"x1c0s1b0"}]});
    let post = parse_redfish_endpoint_post(&arr).unwrap();
    assert!(matches!(&post, RedfishEndpointPost::Array(a) if a.redfish_endpoints.len() == 2));
    let single = json!({"ID":"x1c0s0b0","User":"root","Password":"p"});
    let post = parse_redfish_endpoint_post(&single).unwrap();
    assert!(matches!(&post, RedfishEndpointPost::Single(e) if e.user.as_deref() == Some("root")));
}

#[test]
fn post_errors_name_the_field() {
    let bad = json!({"RedfishEndpoints":[{"ID":"x1c0s0b0"},{"ID":"x1c0s1b0","MACAddr":"zz"}]});
    let e = parse_redfish_endpoint_post(&bad).unwrap_err();
    assert_eq!(e.path, "RedfishEndpoints[1].MACAddr");
    assert!(
        e.message.contains("invalid MAC address \"zz\""),
        "{}",
        e.message
    );
    let mut body = magellan_body();
    body["ID"] = json!("x1000c0s0q0");
    let e = parse_redfish_endpoint_post(&body).unwrap_err();
    assert!(
        e.message.contains("unexpected \"q0\" after \"x1000c0s0\""),
        "{}",
        e.message
    );
    let mut body = magellan_body();
    body["Systems"][0]["processor_count"] = json!("two");
    let e = parse_redfish_endpoint_post(&body).unwrap_err();
    assert!(e.message.contains("processor_count"), "{}", e.message);
    let e = parse_redfish_endpoint_post(&json!({"FQDN":"10.0.0.1"})).unwrap_err();
    assert!(e.message.contains("missing field `ID`"), "{}", e.message);
    let e = parse_redfish_endpoint_post(&json!([1])).unwrap_err();
    assert!(
        e.message.contains("expected a JSON object"),
        "{}",
        e.message
    );
    let e = parse_redfish_endpoint_post(&json!({"ID":"x1c0s0b0","IPAddress":"1.2.3"})).unwrap_err();
    assert!(
        e.message.contains("invalid IP address \"1.2.3\""),
        "{}",
        e.message
    );
}

#[test]
fn magellan_round_trips() {
    let post = parse_redfish_endpoint_post(&magellan_body()).unwrap();
    let RedfishEndpointPost::Magellan(m) = post else {
        panic!()
    };
    let again: MagellanEndpoint =
        serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
    assert_eq!(again, m);
}
