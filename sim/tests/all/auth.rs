//! Basic auth, sessions and per-BMC credentials.

use cairn_sim::{Credentials, SimConfig};
use serde_json::{Value, json};

use crate::common::{client, get, message_id, start};

#[tokio::test]
async fn everything_but_the_root_needs_credentials() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let url = format!("{}/redfish/v1/Systems", bmc.url());

    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(message_id(anonymous).await, "Base.1.16.NoValidSession");

    let wrong = client
        .get(&url)
        .basic_auth("admin", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let garbage = client
        .get(&url)
        .header("authorization", "Basic !!!")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    let bad_token = client
        .get(&url)
        .header("x-auth-token", "0123")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);

    assert_eq!(get(&client, bmc, "/redfish/v1/Systems").await.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn sessions_are_created_used_listed_and_deleted() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let sessions = format!("{}/redfish/v1/SessionService/Sessions", bmc.url());

    let created = client
        .post(&sessions)
        .json(&json!({"UserName": "admin", "Password": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let token = created.headers()["x-auth-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["@odata.id"], location);
    assert_eq!(body["UserName"], "admin");
    assert_eq!(bmc.sessions(), 1);

    let with_token = |path: String| client.get(path).header("x-auth-token", &token).send();
    let systems = with_token(format!("{}/redfish/v1/Systems", bmc.url()))
        .await
        .unwrap();
    assert_eq!(systems.status(), 200);
    let list: Value = with_token(sessions.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["Members"][0]["@odata.id"], location);
    let own: Value = with_token(format!("{}{location}", bmc.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["Id"], body["Id"]);

    let deleted = client
        .delete(format!("{}{location}", bmc.url()))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(bmc.sessions(), 0);
    let after = with_token(format!("{}/redfish/v1/Systems", bmc.url()))
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_session_requests_are_refused_and_create_nothing() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let sessions = format!("{}/redfish/v1/SessionService/Sessions/", bmc.url());
    let post = |body: &'static str| {
        client
            .post(&sessions)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        (
            r#"{"UserName": "admin", "Password": "wrong"}"#,
            401,
            "NoValidSession",
        ),
        (r#"{"UserName": "admin"}"#, 400, "ActionParameterMissing"),
        (
            r#"{"UserName": "admin", "Password": 5}"#,
            400,
            "ActionParameterValueTypeError",
        ),
        (
            r#"{"UserName": "admin", "Password": "password", "Role": "x"}"#,
            400,
            "ActionParameterUnknown",
        ),
        (r#"{"UserName": "admin", "#, 400, "MalformedJSON"),
        (r#"["admin"]"#, 400, "MalformedJSON"),
    ];
    for (body, status, id) in cases {
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(
            message_id(response).await,
            format!("Base.1.16.{id}"),
            "{body}"
        );
    }
    let huge = client
        .post(&sessions)
        .header("content-type", "application/json")
        .body(format!(r#"{{"UserName": "{}"}}"#, "a".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(bmc.sessions(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn credentials_are_per_bmc_and_changeable_at_runtime() {
    let mut config = SimConfig::builder().count(2).build().unwrap();
    config.bmcs[1].credentials = Credentials::new("root", "calvin");
    let sim = start(config).await;
    let client = client();
    let status = |i: usize, user: &'static str, pw: &'static str| {
        let url = format!("{}/redfish/v1/Systems", sim.bmcs()[i].url());
        let client = client.clone();
        async move {
            client
                .get(url)
                .basic_auth(user, Some(pw))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(status(0, "admin", "password").await, 200);
    assert_eq!(status(1, "admin", "password").await, 401);
    assert_eq!(status(1, "root", "calvin").await, 200);
    assert_eq!(sim.bmcs()[1].info().username, "root");

    sim.bmcs()[0].set_credentials(Credentials::new("admin", "rotated"));
    assert_eq!(status(0, "admin", "password").await, 401);
    assert_eq!(status(0, "admin", "rotated").await, 200);
    sim.shutdown().await;
}
