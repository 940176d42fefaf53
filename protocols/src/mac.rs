//! MAC addresses, normalized to lower-case colon form whatever separator style came in.

use std::fmt;
use std::str::FromStr;

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Why a string is not a MAC address. Display: `invalid MAC address "<input>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {input:?}: {reason}")]
pub struct MacError {
    /// The rejected input, as given.
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl MacAddr {
    /// Parses `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabbccddeeff` or `aabb.ccdd.eeff`
    /// (hex digits in either case; surrounding whitespace is not accepted).
    pub fn parse(input: &str) -> Result<MacAddr, MacError> {
        let fail = |reason: String| MacError {
            input: input.to_owned(),
            reason,
        };
        let bytes = input.as_bytes();
        // Each form is recognized by its length and where its separators sit.
        let (group, sep) = match bytes.len() {
            0 => return Err(fail("empty".to_owned())),
            12 => (12, None),
            14 => (4, Some(b'.')),
            17 => (
                2,
                bytes.get(2).copied().filter(|c| *c == b':' || *c == b'-'),
            ),
            n => {
                return Err(fail(format!(
                    "{n} characters; expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, \
                     aabb.ccdd.eeff or aabbccddeeff"
                )));
            }
        };
        if bytes.len() == 17 && sep.is_none() {
            return Err(fail(
                "expected ':' or '-' between each pair of hex digits".to_owned(),
            ));
        }
        let mut digits = [0u8; 12];
        let mut n = 0;
        for (pos, &c) in bytes.iter().enumerate() {
            let sep_slot = sep.is_some() && pos % (group + 1) == group;
            if sep_slot {
                if Some(c) != sep {
                    let want = sep.map(char::from).unwrap_or(':');
                    return Err(fail(format!(
                        "expected {want:?} at position {pos}, found {:?}",
                        input
                            .get(pos..)
                            .and_then(|s| s.chars().next())
                            .unwrap_or('?')
                    )));
                }
                continue;
            }
            let Some(v) = hex_value(c) else {
                let found = input
                    .get(pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                return Err(fail(format!(
                    "{found:?} at position {pos} is not a hex digit"
                )));
            };
            digits[n] = v;
            n += 1;
        }
        let mut out = [0u8; 6];
        for (i, b) in out.iter_mut().enumerate() {
            *b = digits[2 * i] << 4 | digits[2 * i + 1];
        }
        Ok(MacAddr(out))
    }

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// SMD's EthernetInterface ID: 12 lower-case hex digits, no separators.
    pub fn smd_id(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The PXE `BOOTIF` form: `01-aa-bb-cc-dd-ee-ff` (01 = Ethernet hardware type).
    pub fn bootif(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("01-{}", pairs.join("-"))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

impl FromStr for MacAddr {
    type Err = MacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MacAddr::parse(s)
    }
}

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        MacAddr::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for MacAddr {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("MAC address; output is always lower-case colon form"))
            .examples(["a4:bf:01:2b:73:10"])
            .into()
    }
}

impl utoipa::ToSchema for MacAddr {}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0xa4, 0xbf, 0x01, 0x2b, 0x73, 0x10]);

    #[test]
    fn accepts_the_four_forms() {
        for s in [
            "a4:bf:01:2b:73:10",
            "A4-BF-01-2B-73-10",
            "a4bf012b7310",
            "a4bf.012b.7310",
        ] {
            assert_eq!(MacAddr::parse(s), Ok(MAC), "{s}");
        }
    }

    #[test]
    fn renders_the_three_outputs() {
        assert_eq!(MAC.to_string(), "a4:bf:01:2b:73:10");
        assert_eq!(MAC.smd_id(), "a4bf012b7310");
        assert_eq!(MAC.bootif(), "01-a4-bf-01-2b-73-10");
        assert_eq!(
            serde_json::to_string(&MAC).unwrap(),
            "\"a4:bf:01:2b:73:10\""
        );
    }

    #[test]
    fn errors_name_input_and_reason() {
        let e = MacAddr::parse("a4:bf:01:2b:73:1g").unwrap_err().to_string();
        assert!(e.contains("\"a4:bf:01:2b:73:1g\""), "{e}");
        assert!(e.contains("'g' at position 16 is not a hex digit"), "{e}");
        let e = MacAddr::parse("a4:bf-01:2b:73:10").unwrap_err().to_string();
        assert!(e.contains("expected ':' at position 5"), "{e}");
        let e = MacAddr::parse("a4:bf:01").unwrap_err().to_string();
        assert!(e.contains("8 characters"), "{e}");
        let e = MacAddr::parse("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = serde_json::from_str::<MacAddr>("\"zz\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid MAC address \"zz\""), "{e}");
    }

    #[test]
    fn non_ascii_does_not_panic() {
        assert!(MacAddr::parse("a4:bf:01:2b:73:é").is_err());
        assert!(MacAddr::parse("ééééééé").is_err());
        assert!(MacAddr::parse("a4bf012b731é").is_err());
    }
}
