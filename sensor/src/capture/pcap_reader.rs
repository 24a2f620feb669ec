//! The pcap and pcapng file formats, read in place from memory.
//!
//! Capture files are mapped into memory and their packets handed to the
//! workers without copying. This module only parses: it yields each
//! packet's position, timestamp and link type, and says precisely what is
//! wrong with a file that is not a capture, is of an unsupported version or
//! is damaged. Both byte orders, microsecond and nanosecond pcap, and pcapng
//! with several sections and interfaces (each with its own link type and
//! timestamp resolution) are understood.

use crate::decode::LinkType;

/// Largest packet we believe; libpcap's limit.
const MAX_PACKET: u32 = 262_144;
/// Interfaces per pcapng section we keep track of: enough for a capture
/// that lists every adapter of a busy host (Windows captures with 126 are
/// in the corpus), while a hostile file still cannot make the list take
/// more than a megabyte.
const MAX_INTERFACES: usize = 16_384;

const PCAP_US: u32 = 0xa1b2_c3d4;
const PCAP_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

/// One packet's place in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: usize,
    pub caplen: u32,
    pub wire_len: u32,
    pub ts_ns: i64,
    pub link: LinkType,
}

/// Files store LINKTYPE_ values; libpcap and the decoder use DLT_ values.
/// They are equal except for a few old numbers, of which only raw IP is
/// decoded.
fn dlt(linktype: u32) -> LinkType {
    match linktype {
        101 => LinkType::RAW,
        other => LinkType(other as i32),
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second, as a multiplier to nanoseconds or a
    /// divisor: ts_ns = ts * mul / div.
    mul: u64,
    div: u64,
    offset_s: i64,
}

impl Interface {
    fn ns(&self, ts: u64) -> i64 {
        let v = u128::from(ts) * u128::from(self.mul) / u128::from(self.div);
        let v = i64::try_from(v).unwrap_or(i64::MAX);
        v.saturating_add(self.offset_s.saturating_mul(1_000_000_000))
            .clamp(0, super::MAX_TS_NS)
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Pcap {
        big_endian: bool,
        nanos: bool,
        link: LinkType,
        snaplen: u32,
    },
    Pcapng {
        big_endian: bool,
    },
}

/// A cursor over the packets of a capture file held in memory.
#[derive(Clone, Debug)]
pub struct Reader {
    kind: Kind,
    at: usize,
    /// Interfaces of the current pcapng section.
    interfaces: Vec<Interface>,
}

/// How far ahead of the reader the file is pulled into the cache.
const PREFETCH_DISTANCE: usize = 4096;

/// Asks the CPU to load the file a little ahead of the reader. Each record
/// header says where the next one starts, so without this every packet
/// waits for memory before the next can even be found (the hardware
/// prefetcher does not follow a chain of variable-length records).
#[inline]
fn prefetch_ahead(data: &[u8], from: usize, to: usize) {
    prefetch_lines(data, from + PREFETCH_DISTANCE, to + PREFETCH_DISTANCE);
}

/// Asks the CPU to load the cache lines of `data[from..to]` (clipped).
#[inline]
pub(crate) fn prefetch_lines(data: &[u8], from: usize, to: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let mut line = from & !63;
        let end = to.min(data.len());
        while line < end {
            // SAFETY: a prefetch is a hint; the address lies inside `data`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    data.as_ptr().add(line).cast(),
                )
            };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, from, to);
}

// One range check and one load each; callers have checked the length.
#[inline]
fn u16_at(b: &[u8], at: usize, be: bool) -> u16 {
    let mut v = [0u8; 2];
    v.copy_from_slice(&b[at..at + 2]);
    if be {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

#[inline]
fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    if be {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

impl Reader {
    /// Reads the file header. Errors say what the file is not.
    pub fn open(data: &[u8]) -> Result<Reader, String> {
        if data.len() < 4 {
            return Err("not a pcap or pcapng capture file (too short)".into());
        }
        let magic_le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let magic_be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        for (magic, be) in [(magic_le, false), (magic_be, true)] {
            if magic == PCAP_US || magic == PCAP_NS {
                if data.len() < 24 {
                    return Err("the file is truncated inside the pcap file header".into());
                }
                let major = u16_at(data, 4, be);
                let minor = u16_at(data, 6, be);
                // libpcap reads 2.0 to 2.4; 2.4 is what everyone writes.
                if major != 2 || minor > 4 {
                    return Err(format!(
                        "unsupported capture file version: pcap {major}.{minor} (2.0 to 2.4 are read)"
                    ));
                }
                let link = u32_at(data, 20, be) & 0x0fff_ffff;
                let snaplen = u32_at(data, 16, be);
                return Ok(Reader {
                    kind: Kind::Pcap {
                        big_endian: be,
                        nanos: magic == PCAP_NS,
                        link: dlt(link),
                        snaplen: if snaplen == 0 { MAX_PACKET } else { snaplen },
                    },
                    at: 24,
                    interfaces: Vec::new(),
                });
            }
        }
        if magic_le == PCAPNG_SHB {
            let mut r = Reader {
                kind: Kind::Pcapng { big_endian: false },
                at: 0,
                interfaces: Vec::new(),
            };
            r.section_header(data)?;
            return Ok(r);
        }
        Err("not a pcap or pcapng capture file (unknown file format)".into())
    }

    /// The link type of a classic pcap file, or of the first pcapng interface.
    pub fn first_link(&self) -> Option<LinkType> {
        match &self.kind {
            Kind::Pcap { link, .. } => Some(*link),
            Kind::Pcapng { .. } => self.interfaces.first().map(|i| i.link),
        }
    }

    /// The next packet, `Ok(None)` at the end of the file.
    pub fn next(&mut self, data: &[u8]) -> Result<Option<Record>, String> {
        match self.kind {
            Kind::Pcap {
                big_endian,
                nanos,
                link,
                snaplen,
            } => self.next_pcap(data, big_endian, nanos, link, snaplen),
            Kind::Pcapng { .. } => self.next_pcapng(data),
        }
    }

    fn next_pcap(
        &mut self,
        data: &[u8],
        be: bool,
        nanos: bool,
        link: LinkType,
        snaplen: u32,
    ) -> Result<Option<Record>, String> {
        let at = self.at;
        if at == data.len() {
            return Ok(None);
        }
        if data.len() - at < 16 {
            return Err(format!(
                "the file is truncated: {} bytes left where a 16-byte packet header should be",
                data.len() - at
            ));
        }
        let header = &data[at..at + 16];
        let sec = u32_at(header, 0, be);
        let frac = u32_at(header, 4, be);
        let caplen = u32_at(header, 8, be);
        let wire = u32_at(header, 12, be);
        if caplen > MAX_PACKET {
            return Err(format!(
                "damaged capture: a packet claims {caplen} captured bytes (more than {MAX_PACKET})"
            ));
        }
        let start = at + 16;
        if data.len() - start < caplen as usize {
            return Err(format!(
                "the file is truncated: a packet of {caplen} bytes has only {} bytes left",
                data.len() - start
            ));
        }
        self.at = start + caplen as usize;
        prefetch_ahead(data, at, self.at);
        // Like libpcap, believe no more than the file's snap length.
        let caplen = caplen.min(snaplen);
        // A sub-second field of a second or more is invalid; clamp it so a
        // damaged header cannot move a packet by whole seconds.
        let frac_ns = if nanos {
            i64::from(frac.min(999_999_999))
        } else {
            i64::from(frac.min(999_999)) * 1000
        };
        Ok(Some(Record {
            offset: start,
            caplen,
            wire_len: wire.max(caplen),
            ts_ns: i64::from(sec) * 1_000_000_000 + frac_ns,
            link,
        }))
    }

    /// Parses the section header block at `self.at` and starts a section.
    fn section_header(&mut self, data: &[u8]) -> Result<(), String> {
        let at = self.at;
        if data.len() - at < 28 {
            return Err("the file is truncated inside a pcapng section header".into());
        }
        let bom_le = u32::from_le_bytes([data[at + 8], data[at + 9], data[at + 10], data[at + 11]]);
        let be = match bom_le {
            PCAPNG_BOM => false,
            x if x.swap_bytes() == PCAPNG_BOM => true,
            _ => return Err("damaged pcapng section header (byte-order mark)".into()),
        };
        let len = u32_at(data, at + 4, be) as usize;
        let major = u16_at(data, at + 12, be);
        let minor = u16_at(data, at + 14, be);
        if major != 1 || minor != 0 {
            return Err(format!(
                "unsupported capture file version: pcapng {major}.{minor} (only 1.0 is defined)"
            ));
        }
        self.check_block(data, at, len, be)?;
        self.kind = Kind::Pcapng { big_endian: be };
        self.interfaces.clear();
        self.at = at + len;
        Ok(())
    }

    /// Checks a block's length fields (leading and trailing copies).
    fn check_block(&self, data: &[u8], at: usize, len: usize, be: bool) -> Result<(), String> {
        if len < 12 || !len.is_multiple_of(4) {
            return Err(format!("damaged pcapng block: length {len}"));
        }
        if data.len() - at < len {
            return Err(format!(
                "the file is truncated: a pcapng block of {len} bytes has only {} bytes left",
                data.len() - at
            ));
        }
        if u32_at(data, at + len - 4, be) as usize != len {
            return Err(
                "damaged pcapng block: the lengths in its header and trailer differ".into(),
            );
        }
        Ok(())
    }

    fn next_pcapng(&mut self, data: &[u8]) -> Result<Option<Record>, String> {
        loop {
            let at = self.at;
            if at == data.len() {
                return Ok(None);
            }
            if data.len() - at < 12 {
                return Err("the file is truncated inside a pcapng block header".into());
            }
            let block_le = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            if block_le == PCAPNG_SHB {
                self.section_header(data)?;
                continue;
            }
            let Kind::Pcapng { big_endian, .. } = self.kind else {
                return Ok(None);
            };
            let be = big_endian;
            let block = u32_at(data, at, be);
            let len = u32_at(data, at + 4, be) as usize;
            self.check_block(data, at, len, be)?;
            self.at = at + len;
            let body = &data[at + 8..at + len - 4];
            match block {
                1 => self.interface(body, be)?,
                6 => return self.enhanced_packet(body, at + 8, be).map(Some),
                3 => return self.simple_packet(body, at + 8, be).map(Some),
                2 => return self.obsolete_packet(body, at + 8, be).map(Some),
                _ => {}
            }
        }
    }

    fn interface(&mut self, body: &[u8], be: bool) -> Result<(), String> {
        if body.len() < 8 {
            return Err("damaged pcapng interface description block".into());
        }
        let link = dlt(u32::from(u16_at(body, 0, be)));
        let snaplen = u32_at(body, 4, be);
        let mut iface = Interface {
            link,
            snaplen: if snaplen == 0 { MAX_PACKET } else { snaplen },
            mul: 1000,
            div: 1,
            offset_s: 0,
        };
        // Options: code, length, value padded to 4 bytes.
        let mut opts = &body[8..];
        while opts.len() >= 4 {
            let code = u16_at(opts, 0, be);
            let olen = usize::from(u16_at(opts, 2, be));
            let padded = (olen + 3) & !3;
            if code == 0 || opts.len() < 4 + olen {
                break;
            }
            let value = &opts[4..4 + olen];
            match code {
                9 if olen >= 1 => {
                    let r = value[0];
                    let exp = u32::from(r & 0x7f);
                    let units: u64 = if r & 0x80 == 0 {
                        10u64.checked_pow(exp).unwrap_or(0)
                    } else {
                        1u64.checked_shl(exp).unwrap_or(0)
                    };
                    if units == 0 {
                        return Err(
                            "damaged pcapng interface: timestamp resolution out of range".into(),
                        );
                    }
                    iface.mul = 1_000_000_000;
                    iface.div = units;
                }
                14 if olen >= 8 => {
                    iface.offset_s = if be {
                        i64::from_be_bytes(value[..8].try_into().unwrap_or([0; 8]))
                    } else {
                        i64::from_le_bytes(value[..8].try_into().unwrap_or([0; 8]))
                    };
                }
                _ => {}
            }
            opts = opts.get(4 + padded..).unwrap_or(&[]);
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(format!(
                "more than {MAX_INTERFACES} interfaces in one pcapng section"
            ));
        }
        self.interfaces.push(iface);
        Ok(())
    }

    fn iface(&mut self, id: usize) -> Result<Interface, String> {
        self.interfaces.get(id).copied().ok_or_else(|| {
            format!("damaged pcapng: a packet names interface {id}, which was not described")
        })
    }

    fn enhanced_packet(&mut self, body: &[u8], base: usize, be: bool) -> Result<Record, String> {
        if body.len() < 20 {
            return Err("damaged pcapng enhanced packet block".into());
        }
        let iface = self.iface(u32_at(body, 0, be) as usize)?;
        let ts = (u64::from(u32_at(body, 4, be)) << 32) | u64::from(u32_at(body, 8, be));
        let caplen = u32_at(body, 12, be);
        let wire = u32_at(body, 16, be);
        if caplen as usize > body.len() - 20 || caplen > MAX_PACKET {
            return Err(format!(
                "damaged pcapng packet: {caplen} captured bytes do not fit its block"
            ));
        }
        let caplen = caplen.min(iface.snaplen);
        Ok(Record {
            offset: base + 20,
            caplen,
            wire_len: wire.max(caplen),
            ts_ns: iface.ns(ts),
            link: iface.link,
        })
    }

    fn obsolete_packet(&mut self, body: &[u8], base: usize, be: bool) -> Result<Record, String> {
        if body.len() < 20 {
            return Err("damaged pcapng packet block".into());
        }
        let iface = self.iface(usize::from(u16_at(body, 0, be)))?;
        let ts = (u64::from(u32_at(body, 4, be)) << 32) | u64::from(u32_at(body, 8, be));
        let caplen = u32_at(body, 12, be);
        let wire = u32_at(body, 16, be);
        if caplen as usize > body.len() - 20 || caplen > MAX_PACKET {
            return Err(format!(
                "damaged pcapng packet: {caplen} captured bytes do not fit its block"
            ));
        }
        Ok(Record {
            offset: base + 20,
            caplen,
            wire_len: wire.max(caplen),
            ts_ns: iface.ns(ts),
            link: iface.link,
        })
    }

    fn simple_packet(&mut self, body: &[u8], base: usize, be: bool) -> Result<Record, String> {
        if body.len() < 4 {
            return Err("damaged pcapng simple packet block".into());
        }
        let iface = self.iface(0)?;
        let wire = u32_at(body, 0, be);
        let caplen = wire.min(iface.snaplen).min((body.len() - 4) as u32);
        Ok(Record {
            offset: base + 4,
            caplen,
            wire_len: wire.max(caplen),
            // Simple packet blocks carry no timestamp.
            ts_ns: 0,
            link: iface.link,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(nanos: bool, packets: &[(&[u8], u32, u32)]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&(if nanos { PCAP_NS } else { PCAP_US }).to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for (data, sec, frac) in packets {
            f.extend_from_slice(&sec.to_le_bytes());
            f.extend_from_slice(&frac.to_le_bytes());
            f.extend_from_slice(&(data.len() as u32).to_le_bytes());
            f.extend_from_slice(&(data.len() as u32 + 10).to_le_bytes());
            f.extend_from_slice(data);
        }
        f
    }

    #[test]
    fn pcap_packets_and_timestamps_are_read_in_place() {
        let f = pcap(false, &[(b"abc", 10, 5), (b"defg", 11, 0)]);
        let mut r = Reader::open(&f).unwrap();
        let a = r.next(&f).unwrap().unwrap();
        assert_eq!(&f[a.offset..a.offset + a.caplen as usize], b"abc");
        assert_eq!(a.ts_ns, 10_000_005_000);
        assert_eq!(a.wire_len, 13);
        assert_eq!(a.link, LinkType::ETHERNET);
        let b = r.next(&f).unwrap().unwrap();
        assert_eq!(&f[b.offset..b.offset + 4], b"defg");
        assert!(r.next(&f).unwrap().is_none());
        let ns = pcap(true, &[(b"x", 1, 7)]);
        let mut r = Reader::open(&ns).unwrap();
        assert_eq!(r.next(&ns).unwrap().unwrap().ts_ns, 1_000_000_007);
    }

    #[test]
    fn damaged_files_say_what_is_wrong() {
        assert!(Reader::open(b"hello world, not a capture")
            .unwrap_err()
            .contains("not a pcap"));
        let mut f = pcap(false, &[(b"abcdef", 1, 0)]);
        f.truncate(f.len() - 2);
        let mut r = Reader::open(&f).unwrap();
        assert!(r.next(&f).unwrap_err().contains("truncated"));
        let mut v = pcap(false, &[]);
        v[4] = 3;
        assert!(Reader::open(&v)
            .unwrap_err()
            .contains("unsupported capture file version"));
    }

    #[test]
    fn pcapng_timestamps_stay_within_what_pcap_can_hold() {
        // A hostile interface: a timestamp offset of -1 s or i64::MAX s,
        // resolution of 2^-0 (whole seconds), and a timestamp of u64::MAX.
        let iface = |offset_s: i64| Interface {
            link: LinkType::ETHERNET,
            snaplen: MAX_PACKET,
            mul: 1_000_000_000,
            div: 1,
            offset_s,
        };
        assert_eq!(iface(-1).ns(0), 0);
        assert_eq!(iface(i64::MAX).ns(5), super::super::MAX_TS_NS);
        assert_eq!(iface(0).ns(u64::MAX), super::super::MAX_TS_NS);
        assert_eq!(iface(i64::MIN).ns(u64::MAX), 0);
        assert_eq!(iface(0).ns(7), 7_000_000_000);
    }

    #[test]
    fn pcapng_with_two_interfaces_keeps_their_link_types() {
        fn block(kind: u32, body: &[u8]) -> Vec<u8> {
            let len = (12 + body.len()) as u32;
            let mut b = kind.to_le_bytes().to_vec();
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(body);
            b.extend_from_slice(&len.to_le_bytes());
            b
        }
        let mut shb = PCAPNG_BOM.to_le_bytes().to_vec();
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let idb = |link: u16, tsresol: Option<u8>| {
            let mut b = link.to_le_bytes().to_vec();
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&0u32.to_le_bytes());
            if let Some(r) = tsresol {
                b.extend_from_slice(&9u16.to_le_bytes());
                b.extend_from_slice(&1u16.to_le_bytes());
                b.extend_from_slice(&[r, 0, 0, 0]);
                b.extend_from_slice(&[0, 0, 0, 0]);
            }
            b
        };
        let epb = |iface: u32, ts: u64, data: &[u8]| {
            let mut b = iface.to_le_bytes().to_vec();
            b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(ts as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
            while !b.len().is_multiple_of(4) {
                b.push(0);
            }
            b
        };
        let mut f = block(PCAPNG_SHB, &shb);
        f.extend(block(1, &idb(1, None)));
        f.extend(block(1, &idb(101, Some(9))));
        f.extend(block(6, &epb(0, 5, b"ethernet")));
        f.extend(block(5, b"stat"));
        f.extend(block(6, &epb(1, 7, b"raw")));
        let mut r = Reader::open(&f).unwrap();
        let a = r.next(&f).unwrap().unwrap();
        assert_eq!((a.link, a.ts_ns), (LinkType::ETHERNET, 5_000));
        let b = r.next(&f).unwrap().unwrap();
        assert_eq!((b.link, b.ts_ns), (LinkType::RAW, 7));
        assert_eq!(&f[b.offset..b.offset + 3], b"raw");
        assert!(r.next(&f).unwrap().is_none());
    }
}
