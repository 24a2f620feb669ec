//! Test helpers for the application-layer parsers: hex, the RFC 9001
//! Appendix A example, and payloads out of the corpus captures, read with
//! the sensor's own capture reader and decoder.

use crate::capture::file::FileSource;
use crate::capture::{Next, Source};
use crate::decode::{DecodeCounters, DecodeOptions, DecodedPacket, Decoder, Transport};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn unhex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// RFC 9001 Appendix A.2: the CRYPTO frame in the client's Initial (the
/// same plaintext in RFC 9369 Appendix A.2 for QUIC version 2).
pub const RFC9001_CLIENT_CRYPTO: &str = concat!(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868",
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578",
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005",
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba",
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400",
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100",
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000",
    "75300901100f088394c8f03e51570806048000ffff"
);

/// The ClientHello body (after the 4-byte handshake header) of RFC 9001
/// Appendix A.2.
pub fn rfc9001_client_hello() -> Vec<u8> {
    unhex(RFC9001_CLIENT_CRYPTO)[8..].to_vec()
}

/// The corpus of Zeek baselines, or `None` (the test is then skipped with
/// a note) where the shared corpus is not beside the checkout.
pub fn zeek_app(case: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bases = [
        std::env::var_os("VAGT_CORPUS").map(PathBuf::from),
        Some(root.join("../../shared/corpus")),
        Some(root.join("../../../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ];
    for base in bases.into_iter().flatten() {
        let dir = base.join("zeek-app").join(case);
        for name in ["trace.pcap", "trace.pcapng"] {
            if dir.join(name).exists() {
                return Some(dir.join(name));
            }
        }
    }
    eprintln!("skipped: corpus case {case} not found");
    None
}

/// The column `col` of every data row of a Zeek log beside the trace.
pub fn zeek_column(trace: &std::path::Path, log: &str, col: &str) -> Vec<String> {
    let text = std::fs::read_to_string(trace.with_file_name(log)).unwrap_or_default();
    let mut idx = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let Some(rest) = line.strip_prefix("#fields\t") {
            idx = rest.split('\t').position(|c| c == col);
        } else if line.starts_with('#') {
            continue;
        } else if idx.is_none() && fields.first() == Some(&"ts") {
            // A log passed through zeek-cut -m: its first line names the
            // columns.
            idx = fields.iter().position(|c| *c == col);
            continue;
        } else if let Some(i) = idx {
            out.push(fields.get(i).map(|s| s.to_string()).unwrap_or_default());
        }
    }
    out
}

/// One direction of a TCP or UDP flow: (src, sport, dst, dport).
pub type FlowKey = (std::net::IpAddr, u16, std::net::IpAddr, u16);

/// Every packet's TCP payload per direction, in sequence order with
/// retransmissions dropped (a small reassembler, enough for clean
/// captures), and UDP payloads per direction in capture order.
#[derive(Default)]
pub struct Flows {
    pub tcp: BTreeMap<FlowKey, Vec<u8>>,
    pub udp: Vec<(FlowKey, Vec<u8>)>,
}

pub fn read_flows(path: &std::path::Path) -> Flows {
    let mut src = FileSource::open(path).expect("trace opens");
    // Zeek ran the corpus with -C (checksums not verified) where captures
    // were taken with checksum offload.
    let dec = Decoder::new(DecodeOptions {
        validate_checksums: false,
        ..DecodeOptions::default()
    });
    let mut counters = DecodeCounters::default();
    let mut segs: BTreeMap<FlowKey, Vec<(u32, Vec<u8>)>> = BTreeMap::new();
    let mut out = Flows::default();
    while let Ok(Next::Packet(pkt)) = src.next() {
        let mut d = DecodedPacket::default();
        if dec
            .decode(pkt.link, pkt.data, pkt.wire_len, &mut d, &mut counters)
            .is_err()
        {
            continue;
        }
        let Some(l) = d.layers().last() else { continue };
        let (s, t) = (l.src.to_ip(), l.dst.to_ip());
        match &l.transport {
            Transport::Tcp(tcp) => {
                let key = (s, tcp.src_port, t, tcp.dst_port);
                let seq = tcp.seq.wrapping_add(u32::from(tcp.flags.syn()));
                segs.entry(key)
                    .or_default()
                    .push((seq, tcp.payload.to_vec()));
            }
            Transport::Udp(u) => {
                out.udp
                    .push(((s, u.src_port, t, u.dst_port), u.payload.to_vec()));
            }
            _ => {}
        }
    }
    for (key, list) in segs {
        let Some(isn) = list.iter().map(|(s, _)| *s).min() else {
            continue;
        };
        let mut parts: Vec<(u32, Vec<u8>)> = list
            .into_iter()
            .map(|(s, p)| (s.wrapping_sub(isn), p))
            .collect();
        parts.sort_by_key(|(s, _)| *s);
        let mut stream = Vec::new();
        for (off, p) in parts {
            let off = off as usize;
            if off + p.len() <= stream.len() {
                continue;
            }
            if off > stream.len() {
                break; // a gap: stop where the stream is known
            }
            stream.extend_from_slice(&p[stream.len() - off..]);
        }
        out.tcp.insert(key, stream);
    }
    out
}
