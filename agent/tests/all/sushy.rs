//! Against OpenStack sushy-tools (`shared/peers/bmc-farm.sh`): HTTPS with the farm's
//! self-signed certificate given as the CA file, HTTP Basic auth, a subnet scan; every system
//! and MAC sushy itself reports (asked with curl) is found.
//!
//! Skipped, with the reason printed, when the script is absent, or when it fails and the test is
//! not running as root (it installs sushy-tools from PyPI on first use). As root, a farm that
//! does not start fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use cairn_agent::config::AgentConfig;
use cairn_agent::discovery::Namer;
use cairn_agent::redfish::Credentials;
use cairn_protocols::{ComponentEndpointType, MacAddr};
use futures::StreamExt;
use serde_json::Value;
use tokio::process::Command;

use crate::{found, init};

/// Loopback addresses only this test uses: BMC i is `127.42.200.i`.
const NET: &str = "127.42.200";
const BMCS: usize = 3;

/// System path → (its MACs, its allowed reset types).
type Systems = BTreeMap<String, (BTreeSet<MacAddr>, Vec<String>)>;

fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Stops the farm (by its recorded PIDs) when the test ends, passing or not.
struct Farm {
    dir: PathBuf,
}

impl Drop for Farm {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(peers().join("bmc-farm-stop.sh"))
            .env("BMC_FARM_DIR", &self.dir)
            .output();
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What sushy answers, asked with curl (an independent client).
async fn curl(url: &str, cert: &Path, auth: &str) -> Value {
    let out = Command::new("curl")
        .args(["-s", "-f", "-m", "20", "--cacert"])
        .arg(cert)
        .args(["-u", auth, url])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "curl {url}: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn sushy_farm_over_https_with_basic_auth() {
    init();
    let script = peers().join("bmc-farm.sh");
    if !script.is_file() {
        eprintln!("skipped: {} not found", script.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("farm");
    let password = format!("pw-{}", std::process::id());
    let auth = format!("admin:{password}");
    let farm = Farm { dir: dir.clone() };
    let started = Command::new("bash")
        .arg(&script)
        .arg(BMCS.to_string())
        .env("BMC_FARM_DIR", &dir)
        .env("BMC_FARM_NET", NET)
        .env("BMC_FARM_TLS", "1")
        .env("BMC_FARM_AUTH", &auth)
        .env("BMC_FARM_KINDS", "sushy")
        .output()
        .await
        .unwrap();
    if !started.status.success() {
        assert!(
            !is_root(),
            "bmc-farm.sh failed as root:\n{}",
            text(&started)
        );
        eprintln!(
            "skipped: bmc-farm.sh failed (not root):\n{}",
            text(&started)
        );
        return;
    }
    let cert = dir.join("tls/cert.pem");
    let endpoints: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(endpoints.len(), BMCS);

    // What sushy says each BMC has: system path → (MACs, reset types).
    let mut expected: BTreeMap<String, Systems> = BTreeMap::new();
    for e in &endpoints {
        let url = e["url"].as_str().unwrap();
        let mut systems = BTreeMap::new();
        for id in e["systems"].as_array().unwrap() {
            let path = format!("/redfish/v1/Systems/{}", id.as_str().unwrap());
            let system = curl(&format!("{url}{path}"), &cert, &auth).await;
            let reset_types: Vec<String> =
                system["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
            let nics_path = system["EthernetInterfaces"]["@odata.id"].as_str().unwrap();
            let nics = curl(&format!("{url}{nics_path}"), &cert, &auth).await;
            let mut macs = BTreeSet::new();
            for m in nics["Members"].as_array().unwrap() {
                let nic = curl(
                    &format!("{url}{}", m["@odata.id"].as_str().unwrap()),
                    &cert,
                    &auth,
                )
                .await;
                macs.insert(MacAddr::parse(nic["MACAddress"].as_str().unwrap()).unwrap());
            }
            assert!(!macs.is_empty(), "{path}: sushy reports no MAC");
            systems.insert(path, (macs, reset_types));
        }
        expected.insert(url.to_owned(), systems);
    }

    let pw_file = tmp.path().join("bmc-password");
    std::fs::write(&pw_file, format!("{password}\n")).unwrap();
    let config = AgentConfig::from_toml(&format!(
        r#"
        scope = [200]
        [bmc]
        subnets = ["{NET}.0/24"]
        ports = [8443]
        schemes = ["https"]
        username = "admin"
        password_file = "{}"
        ca_file = "{}"
        "#,
        pw_file.display(),
        cert.display()
    ))
    .unwrap();
    assert_eq!(
        config.bmc.credentials().unwrap(),
        Some(Credentials::new("admin", password.clone()))
    );
    let d = cairn_agent::discovery::Discoverer::from_config(&config).unwrap();
    let (targets, errors) = d.find_targets(&config.bmc).await;
    assert!(errors.is_empty());
    let scanned: Vec<String> = targets.iter().map(|t| t.address.to_string()).collect();
    let want: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(scanned, want, "the scan finds exactly the farm");
    let (named, errors) = Namer::from_config(&config).plan(targets);
    assert!(errors.is_empty(), "{errors:?}");
    let reports: Vec<_> = d.discover(named).collect().await;
    assert_eq!(reports.len(), BMCS);

    for report in &reports {
        report.validate().unwrap();
        let url = format!("https://{}", report.endpoint.fqdn.clone().unwrap());
        let url = if url.ends_with(":8443") {
            url
        } else {
            format!("{url}:443")
        };
        let want = &expected[&url];
        let (components, endpoints, interfaces) = found(report);
        assert_eq!(components.len(), want.len() + 1, "{url}");
        let mut got = BTreeMap::new();
        for ce in endpoints
            .iter()
            .filter(|e| e.component_endpoint_type == ComponentEndpointType::ComputerSystem)
        {
            let macs: BTreeSet<MacAddr> = interfaces
                .iter()
                .filter(|e| e.component_id.as_ref() == Some(&ce.id))
                .map(|e| e.mac_address)
                .collect();
            let reset_types = ce
                .redfish_system_info
                .as_ref()
                .and_then(|i| i.actions.as_ref())
                .and_then(|a| a.reset.as_ref())
                .map(|r| r.allowable_values.clone())
                .unwrap_or_default();
            got.insert(ce.odata_id.clone().unwrap(), (macs, reset_types));
        }
        assert_eq!(&got, want, "{url}");
        let json = serde_json::to_string(report).unwrap();
        assert!(!json.contains(&password));
    }
    drop(farm);
}
