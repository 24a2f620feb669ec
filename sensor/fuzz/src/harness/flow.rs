//! The targets that feed connection tracking: whole capture files,
//! packet sequences and TCP scripts, through one worker's `Tracker`, with
//! the books kept on what it writes out.

use super::check_packet;
use vagt_schema::{ConnRecord, EventBody};
use vagt_sensor::capture::pcap_reader::Reader;
use vagt_sensor::capture::MAX_TS_NS;
use vagt_sensor::decode::{
    DecodeCounters, DecodeOptions, DecodedPacket, Decoder, LinkType, LinkWalker,
};
use vagt_sensor::flow::{RecordContext, TableConfig, Tracker};
use vagt_sensor::pipeline::shard::flow_hash;
use vagt_sensor::site::Site;
use vagt_sensor::synth::frames::{self, Host, TcpSpec};

/// `capture_file`: the input is a whole pcap or pcapng file, read in place
/// the way `capture::file::FileSource` reads a mapped file; every packet is
/// decoded with its interface's link type and tracked at its timestamp.
pub fn capture_file(data: &[u8]) {
    let Ok(mut reader) = Reader::open(data) else {
        return;
    };
    let _ = reader.first_link();
    let decoder = Decoder::default();
    let mut counters = DecodeCounters::default();
    let mut walker = LinkWalker::default();
    // Every packet takes at least a 12-byte block (pcapng) or a 16-byte
    // record header (pcap), so more packets than this means the reader
    // went back or stood still.
    let most = data.len() / 12 + 1;
    let mut n = 0usize;
    // The packets also go through a worker's tracker, with the file's own
    // timestamps (a hostile file chooses any time it likes).
    let (mut t, cap) = tracker(6);
    let mut books = Books::new(false);
    let mut last_ts = i64::MIN;
    while let Ok(Some(rec)) = reader.next(data) {
        n += 1;
        assert!(n <= most, "reader yields more packets ({n}) than fit");
        let end = rec.offset.checked_add(rec.caplen as usize);
        let frame = match end {
            Some(end) if end <= data.len() => &data[rec.offset..end],
            _ => panic!(
                "packet at {} with {} bytes lies outside the {}-byte file",
                rec.offset,
                rec.caplen,
                data.len()
            ),
        };
        assert!(rec.wire_len >= rec.caplen, "wire length below captured");
        let mut pkt = DecodedPacket::default();
        let _ = decoder.decode(rec.link, frame, rec.wire_len, &mut pkt, &mut counters);
        check_packet(frame, &pkt);
        let _ = flow_hash(&mut walker, rec.link, frame);
        // ICMP messages cut by the snap length open uncounted connections.
        books.allow_empty |= rec.wire_len > rec.caplen;
        feed(
            &mut t,
            cap,
            &mut books,
            rec.link,
            rec.ts_ns,
            frame,
            rec.wire_len,
        );
        last_ts = rec.ts_ns;
    }
    t.tick(last_ts);
    books.drain(&mut t);
    close(&mut t, &mut books);
}

// ---------------------------------------------------------------------------
// Connection tracking

/// Packet time at the start of every sequence: 2023-11-14.
const T0: i64 = 1_700_000_000_000_000_000;

/// The packet time after `ts`, from a unit code (3 bits) and a count:
/// a step of `n` microseconds, milliseconds, 10 ms, seconds, 10 s or
/// 100 s, or back by `n` milliseconds; unit 7 jumps to the ends of time
/// (odd `n`: `n / 2` seconds before the latest time a source hands out,
/// even `n`: after the earliest; 0: no step), which a hostile pcapng file
/// reaches with its timestamp offset option. Like every source, the result
/// stays within `0..=capture::MAX_TS_NS`.
pub fn advance(ts: i64, unit: u8, n: u16) -> i64 {
    let k = i64::from(n);
    let next = match unit & 7 {
        0 => ts + k * 1_000,
        1 => ts + k * 1_000_000,
        2 => ts + k * 10_000_000,
        3 => ts + k * 1_000_000_000,
        4 => ts + k * 10_000_000_000,
        5 => ts + k * 100_000_000_000,
        6 => ts - k * 1_000_000,
        _ if n == 0 => ts,
        _ if n % 2 == 1 => MAX_TS_NS - (k / 2) * 1_000_000_000,
        _ => (k / 2) * 1_000_000_000,
    };
    next.clamp(0, MAX_TS_NS)
}

/// Connection caps a sequence's config byte chooses from (bits 0..2).
const CAPS: [usize; 8] = [1, 2, 3, 4, 8, 16, 64, 4096];

fn tracker(cfg: u8) -> (Tracker, usize) {
    let cap = CAPS[usize::from(cfg & 7)];
    let decode = DecodeOptions {
        validate_checksums: cfg & 8 != 0,
        ..DecodeOptions::default()
    };
    let table = TableConfig {
        max_connections: cap,
        vlan_in_key: cfg & 0x10 == 0,
        tunnel_depth_in_key: cfg & 0x20 == 0,
        ..TableConfig::default()
    };
    (Tracker::new(decode, table), cap)
}

/// Collects what a tracker writes out and checks each record.
struct Books {
    ctx: RecordContext,
    /// Whether a record may count no packets: Zeek's semantics, followed
    /// by the tracker, open a connection for a packet with a bad checksum
    /// (when checksums are validated) and for an ICMP message cut by the
    /// snap length, without counting that packet.
    allow_empty: bool,
    /// Final (non-interim) records.
    records: u64,
    /// Packets over all final records.
    pkts: u64,
}

impl Books {
    fn new(allow_empty: bool) -> Books {
        Books {
            allow_empty,
            ctx: RecordContext {
                municipality: "0000".into(),
                sensor: "fuzz".into(),
                site: Site::default(),
                uid_salt: 7,
            },
            records: 0,
            pkts: 0,
        }
    }

    fn drain(&mut self, t: &mut Tracker) {
        for e in t.finished().drain(..) {
            let ev = e.to_event(&self.ctx);
            let Some(EventBody::Conn(r)) = ev.as_ref().map(|ev| &ev.body) else {
                // Application records travel beside the connections; a
                // connection must never turn into one.
                assert!(
                    e.conn().is_none(),
                    "a connection became a non-connection event"
                );
                continue;
            };
            check_record(r, self.allow_empty);
            if !r.interim {
                self.records += 1;
                self.pkts += r.orig_pkts + r.resp_pkts;
            }
        }
    }
}

fn check_record(r: &ConnRecord, allow_empty: bool) {
    assert!(
        allow_empty || r.orig_pkts + r.resp_pkts >= 1,
        "record without packets: {r:?}"
    );
    assert!(r.ts.is_finite(), "ts {}", r.ts);
    if let Some(d) = r.duration {
        assert!(d.is_finite() && d > 0.0, "duration {d}");
    }
    // Every packet counted brought at least an IPv4 header.
    assert!(
        r.orig_ip_bytes >= 20 * r.orig_pkts && r.resp_ip_bytes >= 20 * r.resp_pkts,
        "fewer IP bytes than headers: {r:?}"
    );
    assert!(!r.uid.is_empty() && !r.community_id.is_empty());
}

/// Feeds packets to `t`, keeping the books; the checks after each packet
/// are the table's cap.
fn feed(
    t: &mut Tracker,
    cap: usize,
    books: &mut Books,
    link: LinkType,
    ts: i64,
    frame: &[u8],
    wire: u32,
) {
    t.packet(link, ts, frame, wire);
    assert!(
        t.table().len() <= cap,
        "{} connections in a table capped at {cap}",
        t.table().len()
    );
    books.drain(t);
}

/// Ends a sequence: everything still open is written out, the table is
/// empty, and every connection the table made was written exactly once.
fn close(t: &mut Tracker, books: &mut Books) {
    t.flush();
    books.drain(t);
    assert_eq!(t.table().len(), 0, "connections left after a flush");
    let created = t.table().stats.created;
    assert_eq!(
        created, books.records,
        "{created} connections created, {} written",
        books.records
    );
}

/// Link types a sequence packet may use (control bits 4..5).
const SEQ_LINKS: [LinkType; 4] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LINUX_SLL,
    LinkType::ETHERNET,
];

/// Bytes in front of each packet of a sequence.
pub const SEQ_HEADER: usize = 5;

/// A packet sequence: config byte (bits 0..2 the connection cap from
/// [`CAPS`], bit 3 validates checksums, bit 4 leaves VLANs out of the key,
/// bit 5 tunnel depth), then packets, each a control byte, a 16-bit
/// little-endian time step, a 16-bit little-endian length, and that many
/// bytes (fewer at the end of the input). Control bits 0..2 are the step's
/// unit ([`advance`]), bit 3 runs the timer sweep after the packet,
/// bits 4..5 the link type ([`SEQ_LINKS`]; `force_link` overrides it), bit
/// 6 marks the packet as cut by the snap length (64 bytes more on the
/// wire), bit 7 flushes the table after it (as at the end of a capture).
pub fn sequence(data: &[u8], force_link: Option<LinkType>) {
    let Some((&cfg, mut rest)) = data.split_first() else {
        return;
    };
    let (mut t, cap) = tracker(cfg);
    let mut books = Books::new(cfg & 8 != 0);
    let mut ts = T0;
    let mut packets = 0u64;
    while rest.len() >= SEQ_HEADER {
        let ctl = rest[0];
        let step = u16::from_le_bytes([rest[1], rest[2]]);
        let len = usize::from(u16::from_le_bytes([rest[3], rest[4]]));
        rest = &rest[SEQ_HEADER..];
        let len = len.min(rest.len());
        let (frame, tail) = rest.split_at(len);
        rest = tail;
        ts = advance(ts, ctl, step);
        let link = force_link.unwrap_or(SEQ_LINKS[usize::from(ctl >> 4) & 3]);
        let cut = ctl & 0x40 != 0;
        books.allow_empty |= cut;
        let wire = frame.len() as u32 + if cut { 64 } else { 0 };
        feed(&mut t, cap, &mut books, link, ts, frame, wire);
        packets += 1;
        if ctl & 0x08 != 0 {
            t.tick(ts);
            books.drain(&mut t);
        }
        if ctl & 0x80 != 0 {
            t.flush();
            books.drain(&mut t);
        }
    }
    close(&mut t, &mut books);
    // A packet is at most four layers deep, and a reassembled datagram
    // brings at most four more.
    assert!(
        books.pkts <= packets * 8,
        "{} packets counted from {packets} packets",
        books.pkts
    );
}

/// `conn_sequence`: a packet sequence ([`sequence`]) of frames of mixed
/// link types through one worker's tracker.
pub fn conn_sequence(data: &[u8]) {
    sequence(data, None);
}

/// `ip_defrag`: a packet sequence of raw IP packets, mostly fragments,
/// through the tracker's reassembly.
pub fn ip_defrag(data: &[u8]) {
    sequence(data, Some(LinkType::RAW));
}

/// Encodes packets as a sequence input (the seed generator's side of
/// [`sequence`]): `(control, time step, frame)`.
pub fn encode_sequence(cfg: u8, packets: &[(u8, u16, &[u8])]) -> Vec<u8> {
    let mut out = vec![cfg];
    for (ctl, step, frame) in packets {
        let len = frame.len().min(usize::from(u16::MAX));
        out.push(*ctl);
        out.extend_from_slice(&step.to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&frame[..len]);
    }
    out
}

/// Bytes per step of a TCP script.
pub const TCP_STEP: usize = 8;

/// First payload bytes a scripted segment may carry, so that protocol
/// detection runs too.
const PREFIXES: [&[u8]; 4] = [
    b"",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
];

/// `tcp_state`: a TCP script. Config byte as for [`sequence`] (checksums
/// are always valid here); then eight-byte steps, each one TCP segment of
/// one of four connections that share hosts and ports in pairs:
///
/// * byte 0: bits 0..1 the connection, bit 2 the direction (set: server
///   to client), bits 3..5 the time unit, bit 6 runs the timer sweep
///   after the segment, bit 7 starts the payload with a protocol greeting;
/// * byte 1: the TCP flags byte, as is;
/// * bytes 2..3: the time step (little-endian);
/// * bytes 4..5: how far the sequence number is off the next expected
///   one (signed, little-endian);
/// * byte 6: how far the acknowledgment is off (signed);
/// * byte 7: payload length.
///
/// Every segment is a valid frame, so every one must be counted in exactly
/// one final record: the property that per-direction counters add up.
pub fn tcp_state(data: &[u8]) {
    let Some((&cfg, steps)) = data.split_first() else {
        return;
    };
    let (mut t, cap) = tracker(cfg | 8);
    let mut books = Books::new(false);
    let host = |n: u8| Host {
        mac: [2, 0, 0, 0, 0, n],
        ip: std::net::Ipv4Addr::new(10, 0, 0, n),
    };
    // Connections 0 and 1 share their hosts and ports; 2 and 3 their hosts.
    let conns = [
        (host(1), host(2), 40000u16, 80u16),
        (host(1), host(2), 40000, 80),
        (host(3), host(4), 50000, 443),
        (host(3), host(4), 50001, 443),
    ];
    // Next sequence number per connection and direction.
    let mut next = [[1000u32, 500_000u32]; 4];
    let mut ts = T0;
    let mut frame = Vec::with_capacity(400);
    let mut packets = 0u64;
    for step in steps.chunks_exact(TCP_STEP) {
        let c = usize::from(step[0] & 3);
        let back = usize::from((step[0] >> 2) & 1);
        let (cli, srv, cport, sport) = conns[c];
        let (src, dst, sp, dp) = if back == 0 {
            (cli, srv, cport, sport)
        } else {
            (srv, cli, sport, cport)
        };
        let flags = step[1];
        ts = advance(ts, step[0] >> 3, u16::from_le_bytes([step[2], step[3]]));
        let seq_off = i16::from_le_bytes([step[4], step[5]]);
        let seq = next[c][back].wrapping_add_signed(i32::from(seq_off));
        let ack = next[c][1 - back].wrapping_add_signed(i32::from(step[6] as i8));
        let payload_len = usize::from(step[7]);
        let prefix = if step[0] & 0x80 != 0 {
            PREFIXES[c]
        } else {
            PREFIXES[0]
        };
        let spec = TcpSpec {
            sport: sp,
            dport: dp,
            seq,
            ack,
            flags,
            window: 65535,
            payload_len,
            prefix,
        };
        frames::tcp(&mut frame, &src, &dst, None, &spec, packets as u16);
        let syn_fin = u32::from(flags & 0x03 != 0) + u32::from(flags & 0x03 == 0x03);
        next[c][back] = seq.wrapping_add(payload_len as u32).wrapping_add(syn_fin);
        let wire = frame.len() as u32;
        feed(
            &mut t,
            cap,
            &mut books,
            LinkType::ETHERNET,
            ts,
            &frame,
            wire,
        );
        packets += 1;
        if step[0] & 0x40 != 0 {
            t.tick(ts);
            books.drain(&mut t);
        }
    }
    close(&mut t, &mut books);
    assert_eq!(
        books.pkts, packets,
        "{packets} valid TCP segments went in, {} were counted",
        books.pkts
    );
}
