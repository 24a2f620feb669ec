//! Turns a finished [`Conn`] into the wire record: Zeek's conn_state,
//! the uid, the Community ID and the site context.
//!
//! Turning a connection into an event runs in the output stage, off the
//! packet path, so it may format strings and hash freely; `uid_of` is the
//! exception: the tracker calls it for every packet that carries another
//! (a tunnel packet), so it must stay cheap and allocation-free.

use super::conn::{Conn, ConnKind, Snapshot, TcpState};
use super::service;
use crate::site::Site;
use sha1::{Digest, Sha1};
use vagt_schema::{ConnRecord, ConnState, EndReason, Event, EventBody, Origin, Proto};

/// Who the sensor is; stamped on every record.
#[derive(Clone, Debug, Default)]
pub struct RecordContext {
    pub municipality: String,
    pub sensor: String,
    pub site: Site,
    pub uid_salt: u64,
}

/// Zeek's connection state of a finished connection.
pub fn conn_state(c: &Conn) -> ConnState {
    match c.kind {
        ConnKind::Tcp => {
            let os = c.orig().tcp().state;
            let rs = c.resp().tcp().state;
            let o_inactive = matches!(os, TcpState::Inactive | TcpState::Partial);
            let r_inactive = matches!(rs, TcpState::Inactive | TcpState::Partial);
            if rs == TcpState::Reset {
                let (osize, rsize) = c.sizes();
                if matches!(os, TcpState::SynSent | TcpState::SynAckSent)
                    || (os == TcpState::Reset && osize == 0 && rsize == 0)
                {
                    ConnState::Rej
                } else if o_inactive {
                    ConnState::Rstrh
                } else {
                    ConnState::Rstr
                }
            } else if os == TcpState::Reset {
                if r_inactive {
                    if syn_then_reset(c.history.as_str()) {
                        ConnState::Rstos0
                    } else {
                        ConnState::Oth
                    }
                } else {
                    ConnState::Rsto
                }
            } else if rs == TcpState::Closed && os == TcpState::Closed {
                ConnState::Sf
            } else if os == TcpState::Closed {
                if r_inactive {
                    ConnState::Sh
                } else {
                    ConnState::S2
                }
            } else if rs == TcpState::Closed {
                if o_inactive {
                    ConnState::Shr
                } else {
                    ConnState::S3
                }
            } else if os == TcpState::SynSent && rs == TcpState::Inactive {
                ConnState::S0
            } else if os == TcpState::Established && rs == TcpState::Established {
                ConnState::S1
            } else {
                ConnState::Oth
            }
        }
        ConnKind::Udp => match (c.orig().active, c.resp().active) {
            (true, true) => ConnState::Sf,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::Shr,
            (false, false) => ConnState::Oth,
        },
        ConnKind::Icmp | ConnKind::Other => ConnState::Oth,
    }
}

/// Zeek's test for RSTOS0: the history matches `^?S[^HAFGIQ]*R.*`.
fn syn_then_reset(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for ch in rest.chars() {
        match ch {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

/// A stable 64-bit connection id from the key and start time.
pub fn uid_of(salt: u64, key: &super::key::FlowKey, start_ts: i64) -> u64 {
    // The identifying fields as 8-byte words, each folded in with a
    // SplitMix64 step: a byte at a time cost more than the rest of the
    // record's numbers together.
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let words = [
        word(&key.a.0[..8]),
        word(&key.a.0[8..]),
        word(&key.b.0[..8]),
        word(&key.b.0[8..]),
        u64::from(key.a_port)
            | u64::from(key.b_port) << 16
            | u64::from(key.proto) << 32
            | u64::from(key.depth) << 40,
        // A third VLAN id adds to the word only where there is one, so
        // every other connection keeps the uid it had before there was.
        u64::from(key.vlan[0]) | u64::from(key.vlan[1]) << 16 | u64::from(key.vlan[2]) << 32,
        start_ts as u64,
    ];
    words.iter().fold(salt ^ 0xcbf2_9ce4_8422_2325, |h, &w| {
        let mut z = (h ^ w).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// "C" followed by the base62 digits of `id`, like Zeek's uids.
pub fn uid_string(id: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'C'];
    let mut v = id;
    let mut digits = [0u8; 11];
    for d in digits.iter_mut() {
        *d = DIGITS[(v % 62) as usize];
        v /= 62;
    }
    out.extend(digits.iter().rev());
    String::from_utf8(out).unwrap_or_default()
}

/// Community ID v1 with seed 0 (https://github.com/corelight/community-id-spec).
pub fn community_id(c: &Snapshot) -> String {
    let (mut sa, mut sp) = c.orig_addr();
    let (mut da, mut dp) = c.resp_addr();
    let has_ports = matches!(c.key.proto, 1 | 6 | 17 | 58 | 132);
    if !c.one_way() && (da.0, dp) < (sa.0, sp) {
        std::mem::swap(&mut sa, &mut da);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update(0u16.to_be_bytes());
    if sa.is_v4() {
        h.update(sa.v4_octets());
        h.update(da.v4_octets());
    } else {
        h.update(sa.0);
        h.update(da.0);
    }
    h.update([c.key.proto, 0]);
    if has_ports {
        h.update(sp.to_be_bytes());
        h.update(dp.to_be_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(2 + 28);
    out.push_str("1:");
    base64(digest.as_slice(), &mut out);
    out
}

fn base64(data: &[u8], out: &mut String) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
}

/// "aa:bb:cc:dd:ee:ff" (built by hand: `format!` costs more than the
/// rest of a record's strings together).
fn mac_string(m: &[u8; 6]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(17);
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn proto(c: &Conn) -> Proto {
    match c.kind {
        ConnKind::Tcp => Proto::Tcp,
        ConnKind::Udp => Proto::Udp,
        ConnKind::Icmp => Proto::Icmp,
        ConnKind::Other => Proto::UnknownTransport,
    }
}

pub fn seconds(ns: i64) -> f64 {
    ns as f64 / 1e9
}

/// Builds the wire event for a finished (or interim) connection.
pub fn to_event(c: &Snapshot, ctx: &RecordContext) -> Event {
    let (oa, op) = c.orig_addr();
    let (ra, rp) = c.resp_addr();
    let (osize, rsize) = c.sizes();
    let duration = c.last_ts - c.start_ts;
    let (o, r) = (c.orig(), c.resp());
    let local = ctx.site.knows_local();
    let vlan = c.key.vlan;
    let segment = ctx.site.segment_of(vlan[0], &oa, &ra).to_string();
    let record = ConnRecord {
        ts: seconds(c.start_ts),
        uid: uid_string(uid_of(ctx.uid_salt, &c.key, c.start_ts)),
        orig_h: oa.to_ip(),
        orig_p: op,
        resp_h: ra.to_ip(),
        resp_p: rp,
        proto: proto(c),
        service: service::names_on(c.services, c.kind == ConnKind::Tcp),
        duration: (duration > 0).then(|| seconds(duration)),
        orig_bytes: (duration > 0).then_some(osize),
        resp_bytes: (duration > 0).then_some(rsize),
        conn_state: conn_state(c),
        local_orig: local.then(|| ctx.site.is_local(&oa)),
        local_resp: local.then(|| ctx.site.is_local(&ra)),
        missed_bytes: c.missed_bytes.get(),
        history: (!c.history.is_empty()).then(|| c.history.as_str().to_string()),
        orig_pkts: o.pkts.get(),
        orig_ip_bytes: o.ip_bytes.get(),
        resp_pkts: r.pkts.get(),
        resp_ip_bytes: r.ip_bytes.get(),
        tunnel_parents: if c.parent_uid != 0 {
            vec![uid_string(c.parent_uid)]
        } else {
            vec![]
        },
        ip_proto: c.key.proto,
        vlan: (vlan[0] != 0).then_some(vlan[0]),
        inner_vlan: (vlan[1] != 0).then_some(vlan[1]),
        third_vlan: (vlan[2] != 0).then_some(vlan[2]),
        orig_l2_addr: o.has_mac.then(|| mac_string(&o.mac)),
        resp_l2_addr: r.has_mac.then(|| mac_string(&r.mac)),
        community_id: community_id(c),
        orig_link_bytes: o.link_bytes(),
        resp_link_bytes: r.link_bytes(),
        tunnel_depth: c.tunnel_depth,
        interim: c.interim,
        end_reason: Some(if c.interim {
            EndReason::Interim
        } else {
            c.end.wire()
        }),
    };
    Event::new(
        Origin {
            municipality: ctx.municipality.clone(),
            sensor: ctx.sensor.clone(),
            segment,
        },
        EventBody::Conn(record),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Addr;
    use crate::flow::key::{FlowKey, PacketTuple, StoredKey};

    fn tcp_conn(src: &str, sp: u16, dst: &str, dp: u16) -> Snapshot {
        let t = PacketTuple {
            src: Addr::from_ip(src.parse().unwrap()),
            dst: Addr::from_ip(dst.parse().unwrap()),
            src_port: sp,
            dst_port: dp,
            proto: 6,
            one_way: false,
        };
        let (key, sender_a) = FlowKey::new(&t, 0, [0; 3]);
        let mut conn = Conn::new(StoredKey::of(&key, false), ConnKind::Tcp, 0);
        conn.orig_slot = u8::from(!sender_a);
        Snapshot {
            key,
            parent_uid: 0,
            interim: false,
            conn,
        }
    }

    #[test]
    fn mac_addresses_are_lowercase_hex_pairs() {
        assert_eq!(
            mac_string(&[0, 0x1b, 0xff, 0xa0, 0x0a, 0x10]),
            "00:1b:ff:a0:0a:10"
        );
    }

    #[test]
    fn community_id_matches_the_specification_example() {
        // From the Community ID spec's test vectors: TCP 128.232.110.120:34855
        // -> 66.35.250.204:80 hashes to 1:LQU9qZlK+B5F3KDmev6m5PMibrg=.
        let c = tcp_conn("128.232.110.120", 34855, "66.35.250.204", 80);
        assert_eq!(community_id(&c), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        // The same flow seen from the other side hashes the same.
        let r = tcp_conn("66.35.250.204", 80, "128.232.110.120", 34855);
        assert_eq!(community_id(&r), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    }

    #[test]
    fn rstos0_pattern_follows_zeek() {
        assert!(syn_then_reset("SR"));
        assert!(syn_then_reset("^SdR"));
        // Responder letters are lower case and do not stop the match.
        assert!(syn_then_reset("ShR"));
        assert!(!syn_then_reset("SAR"));
        assert!(!syn_then_reset("R"));
    }

    #[test]
    fn uids_are_stable_and_distinct() {
        let c = tcp_conn("10.0.0.1", 1, "10.0.0.2", 2);
        let a = uid_of(7, &c.key, 5);
        assert_eq!(a, uid_of(7, &c.key, 5));
        assert_ne!(a, uid_of(7, &c.key, 6));
        assert_ne!(a, uid_of(8, &c.key, 5));
        assert!(uid_string(a).starts_with('C'));
        assert_eq!(uid_string(a).len(), 12);
    }
}
