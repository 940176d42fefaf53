//! Redfish endpoints (`/Inventory/RedfishEndpoints`): the BMCs discovery talks to, and the
//! three shapes a POST body may take.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::HmsType;
use crate::json::{DecodeError, empty_as_none, from_json_value, null_as_default, opt_ip_addr};
use crate::mac::MacAddr;
use crate::magellan::MagellanEndpoint;
use crate::xname::Xname;

/// `RedfishEndpoint.1.0.0_RedfishEndpoint`. `Password` is accepted on input and must never be
/// returned: answer with [`RedfishEndpoint::redacted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RedfishEndpoint {
    /// The BMC's xname.
    #[serde(rename = "ID")]
    pub id: Xname,
    /// HMS type (NodeBMC, ChassisBMC, ...); derived from the ID when blank.
    #[serde(rename = "Type", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<HmsType>,
    /// Arbitrary user-provided name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Host part of the FQDN (normally the xname).
    #[serde(rename = "Hostname", default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Domain part of the FQDN.
    #[serde(rename = "Domain", default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Address used to reach the endpoint (Magellan puts the BMC IP here).
    #[serde(rename = "FQDN", default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Whether the endpoint is enabled.
    #[serde(rename = "Enabled", default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// UUID of the Redfish service root.
    #[serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Redfish user name.
    #[serde(rename = "User", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Redfish password (write-only).
    #[serde(rename = "Password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Use SSDP for discovery.
    #[serde(rename = "UseSSDP", default, skip_serializing_if = "Option::is_none")]
    pub use_ssdp: Option<bool>,
    /// Whether the MAC is needed for geolocation. Magellan spells it `MACRequired`.
    #[serde(rename = "MacRequired", alias = "MACRequired", default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_required: Option<bool>,
    /// The BMC's management-network MAC.
    #[serde(rename = "MACAddr", default, deserialize_with = "empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_addr: Option<MacAddr>,
    /// The BMC's management-network IP.
    #[serde(rename = "IPAddress", default, deserialize_with = "opt_ip_addr")]
    #[serde(serialize_with = "crate::json::opt_ip_addr_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip_address: Option<IpAddr>,
    /// Rediscover when the endpoint is updated.
    #[serde(
        rename = "RediscoverOnUpdate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rediscover_on_update: Option<bool>,
    /// Discovery template.
    #[serde(
        rename = "TemplateID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub template_id: Option<String>,
    /// Outcome of the last discovery (read-only).
    #[serde(
        rename = "DiscoveryInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub discovery_info: Option<DiscoveryInfo>,
}

impl RedfishEndpoint {
    /// An endpoint with only its ID and the type its xname implies.
    pub fn new(id: Xname) -> RedfishEndpoint {
        RedfishEndpoint {
            r#type: Some(id.hms_type()),
            id,
            name: None,
            hostname: None,
            domain: None,
            fqdn: None,
            enabled: None,
            uuid: None,
            user: None,
            password: None,
            use_ssdp: None,
            mac_required: None,
            mac_addr: None,
            ip_address: None,
            rediscover_on_update: None,
            template_id: None,
            discovery_info: None,
        }
    }

    /// A copy without the password, for every response.
    pub fn redacted(&self) -> RedfishEndpoint {
        RedfishEndpoint {
            password: None,
            ..self.clone()
        }
    }
}

/// The `DiscoveryInfo` of a RedfishEndpoint. Written with SMD's live keys
/// (`LastDiscoveryAttempt`, `LastDiscoveryStatus`); the spec's `LastAttempt`/`LastStatus`
/// are accepted too.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct DiscoveryInfo {
    /// When discovery was last attempted (RFC 3339).
    #[serde(rename = "LastDiscoveryAttempt", alias = "LastAttempt", default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_discovery_attempt: Option<String>,
    /// Outcome, e.g. DiscoverOK, HTTPsGetFailed.
    #[serde(rename = "LastDiscoveryStatus", alias = "LastStatus", default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_discovery_status: Option<String>,
    /// Redfish version of the service root.
    #[serde(
        rename = "RedfishVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redfish_version: Option<String>,
    /// Why the last discovery failed, for operators (the request, the HTTP status or error,
    /// the limit hit); absent after a successful one. A Cairn extension: SMD has only the
    /// status word.
    #[serde(
        rename = "LastDiscoveryDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_discovery_detail: Option<String>,
}

/// `RedfishEndpointArray_RedfishEndpointArray`: `{"RedfishEndpoints":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct RedfishEndpointArray {
    /// The endpoints.
    #[serde(
        rename = "RedfishEndpoints",
        default,
        deserialize_with = "null_as_default"
    )]
    pub redfish_endpoints: Vec<RedfishEndpoint>,
}

/// What a `POST /Inventory/RedfishEndpoints` body turned out to be.
// Lives only for the duration of one request, so the variants' size difference is harmless.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RedfishEndpointPost {
    /// Magellan's inventory payload (has `SchemaVersion`).
    Magellan(MagellanEndpoint),
    /// A `{"RedfishEndpoints":[...]}` array.
    Array(RedfishEndpointArray),
    /// A single endpoint object.
    Single(RedfishEndpoint),
}

impl RedfishEndpointPost {
    /// The plain endpoints this body creates (the Magellan payload yields its one endpoint).
    pub fn endpoints(&self) -> Vec<RedfishEndpoint> {
        match self {
            RedfishEndpointPost::Magellan(m) => vec![m.endpoint.clone()],
            RedfishEndpointPost::Array(a) => a.redfish_endpoints.clone(),
            RedfishEndpointPost::Single(e) => vec![e.clone()],
        }
    }
}

/// Classifies a POST body by its keys (`SchemaVersion` → Magellan, `RedfishEndpoints` →
/// array, otherwise a single endpoint), then decodes that shape so errors name the field.
pub fn parse_redfish_endpoint_post(
    body: &serde_json::Value,
) -> Result<RedfishEndpointPost, DecodeError> {
    let Some(obj) = body.as_object() else {
        let message = "expected a JSON object (a RedfishEndpoint, {\"RedfishEndpoints\":[...]} \
                       or a Magellan payload)"
            .to_owned();
        return Err(DecodeError {
            path: ".".to_owned(),
            message,
        });
    };
    if obj.contains_key("SchemaVersion") {
        from_json_value(body).map(RedfishEndpointPost::Magellan)
    } else if obj.contains_key("RedfishEndpoints") {
        from_json_value(body).map(RedfishEndpointPost::Array)
    } else {
        from_json_value(body).map(RedfishEndpointPost::Single)
    }
}
