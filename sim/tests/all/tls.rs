//! HTTPS with the generated CA: a client given the CA trusts every BMC; one given another
//! simulator's CA trusts none.

use cairn_sim::{Layout, SimConfig};
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::common::{init, start};

fn client_trusting(ca_pem: &str) -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_ca_verifies_every_bmc() {
    let layout = Layout::ConsecutiveAddresses {
        base: Ipv4Addr::new(127, 0, 78, 1),
        port: 0,
    };
    let sim = start(
        SimConfig::builder()
            .count(3)
            .layout(layout)
            .tls(true)
            .build()
            .unwrap(),
    )
    .await;
    let other = start(SimConfig::builder().tls(true).build().unwrap()).await;
    let ca = sim.ca_pem().unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(sim.endpoints().ca_pem.as_deref(), Some(ca));

    let trusting = client_trusting(ca);
    for bmc in sim.bmcs() {
        assert!(bmc.url().starts_with("https://127.0.78."), "{}", bmc.url());
        let response = trusting
            .get(format!("{}/redfish/v1", bmc.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let info = bmc.info();
        let systems = trusting
            .get(format!("{}/redfish/v1/Systems", bmc.url()))
            .basic_auth(info.username, Some(info.password))
            .send()
            .await
            .unwrap();
        assert_eq!(systems.status(), 200);
    }
    // "localhost" is in the certificate too (the other simulator listens on 127.0.0.1).
    let port = other.bmcs()[0].addr().port();
    let by_name = client_trusting(other.ca_pem().unwrap())
        .get(format!("https://localhost:{port}/redfish/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status(), 200);

    let distrusting = client_trusting(other.ca_pem().unwrap());
    let refused = distrusting
        .get(format!("{}/redfish/v1", sim.bmcs()[0].url()))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a foreign CA must not verify: {refused:?}"
    );
    sim.shutdown().await;
    other.shutdown().await;
}
