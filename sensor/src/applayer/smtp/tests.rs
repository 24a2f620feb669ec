//! SMTP sessions through the parser, checked against the rows Zeek writes.

use super::*;
use crate::applayer::Weirds;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, Proto, SmtpRecord};

fn ident() -> ConnIdent {
    let a = crate::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = crate::decode::Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Csmtp".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 40000,
            resp_h: b.to_ip(),
            resp_p: 25,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

fn run(steps: &[(bool, &[u8])]) -> Vec<SmtpRecord> {
    let conn = ident();
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = make(&conn);
    {
        let mut s = Session {
            ts: 0,
            conn: &conn,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        for (orig, d) in steps {
            let dir = if *orig { Dir::ToServer } else { Dir::ToClient };
            p.parse(&mut s, dir, d);
        }
        p.close(&mut s);
    }
    let ctx = RecordContext::default();
    out.iter()
        .filter_map(|e| match e {
            Emitted::Other(o) => match o.to_event(&ctx).body {
                EventBody::Smtp(r) => Some(r),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn one_message_with_headers() {
    let rows = run(&[
        (false, b"220 mx ESMTP\r\n"),
        (true, b"EHLO pc1\r\n"),
        (false, b"250-mx\r\n250 PIPELINING\r\n"),
        (true, b"MAIL FROM:<a@x.org> SIZE=10\r\nRCPT TO:<b@y.org>\r\nDATA\r\n"),
        (false, b"250 ok\r\n250 ok\r\n354 go\r\n"),
        (
            true,
            b"Received: from h (h [192.0.2.7]) by mx\r\nSubject: Hi\r\n there\r\nTo: \"B, C\" <b@y.org>, d@y.org\r\nX-Mailer: M1\r\n\r\nbody\r\n..dot\r\n.\r\n",
        ),
        (false, b"250 queued\r\n"),
        (true, b"QUIT\r\n"),
        (false, b"221 bye\r\n"),
    ]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (r.helo.as_deref(), r.mailfrom.as_deref()),
        (Some("pc1"), Some("a@x.org"))
    );
    assert_eq!(r.rcptto, ["b@y.org"]);
    assert_eq!(r.subject.as_deref(), Some("Hi there"));
    assert_eq!(r.to, ["\"B, C\" <b@y.org>", "d@y.org"]);
    assert_eq!(r.user_agent.as_deref(), Some("M1"));
    assert_eq!(r.last_reply.as_deref(), Some("250 queued"));
    assert_eq!(r.path.len(), 3);
    assert!(!r.tls);
}

#[test]
fn bdat_last_chunk_ends_the_message() {
    let rows = run(&[
        (false, b"220 mx\r\n"),
        (
            true,
            b"EHLO h\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 24 LAST\r\n",
        ),
        (true, b"Subject: Zeek Logo\r\n\r\nx\r\n"),
        (
            false,
            b"250 h\r\n250 ok\r\n250 ok\r\n250 2.0.0 Ok: queued\r\n",
        ),
    ]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].subject.as_deref(), Some("Zeek Logo"));
    assert_eq!(rows[0].last_reply.as_deref(), Some("250 2.0.0 Ok: queued"));
}

#[test]
fn starttls_stops_reading() {
    let rows = run(&[
        (false, b"220 mx\r\n"),
        (true, b"EHLO h\r\n"),
        (false, b"250 h\r\n"),
        (true, b"STARTTLS\r\n"),
        (false, b"220 go ahead\r\n"),
        (true, b"\x16\x03\x01\x00\x05hello"),
    ]);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].tls);
}

#[test]
fn junk_never_panics() {
    let mut seed = 11u64;
    for _ in 0..300 {
        let mut steps = Vec::new();
        for _ in 0..8 {
            let mut b = Vec::new();
            for _ in 0..(seed % 48) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = b"220-354 BDAT 3 LAST\r\nDATA\r\n.\r\nMAIL FROM:<a@b>RCPT TO:";
                b.push(pick[(seed >> 33) as usize % pick.len()]);
            }
            steps.push((seed & 1 == 0, b));
        }
        let borrowed: Vec<(bool, &[u8])> = steps.iter().map(|(o, b)| (*o, b.as_slice())).collect();
        let _ = run(&borrowed);
    }
}
