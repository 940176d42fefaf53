use super::*;

#[test]
fn wrong_types_and_oem_blocks_are_tolerated() {
    let s: ComputerSystem = serde_json::from_str(
        r##"{"Id": 7, "PowerState": null, "ProcessorSummary": "n/a",
            "MemorySummary": {"TotalSystemMemoryGiB": "64"},
            "Actions": {"#ComputerSystem.Reset": {"target": "/t",
                "ResetType@Redfish.AllowableValues": ["On", 3, "ForceOff"]},
                "Oem": {"#Vendor.Thing": {}}},
            "Links": {"Chassis": {"@odata.id": "/redfish/v1/Chassis/1"}, "ManagedBy": 5},
            "Oem": {"Hpe": {"x": [1, 2]}}}"##,
    )
    .unwrap();
    assert_eq!(s.id.as_deref(), Some("7"));
    assert_eq!(s.power_state, None);
    assert_eq!(s.processor_summary.count, None);
    assert_eq!(s.memory_summary.total_system_memory_gib, Some(64.0));
    let reset = s.actions.reset.unwrap();
    assert_eq!(reset.allowable_values.unwrap(), ["On", "ForceOff"]);
    assert_eq!(s.links.chassis, ["/redfish/v1/Chassis/1"]);
    assert!(s.links.managed_by.is_empty());
}

#[test]
fn a_non_object_resource_is_an_error() {
    let err = decode_resource::<ComputerSystem>(b"[1, 2]").unwrap_err();
    assert!(err.to_string().contains("expected a JSON object"), "{err}");
    assert!(decode_resource::<Collection>(br#"{"Members": [{"@odata.id"#).is_err());
    assert!(decode_resource::<Collection>(b"null").is_err());
}

#[test]
fn collection_members_skip_entries_without_links() {
    let c: Collection = serde_json::from_str(
        r#"{"Members": [{"@odata.id": "/a"}, {}, {"@odata.id": ""}, "x", {"@odata.id": "/b/"}],
            "Members@odata.nextLink": "/c?$skip=2"}"#,
    )
    .unwrap();
    assert_eq!(c.members, ["/a", "/b/"]);
    assert_eq!(c.next_link.as_deref(), Some("/c?$skip=2"));
}
