use super::*;
use crate::dhcp::testutil::{mac, resolved, tree};

fn any(_: Ipv4Addr) -> bool {
    true
}

fn never(_: MacAddr, _: &Binding) -> bool {
    false
}

fn small_pool() -> AddrRange {
    AddrRange::new([10, 91, 0, 250].into(), [10, 91, 0, 251].into())
}

#[test]
fn records_round_trip_and_corrupt_ones_are_dropped() {
    let b = Binding {
        ip: [10, 0, 0, 9].into(),
        kind: LeaseKind::Range,
        expires_ms: u64::MAX,
        committed: true,
        reported: true,
    };
    assert_eq!(Binding::decode(&b.encode()), Some(b));
    assert_eq!(Binding::decode(&b.encode()[..14]), None);
    let mut bad = b.encode();
    bad[0] = 9;
    assert_eq!(Binding::decode(&bad), None);

    let t = tree();
    t.insert(b"short", &b"junk"[..]).unwrap();
    t.insert(mac(1).octets(), &bad[..]).unwrap();
    // Outside the configured range (10.91.0.1-190) and pool: dropped too.
    t.insert(mac(2).octets(), &b.encode()[..]).unwrap();
    let table = LeaseTable::load(t.clone(), &resolved()).unwrap();
    assert_eq!(table.counts(), (0, 0));
    assert!(t.is_empty());
}

#[test]
fn offers_stay_in_memory_until_committed_and_survive_reload() {
    let cfg = resolved();
    let t = tree();
    let mut table = LeaseTable::load(t.clone(), &cfg).unwrap();
    let ip = table
        .offer(
            mac(1),
            LeaseKind::Range,
            cfg.range,
            None,
            10,
            0,
            &|ip| cfg.assignable(ip),
            &never,
        )
        .unwrap()
        .unwrap();
    assert_eq!(ip, cfg.range.nth(1), ".1 is the server");
    assert!(t.is_empty(), "an offer is not written");
    let b = table.commit(mac(1), u64::MAX).unwrap().unwrap();
    assert!(b.committed && !b.reported);
    table.set_reported(mac(1)).unwrap();
    drop(table);
    let table = LeaseTable::load(t, &cfg).unwrap();
    let b = table.get(mac(1)).unwrap();
    assert_eq!((b.ip, b.kind, b.reported), (ip, LeaseKind::Range, true));
}

#[test]
fn allocation_prefers_the_clients_address_and_skips_vetoed_ones() {
    let cfg = resolved();
    let mut table = LeaseTable::load(tree(), &cfg).unwrap();
    let want: Ipv4Addr = [10, 91, 0, 50].into();
    let got = table
        .offer(
            mac(1),
            LeaseKind::Range,
            cfg.range,
            Some(want),
            10,
            0,
            &any,
            &never,
        )
        .unwrap();
    assert_eq!(got, Some(want));
    // The same address is not free for another MAC; vetoed addresses are skipped.
    let not_first = |ip: Ipv4Addr| ip != cfg.range.first;
    let got = table
        .offer(
            mac(2),
            LeaseKind::Range,
            cfg.range,
            Some(want),
            10,
            0,
            &not_first,
            &never,
        )
        .unwrap();
    assert_eq!(got, Some(cfg.range.nth(1)));
}

#[test]
fn a_full_pool_reuses_only_what_may_be_reclaimed() {
    let cfg = resolved();
    let pool = small_pool();
    let mut table = LeaseTable::load(tree(), &cfg).unwrap();
    for i in 1..=2 {
        table
            .offer(mac(i), LeaseKind::Pool, pool, None, 100, 0, &any, &never)
            .unwrap()
            .unwrap();
    }
    table.commit(mac(1), 50).unwrap();
    let got = table
        .offer(mac(3), LeaseKind::Pool, pool, None, 100, 60, &any, &never)
        .unwrap();
    assert_eq!(got, None, "nothing reclaimable");
    let expired = |_: MacAddr, b: &Binding| b.expires_ms <= 60;
    let got = table
        .offer(mac(3), LeaseKind::Pool, pool, None, 100, 60, &any, &expired)
        .unwrap();
    assert_eq!(got, Some(pool.first), "mac 1's expired lease is reused");
    assert!(table.get(mac(1)).is_none());
    assert_eq!(table.counts(), (0, 2));
}

#[test]
fn declined_addresses_are_skipped_until_the_quarantine_ends() {
    let cfg = resolved();
    let pool = small_pool();
    let mut table = LeaseTable::load(tree(), &cfg).unwrap();
    table.quarantine(pool.first, 1000, 0);
    let got = table
        .offer(
            mac(1),
            LeaseKind::Pool,
            pool,
            Some(pool.first),
            10,
            0,
            &any,
            &never,
        )
        .unwrap();
    assert_eq!(got, Some(pool.last));
    let got = table
        .offer(
            mac(2),
            LeaseKind::Pool,
            pool,
            Some(pool.first),
            10,
            1000,
            &any,
            &never,
        )
        .unwrap();
    assert_eq!(got, Some(pool.first));
}

#[test]
fn release_ends_a_pool_lease_and_remove_forgets_it() {
    let cfg = resolved();
    let pool = small_pool();
    let t = tree();
    let mut table = LeaseTable::load(t.clone(), &cfg).unwrap();
    table
        .offer(mac(1), LeaseKind::Pool, pool, None, 10, 0, &any, &never)
        .unwrap();
    table.commit(mac(1), 5000).unwrap();
    table.expire(mac(1), 100).unwrap();
    assert_eq!(table.get(mac(1)).unwrap().expires_ms, 100);
    table.remove(mac(1)).unwrap();
    assert!(table.get(mac(1)).is_none());
    assert!(t.is_empty());
    assert_eq!(table.counts(), (0, 0));
}
