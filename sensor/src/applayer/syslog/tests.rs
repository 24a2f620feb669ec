//! Syslog framing and priorities against hand-made streams.

use super::*;
use crate::applayer::steps::{drive, Step};
use crate::applayer::Registry;
use crate::decode::Addr;
use crate::flow::{Emitted, RecordContext};
use crate::site::Site;
use vagt_schema::ConnId;

fn conn(proto: Proto) -> ConnIdent {
    ConnIdent {
        uid: "C1".into(),
        id: ConnId {
            orig_h: "10.0.0.1".parse().expect("addr"),
            orig_p: 40000,
            resp_h: "10.0.0.2".parse().expect("addr"),
            resp_p: 514,
        },
        proto,
        vlan: 0,
        orig: Addr::default(),
        resp: Addr::default(),
    }
}

fn records(proto: Proto, chunks: &[&[u8]]) -> (Vec<SyslogRecord>, u64) {
    let c = conn(proto);
    let steps = chunks.iter().map(|d| Step {
        ts: 1,
        dir: Dir::ToServer,
        data: d,
    });
    let out = drive(make, &c, &Registry::default(), steps);
    let ctx = RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Site::default(),
        uid_salt: 0,
    };
    let recs = out
        .events
        .iter()
        .filter_map(|e: &Emitted| match e.to_event(&ctx).map(|ev| ev.body) {
            Some(EventBody::Syslog(r)) => Some(r),
            _ => None,
        })
        .collect();
    let weird = out.weird.iter().map(|(_, n)| n).sum();
    (recs, weird)
}

#[test]
fn udp_messages_with_and_without_priority() {
    let (r, _) = records(
        Proto::Udp,
        &[b"<133>Apr  5 robin: Hello\x00", b"no priority"],
    );
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].facility.as_str(), r[0].severity.as_str()),
        ("LOCAL0", "NOTICE")
    );
    assert_eq!(r[0].message, "Apr  5 robin: Hello\\x00");
    assert_eq!(
        (r[1].facility.as_str(), r[1].severity.as_str()),
        ("UNSPECIFIED", "UNSPECIFIED")
    );
    assert_eq!(r[1].message, "no priority");
    let (r, _) = records(Proto::Udp, &[b"<1023>x"]);
    assert_eq!(r[0].facility, "?-127");
}

#[test]
fn tcp_frames_split_anywhere() {
    let first = "<13>Oct 11 failed ";
    let text = format!("{} {first}<14>Oct 11 second\n<0>third\r\n", first.len());
    let stream = text.as_bytes();
    for cut in 0..stream.len() {
        let (r, weird) = records(Proto::Tcp, &[&stream[..cut], &stream[cut..]]);
        assert_eq!(weird, 0, "cut at {cut}");
        let got: Vec<(&str, &str, &str)> = r
            .iter()
            .map(|x| (x.facility.as_str(), x.severity.as_str(), x.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("USER", "NOTICE", "Oct 11 failed "),
                ("USER", "INFO", "Oct 11 second"),
                ("KERN", "EMERG", "third"),
            ],
            "cut at {cut}"
        );
    }
}

#[test]
fn gives_up_on_what_is_not_syslog() {
    let (r, weird) = records(Proto::Tcp, &[b"GET / HTTP/1.1\r\n", b"<13>late\n"]);
    assert!(r.is_empty());
    assert_eq!(weird, 1);
    let (r, weird) = records(Proto::Tcp, &[b"99999999 <13>x"]);
    assert!(r.is_empty());
    assert_eq!(weird, 1);
    let long = vec![b'a'; MAX_FRAME + 10];
    let (r, weird) = records(Proto::Tcp, &[b"<13>", &long]);
    assert!(r.is_empty());
    assert_eq!(weird, 1);
}
