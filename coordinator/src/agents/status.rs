//! The one mapping from the coordinator's errors to gRPC status codes (see the status codes
//! section of `agent.proto` for what agents do with each).

use cairn_protocols::PbError;
use tonic::Status;

use crate::api::ApiError;

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::BadRequest(m) | ApiError::PayloadTooLarge(m) => Status::invalid_argument(m),
            ApiError::NotFound(m) => Status::not_found(m),
            ApiError::Conflict(m) => Status::already_exists(m),
            ApiError::MethodNotAllowed(m) => Status::unimplemented(m),
            ApiError::Unavailable(m) => Status::unavailable(m),
            ApiError::Internal(m) => Status::internal(m),
        }
    }
}

/// A malformed message: never accepted as is.
pub(super) fn invalid(e: PbError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// The agent has no registration (never had, or was removed).
pub(super) fn unregistered(id: &str) -> Status {
    Status::failed_precondition(format!(
        "agent {id} is not registered: call Register, then retry"
    ))
}
