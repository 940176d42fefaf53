//! The open-files limit. An agent keeps a connection or two open per BMC (thousands per rack)
//! plus its boot clients; processes start with a soft limit of 1,024 descriptors (systemd's
//! default) under a far higher hard limit. As Go's runtime does, the soft limit is raised to the
//! hard one at start, so a big rack is not cut short by a default nobody chose.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit. Returns the soft limit now in force
/// (`None`: unlimited).
pub fn raise_open_files_limit() -> std::io::Result<Option<u64>> {
    let limit = getrlimit(Resource::Nofile);
    match limit.maximum {
        // Linux refuses an unlimited soft limit for files (it is capped by fs.nr_open): keep it.
        None => Ok(limit.current),
        Some(max) if limit.current == Some(max) => Ok(Some(max)),
        Some(max) => {
            setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(max),
                    maximum: Some(max),
                },
            )?;
            Ok(Some(max))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let now = raise_open_files_limit().unwrap();
        let limit = getrlimit(Resource::Nofile);
        assert_eq!(now, limit.current);
        if limit.maximum.is_some() {
            assert_eq!(limit.current, limit.maximum);
        }
    }
}
