//! A discovery crawl of generated BMCs finds what the identities module predicts.

use std::net::Ipv4Addr;

use cairn_sim::{Layout, PowerState, SimConfig, ids};
use serde_json::Value;

use crate::common::{client, get, get_json, start};

#[tokio::test]
async fn service_root_is_public_with_and_without_trailing_slash() {
    let sim = start(SimConfig::builder().first_index(7).build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    for path in ["/redfish/v1", "/redfish/v1/"] {
        let response = client
            .get(format!("{}{path}", bmc.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["odata-version"], "4.0");
        let root: Value = response.json().await.unwrap();
        assert_eq!(root["UUID"], ids::bmc_uuid(7));
        assert!(root["RedfishVersion"].is_string());
        assert_eq!(root["Systems"]["@odata.id"], "/redfish/v1/Systems");
    }
    let versions: Value = client
        .get(format!("{}/redfish", bmc.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["v1"], "/redfish/v1/");
    sim.shutdown().await;
}

#[tokio::test]
async fn crawl_finds_systems_macs_manager_and_chassis() {
    let base = Ipv4Addr::new(127, 0, 77, 1);
    let config = SimConfig::builder()
        .count(2)
        .first_index(300)
        .systems(3)
        .nics(2)
        .layout(Layout::ConsecutiveAddresses { base, port: 0 })
        .build()
        .unwrap();
    let sim = start(config).await;
    let client = client();
    for (i, bmc) in sim.bmcs().iter().enumerate() {
        let index = 300 + i as u32;
        let ip = Ipv4Addr::from(u32::from(base) + i as u32);
        assert_eq!(bmc.addr().ip(), ip);

        let systems = get_json(&client, bmc, "/redfish/v1/Systems/").await;
        let members = systems["Members"].as_array().unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(systems["Members@odata.count"], 3);
        for (s, member) in members.iter().enumerate() {
            let path = member["@odata.id"].as_str().unwrap();
            let system = get_json(&client, bmc, path).await;
            assert_eq!(system["Id"], ids::system_id(s as u8));
            assert_eq!(system["UUID"], ids::system_uuid(index, s as u8));
            assert_eq!(system["SerialNumber"], ids::system_serial(index, s as u8));
            assert_eq!(system["PowerState"], "Off");
            for field in ["Name", "Manufacturer", "Model", "BiosVersion"] {
                assert!(system[field].is_string(), "{field}");
            }
            assert!(system["ProcessorSummary"]["Count"].is_number());
            assert!(system["MemorySummary"]["TotalSystemMemoryGiB"].is_number());
            let reset = &system["Actions"]["#ComputerSystem.Reset"];
            assert_eq!(
                reset["target"],
                format!("{path}/Actions/ComputerSystem.Reset")
            );
            assert_eq!(
                reset["ResetType@Redfish.AllowableValues"]
                    .as_array()
                    .unwrap()
                    .len(),
                10
            );
            assert_eq!(
                system["Links"]["Chassis"][0]["@odata.id"],
                "/redfish/v1/Chassis/Enclosure"
            );

            let nics_path = system["EthernetInterfaces"]["@odata.id"].as_str().unwrap();
            let nics = get_json(&client, bmc, nics_path).await;
            let mut macs = Vec::new();
            for nic in nics["Members"].as_array().unwrap() {
                let nic = get_json(&client, bmc, nic["@odata.id"].as_str().unwrap()).await;
                macs.push(nic["MACAddress"].as_str().unwrap().to_owned());
            }
            let expected: Vec<String> =
                (0..2).map(|n| ids::system_mac(index, s as u8, n)).collect();
            assert_eq!(macs, expected);
            assert_eq!(bmc.info().systems[s].macs, expected);
        }

        let managers = get_json(&client, bmc, "/redfish/v1/Managers").await;
        let manager_path = managers["Members"][0]["@odata.id"]
            .as_str()
            .unwrap()
            .to_owned();
        let manager = get_json(&client, bmc, &manager_path).await;
        assert!(
            manager["FirmwareVersion"]
                .as_str()
                .unwrap()
                .starts_with("cairn-sim")
        );
        let nics = get_json(
            &client,
            bmc,
            manager["EthernetInterfaces"]["@odata.id"].as_str().unwrap(),
        )
        .await;
        let nic = get_json(
            &client,
            bmc,
            nics["Members"][0]["@odata.id"].as_str().unwrap(),
        )
        .await;
        assert_eq!(nic["MACAddress"], ids::bmc_mac(index));
        assert_eq!(nic["IPv4Addresses"][0]["Address"], ip.to_string());
        assert_eq!(bmc.info().mac, Some(ids::bmc_mac(index)));

        let chassis = get_json(&client, bmc, "/redfish/v1/Chassis").await;
        let chassis = get_json(
            &client,
            bmc,
            chassis["Members"][0]["@odata.id"].as_str().unwrap(),
        )
        .await;
        assert_eq!(
            chassis["Links"]["ComputerSystems"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let service = get_json(&client, bmc, "/redfish/v1/SessionService").await;
        assert_eq!(
            service["Sessions"]["@odata.id"],
            "/redfish/v1/SessionService/Sessions"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_404_and_wrong_methods_405_with_redfish_errors() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let response = get(&client, bmc, "/redfish/v1/Systems/Node9").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        crate::common::message_id(response).await,
        "Base.1.16.ResourceNotFound"
    );
    let info = bmc.info();
    let response = client
        .delete(format!("{}/redfish/v1/Systems", bmc.url()))
        .basic_auth(&info.username, Some(&info.password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.headers().contains_key("allow"));
    assert_eq!(
        crate::common::message_id(response).await,
        "Base.1.16.OperationNotAllowed"
    );
    assert_eq!(bmc.power_state(0), Some(PowerState::Off));
    assert_eq!(bmc.power_state(2), None);
    sim.shutdown().await;
}
