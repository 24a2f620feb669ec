//! The DNS wire format (RFC 1035 and its extensions): one message read into
//! the fields Zeek's `dns.log` keeps. Names are decompressed with a bound
//! on pointer hops; every read is checked, so a hostile message yields an
//! error reason, never a panic.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the 12-byte header.
    ShortHeader,
    /// A name ran past the message, looped, or grew too long.
    BadName,
    /// A question or resource record ran past the message.
    Truncated,
}

impl Malformed {
    pub fn reason(self) -> &'static str {
        match self {
            Malformed::ShortHeader => "dns_short_header",
            Malformed::BadName => "dns_bad_name",
            Malformed::Truncated => "dns_truncated_message",
        }
    }
}

/// One answer-section record as Zeek writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// Zeek's text for the record: `None` for types Zeek's script does not
    /// handle at all (the record changes nothing in the log), "" for those
    /// it handles without logging data (WKS).
    pub text: Option<String>,
    pub ttl: u32,
    /// Owner name of the record.
    pub owner: String,
    pub rtype: u16,
    pub class: u16,
}

/// A DNS message, as far as the log needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: u16,
    pub qr: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub z: u8,
    pub rcode: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
    /// The message ended before its sections did.
    pub truncated: bool,
    /// Authority-section records, read only for dynamic updates (opcode
    /// 5), where they are the updates themselves.
    pub updates: Vec<Answer>,
    /// The first question: name, type, class.
    pub question: Option<(String, u16, u16)>,
    pub answers: Vec<Answer>,
}

/// Most pointer hops one name may take; real names need a few.
const MAX_HOPS: usize = 64;
/// Longest name text kept (RFC 1035 allows 255 octets).
const MAX_NAME: usize = 1024;

struct Reader<'a> {
    msg: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn u16(&mut self) -> Option<u16> {
        let b = self.msg.get(self.at..self.at + 2)?;
        self.at += 2;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.msg.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.msg.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(b)
    }

    /// A possibly compressed name at the cursor.
    fn name(&mut self) -> Result<String, Malformed> {
        let (name, end) = read_name(self.msg, self.at)?;
        self.at = end;
        Ok(name)
    }
}

/// Reads the name at `at`; returns it and the offset after it (after the
/// first pointer, when compressed). Labels are joined with dots, no
/// trailing dot; bytes outside printable ASCII are written `\xNN`, as Zeek
/// escapes them.
pub fn read_name(msg: &[u8], at: usize) -> Result<(String, usize), Malformed> {
    let mut name = String::new();
    let mut pos = at;
    let mut end = None;
    for _ in 0..MAX_HOPS {
        loop {
            let len = *msg.get(pos).ok_or(Malformed::BadName)? as usize;
            match len & 0xc0 {
                0x00 => {
                    if len == 0 {
                        return Ok((name, end.unwrap_or(pos + 1)));
                    }
                    let label = msg.get(pos + 1..pos + 1 + len).ok_or(Malformed::BadName)?;
                    if !name.is_empty() {
                        name.push('.');
                    }
                    // Zeek writes names in lower case.
                    escape_into(&mut name, &label.to_ascii_lowercase());
                    if name.len() > MAX_NAME {
                        return Err(Malformed::BadName);
                    }
                    pos += 1 + len;
                }
                0xc0 => {
                    let lo = *msg.get(pos + 1).ok_or(Malformed::BadName)? as usize;
                    end.get_or_insert(pos + 2);
                    pos = ((len & 0x3f) << 8) | lo;
                    break;
                }
                // Extended label types (RFC 6891 retired them).
                _ => return Err(Malformed::BadName),
            }
        }
    }
    Err(Malformed::BadName)
}

fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}

/// Reads one message.
pub fn parse(msg: &[u8]) -> Result<Message, Malformed> {
    if msg.len() < 12 {
        return Err(Malformed::ShortHeader);
    }
    let mut r = Reader { msg, at: 0 };
    let t = Malformed::Truncated;
    let id = r.u16().ok_or(t)?;
    let flags = r.u16().ok_or(t)?;
    let qdcount = r.u16().ok_or(t)?;
    let ancount = r.u16().ok_or(t)?;
    let mut m = Message {
        ancount,
        nscount: 0,
        arcount: 0,
        truncated: false,
        id,
        qr: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        aa: flags & 0x0400 != 0,
        tc: flags & 0x0200 != 0,
        rd: flags & 0x0100 != 0,
        ra: flags & 0x0080 != 0,
        z: ((flags >> 4) & 0x7) as u8,
        rcode: flags & 0xf,
        qdcount,
        question: None,
        answers: Vec::new(),
        updates: Vec::new(),
    };
    m.nscount = r.u16().ok_or(t)?;
    m.arcount = r.u16().ok_or(t)?;
    // Like Zeek, a message cut short (by the snap length, say) still
    // counts with what could be read before the cut.
    for i in 0..qdcount {
        let Some((name, qtype, qclass)) = question(&mut r) else {
            m.truncated = true;
            return Ok(m);
        };
        if i == 0 {
            m.question = Some((name, qtype, qclass));
        }
    }
    for _ in 0..ancount {
        match answer(&mut r) {
            Some(a) => m.answers.push(a),
            None => {
                m.truncated = true;
                return Ok(m);
            }
        }
    }
    if m.opcode == 5 {
        for _ in 0..m.nscount {
            match answer(&mut r) {
                Some(a) => m.updates.push(a),
                None => {
                    m.truncated = true;
                    break;
                }
            }
        }
    }
    Ok(m)
}

fn question(r: &mut Reader<'_>) -> Option<(String, u16, u16)> {
    let name = r.name().ok()?;
    Some((name, r.u16()?, r.u16()?))
}

fn answer(r: &mut Reader<'_>) -> Option<Answer> {
    let owner = r.name().ok()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = r.u16()? as usize;
    let start = r.at;
    let rdata = r.bytes(rdlen)?;
    let text = rdata_text(r.msg, start, rtype, rdata, &owner);
    Some(Answer {
        text,
        ttl,
        owner,
        rtype,
        class,
    })
}

/// Zeek's text for one answer's data (see [`Answer::text`]).
fn rdata_text(msg: &[u8], start: usize, rtype: u16, rd: &[u8], owner: &str) -> Option<String> {
    let name_at = |off: usize| read_name(msg, start + off).ok().map(|(n, _)| n);
    let be16 = |i: usize| rd.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    Some(match rtype {
        1 => {
            let b: [u8; 4] = rd.get(..4)?.try_into().ok()?;
            Ipv4Addr::from(b).to_string()
        }
        28 => {
            let b: [u8; 16] = rd.get(..16)?.try_into().ok()?;
            Ipv6Addr::from(b).to_string()
        }
        // NS, CNAME, PTR, DNAME, SOA (its primary server).
        2 | 5 | 12 | 39 | 6 => name_at(0)?,
        15 => name_at(2)?,
        33 => name_at(6)?,
        16 | 99 => character_strings(rd, if rtype == 16 { "TXT" } else { "SPF" }),
        46 => {
            let covered = be16(0)?;
            let (signer, _) = read_name(msg, start + 18).ok()?;
            let signer = if signer.is_empty() {
                "<Root>".to_string()
            } else {
                signer
            };
            format!("RRSIG {covered} {signer}")
        }
        48 => format!("DNSKEY {}", rd.get(3)?),
        43 => format!("DS {} {}", rd.get(2)?, rd.get(3)?),
        47 => format!("NSEC {owner} {}", name_at(0)?),
        50 => "NSEC3".to_string(),
        51 => "NSEC3PARAM".to_string(),
        44 => {
            let fp = rd.get(2..)?;
            let hex: String = fp.iter().map(|b| format!("{b:02x}")).collect();
            format!("SSHFP: {hex}")
        }
        29 => format!("LOC:  {} {} {}", rd.get(1)?, rd.get(2)?, rd.get(3)?),
        65534 => "BIND9 signing signal".to_string(),
        // Handled by Zeek's script without data to log.
        11 => String::new(),
        // Parsed by Zeek but not handled by its script: HINFO, CAA, SVCB,
        // HTTPS, OPT, TKEY, TSIG.
        13 | 257 | 64 | 65 | 41 | 249 | 250 => return None,
        _ => format!("<unknown type={rtype}>"),
    })
}

/// TXT and SPF data: each string as "TXT <len> <text>", space-separated.
fn character_strings(rd: &[u8], tag: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&len) = rd.get(i) {
        let s = rd.get(i + 1..i + 1 + len as usize).unwrap_or(&rd[i + 1..]);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{tag} {} ", s.len()));
        escape_into(&mut out, s);
        i += 1 + len as usize;
    }
    out
}

/// Zeek's text for a record of a dynamic update (RFC 2136, 2.4 and 2.5):
/// prerequisites (the answer section) and updates (the authority section)
/// are told apart by their class, which the RFC gives a meaning there.
pub fn update_text(a: &Answer, prerequisite: bool) -> String {
    const NONE: u16 = 254;
    const ANY: u16 = 255;
    let t = super::names::qtype(a.rtype);
    let data = a.text.as_deref().unwrap_or("");
    let o = &a.owner;
    match (prerequisite, a.class, a.rtype) {
        (true, NONE, ANY) => format!("pre: NXDomain {o}"),
        (true, NONE, _) => format!("pre: NoRRSet {t} {o}"),
        (true, ANY, ANY) => format!("pre: YXDomain {o}"),
        (true, ANY, _) => format!("pre: YXRRSet {t} {o}"),
        (true, _, _) => format!("pre: RRSet {t} {o} {data}"),
        (false, ANY, ANY) => format!("del: all {o}"),
        (false, ANY, _) => format!("del: RRSet {t}"),
        (false, NONE, _) => format!("del: {t} {o} {data}"),
        (false, _, _) => format!("add: {t} {o} {data}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_names_and_loops() {
        // Header, then "a.b" at 12, then a pointer back to it at 17.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[1, b'a', 1, b'b', 0, 0xc0, 12]);
        assert_eq!(read_name(&m, 12).unwrap(), ("a.b".to_string(), 17));
        assert_eq!(read_name(&m, 17).unwrap(), ("a.b".to_string(), 19));
        // A pointer to itself loops.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0xc0, 12]);
        assert_eq!(read_name(&m, 12), Err(Malformed::BadName));
        // Past the end.
        assert_eq!(read_name(&[5, b'a'], 0), Err(Malformed::BadName));
    }

    #[test]
    fn a_query_and_its_answer() {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        q.extend_from_slice(&[3, b'w', b'w', b'w', 2, b'd', b'k', 0, 0, 1, 0, 1]);
        q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        q[2] |= 0x80;
        let m = parse(&q).unwrap();
        assert!(m.qr && m.rd);
        assert_eq!(m.question, Some(("www.dk".into(), 1, 1)));
        assert_eq!(m.answers[0].text.as_deref(), Some("10.0.0.1"));
        assert_eq!(m.answers[0].ttl, 60);
        for cut in 0..q.len() {
            let _ = parse(&q[..cut]);
        }
    }
}
