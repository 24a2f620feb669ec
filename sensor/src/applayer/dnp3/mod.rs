//! DNP3 over TCP and UDP, as Zeek's `dnp3.log`: the link and transport
//! layers are undone in `link.rs` (CRCs checked and stripped, fragments
//! reassembled from FIR to FIN); here each application fragment's header
//! is read and requests are paired with responses the way Zeek's script
//! does: a request waits on the connection (a later request replaces it),
//! the next response is written with it, and a request still waiting when
//! the connection ends is written alone. Requests are classed for the
//! OT-write detectors (`codes.rs`).

mod codes;
mod link;

use super::ot_tally::{Key, Tally};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use link::{Link, Unit};
use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;
use vagt_schema::{Dnp3Record, EventBody, OtClass};

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Dnp3 {
        links: Default::default(),
        pending: None,
        dead: false,
        units: Vec::new(),
        tally: Tally::new("dnp3"),
    })
}

/// A request waiting for its response.
struct Pending {
    fc: u8,
    class: OtClass,
    ts: i64,
}

struct Dnp3 {
    links: [Link; 2],
    pending: Option<Pending>,
    /// Zeek stops reading the connection at the first link-layer error.
    dead: bool,
    units: Vec<Unit>,
    /// Polls and their responses counted (`ot_tally`).
    tally: Tally,
}

/// Application control and function code.
fn request_header(i: &[u8]) -> IResult<&[u8], u8> {
    let (i, _control) = byte(i)?;
    let (i, fc) = byte(i)?;
    Ok((i, fc))
}

/// Application control, function code and internal indications.
fn response_header(i: &[u8]) -> IResult<&[u8], (u8, u16)> {
    let (i, _control) = byte(i)?;
    let (i, fc) = byte(i)?;
    let (i, iin) = be_u16(i)?;
    Ok((i, (fc, iin)))
}

impl Dnp3 {
    fn fragment(&mut self, s: &mut Session<'_>, dir: Dir, app: &[u8]) {
        if dir.is_orig() {
            let Ok((objects, fc)) = request_header(app) else {
                s.weird("dnp3_short_application_header");
                return;
            };
            self.pending = Some(Pending {
                fc,
                class: codes::class(fc, objects),
                ts: s.ts,
            });
            return;
        }
        let Ok((_, (fc, iin))) = response_header(app) else {
            s.weird("dnp3_short_application_header");
            return;
        };
        let req = self.pending.take();
        let key = Key {
            is_orig: req.is_some(),
            unit: None,
            code: u64::from(req.as_ref().map_or(0xffff, |r| u16::from(r.fc))) << 8 | u64::from(fc),
            class: req.as_ref().map(|r| r.class),
        };
        // IIN2's low bits are the outstation's errors: function or object
        // unsupported, parameter error, overflow, already executing,
        // configuration corrupt.
        let failed = iin & 0x003f != 0;
        let name = || match &req {
            Some(r) => format!("{}/{}", codes::name(r.fc), codes::name(fc)).into(),
            None => codes::name(fc).into(),
        };
        if !self.tally.write_each(s, key, failed, name) {
            return;
        }
        s.emit(EventBody::Dnp3(Dnp3Record {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            fc_request: req.as_ref().map(|r| codes::name(r.fc)),
            fc_reply: Some(codes::name(fc)),
            iin: Some(iin),
            class: req.map(|r| r.class),
        }));
    }
}

impl Parser for Dnp3 {
    fn depth(&self, _configured: u64) -> u64 {
        super::ot_tally::WHOLE_STREAM
    }

    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.dead {
            return Verdict::Done;
        }
        let mut units = std::mem::take(&mut self.units);
        self.links[dir.index()].push(data, dir.is_orig(), &mut units);
        for u in units.drain(..) {
            match u {
                Unit::Fragment(app) => self.fragment(s, dir, &app),
                Unit::WrongDirection => s.weird("dnp3_unexpected_flow_direction"),
                Unit::Failed(e) => {
                    s.weird(e.reason());
                    self.dead = true;
                }
            }
        }
        self.units = units;
        if self.dead {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn gap(&mut self, _s: &mut Session<'_>, _dir: Dir, _len: u64) -> Verdict {
        // As in Zeek, the link state is kept: bytes after the gap continue
        // the frame, and a frame that no longer adds up fails its checks.
        if self.dead {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.tally.flush(s);
        if let Some(r) = self.pending.take() {
            s.emit(EventBody::Dnp3(Dnp3Record {
                ts: ConnIdent::time(r.ts),
                uid: s.conn.uid.clone(),
                id: s.conn.id,
                fc_request: Some(codes::name(r.fc)),
                fc_reply: None,
                iin: None,
                class: Some(r.class),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::testing::{ident, run};
    use link::tests::frame;
    use vagt_schema::Proto;

    fn records(steps: &[(Dir, &[u8])]) -> (Vec<Dnp3Record>, super::super::Weirds) {
        let conn = ident(Proto::Tcp, 20000);
        let mut p = make(&conn);
        let (out, weird) = run(p.as_mut(), &conn, steps);
        let recs = out
            .into_iter()
            .filter_map(|b| match b {
                EventBody::Dnp3(r) => Some(r),
                _ => None,
            })
            .collect();
        (recs, weird)
    }

    #[test]
    fn pairs_requests_with_responses() {
        // Master (DIR bit set): FIR|FIN transport byte, then a READ of
        // class 0 (group 60 var 1, all objects); outstation: RESPONSE with
        // IIN1 0x90 (restart, need time).
        let read = frame(0xc4, &[0xc0, 0xc1, 0x01, 60, 1, 6]);
        let resp = frame(0x44, &[0xc0, 0xc1, 0x81, 0x90, 0x00]);
        let unsol = frame(0x44, &[0xc1, 0xf2, 0x82, 0x10, 0x00]);
        let restart = frame(0xc4, &[0xc2, 0xc2, 0x0d]);
        let (r, _) = records(&[
            (Dir::ToServer, &read),
            (Dir::ToClient, &resp),
            (Dir::ToClient, &unsol),
            (Dir::ToServer, &restart),
        ]);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fc_request.as_deref(), Some("READ"));
        assert_eq!(r[0].fc_reply.as_deref(), Some("RESPONSE"));
        assert_eq!(r[0].iin, Some(0x9000));
        assert_eq!(r[0].class, Some(OtClass::Read));
        assert_eq!(r[1].fc_request, None);
        assert_eq!(r[1].fc_reply.as_deref(), Some("UNSOLICITED_RESPONSE"));
        assert_eq!(r[1].iin, Some(4096));
        // Unanswered when the connection ends.
        assert_eq!(r[2].fc_request.as_deref(), Some("COLD_RESTART"));
        assert_eq!(r[2].fc_reply, None);
        assert_eq!(r[2].class, Some(OtClass::Control));
    }

    #[test]
    fn fragments_over_several_frames() {
        // 40 bytes of application data: FIR frame, middle frame, FIN frame.
        let app: Vec<u8> = [0xc3, 0x02, 80, 1, 0, 7, 7, 0]
            .into_iter()
            .chain(0..32)
            .collect();
        let mut user1 = vec![0x40];
        user1.extend_from_slice(&app[..20]);
        let mut user2 = vec![0x01];
        user2.extend_from_slice(&app[20..30]);
        let mut user3 = vec![0x82];
        user3.extend_from_slice(&app[30..]);
        let mut bytes = frame(0xc4, &user1);
        bytes.extend(frame(0xc4, &user2));
        bytes.extend(frame(0xc4, &user3));
        let (r, _) = records(&[(Dir::ToServer, &bytes)]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].fc_request.as_deref(), Some("WRITE"));
        assert_eq!(r[0].class, Some(OtClass::Write));
    }

    #[test]
    fn stops_at_a_broken_link_layer() {
        let read = frame(0xc4, &[0xc0, 0xc1, 0x01, 60, 1, 6]);
        let mut bad = read.clone();
        bad[1] = 0x05;
        let (r, weird) = records(&[(Dir::ToServer, &bad), (Dir::ToServer, &read)]);
        assert!(r.is_empty());
        assert_eq!(weird.get("dnp3_header_lacks_magic"), 1);
        let mut bad = read.clone();
        bad[8] ^= 0xff;
        let (_, weird) = records(&[(Dir::ToServer, &bad)]);
        assert_eq!(weird.get("dnp3_corrupt_header_checksum"), 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let conn = ident(Proto::Tcp, 20000);
        let mut seed = 0x2545_f491u32;
        for n in 0..300 {
            let mut p = make(&conn);
            let mut data: Vec<u8> = (0..80)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            if n % 2 == 0 {
                // A valid header so that the body is reached.
                let f = frame(0xc4, &data[..(n % 40) + 1]);
                data.splice(..0, f[..10].iter().copied());
            }
            let _ = run(
                p.as_mut(),
                &conn,
                &[(Dir::ToServer, &data), (Dir::ToClient, &data)],
            );
        }
    }
}
