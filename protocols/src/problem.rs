//! RFC 7807 problem details (`Problem7807`), SMD's error body.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn about_blank() -> String {
    "about:blank".to_owned()
}

/// An RFC 7807 error body: `{"type","title","detail","instance","status"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Problem type URI; SMD always uses `about:blank`.
    #[serde(rename = "type", default = "about_blank")]
    pub r#type: String,
    /// The HTTP status's reason phrase, e.g. "Bad Request".
    #[serde(default)]
    pub title: String,
    /// What went wrong, for a human.
    #[serde(default)]
    pub detail: String,
    /// The request path, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The HTTP status code.
    #[serde(default)]
    pub status: u16,
}

/// The reason phrase for the statuses Cairn answers with.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

impl Problem {
    /// A problem with `about:blank` type and the status's reason phrase as title.
    pub fn new(status: u16, detail: impl Into<String>) -> Problem {
        Problem {
            r#type: about_blank(),
            title: reason_phrase(status).to_owned(),
            detail: detail.into(),
            instance: None,
            status,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(400, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(404, detail)
    }

    /// 409 Conflict.
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(409, detail)
    }

    /// 500 Internal Server Error.
    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(500, detail)
    }

    /// Sets `instance` (the request path).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Problem {
        self.instance = Some(instance.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_json() {
        let p = Problem::bad_request("bad xname").with_instance("/hsm/v2/State/Components/x");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"type":"about:blank","title":"Bad Request","detail":"bad xname",
                "instance":"/hsm/v2/State/Components/x","status":400})
        );
        let q: Problem = serde_json::from_str(r#"{"detail":"x","status":404}"#).unwrap();
        assert_eq!(q.r#type, "about:blank");
        assert_eq!(q.to_string(), "404 : x");
    }
}
