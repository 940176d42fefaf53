//! One conversation with one BMC: bounded concurrency, authentication (Basic, falling back to a
//! Redfish session when Basic is refused), timeouts and bounded bodies.

use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Semaphore};

use super::address::BmcAddress;
use super::auth::{AuthState, Credentials};
use super::client::RedfishClient;
use super::error::RedfishError;
use super::response::{check, classify, header_text, is_auth_refusal, too_large};

/// Where sessions are created when the service root does not say.
pub const DEFAULT_SESSIONS_PATH: &str = "/redfish/v1/SessionService/Sessions";

/// A BMC's answer to a request that succeeded (2xx).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, if any (e.g. a task monitor after a reset).
    pub location: Option<String>,
    /// The body (at most the configured limit).
    pub body: Vec<u8>,
}

#[derive(Debug)]
struct Auth {
    /// Bumped whenever `state` changes, so concurrent 401s log in only once.
    generation: u64,
    state: AuthState,
    /// Set once a session login was refused: later requests fail without trying again.
    refused: bool,
}

/// A conversation with one BMC (see the module docs). Call [`BmcSession::logout`] when done so a
/// session, if one was opened, does not hold one of the BMC's few session slots.
#[derive(Debug)]
pub struct BmcSession {
    client: RedfishClient,
    address: BmcAddress,
    base: Url,
    credentials: Option<Credentials>,
    auth: Mutex<Auth>,
    sessions_path: std::sync::Mutex<String>,
    permits: Arc<Semaphore>,
}

impl BmcSession {
    pub(crate) fn new(
        client: RedfishClient,
        address: BmcAddress,
        base: Url,
        credentials: Option<Credentials>,
        permits: Arc<Semaphore>,
    ) -> BmcSession {
        let state = if credentials.is_some() {
            AuthState::Basic
        } else {
            AuthState::None
        };
        BmcSession {
            client,
            address,
            base,
            credentials,
            auth: Mutex::new(Auth {
                generation: 0,
                state,
                refused: false,
            }),
            sessions_path: std::sync::Mutex::new(DEFAULT_SESSIONS_PATH.to_owned()),
            permits,
        }
    }

    /// The BMC's address.
    pub fn address(&self) -> &BmcAddress {
        &self.address
    }

    /// Where to log in if Basic is refused (the service root's `Links.Sessions`).
    pub fn set_sessions_path(&self, path: &str) {
        if let Ok(mut p) = self.sessions_path.lock() {
            path.clone_into(&mut p);
        }
    }

    /// GETs `path` (a Redfish path or a link on this BMC) and decodes its body, which must be a
    /// JSON object.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, RedfishError> {
        let (request, response) = self.request(Method::GET, path, None).await?;
        super::model::decode_resource(&response.body)
            .map_err(|source| RedfishError::Decode { request, source })
    }

    /// POSTs `body` as JSON to `path`.
    pub async fn post<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<RawResponse, RedfishError> {
        let bytes = serde_json::to_vec(body).map_err(|source| RedfishError::Decode {
            request: format!("POST {path}"),
            source,
        })?;
        Ok(self.request(Method::POST, path, Some(bytes)).await?.1)
    }

    /// Deletes the Redfish session if one was opened (best effort: errors are only logged).
    pub async fn logout(&self) {
        let mut auth = self.auth.lock().await;
        let AuthState::Session {
            token,
            location: Some(location),
        } = &auth.state
        else {
            return;
        };
        let Ok(url) = self.resolve(location) else {
            return;
        };
        let sent = self
            .client
            .http
            .delete(url)
            .header("X-Auth-Token", token)
            .timeout(self.client.request_timeout)
            .send()
            .await;
        if let Err(e) = sent {
            tracing::debug!(bmc = %self.address, error = %e, "session logout failed");
        }
        auth.state = AuthState::None;
        auth.generation += 1;
    }

    /// Sends a request, re-authenticating once on 401/403. Returns the request's name (method
    /// and path, for errors) and the successful response.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(String, RawResponse), RedfishError> {
        let url = self.resolve(path)?;
        let name = format!("{method} {}", url.path());
        // The semaphore is never closed, so acquiring cannot fail; go on regardless.
        let _permit = self.permits.acquire().await.ok();
        let (generation, state, refused) = {
            let a = self.auth.lock().await;
            (a.generation, a.state.clone(), a.refused)
        };
        let configured = self.credentials.is_some();
        if refused {
            return Err(RedfishError::Unauthorized {
                request: name,
                status: 401,
                configured,
            });
        }
        let response = self
            .send(&method, &url, body.as_deref(), &state, &name)
            .await?;
        if !is_auth_refusal(response.status) {
            return check(name, response);
        }
        let Some(credentials) = &self.credentials else {
            return Err(RedfishError::Unauthorized {
                request: name,
                status: response.status,
                configured,
            });
        };
        let state = self
            .reauthenticate(generation, credentials, response.status, &name)
            .await?;
        let response = self
            .send(&method, &url, body.as_deref(), &state, &name)
            .await?;
        if is_auth_refusal(response.status) {
            return Err(RedfishError::Unauthorized {
                request: name,
                status: response.status,
                configured,
            });
        }
        check(name, response)
    }

    /// After a refusal under auth `generation`: opens a session (once for all concurrent
    /// requests) and returns the auth to retry with.
    async fn reauthenticate(
        &self,
        generation: u64,
        credentials: &Credentials,
        refused_status: u16,
        name: &str,
    ) -> Result<AuthState, RedfishError> {
        let mut auth = self.auth.lock().await;
        let unauthorized = || RedfishError::Unauthorized {
            request: name.to_owned(),
            status: refused_status,
            configured: true,
        };
        if auth.refused {
            return Err(unauthorized());
        }
        if auth.generation != generation {
            return Ok(auth.state.clone());
        }
        match self.login(credentials).await? {
            Some(state) => {
                tracing::debug!(bmc = %self.address, "Basic auth refused; using a Redfish session");
                auth.state = state.clone();
                auth.generation += 1;
                Ok(state)
            }
            None => {
                auth.refused = true;
                Err(unauthorized())
            }
        }
    }

    /// `POST .../Sessions`; `None` when the BMC refuses or has no session service.
    async fn login(&self, credentials: &Credentials) -> Result<Option<AuthState>, RedfishError> {
        let path = self
            .sessions_path
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|_| DEFAULT_SESSIONS_PATH.to_owned());
        let url = self.resolve(&path)?;
        let name = format!("POST {}", url.path());
        let body = serde_json::json!({
            "UserName": credentials.username(),
            "Password": credentials.password(),
        });
        let fut = async {
            let response = self
                .client
                .http
                .post(url)
                .header(ACCEPT, "application/json")
                .json(&body)
                .send()
                .await
                .map_err(|e| classify(&name, e, self.client.request_timeout))?;
            let ok = response.status().is_success();
            let token = header_text(&response, "X-Auth-Token");
            let location = header_text(&response, LOCATION.as_str());
            Ok::<_, RedfishError>(match (ok, token) {
                (true, Some(token)) => Some(AuthState::Session { token, location }),
                _ => None,
            })
        };
        tokio::time::timeout(self.client.request_timeout, fut)
            .await
            .map_err(|_| RedfishError::Timeout {
                request: name.clone(),
                after: self.client.request_timeout,
            })?
    }

    /// One attempt: send, then read the bounded body, all within the request timeout.
    async fn send(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        auth: &AuthState,
        name: &str,
    ) -> Result<RawResponse, RedfishError> {
        let mut builder = self
            .client
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, "application/json");
        builder = match (auth, &self.credentials) {
            (AuthState::Basic, Some(c)) => builder.basic_auth(c.username(), Some(c.password())),
            (AuthState::Session { token, .. }, _) => builder.header("X-Auth-Token", token),
            _ => builder,
        };
        if let Some(body) = body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let limit = self.client.max_response_bytes;
        let fut = async {
            let mut response = builder
                .send()
                .await
                .map_err(|e| classify(name, e, self.client.request_timeout))?;
            let status = response.status().as_u16();
            let location = header_text(&response, LOCATION.as_str());
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(too_large(name, limit));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| classify(name, e, self.client.request_timeout))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(name, limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(RawResponse {
                status,
                location,
                body,
            })
        };
        tokio::time::timeout(self.client.request_timeout, fut)
            .await
            .map_err(|_| RedfishError::Timeout {
                request: name.to_owned(),
                after: self.client.request_timeout,
            })?
    }

    /// A link on this BMC as a URL. Absolute links keep only their path and query: a crawl
    /// never follows a BMC's links to another host.
    fn resolve(&self, link: &str) -> Result<Url, RedfishError> {
        let bad = |reason: String| RedfishError::Link {
            request: format!("link {link:?}"),
            reason,
        };
        if link.starts_with("http://") || link.starts_with("https://") {
            let absolute = Url::parse(link).map_err(|e| bad(e.to_string()))?;
            let mut url = self.base.clone();
            url.set_path(absolute.path());
            url.set_query(absolute.query());
            Ok(url)
        } else if link.starts_with('/') {
            self.base.join(link).map_err(|e| bad(e.to_string()))
        } else {
            Err(bad("not a path".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests;
