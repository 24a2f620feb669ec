//! A fast JSON writer for events, byte for byte what `serde_json` writes.
//!
//! A sensor writes one connection record per connection, and on a busy link
//! that is hundreds of thousands a second. Through serde the envelope's
//! flattened fields and the tagged body go through serde's generic map
//! machinery; writing the fields directly takes a fraction of the time. The
//! output is checked against `serde_json::to_vec` (see the tests), so
//! readers never see a difference. Statistics events are rare and go
//! through serde.

use crate::{ConnRecord, Event, EventBody};
use std::net::IpAddr;

impl Event {
    /// Appends the event as one line of JSON (no newline) to `out`; the
    /// same bytes as `serde_json::to_writer(out, self)`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let EventBody::Conn(c) = &self.body else {
            // Serialising into a Vec cannot fail for these types (string
            // keys, no non-string map keys).
            let _ = serde_json::to_writer(&mut *out, self);
            return;
        };
        out.extend_from_slice(b"{\"schema_version\":");
        uint(out, u64::from(self.schema_version));
        key_str(out, b",\"municipality\":", &self.origin.municipality);
        key_str(out, b",\"sensor\":", &self.origin.sensor);
        key_str(out, b",\"segment\":", &self.origin.segment);
        out.extend_from_slice(b",\"event_type\":\"conn\"");
        conn_fields(c, out);
        out.push(b'}');
    }
}

fn conn_fields(c: &ConnRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"ts\":");
    float(out, c.ts);
    key_str(out, b",\"uid\":", &c.uid);
    out.extend_from_slice(b",\"id.orig_h\":");
    ip(out, &c.orig_h);
    out.extend_from_slice(b",\"id.orig_p\":");
    uint(out, u64::from(c.orig_p));
    out.extend_from_slice(b",\"id.resp_h\":");
    ip(out, &c.resp_h);
    out.extend_from_slice(b",\"id.resp_p\":");
    uint(out, u64::from(c.resp_p));
    key_name(out, b",\"proto\":", c.proto.as_str());
    if let Some(s) = &c.service {
        key_str(out, b",\"service\":", s);
    }
    if let Some(d) = c.duration {
        out.extend_from_slice(b",\"duration\":");
        float(out, d);
    }
    key_uint_opt(out, b",\"orig_bytes\":", c.orig_bytes);
    key_uint_opt(out, b",\"resp_bytes\":", c.resp_bytes);
    key_name(out, b",\"conn_state\":", c.conn_state.as_str());
    key_bool_opt(out, b",\"local_orig\":", c.local_orig);
    key_bool_opt(out, b",\"local_resp\":", c.local_resp);
    out.extend_from_slice(b",\"missed_bytes\":");
    uint(out, c.missed_bytes);
    if let Some(h) = &c.history {
        key_str(out, b",\"history\":", h);
    }
    out.extend_from_slice(b",\"orig_pkts\":");
    uint(out, c.orig_pkts);
    out.extend_from_slice(b",\"orig_ip_bytes\":");
    uint(out, c.orig_ip_bytes);
    out.extend_from_slice(b",\"resp_pkts\":");
    uint(out, c.resp_pkts);
    out.extend_from_slice(b",\"resp_ip_bytes\":");
    uint(out, c.resp_ip_bytes);
    if !c.tunnel_parents.is_empty() {
        out.extend_from_slice(b",\"tunnel_parents\":[");
        for (i, p) in c.tunnel_parents.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, p);
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"ip_proto\":");
    uint(out, u64::from(c.ip_proto));
    key_uint_opt(out, b",\"vlan\":", c.vlan.map(u64::from));
    key_uint_opt(out, b",\"inner_vlan\":", c.inner_vlan.map(u64::from));
    key_uint_opt(out, b",\"third_vlan\":", c.third_vlan.map(u64::from));
    if let Some(m) = &c.orig_l2_addr {
        key_str(out, b",\"orig_l2_addr\":", m);
    }
    if let Some(m) = &c.resp_l2_addr {
        key_str(out, b",\"resp_l2_addr\":", m);
    }
    key_str(out, b",\"community_id\":", &c.community_id);
    out.extend_from_slice(b",\"orig_link_bytes\":");
    uint(out, c.orig_link_bytes);
    out.extend_from_slice(b",\"resp_link_bytes\":");
    uint(out, c.resp_link_bytes);
    if c.tunnel_depth != 0 {
        out.extend_from_slice(b",\"tunnel_depth\":");
        uint(out, u64::from(c.tunnel_depth));
    }
    if c.interim {
        out.extend_from_slice(b",\"interim\":true");
    }
    if let Some(r) = c.end_reason {
        key_name(out, b",\"end_reason\":", r.as_str());
    }
}

fn key_str(out: &mut Vec<u8>, key: &[u8], v: &str) {
    out.extend_from_slice(key);
    string(out, v);
}

/// A value of a closed set: a static string of letters, digits and
/// underscores (the values tests hold them to that), so it is copied
/// without the escape scan.
fn key_name(out: &mut Vec<u8>, key: &[u8], name: &'static str) {
    out.extend_from_slice(key);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

fn key_uint_opt(out: &mut Vec<u8>, key: &[u8], v: Option<u64>) {
    if let Some(v) = v {
        out.extend_from_slice(key);
        uint(out, v);
    }
}

fn key_bool_opt(out: &mut Vec<u8>, key: &[u8], v: Option<bool>) {
    if let Some(v) = v {
        out.extend_from_slice(key);
        out.extend_from_slice(if v { b"true" } else { b"false" });
    }
}

fn uint(out: &mut Vec<u8>, v: u64) {
    // Two digits per step (itoa, which serde_json uses too).
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Floats as serde_json writes them (shortest round-trip form; `null` for
/// NaN and infinities).
fn float(out: &mut Vec<u8>, v: f64) {
    let _ = serde_json::to_writer(&mut *out, &v);
}

fn ip(out: &mut Vec<u8>, a: &IpAddr) {
    match a {
        IpAddr::V4(v4) => {
            out.push(b'"');
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                uint(out, u64::from(o));
            }
            out.push(b'"');
        }
        IpAddr::V6(_) => {
            use std::io::Write;
            let _ = write!(out, "\"{a}\"");
        }
    }
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\t`, `\n`,
/// `\f`, `\r`, and `\u00xx` (lowercase) for other control characters.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Nearly every string of a record needs no escape: one pass, then a
    // single copy. A fold without an early exit is what the compiler
    // widens to 16 bytes a step; `any` stops to test each byte.
    let plain = !bytes.iter().fold(false, |seen, &b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnState, EndReason, Origin, Proto, SensorStats};

    /// A small seeded generator, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = self.0;
            (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 7
        }
        fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }
        fn text(&mut self) -> String {
            const PIECES: &[&str] = &[
                "",
                "a",
                "SF",
                "ShADadFf",
                "\"",
                "\\",
                "\n",
                "\t",
                "\r",
                "\u{8}",
                "\u{c}",
                "\u{1}",
                "\u{1f}",
                "\u{7f}",
                "æøå",
                "€",
                "🛡",
                "C9zq",
                "1:LQU9qZlK+B5F3KDm=",
            ];
            (0..self.next() % 5)
                .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
                .collect()
        }
        fn float(&mut self) -> f64 {
            match self.next() % 6 {
                0 => 0.0,
                1 => (self.next() % 2_000_000_000) as f64 + (self.next() % 1_000_000) as f64 / 1e6,
                2 => f64::from_bits(self.next() >> 2),
                3 => 1e-7 * (self.next() % 1000) as f64,
                4 => 1.5e300,
                _ => (self.next() % 100) as f64 / 3.0,
            }
        }
        fn ip(&mut self) -> IpAddr {
            if self.coin() {
                IpAddr::from((self.next() as u32).to_be_bytes())
            } else {
                let mut b = [0u8; 16];
                for x in b.iter_mut() {
                    *x = if self.coin() { 0 } else { self.next() as u8 };
                }
                IpAddr::from(b)
            }
        }
        fn pick<T: Copy>(&mut self, all: &[T]) -> T {
            all[(self.next() % all.len() as u64) as usize]
        }
        fn opt<T>(&mut self, v: T) -> Option<T> {
            self.coin().then_some(v)
        }
    }

    fn record(r: &mut Rng) -> ConnRecord {
        ConnRecord {
            ts: r.float(),
            uid: r.text(),
            orig_h: r.ip(),
            orig_p: r.next() as u16,
            resp_h: r.ip(),
            resp_p: r.next() as u16,
            proto: r.pick(Proto::ALL),
            service: {
                let t = r.text();
                r.opt(t)
            },
            duration: {
                let f = r.float();
                r.opt(f)
            },
            orig_bytes: {
                let v = r.next();
                r.opt(v)
            },
            resp_bytes: {
                let v = r.next() % 1000;
                r.opt(v)
            },
            conn_state: r.pick(ConnState::ALL),
            local_orig: {
                let b = r.coin();
                r.opt(b)
            },
            local_resp: {
                let b = r.coin();
                r.opt(b)
            },
            missed_bytes: r.next() % 7,
            history: {
                let t = r.text();
                r.opt(t)
            },
            orig_pkts: r.next(),
            orig_ip_bytes: r.next() % 100_000,
            resp_pkts: u64::MAX,
            resp_ip_bytes: 0,
            tunnel_parents: (0..r.next() % 3).map(|_| r.text()).collect(),
            ip_proto: r.next() as u8,
            vlan: {
                let v = r.next() as u16;
                r.opt(v)
            },
            inner_vlan: {
                let v = r.next() as u16;
                r.opt(v)
            },
            third_vlan: {
                let v = r.next() as u16;
                r.opt(v)
            },
            orig_l2_addr: {
                let t = r.text();
                r.opt(t)
            },
            resp_l2_addr: {
                let t = r.text();
                r.opt(t)
            },
            community_id: r.text(),
            orig_link_bytes: r.next(),
            resp_link_bytes: r.next() % 10,
            tunnel_depth: (r.next() % 3) as u8,
            interim: r.coin(),
            end_reason: {
                let e = r.pick(EndReason::ALL);
                r.opt(e)
            },
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let mut r = Rng(0x7a67);
        let mut buf = Vec::new();
        for n in 0..20_000 {
            let origin = Origin {
                municipality: r.text(),
                sensor: r.text(),
                segment: r.text(),
            };
            let ev = Event::new(origin, EventBody::Conn(record(&mut r)));
            buf.clear();
            ev.write_json(&mut buf);
            let want = serde_json::to_vec(&ev).expect("serialise");
            assert_eq!(
                String::from_utf8_lossy(&buf),
                String::from_utf8_lossy(&want),
                "record {n}"
            );
        }
    }

    #[test]
    fn statistics_go_through_serde() {
        let ev = Event::new(Origin::default(), EventBody::Stats(SensorStats::default()));
        let mut buf = Vec::new();
        ev.write_json(&mut buf);
        assert_eq!(buf, serde_json::to_vec(&ev).expect("serialise"));
    }
}
