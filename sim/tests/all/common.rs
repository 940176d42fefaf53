//! Helpers shared by the tests.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cairn_sim::{BmcHandle, Handle, SimConfig};
use serde_json::Value;

/// Installs the process-wide rustls provider (reqwest is built without one) once.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with a generous timeout, never going through a proxy.
pub fn client() -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Starts a simulator from a built configuration.
pub async fn start(config: SimConfig) -> Handle {
    cairn_sim::start(config).await.unwrap()
}

/// `GET` with the BMC's own credentials.
pub async fn get(client: &reqwest::Client, bmc: &BmcHandle, path: &str) -> reqwest::Response {
    let info = bmc.info();
    client
        .get(format!("{}{path}", bmc.url()))
        .basic_auth(info.username, Some(info.password))
        .send()
        .await
        .unwrap()
}

/// `GET` that must answer 200 with JSON.
pub async fn get_json(client: &reqwest::Client, bmc: &BmcHandle, path: &str) -> Value {
    let response = get(client, bmc, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// `POST {"ResetType": reset_type}` to `target` with the BMC's credentials.
pub async fn reset(
    client: &reqwest::Client,
    bmc: &BmcHandle,
    target: &str,
    body: Value,
) -> reqwest::Response {
    let info = bmc.info();
    client
        .post(format!("{}{target}", bmc.url()))
        .basic_auth(info.username, Some(info.password))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The `MessageId` of a Redfish error body.
pub async fn message_id(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Polls `check` until it holds; fails after a generous deadline (never a timing assertion).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `shared/peers/mockups`, or `None` (with the reason printed) when this checkout lacks it.
pub fn mockups_dir() -> Option<PathBuf> {
    let dir = cairn_sim::shared_mockups_dir(env!("CARGO_MANIFEST_DIR"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no mockups at {} (shared/ beside the checkout)",
            dir.display()
        );
        None
    }
}
