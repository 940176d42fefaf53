//! OpenCHAMI cloud-init server admin data (`/cloud-init/admin/...`), with its JSON keys, and
//! the phone-home form.
//!
//! **Where user-data comes from.** A node's `/user-data` is one `#cloud-config` document merged
//! from three layers, earliest first: [`ClusterDefaults::user_data`], then the `#cloud-config`
//! file of each of the node's groups ([`GroupData::file`], groups in name order), then
//! [`InstanceInfo::user_data`]. The two `user-data` keys are Cairn extensions (OpenCHAMI's
//! server always answers a bare `#cloud-config`); OpenCHAMI clients that do not send them
//! lose nothing. Group files keep OpenCHAMI's role too: they are served at `/{group}.yaml`
//! and listed in `vendor-data`. BSS's `cloud-init.user-data` is stored for BSS clients but is
//! not a layer. The merge itself is `cairn-bootsvc`'s.
//!
//! ```
//! use cairn_protocols::{GroupData, from_json_slice};
//!
//! let g: GroupData = from_json_slice(br#"{"name":"compute","meta-data":{"slurm":"yes"},
//!     "file":{"content":"I2Nsb3VkLWNvbmZpZwpwYWNrYWdlczogW3ZpbV0K","encoding":"base64"}}"#)?;
//! g.validate()?;
//! assert_eq!(g.file.as_ref().map(|f| f.content.as_str()), Some("#cloud-config\npackages: [vim]\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::boot::{FieldError, check_len, check_single_line};
use crate::group::validate_label;
use crate::xname::Xname;

mod file;
mod userdata;

pub use file::{CloudConfigFile, FileEncoding};

pub use userdata::{UserDataKind, parse_cloud_config, user_data_kind, validate_user_data};

/// Longest accepted name-like value (cluster name, hostnames, region, ...).
pub const MAX_NAME_LEN: usize = 255;
/// Longest accepted URL (`base-url`, `cloud-init-base-url`).
pub const MAX_URL_LEN: usize = 2048;
/// Most public keys in one record.
pub const MAX_PUBLIC_KEYS: usize = 256;
/// Longest accepted public key line.
pub const MAX_PUBLIC_KEY_LEN: usize = 16 * 1024;
/// Largest `user-data` (cluster defaults, instance info).
pub const MAX_USER_DATA_LEN: usize = 64 * 1024;
/// Largest group file, after base64 decoding.
pub const MAX_GROUP_FILE_LEN: usize = 128 * 1024;
/// Largest group `meta-data`, as JSON.
pub const MAX_META_DATA_LEN: usize = 64 * 1024;
/// Longest group description.
pub const MAX_DESCRIPTION_LEN: usize = 4096;

/// `null` and `""` (Go's "unset") are `None`; anything else is kept as written.
fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// `cistore.ClusterDefaults`: cluster-wide meta-data (`/admin/cluster-defaults`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ClusterDefaults {
    /// Cloud provider name (OpenCHAMI spells this key with an underscore).
    #[serde(rename = "cloud_provider", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<String>,
    /// Region.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    /// Availability zone.
    #[serde(rename = "availability-zone", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// The cluster's long name.
    #[serde(rename = "cluster-name", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// SSH public keys given to every node.
    #[serde(
        rename = "public-keys",
        default,
        deserialize_with = "crate::json::null_as_default"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    /// Base URL of the cloud-init service as nodes reach it (vendor-data include URLs).
    #[serde(rename = "base-url", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Boot subnet (stored, informational).
    #[serde(rename = "boot-subnet", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_subnet: Option<String>,
    /// WireGuard subnet (stored, informational).
    #[serde(rename = "wg-subnet", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wg_subnet: Option<String>,
    /// Hostname prefix: hostnames default to `<short-name><NID padded to nid-length>`.
    #[serde(rename = "short-name", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// Digits of the NID in default hostnames (OpenCHAMI's default: 4).
    #[serde(
        rename = "nid-length",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nid_length: Option<u32>,
    /// Cairn extension: `#cloud-config` text, the first layer of every node's user-data.
    #[serde(rename = "user-data", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

/// Longest accepted `nid-length`.
pub const MAX_NID_LENGTH: u32 = 12;

impl ClusterDefaults {
    /// Checks every field; the error names it (413 for sizes, else 400).
    pub fn validate(&self) -> Result<(), FieldError> {
        check_names([
            ("cloud_provider", &self.cloud_provider),
            ("region", &self.region),
            ("availability-zone", &self.availability_zone),
            ("cluster-name", &self.cluster_name),
            ("boot-subnet", &self.boot_subnet),
            ("wg-subnet", &self.wg_subnet),
            ("short-name", &self.short_name),
        ])?;
        if let Some(url) = &self.base_url {
            validate_base_url("base-url", url)?;
        }
        if let Some(n) = self.nid_length
            && !(1..=MAX_NID_LENGTH).contains(&n)
        {
            return Err(FieldError::invalid(
                "nid-length",
                format!("{n} is not in 1..={MAX_NID_LENGTH}"),
            ));
        }
        validate_keys_and_layer(&self.public_keys, self.user_data.as_deref())
    }
}

/// `cistore.GroupData`: a group's meta-data and cloud-init file (`/admin/groups`). The name is
/// an SMD group label; membership comes from the inventory's groups.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct GroupData {
    /// The group label.
    pub name: String,
    /// One-line description.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Free-form meta-data, shown to members under
    /// `instance_data.v1.vendor_data.groups.<name>`.
    #[serde(rename = "meta-data", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Map<String, Value>>,
    /// The group's cloud-init file, served at `/{name}.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<CloudConfigFile>,
}

impl GroupData {
    /// Checks every field; the error names it (413 for sizes, else 400). The file must have
    /// a cloud-init header, and `#cloud-config` files must be a YAML mapping.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_label(&self.name).map_err(|e| FieldError::invalid("name", e.reason))?;
        if let Some(d) = &self.description {
            check_single_line("description", d, MAX_DESCRIPTION_LEN)?;
        }
        if let Some(m) = &self.meta_data {
            let len = serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
            if len > MAX_META_DATA_LEN {
                return Err(FieldError::too_large("meta-data", len, MAX_META_DATA_LEN));
            }
        }
        if let Some(f) = &self.file {
            check_single_line("file.filename", &f.filename, MAX_NAME_LEN)?;
            check_len("file.content", &f.content, MAX_GROUP_FILE_LEN)?;
            if !f.content.is_empty() {
                validate_user_data("file.content", &f.content)?;
            }
        }
        Ok(())
    }

    /// The file's content when it is `#cloud-config` (the group's user-data layer).
    pub fn cloud_config(&self) -> Option<&str> {
        let f = self.file.as_ref()?;
        (user_data_kind("", &f.content) == Ok(UserDataKind::CloudConfig))
            .then_some(f.content.as_str())
    }
}

/// `cistore.OpenCHAMIInstanceInfo`: per-node overrides (`/admin/instance-info/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct InstanceInfo {
    /// The node (the path's id wins over this field).
    #[serde(default, deserialize_with = "crate::json::empty_as_none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Xname>,
    /// cloud-init instance ID (default: `i-<xname>`).
    #[serde(rename = "instance-id", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Short hostname.
    #[serde(rename = "local-hostname", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_hostname: Option<String>,
    /// Hostname, often the FQDN.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub hostname: Option<String>,
    /// Cluster name for this node.
    #[serde(rename = "cluster-name", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Region.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    /// Availability zone.
    #[serde(rename = "availability-zone", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Cloud provider.
    #[serde(rename = "cloud-provider", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<String>,
    /// Instance type.
    #[serde(rename = "instance-type", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Base URL of the cloud-init service for this node (wins over `base-url`).
    #[serde(
        rename = "cloud-init-base-url",
        default,
        deserialize_with = "opt_string"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_init_base_url: Option<String>,
    /// SSH public keys added to the cluster's.
    #[serde(
        rename = "public-keys",
        default,
        deserialize_with = "crate::json::null_as_default"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    /// Cairn extension: `#cloud-config` text, the last layer of this node's user-data.
    #[serde(rename = "user-data", default, deserialize_with = "opt_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

impl InstanceInfo {
    /// Checks every field; the error names it (413 for sizes, else 400).
    pub fn validate(&self) -> Result<(), FieldError> {
        check_names([
            ("instance-id", &self.instance_id),
            ("local-hostname", &self.local_hostname),
            ("hostname", &self.hostname),
            ("cluster-name", &self.cluster_name),
            ("region", &self.region),
            ("availability-zone", &self.availability_zone),
            ("cloud-provider", &self.cloud_provider),
            ("instance-type", &self.instance_type),
        ])?;
        if let Some(url) = &self.cloud_init_base_url {
            validate_base_url("cloud-init-base-url", url)?;
        }
        validate_keys_and_layer(&self.public_keys, self.user_data.as_deref())
    }
}

/// The phone-home form cloud-init posts (`/phone-home/{id}`), also BSS's `phone-home` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct PhoneHome {
    /// DSA host key (BSS only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pub_key_dsa: String,
    /// RSA host key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pub_key_rsa: String,
    /// ECDSA host key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pub_key_ecdsa: String,
    /// Ed25519 host key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pub_key_ed25519: String,
    /// The instance ID cloud-init ran with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instance_id: String,
    /// The hostname it set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// The FQDN it set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fqdn: String,
}

impl PhoneHome {
    /// Nothing reported.
    pub fn is_empty(&self) -> bool {
        *self == PhoneHome::default()
    }

    /// Each field is one line of at most [`MAX_PUBLIC_KEY_LEN`] bytes.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, v) in [
            ("pub_key_dsa", &self.pub_key_dsa),
            ("pub_key_rsa", &self.pub_key_rsa),
            ("pub_key_ecdsa", &self.pub_key_ecdsa),
            ("pub_key_ed25519", &self.pub_key_ed25519),
            ("instance_id", &self.instance_id),
            ("hostname", &self.hostname),
            ("fqdn", &self.fqdn),
        ] {
            check_single_line(field, v.trim_end(), MAX_PUBLIC_KEY_LEN)?;
        }
        Ok(())
    }
}

/// Each name-like field that is set is one line of at most [`MAX_NAME_LEN`] bytes.
fn check_names<const N: usize>(fields: [(&str, &Option<String>); N]) -> Result<(), FieldError> {
    for (field, v) in fields {
        if let Some(v) = v {
            check_single_line(field, v, MAX_NAME_LEN)?;
        }
    }
    Ok(())
}

/// The SSH keys and the `user-data` layer, checked alike in cluster defaults and instance info.
fn validate_keys_and_layer(keys: &[String], user_data: Option<&str>) -> Result<(), FieldError> {
    validate_public_keys(keys)?;
    if let Some(ud) = user_data {
        validate_layer("user-data", ud)?;
    }
    Ok(())
}

/// A cloud-config layer (the `user-data` extensions): `#cloud-config` YAML mapping, sized.
fn validate_layer(field: &str, text: &str) -> Result<(), FieldError> {
    check_len(field, text, MAX_USER_DATA_LEN)?;
    parse_cloud_config(field, text).map(drop)
}

fn validate_public_keys(keys: &[String]) -> Result<(), FieldError> {
    if keys.len() > MAX_PUBLIC_KEYS {
        return Err(FieldError {
            field: "public-keys".into(),
            reason: format!("{} keys, at most {MAX_PUBLIC_KEYS}", keys.len()),
            too_large: true,
        });
    }
    for (i, k) in keys.iter().enumerate() {
        check_single_line(&format!("public-keys[{i}]"), k, MAX_PUBLIC_KEY_LEN)?;
    }
    Ok(())
}

/// Checks a cloud-init base URL: `http(s)://host[...]`, printable ASCII without spaces (it is
/// written into `#include` lines and kernel parameters).
pub fn validate_base_url(field: &str, url: &str) -> Result<(), FieldError> {
    check_len(field, url, MAX_URL_LEN)?;
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    if host.is_none_or(str::is_empty) {
        return Err(FieldError::invalid(
            field,
            format!("{url:?} is not an http:// or https:// URL with a host"),
        ));
    }
    crate::boot::validate_image_path(field, url)
}

#[cfg(test)]
mod tests;
