//! Helpers for the detectors' unit tests: events built in code and a small
//! seeded random number generator, so that every synthetic input is the
//! same on every run.

use serde_json::json;
use std::net::IpAddr;
use vagt_schema::{ConnRecord, Event, EventBody, Origin};

/// SplitMix64: small, seeded, good enough for synthetic traffic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Exponentially distributed with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A TCP connection record; `state` is Zeek's conn_state.
#[allow(clippy::too_many_arguments)]
pub fn conn(
    ts: f64,
    uid: &str,
    orig: &str,
    resp: &str,
    port: u16,
    state: &str,
    orig_bytes: u64,
    local: (Option<bool>, Option<bool>),
) -> ConnRecord {
    let history = match state {
        "SF" if orig_bytes > 0 => "ShADadFf",
        "SF" => "ShAFf",
        "S0" => "S",
        "REJ" => "Sr",
        _ => "ShA",
    };
    let v = json!({
        "ts": ts,
        "uid": uid,
        "id.orig_h": orig,
        "id.orig_p": 49152 + (uid.len() as u16),
        "id.resp_h": resp,
        "id.resp_p": port,
        "proto": "tcp",
        "duration": 0.5,
        "orig_bytes": orig_bytes,
        "resp_bytes": if state == "SF" { 1000 } else { 0 },
        "conn_state": state,
        "local_orig": local.0,
        "local_resp": local.1,
        "missed_bytes": 0,
        "history": history,
        "orig_pkts": 5,
        "orig_ip_bytes": 500,
        "resp_pkts": 5,
        "resp_ip_bytes": 1500,
        "ip_proto": 6,
        "community_id": format!("1:{uid}="),
        "orig_link_bytes": 600,
        "resp_link_bytes": 1600,
    });
    serde_json::from_value(v).expect("test connection record")
}

/// An event of `segment` around `body`.
pub fn event(segment: &str, body: EventBody) -> Event {
    Event::new(
        Origin {
            municipality: "0101".into(),
            sensor: "s1".into(),
            segment: segment.into(),
        },
        body,
    )
}

/// A body read from JSON, for the records with many optional fields.
pub fn body(v: serde_json::Value) -> EventBody {
    serde_json::from_value(v).expect("test event body")
}
