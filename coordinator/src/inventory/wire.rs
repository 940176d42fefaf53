//! Command fields that must travel through Raft's MessagePack as JSON text.
//!
//! The SMD records parse IP addresses from strings only (`"10.0.0.1"`), but `IpAddr`
//! serializes to a compact non-string form in binary formats such as MessagePack, so such a
//! record would not decode on the way back out of the Raft log. Human-readable formats (the
//! JSON of the internal propose endpoint) get the value unchanged.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `serialize_with`: the value itself, or its JSON text in a binary format.
pub(super) fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        v.serialize(s)
    } else {
        serde_json::to_string(v)
            .map_err(S::Error::custom)?
            .serialize(s)
    }
}

/// `deserialize_with`: the inverse of [`serialize`].
pub(super) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    if d.is_human_readable() {
        T::deserialize(d)
    } else {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}
