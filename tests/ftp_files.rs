//! FTP transfers and their data connections, against Zeek's `ftp.log`
//! and the capture itself: the type of the file a transfer carried
//! (Zeek's `mime_type`) and, with `[app] file_hashes`, its hashes.

mod common;

use common::app_logs::{app_config, cases, records, zeek_text, Record};
use common::*;
use serde_json::Value;
use std::path::PathBuf;

/// The `ftp-ipv4` case (two RETRs of robots.txt, one passive, one
/// active): its folder, its trace, and the sensor's records of it with
/// `file_hashes`.
fn ftp_ipv4(
    file_hashes: Vec<vagt_sensor::applayer::http::hashes::Algorithm>,
) -> (PathBuf, PathBuf, Vec<Record>) {
    let (name, dir) = cases("ftp.log")
        .into_iter()
        .find(|(n, _)| n.ends_with("ftp.ftp-ipv4"))
        .expect("the zeek-app case ftp-ipv4");
    let mut cfg = app_config(&read_zeek_command(&dir.join("zeek-command.txt")), &dir);
    cfg.app.file_hashes = file_hashes;
    let trace = trace_in(&dir).unwrap_or_else(|| panic!("{name}: no trace"));
    let (events, _) = replay(&cfg, std::slice::from_ref(&trace));
    (dir, trace, records(&events, "ftp"))
}

/// The file type of an FTP transfer comes from its data connection: in
/// Zeek's `ftp-ipv4` log both RETRs of robots.txt (one passive, one
/// active) say `text/plain`, and no other row names a type.
#[test]
fn ftp_transfers_carry_the_type_of_the_file_their_data_connection_carried() {
    let (dir, _, ftp) = ftp_ipv4(Vec::new());
    let log = read_zeek_log(&dir.join("ftp.log"));
    let zeek: Vec<(String, String)> = log
        .rows
        .iter()
        .map(|r| {
            let v = |c: &str| log.get(r, c).unwrap_or("-").to_string();
            (v("command"), v("mime_type"))
        })
        .collect();
    let ours: Vec<(String, String)> = ftp
        .iter()
        .map(|r| (zeek_text(r.get("command")), zeek_text(r.get("mime_type"))))
        .collect();
    assert_eq!(
        zeek.iter().filter(|(_, m)| m == "text/plain").count(),
        2,
        "{zeek:?}"
    );
    assert_eq!(ours, zeek);
}

/// The TCP payload bytes sent from port `port` (to it, with `to`), in
/// capture order, read with libpcap and a few lines of header arithmetic
/// (Ethernet, IPv4, TCP): an account of the transfers independent of the
/// sensor's decoder and reassembler, for captures without loss.
fn sent_by_port(trace: &std::path::Path, port: u16, to: bool) -> Vec<u8> {
    let mut cap = pcap::Capture::from_file(trace).expect("open the trace");
    let mut out = Vec::new();
    while let Ok(p) = cap.next_packet() {
        let f = p.data;
        if f.len() < 34 || f[12..14] != [0x08, 0x00] || f[23] != 6 {
            continue;
        }
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let Some(tcp) = ip.get(ihl..total.min(ip.len())) else {
            continue;
        };
        let at = if to { 2 } else { 0 };
        if tcp.len() < 20 || u16::from_be_bytes([tcp[at], tcp[at + 1]]) != port {
            continue;
        }
        let off = usize::from(tcp[12] >> 4) * 4;
        out.extend_from_slice(tcp.get(off..).unwrap_or_default());
    }
    out
}

/// With `[app] file_hashes`, an FTP transfer's record carries the hashes
/// of the file its data connection carried: in `ftp-ipv4` each RETR's
/// SHA-256 is that of the bytes the server sent on the data connection
/// its PASV or PORT set up.
#[test]
fn ftp_transfers_carry_the_hashes_of_their_files() {
    use sha2::Digest;
    let sha256 = vagt_sensor::applayer::http::hashes::Algorithm::Sha256;
    let (_, trace, ftp) = ftp_ipv4(vec![sha256]);
    let mut checked = 0;
    // Each RETR follows the record of the command that set up its data
    // channel: a passive one names the server's port, which sends the
    // file; an active one the client's, to which the server sends it.
    for pair in ftp.windows(2) {
        let (setup, retr) = (&pair[0], &pair[1]);
        if zeek_text(retr.get("command")) != "RETR" {
            continue;
        }
        let port = setup
            .get("data_channel.resp_p")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .expect("the data channel's port");
        let passive = setup.get("data_channel.passive") == Some(&Value::Bool(true));
        let file = sent_by_port(&trace, port, !passive);
        let size = retr.get("file_size").and_then(Value::as_u64);
        assert_eq!(Some(file.len() as u64), size, "{setup:?}");
        let want = sha2::Sha256::digest(&file)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        assert_eq!(zeek_text(retr.get("sha256")), want, "{retr:?}");
        checked += 1;
    }
    assert_eq!(checked, 2, "{ftp:?}");
}
