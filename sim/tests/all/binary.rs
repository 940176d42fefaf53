//! The `cairn-sim` binary: starts a farm, writes the endpoint list and the CA, serves.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cairn_sim::Endpoints;

use crate::common::{eventually, init};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-sim");

/// Kills the child even when an assertion fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_writes_endpoints_and_ca_then_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (json, ca) = (dir.path().join("bmcs.json"), dir.path().join("ca.pem"));
    let child = Command::new(BIN)
        .args([
            "bmcs",
            "--count",
            "2",
            "--listen-base",
            "127.0.81.1",
            "--port",
            "0",
        ])
        .args([
            "--systems",
            "1",
            "--power-delay",
            "0s",
            "--tls",
            "--username",
            "root",
        ])
        .args([
            "--password",
            "calvin",
            "--fault",
            "1:status-500=/redfish/v1/Systems*",
        ])
        .arg("--ca-out")
        .arg(&ca)
        .arg("--json-out")
        .arg(&json)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _child = Killed(child);
    eventually("the endpoint list", || async { Path::new(&json).exists() }).await;
    let endpoints: Endpoints = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(endpoints.bmcs.len(), 2);
    assert_eq!(
        std::fs::read_to_string(&ca).unwrap(),
        endpoints.ca_pem.clone().unwrap()
    );
    let first = &endpoints.bmcs[0];
    assert_eq!(first.address.to_string(), "127.0.81.1");
    assert_eq!(endpoints.bmcs[1].address.to_string(), "127.0.81.2");
    assert_eq!(
        (first.username.as_str(), first.password.as_str()),
        ("root", "calvin")
    );
    assert_eq!(first.systems.len(), 1);

    init();
    let pem = std::fs::read(&ca).unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    for (bmc, status) in endpoints.bmcs.iter().zip([200, 500]) {
        let response = client
            .get(format!("{}/redfish/v1/Systems", bmc.url))
            .basic_auth(&bmc.username, Some(&bmc.password))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{}", bmc.url);
    }
}

#[test]
fn binary_refuses_bad_arguments() {
    for args in [
        &["bmcs", "--count", "2", "--fault", "5:hang"][..],
        &["bmcs", "--fault", "0:explode"],
        &["bmcs", "--reset-types", "On,Bogus"],
        &["bmcs", "--count", "0"],
        &["bmcs", "--ca-out", "/tmp/x.pem"],
        &["bmcs", "--mockup", "/nonexistent/mockup"],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(!output.stderr.is_empty(), "{args:?} said nothing");
    }
}
