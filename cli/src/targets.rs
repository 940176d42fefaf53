//! Targets of `cairn power` and `cairn discover`: xnames, xname ranges and group labels,
//! checked and expanded before any request is sent.
//!
//! # Syntax
//!
//! One command-line argument is one of:
//!
//! - **an xname**, any case, e.g. `x1000c0s0b0n0` (a node), `x1000c0s0b0` (a BMC: its nodes),
//!   `x1000` (a cabinet: its nodes);
//! - **a range**: an xname with one or more bracketed number lists, each item a number or an
//!   inclusive `FROM-TO` span, items separated by commas: `x1000c0s[0-3]b0n[0-1]` is 8 nodes,
//!   `x[1000,1002]c0s[0-1,4]b0` is 6 BMCs. Brackets expand left to right (the leftmost varies
//!   slowest), every result must be a valid xname, and one range may expand to at most
//!   [`MAX_EXPANSION`] names;
//! - **a group label** (`compute`, `rack-x1000`), or `@LABEL` to name a group whose label looks
//!   like an xname. A bare argument made only of letter-number segments (`x1000c0q3`, `n1`) is
//!   taken as a mistyped xname and refused, never silently looked up as a group.
//!
//! Repeated targets are sent once, in the order first given.

use std::fmt;

use cairn_protocols::normalize_label;

use crate::validate;

/// Most names one range may expand to (a large system has some tens of thousands of nodes).
pub const MAX_EXPANSION: u64 = 100_000;

/// One expanded target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A normalized xname.
    Xname(String),
    /// A normalized group label.
    Group(String),
}

impl Target {
    /// What to send as a PCS `location` entry: the xname, or the group label (the server
    /// expands both).
    pub fn location(&self) -> &str {
        match self {
            Target::Xname(x) | Target::Group(x) => x,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Xname(x) => f.write_str(x),
            Target::Group(g) => write!(f, "@{g}"),
        }
    }
}

/// The targets one command-line argument stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArg(pub Vec<Target>);

/// Clap value parser for power targets: an xname, a range or a group label.
pub fn target(s: &str) -> Result<TargetArg, String> {
    parse(s, true).map(TargetArg)
}

/// Clap value parser for discovery targets: an xname or a range (no groups).
pub fn xname_or_range(s: &str) -> Result<TargetArg, String> {
    parse(s, false).map(TargetArg)
}

/// Every target of several arguments, without repeats, in the order first given.
pub fn flatten(args: impl IntoIterator<Item = TargetArg>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    args.into_iter()
        .flat_map(|a| a.0)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

fn parse(s: &str, groups: bool) -> Result<Vec<Target>, String> {
    let s = s.trim();
    if let Some(label) = s.strip_prefix('@') {
        if !groups {
            return Err(format!("{s:?}: give BMC xnames or ranges here, not groups"));
        }
        return normalize_label(label)
            .map(|l| vec![Target::Group(l)])
            .map_err(|e| format!("{s:?}: not a group label: {e}"));
    }
    if s.contains(['[', ']']) {
        return expand(s).map(|names| names.into_iter().map(Target::Xname).collect());
    }
    match validate::xname(s) {
        Ok(x) => Ok(vec![Target::Xname(x)]),
        Err(e) if looks_like_xname(s) || !groups => Err(e),
        Err(_) => match normalize_label(s) {
            Ok(label) => Ok(vec![Target::Group(label)]),
            Err(e) => Err(format!(
                "{s:?} is neither an xname, a range such as x1000c0s[0-3]b0n0, nor a group \
                 label ({})",
                e.reason
            )),
        },
    }
}

/// Letter-number segments only (`x1000c0q3`): what an xname, perhaps mistyped, looks like.
fn looks_like_xname(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() {
            return false;
        }
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
    }
    !b.is_empty()
}

/// A range split into literal text and number lists: `x1000c0s[0-1]b0` is
/// `["x1000c0s", [0, 1], "b0"]`.
enum Piece {
    Text(String),
    Numbers(Vec<u32>),
}

/// Expands a range into normalized xnames, refusing bad brackets and invalid results.
pub fn expand(range: &str) -> Result<Vec<String>, String> {
    let bad = |why: String| format!("invalid range {range:?}: {why}");
    let mut pieces = Vec::new();
    let mut rest = range;
    while !rest.is_empty() {
        match rest.find(['[', ']']) {
            None => {
                pieces.push(Piece::Text(rest.to_owned()));
                rest = "";
            }
            Some(i) if rest.as_bytes()[i] == b']' => return Err(bad("']' without '['".into())),
            Some(i) => {
                if i > 0 {
                    pieces.push(Piece::Text(rest[..i].to_owned()));
                }
                let after = &rest[i + 1..];
                let close = after
                    .find(']')
                    .ok_or_else(|| bad("'[' is never closed".into()))?;
                let list = &after[..close];
                if list.contains('[') {
                    return Err(bad("brackets cannot nest".into()));
                }
                pieces.push(Piece::Numbers(numbers(list).map_err(bad)?));
                rest = &after[close + 1..];
            }
        }
    }
    let total = pieces.iter().try_fold(1u64, |n, p| match p {
        Piece::Numbers(v) => n.checked_mul(v.len() as u64),
        Piece::Text(_) => Some(n),
    });
    match total {
        Some(n) if n <= MAX_EXPANSION => {}
        _ => {
            return Err(bad(format!(
                "expands to more than {MAX_EXPANSION} names; split it"
            )));
        }
    }
    let mut names = vec![String::new()];
    for piece in &pieces {
        names = match piece {
            Piece::Text(t) => names.into_iter().map(|n| n + t).collect(),
            Piece::Numbers(v) => names
                .iter()
                .flat_map(|n| v.iter().map(move |k| format!("{n}{k}")))
                .collect(),
        };
    }
    names
        .iter()
        .map(|n| validate::xname(n).map_err(|e| format!("range {range:?}: {e}")))
        .collect()
}

/// `0-3,7,10-11` → `[0, 1, 2, 3, 7, 10, 11]` (repeats dropped, order kept).
fn numbers(list: &str) -> Result<Vec<u32>, String> {
    let number = |t: &str| {
        let t = t.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{t:?} in [{list}] is not a number"));
        }
        t.parse::<u32>()
            .map_err(|_| format!("{t} in [{list}] is too large"))
    };
    if list.trim().is_empty() {
        return Err("empty []".into());
    }
    let mut out: Vec<u32> = Vec::new();
    for item in list.split(',') {
        let (from, to) = match item.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(item)?;
                (n, n)
            }
        };
        if from > to {
            return Err(format!("{from}-{to} in [{list}] runs backwards"));
        }
        if u64::from(to - from) >= MAX_EXPANSION {
            return Err(format!(
                "{from}-{to} in [{list}] is more than {MAX_EXPANSION} numbers"
            ));
        }
        for n in from..=to {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xnames(s: &str) -> Vec<String> {
        target(s)
            .expect("valid")
            .0
            .into_iter()
            .map(|t| t.to_string())
            .collect()
    }

    #[test]
    fn ranges_expand_leftmost_slowest() {
        assert_eq!(
            xnames("x1000c0s[0-1]b0n[0-1]"),
            [
                "x1000c0s0b0n0",
                "x1000c0s0b0n1",
                "x1000c0s1b0n0",
                "x1000c0s1b0n1"
            ]
        );
        assert_eq!(xnames("x1000c0s[0-3]b0n[0-1]").len(), 8);
        assert_eq!(
            xnames("X[1000,1002]C0S[00-1,4]b0"),
            [
                "x1000c0s0b0",
                "x1000c0s1b0",
                "x1000c0s4b0",
                "x1002c0s0b0",
                "x1002c0s1b0",
                "x1002c0s4b0"
            ]
        );
        assert_eq!(
            xnames("x1000c0s[3,3,1-3]b0"),
            ["x1000c0s3b0", "x1000c0s1b0", "x1000c0s2b0"]
        );
        assert_eq!(xnames("x1000c[5]"), ["x1000c5"]);
    }

    #[test]
    fn bad_ranges_are_named() {
        for (input, says) in [
            ("x1000c0s[0-3b0", "never closed"),
            ("x1000c0s0-3]b0", "without '['"),
            ("x1000c0s[]b0", "empty []"),
            ("x1000c0s[3-1]b0", "runs backwards"),
            ("x1000c0s[a-b]b0", "not a number"),
            ("x1000c0s[1-]b0", "not a number"),
            ("x1000c0s[[1]]b0", "cannot nest"),
            ("x1000c[0-9]", "out of range"),
            ("x1000q[0-1]", "x1000q0"),
            ("x[0-999]c[0-7]s[0-255]b0n[0-1]", "more than 100000"),
            ("x1000c0s[0-99999999999]", "too large"),
        ] {
            let err = target(input).expect_err(input);
            assert!(err.contains(says), "{input}: {err}");
            assert!(
                err.contains(input) || err.contains("x1000q0"),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn groups_and_mistyped_xnames() {
        assert_eq!(
            target("compute"),
            Ok(TargetArg(vec![Target::Group("compute".into())]))
        );
        assert_eq!(
            target("Rack-X1000"),
            Ok(TargetArg(vec![Target::Group("rack-x1000".into())]))
        );
        assert_eq!(
            target("@x1000c0"),
            Ok(TargetArg(vec![Target::Group("x1000c0".into())]))
        );
        assert_eq!(
            target("x1000"),
            Ok(TargetArg(vec![Target::Xname("x1000".into())]))
        );
        let err = target("x1000c0q3").expect_err("mistyped xname");
        assert!(
            err.contains("invalid xname") && err.contains("x1000c0q3"),
            "{err}"
        );
        assert!(
            target("n1")
                .expect_err("xname-shaped")
                .contains("invalid xname")
        );
        let err = target("bad label!").expect_err("neither");
        assert!(
            err.contains("neither an xname") && err.contains('!'),
            "{err}"
        );
        assert!(target("@").is_err());
    }

    #[test]
    fn discovery_takes_no_groups() {
        assert!(xname_or_range("x1000c0s[0-1]b0").is_ok());
        assert!(
            xname_or_range("compute")
                .expect_err("group")
                .contains("invalid xname")
        );
        assert!(
            xname_or_range("@compute")
                .expect_err("group")
                .contains("not groups")
        );
    }

    #[test]
    fn flattening_drops_repeats() {
        let args = ["x1000c0s0b0n[0-1]", "x1000c0s0b0n1", "compute", "@compute"]
            .map(|s| target(s).expect("valid"));
        let all: Vec<String> = flatten(args).iter().map(ToString::to_string).collect();
        assert_eq!(all, ["x1000c0s0b0n0", "x1000c0s0b0n1", "@compute"]);
    }

    #[test]
    fn xname_shapes() {
        assert!(looks_like_xname("x1000c0q3"));
        assert!(looks_like_xname("n1"));
        assert!(!looks_like_xname("compute"));
        assert!(!looks_like_xname("x1000-nodes"));
        assert!(!looks_like_xname(""));
    }
}
