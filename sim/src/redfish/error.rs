//! Redfish error responses: the status code and the `{"error": {...}}` body with a Base
//! registry message, mapped in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json_response;

const REGISTRY: &str = "Base.1.16";

/// Every way a simulated BMC refuses a request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("There is no valid session established with the implementation.")]
    Unauthorized,
    #[error("The requested resource of type {0} named {1} was not found.")]
    NotFound(&'static str, String),
    #[error("The operation is not allowed on {0}.")]
    MethodNotAllowed(String, &'static str),
    #[error("The request body submitted was malformed JSON and could not be parsed: {0}")]
    MalformedJson(String),
    #[error("The request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("The action {0} requires the parameter {1} to be present in the request body.")]
    ParameterMissing(&'static str, &'static str),
    #[error(
        "The value {0} for the parameter {1} in the action {2} is not in the list of acceptable values."
    )]
    ParameterNotInList(String, &'static str, &'static str),
    #[error(
        "The value for the parameter {0} in the action {1} is of a different type than the parameter can accept."
    )]
    ParameterType(&'static str, &'static str),
    #[error("The action {0} was submitted with the invalid parameter {1}.")]
    ParameterUnknown(&'static str, String),
    #[error("The property {0} is not in the list of valid properties for the resource.")]
    PropertyUnknown(String),
    #[error("The value {0} for the property {1} is not in the list of acceptable values.")]
    PropertyNotInList(String, String),
    #[error("The value for the property {0} is of a different type than the property can accept.")]
    PropertyType(String),
    #[error(
        "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation."
    )]
    SessionLimit,
    #[error(
        "The request failed due to an internal service error. The service is still operational."
    )]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(..) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::SessionLimit => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message_id(&self) -> &'static str {
        match self {
            Self::Unauthorized => "NoValidSession",
            Self::NotFound(..) => "ResourceNotFound",
            Self::MethodNotAllowed(..) => "OperationNotAllowed",
            Self::MalformedJson(_) => "MalformedJSON",
            Self::PayloadTooLarge(_) => "PayloadTooLarge",
            Self::ParameterMissing(..) => "ActionParameterMissing",
            Self::ParameterNotInList(..) => "ActionParameterValueNotInList",
            Self::ParameterType(..) => "ActionParameterValueTypeError",
            Self::ParameterUnknown(..) => "ActionParameterUnknown",
            Self::PropertyUnknown(_) => "PropertyUnknown",
            Self::PropertyNotInList(..) => "PropertyValueNotInList",
            Self::PropertyType(_) => "PropertyValueTypeError",
            Self::SessionLimit => "SessionLimitExceeded",
            Self::Internal => "InternalError",
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Self::NotFound(a, b) => vec![(*a).into(), b.clone()],
            Self::ParameterMissing(a, b) => vec![(*a).into(), (*b).into()],
            Self::ParameterNotInList(v, p, a) => vec![v.clone(), (*p).into(), (*a).into()],
            Self::ParameterType(p, a) => vec![(*p).into(), (*a).into()],
            Self::ParameterUnknown(a, p) => vec![(*a).into(), p.clone()],
            Self::PropertyUnknown(p) | Self::PropertyType(p) => vec![p.clone()],
            Self::PropertyNotInList(v, p) => vec![v.clone(), p.clone()],
            _ => Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let id = format!("{REGISTRY}.{}", self.message_id());
        let message = self.to_string();
        let severity = if status.is_server_error() {
            "Critical"
        } else {
            "Warning"
        };
        let body = json!({
            "error": {
                "code": id,
                "message": message,
                "@Message.ExtendedInfo": [{
                    "@odata.type": "#Message.v1_1_1.Message",
                    "MessageId": id,
                    "Message": message,
                    "MessageArgs": self.args(),
                    "MessageSeverity": severity,
                    "Severity": severity,
                    "Resolution": "See the message; correct the request and resubmit it.",
                }]
            }
        });
        let mut response = json_response(status, &body);
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"cairn-sim\""),
                );
            }
            Self::MethodNotAllowed(_, allow) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
        response
    }
}
