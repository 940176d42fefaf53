//! Xnames: the location-based component names of HPE/OpenCHAMI systems (`x3000c0s5b0n0`).
//!
//! An xname is a sequence of `<letter><number>` segments whose letters follow a fixed
//! hierarchy; the last segment decides the [`HmsType`]. Parsing normalizes case and leading
//! zeros so that `X3000C0S05B0N0` and `x3000c0s5b0n0` are the same key everywhere.
//!
//! Number limits (inclusive): cabinet `x` 0..=999999, CDU `d` 0..=999, chassis `c` 0..=7,
//! `s0` only for the system, every other level 0..=255. The 255 bound is generous on purpose:
//! Magellan derives slot and BMC numbers from IPv4 octets.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::enums::HmsType;

mod grammar;

use grammar::{ROOTS, steps};

/// Longest accepted input; real xnames are under 40 bytes.
pub const MAX_XNAME_LEN: usize = 64;

/// Why a string is not an xname. Display: `invalid xname "<input>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid xname {input:?}: {reason}")]
pub struct XnameError {
    /// The rejected input, as given.
    pub input: String,
    /// What is wrong with it, naming the bad part.
    pub reason: XnameErrorReason,
}

/// The specific problem found in an xname.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XnameErrorReason {
    /// The input was empty.
    #[error("empty")]
    Empty,
    /// The input is longer than [`MAX_XNAME_LEN`].
    #[error("too long ({0} bytes, at most 64)")]
    TooLong(usize),
    /// The first segment is not `x<N>`, `d<N>` or `s0`.
    #[error(
        "unexpected {part:?} at the start (an xname starts with \"x<cabinet>\", \"d<cdu>\" or \"s0\")"
    )]
    BadStart {
        /// The offending leading segment.
        part: String,
    },
    /// A segment cannot follow the (valid) prefix before it.
    #[error("unexpected {part:?} after {prefix:?}")]
    Unexpected {
        /// The offending segment.
        part: String,
        /// The normalized valid prefix before it.
        prefix: String,
    },
    /// A letter is not followed by digits.
    #[error("expected a number after {letter:?}")]
    MissingNumber {
        /// The letter missing its number.
        letter: String,
    },
    /// A number is beyond the limit for its level.
    #[error("{level} number {value} out of range 0..={max}")]
    OutOfRange {
        /// The level, e.g. "slot".
        level: &'static str,
        /// The number as written (leading zeros stripped).
        value: String,
        /// The largest accepted number.
        max: u32,
    },
}

/// A validated, normalized xname. Ordering is natural (`x2` before `x10`), segment by segment.
#[derive(Clone)]
pub struct Xname {
    text: String,
    ty: HmsType,
}

/// Splits off the segment starting at `i`: one character plus the ASCII digits after it.
fn segment(s: &str, i: usize) -> (char, &str, usize) {
    let mut chars = s[i..].chars();
    let letter = chars.next().unwrap_or('\0');
    let start = i + letter.len_utf8();
    let digits_len = s[start..].bytes().take_while(u8::is_ascii_digit).count();
    (letter, &s[start..start + digits_len], start + digits_len)
}

impl Xname {
    /// Parses and normalizes an xname (lower case, leading zeros stripped).
    pub fn parse(input: &str) -> Result<Xname, XnameError> {
        let fail = |reason| XnameError {
            input: input.to_owned(),
            reason,
        };
        if input.is_empty() {
            return Err(fail(XnameErrorReason::Empty));
        }
        if input.len() > MAX_XNAME_LEN {
            return Err(fail(XnameErrorReason::TooLong(input.len())));
        }
        let mut text = String::with_capacity(input.len());
        let mut ty: Option<HmsType> = None;
        let mut i = 0;
        while i < input.len() {
            let (raw_letter, digits, next) = segment(input, i);
            let letter = raw_letter.to_ascii_lowercase();
            let options = ty.map_or(ROOTS, steps);
            let Some(step) = options.iter().find(|s| s.letter == letter) else {
                let part = input[i..next].to_owned();
                return Err(fail(match ty {
                    None => XnameErrorReason::BadStart { part },
                    Some(_) => XnameErrorReason::Unexpected { part, prefix: text },
                }));
            };
            if digits.is_empty() {
                let letter = raw_letter.to_string();
                return Err(fail(XnameErrorReason::MissingNumber { letter }));
            }
            let trimmed = digits.trim_start_matches('0');
            let number = if trimmed.is_empty() { "0" } else { trimmed };
            let in_range = number.len() <= 9 && number.parse::<u32>().is_ok_and(|n| n <= step.max);
            if !in_range {
                let value = number.to_owned();
                return Err(fail(XnameErrorReason::OutOfRange {
                    level: step.level,
                    value,
                    max: step.max,
                }));
            }
            text.push(letter);
            text.push_str(number);
            ty = Some(step.child);
            i = next;
        }
        // The loop ran at least once because the input is non-empty.
        let ty = ty.unwrap_or(HmsType::Invalid);
        Ok(Xname { text, ty })
    }

    /// The normalized text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The component type this xname names.
    pub fn hms_type(&self) -> HmsType {
        self.ty
    }

    /// The enclosing component: `x3000c0s5b0n0` → `x3000c0s5b0`; a cabinet or CDU → `s0`;
    /// `s0` → `None`.
    pub fn parent(&self) -> Option<Xname> {
        if self.ty == HmsType::System {
            return None;
        }
        let cut = self
            .text
            .rfind(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(0);
        if cut == 0 {
            return Some(Xname {
                text: "s0".to_owned(),
                ty: HmsType::System,
            });
        }
        Xname::parse(&self.text[..cut]).ok()
    }

    /// The cabinet number `N` of an `x<N>...` xname.
    pub fn cabinet(&self) -> Option<u32> {
        let rest = self.text.strip_prefix('x')?;
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    }

    /// Whether this names a node.
    pub fn is_node(&self) -> bool {
        self.ty == HmsType::Node
    }

    /// Whether this names a BMC (node, chassis, router or cabinet BMC).
    pub fn is_bmc(&self) -> bool {
        matches!(
            self.ty,
            HmsType::NodeBmc | HmsType::ChassisBmc | HmsType::RouterBmc | HmsType::CabinetBmc
        )
    }

    /// The child `<letter><number>` of this xname, e.g. a BMC's node `n0`.
    pub fn child(&self, letter: char, number: u32) -> Result<Xname, XnameError> {
        Xname::parse(&format!("{}{letter}{number}", self.text))
    }

    /// Whether `other` is this component or lies beneath it (`s0` contains everything).
    pub fn contains(&self, other: &Xname) -> bool {
        if self.ty == HmsType::System {
            return true;
        }
        match other.text.strip_prefix(self.text.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_alphabetic()),
            None => false,
        }
    }
}

/// Natural order of two normalized xname texts, segment by segment: letters by byte, numbers
/// by value. It reads the text in place, since BTreeMap lookups compare on every step: the
/// texts are normalized (no leading zeros, `0` written once), so a shorter digit run is the
/// smaller number and runs of equal length compare as bytes.
fn natural_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let by_letter = x.cmp(y);
                if by_letter != Ordering::Equal {
                    return by_letter;
                }
            }
        }
        let (da, db) = (digit_run(a, i + 1), digit_run(b, j + 1));
        let by_number = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if by_number != Ordering::Equal {
            return by_number;
        }
        i += 1 + da.len();
        j += 1 + db.len();
    }
}

/// The ASCII digits of `s` from `from` on.
fn digit_run(s: &[u8], from: usize) -> &[u8] {
    let rest = s.get(from..).unwrap_or_default();
    let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    &rest[..len]
}

impl PartialEq for Xname {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Xname {}

impl Hash for Xname {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl Ord for Xname {
    fn cmp(&self, other: &Self) -> Ordering {
        natural_cmp(self.text.as_bytes(), other.text.as_bytes())
    }
}

impl PartialOrd for Xname {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Xname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Xname({})", self.text)
    }
}

impl fmt::Display for Xname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Xname {
    type Err = XnameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Xname::parse(s)
    }
}

impl AsRef<str> for Xname {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for Xname {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Xname {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Xname::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Xname {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Component location name (xname), e.g. x3000c0s5b0n0"))
            .examples(["x3000c0s5b0n0"])
            .into()
    }
}

impl utoipa::ToSchema for Xname {}
