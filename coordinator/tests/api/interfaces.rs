//! `/hsm/v2/Inventory/EthernetInterfaces` and its `IPAddresses` sub-resources.

use serde_json::json;

use crate::support::App;

const BASE: &str = "/hsm/v2/Inventory/EthernetInterfaces";

async fn fixture() -> App {
    let app = App::start().await;
    app.nodes([0, 1]).await;
    let r = app
        .expect(
            "POST",
            BASE,
            Some(json!({"MACAddress": "A4:BF:01:2B:73:10", "ComponentID": "x1000c0s0b0n0",
                "Description": "eth0", "IPAddresses": [{"IPAddress": "10.0.0.10", "Network": "HMN"}]})),
            201,
        )
        .await;
    assert_eq!(r, json!({"URI": format!("{BASE}/a4bf012b7310")}));
    app.expect(
        "POST",
        BASE,
        Some(json!({"ID": "ignored", "MACAddress": "a4-bf-01-2b-73-11", "ComponentID": "x1000c0s1b0n0",
            "IPAddresses": [{"IPAddress": "10.0.0.11"}, {"IPAddress": "fd00::11", "Network": "NMN"}]})),
        201,
    )
    .await;
    app.expect(
        "POST",
        BASE,
        Some(json!({"MACAddress": "a4bf.012b.7312", "ComponentID": ""})),
        201,
    )
    .await;
    app
}

fn macs(body: &serde_json::Value) -> Vec<&str> {
    body.as_array()
        .expect("an array")
        .iter()
        .map(|i| i["ID"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_and_read() {
    let app = fixture().await;
    let one = app.get_ok(&format!("{BASE}/a4bf012b7310")).await;
    assert_eq!(one["MACAddress"], "a4:bf:01:2b:73:10");
    assert_eq!(one["ComponentID"], "x1000c0s0b0n0");
    assert_eq!(one["Type"], "Node");
    assert_eq!(one["Description"], "eth0");
    assert_eq!(
        one["IPAddresses"],
        json!([{"IPAddress": "10.0.0.10", "Network": "HMN"}])
    );
    assert!(one["LastUpdate"].is_string(), "{one}");
    // Any MAC spelling in the path names the same interface.
    for spelling in [
        "A4BF012B7310",
        "a4:bf:01:2b:73:10",
        "A4-BF-01-2B-73-10",
        "a4bf.012b.7310",
    ] {
        assert_eq!(
            app.get_ok(&format!("{BASE}/{spelling}")).await,
            one,
            "{spelling}"
        );
    }
    let id2 = app.get_ok(&format!("{BASE}/a4bf012b7311")).await;
    assert_eq!(id2["ID"], "a4bf012b7311");
    let unowned = app.get_ok(&format!("{BASE}/a4bf012b7312")).await;
    assert!(
        unowned.get("ComponentID").is_none() && unowned.get("Type").is_none(),
        "{unowned}"
    );
    assert_eq!(unowned["IPAddresses"], json!([]));

    let all = app.get_ok(BASE).await;
    assert_eq!(macs(&all), ["a4bf012b7310", "a4bf012b7311", "a4bf012b7312"]);
    assert_eq!(app.get_ok(&format!("{BASE}/")).await, all);
    for (q, want) in [
        ("MACAddress=A4:BF:01:2B:73:11", vec!["a4bf012b7311"]),
        ("IPAddress=10.0.0.10", vec!["a4bf012b7310"]),
        ("IPAddress=fd00::11", vec!["a4bf012b7311"]),
        ("Network=NMN", vec!["a4bf012b7311"]),
        (
            "ComponentID=x1000c0s0b0n0&ComponentID=x1000c0s1b0n0",
            vec!["a4bf012b7310", "a4bf012b7311"],
        ),
        ("Type=Node", vec!["a4bf012b7310", "a4bf012b7311"]),
        ("Type=NodeBMC", vec![]),
        ("componentid=x1000c0s1b0n0&network=HMN", vec![]),
    ] {
        assert_eq!(
            macs(&app.get_ok(&format!("{BASE}?{q}")).await),
            want,
            "?{q}"
        );
    }
}

#[tokio::test]
async fn refusals() {
    let app = fixture().await;
    // Duplicate, whatever the spelling.
    app.refuse(
        "POST",
        BASE,
        Some(json!({"MACAddress": "A4BF012B7310"})),
        409,
        &["a4bf012b7310"],
    )
    .await;
    for (body, mentions) in [
        (
            json!({"MACAddress": "a4:bf:01:2b:73"}),
            vec!["MACAddress", "a4:bf:01:2b:73"],
        ),
        (
            json!({"MACAddress": "zz:bf:01:2b:73:10"}),
            vec!["MACAddress"],
        ),
        (json!({"Description": "no mac"}), vec!["MACAddress"]),
        (
            json!({"MACAddress": "a4:bf:01:2b:73:20", "ComponentID": "x1000c0s0b0n0q"}),
            vec!["ComponentID", "q"],
        ),
        (
            json!({"MACAddress": "a4:bf:01:2b:73:20", "IPAddresses": [{"IPAddress": "10.0.0.300"}]}),
            vec!["IPAddresses[0].IPAddress", "10.0.0.300"],
        ),
        (
            json!({"MACAddress": "a4:bf:01:2b:73:20", "IPAddresses": "10.0.0.1"}),
            vec!["IPAddresses"],
        ),
        (json!({"MACAddress": 12}), vec!["MACAddress"]),
    ] {
        app.refuse("POST", BASE, Some(body), 400, &mentions).await;
    }
    app.refuse_raw("POST", BASE, Some(b"{\"MACAddress\":".to_vec()), 400, &[])
        .await;
    // Unknown and malformed ids in paths.
    app.refuse(
        "GET",
        &format!("{BASE}/a4bf012b7399"),
        None,
        404,
        &["a4bf012b7399"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}/a4bf012b73"),
        None,
        400,
        &["a4bf012b73"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}/nothex000000"),
        None,
        400,
        &["nothex000000"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{BASE}/a4bf012b7399"),
        None,
        404,
        &["a4bf012b7399"],
    )
    .await;
    app.refuse("DELETE", &format!("{BASE}/zz"), None, 400, &["zz"])
        .await;
    app.refuse(
        "PATCH",
        &format!("{BASE}/a4bf012b7399"),
        Some(json!({"Description": "x"})),
        404,
        &["a4bf012b7399"],
    )
    .await;
    app.refuse(
        "PATCH",
        &format!("{BASE}/a4bf012b7310"),
        Some(json!({"ComponentID": "not-an-xname"})),
        400,
        &["ComponentID"],
    )
    .await;
    app.refuse(
        "PATCH",
        &format!("{BASE}/a4bf012b7310"),
        Some(json!({"IPAddresses": [{"IPAddress": "nope"}]})),
        400,
        &["IPAddress", "nope"],
    )
    .await;
    // Unknown filters.
    app.refuse("GET", &format!("{BASE}?colour=red"), None, 400, &["colour"])
        .await;
    app.refuse(
        "GET",
        &format!("{BASE}?MACAddress=xyz"),
        None,
        400,
        &["xyz"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}?IPAddress=1.2.3"),
        None,
        400,
        &["1.2.3"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}?Type=Toaster"),
        None,
        400,
        &["Toaster"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}?ComponentID=x1y"),
        None,
        400,
        &["x1y"],
    )
    .await;
}

#[tokio::test]
async fn patch_and_delete() {
    let app = fixture().await;
    let url = format!("{BASE}/A4:BF:01:2B:73:12");
    let r = app
        .expect(
            "PATCH",
            &url,
            Some(json!({"Description": "spare", "ComponentID": "x1000c0s0b0",
                "IPAddresses": [{"IPAddress": "10.1.0.12", "Network": "HMN"}]})),
            200,
        )
        .await;
    assert_eq!(r["ID"], "a4bf012b7312");
    assert_eq!(r["Description"], "spare");
    assert_eq!(r["ComponentID"], "x1000c0s0b0");
    assert_eq!(r["Type"], "NodeBMC");
    assert_eq!(
        r["IPAddresses"],
        json!([{"IPAddress": "10.1.0.12", "Network": "HMN"}])
    );
    assert_eq!(app.get_ok(&url).await, r);
    // Omitted fields stay.
    let r2 = app
        .expect("PATCH", &url, Some(json!({"Description": "spare2"})), 200)
        .await;
    assert_eq!(
        (&r2["ComponentID"], &r2["IPAddresses"]),
        (&r["ComponentID"], &r["IPAddresses"])
    );

    let d = app.expect("DELETE", &url, None, 200).await;
    assert_eq!(d, json!({"code": 0, "message": "deleted 1 entry"}));
    app.refuse("GET", &url, None, 404, &[]).await;
    let d = app.expect("DELETE", BASE, None, 200).await;
    assert_eq!(d, json!({"code": 0, "message": "deleted 2 entries"}));
    assert_eq!(app.get_ok(BASE).await, json!([]));
    app.refuse("DELETE", BASE, None, 404, &[]).await;
}

#[tokio::test]
async fn ip_addresses() {
    let app = fixture().await;
    let ips = format!("{BASE}/a4-bf-01-2b-73-10/IPAddresses");
    assert_eq!(
        app.get_ok(&ips).await,
        json!([{"IPAddress": "10.0.0.10", "Network": "HMN"}])
    );
    let r = app
        .expect(
            "POST",
            &ips,
            Some(json!({"IPAddress": "10.0.1.10", "Network": "NMN"})),
            201,
        )
        .await;
    assert_eq!(
        r,
        json!({"URI": format!("{BASE}/a4bf012b7310/IPAddresses/10.0.1.10")})
    );
    app.expect(
        "POST",
        &format!("{ips}/"),
        Some(json!({"IPAddress": "fd00::10"})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok(&ips).await,
        json!([{"IPAddress": "10.0.0.10", "Network": "HMN"},
            {"IPAddress": "10.0.1.10", "Network": "NMN"}, {"IPAddress": "fd00::10"}])
    );
    // The interface's own GET shows them too.
    assert_eq!(
        app.get_ok(&format!("{BASE}/a4bf012b7310")).await["IPAddresses"],
        app.get_ok(&ips).await
    );
    let r = app
        .expect(
            "PATCH",
            &format!("{ips}/10.0.1.10"),
            Some(json!({"Network": "CAN"})),
            200,
        )
        .await;
    assert_eq!(r, json!({"IPAddress": "10.0.1.10", "Network": "CAN"}));
    let d = app
        .expect("DELETE", &format!("{ips}/fd00::10"), None, 200)
        .await;
    assert_eq!(d["code"], 0);
    assert_eq!(
        app.get_ok(&ips).await,
        json!([{"IPAddress": "10.0.0.10", "Network": "HMN"},
            {"IPAddress": "10.0.1.10", "Network": "CAN"}])
    );

    // Refusals.
    app.refuse(
        "POST",
        &ips,
        Some(json!({"IPAddress": "10.0.0.10"})),
        409,
        &["10.0.0.10"],
    )
    .await;
    app.refuse(
        "POST",
        &ips,
        Some(json!({"IPAddress": "10.0.0"})),
        400,
        &["IPAddress", "10.0.0"],
    )
    .await;
    app.refuse(
        "POST",
        &ips,
        Some(json!({"Network": "HMN"})),
        400,
        &["IPAddress"],
    )
    .await;
    app.refuse_raw("POST", &ips, Some(b"[".to_vec()), 400, &[])
        .await;
    let missing = format!("{BASE}/a4bf012b7399/IPAddresses");
    app.refuse("GET", &missing, None, 404, &["a4bf012b7399"])
        .await;
    app.refuse(
        "POST",
        &missing,
        Some(json!({"IPAddress": "10.9.9.9"})),
        404,
        &["a4bf012b7399"],
    )
    .await;
    app.refuse(
        "PATCH",
        &format!("{missing}/10.0.0.10"),
        Some(json!({"Network": "X"})),
        404,
        &[],
    )
    .await;
    app.refuse("DELETE", &format!("{missing}/10.0.0.10"), None, 404, &[])
        .await;
    app.refuse(
        "PATCH",
        &format!("{ips}/10.9.9.9"),
        Some(json!({"Network": "X"})),
        404,
        &["10.9.9.9"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{ips}/10.9.9.9"),
        None,
        404,
        &["10.9.9.9"],
    )
    .await;
    app.refuse(
        "PATCH",
        &format!("{ips}/ten"),
        Some(json!({"Network": "X"})),
        400,
        &["ten"],
    )
    .await;
    app.refuse("DELETE", &format!("{ips}/ten"), None, 400, &["ten"])
        .await;
    app.refuse(
        "PATCH",
        &format!("{ips}/10.0.0.10"),
        Some(json!({"Network": 5})),
        400,
        &["Network"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{BASE}/bad/IPAddresses"),
        None,
        400,
        &["bad"],
    )
    .await;
}
