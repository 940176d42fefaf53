//! Every mockup set of `shared/peers/mockups` serves verbatim, with live power on its systems.

use std::path::Path;

use cairn_sim::{Mockup, PowerState, SimConfig};
use serde_json::{Value, json};

use crate::common::{client, get, get_json, message_id, mockups_dir, reset, start};

/// What each mockup's files say (read by hand; see the report of the sim crate).
struct Expected {
    dir: &'static str,
    system: &'static str,
    reset_types: &'static [&'static str],
    macs: usize,
    not_allowed: &'static str,
}

const EXPECTED: [Expected; 4] = [
    Expected {
        dir: "DL325",
        system: "/redfish/v1/Systems/1",
        reset_types: &[
            "On",
            "ForceOff",
            "GracefulShutdown",
            "ForceRestart",
            "Nmi",
            "PushPowerButton",
            "GracefulRestart",
        ],
        macs: 4,
        not_allowed: "ForceOn",
    },
    Expected {
        dir: "Gigabyte",
        system: "/redfish/v1/Systems/Self",
        // Published through @Redfish.ActionInfo, not inline.
        reset_types: &["GracefulShutdown", "ForceRestart", "ForceOff", "On"],
        macs: 3,
        not_allowed: "Nmi",
    },
    Expected {
        dir: "Intel",
        system: "/redfish/v1/Systems/QSBP74100021",
        reset_types: &[
            "PushPowerButton",
            "On",
            "GracefulShutdown",
            "ForceRestart",
            "Nmi",
            "ForceOn",
            "ForceOff",
        ],
        macs: 0,
        not_allowed: "GracefulRestart",
    },
    Expected {
        dir: "public-rackmount1",
        system: "/redfish/v1/Systems/437XR1138R2",
        reset_types: &[
            "On",
            "ForceOff",
            "GracefulShutdown",
            "GracefulRestart",
            "ForceRestart",
            "Nmi",
            "ForceOn",
            "PushPowerButton",
        ],
        macs: 4,
        not_allowed: "PowerCycle",
    },
];

fn file_json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(rel).join("index.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn each_mockup_serves_its_systems_with_live_power() {
    let Some(root) = mockups_dir() else { return };
    let client = client();
    for expected in &EXPECTED {
        let dir = root.join(expected.dir);
        let mockup = Mockup::load(&dir).unwrap();
        let sim = start(SimConfig::builder().mockups([mockup]).build().unwrap()).await;
        let bmc = &sim.bmcs()[0];
        let name = expected.dir;

        // The root, anonymously and verbatim.
        let root_json: Value = client
            .get(format!("{}/redfish/v1/", bmc.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(root_json, file_json(&dir, ""), "{name}: service root");

        // The crawl an agent does: root -> Systems -> system -> reset action, NICs.
        let systems_path = root_json["Systems"]["@odata.id"].as_str().unwrap();
        let systems = get_json(&client, bmc, systems_path).await;
        let member = systems["Members"][0]["@odata.id"].as_str().unwrap();
        assert_eq!(member.trim_end_matches('/'), expected.system, "{name}");
        let system = get_json(&client, bmc, member).await;
        assert_eq!(system["PowerState"], "On", "{name}");
        // Before any reset, the system resource is exactly the file's (the live fields agree).
        let file = file_json(&dir, expected.system.trim_start_matches("/redfish/v1/"));
        assert_eq!(system, file, "{name}: system resource");
        let target = system["Actions"]["#ComputerSystem.Reset"]["target"]
            .as_str()
            .unwrap();

        let info = bmc.info();
        assert_eq!(info.mockup.as_deref(), Some(name));
        let [sys] = info.systems.as_slice() else {
            panic!("{name}: {:?}", info.systems)
        };
        assert_eq!(sys.path, expected.system, "{name}");
        assert_eq!(
            sys.reset_target.as_deref(),
            Some(target.trim_end_matches('/')),
            "{name}"
        );
        assert_eq!(sys.reset_types, expected.reset_types, "{name}");
        assert_eq!(sys.macs.len(), expected.macs, "{name}");
        assert_eq!(sys.uuid.as_deref(), system["UUID"].as_str(), "{name}");

        let mut macs = Vec::new();
        let nics = get_json(
            &client,
            bmc,
            system["EthernetInterfaces"]["@odata.id"].as_str().unwrap(),
        )
        .await;
        for nic in nics["Members"].as_array().unwrap() {
            let nic = get_json(&client, bmc, nic["@odata.id"].as_str().unwrap()).await;
            macs.push(nic["MACAddress"].as_str().unwrap().to_owned());
        }
        assert_eq!(macs, sys.macs, "{name}");

        // Live power through the mockup's own target.
        let off = reset(&client, bmc, target, json!({"ResetType": "ForceOff"})).await;
        assert_eq!(off.status(), 204, "{name}");
        assert_eq!(
            get_json(&client, bmc, member).await["PowerState"],
            "Off",
            "{name}"
        );
        assert_eq!(bmc.power_state(0), Some(PowerState::Off), "{name}");
        let refused = reset(
            &client,
            bmc,
            target,
            json!({"ResetType": expected.not_allowed}),
        )
        .await;
        assert_eq!(refused.status(), 400, "{name}");
        assert_eq!(
            message_id(refused).await,
            "Base.1.16.ActionParameterValueNotInList"
        );
        let on = reset(&client, bmc, target, json!({"ResetType": "On"})).await;
        assert_eq!(on.status(), 204, "{name}");
        assert_eq!(
            get_json(&client, bmc, member).await["PowerState"],
            "On",
            "{name}"
        );

        sim.shutdown().await;
    }
}

#[tokio::test]
async fn vendor_shapes_survive() {
    let Some(root) = mockups_dir() else { return };
    let dl325 = Mockup::load(root.join("DL325")).unwrap();
    let gigabyte = Mockup::load(root.join("Gigabyte")).unwrap();
    let sim = start(
        SimConfig::builder()
            .count(3)
            .mockups([dl325, gigabyte])
            .build()
            .unwrap(),
    )
    .await;
    let client = client();
    let names: Vec<_> = sim
        .bmcs()
        .iter()
        .map(|b| b.info().mockup.unwrap())
        .collect();
    assert_eq!(names, ["DL325", "Gigabyte", "DL325"]);

    // iLO links its BIOS resources in lower case with trailing slashes.
    let (hpe, ami) = (&sim.bmcs()[0], &sim.bmcs()[1]);
    let bios = get_json(&client, hpe, "/redfish/v1/systems/1/bios/").await;
    assert!(bios["@odata.id"].as_str().unwrap().ends_with("/bios/"));
    // Non-system resources are the file's bytes.
    let raw = get(&client, hpe, "/redfish/v1/Chassis")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        raw,
        std::fs::read(root.join("DL325/Chassis/index.json")).unwrap()
    );
    // OEM blocks come through.
    let ami_root = get_json(&client, ami, "/redfish/v1").await;
    assert!(ami_root["Oem"]["Ami"].is_object());
    let system = get_json(&client, ami, "/redfish/v1/Systems/Self/").await;
    assert_eq!(system["Id"], "Self");
    assert_eq!(
        get(&client, ami, "/redfish/v1/Systems/Other")
            .await
            .status(),
        404
    );
    // Mockups still need credentials; their sessions are live.
    let anonymous = client
        .get(format!("{}/redfish/v1/Systems", ami.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn boot_override_patches_a_mockup_system() {
    let Some(root) = mockups_dir() else { return };
    let intel = Mockup::load(root.join("Intel")).unwrap();
    let sim = start(SimConfig::builder().mockups([intel]).build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let info = bmc.info();
    let path = "/redfish/v1/Systems/QSBP74100021";
    let patch = |target: &'static str| {
        client
            .patch(format!("{}{path}", bmc.url()))
            .basic_auth(&info.username, Some(&info.password))
            .json(&json!({"Boot": {"BootSourceOverrideTarget": target, "BootSourceOverrideEnabled": "Once"}}))
            .send()
    };
    // Intel's allowable targets: None, Pxe, Hdd, Cd, BiosSetup, UefiShell, Usb.
    assert_eq!(patch("UefiHttp").await.unwrap().status(), 400);
    assert_eq!(patch("Pxe").await.unwrap().status(), 204);
    let system = get_json(&client, bmc, path).await;
    assert_eq!(system["Boot"]["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(system["Boot"]["BootSourceOverrideEnabled"], "Once");
    assert_eq!(system["Boot"]["BootSourceOverrideMode"], "Legacy");
    sim.shutdown().await;
}
