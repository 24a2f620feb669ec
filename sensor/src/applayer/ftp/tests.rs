//! FTP sessions through the parser, checked against the rows Zeek writes.

use super::*;
use crate::applayer::Weirds;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, FtpRecord, Proto};

fn ident() -> ConnIdent {
    let a = crate::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = crate::decode::Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Cftp".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 40000,
            resp_h: b.to_ip(),
            resp_p: 21,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

fn run(steps: &[(bool, &[u8])], capture: bool) -> Vec<FtpRecord> {
    let conn = ident();
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = if capture {
        make_capturing_passwords(&conn)
    } else {
        make(&conn)
    };
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
                EventBody::Ftp(r) => Some(r),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn anonymous_session_with_pasv_and_retr() {
    let rows = run(
        &[
            (false, b"220-Welcome\r\n220 ready\r\n"),
            (true, b"USER anonymous\r\n"),
            (false, b"331 Guest login ok\r\n"),
            (true, b"PASS me@\r\n"),
            (false, b"230 ok\r\n"),
            (true, b"CWD pub\r\n"),
            (false, b"250 CWD command successful\r\n"),
            (true, b"PASV\r\n"),
            (false, b"227 Entering Passive Mode (10,0,0,2,243,251).\r\n"),
            (true, b"RETR a.gz\r\n"),
            (
                false,
                b"150 Opening BINARY mode data connection for a.gz (39695 bytes)\r\n",
            ),
            (false, b"226 Transfer complete\r\n"),
            (true, b"QUIT\r\n"),
            (false, b"221 Goodbye\r\n"),
        ],
        false,
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let pasv = &rows[0];
    assert_eq!(
        (pasv.command.as_deref(), pasv.reply_code),
        (Some("PASV"), Some(227))
    );
    assert_eq!(pasv.data_channel_resp_p, Some(62459));
    assert_eq!(pasv.password.as_deref(), Some("me@"));
    let retr = &rows[1];
    assert_eq!(retr.arg.as_deref(), Some("ftp://10.0.0.2/./pub/a.gz"));
    assert_eq!((retr.file_size, retr.reply_code), (Some(39695), Some(226)));
    assert_eq!(retr.data_channel_passive, None);
}

#[test]
fn named_user_password_hidden_unless_captured() {
    let steps: &[(bool, &[u8])] = &[
        (false, b"220 x\r\n"),
        (true, b"USER Admin\r\n"),
        (false, b"331 Please, specify the password.\r\n"),
        (true, b"PASS qwerty\r\n"),
        (false, b"530 Login incorrect.\r\n"),
    ];
    // No logged command: one record for the session.
    let rows = run(steps, false);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].user.as_str(), rows[0].password.as_deref()),
        ("Admin", Some("<hidden>"))
    );
    let rows = run(steps, true);
    assert_eq!(rows[0].password.as_deref(), Some("qwerty"));
}

#[test]
fn eprt_and_epsv() {
    let rows = run(
        &[
            (false, b"220 x\r\n"),
            (true, b"EPSV\r\n"),
            (false, b"229 Entering Extended Passive Mode (|||57086|)\r\n"),
            (true, b"EPRT |1|10.0.0.1|49189|\r\n"),
            (false, b"200 EPRT command successful.\r\n"),
        ],
        false,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].data_channel_resp_h,
        Some("10.0.0.2".parse().unwrap())
    );
    assert_eq!(
        (rows[1].data_channel_passive, rows[1].data_channel_resp_p),
        (Some(false), Some(49189))
    );
}

#[test]
fn junk_never_panics() {
    let mut seed = 3u64;
    for _ in 0..300 {
        let mut steps = Vec::new();
        for _ in 0..8 {
            let mut b = Vec::new();
            for _ in 0..(seed % 40) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = b"220-331 PASV(|,1\r\n EPRT 2 CWD ../ PWD \"/";
                b.push(pick[(seed >> 33) as usize % pick.len()]);
            }
            steps.push((seed & 1 == 0, b));
        }
        let borrowed: Vec<(bool, &[u8])> = steps.iter().map(|(o, b)| (*o, b.as_slice())).collect();
        let _ = run(&borrowed, false);
    }
}

/// Each data channel is announced to the worker as Zeek schedules its
/// FTP_DATA analyzer: PASV/EPSV for a connection from the client to the
/// server's port (EPSV's address left out: the server's), PORT/EPRT for
/// one from the server to the client's.
#[test]
fn data_channels_are_announced() {
    use crate::decode::Addr;
    use crate::flow::service::Service;
    let conn = ident();
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = make(&conn);
    let mut s = Session {
        ts: 7,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    for (orig, d) in [
        (false, &b"220 x\r\n"[..]),
        (true, b"EPSV\r\n"),
        (false, b"229 Entering Extended Passive Mode (|||57086|)\r\n"),
        (true, b"EPRT |1|10.0.0.1|49189|\r\n"),
        (false, b"200 EPRT command successful.\r\n"),
        (true, b"PORT 10,0,0,1,1,2\r\n"),
        (true, b"PORT 10,0,0,1,1,999\r\n"),
    ] {
        let dir = if orig { Dir::ToServer } else { Dir::ToClient };
        p.parse(&mut s, dir, d);
    }
    let (client, server) = (Addr::from_v4([10, 0, 0, 1]), Addr::from_v4([10, 0, 0, 2]));
    let t = &mut shared.expected;
    assert_eq!(t.len(), 3, "the malformed PORT announces nothing");
    assert_eq!(t.lookup(&client, &server, 57086, 8), Some(Service::FtpData));
    assert_eq!(t.lookup(&server, &client, 49189, 8), Some(Service::FtpData));
    assert_eq!(t.lookup(&server, &client, 258, 8), Some(Service::FtpData));
    assert_eq!(t.lookup(&client, &server, 49189, 8), None);
}
