//! Redfish credentials and the authentication a BMC session currently uses.

use std::fmt;

/// A Redfish user name and password. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How requests to one BMC authenticate right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum AuthState {
    /// No credentials configured: requests go out bare.
    #[default]
    None,
    /// HTTP Basic on every request (what nearly every BMC accepts).
    Basic,
    /// A Redfish session (`X-Auth-Token`), for BMCs that refuse Basic.
    Session {
        /// The token.
        token: String,
        /// The session resource, deleted when the crawl ends.
        location: Option<String>,
    },
}
