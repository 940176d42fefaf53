//! JSON decoding helpers: errors that name the failing field, and SMD's loose encodings
//! (Go emits `""` for unset strings and `null` for empty slices).

use std::fmt::Display;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A request body did not decode. Display names the field path, e.g.
/// `RedfishEndpoints[1].MACAddr: invalid MAC address "zz": ...`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// The dotted path of the failing field (`.` for the document root).
    pub path: String,
    /// The full message, path included.
    pub message: String,
}

fn decode_error(path: String, inner: serde_json::Error) -> DecodeError {
    let message = if path == "." {
        inner.to_string()
    } else {
        format!("{path}: {inner}")
    };
    DecodeError { path, message }
}

/// Decodes a body from bytes, naming the failing field on error.
pub fn from_json_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| decode_error(e.path().to_string(), e.into_inner()))?;
    de.end().map_err(|e| decode_error(".".to_owned(), e))?;
    Ok(value)
}

/// Decodes an already-parsed JSON value, naming the failing field on error.
pub fn from_json_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| decode_error(e.path().to_string(), e.into_inner()))
}

/// `deserialize_with` for `Option<T>`: absent, `null` and `""` are `None`; anything else must
/// parse with [`FromStr`], whose error becomes the decode error.
pub(crate) fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// `deserialize_with` for collections: `null` is the empty collection.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `serialize_with` for an IP address: always its text form. serde's own impl writes a
/// binary enum for compact formats (the Raft log's MessagePack), which `ip_addr` would refuse.
pub(crate) fn ip_addr_text<S: serde::Serializer>(
    ip: &std::net::IpAddr,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(ip)
}

/// `serialize_with` for an optional IP address, as [`ip_addr_text`].
pub(crate) fn opt_ip_addr_text<S: serde::Serializer>(
    ip: &Option<std::net::IpAddr>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match ip {
        Some(ip) => s.collect_str(ip),
        None => s.serialize_none(),
    }
}

/// `deserialize_with` for an [`std::net::IpAddr`] whose error names the rejected text.
pub(crate) fn ip_addr<'de, D: Deserializer<'de>>(d: D) -> Result<std::net::IpAddr, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    s.trim()
        .parse()
        .map_err(|_| serde::de::Error::custom(format!("invalid IP address {s:?}")))
}

/// `deserialize_with` for an optional IP address; `""` is `None`.
pub(crate) fn opt_ip_addr<'de, D>(d: D) -> Result<Option<std::net::IpAddr>, D::Error>
where
    D: Deserializer<'de>,
{
    let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid IP address {t:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Component;

    #[test]
    fn errors_name_the_field_path() {
        let body = br#"{"Components":[{"ID":"x1c0s0b0n0"},{"ID":"x1c0s0q0"}]}"#;
        let err = from_json_slice::<crate::ComponentArray>(body).unwrap_err();
        assert_eq!(err.path, "Components[1].ID");
        assert!(
            err.message.contains("unexpected \"q0\" after \"x1c0s0\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(from_json_slice::<Component>(br#"{"ID":"x1"} x"#).is_err());
    }
}
