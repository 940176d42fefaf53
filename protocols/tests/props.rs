//! Property tests: generated valid xnames and MACs round-trip; arbitrary input never panics.

use cairn_protocols::{MacAddr, Xname};
use proptest::prelude::*;

/// A valid xname drawn from the main hierarchies, written with random case and leading zeros,
/// together with its expected normalized form.
fn xname_strategy() -> impl Strategy<Value = (String, String)> {
    let seg = |letter: char, max: u32| {
        (0..=max, 0usize..3, any::<bool>()).prop_map(move |(n, zeros, upper)| {
            let l = if upper {
                letter.to_ascii_uppercase()
            } else {
                letter
            };
            (
                format!("{l}{}{n}", "0".repeat(zeros)),
                format!("{letter}{n}"),
            )
        })
    };
    let node_child = prop_oneof![
        Just(None),
        seg('p', 255).prop_map(Some),
        seg('d', 255).prop_map(Some),
        seg('a', 255).prop_map(Some),
        seg('h', 255).prop_map(Some),
        seg('i', 255).prop_map(Some),
    ];
    let depth = 0usize..=5;
    (
        seg('x', 999_999),
        seg('c', 7),
        prop_oneof![seg('s', 255), seg('r', 255)],
        seg('b', 255),
        seg('n', 255),
        node_child,
        depth,
    )
        .prop_map(|(x, c, s, b, n, leaf, depth)| {
            // Router modules have BMCs but no nodes, so stop them at the BMC.
            let max_depth = if s.1.starts_with('r') { 3 } else { 5 };
            let mut parts = vec![x, c, s, b, n];
            if let Some(leaf) = leaf {
                parts.push(leaf);
            }
            let keep = (depth + 1).min(if max_depth == 3 { 4 } else { parts.len() });
            parts.truncate(keep);
            let raw: String = parts.iter().map(|p| p.0.as_str()).collect();
            let norm: String = parts.iter().map(|p| p.1.as_str()).collect();
            (raw, norm)
        })
}

/// The reference natural order: (letter, number) pairs compared as a sequence.
fn segments(x: &Xname) -> Vec<(u8, u64)> {
    let s = x.as_str().as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let letter = s[i];
        let digits: String = s[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| char::from(b))
            .collect();
        i += 1 + digits.len();
        out.push((letter, digits.parse().expect("an xname segment number")));
    }
    out
}

proptest! {
    #[test]
    fn xname_round_trips((raw, norm) in xname_strategy()) {
        let parsed = Xname::parse(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.as_str(), norm.as_str());
        let shown = parsed.to_string();
        let again = Xname::parse(&shown).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &parsed);
        prop_assert_eq!(again.hms_type(), parsed.hms_type());
        let json = serde_json::to_string(&parsed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Xname = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, parsed.clone());
        if let Some(parent) = parsed.parent() {
            prop_assert!(parent.contains(&parsed));
        }
    }

    #[test]
    fn xname_parser_never_panics(s in "\\PC{0,40}") {
        let _ = Xname::parse(&s);
    }

    #[test]
    fn xname_parser_never_panics_on_near_misses(s in "[xXcCsSbBnNdDmMpPjJvVqQ0-9é-]{0,30}") {
        if let Ok(x) = Xname::parse(&s) {
            prop_assert_eq!(Xname::parse(x.as_str()).ok(), Some(x.clone()));
            let _ = (x.parent(), x.cabinet());
        }
    }

    #[test]
    fn xname_order_is_natural_segment_order(
        (a, _) in xname_strategy(),
        (b, _) in xname_strategy(),
        near in "[xcsbnd0-9]{1,12}",
    ) {
        let mut names: Vec<Xname> = [a.as_str(), b.as_str(), near.as_str()]
            .iter()
            .filter_map(|s| Xname::parse(s).ok())
            .collect();
        // A name and its own ancestor: the closest call (one is a prefix of the other).
        if let Some(p) = names.first().and_then(Xname::parent) {
            names.push(p);
        }
        for x in &names {
            for y in &names {
                prop_assert_eq!(x.cmp(y), segments(x).cmp(&segments(y)), "{} vs {}", x, y);
                prop_assert_eq!(x.cmp(y) == std::cmp::Ordering::Equal, x == y);
            }
        }
    }

    #[test]
    fn mac_round_trips_in_all_forms(bytes in any::<[u8; 6]>(), upper in any::<bool>()) {
        let mac = MacAddr(bytes);
        let hex = mac.smd_id();
        let forms = [
            mac.to_string(),
            mac.to_string().replace(':', "-"),
            hex.clone(),
            format!("{}.{}.{}", &hex[0..4], &hex[4..8], &hex[8..12]),
        ];
        for form in forms {
            let form = if upper { form.to_uppercase() } else { form };
            prop_assert_eq!(MacAddr::parse(&form), Ok(mac));
        }
        prop_assert_eq!(MacAddr::parse(&mac.bootif()[3..]), Ok(mac));
    }

    #[test]
    fn mac_parser_never_panics(s in "\\PC{0,20}") {
        let _ = MacAddr::parse(&s);
    }

    #[test]
    fn mac_parser_never_panics_on_near_misses(s in "[0-9a-fA-F:.\\-é]{10,18}") {
        if let Ok(m) = MacAddr::parse(&s) {
            prop_assert_eq!(MacAddr::parse(&m.to_string()), Ok(m));
        }
    }
}
