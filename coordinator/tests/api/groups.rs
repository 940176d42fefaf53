//! `/hsm/v2/groups`, `/hsm/v2/partitions` and `/hsm/v2/memberships`.

use serde_json::json;

use crate::support::{App, node};

async fn fixture() -> App {
    let app = App::start().await;
    app.nodes(0..4).await;
    app
}

#[tokio::test]
async fn groups_lifecycle() {
    let app = fixture().await;
    let r = app
        .expect(
            "POST",
            "/hsm/v2/groups",
            Some(
                json!({"label": "Blue", "description": "the blue ones", "tags": ["a", "b"],
                "members": {"ids": [node(1), "X1000C0S0B0N0", node(1)]}}),
            ),
            201,
        )
        .await;
    assert_eq!(r, json!([{"URI": "/hsm/v2/groups/blue"}]));
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "red", "tags": ["b"]})),
        201,
    )
    .await;
    let blue = app.get_ok("/hsm/v2/groups/BLUE").await;
    assert_eq!(
        blue,
        json!({"label": "blue", "description": "the blue ones", "tags": ["a", "b"],
            "members": {"ids": [node(0), node(1)]}})
    );
    assert_eq!(
        app.get_ok("/hsm/v2/groups/labels").await,
        json!(["blue", "red"])
    );
    let list = app.get_ok("/hsm/v2/groups").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        app.get_ok("/hsm/v2/groups?group=red").await[0]["label"],
        "red"
    );
    assert_eq!(
        app.get_ok("/hsm/v2/groups?tag=a")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get_ok("/hsm/v2/groups?tag=b")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.get_ok("/hsm/v2/groups/").await, list);

    app.expect(
        "PATCH",
        "/hsm/v2/groups/blue",
        Some(json!({"description": "new", "tags": ["z"]})),
        204,
    )
    .await;
    let blue = app.get_ok("/hsm/v2/groups/blue").await;
    assert_eq!(
        (&blue["description"], &blue["tags"]),
        (&json!("new"), &json!(["z"]))
    );
    app.expect("PATCH", "/hsm/v2/groups/blue", Some(json!({})), 204)
        .await;
    assert_eq!(app.get_ok("/hsm/v2/groups/blue").await, blue);

    // Members.
    let members = "/hsm/v2/groups/blue/members";
    assert_eq!(
        app.get_ok(members).await,
        json!({"ids": [node(0), node(1)]})
    );
    let r = app
        .expect("POST", members, Some(json!({"id": node(2)})), 201)
        .await;
    assert_eq!(
        r,
        json!([{"URI": format!("/hsm/v2/groups/blue/members/{}", node(2))}])
    );
    assert_eq!(
        app.get_ok(members).await,
        json!({"ids": [node(0), node(1), node(2)]})
    );
    let r = app
        .expect(
            "PUT",
            members,
            Some(json!({"ids": [node(3), node(2), node(3)]})),
            200,
        )
        .await;
    assert_eq!(r, json!({"ids": [node(2), node(3)]}));
    let d = app
        .expect("DELETE", &format!("{members}/{}", node(3)), None, 200)
        .await;
    assert_eq!(d["code"], 0);
    assert_eq!(app.get_ok(members).await, json!({"ids": [node(2)]}));
    app.expect("PUT", members, Some(json!({"ids": []})), 200)
        .await;
    assert_eq!(app.get_ok(members).await, json!({"ids": []}));

    // Deleting a component removes it from its groups.
    app.expect("POST", members, Some(json!({"id": node(1)})), 201)
        .await;
    app.expect(
        "DELETE",
        &format!("/hsm/v2/State/Components/{}", node(1)),
        None,
        200,
    )
    .await;
    assert_eq!(app.get_ok(members).await, json!({"ids": []}));

    let d = app.expect("DELETE", "/hsm/v2/groups/blue", None, 200).await;
    assert_eq!(d["code"], 0);
    app.refuse("GET", "/hsm/v2/groups/blue", None, 404, &["blue"])
        .await;
    assert_eq!(app.get_ok("/hsm/v2/groups/labels").await, json!(["red"]));
}

#[tokio::test]
async fn group_refusals() {
    let app = fixture().await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "g1", "exclusiveGroup": "Racks", "members": {"ids": [node(0)]}})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "g2", "exclusiveGroup": "racks"})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "free"})),
        201,
    )
    .await;
    // Duplicate label, whatever the case.
    app.refuse(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "G1"})),
        409,
        &["g1"],
    )
    .await;
    // exclusiveGroup: a component may be in one group of the set only.
    app.refuse(
        "POST",
        "/hsm/v2/groups/g2/members",
        Some(json!({"id": node(0)})),
        409,
        &[&node(0), "g1"],
    )
    .await;
    app.refuse(
        "PUT",
        "/hsm/v2/groups/g2/members",
        Some(json!({"ids": [node(1), node(0)]})),
        409,
        &[&node(0)],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "g3", "exclusiveGroup": "racks", "members": {"ids": [node(0)]}})),
        409,
        &[&node(0)],
    )
    .await;
    // Non-exclusive groups may share.
    app.expect(
        "POST",
        "/hsm/v2/groups/free/members",
        Some(json!({"id": node(0)})),
        201,
    )
    .await;
    // Already a member.
    app.refuse(
        "POST",
        "/hsm/v2/groups/g1/members",
        Some(json!({"id": node(0)})),
        409,
        &[&node(0)],
    )
    .await;
    // Members must be known components.
    for (method, url, body) in [
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": "g4", "members": {"ids": ["x9c0s0b0n0"]}}),
        ),
        (
            "POST",
            "/hsm/v2/groups/free/members",
            json!({"id": "x9c0s0b0n0"}),
        ),
        (
            "PUT",
            "/hsm/v2/groups/free/members",
            json!({"ids": [node(1), "x9c0s0b0n0"]}),
        ),
    ] {
        app.refuse(method, url, Some(body), 400, &["x9c0s0b0n0"])
            .await;
    }
    // Bad labels, xnames and bodies.
    for (method, url, body, mentions) in [
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": "bad label"}),
            vec!["bad label"],
        ),
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": ""}),
            vec!["empty"],
        ),
        (
            "POST",
            "/hsm/v2/groups",
            json!({"description": "no label"}),
            vec!["label"],
        ),
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": "g5", "members": {"ids": ["x1c0s0q0"]}}),
            vec!["members.ids[0]", "q0"],
        ),
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": "g5", "exclusiveGroup": "no way"}),
            vec!["no way"],
        ),
        (
            "POST",
            "/hsm/v2/groups",
            json!({"label": "g5", "tags": "a"}),
            vec!["tags"],
        ),
        (
            "POST",
            "/hsm/v2/groups/free/members",
            json!({"id": "blade"}),
            vec!["id", "blade"],
        ),
        ("POST", "/hsm/v2/groups/free/members", json!({}), vec!["id"]),
        (
            "PUT",
            "/hsm/v2/groups/free/members",
            json!({"ids": ["blade"]}),
            vec!["ids[0]", "blade"],
        ),
        (
            "PUT",
            "/hsm/v2/groups/free/members",
            json!({"ids": "x"}),
            vec!["ids"],
        ),
        (
            "PATCH",
            "/hsm/v2/groups/free",
            json!({"tags": [1]}),
            vec!["tags"],
        ),
        (
            "PATCH",
            "/hsm/v2/groups/bad%20label",
            json!({"description": "x"}),
            vec!["bad label"],
        ),
        (
            "GET",
            "/hsm/v2/groups/bad%20label",
            json!(null),
            vec!["bad label"],
        ),
        (
            "DELETE",
            "/hsm/v2/groups/free/members/blade",
            json!(null),
            vec!["blade"],
        ),
    ] {
        let body = (!body.is_null()).then_some(body);
        app.refuse(method, url, body, 400, &mentions).await;
    }
    app.refuse_raw("POST", "/hsm/v2/groups", Some(b"{label".to_vec()), 400, &[])
        .await;
    app.refuse(
        "GET",
        "/hsm/v2/groups?group=bad%20label",
        None,
        400,
        &["bad label"],
    )
    .await;
    // Unknown group or member: 404.
    for (method, url, body) in [
        ("GET", "/hsm/v2/groups/nosuch", None),
        (
            "PATCH",
            "/hsm/v2/groups/nosuch",
            Some(json!({"description": "x"})),
        ),
        ("DELETE", "/hsm/v2/groups/nosuch", None),
        ("GET", "/hsm/v2/groups/nosuch/members", None),
        (
            "POST",
            "/hsm/v2/groups/nosuch/members",
            Some(json!({"id": node(1)})),
        ),
        (
            "PUT",
            "/hsm/v2/groups/nosuch/members",
            Some(json!({"ids": [node(1)]})),
        ),
    ] {
        app.refuse(method, url, body, 404, &["nosuch"]).await;
    }
    app.refuse(
        "DELETE",
        &format!("/hsm/v2/groups/nosuch/members/{}", node(1)),
        None,
        404,
        &[],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("/hsm/v2/groups/g2/members/{}", node(1)),
        None,
        404,
        &[&node(1)],
    )
    .await;
}

#[tokio::test]
async fn partitions() {
    let app = fixture().await;
    let r = app
        .expect(
            "POST",
            "/hsm/v2/partitions",
            Some(json!({"name": "P1", "description": "first", "tags": ["t"], "members": {"ids": [node(0)]}})),
            201,
        )
        .await;
    assert_eq!(r, json!([{"URI": "/hsm/v2/partitions/p1"}]));
    app.expect(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "p2"})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok("/hsm/v2/partitions/p1").await,
        json!({"name": "p1", "description": "first", "tags": ["t"], "members": {"ids": [node(0)]}})
    );
    assert_eq!(
        app.get_ok("/hsm/v2/partitions/names").await,
        json!(["p1", "p2"])
    );
    assert_eq!(
        app.get_ok("/hsm/v2/partitions")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.get_ok("/hsm/v2/partitions?partition=p2").await[0]["name"],
        "p2"
    );
    assert_eq!(
        app.get_ok("/hsm/v2/partitions?tag=t").await[0]["name"],
        "p1"
    );
    app.expect(
        "PATCH",
        "/hsm/v2/partitions/p2",
        Some(json!({"description": "second"})),
        204,
    )
    .await;
    assert_eq!(
        app.get_ok("/hsm/v2/partitions/p2").await["description"],
        "second"
    );

    let members = "/hsm/v2/partitions/p2/members";
    app.expect("POST", members, Some(json!({"id": node(1)})), 201)
        .await;
    app.expect(
        "PUT",
        members,
        Some(json!({"ids": [node(1), node(2)]})),
        200,
    )
    .await;
    assert_eq!(
        app.get_ok(members).await,
        json!({"ids": [node(1), node(2)]})
    );
    // One partition per component.
    app.refuse(
        "POST",
        members,
        Some(json!({"id": node(0)})),
        409,
        &[&node(0), "p1"],
    )
    .await;
    app.refuse(
        "PUT",
        members,
        Some(json!({"ids": [node(0)]})),
        409,
        &[&node(0), "p1"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "p3", "members": {"ids": [node(3), node(2)]}})),
        409,
        &[&node(2), "p2"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "p1"})),
        409,
        &["p1"],
    )
    .await;
    app.refuse(
        "POST",
        members,
        Some(json!({"id": "x9c0s0b0n0"})),
        400,
        &["x9c0s0b0n0"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"label": "p9"})),
        400,
        &["name"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "P 9"})),
        400,
        &["P 9"],
    )
    .await;
    for (method, url) in [
        ("GET", "/hsm/v2/partitions/nosuch"),
        ("DELETE", "/hsm/v2/partitions/nosuch"),
        ("GET", "/hsm/v2/partitions/nosuch/members"),
    ] {
        app.refuse(method, url, None, 404, &["nosuch"]).await;
    }
    app.refuse(
        "PATCH",
        "/hsm/v2/partitions/nosuch",
        Some(json!({})),
        404,
        &["nosuch"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/partitions/nosuch/members",
        Some(json!({"id": node(3)})),
        404,
        &["nosuch"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{members}/{}", node(3)),
        None,
        404,
        &[&node(3)],
    )
    .await;

    app.expect("DELETE", &format!("{members}/{}", node(2)), None, 200)
        .await;
    app.expect("DELETE", "/hsm/v2/partitions/p2", None, 200)
        .await;
    assert_eq!(app.get_ok("/hsm/v2/partitions/names").await, json!(["p1"]));
    // Its former members are free to join another partition.
    app.expect(
        "POST",
        "/hsm/v2/partitions/p1/members",
        Some(json!({"id": node(1)})),
        201,
    )
    .await;
}

#[tokio::test]
async fn memberships() {
    let app = fixture().await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "a", "members": {"ids": [node(0), node(1)]}})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "b", "members": {"ids": [node(0)]}})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "p", "members": {"ids": [node(0)]}})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("/hsm/v2/memberships/{}", node(0).to_uppercase()))
            .await,
        json!({"id": node(0), "groupLabels": ["a", "b"], "partitionName": "p"})
    );
    assert_eq!(
        app.get_ok(&format!("/hsm/v2/memberships/{}", node(3)))
            .await,
        json!({"id": node(3), "groupLabels": [], "partitionName": ""})
    );
    let all = app.get_ok("/hsm/v2/memberships").await;
    assert_eq!(all.as_array().unwrap().len(), 4);
    assert_eq!(
        all[1],
        json!({"id": node(1), "groupLabels": ["a"], "partitionName": ""})
    );
    let some = app
        .get_ok(&format!(
            "/hsm/v2/memberships?id={}&id={}",
            node(1),
            node(2)
        ))
        .await;
    assert_eq!(some.as_array().unwrap().len(), 2);
    assert_eq!(
        app.get_ok("/hsm/v2/memberships?type=NodeBMC").await,
        json!([])
    );
    assert_eq!(
        app.get_ok("/hsm/v2/memberships?group=b")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.refuse(
        "GET",
        "/hsm/v2/memberships/x9c0s0b0n0",
        None,
        404,
        &["x9c0s0b0n0"],
    )
    .await;
    app.refuse("GET", "/hsm/v2/memberships/node1", None, 400, &["node1"])
        .await;
    app.refuse(
        "GET",
        "/hsm/v2/memberships?type=Toaster",
        None,
        400,
        &["Toaster"],
    )
    .await;
    app.refuse("GET", "/hsm/v2/memberships?bogus=1", None, 400, &["bogus"])
        .await;
}
