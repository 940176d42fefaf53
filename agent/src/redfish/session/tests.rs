use super::*;
use crate::redfish::{ClientOptions, Scheme};

#[test]
fn links_stay_on_the_bmc() {
    let client = RedfishClient::new(&ClientOptions::default()).unwrap();
    let address = BmcAddress::parse("http://127.0.0.9:8000", Scheme::Http).unwrap();
    let s = client.session(&address, None).unwrap();
    assert_eq!(
        s.resolve("/redfish/v1/Systems/1/").unwrap().as_str(),
        "http://127.0.0.9:8000/redfish/v1/Systems/1/"
    );
    assert_eq!(
        s.resolve("https://evil.example/redfish/v1/Systems?x=1")
            .unwrap()
            .as_str(),
        "http://127.0.0.9:8000/redfish/v1/Systems?x=1"
    );
    assert!(s.resolve("Systems/1").is_err());
}
