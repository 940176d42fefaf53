//! Option negotiation: blksize (RFC 2348), timeout and tsize (RFC 2349), windowsize (RFC 7440).
//! Unknown options are ignored, as RFC 2347 asks; a known option with a value outside its RFC
//! range is refused with error 8 rather than guessed at.

use std::time::Duration;

/// The block size of plain RFC 1350.
pub const DEFAULT_BLKSIZE: u16 = 512;
/// Largest block that fits an Ethernet frame of MTU 1500 (1500 - IPv4 20 - UDP 8 - TFTP 4).
pub const DEFAULT_MAX_BLKSIZE: u16 = 1468;
/// Largest window granted: enough to fill a LAN pipe, small enough to resend cheaply.
pub const MAX_WINDOW: u16 = 64;

/// What one transfer runs with after negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Payload bytes per DATA block.
    pub blksize: u16,
    /// Blocks sent before waiting for an ACK.
    pub window: u16,
    /// Retransmission timeout.
    pub timeout: Duration,
    /// Options to acknowledge in an OACK (empty: no OACK, start with block 1).
    pub acknowledged: Vec<(&'static str, String)>,
}

/// A refused option: its name and why, for the error-8 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Negotiate the request's options for a file of `size` bytes.
pub fn negotiate(
    options: &[(String, String)],
    size: u64,
    max_blksize: u16,
    default_timeout: Duration,
) -> Result<Negotiated, Refused> {
    let mut negotiated = Negotiated {
        blksize: DEFAULT_BLKSIZE,
        window: 1,
        timeout: default_timeout,
        acknowledged: Vec::new(),
    };
    for (name, value) in options {
        // Only the first occurrence of an option counts.
        let seen = |n: &str| negotiated.acknowledged.iter().any(|(a, _)| *a == n);
        match name.as_str() {
            "blksize" if !seen("blksize") => {
                let requested = number(name, value, 8, 65464)?;
                let blksize = u16::try_from(requested.min(u64::from(max_blksize.max(8))))
                    .unwrap_or(DEFAULT_BLKSIZE);
                negotiated.blksize = blksize;
                negotiated
                    .acknowledged
                    .push(("blksize", blksize.to_string()));
            }
            "timeout" if !seen("timeout") => {
                let secs = number(name, value, 1, 255)?;
                negotiated.timeout = Duration::from_secs(secs);
                negotiated.acknowledged.push(("timeout", secs.to_string()));
            }
            "tsize" if !seen("tsize") => {
                // A read request must send 0; any other number is answered with the truth too.
                number(name, value, 0, u64::MAX)?;
                negotiated.acknowledged.push(("tsize", size.to_string()));
            }
            "windowsize" if !seen("windowsize") => {
                let requested = number(name, value, 1, 65535)?;
                let window = u16::try_from(requested.min(u64::from(MAX_WINDOW))).unwrap_or(1);
                negotiated.window = window;
                negotiated
                    .acknowledged
                    .push(("windowsize", window.to_string()));
            }
            _ => {}
        }
    }
    Ok(negotiated)
}

fn number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, Refused> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Refused(format!(
            "option {name}={value:?} is not a number in {min}..={max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn no_options_means_rfc_1350() {
        let n = negotiate(&[], 10, DEFAULT_MAX_BLKSIZE, T).unwrap();
        assert_eq!((n.blksize, n.window, n.timeout), (512, 1, T));
        assert!(n.acknowledged.is_empty());
    }

    #[test]
    fn blksize_is_clamped_and_tsize_answered() {
        let n = negotiate(
            &opts(&[("blksize", "65464"), ("tsize", "0"), ("multicast", "")]),
            74213,
            DEFAULT_MAX_BLKSIZE,
            T,
        )
        .unwrap();
        assert_eq!(n.blksize, 1468);
        assert_eq!(
            n.acknowledged,
            vec![
                ("blksize", "1468".to_owned()),
                ("tsize", "74213".to_owned())
            ]
        );
        let n = negotiate(&opts(&[("blksize", "1432")]), 1, DEFAULT_MAX_BLKSIZE, T).unwrap();
        assert_eq!(n.blksize, 1432);
    }

    #[test]
    fn timeout_and_window() {
        let n = negotiate(
            &opts(&[("timeout", "3"), ("windowsize", "1000"), ("timeout", "9")]),
            1,
            DEFAULT_MAX_BLKSIZE,
            T,
        )
        .unwrap();
        assert_eq!(n.timeout, Duration::from_secs(3));
        assert_eq!(n.window, MAX_WINDOW);
        assert_eq!(n.acknowledged.len(), 2);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (name, value) in [
            ("blksize", "7"),
            ("blksize", "65465"),
            ("blksize", "x"),
            ("timeout", "0"),
            ("timeout", "256"),
            ("windowsize", "0"),
            ("tsize", "-1"),
        ] {
            let refused =
                negotiate(&opts(&[(name, value)]), 1, DEFAULT_MAX_BLKSIZE, T).unwrap_err();
            assert!(refused.0.contains(name), "{refused:?}");
        }
    }
}
