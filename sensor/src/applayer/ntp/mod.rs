//! NTP (over UDP 123), as Zeek's `ntp.log`: one record per message of modes
//! 1 to 5 (the time-synchronisation messages); control (6) and private
//! (7) messages are read but not logged, as in Zeek.

use super::text::escape;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, NtpRecord};

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
const EPOCH_OFFSET: i64 = 2_208_988_800;
/// The fixed header of modes 1 to 5 (RFC 5905).
const HEADER: usize = 48;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Ntp)
}

/// NTP keeps no state between messages.
struct Ntp;

impl Parser for Ntp {
    fn parse(&mut self, s: &mut Session<'_>, _dir: Dir, data: &[u8]) -> Verdict {
        match read(s.ts, s.conn, data) {
            Ok(Some(rec)) => s.emit(EventBody::Ntp(rec)),
            Ok(None) => {}
            Err(reason) => s.weird(reason),
        }
        Verdict::More
    }

    fn close(&mut self, _s: &mut Session<'_>) {}
}

/// Reads one message: its record when it is one Zeek logs (modes 0 to 5),
/// `None` for modes 6 and 7, or why it could not be read.
pub fn read(ts: i64, conn: &ConnIdent, d: &[u8]) -> Result<Option<NtpRecord>, &'static str> {
    let Some(&first) = d.first() else {
        return Err("ntp_empty_message");
    };
    let version = (first >> 3) & 0x7;
    let mode = first & 0x7;
    if mode > 5 {
        return Ok(None);
    }
    let mut rec = NtpRecord {
        ts: ConnIdent::time(ts),
        uid: conn.uid.clone(),
        id: conn.id,
        version,
        mode,
        stratum: None,
        poll: None,
        precision: None,
        root_delay: None,
        root_disp: None,
        ref_id: None,
        ref_time: None,
        org_time: None,
        rec_time: None,
        xmt_time: None,
        num_exts: 0,
    };
    if mode == 0 {
        // Reserved: Zeek reads no standard header for it.
        return Ok(Some(rec));
    }
    let Some(h) = d.get(..HEADER) else {
        return Err("ntp_truncated_message");
    };
    let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let stratum = h[1];
    rec.stratum = Some(stratum);
    rec.poll = Some(2f64.powi(i32::from(h[2] as i8)));
    rec.precision = Some(2f64.powi(i32::from(h[3] as i8)));
    rec.root_delay = Some(short_time(u32_at(4)));
    rec.root_disp = Some(short_time(u32_at(8)));
    let id = &h[12..16];
    rec.ref_id = Some(match stratum {
        // A kiss code, or the name of a reference clock: text as Zeek's
        // log prints it.
        0 | 1 => escape(id),
        _ => format!("{}.{}.{}.{}", id[0], id[1], id[2], id[3]),
    });
    rec.ref_time = Some(timestamp(u32_at(16), u32_at(20)));
    rec.org_time = Some(timestamp(u32_at(24), u32_at(28)));
    rec.rec_time = Some(timestamp(u32_at(32), u32_at(36)));
    rec.xmt_time = Some(timestamp(u32_at(40), u32_at(44)));
    rec.num_exts = extensions(d.get(HEADER..).unwrap_or_default());
    Ok(Some(rec))
}

/// A 32-bit NTP short time (16.16 fixed point), seconds.
fn short_time(v: u32) -> f64 {
    f64::from(v >> 16) + f64::from(v & 0xffff) / 65_536.0
}

/// A 64-bit NTP timestamp as Unix time; zero stays zero (unset).
fn timestamp(secs: u32, frac: u32) -> f64 {
    if secs == 0 && frac == 0 {
        return 0.0;
    }
    (i64::from(secs) - EPOCH_OFFSET) as f64 + f64::from(frac) / 4_294_967_296.0
}

/// Extension fields after the header (RFC 7822): each a type, a length of
/// at least 16 that is a multiple of 4, and its data; what remains at the
/// end, 20 or 24 bytes, is a message authentication code.
fn extensions(mut rest: &[u8]) -> u32 {
    let mut n = 0;
    while rest.len() > 24 {
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if len < 16 || len % 4 != 0 || len > rest.len() {
            break;
        }
        n += 1;
        rest = &rest[len..];
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Addr;
    use vagt_schema::{ConnId, Proto};

    fn conn() -> ConnIdent {
        ConnIdent {
            uid: "C1".into(),
            id: ConnId {
                orig_h: "10.0.0.1".parse().expect("addr"),
                orig_p: 123,
                resp_h: "10.0.0.2".parse().expect("addr"),
                resp_p: 123,
            },
            proto: Proto::Udp,
            vlan: 0,
            orig: Addr::default(),
            resp: Addr::default(),
        }
    }

    fn server_reply() -> Vec<u8> {
        let mut d = vec![0u8; 48];
        d[0] = 0x24; // version 4, mode 4
        d[1] = 2;
        d[2] = 6; // poll 64 s
        d[3] = 0xe9; // precision 2^-23
        d[4..8].copy_from_slice(&0x0000_0bd9u32.to_be_bytes());
        d[8..12].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        d[12..16].copy_from_slice(&[85, 199, 214, 99]);
        // 2019-05-30 20:02:36 UTC and half a second.
        d[16..20].copy_from_slice(&3_768_235_356u32.to_be_bytes());
        d[20..24].copy_from_slice(&0x8000_0000u32.to_be_bytes());
        d
    }

    #[test]
    fn reads_a_server_reply_as_zeek_logs_it() {
        let rec = read(0, &conn(), &server_reply())
            .expect("read")
            .expect("logged");
        assert_eq!((rec.version, rec.mode, rec.stratum), (4, 4, Some(2)));
        assert_eq!(rec.poll, Some(64.0));
        assert_eq!(rec.precision, Some(2f64.powi(-23)));
        assert!((rec.root_delay.unwrap_or_default() - 0.046280).abs() < 1e-6);
        assert_eq!(rec.root_disp, Some(1.0));
        assert_eq!(rec.ref_id.as_deref(), Some("85.199.214.99"));
        assert_eq!(rec.ref_time, Some(1_559_246_556.5));
        assert_eq!(rec.org_time, Some(0.0));
        assert_eq!(rec.num_exts, 0);
    }

    #[test]
    fn kiss_codes_extensions_and_other_modes() {
        let mut d = server_reply();
        d[1] = 0;
        d[12..16].copy_from_slice(b"RATE");
        d.extend_from_slice(&[0, 1, 0, 16]);
        d.extend_from_slice(&[0; 12]);
        d.extend_from_slice(&[0; 20]); // a MAC
        let rec = read(0, &conn(), &d).expect("read").expect("logged");
        assert_eq!(rec.ref_id.as_deref(), Some("RATE"));
        assert_eq!(rec.num_exts, 1);
        d[0] = 0x26; // mode 6: not logged
        assert_eq!(read(0, &conn(), &d), Ok(None));
        assert_eq!(read(0, &conn(), &[0x23; 10]), Err("ntp_truncated_message"));
        assert_eq!(read(0, &conn(), &[]), Err("ntp_empty_message"));
        d[12..16].copy_from_slice(&[0, 0, 0, 0]);
        d[0] = 0x24;
        let rec = read(0, &conn(), &d).expect("read").expect("logged");
        assert_eq!(rec.ref_id.as_deref(), Some("\\x00\\x00\\x00\\x00"));
    }
}
