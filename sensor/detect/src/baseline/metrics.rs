//! What one segment did in one interval: the counters, distinct-count
//! sketches for hosts and external peers, and the service mix; and how a
//! connection record's bytes are split over the intervals it spanned.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use vagt_schema::SegmentMetricsRecord;

/// Registers of the distinct-count sketch: 2^9, about 4.6% error.
const HLL_BITS: u32 = 9;
const HLL_REGS: usize = 1 << HLL_BITS;
/// Services kept per interval before the rest are folded into "other".
const MAX_SERVICES: usize = 64;
/// Services written per interval.
const SERVICES_WRITTEN: usize = 10;

/// 2^-r in units of 2^-54, for the ranks a register can hold. A rank
/// above 54 counts as 54 (it comes once in 2^54 hashes), so the sum of
/// 512 registers is exact and fits in 64 bits.
const UNITS: [u64; 64] = {
    let mut t = [0u64; 64];
    let mut r = 0;
    while r < 64 {
        t[r] = 1 << (54 - if r < 54 { r } else { 54 });
        r += 1;
    }
    t
};

/// 2^-r in units of 2^-54; never larger for a larger `r`, whatever a
/// restored state holds, so that a register that grows never takes more
/// from the sum than it gave.
fn units(r: u8) -> u64 {
    UNITS[usize::from(r.min(63))]
}

/// A HyperLogLog sketch of distinct addresses: fixed size however many
/// hosts a scan or flood brings, and two merge into their union.
///
/// The estimate's two inputs, the sum of 2^-r over the registers and the
/// number of empty ones, are kept up to date as registers grow, so that
/// counting does not walk the registers: it did, twice per segment and
/// interval, and that was most of the cost of closing one. Saved as the
/// registers alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<u8>", into = "Vec<u8>")]
pub struct Distinct {
    regs: Vec<u8>,
    /// The sum of 2^-r over `regs`, in units of 2^-54 (`UNITS`).
    units: u64,
    zeros: usize,
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct {
            regs: vec![0; HLL_REGS],
            units: units(0) * HLL_REGS as u64,
            zeros: HLL_REGS,
        }
    }
}

impl From<Vec<u8>> for Distinct {
    /// From a saved state. One of another length than `HLL_REGS` is
    /// refused afterwards (`is_well_formed`); until then its sum must not
    /// overflow.
    fn from(regs: Vec<u8>) -> Distinct {
        Distinct {
            units: regs
                .iter()
                .fold(0u64, |sum, &r| sum.saturating_add(units(r))),
            zeros: regs.iter().filter(|&&r| r == 0).count(),
            regs,
        }
    }
}

impl From<Distinct> for Vec<u8> {
    fn from(d: Distinct) -> Vec<u8> {
        d.regs
    }
}

/// A well-mixed 64-bit hash of an address (splitmix64's finaliser).
pub fn hash_ip(ip: &IpAddr) -> u64 {
    let x = match ip {
        IpAddr::V4(a) => u64::from(u32::from(*a)),
        IpAddr::V6(a) => {
            let v = u128::from(*a);
            (v as u64) ^ ((v >> 64) as u64).rotate_left(17) ^ 0x6a09_e667_f3bc_c909
        }
    };
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Distinct {
    pub fn add(&mut self, ip: &IpAddr) {
        let h = hash_ip(ip);
        let idx = (h >> (64 - HLL_BITS)) as usize;
        let rank = ((h << HLL_BITS) | (1 << (HLL_BITS - 1))).leading_zeros() as u8 + 1;
        if let Some(r) = self.regs.get_mut(idx) {
            if rank > *r {
                self.units -= units(*r) - units(rank);
                self.zeros -= usize::from(*r == 0);
                *r = rank;
            }
        }
    }

    pub fn merge(&mut self, other: &Distinct) {
        if other.zeros == other.regs.len() {
            // Nothing seen there: an interval without traffic.
            return;
        }
        for (a, &b) in self.regs.iter_mut().zip(&other.regs) {
            if b > *a {
                self.units -= units(*a) - units(b);
                self.zeros -= usize::from(*a == 0);
                *a = b;
            }
        }
    }

    pub fn count(&self) -> u64 {
        let m = HLL_REGS as f64;
        let sum = self.units as f64 * f64::from_bits((1023 - 54) << 52);
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let e = alpha * m * m / sum;
        let e = if e <= 2.5 * m && self.zeros > 0 {
            m * (m / self.zeros as f64).ln()
        } else {
            e
        };
        e.round() as u64
    }

    pub fn is_well_formed(&self) -> bool {
        self.regs.len() == HLL_REGS
    }
}

/// The counters of one interval.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Interval {
    pub start: f64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_internal: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    pub conns: u64,
    pub failed: u64,
    pub new_peers: u64,
    pub dns: u64,
    pub nxdomain: u64,
    pub late_bytes: u64,
    pub hosts: Distinct,
    pub peers: Distinct,
    pub services: BTreeMap<String, u64>,
}

/// Which way traffic went, seen from the segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Direction {
    Out,
    In,
    Internal,
}

impl Interval {
    pub fn new(start: f64) -> Interval {
        Interval {
            start,
            ..Interval::default()
        }
    }

    /// Adds a share of a connection's bytes and packets.
    pub fn add_bytes(&mut self, dir: Direction, orig: (u64, u64), resp: (u64, u64)) {
        match dir {
            Direction::Out => {
                self.bytes_out += orig.0;
                self.pkts_out += orig.1;
                self.bytes_in += resp.0;
                self.pkts_in += resp.1;
            }
            Direction::In => {
                self.bytes_in += orig.0;
                self.pkts_in += orig.1;
                self.bytes_out += resp.0;
                self.pkts_out += resp.1;
            }
            Direction::Internal => self.bytes_internal += orig.0 + resp.0,
        }
    }

    pub fn add_service(&mut self, name: &str) {
        if let Some(n) = self.services.get_mut(name) {
            *n += 1;
        } else if self.services.len() < MAX_SERVICES {
            self.services.insert(name.to_string(), 1);
        } else {
            *self.services.entry("other".to_string()).or_insert(0) += 1;
        }
    }

    /// Folds `other` (a later interval of the same hour) into this one.
    pub fn merge(&mut self, other: &Interval) {
        self.bytes_out += other.bytes_out;
        self.bytes_in += other.bytes_in;
        self.bytes_internal += other.bytes_internal;
        self.pkts_out += other.pkts_out;
        self.pkts_in += other.pkts_in;
        self.conns += other.conns;
        self.failed += other.failed;
        self.new_peers += other.new_peers;
        self.dns += other.dns;
        self.nxdomain += other.nxdomain;
        self.late_bytes += other.late_bytes;
        self.hosts.merge(&other.hosts);
        self.peers.merge(&other.peers);
        for (k, v) in &other.services {
            *self.services.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// The values the seasonal model learns, in [`METRICS`] order.
    pub fn values(&self) -> [f64; METRICS.len()] {
        [
            self.bytes_out as f64,
            self.bytes_in as f64,
            self.conns as f64,
            self.failed as f64,
            self.hosts.count() as f64,
            self.peers.count() as f64,
            self.new_peers as f64,
            self.dns as f64,
            self.nxdomain as f64,
        ]
    }

    pub fn record(&self, length: f64) -> SegmentMetricsRecord {
        let mut busiest: Vec<(&String, &u64)> = self.services.iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        SegmentMetricsRecord {
            ts: self.start,
            interval: length,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            bytes_internal: self.bytes_internal,
            pkts_out: self.pkts_out,
            pkts_in: self.pkts_in,
            conns: self.conns,
            failed_conns: self.failed,
            hosts: self.hosts.count(),
            external_peers: self.peers.count(),
            new_external_peers: self.new_peers,
            dns_queries: self.dns,
            dns_nxdomain: self.nxdomain,
            services: busiest
                .into_iter()
                .take(SERVICES_WRITTEN)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            late_bytes: self.late_bytes,
        }
    }
}

/// The metrics a segment's hourly baseline learns.
pub const METRICS: [&str; 9] = [
    "bytes_out",
    "bytes_in",
    "conns",
    "failed_conns",
    "hosts",
    "external_peers",
    "new_external_peers",
    "dns_queries",
    "dns_nxdomain",
];

/// Index of a metric in [`METRICS`].
pub fn metric(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| *m == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_weight_is_two_to_the_minus_rank() {
        for r in 0u8..=64 {
            let bits = f64::from_bits((1023 - u64::from(r)) << 52);
            assert_eq!(bits, 2f64.powi(-i32::from(r)), "rank {r}");
        }
    }

    #[test]
    fn distinct_counts_are_close_and_merge_as_unions() {
        let mut a = Distinct::default();
        let mut b = Distinct::default();
        for i in 0..10_000u32 {
            a.add(&IpAddr::from(i.to_be_bytes()));
            b.add(&IpAddr::from((i + 5_000).to_be_bytes()));
        }
        let ca = a.count() as f64;
        assert!((ca - 10_000.0).abs() < 1_000.0, "{ca}");
        a.merge(&b);
        let u = a.count() as f64;
        assert!((u - 15_000.0).abs() < 1_500.0, "{u}");
        let mut small = Distinct::default();
        for i in 0..20u32 {
            small.add(&IpAddr::from(i.to_be_bytes()));
            small.add(&IpAddr::from(i.to_be_bytes()));
        }
        assert!((small.count() as i64 - 20).abs() <= 1, "{}", small.count());
        // From a handful of addresses to a /8's worth, within three
        // standard errors (512 registers: 4.6%).
        assert_eq!(Distinct::default().count(), 0);
        for n in [1u32, 7, 60, 500, 4_000, 30_000, 250_000] {
            let mut d = Distinct::default();
            (0..n).for_each(|i| d.add(&IpAddr::from((0x0a00_0000 + i).to_be_bytes())));
            let got = d.count() as f64;
            let err = (got - f64::from(n)).abs() / f64::from(n);
            assert!(err <= 3.0 * 0.046, "{n} addresses counted as {got}");
        }
        // A saved sketch comes back with the same estimate, and one of the
        // wrong length is told apart rather than overflowing.
        let mut d = Distinct::default();
        (0..3_000u32).for_each(|i| d.add(&IpAddr::from(i.to_be_bytes())));
        let saved = serde_json::to_string(&d).expect("serialise");
        let back: Distinct = serde_json::from_str(&saved).expect("restore");
        assert_eq!((back.count(), &back), (d.count(), &d));
        let long: Distinct =
            serde_json::from_str(&format!("[{}0]", "0,".repeat(40_000))).expect("restore");
        assert!(!long.is_well_formed());
    }
}
