//! Redfish sessions: `POST /redfish/v1/SessionService/Sessions` trades credentials for an
//! `X-Auth-Token`; `DELETE` of the session's URI ends it. Live in both generated and mockup mode.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::json_response;
use crate::bmc::Bmc;
use crate::lock;

/// The sessions collection.
pub(crate) const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

/// Real BMCs hold a few dozen; a bound keeps a leaking client from growing the simulator.
const MAX_SESSIONS: usize = 256;

#[derive(Debug)]
struct Session {
    id: String,
    user: String,
}

#[derive(Debug, Default)]
struct Inner {
    by_token: HashMap<String, Session>,
    next_id: u64,
}

/// The open sessions of one BMC.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    inner: Mutex<Inner>,
}

/// 128 unpredictable bits: std's `RandomState` is seeded from the OS per process, which is all
/// a simulator's tokens need.
fn new_token(id: u64) -> String {
    let half = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(id ^ salt);
        h.finish()
    };
    format!("{:016x}{:016x}", half(0), half(u64::MAX))
}

impl Sessions {
    fn create(&self, user: &str) -> Result<(String, String), ApiError> {
        let mut inner = lock(&self.inner);
        if inner.by_token.len() >= MAX_SESSIONS {
            return Err(ApiError::SessionLimit);
        }
        inner.next_id += 1;
        let id = inner.next_id.to_string();
        let token = new_token(inner.next_id);
        inner.by_token.insert(
            token.clone(),
            Session {
                id: id.clone(),
                user: user.to_owned(),
            },
        );
        Ok((id, token))
    }

    /// Whether `token` belongs to an open session.
    pub(crate) fn is_valid(&self, token: &str) -> bool {
        lock(&self.inner).by_token.contains_key(token)
    }

    fn user(&self, id: &str) -> Option<String> {
        let inner = lock(&self.inner);
        inner
            .by_token
            .values()
            .find(|s| s.id == id)
            .map(|s| s.user.clone())
    }

    fn delete(&self, id: &str) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.by_token.len();
        inner.by_token.retain(|_, s| s.id != id);
        inner.by_token.len() != before
    }

    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<u64> = lock(&self.inner)
            .by_token
            .values()
            .filter_map(|s| s.id.parse().ok())
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| id.to_string()).collect()
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).by_token.len()
    }
}

fn session_resource(id: &str, user: &str) -> Value {
    json!({
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_7_0.Session",
        "Id": id,
        "Name": format!("Session {id}"),
        "UserName": user,
    })
}

/// `POST` of the sessions collection (no authentication: the body carries the credentials).
pub(crate) fn create(bmc: &Bmc, body: Map<String, Value>) -> Result<Response, ApiError> {
    const ACTION: &str = "Session creation";
    let field = |name: &'static str| match body.get(name) {
        None => Err(ApiError::ParameterMissing(ACTION, name)),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(ApiError::ParameterType(name, ACTION)),
    };
    let (user, password) = (field("UserName")?, field("Password")?);
    if let Some(extra) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "UserName" | "Password"))
    {
        return Err(ApiError::ParameterUnknown(ACTION, extra.clone()));
    }
    if !bmc.check_password(user, password) {
        tracing::info!(user, "session refused: bad credentials");
        return Err(ApiError::Unauthorized);
    }
    let (id, token) = bmc.sessions.create(user)?;
    tracing::debug!(user, session = %id, "session created");
    let mut response = json_response(StatusCode::CREATED, &session_resource(&id, user));
    let headers = response.headers_mut();
    if let Ok(token) = HeaderValue::from_str(&token) {
        headers.insert("x-auth-token", token);
    }
    if let Ok(location) = HeaderValue::from_str(&format!("{SESSIONS}/{id}")) {
        headers.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET` of the collection or of one session (`id`).
pub(crate) fn get(bmc: &Bmc, id: Option<&str>) -> Result<Value, ApiError> {
    match id {
        None => {
            let ids = bmc.sessions.ids();
            Ok(json!({
                "@odata.id": SESSIONS,
                "@odata.type": "#SessionCollection.SessionCollection",
                "Name": "Session Collection",
                "Members@odata.count": ids.len(),
                "Members": ids.iter().map(|id| json!({"@odata.id": format!("{SESSIONS}/{id}")})).collect::<Vec<_>>(),
            }))
        }
        Some(id) => bmc
            .sessions
            .user(id)
            .map(|user| session_resource(id, &user))
            .ok_or_else(|| ApiError::NotFound("Session", id.to_owned())),
    }
}

/// `DELETE` of one session.
pub(crate) fn delete(bmc: &Bmc, id: &str) -> Result<StatusCode, ApiError> {
    if bmc.sessions.delete(id) {
        tracing::debug!(session = id, "session deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("Session", id.to_owned()))
    }
}

/// The session id if `path` (normalized) is a session's URI, in any case.
pub(crate) fn session_id(path: &str) -> Option<&str> {
    let (prefix, id) = path.rsplit_once('/')?;
    (prefix.eq_ignore_ascii_case(SESSIONS) && !id.is_empty()).then_some(id)
}

/// Whether `path` (normalized) is the sessions collection.
pub(crate) fn is_collection(path: &str) -> bool {
    path.eq_ignore_ascii_case(SESSIONS)
}
