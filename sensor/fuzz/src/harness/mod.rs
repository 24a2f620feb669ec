//! What every fuzz target does with one input.
//!
//! The fuzz targets (`sensor/fuzz/fuzz_targets/`) and the regression test
//! (`tests/fuzz_regressions.rs`, which includes this module by path) call the
//! same functions, so a saved crash input replays through exactly the code
//! that found it. Each function panics only when the sensor breaks one of
//! its own promises: a panic inside the sensor, a slice that points outside
//! the packet, a hash that differs between directions, a table over its cap,
//! a connection counted twice or lost.
//!
//! Inputs that are not raw files or frames share a few small layouts, all
//! documented at the function that reads them:
//!
//! * an *options byte* in front of a frame picks the decoder settings and
//!   how many bytes the snap length cut off ([`decode_options`]);
//! * a *packet sequence* is a config byte, then packets each with a
//!   five-byte header ([`sequence`]);
//! * a *TCP script* is a config byte, then eight-byte steps from which
//!   valid TCP frames are built ([`tcp_state`]).
//!
//! `packets` holds the targets that decode one frame or packet, `flow` the
//! ones that feed connection tracking (capture files, packet sequences, TCP
//! scripts), `applayer` the TLS and QUIC parsers; the checks shared by the
//! decoding targets are here.

mod app;
mod flow;
mod ot;
mod packets;
mod rules;
mod smb;
mod text;
mod udp_apps;

pub use app::{app_krb, app_ldap, app_rdp, app_ssh};
pub use app::{dns, reassembly, STREAM_STEP};
mod applayer;

pub use applayer::{quic_datagrams, tls_stream};
pub use applayer::{quic_frames, quic_initial, tls_hello, tls_records, x509};

pub use flow::{
    advance, capture_file, conn_sequence, encode_sequence, ip_defrag, sequence, tcp_state,
    SEQ_HEADER, TCP_STEP,
};
pub use ot::{app_bacnet, app_dnp3, app_enip, app_modbus, app_s7comm};
pub use packets::{
    decode_options, erspan, ethernet, geneve, gre, ip, link_types, transport, vxlan, LINK_TYPES,
};
pub use rules::rules;
pub use smb::{dce_rpc, ntlm, smb};
pub use text::{app_ftp, app_ftp_data, app_http, app_smtp};
pub use udp_apps::{app_dhcp, app_dtls, app_ntp, app_snmp, app_syslog};

use vagt_sensor::decode::{
    DecodeCounters, DecodedPacket, Decoder, IpLayer, LinkType, LinkWalker, Transport,
};
use vagt_sensor::pipeline::shard::flow_hash;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name, as used for corpus and regression folders.
pub const TARGETS: &[(&str, Target)] = &[
    ("capture_file", capture_file),
    ("ethernet", ethernet),
    ("link_types", link_types),
    ("gre", gre),
    ("erspan", erspan),
    ("vxlan", vxlan),
    ("geneve", geneve),
    ("ip", ip),
    ("transport", transport),
    ("ip_defrag", ip_defrag),
    ("conn_sequence", conn_sequence),
    ("tcp_state", tcp_state),
    ("reassembly", reassembly),
    ("dns", dns),
    ("app_modbus", app_modbus),
    ("app_dnp3", app_dnp3),
    ("app_bacnet", app_bacnet),
    ("app_s7comm", app_s7comm),
    ("app_enip", app_enip),
    ("app_ssh", app_ssh),
    ("app_krb", app_krb),
    ("app_ldap", app_ldap),
    ("app_rdp", app_rdp),
    ("app_http", app_http),
    ("app_ftp", app_ftp),
    ("app_ftp_data", app_ftp_data),
    ("app_smtp", app_smtp),
    ("smb", smb),
    ("dce_rpc", dce_rpc),
    ("ntlm", ntlm),
    ("app_dhcp", app_dhcp),
    ("app_ntp", app_ntp),
    ("app_snmp", app_snmp),
    ("app_syslog", app_syslog),
    ("app_dtls", app_dtls),
    ("tls_records", tls_records),
    ("tls_hello", tls_hello),
    ("x509", x509),
    ("quic_initial", quic_initial),
    ("quic_frames", quic_frames),
    ("tls_stream", tls_stream),
    ("quic_datagrams", quic_datagrams),
    ("rules", rules),
];

/// Runs the target called `name` on `data`; false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, f)) => {
            f(data);
            true
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------
// Checks shared by the decoding targets

/// Decodes `frame` with the settings of options byte `o`, checks the
/// result, and checks that the worker hash is symmetric for it.
fn decode_frame(o: u8, link: LinkType, frame: &[u8]) {
    let (opts, missing) = decode_options(o);
    let decoder = Decoder::new(opts);
    let mut counters = DecodeCounters::default();
    let mut pkt = DecodedPacket::default();
    let wire_len = (frame.len() as u32).saturating_add(missing);
    let _ = decoder.decode(link, frame, wire_len, &mut pkt, &mut counters);
    check_packet(frame, &pkt);
    check_hash_symmetry(link, frame);
}

/// True when `inner` lies within `outer` (an empty slice anywhere counts).
pub fn within(outer: &[u8], inner: &[u8]) -> bool {
    if inner.is_empty() {
        return true;
    }
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

/// What the decoder says about a packet must agree with the packet.
fn check_packet(buf: &[u8], pkt: &DecodedPacket<'_>) {
    assert!(pkt.layer_count() <= vagt_sensor::decode::MAX_IP_LAYERS);
    for (i, l) in pkt.layers().iter().enumerate() {
        check_layer(buf, i, l);
    }
}

fn check_layer(buf: &[u8], i: usize, l: &IpLayer<'_>) {
    assert!(
        l.version == 4 || l.version == 6,
        "layer {i}: version {}",
        l.version
    );
    assert!(
        l.header_len <= l.total_len,
        "layer {i}: header {} longer than packet {}",
        l.header_len,
        l.total_len
    );
    assert!(
        within(buf, l.header),
        "layer {i}: header outside the packet"
    );
    assert!(
        within(buf, l.payload),
        "layer {i}: payload outside the packet"
    );
    let room = l.total_len - l.header_len;
    assert!(
        l.payload.len() as u64 <= u64::from(room),
        "layer {i}: payload of {} bytes where the header allows {room}",
        l.payload.len()
    );
    match l.transport {
        Transport::Tcp(t) => {
            assert!(within(l.payload, t.payload), "layer {i}: TCP payload");
            assert!(t.payload.len() as u64 <= u64::from(t.payload_len));
            assert!(t.payload_len <= room);
        }
        Transport::Udp(u) => {
            assert!(within(l.payload, u.payload), "layer {i}: UDP payload");
            assert!(u.payload.len() as u64 <= u64::from(u.payload_len));
            assert!(u.payload_len <= room);
        }
        Transport::Icmp(m) => {
            assert!(within(l.payload, m.payload), "layer {i}: ICMP payload");
            assert!(m.payload.len() as u64 <= u64::from(m.payload_len));
            assert!(m.payload_len <= room);
        }
        Transport::None | Transport::Other | Transport::Tunnel | Transport::LaterFragment => {}
    }
}

/// The outermost IP header the pipeline shards by lies in the frame, and
/// swapping its source and destination addresses does not move the frame
/// to another worker.
fn check_hash_symmetry(link: LinkType, frame: &[u8]) {
    let mut walker = LinkWalker::default();
    let hash = flow_hash(&mut walker, link, frame);
    let Some(ip) = walker.outer_ip(link, frame) else {
        return;
    };
    assert!(within(frame, ip), "outer IP header outside the frame");
    if ip.is_empty() {
        return;
    }
    let at = ip.as_ptr() as usize - frame.as_ptr() as usize;
    let (a, b, n) = match ip[0] >> 4 {
        4 if ip.len() >= 20 => (12, 16, 4),
        6 if ip.len() >= 40 => (8, 24, 16),
        _ => return,
    };
    let mut swapped = frame.to_vec();
    for k in 0..n {
        swapped.swap(at + a + k, at + b + k);
    }
    let again = walker.outer_ip(link, &swapped);
    let again_at = again.map(|s| s.as_ptr() as usize - swapped.as_ptr() as usize);
    assert_eq!(
        again_at,
        Some(at),
        "swapping the addresses moved the outer IP header"
    );
    assert_eq!(
        hash,
        flow_hash(&mut walker, link, &swapped),
        "the two directions hash to different workers"
    );
}
