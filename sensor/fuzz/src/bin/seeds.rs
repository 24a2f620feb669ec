//! Writes seed corpora for every fuzz target from real captures.
//!
//! ```sh
//! seeds ../shared/corpus sensor/fuzz/corpus
//! ```
//!
//! Every pcap and pcapng file under the first folder is read with the
//! sensor's own reader and decoder, and the parts each target wants are cut
//! out: whole (small or shortened) files for `capture_file`, frames per
//! link type, GRE, ERSPAN, VXLAN and Geneve payloads, IP packets, transport
//! segments, runs of fragments, packet sequences and TCP scripts (the
//! layouts are in `harness`). Packets are grouped by what the decoder saw
//! in them (layers, protocols, error), and only a few of each kind are
//! kept, so the corpora stay small and varied. The output is
//! `OUT/<target>/<hash>`; nothing of it is committed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use vagt_sensor::capture::pcap_reader::Reader;
use vagt_sensor::decode::{
    DecodeCounters, DecodeOptions, DecodedPacket, Decoder, IpLayer, LinkType, LinkWalker, Transport,
};
use vagt_sensor_fuzz::harness::{self, encode_sequence, LINK_TYPES, TARGETS};

/// Longest `capture_file` seed; longer files are cut (their last packet
/// then is a truncated one, which is worth fuzzing too).
const FILE_SEED_MAX: usize = 16 * 1024;
/// Seeds kept per kind of packet and target.
const PER_KIND: usize = 2;
/// Packets per sequence seed, and bytes.
const SEQ_PACKETS: usize = 48;
const SEQ_BYTES: usize = 12 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: seeds CORPUS_DIR OUT_DIR\n(writes OUT_DIR/<target>/<hash> for every fuzz target)");
        std::process::exit(2);
    }
    let (corpus, out) = (Path::new(&args[1]), Path::new(&args[2]));
    let mut files = Vec::new();
    collect(corpus, &mut files);
    files.sort();
    if files.is_empty() {
        eprintln!("seeds: no pcap or pcapng files under {}", corpus.display());
        std::process::exit(1);
    }
    let mut seeds = Seeds::default();
    for f in &files {
        match std::fs::read(f) {
            Ok(data) => seeds.capture(&data),
            Err(e) => eprintln!("seeds: skipping {}: {e}", f.display()),
        }
    }
    seeds.hand_made();
    let mut total = 0;
    for (target, _) in TARGETS {
        let dir = out.join(target);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("seeds: cannot create {}: {e}", dir.display());
            std::process::exit(1);
        }
        let list = seeds
            .by_target
            .get(target)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for s in list {
            // A seed that already fails is a finding: say so (the fuzzer
            // will stop on it at once).
            if std::panic::catch_unwind(|| harness::run(target, s)).is_err() {
                eprintln!("seeds: a {target} seed fails: {:016x}", fnv(s));
            }
            let path = dir.join(format!("{:016x}", fnv(s)));
            if let Err(e) = std::fs::write(&path, s) {
                eprintln!("seeds: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
        println!("{target:>14}: {} seeds", list.len());
        total += list.len();
    }
    println!(
        "{total} seeds from {} captures in {}",
        files.len(),
        out.display()
    );
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
        {
            out.push(p);
        }
    }
}

fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[derive(Default)]
struct Seeds {
    by_target: BTreeMap<&'static str, Vec<Vec<u8>>>,
    seen: HashSet<u64>,
    kinds: HashMap<(&'static str, u64), usize>,
}

/// Offset of `inner` in `outer`; `inner` must lie within it.
fn offset(outer: &[u8], inner: &[u8]) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// The bytes of an IP layer (header to end of captured payload).
fn layer_bytes<'a>(frame: &'a [u8], l: &IpLayer<'_>) -> Option<&'a [u8]> {
    if !harness::within(frame, l.header) || !harness::within(frame, l.payload) {
        return None;
    }
    let start = offset(frame, l.header);
    let end = offset(frame, l.payload) + l.payload.len();
    frame.get(start..end)
}

/// What kind of packet this is, for keeping only a few of each kind.
fn kind(link: LinkType, pkt: &DecodedPacket<'_>, err: Option<String>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    link.0.hash(&mut h);
    err.hash(&mut h);
    pkt.arp.hash(&mut h);
    pkt.other_ethertype.hash(&mut h);
    (pkt.vlan[0] != 0, pkt.vlan[1] != 0).hash(&mut h);
    for l in pkt.layers() {
        (l.version, l.proto, format!("{:?}", l.encap)).hash(&mut h);
        (
            l.frag.is_fragment(),
            l.frag.offset == 0,
            l.header_len > 20 && l.version == 4,
        )
            .hash(&mut h);
        let (tag, port) = match l.transport {
            Transport::None => (0, 0),
            Transport::Tcp(t) => (
                1,
                u32::from(t.src_port.min(t.dst_port).min(1024)) + u32::from(t.flags.0) * 2048,
            ),
            Transport::Udp(u) => (2, u32::from(u.src_port.min(u.dst_port).min(1024))),
            Transport::Icmp(m) => (3, u32::from(m.icmp_type)),
            Transport::Other => (4, 0),
            Transport::Tunnel => (5, 0),
            Transport::LaterFragment => (6, 0),
        };
        (tag, port).hash(&mut h);
    }
    h.finish()
}

impl Seeds {
    fn add(&mut self, target: &'static str, kind: Option<u64>, seed: Vec<u8>) {
        if let Some(k) = kind {
            let n = self.kinds.entry((target, k)).or_insert(0);
            if *n >= PER_KIND {
                return;
            }
            *n += 1;
        }
        let mut key = fnv(&seed);
        key ^= fnv(target.as_bytes()).rotate_left(17);
        if self.seen.insert(key) {
            self.by_target.entry(target).or_default().push(seed);
        }
    }

    fn capture(&mut self, data: &[u8]) {
        self.add(
            "capture_file",
            None,
            data[..data.len().min(FILE_SEED_MAX)].to_vec(),
        );
        let Ok(mut reader) = Reader::open(data) else {
            return;
        };
        let decoder = Decoder::new(DecodeOptions {
            validate_checksums: false,
            ..DecodeOptions::default()
        });
        let mut counters = DecodeCounters::default();
        let mut walker = LinkWalker::default();
        let mut packets: Vec<(i64, LinkType, &[u8])> = Vec::new();
        while let Ok(Some(rec)) = reader.next(data) {
            let Some(frame) = data.get(rec.offset..rec.offset + rec.caplen as usize) else {
                break;
            };
            packets.push((rec.ts_ns, rec.link, frame));
        }
        let mut fragments: Vec<(i64, &[u8])> = Vec::new();
        for &(ts, link, frame) in &packets {
            let mut pkt = DecodedPacket::default();
            let err = decoder
                .decode(link, frame, frame.len() as u32, &mut pkt, &mut counters)
                .err()
                .map(|e| e.name().to_string());
            let k = kind(link, &pkt, err);
            if link == LinkType::ETHERNET {
                self.add("ethernet", Some(k), [&[0u8][..], frame].concat());
            } else if let Some(i) = LINK_TYPES.iter().position(|l| *l == link) {
                self.add("link_types", Some(k), [&[0u8, i as u8][..], frame].concat());
            }
            if let Some(ip) = walker.outer_ip(link, frame) {
                self.add("ip", Some(k), [&[0u8][..], ip].concat());
            }
            for l in pkt.layers() {
                if l.frag.is_fragment() {
                    if let Some(b) = layer_bytes(frame, l) {
                        fragments.push((ts, b));
                    }
                    continue;
                }
                self.layer(k, l);
            }
        }
        self.sequences(&packets);
        self.fragments(&fragments);
        self.tcp_scripts(&packets, &decoder);
    }

    /// Tunnel and transport seeds from one decoded layer.
    fn layer(&mut self, k: u64, l: &IpLayer<'_>) {
        let v6 = u8::from(l.version == 6) << 3;
        match l.transport {
            Transport::Tcp(_) => self.add(
                "transport",
                Some(k),
                [&[0u8, 0x10 | v6][..], l.payload].concat(),
            ),
            Transport::Udp(u) => {
                self.add(
                    "transport",
                    Some(k),
                    [&[0u8, 0x11 | v6][..], l.payload].concat(),
                );
                if u.dst_port == 4789 {
                    self.add("vxlan", Some(k), [&[0u8][..], u.payload].concat());
                }
                if u.dst_port == 6081 || u.src_port == 6081 {
                    self.add("geneve", Some(k), [&[0u8][..], u.payload].concat());
                }
                // A DTLS datagram as one step of `app_dtls` (cut to the
                // step's 255 bytes).
                if u.payload.len() >= 13 && u.payload[0] == 22 && u.payload[1] == 0xfe {
                    let n = u.payload.len().min(255);
                    self.add(
                        "app_dtls",
                        Some(k),
                        [&[0u8, 0, n as u8][..], &u.payload[..n]].concat(),
                    );
                }
            }
            Transport::Icmp(m) => {
                let sel = if m.v6 { 0x13 } else { 0x12 | v6 };
                self.add("transport", Some(k), [&[0u8, sel][..], l.payload].concat());
            }
            Transport::Tunnel if l.proto == 47 => {
                self.add("gre", Some(k), [&[0u8][..], l.payload].concat());
                self.erspan(k, l.payload);
            }
            _ => {}
        }
    }

    /// An ERSPAN seed from a GRE payload, when it is one.
    fn erspan(&mut self, k: u64, gre: &[u8]) {
        if gre.len() < 4 {
            return;
        }
        let flags = gre[0];
        let len = 4 + 4 * [0x80u8, 0x20, 0x10]
            .iter()
            .filter(|b| flags & **b != 0)
            .count();
        let proto = u16::from_be_bytes([gre[2], gre[3]]);
        let t = match proto {
            0x88be if flags & 0x10 == 0 => 0u8,
            0x88be => 1,
            0x22eb => 2,
            _ => return,
        };
        if let Some(body) = gre.get(len..) {
            self.add("erspan", Some(k), [&[0u8, t][..], body].concat());
        }
    }

    /// Packet sequences: windows of consecutive packets of one capture.
    fn sequences(&mut self, packets: &[(i64, LinkType, &[u8])]) {
        let starts = [0, packets.len() / 2];
        for (w, &start) in starts.iter().enumerate() {
            if w > 0 && packets.len() <= SEQ_PACKETS {
                break;
            }
            let mut seq = Vec::new();
            let mut bytes = 0;
            let mut last = None;
            for &(ts, link, frame) in packets.iter().skip(start) {
                let link_bits = match link {
                    LinkType::ETHERNET => 0x00,
                    LinkType::RAW => 0x10,
                    LinkType::LINUX_SLL => 0x20,
                    _ => continue,
                };
                if seq.len() == SEQ_PACKETS || bytes + frame.len() > SEQ_BYTES {
                    break;
                }
                let (unit, step) = time_code(last.map_or(0, |l| ts - l));
                last = Some(ts);
                bytes += frame.len();
                seq.push((unit | link_bits, step, frame));
            }
            if seq.len() >= 2 {
                // Config: cap 64, checksums not validated (many corpus
                // captures were taken on hosts that offload them).
                self.add("conn_sequence", None, encode_sequence(6, &seq));
            }
        }
    }

    /// Fragment runs, as raw IP packets, for reassembly.
    fn fragments(&mut self, frags: &[(i64, &[u8])]) {
        let mut seq: Vec<(u8, u16, &[u8])> = Vec::new();
        let mut bytes = 0;
        let mut last = None;
        for &(ts, b) in frags {
            if seq.len() == SEQ_PACKETS || (bytes + b.len() > SEQ_BYTES && !seq.is_empty()) {
                self.add("ip_defrag", None, encode_sequence(6, &seq));
                seq.clear();
                bytes = 0;
            }
            let (unit, step) = time_code(last.map_or(0, |l| ts - l));
            last = Some(ts);
            bytes += b.len();
            seq.push((unit, step, b));
        }
        if !seq.is_empty() {
            self.add("ip_defrag", None, encode_sequence(6, &seq));
        }
    }

    /// TCP scripts (see `harness::tcp_state`) retelling the first TCP
    /// connections of a capture: flags, time steps, sequence and
    /// acknowledgment offsets and payload sizes as they were.
    fn tcp_scripts(&mut self, packets: &[(i64, LinkType, &[u8])], decoder: &Decoder) {
        /// An endpoint: address and port.
        type End = ([u8; 16], u16);
        struct Side {
            next: Option<u32>,
        }
        let mut conns: Vec<(End, End, [Side; 2])> = Vec::new();
        let mut script = vec![6u8];
        let mut last = None;
        let mut counters = DecodeCounters::default();
        for &(ts, link, frame) in packets {
            let mut pkt = DecodedPacket::default();
            let _ = decoder.decode(link, frame, frame.len() as u32, &mut pkt, &mut counters);
            let Some(l) = pkt.layers().first() else {
                continue;
            };
            let Transport::Tcp(t) = l.transport else {
                continue;
            };
            let a = (l.src.0, t.src_port);
            let b = (l.dst.0, t.dst_port);
            let found = conns
                .iter()
                .position(|(x, y, _)| (*x == a && *y == b) || (*x == b && *y == a));
            let c = match found {
                Some(c) => c,
                None if conns.len() < 4 => {
                    conns.push((a, b, [Side { next: None }, Side { next: None }]));
                    conns.len() - 1
                }
                None => continue,
            };
            let back = usize::from(conns[c].0 != a);
            let sides = &mut conns[c].2;
            let seq_off = sides[back]
                .next
                .map_or(0, |n| t.seq.wrapping_sub(n) as i32)
                .clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            let ack_off = sides[1 - back]
                .next
                .filter(|_| t.flags.ack())
                .map_or(0, |n| t.ack.wrapping_sub(n) as i32)
                .clamp(-128, 127) as i8;
            let len = t.payload_len.min(255);
            let syn_fin = u32::from(t.flags.0 & 0x03 != 0) + u32::from(t.flags.0 & 0x03 == 0x03);
            sides[back].next = Some(t.seq.wrapping_add(t.payload_len).wrapping_add(syn_fin));
            let (unit, step) = time_code(last.map_or(0, |l| ts - l));
            last = Some(ts);
            let b0 = c as u8 | (back as u8) << 2 | unit << 3;
            script.push(b0);
            script.push(t.flags.0);
            script.extend_from_slice(&step.to_le_bytes());
            script.extend_from_slice(&seq_off.to_le_bytes());
            script.push(ack_off as u8);
            script.push(len as u8);
            if script.len() > harness::TCP_STEP * 64 {
                break;
            }
        }
        if script.len() > 1 {
            self.add("tcp_state", None, script);
        }
    }

    /// A few seeds no capture provides.
    fn hand_made(&mut self) {
        // A clean handshake, request, response and close.
        let step = |b0: u8, flags: u8, len: u8| [b0 | 1 << 3, flags, 10, 0, 0, 0, 0, len];
        let mut s = vec![6u8];
        for st in [
            step(0, 0x02, 0),
            step(4, 0x12, 0),
            step(0, 0x10, 0),
            step(0x80, 0x18, 40),
            step(4, 0x18, 200),
            step(0, 0x11, 0),
            step(4, 0x11, 0),
            step(0, 0x10, 0),
        ] {
            s.extend_from_slice(&st);
        }
        self.add("tcp_state", None, s);
        // The repository's own rules files.
        for text in [
            &include_bytes!("../../../../rules/thresholds.toml")[..],
            &include_bytes!("../../../../rules/allow.toml")[..],
            b"[[allow]]\ncomment = \"x\"\nsrc = \"10.0.0.0/8\"\nsubject = \"*.example.dk\"\nexpires = \"2027-01-31\"\n",
        ] {
            self.add("rules", None, text.to_vec());
        }
        // The empty input, for every target.
        for (t, _) in TARGETS {
            self.add(t, None, Vec::new());
        }
    }
}

/// A time difference in nanoseconds as a unit code and count (see
/// `harness::advance`).
fn time_code(dt: i64) -> (u8, u16) {
    if dt < 0 {
        return (6, (-dt / 1_000_000).min(65535) as u16);
    }
    for (unit, per) in [(0u8, 1_000i64), (1, 1_000_000), (3, 1_000_000_000)] {
        if dt / per < 65536 {
            return (unit, (dt / per) as u16);
        }
    }
    (5, (dt / 100_000_000_000).min(65535) as u16)
}
