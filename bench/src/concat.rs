//! `vagt-bench concat`: many real captures as one large Ethernet pcap.
//!
//! Peers such as tcpdump, argus and softflowd read one file with one link
//! type, so the captures are converted to Ethernet (raw IP, BSD null and
//! loopback, Linux cooked v1/v2 get a synthetic Ethernet header; link types
//! that carry no IP this way, such as 802.11, are skipped and counted).
//! Each file's times are rebased to follow the previous file one second
//! later, so the result runs forward in time like one capture; a gap of
//! more than an hour inside a file (some test traces are spliced from
//! captures years apart) is shortened to an hour, which still lets every
//! connection time out, and a step back in time becomes no step. The whole
//! set is written `--loops` times; loop k adds k to the second octet of
//! every outer IPv4 address (with the IP, TCP and UDP checksums adjusted to
//! match), so every loop brings new connections instead of replaying the
//! same ones.

use crate::cli::ConcatArgs;
use std::io::Write;
use vagt_sensor::capture::file::FileSource;
use vagt_sensor::capture::{Next, Source};
use vagt_sensor::decode::LinkType;

/// MAC addresses of the synthetic Ethernet header.
const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// The longest gap kept between two packets of a file.
const MAX_GAP_NS: i64 = 3600 * 1_000_000_000;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// What `concat` wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Concatenated {
    pub packets: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub files: usize,
}

pub fn run(args: &ConcatArgs) -> Result<(), String> {
    if args.loops == 0 {
        return Err("--loops must be at least 1".into());
    }
    if args.files.is_empty() {
        return Err("no capture files given; name at least one".into());
    }
    let out = std::fs::File::create(&args.output).map_err(|e| {
        format!(
            "cannot create {}: {e}; check that its folder exists and is writable",
            args.output.display()
        )
    })?;
    let mut w = std::io::BufWriter::new(out);
    let c = concat(&args.files, args.loops, &mut w)?;
    w.flush()
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    eprintln!(
        "vagt-bench: wrote {} packets ({:.1} MB, average frame {:.0} bytes) from {} files x {} loops to {}; {} frames skipped (no IP over a link type that converts to Ethernet)",
        c.packets,
        c.bytes as f64 / 1e6,
        c.bytes as f64 / c.packets.max(1) as f64,
        c.files,
        args.loops,
        args.output.display(),
        c.skipped
    );
    Ok(())
}

/// Writes `files`, `loops` times over, to `w` as one Ethernet pcap.
pub fn concat(
    files: &[std::path::PathBuf],
    loops: u32,
    w: &mut impl Write,
) -> Result<Concatenated, String> {
    let io = |e: std::io::Error| format!("cannot write the output: {e}");
    write_header(w).map_err(io)?;
    let mut done = Concatenated {
        files: files.len(),
        ..Concatenated::default()
    };
    // Where the next file starts, in packet time.
    let mut next_start = 1_600_000_000_000_000_000i64;
    let mut frame = Vec::with_capacity(65_600);
    for k in 0..loops {
        let shift = (k % 256) as u8;
        for f in files {
            let mut src = FileSource::open(f).map_err(|e| e.to_string())?;
            let mut prev_in: Option<i64> = None;
            let mut last = next_start;
            loop {
                let p = match src.next() {
                    Ok(Next::Packet(p)) => p,
                    Ok(Next::End) => break,
                    Ok(Next::Timeout) => continue,
                    // A truncated capture ends where it breaks, as for the
                    // sensor and tcpdump.
                    Err(_) => break,
                };
                let wire_extra = p.wire_len.saturating_sub(p.data.len() as u32);
                if !to_ethernet(p.link, p.data, &mut frame) {
                    done.skipped += 1;
                    continue;
                }
                shift_ipv4(&mut frame, shift);
                let gap = prev_in.map_or(0, |t| p.ts.saturating_sub(t).clamp(0, MAX_GAP_NS));
                prev_in = Some(p.ts);
                last += gap;
                let ts = last;
                let wire = frame.len() as u32 + wire_extra;
                write_packet(w, ts, &frame, wire).map_err(io)?;
                done.packets += 1;
                done.bytes += frame.len() as u64;
            }
            next_start = last + 1_000_000_000;
        }
    }
    Ok(done)
}

/// Classic pcap header: nanosecond times, Ethernet, 256 KiB snap length.
fn write_header(w: &mut impl Write) -> std::io::Result<()> {
    w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    w.write_all(&[0; 8])?;
    w.write_all(&262_144u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())
}

/// One record, keeping the wire length of frames the snap length cut.
fn write_packet(w: &mut impl Write, ts: i64, frame: &[u8], wire: u32) -> std::io::Result<()> {
    let sec = ts.div_euclid(1_000_000_000) as u32;
    let nsec = ts.rem_euclid(1_000_000_000) as u32;
    w.write_all(&sec.to_le_bytes())?;
    w.write_all(&nsec.to_le_bytes())?;
    w.write_all(&(frame.len() as u32).to_le_bytes())?;
    w.write_all(&wire.to_le_bytes())?;
    w.write_all(frame)
}

/// `data` of link type `link` as an Ethernet frame in `out`; false when it
/// cannot be one (no IP, or a link type without a mapping).
fn to_ethernet(link: LinkType, data: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    if link == LinkType::ETHERNET {
        out.extend_from_slice(data);
        return true;
    }
    let (ethertype, payload) = match link {
        LinkType::RAW | LinkType::LINKTYPE_RAW | LinkType::IPV4 | LinkType::IPV6 => {
            match data.first().map(|b| b >> 4) {
                Some(4) => (ETHERTYPE_IPV4, data),
                Some(6) => (ETHERTYPE_IPV6, data),
                _ => return false,
            }
        }
        LinkType::NULL | LinkType::LOOP => {
            let Some(family) = data.get(..4) else {
                return false;
            };
            // NULL is in the capturing host's byte order, LOOP in network
            // order; the address family values do not collide either way.
            let le = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
            let be = u32::from_be_bytes([family[0], family[1], family[2], family[3]]);
            let is = |v: &[u32]| v.contains(&le) || v.contains(&be);
            if is(&[2]) {
                (ETHERTYPE_IPV4, &data[4..])
            } else if is(&[10, 24, 28, 30]) {
                (ETHERTYPE_IPV6, &data[4..])
            } else {
                return false;
            }
        }
        LinkType::LINUX_SLL => match data.get(14..16) {
            Some(t) if data.len() >= 16 => (u16::from_be_bytes([t[0], t[1]]), &data[16..]),
            _ => return false,
        },
        LinkType::LINUX_SLL2 => match data.get(..2) {
            Some(t) if data.len() >= 20 => (u16::from_be_bytes([t[0], t[1]]), &data[20..]),
            _ => return false,
        },
        _ => return false,
    };
    out.extend_from_slice(&DST_MAC);
    out.extend_from_slice(&SRC_MAC);
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    true
}

/// Adds `k` to the second octet of the outer IPv4 addresses of an Ethernet
/// frame (behind up to two VLAN tags), adjusting the checksums that cover
/// them. Frames without an outer IPv4 header are left alone.
fn shift_ipv4(frame: &mut [u8], k: u8) {
    if k == 0 {
        return;
    }
    let mut at = 12;
    let ethertype = loop {
        let Some(t) = frame.get(at..at + 2) else {
            return;
        };
        let t = u16::from_be_bytes([t[0], t[1]]);
        if matches!(t, 0x8100 | 0x88a8 | 0x9100) {
            at += 4;
        } else {
            break t;
        }
    };
    let ip = at + 2;
    if ethertype != ETHERTYPE_IPV4 || frame.len() < ip + 20 || frame[ip] >> 4 != 4 {
        return;
    }
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let proto = frame[ip + 9];
    let later_fragment = u16::from_be_bytes([frame[ip + 6], frame[ip + 7]]) & 0x1fff != 0;
    // The 16-bit words holding the second octets: bytes 12-13 and 16-17.
    let mut changes = [(0u16, 0u16); 2];
    for (n, off) in [12usize, 16].into_iter().enumerate() {
        let old = u16::from_be_bytes([frame[ip + off], frame[ip + off + 1]]);
        frame[ip + off + 1] = frame[ip + off + 1].wrapping_add(k);
        let new = u16::from_be_bytes([frame[ip + off], frame[ip + off + 1]]);
        changes[n] = (old, new);
    }
    adjust_checksum(frame, ip + 10, &changes, false);
    if later_fragment || ihl < 20 {
        return;
    }
    let l4 = ip + ihl;
    match proto {
        6 => adjust_checksum(frame, l4 + 16, &changes, false),
        17 => adjust_checksum(frame, l4 + 6, &changes, true),
        _ => {}
    }
}

/// Updates the checksum at `at` for 16-bit words changed from old to new
/// (RFC 1624: HC' = ~(~HC + ~m + m')). A UDP checksum of zero means "none"
/// and stays zero.
fn adjust_checksum(frame: &mut [u8], at: usize, changes: &[(u16, u16)], udp: bool) {
    let Some(field) = frame.get(at..at + 2) else {
        return;
    };
    let hc = u16::from_be_bytes([field[0], field[1]]);
    if udp && hc == 0 {
        return;
    }
    let mut sum = u32::from(!hc);
    for &(old, new) in changes {
        sum += u32::from(!old) + u32::from(new);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut out = !(sum as u16);
    if udp && out == 0 {
        out = 0xffff;
    }
    frame[at..at + 2].copy_from_slice(&out.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagt_sensor::decode::checksum;
    use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};

    fn host(last: u8) -> Host {
        Host {
            mac: [2, 0, 0, 0, 0, last],
            ip: std::net::Ipv4Addr::new(10, 1, 2, last),
        }
    }

    /// The TCP checksum of an Ethernet/IPv4/TCP frame, recomputed.
    fn tcp_checksum_ok(f: &[u8]) -> bool {
        let ip = &f[14..];
        let l4 = &ip[20..];
        let mut acc = 6u64 + l4.len() as u64;
        acc = checksum::sum(&ip[12..20], acc);
        checksum::fold(checksum::sum(l4, acc)) == 0xffff
    }

    #[test]
    fn shifted_addresses_keep_valid_checksums() {
        let mut f = Vec::new();
        let spec = TcpSpec {
            sport: 40000,
            dport: 80,
            seq: 7,
            ack: 9,
            flags: flags::ACK,
            window: 1000,
            payload_len: 33,
            prefix: b"",
        };
        frames::tcp(&mut f, &host(1), &host(2), None, &spec, 1);
        assert!(tcp_checksum_ok(&f));
        for k in [1u8, 7, 200, 255] {
            let mut g = f.clone();
            shift_ipv4(&mut g, k);
            assert_eq!(g[14 + 13], 1u8.wrapping_add(k), "source second octet");
            assert_eq!(g[14 + 17], 1u8.wrapping_add(k), "destination second octet");
            assert_eq!(checksum::fold(checksum::sum(&g[14..34], 0)), 0xffff, "IP");
            assert!(tcp_checksum_ok(&g), "TCP after shift {k}");
        }
    }

    #[test]
    fn raw_ip_becomes_ethernet_and_unknown_links_are_skipped() {
        let mut f = Vec::new();
        frames::udp(&mut f, &host(1), &host(2), None, 5000, 53, None, 10, 1);
        let mut out = Vec::new();
        assert!(to_ethernet(LinkType::RAW, &f[14..], &mut out));
        assert_eq!(&out[12..14], &[0x08, 0x00]);
        assert_eq!(&out[14..], &f[14..]);
        assert!(!to_ethernet(LinkType::IEEE802_11, &f, &mut out));
        assert!(!to_ethernet(LinkType::RAW, &[0x50, 1, 2], &mut out));
    }
}
