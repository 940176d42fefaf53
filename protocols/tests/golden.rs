//! Golden JSON: Cairn's records serialize with SMD's exact keys, omit unset fields, and decode
//! the spec's example bodies and what Go clients actually send.

use cairn_protocols::*;
use serde_json::{Value, json};

fn x(s: &str) -> Xname {
    s.parse().expect("valid xname")
}

fn mac(s: &str) -> MacAddr {
    s.parse().expect("valid MAC")
}

#[test]
fn component_minimal_and_full() {
    let c = Component::new(x("x3000c0s5b0n0")).with_state(HmsState::Ready);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"ID":"x3000c0s5b0n0","Type":"Node","State":"Ready"})
    );
    let full = json!({"ID":"x3000c0s5b0n0","Type":"Node","State":"On","Flag":"OK",
        "Enabled":true,"SoftwareStatus":"AdminStatus","Role":"Compute","SubRole":"Worker",
        "NID":1,"Subtype":"","NetType":"Sling","Arch":"X86","Class":"River",
        "ReservationDisabled":false,"Locked":false});
    let c: Component = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(c.nid, Some(1));
    assert_eq!(c.arch, Some(HmsArch::X86));
    assert_eq!(serde_json::to_value(&c).unwrap(), full);
}

#[test]
fn component_tolerates_go_encodings_and_unknown_keys() {
    let c: Component = serde_json::from_value(json!({"ID":"X1C0S0B0N0","Type":"","State":"on",
        "Flag":null,"Arch":"","Bogus":1}))
    .unwrap();
    assert_eq!(c.id.as_str(), "x1c0s0b0n0");
    assert_eq!(c.r#type, None);
    assert_eq!(c.state, Some(HmsState::On));
    assert_eq!(c.effective_type(), HmsType::Node);
    let e = serde_json::from_value::<Component>(json!({"ID":"x1","State":"Asleep"})).unwrap_err();
    assert!(
        e.to_string().contains("unknown HMS state \"Asleep\""),
        "{e}"
    );
}

#[test]
fn component_bodies() {
    let post: ComponentsPost = from_json_slice(
        br#"{"Components":[{"ID":"x1c0s0b0n0","State":"Ready","NID":5}],"Force":true}"#,
    )
    .unwrap();
    assert_eq!(post.force, Some(true));
    let put: ComponentPut =
        from_json_slice(br#"{"Component":{"ID":"x1c0s0b0n0","State":"Off"}}"#).unwrap();
    assert_eq!(put.component.state, Some(HmsState::Off));
    let sd: BulkStateData = from_json_slice(
        br#"{"ComponentIDs":["x1c0s0b0n0","x1c0s0b0n1"],"State":"Ready","Flag":"Alert","Force":false,
            "ExtendedInfo":{"ID":"m1","Message":"why","Flag":"Alert"}}"#,
    )
    .unwrap();
    assert_eq!(sd.component_ids.len(), 2);
    assert_eq!(sd.extended_info.unwrap()["Message"], "why");
    let nid: BulkNid =
        from_json_slice(br#"{"Components":[{"ID":"x1c0s0b0n0","Type":"Node","NID":7}]}"#).unwrap();
    assert_eq!(nid.components[0].nid, 7);
    let r: PatchRole = from_json_slice(br#"{"Role":"Compute"}"#).unwrap();
    assert_eq!(r.sub_role, None);
    let e = from_json_slice::<PatchStateData>(br#"{"Flag":"OK"}"#).unwrap_err();
    assert!(e.message.contains("missing field `State`"), "{}", e.message);
    let e = from_json_slice::<BulkEnabled>(br#"{"ComponentIDs":["x1","y2"],"Enabled":true}"#)
        .unwrap_err();
    assert_eq!(e.path, "ComponentIDs[1]");
    for body in [
        r#"{"Flag":"Warning"}"#,
        r#"{"Enabled":false}"#,
        r#"{"SoftwareStatus":"DvsAvailable"}"#,
        r#"{"NID":3}"#,
    ] {
        let v: Value = serde_json::from_str(body).unwrap();
        let ok = from_json_value::<PatchFlagOnly>(&v).is_ok()
            || from_json_value::<PatchEnabled>(&v).is_ok()
            || from_json_value::<PatchSoftwareStatus>(&v).is_ok()
            || from_json_value::<PatchNid>(&v).is_ok();
        assert!(ok, "{body}");
    }
    let array = ComponentArray {
        components: vec![Component::new(x("x1c0s0b0"))],
    };
    assert_eq!(
        serde_json::to_value(&array).unwrap(),
        json!({"Components":[{"ID":"x1c0s0b0","Type":"NodeBMC"}]})
    );
}

#[test]
fn ethernet_interface() {
    let mut e = EthernetInterface::new(mac("A4-BF-01-2B-73-10"));
    e.component_id = Some(x("x3000c0s5b0n0"));
    e.r#type = Some(HmsType::Node);
    e.ip_addresses.push(IpAddressMapping {
        ip_address: "10.252.0.1".parse().unwrap(),
        network: Some("HMN".to_owned()),
    });
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"ID":"a4bf012b7310","MACAddress":"a4:bf:01:2b:73:10",
            "IPAddresses":[{"IPAddress":"10.252.0.1","Network":"HMN"}],
            "ComponentID":"x3000c0s5b0n0","Type":"Node"})
    );
    // What a Go client sends: empty strings and a null slice.
    let mut d: EthernetInterface = serde_json::from_value(json!({"ID":"","Description":"",
        "MACAddress":"a4bf012b7310","IPAddresses":null,"LastUpdate":"","ComponentID":"","Type":""}))
    .unwrap();
    d.normalize_id();
    assert_eq!(d.id, "a4bf012b7310");
    assert!(d.ip_addresses.is_empty() && d.component_id.is_none() && d.r#type.is_none());
    let err = from_json_slice::<EthernetInterface>(
        br#"{"MACAddress":"a4bf012b7310","IPAddresses":[{"IPAddress":"10.252.0.300"}]}"#,
    )
    .unwrap_err();
    assert!(
        err.message.contains("invalid IP address \"10.252.0.300\""),
        "{}",
        err.message
    );
    assert_eq!(err.path, "IPAddresses[0].IPAddress");
    let err = from_json_slice::<EthernetInterface>(br#"{"Description":"x"}"#).unwrap_err();
    assert!(err.message.contains("MACAddress"), "{}", err.message);
    let p: EthernetInterfacePatch =
        from_json_slice(br#"{"ComponentID":"x1c0s0b0n0","IPAddresses":[]}"#).unwrap();
    assert_eq!(p.ip_addresses, Some(vec![]));
    let n: IpAddressPatch = from_json_slice(br#"{"Network":"NMN"}"#).unwrap();
    assert_eq!(n.network.as_deref(), Some("NMN"));
}

#[test]
fn redfish_endpoint_and_redaction() {
    let body = json!({"ID":"x3000c0s5b0","Type":"NodeBMC","Name":"bmc","Hostname":"x3000c0s5b0",
        "Domain":"mgmt","FQDN":"x3000c0s5b0.mgmt","Enabled":true,"UUID":"u","User":"root",
        "Password":"secret","UseSSDP":false,"MacRequired":true,"MACAddr":"ae:12:e2:ff:89:9d",
        "IPAddress":"10.254.2.10","RediscoverOnUpdate":true,"TemplateID":"t",
        "DiscoveryInfo":{"LastDiscoveryAttempt":"2024-01-01T00:00:00Z",
            "LastDiscoveryStatus":"DiscoverOK","RedfishVersion":"1.6.0"}});
    let ep: RedfishEndpoint = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(serde_json::to_value(&ep).unwrap(), body);
    let shown = serde_json::to_value(ep.redacted()).unwrap();
    assert!(shown.get("Password").is_none());
    assert_eq!(shown["User"], "root");
    let spec_keys: RedfishEndpoint = serde_json::from_value(json!({"ID":"x1c0s0b0",
        "DiscoveryInfo":{"LastAttempt":"t","LastStatus":"HTTPsGetFailed"}}))
    .unwrap();
    let info = spec_keys.discovery_info.unwrap();
    assert_eq!(
        info.last_discovery_status.as_deref(),
        Some("HTTPsGetFailed")
    );
    let minimal = RedfishEndpoint::new(x("x1c0b0"));
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        json!({"ID":"x1c0b0","Type":"ChassisBMC"})
    );
}

#[test]
fn component_endpoint_spec_shape() {
    let body = json!({"ID":"x3000c0s5b0n0","Type":"Node","Domain":"mgmt",
        "FQDN":"x3000c0s5b0n0.mgmt","RedfishType":"ComputerSystem","RedfishSubtype":"Physical",
        "Enabled":true,"ComponentEndpointType":"ComponentEndpointComputerSystem",
        "MACAddr":"ae:12:ce:7a:aa:99","UUID":"u","OdataID":"/redfish/v1/Systems/1",
        "RedfishEndpointID":"x3000c0s5b0","RedfishEndpointFQDN":"10.254.2.10",
        "RedfishURL":"10.254.2.10/redfish/v1/Systems/1",
        "RedfishSystemInfo":{"Name":"System","Actions":{"#ComputerSystem.Reset":{
            "ResetType@Redfish.AllowableValues":["On","ForceOff","ForceRestart"],
            "target":"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"}},
          "EthernetNICInfo":[{"RedfishId":"1","@odata.id":"/redfish/v1/Systems/1/EthernetInterfaces/1",
            "Description":"Integrated NIC 1","InterfaceEnabled":true,"MACAddress":"ae:12:ce:7a:aa:99",
            "PermanentMACAddress":"ae:12:ce:7a:aa:99"}],
          "PowerURL":"/redfish/v1/Chassis/1/Power","PowerControl":[{"Name":"Node Power Control"}]}});
    let ce: ComponentEndpoint = serde_json::from_value(body.clone()).unwrap();
    let reset = ce
        .redfish_system_info
        .as_ref()
        .and_then(|i| i.actions.as_ref());
    let reset = reset.and_then(|a| a.reset.as_ref()).unwrap();
    assert_eq!(reset.allowable_values, ["On", "ForceOff", "ForceRestart"]);
    assert_eq!(serde_json::to_value(&ce).unwrap(), body);
    let arr = ComponentEndpointArray {
        component_endpoints: vec![ce],
    };
    assert!(serde_json::to_value(&arr).unwrap()["ComponentEndpoints"].is_array());
}

#[test]
fn groups_partitions_memberships() {
    let spec = json!({"label":"blue","description":"This is the blue group",
        "tags":["optional_tag1","optional_tag2"],"exclusiveGroup":"optional_excl_group",
        "members":{"ids":["x1c0s1b0n0","x1c0s1b0n1","x1c0s2b0n0","x1c0s2b0n1"]}});
    let g: Group = serde_json::from_value(spec.clone()).unwrap();
    assert_eq!(g.members.ids.len(), 4);
    assert_eq!(serde_json::to_value(&g).unwrap(), spec);
    let bare: Group = serde_json::from_value(json!({"label":"red"})).unwrap();
    assert_eq!(
        serde_json::to_value(&bare).unwrap(),
        json!({"label":"red","members":{"ids":[]}})
    );
    let p: Partition = serde_json::from_value(json!({"name":"p1","members":{"ids":null}})).unwrap();
    assert!(p.members.ids.is_empty());
    let m = Membership {
        id: x("x0c0s22b0n0"),
        group_labels: vec!["group1".into(), "group2".into()],
        partition_name: "p1".into(),
    };
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({"id":"x0c0s22b0n0","groupLabels":["group1","group2"],"partitionName":"p1"})
    );
    let spec_example: Membership = serde_json::from_value(json!({"id":"x0c0s22b0n0","nid":45,
        "partitionName":"p1","groupLabels":["group1","group2"]}))
    .unwrap();
    assert_eq!(spec_example, m);
    let id: MemberId = serde_json::from_value(json!({"id":"X1C0S0B0N0"})).unwrap();
    assert_eq!(id.id.as_str(), "x1c0s0b0n0");
    let patch: GroupPatch = serde_json::from_value(json!({"tags":["new_tag"]})).unwrap();
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"tags":["new_tag"]})
    );
}

#[test]
fn labels() {
    assert_eq!(validate_label("compute_1.a-b"), Ok(()));
    assert_eq!(normalize_label(" Compute "), Ok("compute".to_owned()));
    let e = validate_label("bad label").unwrap_err().to_string();
    assert!(e.contains("character ' ' at position 3"), "{e}");
    let e = normalize_label("a/b").unwrap_err().to_string();
    assert!(e.contains("\"a/b\"") && e.contains("'/'"), "{e}");
    assert!(
        validate_label("")
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert!(validate_label("Upper").is_err());
    assert!(
        validate_label(&"a".repeat(256))
            .unwrap_err()
            .to_string()
            .contains("256 bytes")
    );
}

#[test]
fn openapi_schemas_use_smd_keys() {
    use utoipa::PartialSchema;
    let schema = |s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
        serde_json::to_value(s).expect("schema serializes")
    };
    let comp = schema(Component::schema());
    assert!(comp["properties"]["ID"].is_object(), "{comp}");
    assert!(comp["properties"]["SoftwareStatus"].is_object(), "{comp}");
    let state = schema(HmsState::schema());
    assert_eq!(state["enum"][4], "On");
    assert_eq!(schema(Xname::schema())["type"], "string");
    assert_eq!(schema(MacAddr::schema())["type"], "string");
    let eth = schema(IpAddressMapping::schema());
    assert_eq!(eth["properties"]["IPAddress"]["type"], "string", "{eth}");
    let magellan = schema(MagellanEndpoint::schema()).to_string();
    assert!(magellan.contains("SchemaVersion"), "{magellan}");
}
