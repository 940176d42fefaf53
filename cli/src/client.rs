//! A thin JSON client for the Cairn API: one base URL, readable errors.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// Why a request failed, phrased for an operator.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens at the base URL.
    #[error(
        "cannot reach the Cairn API at {url}: is a coordinator running? \
         start one with 'cairn demo' or set --api / CAIRN_API"
    )]
    Unreachable {
        /// The base URL.
        url: String,
        /// The connection failure.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status (usually an RFC 7807 problem).
    #[error("{method} {path}: {status} {reason}")]
    Status {
        /// HTTP method.
        method: Method,
        /// Path and query.
        path: String,
        /// HTTP status code.
        status: u16,
        /// Problem title and detail, or the start of the body.
        reason: String,
    },
    /// The request could not be completed (timeout, reset, bad URL).
    #[error("{method} {path} failed")]
    Transport {
        /// HTTP method.
        method: Method,
        /// Path and query.
        path: String,
        /// What reqwest said.
        #[source]
        source: reqwest::Error,
    },
    /// The server's answer was not JSON.
    #[error("{method} {path}: the response is not JSON")]
    Decode {
        /// HTTP method.
        method: Method,
        /// Path and query.
        path: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The base URL is not an http(s) URL.
    #[error("--api {0:?}: expected a URL such as http://127.0.0.1:27779")]
    BadBase(String),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Talks JSON to one replica.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    stale: bool,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:27779`); `stale` adds `stale=true` to reads.
    pub fn new(base: &str, stale: bool) -> Result<Self, ClientError> {
        Self::with_timeout(base, stale, Duration::from_secs(30))
    }

    /// Like [`Client::new`] with a per-request timeout.
    pub fn with_timeout(base: &str, stale: bool, timeout: Duration) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadBase(base));
        }
        // reqwest is built without a default TLS provider; `main` installs ring, and so does
        // this for library users (tests). A second install is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("cairn-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| ClientError::Transport {
                method: Method::GET,
                path: String::new(),
                source,
            })?;
        Ok(Self { http, base, stale })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET a path under the base with query pairs; honours `--stale`.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ClientError> {
        let mut query = query.to_vec();
        if self.stale {
            query.push(("stale", "true".to_owned()));
        }
        self.send(Method::GET, path, &query, None).await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    /// PUT a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(Method::PUT, path, &[], Some(body)).await
    }

    /// PATCH a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(Method::PATCH, path, &[], Some(body)).await
    }

    /// DELETE a path.
    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// GET a path whose answer is text (an iPXE script).
    pub async fn get_text(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, ClientError> {
        self.exchange(Method::GET, path, query, None).await
    }

    /// Send one request; an empty answer is `Value::Null`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let text = self.exchange(method.clone(), path, query, body).await?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|source| ClientError::Decode {
            method,
            path: show_path(path, query),
            source,
        })
    }

    /// Send one request and return the body of a successful answer as text.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<String, ClientError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self.http.request(method.clone(), &url);
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let shown = show_path(path, query);
        let response = request.send().await.map_err(|source| {
            if source.is_connect() {
                ClientError::Unreachable {
                    url: self.base.clone(),
                    source,
                }
            } else {
                ClientError::Transport {
                    method: method.clone(),
                    path: shown.clone(),
                    source,
                }
            }
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|source| ClientError::Transport {
                method: method.clone(),
                path: shown.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(ClientError::Status {
                method,
                path: shown,
                status: status.as_u16(),
                reason: problem_reason(status.canonical_reason().unwrap_or(""), &text),
            });
        }
        Ok(text)
    }
}

fn show_path(path: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", pairs.join("&"))
}

/// "Title: detail" from an RFC 7807 body, else the start of the body, else the status reason.
pub fn problem_reason(canonical: &str, body: &str) -> String {
    if let Ok(Value::Object(problem)) = serde_json::from_str::<Value>(body) {
        let field = |k: &str| problem.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let (title, detail) = (field("title"), field("detail"));
        let title = if title.is_empty() { canonical } else { title };
        return match detail {
            "" => title.to_owned(),
            d if d == title => title.to_owned(),
            d => format!("{title}: {d}"),
        };
    }
    let body = body.trim();
    if body.is_empty() {
        return canonical.to_owned();
    }
    let short: String = body.chars().take(300).collect();
    format!("{canonical}: {short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_bodies_read_well() {
        let body =
            r#"{"type":"about:blank","title":"Not Found","detail":"no component x1","status":404}"#;
        assert_eq!(
            problem_reason("Not Found", body),
            "Not Found: no component x1"
        );
        assert_eq!(
            problem_reason("Bad Gateway", "<html>oops"),
            "Bad Gateway: <html>oops"
        );
        assert_eq!(problem_reason("No Content", ""), "No Content");
    }

    #[test]
    fn base_url_is_checked() {
        assert!(Client::new("127.0.0.1:27779", false).is_err());
        let c = Client::new("http://h:1/", false).expect("valid");
        assert_eq!(c.base(), "http://h:1");
    }
}
