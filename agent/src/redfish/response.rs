//! Reading a BMC's answer: classifying transport errors, turning error statuses into errors
//! with the Redfish message of their body.

use std::time::Duration;

use super::error::RedfishError;
use super::session::RawResponse;

/// Longest Redfish error message kept from an error body.
const MAX_ERROR_MESSAGE: usize = 200;

pub(super) fn is_auth_refusal(status: u16) -> bool {
    status == 401 || status == 403
}

pub(super) fn too_large(name: &str, limit: usize) -> RedfishError {
    RedfishError::TooLarge {
        request: name.to_owned(),
        limit,
    }
}

pub(super) fn header_text(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(super) fn classify(name: &str, error: reqwest::Error, timeout: Duration) -> RedfishError {
    let request = name.to_owned();
    if error.is_timeout() {
        // reqwest's own timeout is the same as ours; report it the same way.
        RedfishError::Timeout {
            request,
            after: timeout,
        }
    } else if error.is_connect() {
        RedfishError::Connect {
            request,
            source: error,
        }
    } else {
        RedfishError::Transport {
            request,
            source: error,
        }
    }
}

/// Turns a non-2xx answer into an error carrying the Redfish error message, if any.
pub(super) fn check(
    name: String,
    response: RawResponse,
) -> Result<(String, RawResponse), RedfishError> {
    if (200..300).contains(&response.status) {
        return Ok((name, response));
    }
    Err(RedfishError::Status {
        request: name,
        status: response.status,
        message: redfish_message(&response.body),
    })
}

/// `error.message`, or the first `error.@Message.ExtendedInfo[].Message`, shortened.
fn redfish_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = v.get("error")?;
    let text = error
        .get("@Message.ExtendedInfo")
        .and_then(|i| i.get(0))
        .and_then(|i| i.get("Message"))
        .or_else(|| error.get("message"))
        .and_then(|m| m.as_str())?;
    Some(text.trim().chars().take(MAX_ERROR_MESSAGE).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redfish_error_messages_are_extracted() {
        let body = br#"{"error":{"code":"Base.1.8.GeneralError","message":"A general error",
            "@Message.ExtendedInfo":[{"Message":"The BMC is busy."}]}}"#;
        assert_eq!(redfish_message(body).as_deref(), Some("The BMC is busy."));
        let body = br#"{"error":{"message":"Internal"}}"#;
        assert_eq!(redfish_message(body).as_deref(), Some("Internal"));
        assert_eq!(redfish_message(b"<html>"), None);
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(1000));
        assert_eq!(
            redfish_message(long.as_bytes()).unwrap().len(),
            MAX_ERROR_MESSAGE
        );
    }
}
