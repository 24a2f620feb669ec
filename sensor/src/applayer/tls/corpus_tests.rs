//! The TLS parsers on the Zeek corpus captures: ssl.log's version, cipher,
//! curve, server_name, next_protocol and resumed as Zeek wrote them, and
//! JA3/JA3S as Wireshark 4.0.17 (`tshark -T fields -e tls.handshake.ja3
//! -e tls.handshake.ja3s`) and JA4/JA4S as the ja4plus 1.4.0 package
//! computes them for the same captures: independent implementations.

use super::client_hello::{parse_client_hello, ClientHello};
use super::fingerprint::{ja3, ja3s, ja4, ja4s, Carrier};
use super::handshake::{ContentType, Event, RecordReader};
use super::names::alert_name;
use super::server_hello::{
    parse_server_hello, parse_server_key_exchange_curve, resumed_by_ticket, ServerHello,
};
use super::testutil::{read_flows, zeek_app, zeek_column};

/// What one TLS connection gives ssl.log.
#[derive(Debug, Default)]
struct Conn {
    client: Option<ClientHello>,
    server: Option<ServerHello>,
    kx_curve: Option<u16>,
    ticket_resumed: bool,
    last_alert: Option<u8>,
}

/// Reads the first TLS connection of a capture: the stream whose records
/// start with a ClientHello, and the reverse stream.
fn first_tls_connection(case: &str) -> Option<(std::path::PathBuf, Conn)> {
    let trace = zeek_app(case)?;
    let flows = read_flows(&trace);
    // STARTTLS and RDP put the TLS part after a plaintext exchange: it
    // begins at the first handshake record header.
    let tls_start = |s: &[u8]| {
        s.windows(6)
            .position(|w| w[0] == 22 && w[1] == 3 && w[2] <= 4 && w[5] == 1)
    };
    let (ckey, cstream) = flows.tcp.iter().find(|(_, s)| tls_start(s).is_some())?;
    let skey = (ckey.2, ckey.3, ckey.0, ckey.1);
    let sstream = flows.tcp.get(&skey).cloned().unwrap_or_default();
    let mut conn = Conn::default();
    let mut kx_seen = false;
    let mut r = RecordReader::default();
    let start = tls_start(cstream)?;
    let _ = r.feed(&cstream[start..], &mut |e| match e {
        Event::Handshake { msg_type: 1, body } if conn.client.is_none() => {
            conn.client = parse_client_hello(body).ok();
        }
        Event::Handshake { msg_type: 16, .. } => kx_seen = true,
        Event::Record {
            content_type: ContentType::ChangeCipherSpec,
            ..
        } => {
            if let Some(ch) = &conn.client {
                conn.ticket_resumed |= resumed_by_ticket(ch, kx_seen);
            }
        }
        Event::Alert { description, .. } => conn.last_alert = Some(description),
        _ => {}
    });
    let mut r = RecordReader::default();
    let sstart = sstream
        .windows(3)
        .position(|w| w[0] == 22 && w[1] == 3 && w[2] <= 4)?;
    let _ = r.feed(&sstream[sstart..], &mut |e| match e {
        Event::Handshake { msg_type: 2, body } if conn.server.is_none() => {
            conn.server = parse_server_hello(body).ok();
        }
        Event::Handshake { msg_type: 12, body } => {
            if let Some(sh) = &conn.server {
                conn.kx_curve = parse_server_key_exchange_curve(body, sh.cipher);
            }
        }
        Event::Alert { description, .. } => conn.last_alert = Some(description),
        _ => {}
    });
    Some((trace, conn))
}

#[test]
fn corpus_ssl_logs() {
    // (case, JA3 and JA3S by Wireshark, "" where it found none; JA4 and
    // JA4S by the ja4plus 1.4.0 Python package's `analyze`).
    let cases = [
        (
            "scripts.base.protocols.ssl.cve-2015-3194",
            "c369db2c355ad05c76f5660af3179b01",
            "f6e234011390444c303f74d09d87322d",
            "t12i910500_383454ac02f4_a1e935682795",
            "t120400_c030_c3ae7f6fe5e6",
        ),
        (
            "scripts.base.protocols.ssl.dhe",
            "de84fb3130387884de22865d3d39d347",
            "baf6ae54beddc6b7cd8b02c8feb62ffe",
            "t12i020300_ea1f27bcdcc2_15cf763851c4",
            "t120300_0088_cef8820c8f19",
        ),
        (
            "scripts.base.protocols.ssl.ecdhe",
            "29d8afc9e0a4d38d138ec2643966815f",
            "a8d2a5625ef8f3aada2fb53dad3f2921",
            "t12i020500_d0ac5cb1209a_a1e935682795",
            "t120300_c014_bec8bdbaef8a",
        ),
        (
            "scripts.base.protocols.ssl.ecdsa",
            "99faefb55d94da8c713fd5c89f8dc5a1",
            "6ce5b396167553eefc3fc5cbc4a16a02",
            "t12i740500_c43983326036_a1e935682795",
            "t120400_c02b_c3ae7f6fe5e6",
        ),
        (
            "scripts.base.protocols.ssl.fragment",
            "799135475da362592a4be9199d258726",
            "9099266b09da09a1d9e1839ae9ad5682",
            "t12d370500_07a749158664_d075105c1994",
            "t120200_c028_344b4dce5a52",
        ),
        (
            "scripts.base.protocols.ssl.ml-dsa-44-cert",
            "fde4273625b2ac63bd01d9c500dac91b",
            "5397c414a9ebeaff1bf18b70ca22eaa0",
            "t12i010000_ba72b8082249_000000000000",
            "t120000_002f_000000000000",
        ),
        (
            "scripts.base.protocols.ssl.tls-1.2",
            "bd9c99b3a0f752c3ab8b052a79e9de3e",
            "c253ec3ad88e42f8da4032682892f9a0",
            "t12i800500_15c493246000_3eafcbe19126",
            "t120100_0004_bc98f8e001b5",
        ),
        (
            "scripts.base.protocols.ssl.tls-1.2-late-protocol-error",
            "bd9c99b3a0f752c3ab8b052a79e9de3e",
            "c253ec3ad88e42f8da4032682892f9a0",
            "t12i800500_15c493246000_3eafcbe19126",
            "t120100_0004_bc98f8e001b5",
        ),
        (
            "scripts.base.protocols.ssl.tls13-version",
            "6cb345f0f89fe97b1dfad775b52d5cf2",
            "eb1d94daa7e0344597e756a1fb6e7054",
            "t00d1616h2_46e7e9700bed_420f9a5d0665",
            "t000200_1301_234ea6891581",
        ),
        (
            "scripts.base.protocols.ssl.tls1_1",
            "5eb6e1fe80f696450a62a48bb3d6a965",
            "b5237e0430ad71aac52aa90b6627cb5f",
            "t11i500400_59a6c70126c8_282f11336259",
            "t110300_c013_c734e0011098",
        ),
        (
            "scripts.base.protocols.ldap.starttls",
            "bbd93e4d01ef0837dc31289c0db204c4",
            "907bf3ecef1c987c889946b737b43de8",
            "t13d291300_723694b0fccc_2cc26d266019",
            "t130200_1302_234ea6891581",
        ),
        (
            "scripts.base.protocols.pop3.starttls",
            "13020a4ccb11b2d3c9c0e6c285c3c415",
            "ee644a8a34c434abca4b737ec1d9efad",
            "t12i800600_15c493246000_4446390ac224",
            "t120300_009f_cef8820c8f19",
        ),
        (
            "scripts.base.protocols.irc.starttls",
            "",
            "",
            "t12i910500_383454ac02f4_a1e935682795",
            "t120300_009d_cef8820c8f19",
        ),
        (
            "scripts.base.protocols.rdp.rdp-to-ssl",
            "",
            "",
            "t10d120400_d94e65cdb899_dedc66686760",
            "t100000_002f_000000000000",
        ),
    ];
    let mut checked = 0;
    for (case, want_ja3, want_ja3s, want_ja4, want_ja4s) in cases {
        let Some((trace, conn)) = first_tls_connection(case) else {
            continue;
        };
        let col = |c: &str| {
            zeek_column(&trace, "ssl.log", c)
                .first()
                .cloned()
                .unwrap_or_default()
        };
        let ch = conn
            .client
            .as_ref()
            .unwrap_or_else(|| panic!("{case}: no ClientHello"));
        let sh = conn
            .server
            .as_ref()
            .unwrap_or_else(|| panic!("{case}: no ServerHello"));
        assert_eq!(sh.version_name(), col("version"), "{case} version");
        assert_eq!(sh.cipher_name(), col("cipher"), "{case} cipher");
        let curve = sh
            .curve_name()
            .or(conn.kx_curve.map(super::names::curve_name))
            .map(|c| c.into_owned())
            .unwrap_or("-".into());
        assert_eq!(curve, col("curve"), "{case} curve");
        assert_eq!(
            ch.server_name().unwrap_or("-"),
            col("server_name"),
            "{case} server_name"
        );
        assert_eq!(
            sh.next_protocol().as_deref().unwrap_or("-"),
            col("next_protocol"),
            "{case} next_protocol"
        );
        let resumed = sh.resumed(ch) || conn.ticket_resumed;
        assert_eq!(
            if resumed { "T" } else { "F" },
            col("resumed"),
            "{case} resumed"
        );
        let alert = conn
            .last_alert
            .map(|a| alert_name(a).into_owned())
            .unwrap_or("-".into());
        assert_eq!(alert, col("last_alert"), "{case} last_alert");
        if !want_ja3.is_empty() {
            assert_eq!(ja3(ch), want_ja3, "{case} ja3");
            assert_eq!(ja3s(sh), want_ja3s, "{case} ja3s");
        }
        assert_eq!(ja4(ch, Carrier::Tcp), want_ja4, "{case} ja4");
        assert_eq!(ja4s(sh, Carrier::Tcp), want_ja4s, "{case} ja4s");
        checked += 1;
    }
    eprintln!("ssl: {checked} captures matched Zeek's ssl.log");
}
